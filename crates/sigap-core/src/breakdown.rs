//! Tasks counted by service, CI or category over a period (agents): the lines of trends and
//! reports, each with the numbers of the tasks behind it.

use crate::Core;
use crate::error::{AppError, AppResult};
use crate::principal::Ctx;
pub use sigap_store::task::breakdown::{Breakdown, Bucket, Dimension};

/// The lines with the most tasks (at most 50), most first; with `numbers`, each with its
/// tasks' numbers (at most 500, oldest first), else with none.
pub async fn lines(
    core: &Core,
    ctx: &Ctx,
    b: Breakdown,
    numbers: bool,
) -> AppResult<Vec<(Bucket, Vec<String>)>> {
    ctx.principal.require(sigap_domain::Role::Agent)?;
    if b.to <= b.from {
        return Err(AppError::field(
            "to",
            "before_start",
            "the period ends before it starts",
        ));
    }
    let lines = core
        .store
        .read(async move |tx| {
            let mut lines = Vec::new();
            for bucket in b.buckets(tx, 50).await? {
                let n = match numbers {
                    true => b.numbers(tx, &bucket.key, 500).await?,
                    false => Vec::new(),
                };
                lines.push((bucket, n));
            }
            Ok::<_, AppError>(lines)
        })
        .await?;
    Ok(lines)
}

/// The numbers of the tasks behind the line `key` (at most 500, oldest first).
pub async fn numbers(core: &Core, ctx: &Ctx, b: Breakdown, key: &str) -> AppResult<Vec<String>> {
    ctx.principal.require(sigap_domain::Role::Agent)?;
    let key = key.to_owned();
    Ok(core
        .store
        .read(async move |tx| b.numbers(tx, &key, 500).await)
        .await?)
}
