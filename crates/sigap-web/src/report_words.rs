//! The words of a report's table and chart in the reader's language: its columns, the names
//! of states and priorities, the buckets and the measures.

use crate::i18n::Tr;
use sigap_core::reports::table::Words;
use sigap_domain::report::{Aggregate, GroupBy, TaskNumber};
use sigap_domain::task::TaskKind;

/// A report's words from a page's or a request's translator.
pub struct ReportWords<'a>(pub Tr<'a>);

/// The start of a process's state messages (`incident-state-new`).
fn state_prefix(source: TaskKind) -> &'static str {
    match source {
        TaskKind::Incident => "incident",
        TaskKind::Problem | TaskKind::ProblemTask => "problem",
        TaskKind::Change => "change",
        TaskKind::ChangeTask | TaskKind::FulfilmentTask => "task",
        TaskKind::Request => "request",
        TaskKind::RequestItem => "requested_item",
        TaskKind::Article => "article",
    }
}

/// A grouping's message id: `report-group-opened_at-week`.
pub fn group_id(g: GroupBy) -> String {
    format!("report-group-{}", g.code().replace(':', "-"))
}

impl Words for ReportWords<'_> {
    fn group(&self, g: GroupBy) -> String {
        self.0.get(&group_id(g))
    }

    fn key(&self, source: TaskKind, g: GroupBy, key: Option<&str>, name: Option<&str>) -> String {
        let Some(key) = key else {
            return self.0.get("report-none");
        };
        if let Some(name) = name {
            return name.to_owned();
        }
        let id = match g {
            GroupBy::State => format!("{}-state-{key}", state_prefix(source)),
            GroupBy::Priority => format!("priority-{key}"),
            GroupBy::Impact | GroupBy::Urgency => format!("report-level-{key}"),
            GroupBy::ContactType => format!("contact-{key}"),
            _ => return key.to_owned(),
        };
        match self.0.i18n.has(self.0.locale, &id) {
            true => self.0.get(&id),
            false => key.to_owned(),
        }
    }

    fn count(&self) -> String {
        self.0.get("report-count")
    }

    fn measure(&self, m: Aggregate, of: TaskNumber) -> String {
        let what = self.0.get(&format!("report-of-{}", of.code()));
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("what", what);
        self.0.i18n.text(
            self.0.locale,
            &format!("report-measure-{}", m.code()),
            Some(&args),
        )
    }
}
