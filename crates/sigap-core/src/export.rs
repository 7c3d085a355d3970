//! CSV files sent while they are read. Every export (people, organizations, incidents,
//! configuration items and relationships) reads its rows one page at a time, as the client
//! takes them, through a channel of two pages: memory stays flat whatever the size, and the
//! first bytes leave after the first page. The header and the first page are read before
//! anything is sent, so a wrong filter or a missing right is still an error response.
//!
//! There is no cap. A client that wants one gives a limit; an export cut by its limit says
//! so (`truncated`), which is known before the first byte because the rows are first counted
//! up to one past the limit.

use crate::error::{AppError, AppResult};
use std::future::Future;
use tokio::sync::mpsc;

/// One page of rows, and the cursor of the next page when there is one.
pub type RowPage = (Vec<Vec<String>>, Option<String>);

/// A CSV file being read.
#[derive(Debug)]
pub struct CsvStream {
    /// The file's name, without `.csv`.
    pub name: String,
    /// Rows were left out because of the limit.
    pub truncated: bool,
    /// The header and the first page.
    pub head: Vec<u8>,
    /// The following pages; an error ends the file early.
    pub rest: mpsc::Receiver<AppResult<Vec<u8>>>,
}

/// The most rows an export may be limited to.
pub const MAX_LIMIT: u64 = 100_000_000;

/// Parses the `limit` of an export: none, or a whole number from 1 on.
pub fn parse_limit(text: Option<&str>) -> AppResult<Option<u64>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => match t.parse::<u64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(Some(n)),
            _ => Err(AppError::field(
                "limit",
                "out_of_range",
                format!("must be a whole number between 1 and {MAX_LIMIT}"),
            )),
        },
    }
}

/// Writes rows as CSV lines (CRLF). A cell a spreadsheet would run as a formula is kept as
/// text with a leading apostrophe.
pub fn encode(header: Option<&[String]>, rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(rows.len() * 96 + 256));
    if let Some(h) = header {
        // Writing into memory cannot fail.
        let _ = w.write_record(h);
    }
    for r in rows {
        let _ = w.write_record(r.iter().map(|c| -> std::borrow::Cow<'_, [u8]> {
            if c.starts_with(['=', '+', '-', '@']) {
                format!("'{c}").into_bytes().into()
            } else {
                c.as_bytes().into()
            }
        }));
    }
    w.into_inner().unwrap_or_default()
}

/// Starts an export: `fetch` reads the page after a cursor (`None`: the first page). With a
/// limit, the rows are first counted up to one past it, then the file stops at the limit.
pub async fn stream<F, Fut>(
    name: &str,
    header: Vec<String>,
    limit: Option<u64>,
    mut fetch: F,
) -> AppResult<CsvStream>
where
    F: FnMut(Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = AppResult<RowPage>> + Send + 'static,
{
    let truncated = match limit {
        None => false,
        Some(limit) => {
            let (mut seen, mut cursor) = (0u64, None);
            loop {
                let (rows, next) = fetch(cursor).await?;
                seen += rows.len() as u64;
                match next {
                    _ if seen > limit => break true,
                    Some(c) => cursor = Some(c),
                    None => break false,
                }
            }
        }
    };
    let mut left = limit.unwrap_or(u64::MAX);
    let (mut rows, mut next) = fetch(None).await?;
    take(&mut rows, &mut left);
    let head = encode(Some(&header), &rows);
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        while let (Some(cursor), true) = (next.take(), left > 0) {
            let chunk = match fetch(Some(cursor)).await {
                Ok((mut rows, after)) => {
                    take(&mut rows, &mut left);
                    next = after;
                    Ok(encode(None, &rows))
                }
                Err(e) => Err(e),
            };
            let failed = chunk.is_err();
            // The client went away: stop reading.
            if tx.send(chunk).await.is_err() || failed {
                return;
            }
        }
    });
    Ok(CsvStream {
        name: name.to_owned(),
        truncated,
        head,
        rest: rx,
    })
}

/// Keeps at most `left` rows and counts them off.
fn take(rows: &mut Vec<Vec<String>>, left: &mut u64) {
    if rows.len() as u64 > *left {
        rows.truncate(usize::try_from(*left).unwrap_or(usize::MAX));
    }
    *left -= rows.len() as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages of three from `n` numbered rows.
    fn pages(n: usize) -> impl FnMut(Option<String>) -> std::future::Ready<AppResult<RowPage>> {
        move |cursor| {
            let from: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
            let to = (from + 3).min(n);
            let rows = (from..to).map(|i| vec![i.to_string()]).collect();
            std::future::ready(Ok((rows, (to < n).then(|| to.to_string()))))
        }
    }

    async fn whole(mut s: CsvStream) -> String {
        let mut out = s.head;
        while let Some(chunk) = s.rest.recv().await {
            out.extend(chunk.unwrap_or_default());
        }
        String::from_utf8(out).unwrap_or_default()
    }

    #[tokio::test]
    async fn an_export_reads_every_page_and_says_when_its_limit_cut_it() -> AppResult<()> {
        let s = stream("n", vec!["n".into()], None, pages(7)).await?;
        assert!(!s.truncated);
        assert_eq!(whole(s).await, "n\r\n0\r\n1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n");
        for (limit, lines, cut) in [(7, 7, false), (6, 6, true), (3, 3, true), (1, 1, true)] {
            let s = stream("n", vec!["n".into()], Some(limit), pages(7)).await?;
            assert_eq!(s.truncated, cut, "limit {limit}");
            assert_eq!(whole(s).await.lines().count(), lines + 1, "limit {limit}");
        }
        let s = stream("n", vec!["n".into()], Some(5), pages(0)).await?;
        assert!(!s.truncated);
        assert_eq!(whole(s).await, "n\r\n");
        Ok(())
    }

    #[test]
    fn cells_that_look_like_formulas_stay_text() {
        let out = encode(None, &[vec!["=1+1".into(), "-2".into(), "a,b".into()]]);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "'=1+1,'-2,\"a,b\"\r\n"
        );
        assert!(parse_limit(Some("0")).is_err() && parse_limit(Some("x")).is_err());
        assert_eq!(parse_limit(Some(" 10 ")).ok(), Some(Some(10)));
    }
}
