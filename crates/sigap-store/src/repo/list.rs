//! Keyset (cursor) pagination and filters over a whitelist of columns.

use crate::error::StoreError;
use crate::tx::Tx;
pub use crate::value::Val;
use crate::value::{P, Row};

/// A sort key: a column (from a fixed list, never from input) and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub column: &'static str,
    pub desc: bool,
}

/// The sort keys for `sort`, with the id column appended as the tie-breaker (in the last
/// key's direction) so that every row has a unique position for the cursor.
pub fn sort_keys<S: Copy>(
    sort: &[(S, bool)],
    column: impl Fn(S) -> &'static str,
    id: &'static str,
) -> Vec<SortKey> {
    let mut keys: Vec<SortKey> = sort
        .iter()
        .map(|(s, desc)| SortKey {
            column: column(*s),
            desc: *desc,
        })
        .collect();
    let desc = keys.last().is_some_and(|k| k.desc);
    keys.push(SortKey { column: id, desc });
    keys
}

/// One page of records and, when more follow, the sort values of the last one.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Vec<Val>>,
}

/// Builds `SELECT … WHERE … ORDER BY … LIMIT` with numbered parameters.
#[derive(Debug, Default)]
pub struct Select {
    sql: String,
    conditions: Vec<String>,
    params: Vec<Val>,
    /// Planned for its values each time it runs (`Tx::query_planned`).
    planned: bool,
}

impl Select {
    pub fn new(head: &str) -> Self {
        Self {
            sql: head.to_owned(),
            ..Self::default()
        }
    }

    /// Replaces the head (`SELECT … FROM …`), for a head that needs a parameter bound first.
    pub fn set_head(&mut self, head: String) {
        self.sql = head;
    }

    /// Adds a parameter and returns its placeholder.
    pub fn bind(&mut self, value: Val) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    /// Adds a condition; `{}` in `template` is replaced by the new parameter.
    pub fn filter(&mut self, template: &str, value: Val) -> &mut Self {
        let ph = self.bind(value);
        self.conditions.push(template.replace("{}", &ph));
        self
    }

    /// Adds a condition written with placeholders from `bind`.
    pub fn condition(&mut self, sql: String) -> &mut Self {
        self.conditions.push(sql);
        self
    }

    /// Binds the pattern `%text%` for `LIKE … ESCAPE '\\'`, lower-cased, with the wildcards
    /// of `text` escaped; returns its placeholder.
    pub fn bind_contains(&mut self, text: &str) -> String {
        let escaped = text
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        self.bind(Val::Text(format!("%{escaped}%")))
    }

    /// `column LIKE %text%` on a lower-cased column, with wildcards in `text` escaped.
    pub fn contains(&mut self, column: &str, text: &str) -> &mut Self {
        let ph = self.bind_contains(text);
        self.conditions
            .push(format!("{column} LIKE {ph} ESCAPE '\\'"));
        self
    }

    /// Adds the keyset condition after `after`, the ORDER BY and the LIMIT (one more row than
    /// asked, to learn whether another page follows).
    pub fn page(
        &mut self,
        keys: &[SortKey],
        after: Option<&[Val]>,
        limit: i64,
    ) -> Result<(), StoreError> {
        if let Some(after) = after {
            if after.len() != keys.len() {
                return Err(StoreError::Decode {
                    column: 0,
                    detail: "cursor does not fit the sort".into(),
                });
            }
            let mut alternatives = Vec::new();
            for i in 0..keys.len() {
                let mut parts = Vec::new();
                for (key, value) in keys.iter().zip(after.iter()).take(i) {
                    let ph = self.bind(value.clone());
                    parts.push(format!("{} = {ph}", key.column));
                }
                let (key, value) = (&keys[i], &after[i]);
                let ph = self.bind(value.clone());
                parts.push(format!(
                    "{} {} {ph}",
                    key.column,
                    if key.desc { "<" } else { ">" }
                ));
                alternatives.push(format!("({})", parts.join(" AND ")));
            }
            self.conditions
                .push(format!("({})", alternatives.join(" OR ")));
        }
        self.push_where();
        self.sql.push_str(" ORDER BY ");
        self.sql.push_str(&order_by(keys));
        // The limit is written into the text, not bound: PostgreSQL plans a cached statement
        // once for any values only when that plan costs about what one planned for the
        // values does, and with `LIMIT $n` it prices the generic plan for a tenth of the
        // rows. So it planned a list afresh at every run: 3–4 ms for the queue's dozen joins
        // at a million tasks, against 0.6 ms to run it. (A text per page size: the API
        // allows at most 500.)
        self.sql
            .push_str(&format!(" LIMIT {}", limit.saturating_add(1).max(0)));
        Ok(())
    }

    /// Appends the conditions as the `WHERE` clause.
    fn push_where(&mut self) {
        if !self.conditions.is_empty() {
            self.sql.push_str(" WHERE ");
            self.sql.push_str(&self.conditions.join(" AND "));
        }
    }

    /// Ends an aggregate query: the conditions, `GROUP BY by` and `LIMIT limit`.
    pub fn group(&mut self, by: &[String], limit: i64) {
        self.push_where();
        if !by.is_empty() {
            self.sql.push_str(" GROUP BY ");
            self.sql.push_str(&by.join(", "));
        }
        let ph = self.bind(Val::I64(limit));
        self.sql.push_str(&format!(" LIMIT {ph}"));
    }

    /// Ends a query: the conditions, `ORDER BY order` (fixed SQL, never from input) and
    /// `LIMIT limit`.
    pub fn order(&mut self, order: &str, limit: i64) {
        self.push_where();
        let ph = self.bind(Val::I64(limit));
        self.sql.push_str(&format!(" ORDER BY {order} LIMIT {ph}"));
    }

    /// Makes the page chosen so far (its head selecting the key of each row) the first
    /// source of a larger statement: `head` is what it selects, `from` its sources with
    /// `{}` where the chosen page goes. The joined rows come in no particular order: the
    /// caller sorts the page again ([`sort_page`]), which costs less than having the
    /// database sort the wide joined rows.
    pub fn join_page(&mut self, head: &str, from: &str) {
        self.sql = format!("{head}{}", from.replacen("{}", &self.sql, 1));
    }

    pub async fn run(&self, tx: &mut Tx<'_>) -> Result<Vec<Row>, StoreError> {
        let params: Vec<P<'_>> = self.params.iter().map(Val::as_p).collect();
        if self.planned {
            tx.query_planned(&self.sql, &params).await
        } else {
            tx.query(&self.sql, &params).await
        }
    }

    /// Has the statement planned for its values each time it runs: for a query whose best
    /// plan depends on them (how many tasks a searched word matches).
    pub fn plan_for_values(&mut self) {
        self.planned = true;
    }
}

/// The `ORDER BY` list of a sort: `column ASC|DESC, …`.
fn order_by(keys: &[SortKey]) -> String {
    keys.iter()
        .map(|k| format!("{} {}", k.column, if k.desc { "DESC" } else { "ASC" }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sorts the rows of a page by `keys`, as the database ordered them: `cmp` compares two
/// rows on one key column, ascending.
pub fn sort_page<T>(
    items: &mut [T],
    keys: &[SortKey],
    cmp: impl Fn(&'static str, &T, &T) -> std::cmp::Ordering,
) {
    items.sort_by(|a, b| {
        keys.iter()
            .map(|k| {
                let o = cmp(k.column, a, b);
                if k.desc { o.reverse() } else { o }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// Cuts the extra row off and records the keys of the last row kept.
pub fn into_page<T>(mut items: Vec<T>, limit: i64, keys_of: impl Fn(&T) -> Vec<Val>) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(0);
    if items.len() > limit {
        items.truncate(limit);
        let next = items.last().map(&keys_of);
        Page { items, next }
    } else {
        Page { items, next: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_sorted_again_by_every_key_in_its_direction() {
        let keys = [
            SortKey {
                column: "a",
                desc: true,
            },
            SortKey {
                column: "b",
                desc: false,
            },
        ];
        let mut rows = vec![(1, 2), (2, 9), (1, 1), (3, 0), (2, 3)];
        sort_page(&mut rows, &keys, |column, x, y| match column {
            "a" => x.0.cmp(&y.0),
            _ => x.1.cmp(&y.1),
        });
        assert_eq!(rows, vec![(3, 0), (2, 3), (2, 9), (1, 1), (1, 2)]);
    }

    #[test]
    fn keyset_condition_handles_mixed_directions() {
        let mut s = Select::new("SELECT id FROM t");
        s.filter("active = {}", Val::Bool(true));
        let keys = [
            SortKey {
                column: "priority",
                desc: true,
            },
            SortKey {
                column: "id",
                desc: false,
            },
        ];
        s.page(&keys, Some(&[Val::I64(2), Val::Text("x".into())]), 10)
            .map_err(|e| e.to_string())
            .ok();
        assert_eq!(
            s.sql,
            "SELECT id FROM t WHERE active = $1 AND ((priority < $2) OR (priority = $3 AND id > $4)) ORDER BY priority DESC, id ASC LIMIT 11"
        );
        assert_eq!(s.params.len(), 4);
    }
}
