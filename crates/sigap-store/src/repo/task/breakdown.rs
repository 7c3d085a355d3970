//! Tasks counted by service, CI or category over the period they were opened in: the lines
//! of trends and reports, and the tasks behind one line.

use super::links::Links;
use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::P;
use jiff::Timestamp;
pub use sigap_domain::task::Dimension;
use sigap_domain::task::TaskKind;

/// Which tasks a breakdown counts: those of one kind opened in `[from, to)`; with
/// `unlinked`, only those no task is linked to through that table.
#[derive(Debug, Clone, Copy)]
pub struct Breakdown {
    pub kind: TaskKind,
    pub by: Dimension,
    pub from: Timestamp,
    pub to: Timestamp,
    pub unlinked: Option<Links>,
}

/// One line of a breakdown: the service, CI or category (its id, where it has one, and its
/// name) and how many tasks it counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub key: String,
    pub name: String,
    pub count: i64,
}

impl Breakdown {
    /// The task's column counted by.
    fn column(&self) -> &'static str {
        match self.by {
            Dimension::Service => "t.service_id",
            Dimension::Ci => "t.ci_id",
            Dimension::Category => "t.category",
        }
    }

    /// The tasks counted, with the period as `$1` and `$2`.
    fn tasks(&self) -> String {
        // The kind and the link table are our own names, never a caller's.
        let mut sql = format!(
            "t.kind = '{}' AND t.opened_at >= $1 AND t.opened_at < $2",
            self.kind.code()
        );
        if let Some(Links { table, child, .. }) = self.unlinked {
            sql.push_str(&format!(
                " AND NOT EXISTS (SELECT 1 FROM {table} l WHERE l.{child} = t.id)"
            ));
        }
        sql
    }

    /// The lines with the most tasks, most first.
    pub async fn buckets(&self, tx: &mut Tx<'_>, limit: i64) -> StoreResult<Vec<Bucket>> {
        let (key, tasks) = (self.column(), self.tasks());
        let (name, join) = match self.by {
            Dimension::Service => ("s.name", "JOIN service s ON s.id = t.service_id"),
            Dimension::Ci => ("c.name", "JOIN ci c ON c.id = t.ci_id"),
            Dimension::Category => ("t.category", ""),
        };
        let sql = format!(
            "SELECT {key}, {name}, COUNT(*) AS n FROM task t {join} WHERE {tasks} AND {key} IS NOT NULL \
             GROUP BY {key}, {name} ORDER BY n DESC, {name} LIMIT $3"
        );
        let params = [self.from.into(), self.to.into(), limit.into()];
        tx.query(&sql, &params)
            .await?
            .iter()
            .map(|r| {
                let key = match self.by {
                    Dimension::Category => r.get::<String>(0)?,
                    Dimension::Service | Dimension::Ci => r.get::<uuid::Uuid>(0)?.to_string(),
                };
                Ok(Bucket {
                    key,
                    name: r.get(1)?,
                    count: r.get(2)?,
                })
            })
            .collect()
    }

    /// The numbers of the tasks behind the line `key`, oldest first.
    pub async fn numbers(
        &self,
        tx: &mut Tx<'_>,
        key: &str,
        limit: i64,
    ) -> StoreResult<Vec<String>> {
        let value: P<'_> = match self.by {
            Dimension::Category => key.into(),
            Dimension::Service | Dimension::Ci => match uuid::Uuid::parse_str(key) {
                Ok(u) => u.into(),
                Err(_) => return Ok(Vec::new()),
            },
        };
        let (column, tasks) = (self.column(), self.tasks());
        let sql = format!(
            "SELECT t.number FROM task t WHERE {tasks} AND {column} = $3 ORDER BY t.opened_at, t.id LIMIT $4"
        );
        let params = [self.from.into(), self.to.into(), value, limit.into()];
        tx.query(&sql, &params)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}
