//! `Tx`: one connection or transaction of either engine, with the same four calls, and the
//! audit entries the transaction will write when it ends.

use crate::error::StoreError;
use crate::replica::FaultCell;
use crate::sqlite::rewrite_placeholders;
use crate::value::{P, Row, SqliteRow};
use rusqlite::Connection;

/// Which SQL dialect a transaction speaks; used only where the SQL must differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

pub struct Tx<'a> {
    conn: Conn<'a>,
    /// The audit entries of this transaction, in their order, chained and written by `finish`
    /// just before it commits: the chain's head, which every writer waits for, is then held
    /// from one statement to the commit, not from the change to the commit.
    pub(crate) audit: Vec<crate::repo::audit::AuditEntry>,
    /// Whether `finish` left an audit entry pending (PostgreSQL), for the store to chain once
    /// the transaction has committed.
    pub(crate) audit_pending: bool,
    /// The configuration the node keeps (PostgreSQL's primary), if any.
    config: Option<&'a crate::config_cache::ConfigCache>,
    /// Writes kept to go with the next statement or the commit (`execute_later`).
    later: crate::pg_write::Later,
    /// Whether this transaction changed the kept configuration: it then reads past the
    /// copies, and the store forgets them once it commits.
    pub(crate) config_changed: bool,
}

enum Conn<'a> {
    Sqlite(&'a mut Connection),
    PgClient(&'a deadpool_postgres::Client),
    /// A write transaction begun with its first statement and committed by `commit` (see
    /// `pg_write`).
    PgWrite(&'a crate::pg_write::Held),
    /// A connection to a read replica: a failure that is the standby's, not the query's, is
    /// noted in the cell, so that the read runs again on the primary.
    Replica(&'a deadpool_postgres::Client, &'a FaultCell),
}

fn sqlite_query(conn: &Connection, sql: &str, params: &[P<'_>]) -> Result<Vec<Row>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&rewrite_placeholders(sql))
        .map_err(StoreError::from_sqlite)?;
    let n = stmt.column_count();
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(StoreError::from_sqlite)?;
    let mut out = Vec::new();
    // The previous row's size is a good guess for the next one's buffer.
    let mut guess = 0;
    while let Some(row) = rows.next().map_err(StoreError::from_sqlite)? {
        let mut values = SqliteRow::with_capacity(n, guess);
        for i in 0..n {
            values.push(row.get_ref(i).map_err(StoreError::from_sqlite)?);
        }
        guess = values.byte_len();
        out.push(Row::Sqlite(values));
    }
    Ok(out)
}

fn sqlite_execute(conn: &Connection, sql: &str, params: &[P<'_>]) -> Result<u64, StoreError> {
    let mut stmt = conn
        .prepare_cached(&rewrite_placeholders(sql))
        .map_err(StoreError::from_sqlite)?;
    let n = stmt
        .execute(rusqlite::params_from_iter(params.iter()))
        .map_err(StoreError::from_sqlite)?;
    Ok(n as u64)
}

fn pg_params<'b>(params: &'b [P<'_>]) -> Vec<&'b (dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

/// Two statements sent together on one connection (tokio-postgres pipelines the requests
/// that are awaited together).
async fn pg_two<C: deadpool_postgres::GenericClient + Sync>(
    c: &C,
    a: (&str, &[P<'_>]),
    b: (&str, &[P<'_>]),
) -> Result<(Vec<tokio_postgres::Row>, Vec<tokio_postgres::Row>), tokio_postgres::Error> {
    let (sa, sb) =
        futures_util::future::try_join(c.prepare_cached(a.0), c.prepare_cached(b.0)).await?;
    let (pa, pb) = (pg_params(a.1), pg_params(b.1));
    futures_util::future::try_join(c.query(&sa, &pa), c.query(&sb, &pb)).await
}

/// Up to this many rows, `insert_rows` writes one multi-row `INSERT` on PostgreSQL.
const FEW_ROWS: usize = 16;

impl<'a> Tx<'a> {
    pub(crate) fn sqlite(conn: &'a mut Connection) -> Self {
        Self::on(Conn::Sqlite(conn))
    }

    pub(crate) fn pg_client(client: &'a deadpool_postgres::Client) -> Self {
        Self::on(Conn::PgClient(client))
    }

    pub(crate) fn pg_write(held: &'a crate::pg_write::Held) -> Self {
        Self::on(Conn::PgWrite(held))
    }

    pub(crate) fn replica(client: &'a deadpool_postgres::Client, fault: &'a FaultCell) -> Self {
        Self::on(Conn::Replica(client, fault))
    }

    fn on(conn: Conn<'a>) -> Self {
        Self {
            conn,
            audit: Vec::new(),
            audit_pending: false,
            config: None,
            later: crate::pg_write::Later::default(),
            config_changed: false,
        }
    }

    /// With the configuration the node keeps.
    pub(crate) fn keeping(mut self, config: Option<&'a crate::config_cache::ConfigCache>) -> Self {
        self.config = config;
        self
    }
}

impl Tx<'_> {
    pub fn dialect(&self) -> Dialect {
        match self.conn {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::PgClient(_) | Conn::PgWrite(_) | Conn::Replica(..) => Dialect::Postgres,
        }
    }

    /// Writes what the transaction left for its end (its audit entries); the store calls it
    /// once the body succeeded, before committing.
    pub(crate) async fn finish(&mut self) -> Result<(), StoreError> {
        let entries = std::mem::take(&mut self.audit);
        crate::repo::audit::write_chained(self, entries).await
    }

    /// Runs a write whose outcome the caller does not need (an insert of values): in a
    /// PostgreSQL write transaction it is kept and sent with the next statement or the
    /// commit, in one round trip, and joined with other such writes into one statement;
    /// elsewhere it runs now. Only for a write that reads nothing another kept write of the
    /// same transaction writes (they may run as one statement, seeing the same snapshot).
    /// Its error, if any, comes from the call that sends it.
    pub(crate) async fn execute_later(
        &mut self,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<(), StoreError> {
        match self.conn {
            Conn::PgWrite(_) => {
                self.later.push(sql, params);
                Ok(())
            }
            _ => self.execute(sql, params).await.map(|_| ()),
        }
    }

    /// Sends what must reach the server before a statement sent other than by `query` or
    /// `execute` (which send it in the same round trip): a write transaction's `BEGIN` and
    /// its kept writes.
    async fn ready(&mut self) -> Result<(), StoreError> {
        if let Conn::PgWrite(held) = self.conn {
            let begin = held.begin();
            let writes = self.later.take();
            if begin || !writes.is_empty() {
                crate::pg_write::ahead(held.client()?, begin, writes, async { Ok(()) })
                    .await
                    .map_err(StoreError::from_pg)?;
            }
        }
        Ok(())
    }

    /// Commits a PostgreSQL write transaction with its kept writes, in one round trip; a
    /// body that sent nothing but kept writes sends them alone (one statement is its own
    /// transaction). Other connections: nothing to do.
    pub(crate) async fn commit(&mut self) -> Result<(), StoreError> {
        let Conn::PgWrite(held) = self.conn else {
            return Ok(());
        };
        let c = held.client()?;
        let writes = self.later.take();
        if held.is_open() {
            crate::pg_write::ahead(c, false, writes, c.batch_execute("COMMIT"))
                .await
                .map_err(StoreError::from_pg)?;
            held.closed();
        } else if !writes.is_empty() {
            crate::pg_write::ahead(c, false, writes, async { Ok(()) })
                .await
                .map_err(StoreError::from_pg)?;
        }
        Ok(())
    }

    /// Rolls a PostgreSQL write transaction back (kept writes are dropped unsent).
    pub(crate) async fn rollback(&mut self) -> Result<(), StoreError> {
        self.later = crate::pg_write::Later::default();
        if let Conn::PgWrite(held) = self.conn {
            if held.is_open() {
                held.client()?
                    .batch_execute("ROLLBACK")
                    .await
                    .map_err(StoreError::from_pg)?;
                held.closed();
            }
        }
        Ok(())
    }

    /// The node's copy of configuration kept under `key` (see `config_cache`) if it has one
    /// still good; else the generation to keep what the caller reads in (`keep`).
    pub(crate) fn kept<T: Clone + Send + Sync + 'static>(
        &self,
        key: &'static str,
    ) -> Result<T, Option<u64>> {
        let Some(cache) = self.config.filter(|_| !self.config_changed) else {
            return Err(None);
        };
        let Some(g) = cache.generation() else {
            return Err(None);
        };
        match cache.get::<T>(key, g) {
            Some(hit) => Ok(T::clone(&hit)),
            None => Err(Some(g)),
        }
    }

    /// Keeps what was read under `key` for the generation `kept` gave.
    pub(crate) fn keep<T: Clone + Send + Sync + 'static>(
        &self,
        key: &'static str,
        generation: Option<u64>,
        value: &T,
    ) {
        if let (Some(cache), Some(g)) = (self.config, generation) {
            cache.put(key, g, std::sync::Arc::new(value.clone()));
        }
    }

    /// Notes that this transaction changed configuration the node may keep.
    pub(crate) fn config_changes(&mut self) {
        self.config_changed = true;
    }

    /// Refuses a read that recorded an audit entry: there it would be lost.
    pub(crate) fn read_only(&self) -> Result<(), StoreError> {
        if self.audit.is_empty() {
            Ok(())
        } else {
            Err(StoreError::AuditInRead)
        }
    }

    /// Runs a statement and returns all rows.
    pub(crate) async fn query(
        &mut self,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<Vec<Row>, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(conn) => sqlite_query(conn, sql, params),
            Conn::PgWrite(held) => {
                let (c, begin) = (held.client()?, held.begin());
                let rows = crate::pg_write::ahead(c, begin, self.later.take(), async {
                    let stmt = c.prepare_cached(sql).await?;
                    c.query(&stmt, &pg_params(params)).await
                })
                .await
                .map_err(StoreError::from_pg)?;
                Ok(rows.into_iter().map(Row::Pg).collect())
            }
            Conn::PgClient(client) => {
                let stmt = client
                    .prepare_cached(sql)
                    .await
                    .map_err(StoreError::from_pg)?;
                let rows = client
                    .query(&stmt, &pg_params(params))
                    .await
                    .map_err(StoreError::from_pg)?;
                Ok(rows.into_iter().map(Row::Pg).collect())
            }
            Conn::Replica(client, fault) => {
                let rows = async {
                    let stmt = client.prepare_cached(sql).await?;
                    client.query(&stmt, &pg_params(params)).await
                }
                .await
                .map_err(|e| {
                    fault.record(&e);
                    StoreError::from_pg(e)
                })?;
                Ok(rows.into_iter().map(Row::Pg).collect())
            }
        }
    }

    /// Runs two statements that do not depend on each other and returns both results: on
    /// PostgreSQL sent together (one round trip, the server woken once), on SQLite one
    /// after the other.
    pub(crate) async fn query_two(
        &mut self,
        a: (&str, &[P<'_>]),
        b: (&str, &[P<'_>]),
    ) -> Result<(Vec<Row>, Vec<Row>), StoreError> {
        let rows = |r: Vec<tokio_postgres::Row>| r.into_iter().map(Row::Pg).collect::<Vec<_>>();
        match &mut self.conn {
            Conn::Sqlite(conn) => {
                Ok((sqlite_query(conn, a.0, a.1)?, sqlite_query(conn, b.0, b.1)?))
            }
            Conn::PgWrite(held) => {
                let (c, begin) = (held.client()?, held.begin());
                let (x, y) = crate::pg_write::ahead(c, begin, self.later.take(), pg_two(c, a, b))
                    .await
                    .map_err(StoreError::from_pg)?;
                Ok((rows(x), rows(y)))
            }
            Conn::PgClient(client) => {
                let (x, y) = pg_two(&**client, a, b).await.map_err(StoreError::from_pg)?;
                Ok((rows(x), rows(y)))
            }
            Conn::Replica(client, fault) => {
                let (x, y) = pg_two(&**client, a, b).await.map_err(|e| {
                    fault.record(&e);
                    StoreError::from_pg(e)
                })?;
                Ok((rows(x), rows(y)))
            }
        }
    }

    /// Runs a statement planned for the values given (PostgreSQL: a statement prepared
    /// afresh, whose first run is planned with its parameters; a cached one is planned once
    /// for any values after a few runs). For a query whose best plan depends on a value: a
    /// search for a rare word is found from the index of words, one for a common word by
    /// walking the sort order. SQLite plans each statement with its values anyway.
    pub(crate) async fn query_planned(
        &mut self,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<Vec<Row>, StoreError> {
        self.ready().await?;
        let rows = match &mut self.conn {
            Conn::Sqlite(conn) => return sqlite_query(conn, sql, params),
            Conn::PgWrite(held) => held.client()?.query(sql, &pg_params(params)).await,
            Conn::PgClient(client) => client.query(sql, &pg_params(params)).await,
            Conn::Replica(client, fault) => {
                let rows = client.query(sql, &pg_params(params)).await;
                if let Err(e) = &rows {
                    fault.record(e);
                }
                rows
            }
        };
        Ok(rows
            .map_err(StoreError::from_pg)?
            .into_iter()
            .map(Row::Pg)
            .collect())
    }

    /// Runs a statement that returns at most one row.
    pub(crate) async fn query_opt(
        &mut self,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Runs a statement that must return one row; `NotFound` otherwise.
    pub(crate) async fn query_one(
        &mut self,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<Row, StoreError> {
        self.query_opt(sql, params)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Inserts one row into `table`'s `columns` (a comma-separated list) per item, its values
    /// made by `fill` in the columns' order: a bulk load (an import's hundred thousand
    /// rows). PostgreSQL takes them in one binary `COPY` (a few as one multi-row insert, sent
    /// like `execute_later`'s); SQLite one prepared single-row insert each (nothing to send,
    /// no statement journal).
    pub(crate) async fn insert_rows<'p, T>(
        &mut self,
        table: &str,
        columns: &str,
        items: &'p [T],
        fill: impl Fn(&'p T, &mut Vec<P<'p>>),
    ) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        if self.dialect() == Dialect::Postgres && items.len() <= FEW_ROWS {
            // A few rows (a chaining run's audit entries): one prepared multi-row `INSERT`
            // costs less than a `COPY`'s three messages and its statement.
            let width = columns.split(',').count();
            let mut params: Vec<P<'p>> = Vec::with_capacity(width * items.len());
            for item in items {
                fill(item, &mut params);
            }
            let rows: Vec<String> = (0..items.len())
                .map(|r| {
                    let marks: Vec<String> =
                        (1..=width).map(|c| format!("${}", r * width + c)).collect();
                    format!("({})", marks.join(", "))
                })
                .collect();
            let sql = format!("INSERT INTO {table} ({columns}) VALUES {}", rows.join(", "));
            // Sent with the next statement or the commit.
            return self.execute_later(&sql, &params).await;
        }
        self.ready().await?;
        let client: &deadpool_postgres::Client = match &mut self.conn {
            Conn::Sqlite(conn) => {
                let mut row: Vec<P<'p>> = Vec::new();
                let marks: Vec<String> = (1..=columns.split(',').count())
                    .map(|i| format!("${i}"))
                    .collect();
                let sql = format!(
                    "INSERT INTO {table} ({columns}) VALUES ({})",
                    marks.join(", ")
                );
                for item in items {
                    row.clear();
                    fill(item, &mut row);
                    sqlite_execute(conn, &sql, &row)?;
                }
                return Ok(());
            }
            Conn::PgWrite(held) => held.client()?,
            Conn::PgClient(client) | Conn::Replica(client, _) => client,
        };
        let probe = client
            .prepare_cached(&format!("SELECT {columns} FROM {table} LIMIT 0"))
            .await
            .map_err(StoreError::from_pg)?;
        let types: Vec<tokio_postgres::types::Type> =
            probe.columns().iter().map(|c| c.type_().clone()).collect();
        let sink = client
            .copy_in(&format!(
                "COPY {table} ({columns}) FROM STDIN (FORMAT binary)"
            ))
            .await
            .map_err(StoreError::from_pg)?;
        copy_rows(sink, &types, items, fill).await
    }

    /// Runs a statement and returns the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: &str, params: &[P<'_>]) -> Result<u64, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(conn) => sqlite_execute(conn, sql, params),
            Conn::PgWrite(held) => {
                let (c, begin) = (held.client()?, held.begin());
                crate::pg_write::ahead(c, begin, self.later.take(), async {
                    let stmt = c.prepare_cached(sql).await?;
                    c.execute(&stmt, &pg_params(params)).await
                })
                .await
                .map_err(StoreError::from_pg)
            }
            Conn::PgClient(client) => {
                let stmt = client
                    .prepare_cached(sql)
                    .await
                    .map_err(StoreError::from_pg)?;
                client
                    .execute(&stmt, &pg_params(params))
                    .await
                    .map_err(StoreError::from_pg)
            }
            Conn::Replica(client, fault) => async {
                let stmt = client.prepare_cached(sql).await?;
                client.execute(&stmt, &pg_params(params)).await
            }
            .await
            .map_err(|e| {
                fault.record(&e);
                StoreError::from_pg(e)
            }),
        }
    }
}

/// Writes the items' rows into an open binary `COPY`, then ends it.
async fn copy_rows<'p, T>(
    sink: tokio_postgres::CopyInSink<bytes::Bytes>,
    types: &[tokio_postgres::types::Type],
    items: &'p [T],
    fill: impl Fn(&'p T, &mut Vec<P<'p>>),
) -> Result<(), StoreError> {
    let writer = tokio_postgres::binary_copy::BinaryCopyInWriter::new(sink, types);
    futures_util::pin_mut!(writer);
    let mut row: Vec<P<'p>> = Vec::with_capacity(types.len());
    for item in items {
        row.clear();
        fill(item, &mut row);
        writer
            .as_mut()
            .write(&pg_params(&row))
            .await
            .map_err(StoreError::from_pg)?;
    }
    writer.finish().await.map_err(StoreError::from_pg)?;
    Ok(())
}
