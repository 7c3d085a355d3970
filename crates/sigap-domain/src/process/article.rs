//! Knowledge management's rules: an article's versions and what each step does to them.
//!
//! An article keeps every version it had. The newest one (the head) is the one being
//! worked on: a draft, in review, published, or retired. Readers see the one published
//! version, which may be older than the head: editing a published article starts a new
//! draft, and the published version stays until the draft is published in its place (the
//! old one is then outdated). At most one version is published at any time.

use crate::task::state_model;
use crate::values::{InvalidValue, code_enum};
use serde::{Deserialize, Serialize};
use std::fmt;

state_model!(
    /// The state of an article: the state of its newest version.
    ArticleState: "article",
    open = [Draft, Review],
    {
        Draft = "draft" => [Review],
        // Sent back to draft by the reviewer or withdrawn by the author.
        Review = "review" => [Draft, Published],
        // Editing starts a new draft.
        Published = "published" => [Draft, Retired],
        // Editing a retired article starts a new draft.
        Retired = "retired" => [Draft],
    }
);

code_enum!(
    /// The state of one version of an article.
    VersionState {
        Draft = "draft",
        Review = "review",
        Published = "published",
        // A newer version was published in its place.
        Outdated = "outdated",
        Retired = "retired",
    }
);

code_enum!(
    /// Who may read an article once published.
    Audience {
        Everyone = "everyone",
        // The service desk (agents and above).
        Agents = "agents",
        // The people of the organizations the article names (and the desk).
        Organizations = "organizations",
    }
);

code_enum!(
    /// Why a reader flagged an article.
    FlagReason {
        Inaccurate = "inaccurate",
        Outdated = "outdated",
        Unclear = "unclear",
        Broken = "broken",
        Other = "other",
    }
);

code_enum!(
    /// How an article is linked to a task.
    ArticleLink {
        // An agent attached it (it helped, or the caller was sent it).
        Attached = "attached",
        // The task was resolved with it.
        Resolved = "resolved",
        // It publishes the problem's known error.
        KnownError = "known_error",
    }
);

// The variants of a `code_enum` take no attributes, so `#[default]` cannot be derived.
#[allow(clippy::derivable_impls)]
impl Default for Audience {
    fn default() -> Self {
        Audience::Everyone
    }
}

/// A rating at or below this sends the article to its owner group's queue.
pub const LOW_RATING: i64 = 2;

/// A rating of one to five stars.
pub fn rating(value: i64) -> Result<i64, InvalidValue> {
    if (1..=5).contains(&value) {
        Ok(value)
    } else {
        Err(InvalidValue::new("out_of_range", "must be from 1 to 5"))
    }
}

/// What happens to an article's versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// New content: the draft head takes it, or a new draft version is started.
    Edit,
    /// The draft goes to review.
    Submit,
    /// Back from review to draft (withdrawn by the author or sent back by a reviewer).
    Return,
    /// The version in review is published; the one published before is outdated.
    Publish,
    /// The published version is retired: readers no longer see the article.
    Retire,
}

/// What a step does: whether a new version is started (a draft, after the others), the
/// versions whose state changes (by index, oldest first), and the article's state after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub new_version: bool,
    pub changes: Vec<(usize, VersionState)>,
    pub state: ArticleState,
}

/// An article's versions, oldest first, as the steps see them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions(pub Vec<VersionState>);

impl Versions {
    /// The newest version's state.
    pub fn head(&self) -> Option<VersionState> {
        self.0.last().copied()
    }

    /// The index of the published version.
    pub fn published(&self) -> Option<usize> {
        self.0.iter().position(|s| *s == VersionState::Published)
    }

    /// What `step` does, or why it cannot be done now.
    pub fn plan(&self, step: Step) -> Result<Plan, InvalidValue> {
        use VersionState as V;
        let head = self.0.len().checked_sub(1);
        let head_state = self.head();
        let refuse = |code: &'static str, message: &str| Err(InvalidValue::new(code, message));
        let (new_version, changes) = match step {
            Step::Edit => match head_state {
                None => (true, vec![]),
                Some(V::Draft) => (false, vec![]),
                Some(V::Review) => {
                    return refuse(
                        "in_review",
                        "this article is in review: withdraw it to draft to edit it",
                    );
                }
                Some(V::Published | V::Retired | V::Outdated) => (true, vec![]),
            },
            Step::Submit => match (head, head_state) {
                (Some(h), Some(V::Draft)) => (false, vec![(h, V::Review)]),
                _ => return refuse("not_draft", "only a draft is sent to review"),
            },
            Step::Return => match (head, head_state) {
                (Some(h), Some(V::Review)) => (false, vec![(h, V::Draft)]),
                _ => return refuse("not_in_review", "this article is not in review"),
            },
            Step::Publish => match (head, head_state) {
                (Some(h), Some(V::Review)) => {
                    let mut changes: Vec<(usize, VersionState)> = self
                        .published()
                        .map(|p| (p, V::Outdated))
                        .into_iter()
                        .collect();
                    changes.push((h, V::Published));
                    (false, changes)
                }
                _ => {
                    return refuse("not_in_review", "an article is published once reviewed");
                }
            },
            Step::Retire => match self.published() {
                Some(p) => (false, vec![(p, V::Retired)]),
                None => return refuse("not_published", "no version of this article is published"),
            },
        };
        let mut after = self.clone();
        if new_version {
            after.0.push(V::Draft);
        }
        for (i, s) in &changes {
            if let Some(v) = after.0.get_mut(*i) {
                *v = *s;
            }
        }
        let state = match after.head() {
            Some(V::Review) => ArticleState::Review,
            Some(V::Published) => ArticleState::Published,
            Some(V::Retired | V::Outdated) => ArticleState::Retired,
            Some(V::Draft) | None => ArticleState::Draft,
        };
        Ok(Plan {
            new_version,
            changes,
            state,
        })
    }

    /// The versions after a plan.
    pub fn apply(&mut self, plan: &Plan) {
        if plan.new_version {
            self.0.push(VersionState::Draft);
        }
        for (i, s) in &plan.changes {
            if let Some(v) = self.0.get_mut(*i) {
                *v = *s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::Edit),
            Just(Step::Submit),
            Just(Step::Return),
            Just(Step::Publish),
            Just(Step::Retire),
        ]
    }

    proptest! {
        /// Whatever the steps, at most one version is published; a version once made is
        /// never lost; an outdated or retired version never comes back; the article's
        /// state is its head's.
        #[test]
        fn at_most_one_version_is_published(steps in proptest::collection::vec(step(), 0..60)) {
            let mut v = Versions::default();
            for s in steps {
                let before = v.clone();
                match v.plan(s) {
                    Ok(plan) => {
                        v.apply(&plan);
                        prop_assert!(v.0.len() >= before.0.len());
                        for (i, was) in before.0.iter().enumerate() {
                            if matches!(was, VersionState::Outdated | VersionState::Retired) {
                                prop_assert_eq!(v.0[i], *was);
                            }
                        }
                        let head = v.head().map(|h| h.code());
                        let state = match plan.state {
                            ArticleState::Retired => head == Some("retired") || head == Some("outdated"),
                            st => head == Some(st.code()),
                        };
                        prop_assert!(state, "{:?} after {:?}", plan.state, v);
                    }
                    Err(_) => prop_assert_eq!(&v, &before),
                }
                let published = v.0.iter().filter(|s| **s == VersionState::Published).count();
                prop_assert!(published <= 1, "{:?}", v);
                // Only the head is ever a draft or in review.
                let open = v.0.iter().rev().skip(1)
                    .filter(|s| matches!(s, VersionState::Draft | VersionState::Review))
                    .count();
                prop_assert_eq!(open, 0, "{:?}", v);
            }
        }
    }

    #[test]
    fn editing_a_published_article_keeps_it_published_until_the_draft_is()
    -> Result<(), InvalidValue> {
        let mut v = Versions::default();
        for s in [Step::Edit, Step::Submit, Step::Publish, Step::Edit] {
            let p = v.plan(s)?;
            v.apply(&p);
        }
        assert_eq!(
            v.0,
            vec![VersionState::Published, VersionState::Draft],
            "the new draft is a second version"
        );
        assert_eq!(v.published(), Some(0));
        let p = v.plan(Step::Submit)?;
        v.apply(&p);
        let p = v.plan(Step::Publish)?;
        assert_eq!(p.state, ArticleState::Published);
        v.apply(&p);
        assert_eq!(v.0, vec![VersionState::Outdated, VersionState::Published]);
        Ok(())
    }

    #[test]
    fn refused_steps_say_why() {
        let v = Versions(vec![VersionState::Review]);
        assert_eq!(v.plan(Step::Edit).err().map(|e| e.code), Some("in_review"));
        assert_eq!(
            Versions::default().plan(Step::Retire).err().map(|e| e.code),
            Some("not_published")
        );
        assert_eq!(
            Versions(vec![VersionState::Draft])
                .plan(Step::Publish)
                .err()
                .map(|e| e.code),
            Some("not_in_review")
        );
        assert_eq!(rating(6).err().map(|e| e.code), Some("out_of_range"));
        assert_eq!(rating(1).ok(), Some(1));
    }
}
