//! The state model a process gives its tasks: which states there are, which moves between
//! them are allowed, which are finished and which are open work. The task core checks every
//! move against it and answers a refused move with the moves that are allowed.

use crate::values::InvalidValue;
use std::fmt;

/// A process's states. Implemented by each process's state enum (see `crate::process`).
pub trait StateModel:
    Copy + Eq + Ord + std::hash::Hash + fmt::Debug + fmt::Display + Send + Sync + 'static
{
    /// What a task of the process is called in messages: "incident", "problem".
    const NOUN: &'static str;

    /// Every state, the initial one first.
    fn all() -> &'static [Self];
    fn code(self) -> &'static str;
    fn parse_code(text: &str) -> Result<Self, InvalidValue>;

    /// The state a new task starts in.
    fn initial() -> Self {
        Self::all()[0]
    }

    /// The states a task may move to from this one.
    fn next(self) -> &'static [Self];

    /// Finished: nothing more happens to it (closed, canceled).
    fn is_final(self) -> bool {
        self.next().is_empty()
    }

    /// Work on it is open: the queues' default.
    fn is_open(self) -> bool;

    /// Checks a move; the error lists the allowed states.
    fn check(self, to: Self) -> Result<(), InvalidValue> {
        if self.next().contains(&to) {
            return Ok(());
        }
        let allowed: Vec<&str> = self.next().iter().map(|s| s.code()).collect();
        Err(InvalidValue::new(
            "invalid_transition",
            if allowed.is_empty() {
                format!("this {} is {self} and cannot change state", Self::NOUN)
            } else {
                format!(
                    "cannot move from {self} to {to}; allowed: {}",
                    allowed.join(", ")
                )
            },
        ))
    }
}

/// The properties every state model keeps, for a process's property tests: nothing moves to
/// its initial state or to where it is, final states never move, every state is reachable
/// from the initial one, and a refusal lists the allowed moves.
pub fn check_model<S: StateModel>() -> Result<(), String> {
    let all = S::all();
    for &from in all {
        for &to in all {
            let refused = from.check(to);
            if (to == S::initial() || to == from || from.is_final()) && refused.is_ok() {
                return Err(format!("{from} -> {to} must be refused"));
            }
            if let Err(e) = refused {
                if let Some(s) = from.next().iter().find(|s| !e.message.contains(s.code())) {
                    return Err(format!("refusing {from} -> {to} does not name {s}"));
                }
            }
        }
        if S::parse_code(from.code()) != Ok(from) {
            return Err(format!("{from} does not parse back"));
        }
    }
    let mut seen = vec![S::initial()];
    let mut i = 0;
    while i < seen.len() {
        for &n in seen[i].next() {
            if !seen.contains(&n) {
                seen.push(n);
            }
        }
        i += 1;
    }
    match all.iter().find(|s| !seen.contains(s)) {
        Some(s) => Err(format!("{s} cannot be reached")),
        None => Ok(()),
    }
}

/// Declares a process's states and their model in one table: each state's code and the
/// states it may move to, and which states are open work.
macro_rules! state_model {
    (
        $(#[$m:meta])* $name:ident: $noun:literal, open = [$($open:ident),+],
        { $($variant:ident = $code:literal => [$($next:ident),*],)+ }
    ) => {
        $crate::values::code_enum!($(#[$m])* $name { $($variant = $code,)+ });

        impl $crate::task::StateModel for $name {
            const NOUN: &'static str = $noun;

            fn all() -> &'static [Self] {
                Self::ALL
            }
            fn code(self) -> &'static str {
                $name::code(self)
            }
            fn parse_code(text: &str) -> Result<Self, $crate::values::InvalidValue> {
                Self::parse(text)
            }
            fn next(self) -> &'static [Self] {
                use $name::*;
                match self {
                    $($variant => &[$($next),*],)+
                }
            }
            fn is_open(self) -> bool {
                use $name::*;
                matches!(self, $($open)|+)
            }
        }
    };
}
pub(crate) use state_model;
