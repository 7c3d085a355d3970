//! Approvals of any task, one row per approver and stage, and approvers' delegations.

use super::groups::PersonRef;
use crate::error::{StoreError, StoreResult};
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::approval::ApprovalState;
use sigap_domain::{ApprovalId, DelegationId, GroupId, PersonId, TaskId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub id: ApprovalId,
    pub task_id: TaskId,
    /// The task's number and short description.
    pub task_number: String,
    pub task_title: String,
    pub stage: i64,
    pub approver: PersonRef,
    pub group: Option<(GroupId, String)>,
    pub state: ApprovalState,
    pub asked_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<PersonRef>,
    pub comment: String,
    pub reminded_at: Option<Timestamp>,
    /// The round of asking: each time the task is asked again from its first stage.
    pub round: i64,
}

const SELECT: &str = "SELECT a.id, a.task_id, t.number, t.short_description, a.stage, p.id, p.login, p.name, \
    g.id, g.name, a.state, a.asked_at, a.decided_at, d.id, d.login, d.name, a.comment, a.reminded_at, a.round \
    FROM approval a JOIN task t ON t.id = a.task_id JOIN person p ON p.id = a.approver_id \
    LEFT JOIN support_group g ON g.id = a.group_id LEFT JOIN person d ON d.id = a.decided_by_id";

/// A person (id, login, name) from three columns from `at` on; none when the id is null.
pub(crate) fn person_at(row: &Row, at: usize) -> StoreResult<Option<PersonRef>> {
    let id: Option<PersonId> = row.get(at)?;
    id.map(|id| {
        Ok(PersonRef {
            id,
            login: row.get(at + 1)?,
            name: row.get(at + 2)?,
        })
    })
    .transpose()
}

fn from_row(row: &Row) -> StoreResult<Approval> {
    let group: Option<GroupId> = row.get(8)?;
    Ok(Approval {
        id: row.get(0)?,
        task_id: row.get(1)?,
        task_number: row.get(2)?,
        task_title: row.get(3)?,
        stage: row.get(4)?,
        approver: person_at(row, 5)?.ok_or(StoreError::NotFound)?,
        group: match group {
            Some(g) => Some((g, row.get(9)?)),
            None => None,
        },
        state: super::decode(10, row.get(10)?, ApprovalState::parse)?,
        asked_at: row.get(11)?,
        decided_at: row.get(12)?,
        decided_by: person_at(row, 13)?,
        comment: row.get(16)?,
        reminded_at: row.get(17)?,
        round: row.get(18)?,
    })
}

/// The latest round of a task's approvals (0 when it was never asked).
pub async fn last_round(tx: &mut Tx<'_>, task: TaskId) -> StoreResult<i64> {
    let row = tx
        .query_one(
            "SELECT COALESCE(MAX(round), 0) FROM approval WHERE task_id = $1",
            &[task.into()],
        )
        .await?;
    row.get(0)
}

/// Asks one approver, at one stage of a round of a task.
pub async fn ask(
    tx: &mut Tx<'_>,
    task: TaskId,
    (round, stage): (i64, i64),
    approver: PersonId,
    group: Option<GroupId>,
    now: Timestamp,
) -> StoreResult<ApprovalId> {
    let id = ApprovalId::new();
    tx.execute(
        "INSERT INTO approval (id, task_id, stage, approver_id, group_id, state, asked_at, round) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            id.into(),
            task.into(),
            stage.into(),
            approver.into(),
            group.into(),
            ApprovalState::Requested.code().into(),
            now.into(),
            round.into(),
        ],
    )
    .await?;
    Ok(id)
}

pub async fn get(tx: &mut Tx<'_>, id: ApprovalId) -> StoreResult<Approval> {
    let sql = format!("{SELECT} WHERE a.id = $1");
    from_row(&tx.query_one(&sql, &[id.into()]).await?)
}

/// A task's approvals, by stage and in the order asked.
pub async fn of_task(tx: &mut Tx<'_>, task: TaskId) -> StoreResult<Vec<Approval>> {
    let sql = format!("{SELECT} WHERE a.task_id = $1 ORDER BY a.round, a.stage, a.asked_at, a.id");
    tx.query(&sql, &[task.into()])
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Records a decision on an approval still requested; false when it was not.
pub async fn decide(
    tx: &mut Tx<'_>,
    id: ApprovalId,
    state: ApprovalState,
    by: PersonId,
    comment: &str,
    now: Timestamp,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE approval SET state = $2, decided_by_id = $3, comment = $4, decided_at = $5 \
             WHERE id = $1 AND state = 'requested'",
            &[
                id.into(),
                state.code().into(),
                by.into(),
                comment.into(),
                now.into(),
            ],
        )
        .await?;
    Ok(n == 1)
}

/// The approvals of a task still requested are no longer wanted.
pub async fn withdraw(tx: &mut Tx<'_>, task: TaskId, now: Timestamp) -> StoreResult<u64> {
    tx.execute(
        "UPDATE approval SET state = 'not_required', decided_at = $2 WHERE task_id = $1 AND state = 'requested'",
        &[task.into(), now.into()],
    )
    .await
}

/// The approvals waiting on `approvers` (a person and those who delegated to them), oldest
/// first.
pub async fn waiting_on(
    tx: &mut Tx<'_>,
    approvers: &[PersonId],
    limit: i64,
) -> StoreResult<Vec<Approval>> {
    let ids: Vec<String> = approvers.iter().map(|p| p.to_string()).collect();
    let list = serde_json::Value::from(ids);
    let cond = super::in_json(tx.dialect(), "a.approver_id", "$1");
    let sql = format!(
        "{SELECT} WHERE {cond} AND a.state = 'requested' ORDER BY a.asked_at, a.id LIMIT $2"
    );
    tx.query(&sql, &[(&list).into(), limit.into()])
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// The approvals someone decided, newest first.
pub async fn decided_by(
    tx: &mut Tx<'_>,
    person: PersonId,
    limit: i64,
) -> StoreResult<Vec<Approval>> {
    let sql =
        format!("{SELECT} WHERE a.decided_by_id = $1 ORDER BY a.decided_at DESC, a.id LIMIT $2");
    tx.query(&sql, &[person.into(), limit.into()])
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Approvals requested before `asked_before` and not reminded since `reminded_before`:
/// each marked reminded at `now` and returned.
pub async fn due_reminders(
    tx: &mut Tx<'_>,
    asked_before: Timestamp,
    now: Timestamp,
    limit: i64,
) -> StoreResult<Vec<Approval>> {
    let sql = format!(
        "{SELECT} WHERE a.state = 'requested' AND a.asked_at < $1 \
         AND (a.reminded_at IS NULL OR a.reminded_at < $1) ORDER BY a.asked_at, a.id LIMIT $2"
    );
    let due: Vec<Approval> = tx
        .query(&sql, &[asked_before.into(), limit.into()])
        .await?
        .iter()
        .map(from_row)
        .collect::<StoreResult<_>>()?;
    for a in &due {
        tx.execute(
            "UPDATE approval SET reminded_at = $2 WHERE id = $1",
            &[a.id.into(), now.into()],
        )
        .await?;
    }
    Ok(due)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    pub id: DelegationId,
    pub from: PersonRef,
    pub to: PersonRef,
    pub starts: Timestamp,
    pub ends: Timestamp,
}

const DELEGATION: &str = "SELECT d.id, f.id, f.login, f.name, t.id, t.login, t.name, d.starts, d.ends \
    FROM approval_delegation d JOIN person f ON f.id = d.from_id JOIN person t ON t.id = d.to_id";

fn delegation_from_row(row: &Row) -> StoreResult<Delegation> {
    Ok(Delegation {
        id: row.get(0)?,
        from: person_at(row, 1)?.ok_or(StoreError::NotFound)?,
        to: person_at(row, 4)?.ok_or(StoreError::NotFound)?,
        starts: row.get(7)?,
        ends: row.get(8)?,
    })
}

pub async fn add_delegation(
    tx: &mut Tx<'_>,
    from: PersonId,
    to: PersonId,
    starts: Timestamp,
    ends: Timestamp,
    now: Timestamp,
) -> StoreResult<DelegationId> {
    let id = DelegationId::new();
    tx.execute(
        "INSERT INTO approval_delegation (id, from_id, to_id, starts, ends, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            id.into(),
            from.into(),
            to.into(),
            starts.into(),
            ends.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// A person's delegations, given or received, not yet ended at `now`.
pub async fn delegations_of(
    tx: &mut Tx<'_>,
    person: PersonId,
    now: Timestamp,
) -> StoreResult<Vec<Delegation>> {
    let sql = format!(
        "{DELEGATION} WHERE (d.from_id = $1 OR d.to_id = $1) AND d.ends > $2 ORDER BY d.starts, d.id"
    );
    tx.query(&sql, &[person.into(), now.into()])
        .await?
        .iter()
        .map(delegation_from_row)
        .collect()
}

/// Deletes a delegation `person` gave; false when there is none.
pub async fn delete_delegation(
    tx: &mut Tx<'_>,
    id: DelegationId,
    person: PersonId,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "DELETE FROM approval_delegation WHERE id = $1 AND from_id = $2",
            &[id.into(), person.into()],
        )
        .await?;
    Ok(n == 1)
}
