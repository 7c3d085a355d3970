//! Impact, urgency and the priority matrix every task is classified by.

use crate::values::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A level of impact or urgency: 1 (high) to 3 (low).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Level(u8);

impl Level {
    pub const HIGH: Level = Level(1);
    pub const MEDIUM: Level = Level(2);
    pub const LOW: Level = Level(3);
    pub const ALL: [Level; 3] = [Level::HIGH, Level::MEDIUM, Level::LOW];

    pub fn parse(v: i64) -> Result<Self, InvalidValue> {
        match u8::try_from(v) {
            Ok(n @ 1..=3) => Ok(Self(n)),
            _ => Err(InvalidValue::new(
                "out_of_range",
                "must be 1 (high), 2 (medium) or 3 (low)",
            )),
        }
    }
    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A priority: 1 (critical) to 5 (planning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Priority(u8);

impl Priority {
    /// 5, planning: where a task starts before its impact and urgency are known.
    pub const LOWEST: Priority = Priority(5);

    pub fn parse(v: i64) -> Result<Self, InvalidValue> {
        match u8::try_from(v) {
            Ok(n @ 1..=5) => Ok(Self(n)),
            _ => Err(InvalidValue::new(
                "out_of_range",
                "must be between 1 (critical) and 5 (planning)",
            )),
        }
    }
    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One row of a priority matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixRow {
    pub impact: Level,
    pub urgency: Level,
    pub priority: Priority,
}

crate::values::code_enum!(
    /// The built-in priority matrices: `itil`, the ITIL / ServiceNow 3×3 into five
    /// priorities (1 Critical … 5 Planning), and `three_level`, three priorities only
    /// (1 High, 2 Medium, 3 Low).
    MatrixPreset { Itil = "itil", ThreeLevel = "three_level" }
);

/// Impact × urgency → priority, as rows (the administrator may change each one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityMatrix {
    rows: Vec<MatrixRow>,
}

impl PriorityMatrix {
    /// A matrix from rows: every impact/urgency pair exactly once.
    pub fn new(rows: Vec<MatrixRow>) -> Result<Self, InvalidValue> {
        for i in Level::ALL {
            for u in Level::ALL {
                let n = rows
                    .iter()
                    .filter(|r| r.impact == i && r.urgency == u)
                    .count();
                if n != 1 {
                    return Err(InvalidValue::new(
                        "incomplete_matrix",
                        format!("impact {i} and urgency {u} need exactly one priority, found {n}"),
                    ));
                }
            }
        }
        Ok(Self { rows })
    }

    /// A built-in matrix.
    pub fn preset(p: MatrixPreset) -> Self {
        // Indexed [impact - 1][urgency - 1].
        let table: [[u8; 3]; 3] = match p {
            MatrixPreset::Itil => [[1, 2, 3], [2, 3, 4], [3, 4, 5]],
            MatrixPreset::ThreeLevel => [[1, 1, 2], [1, 2, 3], [2, 3, 3]],
        };
        let mut rows = Vec::with_capacity(9);
        for (i, line) in table.iter().enumerate() {
            for (u, p) in line.iter().enumerate() {
                rows.push(MatrixRow {
                    impact: Level(i as u8 + 1),
                    urgency: Level(u as u8 + 1),
                    priority: Priority(*p),
                });
            }
        }
        Self { rows }
    }

    /// The priority of an impact and an urgency.
    pub fn priority(&self, impact: Level, urgency: Level) -> Priority {
        self.rows
            .iter()
            .find(|r| r.impact == impact && r.urgency == urgency)
            .map_or(Priority(3), |r| r.priority)
    }

    /// How its priorities are named: a matrix that uses only priorities 1 to 3 names them
    /// High, Medium and Low (`three_level`); any other the ITIL way, 1 Critical … 5 Planning.
    pub fn labels(&self) -> MatrixPreset {
        if self.rows.iter().all(|r| r.priority.0 <= 3) {
            MatrixPreset::ThreeLevel
        } else {
            MatrixPreset::Itil
        }
    }

    pub fn rows(&self) -> &[MatrixRow] {
        &self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(n: i64) -> Level {
        Level::parse(n).unwrap_or(Level::MEDIUM)
    }

    #[test]
    fn the_itil_matrix_gives_the_documented_priorities() {
        let m = PriorityMatrix::preset(MatrixPreset::Itil);
        let expected = [[1, 2, 3], [2, 3, 4], [3, 4, 5]];
        for i in 1..=3 {
            for u in 1..=3 {
                assert_eq!(
                    m.priority(l(i), l(u)).get(),
                    expected[(i - 1) as usize][(u - 1) as usize],
                    "impact {i} urgency {u}"
                );
            }
        }
        assert!(PriorityMatrix::new(m.rows().to_vec()).is_ok());
    }

    #[test]
    fn the_three_level_matrix_uses_three_priorities() {
        let m = PriorityMatrix::preset(MatrixPreset::ThreeLevel);
        assert_eq!(m.labels(), MatrixPreset::ThreeLevel);
        assert_eq!(
            PriorityMatrix::preset(MatrixPreset::Itil).labels(),
            MatrixPreset::Itil
        );
        let mut seen: Vec<i64> = m.rows().iter().map(|r| r.priority.get()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, vec![1, 2, 3]);
        assert_eq!(m.priority(Level::HIGH, Level::HIGH).get(), 1);
        assert_eq!(m.priority(Level::LOW, Level::LOW).get(), 3);
    }

    #[test]
    fn an_incomplete_matrix_is_refused() {
        let mut rows = PriorityMatrix::preset(MatrixPreset::Itil).rows().to_vec();
        rows.pop();
        assert!(PriorityMatrix::new(rows.clone()).is_err());
        rows.push(rows[0]);
        rows.push(rows[1]);
        assert!(PriorityMatrix::new(rows).is_err());
    }
}
