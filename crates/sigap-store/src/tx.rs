//! `Tx`: one connection or transaction of either engine, with the same four calls.

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

pub enum Tx<'a> {
    Sqlite(&'a mut Connection),
    Pg(&'a deadpool_postgres::Transaction<'a>),
    PgClient(&'a deadpool_postgres::Client),
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

impl Tx<'_> {
    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Pg(_) | Tx::PgClient(_) | Tx::Replica(..) => Dialect::Postgres,
        }
    }

    /// Runs a statement and returns all rows.
    pub(crate) async fn query(
        &mut self,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            Tx::Sqlite(conn) => sqlite_query(conn, sql, params),
            Tx::Pg(tx) => {
                let stmt = tx.prepare_cached(sql).await.map_err(StoreError::from_pg)?;
                let rows = tx
                    .query(&stmt, &pg_params(params))
                    .await
                    .map_err(StoreError::from_pg)?;
                Ok(rows.into_iter().map(Row::Pg).collect())
            }
            Tx::PgClient(client) => {
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
            Tx::Replica(client, fault) => {
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

    /// Runs a statement and returns the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: &str, params: &[P<'_>]) -> Result<u64, StoreError> {
        match self {
            Tx::Sqlite(conn) => sqlite_execute(conn, sql, params),
            Tx::Pg(tx) => {
                let stmt = tx.prepare_cached(sql).await.map_err(StoreError::from_pg)?;
                tx.execute(&stmt, &pg_params(params))
                    .await
                    .map_err(StoreError::from_pg)
            }
            Tx::PgClient(client) => {
                let stmt = client
                    .prepare_cached(sql)
                    .await
                    .map_err(StoreError::from_pg)?;
                client
                    .execute(&stmt, &pg_params(params))
                    .await
                    .map_err(StoreError::from_pg)
            }
            Tx::Replica(client, fault) => async {
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
