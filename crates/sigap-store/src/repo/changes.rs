//! Change management on the task core: a change's own fields, its change tasks, the CIs it
//! affects and those their impact reaches (kept for the conflict check), standard change
//! templates, the risk questionnaire and approval rules per type, CAB meetings, blackout
//! windows, offerings' maintenance windows, and the links to problems and incidents.

use super::approvals::person_at;
use super::cmdb::CiRef;
use super::groups::PersonRef;
use super::list::Val;
use super::task::{self, ExtCondition, NamedRef, Record, RecordFields};
use super::{id_array, in_json};
use crate::error::{StoreError, StoreResult};
use crate::tx::Tx;
use crate::value::{P, Row};
use jiff::Timestamp;
use sigap_domain::process::change::{
    ChangeApproval, ChangeOutcome, ChangeState, ChangeType, RiskLevel,
};
use sigap_domain::process::request::CatalogTaskState;
use sigap_domain::task::TaskKind;
use sigap_domain::{
    BlackoutId, CabMeetingId, CalendarId, CatalogItemId, ChangeTemplateId, CiId, GroupId,
    OfferingId, PersonId, ServiceId, TaskId,
};

super::code_col!(ChangeType, ChangeApproval, ChangeOutcome, RiskLevel);

task::extension!(
    /// A change's own fields.
    ChangeExt: ChangeState, TaskKind::Change, "change_request" {
        change_type: ChangeType,
        template_id: Option<ChangeTemplateId>,
        reason: String,
        justification: String,
        implementation_plan: String,
        backout_plan: String,
        test_plan: String,
        planned_start: Option<Timestamp>,
        planned_end: Option<Timestamp>,
        actual_start: Option<Timestamp>,
        actual_end: Option<Timestamp>,
        risk: Option<RiskLevel>,
        risk_score: Option<i64>,
        /// The questionnaire's answers (JSON object of question → answer).
        risk_answers: String,
        /// The least risk the impact of its CIs gives.
        impact_risk: Option<RiskLevel>,
        approval: ChangeApproval,
        /// The approval stages asked (JSON).
        approval_rule: String,
        stage: i64,
        conflict_reason: String,
        outcome: Option<ChangeOutcome>,
        review_notes: String,
    }
);

task::extension!(
    /// A change task's own fields: its place in the change's order of work.
    ChangeTaskExt: CatalogTaskState, TaskKind::ChangeTask, "change_task" {
        ord: i64,
    }
);

pub type Change = Record<ChangeExt>;
pub type ChangeFields = RecordFields<ChangeExt>;
pub type ChangeTask = Record<ChangeTaskExt>;
pub type ChangeTaskFields = RecordFields<ChangeTaskExt>;

/// Changes of one type.
pub fn of_type(t: ChangeType) -> ExtCondition {
    ExtCondition::new("x.change_type = {}", Val::Text(t.code().to_owned()))
}

/// Changes of one risk level.
pub fn of_risk(r: RiskLevel) -> ExtCondition {
    ExtCondition::new("x.risk = {}", Val::Text(r.code().to_owned()))
}

/// The change that fixes a problem (a problem has one at most).
pub const PROBLEMS: task::links::Links = task::links::Links {
    table: "change_problem",
    parent: "change_id",
    child: "problem_id",
};

/// The change an incident waits for (its fix).
pub const INCIDENTS: task::links::Links = task::links::Links {
    table: "change_incident",
    parent: "change_id",
    child: "incident_id",
};

/// The change that caused an incident.
pub const CAUSED: task::links::Links = task::links::Links {
    table: "change_caused",
    parent: "change_id",
    child: "incident_id",
};

// ----- the CIs of a change -----

/// One CI of a change: affected by it (direct), or reached by their impact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeCi {
    pub ci: CiRef,
    pub direct: bool,
}

/// Sets the CIs a change affects and those their impact reaches.
pub async fn set_cis(
    tx: &mut Tx<'_>,
    change: TaskId,
    direct: &[CiId],
    reached: &[CiId],
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM change_ci WHERE change_id = $1",
        &[change.into()],
    )
    .await?;
    let mut rows: Vec<(CiId, bool)> = direct.iter().map(|c| (*c, true)).collect();
    for c in reached {
        if !direct.contains(c) {
            rows.push((*c, false));
        }
    }
    rows.sort();
    rows.dedup_by_key(|r| r.0);
    for chunk in rows.chunks(300) {
        let mut sql = String::from("INSERT INTO change_ci (change_id, ci_id, direct) VALUES ");
        let mut params: Vec<P<'_>> = Vec::with_capacity(chunk.len() * 3);
        super::values_rows(&mut sql, &mut params, chunk, 3, ")", |_, (ci, d), out| {
            out.push(change.into());
            out.push((*ci).into());
            out.push((*d).into());
        });
        tx.execute(&sql, &params).await?;
    }
    Ok(())
}

/// The CIs a change affects, by name, and how many more its impact reaches.
pub async fn cis(tx: &mut Tx<'_>, change: TaskId) -> StoreResult<(Vec<CiRef>, i64)> {
    let rows = tx
        .query(
            "SELECT k.id, k.name, c.code FROM change_ci cc JOIN ci k ON k.id = cc.ci_id \
             JOIN ci_class c ON c.id = k.class_id WHERE cc.change_id = $1 AND cc.direct \
             ORDER BY k.name, k.id",
            &[change.into()],
        )
        .await?;
    let direct = rows
        .iter()
        .map(|r| {
            Ok(CiRef {
                id: r.get(0)?,
                name: r.get(1)?,
                class_code: r.get(2)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let reached: i64 = tx
        .query_one(
            "SELECT COUNT(*) FROM change_ci WHERE change_id = $1 AND NOT direct",
            &[change.into()],
        )
        .await?
        .get(0)?;
    Ok((direct, reached))
}

/// Another change in conflict with one: it shares a CI in an overlapping window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub change: NamedRef<TaskId>,
    pub number: String,
    pub state: String,
    pub planned_start: Timestamp,
    pub planned_end: Timestamp,
    pub ci: CiRef,
    /// Both changes affect the CI (else one's impact reaches what the other affects).
    pub same_ci: bool,
}

/// The changes not closed or canceled whose window overlaps `[start, end)` and that affect
/// a CI the change affects or reaches, or reach a CI it affects.
pub async fn clashes(
    tx: &mut Tx<'_>,
    change: TaskId,
    start: Timestamp,
    end: Timestamp,
    limit: i64,
) -> StoreResult<Vec<Clash>> {
    // Two halves, each served by an index: the CIs it affects against every change on them,
    // and the CIs it reaches against the changes affecting them.
    let half = |mine: &str, theirs: &str| {
        format!(
            "SELECT t.id, t.short_description, t.number, t.state, x.planned_start, x.planned_end, \
             k.id, k.name, c.code, o.direct, m.direct \
             FROM change_ci m \
             JOIN change_ci o ON o.ci_id = m.ci_id {theirs} AND o.change_id <> m.change_id \
             JOIN change_request x ON x.task_id = o.change_id \
             JOIN task t ON t.id = o.change_id \
             JOIN ci k ON k.id = o.ci_id JOIN ci_class c ON c.id = k.class_id \
             WHERE m.change_id = $1 AND {mine} AND x.planned_start < $3 AND x.planned_end > $2 \
             AND t.state NOT IN ('closed', 'canceled')"
        )
    };
    let sql = format!(
        "SELECT * FROM ({} UNION ALL {}) u ORDER BY 5, 3, 8 LIMIT $4",
        half("m.direct = TRUE", ""),
        half("m.direct = FALSE", "AND o.direct = TRUE"),
    );
    let rows = tx
        .query(
            &sql,
            &[change.into(), start.into(), end.into(), limit.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let (theirs, mine): (bool, bool) = (r.get(9)?, r.get(10)?);
            Ok(Clash {
                change: NamedRef {
                    id: r.get(0)?,
                    name: r.get(1)?,
                },
                number: r.get(2)?,
                state: r.get(3)?,
                planned_start: r.get(4)?,
                planned_end: r.get(5)?,
                ci: CiRef {
                    id: r.get(6)?,
                    name: r.get(7)?,
                    class_code: r.get(8)?,
                },
                same_ci: theirs && mine,
            })
        })
        .collect()
}

/// Of the changes given, those in conflict with another change not closed or canceled.
pub async fn in_conflict(tx: &mut Tx<'_>, changes: &[TaskId]) -> StoreResult<Vec<TaskId>> {
    let dialect = tx.dialect();
    let half = |mine: &str, theirs: &str| {
        format!(
            "SELECT m.change_id FROM change_ci m \
             JOIN change_ci o ON o.ci_id = m.ci_id {theirs} AND o.change_id <> m.change_id \
             JOIN change_request xm ON xm.task_id = m.change_id \
             JOIN change_request xo ON xo.task_id = o.change_id \
             JOIN task t ON t.id = o.change_id \
             WHERE {} AND {mine} AND xo.planned_start < xm.planned_end \
             AND xo.planned_end > xm.planned_start AND t.state NOT IN ('closed', 'canceled')",
            in_json(dialect, "m.change_id", "$1")
        )
    };
    let sql = format!(
        "{} UNION {}",
        half("m.direct = TRUE", ""),
        half("m.direct = FALSE", "AND o.direct = TRUE")
    );
    let mut out = Vec::new();
    for chunk in changes.chunks(500) {
        let arr = id_array(chunk);
        for r in tx.query(&sql, &[(&arr).into()]).await? {
            out.push(r.get(0)?);
        }
    }
    Ok(out)
}

/// What the calendar shows: changes with a window overlapping `[from, to)`, not canceled,
/// narrowed by service, CI (affected), group and risk.
#[derive(Debug, Clone, Default)]
pub struct CalendarFilter {
    pub service: Option<ServiceId>,
    pub ci: Option<CiId>,
    pub group: Option<GroupId>,
    pub risk: Option<RiskLevel>,
    /// Only scheduled, implementing or under review (the iCalendar feed).
    pub scheduled_only: bool,
}

pub async fn calendar(
    tx: &mut Tx<'_>,
    from: Timestamp,
    to: Timestamp,
    f: &CalendarFilter,
    limit: i64,
) -> StoreResult<Vec<Change>> {
    let mut sql = format!(
        "{} WHERE x.planned_start < $2 AND x.planned_end > $1 AND t.state <> 'canceled'",
        task::select::<ChangeExt>()
    );
    let mut params: Vec<P<'_>> = vec![from.into(), to.into()];
    if f.scheduled_only {
        sql.push_str(" AND t.state IN ('scheduled', 'implement', 'review')");
    }
    if let Some(s) = f.service {
        params.push(s.into());
        sql.push_str(&format!(" AND t.service_id = ${}", params.len()));
    }
    if let Some(g) = f.group {
        params.push(g.into());
        sql.push_str(&format!(" AND t.assignment_group_id = ${}", params.len()));
    }
    if let Some(r) = f.risk {
        params.push(P::Text(r.code()));
        sql.push_str(&format!(" AND x.risk = ${}", params.len()));
    }
    if let Some(c) = f.ci {
        params.push(c.into());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM change_ci f WHERE f.change_id = t.id AND f.ci_id = ${} AND f.direct)",
            params.len()
        ));
    }
    params.push(limit.into());
    sql.push_str(&format!(
        " ORDER BY x.planned_start, t.number LIMIT ${}",
        params.len()
    ));
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(task::from_row::<ChangeExt>)
        .collect()
}

/// The changes in authorize whose planned start falls in `[from, to)`: a CAB agenda.
pub async fn awaiting_cab(
    tx: &mut Tx<'_>,
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<Change>> {
    let sql = format!(
        "{} WHERE t.state = 'authorize' AND x.planned_start >= $1 AND x.planned_start < $2 \
         ORDER BY x.planned_start, t.number LIMIT 500",
        task::select::<ChangeExt>()
    );
    tx.query(&sql, &[from.into(), to.into()])
        .await?
        .iter()
        .map(task::from_row::<ChangeExt>)
        .collect()
}

/// The incidents opened on a change's CIs in `[from, to)`: those its implementation may
/// have caused.
pub async fn incidents_during<E: task::Extension>(
    tx: &mut Tx<'_>,
    change: TaskId,
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<Record<E>>> {
    let sql = format!(
        "{} WHERE t.kind = 'incident' AND t.opened_at >= $2 AND t.opened_at < $3 AND t.ci_id IN \
         (SELECT cc.ci_id FROM change_ci cc WHERE cc.change_id = $1 AND cc.direct) \
         ORDER BY t.opened_at, t.number LIMIT 200",
        task::select::<E>()
    );
    tx.query(&sql, &[change.into(), from.into(), to.into()])
        .await?
        .iter()
        .map(task::from_row::<E>)
        .collect()
}

// ----- templates -----

/// A standard change template: the fields and tasks of a repeatable change, usable once
/// approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub id: ChangeTemplateId,
    pub name: String,
    /// draft, proposed, approved, rejected or retired.
    pub state: String,
    /// The prefilled fields (JSON).
    pub fields: String,
    /// The tasks (a plan, JSON).
    pub tasks: String,
    pub proposed_by: Option<PersonRef>,
    pub decided_by: Option<PersonRef>,
    pub decided_at: Option<Timestamp>,
    pub decision_note: String,
    pub item: Option<NamedRef<CatalogItemId>>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// What a template's author writes.
#[derive(Debug, Clone)]
pub struct TemplateFields {
    pub name: String,
    pub fields: String,
    pub tasks: String,
    pub item_id: Option<CatalogItemId>,
}

const TEMPLATE: &str = "SELECT t.id, t.name, t.state, t.fields, t.tasks, p.id, p.login, p.name, \
    d.id, d.login, d.name, t.decided_at, t.decision_note, i.id, i.name, t.created_at, t.updated_at, t.version \
    FROM change_template t LEFT JOIN person p ON p.id = t.proposed_by \
    LEFT JOIN person d ON d.id = t.decided_by LEFT JOIN catalog_item i ON i.id = t.item_id";

fn template_row(row: &Row) -> StoreResult<Template> {
    Ok(Template {
        id: row.get(0)?,
        name: row.get(1)?,
        state: row.get(2)?,
        fields: row.get(3)?,
        tasks: row.get(4)?,
        proposed_by: person_at(row, 5)?,
        decided_by: person_at(row, 8)?,
        decided_at: row.get(11)?,
        decision_note: row.get(12)?,
        item: task::named(row, 13)?,
        created_at: row.get(15)?,
        updated_at: row.get(16)?,
        version: row.get(17)?,
    })
}

pub async fn insert_template(
    tx: &mut Tx<'_>,
    f: &TemplateFields,
    by: Option<PersonId>,
    now: Timestamp,
) -> StoreResult<ChangeTemplateId> {
    let id = ChangeTemplateId::new();
    let key = super::name_key(&f.name);
    tx.execute(
        "INSERT INTO change_template (id, name, name_key, state, fields, tasks, item_id, proposed_by, \
         created_at, updated_at) VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $8)",
        &[
            id.into(),
            f.name.as_str().into(),
            key.as_str().into(),
            f.fields.as_str().into(),
            f.tasks.as_str().into(),
            f.item_id.into(),
            by.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// Rewrites a template's content; it goes back to draft to be approved again.
pub async fn update_template(
    tx: &mut Tx<'_>,
    id: ChangeTemplateId,
    version: i64,
    f: &TemplateFields,
    now: Timestamp,
) -> StoreResult<()> {
    let key = super::name_key(&f.name);
    let n = tx
        .execute(
            "UPDATE change_template SET name = $1, name_key = $2, fields = $3, tasks = $4, item_id = $5, \
             state = 'draft', decided_by = NULL, decided_at = NULL, decision_note = '', updated_at = $6, \
             version = version + 1 WHERE id = $7 AND version = $8",
            &[
                f.name.as_str().into(),
                key.as_str().into(),
                f.fields.as_str().into(),
                f.tasks.as_str().into(),
                f.item_id.into(),
                now.into(),
                id.into(),
                version.into(),
            ],
        )
        .await?;
    super::versioned(n, template(tx, id)).await
}

/// Moves a template to `state`, recording who decided (for approved and rejected).
pub async fn set_template_state(
    tx: &mut Tx<'_>,
    id: ChangeTemplateId,
    state: &str,
    by: Option<PersonId>,
    note: &str,
    now: Timestamp,
) -> StoreResult<()> {
    let decided = matches!(state, "approved" | "rejected");
    let n = tx
        .execute(
            "UPDATE change_template SET state = $1, \
             proposed_by = CASE WHEN $1 = 'proposed' THEN $2 ELSE proposed_by END, \
             decided_by = CASE WHEN $3 THEN $2 ELSE decided_by END, \
             decided_at = CASE WHEN $3 THEN $4 ELSE decided_at END, \
             decision_note = CASE WHEN $3 THEN $5 ELSE decision_note END, \
             updated_at = $4, version = version + 1 WHERE id = $6",
            &[
                state.into(),
                by.into(),
                decided.into(),
                now.into(),
                note.into(),
                id.into(),
            ],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn template(tx: &mut Tx<'_>, id: ChangeTemplateId) -> StoreResult<Template> {
    let sql = format!("{TEMPLATE} WHERE t.id = $1");
    template_row(&tx.query_one(&sql, &[id.into()]).await?)
}

pub async fn template_by_name(tx: &mut Tx<'_>, name: &str) -> StoreResult<Template> {
    let sql = format!("{TEMPLATE} WHERE t.name_key = $1");
    let key = super::name_key(name);
    template_row(&tx.query_one(&sql, &[key.as_str().into()]).await?)
}

/// The approved template a catalogue item orders, if any.
pub async fn template_of_item(
    tx: &mut Tx<'_>,
    item: CatalogItemId,
) -> StoreResult<Option<Template>> {
    let sql = format!("{TEMPLATE} WHERE t.item_id = $1 AND t.state = 'approved'");
    tx.query_opt(&sql, &[item.into()])
        .await?
        .as_ref()
        .map(template_row)
        .transpose()
}

pub async fn templates(tx: &mut Tx<'_>) -> StoreResult<Vec<Template>> {
    let sql = format!("{TEMPLATE} ORDER BY t.name_key LIMIT 1000");
    tx.query(&sql, &[])
        .await?
        .iter()
        .map(template_row)
        .collect()
}

// ----- risk questionnaires and approval rules -----

/// A change type's questionnaire and rules as stored (JSON), if an administrator set them.
pub async fn model(tx: &mut Tx<'_>, t: ChangeType) -> StoreResult<Option<(String, String)>> {
    match tx
        .query_opt(
            "SELECT questionnaire, rules FROM change_model WHERE change_type = $1",
            &[P::Text(t.code())],
        )
        .await?
    {
        Some(r) => Ok(Some((r.get(0)?, r.get(1)?))),
        None => Ok(None),
    }
}

pub async fn set_model(
    tx: &mut Tx<'_>,
    t: ChangeType,
    questionnaire: &str,
    rules: &str,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO change_model (change_type, questionnaire, rules, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (change_type) DO UPDATE SET questionnaire = excluded.questionnaire, \
         rules = excluded.rules, updated_at = excluded.updated_at",
        &[P::Text(t.code()), questionnaire.into(), rules.into(), now.into()],
    )
    .await?;
    Ok(())
}

// ----- CAB meetings -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub id: CabMeetingId,
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub agenda_from: Timestamp,
    pub agenda_to: Timestamp,
    pub notes: String,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct MeetingFields {
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub agenda_from: Timestamp,
    pub agenda_to: Timestamp,
    pub notes: String,
}

/// The CAB's decision on one change at a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub meeting: CabMeetingId,
    pub change: NamedRef<TaskId>,
    pub number: String,
    /// approved, rejected or deferred.
    pub decision: String,
    pub comment: String,
    pub recorded_by: Option<PersonRef>,
    pub recorded_at: Timestamp,
}

const MEETING: &str =
    "SELECT id, title, starts_at, ends_at, agenda_from, agenda_to, notes, version FROM cab_meeting";

fn meeting_row(r: &Row) -> StoreResult<Meeting> {
    Ok(Meeting {
        id: r.get(0)?,
        title: r.get(1)?,
        starts_at: r.get(2)?,
        ends_at: r.get(3)?,
        agenda_from: r.get(4)?,
        agenda_to: r.get(5)?,
        notes: r.get(6)?,
        version: r.get(7)?,
    })
}

pub async fn insert_meeting(
    tx: &mut Tx<'_>,
    f: &MeetingFields,
    now: Timestamp,
) -> StoreResult<CabMeetingId> {
    let id = CabMeetingId::new();
    tx.execute(
        "INSERT INTO cab_meeting (id, title, starts_at, ends_at, agenda_from, agenda_to, notes, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        &[
            id.into(),
            f.title.as_str().into(),
            f.starts_at.into(),
            f.ends_at.into(),
            f.agenda_from.into(),
            f.agenda_to.into(),
            f.notes.as_str().into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

pub async fn update_meeting(
    tx: &mut Tx<'_>,
    id: CabMeetingId,
    version: i64,
    f: &MeetingFields,
    now: Timestamp,
) -> StoreResult<()> {
    let n = tx
        .execute(
            "UPDATE cab_meeting SET title = $1, starts_at = $2, ends_at = $3, agenda_from = $4, agenda_to = $5, \
             notes = $6, updated_at = $7, version = version + 1 WHERE id = $8 AND version = $9",
            &[
                f.title.as_str().into(),
                f.starts_at.into(),
                f.ends_at.into(),
                f.agenda_from.into(),
                f.agenda_to.into(),
                f.notes.as_str().into(),
                now.into(),
                id.into(),
                version.into(),
            ],
        )
        .await?;
    super::versioned(n, meeting(tx, id)).await
}

pub async fn meeting(tx: &mut Tx<'_>, id: CabMeetingId) -> StoreResult<Meeting> {
    let sql = format!("{MEETING} WHERE id = $1");
    meeting_row(&tx.query_one(&sql, &[id.into()]).await?)
}

/// Meetings starting in `[from, to)`, soonest first.
pub async fn meetings(
    tx: &mut Tx<'_>,
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<Meeting>> {
    let sql = format!(
        "{MEETING} WHERE starts_at >= $1 AND starts_at < $2 ORDER BY starts_at, id LIMIT 500"
    );
    tx.query(&sql, &[from.into(), to.into()])
        .await?
        .iter()
        .map(meeting_row)
        .collect()
}

pub async fn set_attendees(
    tx: &mut Tx<'_>,
    id: CabMeetingId,
    people: &[PersonId],
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM cab_attendee WHERE meeting_id = $1",
        &[id.into()],
    )
    .await?;
    for p in people {
        tx.execute(
            "INSERT INTO cab_attendee (meeting_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[id.into(), (*p).into()],
        )
        .await?;
    }
    Ok(())
}

pub async fn attendees(tx: &mut Tx<'_>, id: CabMeetingId) -> StoreResult<Vec<PersonRef>> {
    let rows = tx
        .query(
            "SELECT p.id, p.login, p.name FROM cab_attendee a JOIN person p ON p.id = a.person_id \
             WHERE a.meeting_id = $1 ORDER BY p.name, p.id",
            &[id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| person_at(r, 0)?.ok_or(StoreError::NotFound))
        .collect()
}

pub async fn record_decision(
    tx: &mut Tx<'_>,
    meeting: CabMeetingId,
    change: TaskId,
    decision: &str,
    comment: &str,
    by: Option<PersonId>,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO cab_decision (meeting_id, change_id, decision, comment, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (meeting_id, change_id) DO UPDATE SET \
         decision = excluded.decision, comment = excluded.comment, recorded_by = excluded.recorded_by, \
         recorded_at = excluded.recorded_at",
        &[
            meeting.into(),
            change.into(),
            decision.into(),
            comment.into(),
            by.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

const DECISION: &str = "SELECT d.meeting_id, t.id, t.short_description, t.number, d.decision, d.comment, \
    p.id, p.login, p.name, d.recorded_at FROM cab_decision d JOIN task t ON t.id = d.change_id \
    LEFT JOIN person p ON p.id = d.recorded_by";

fn decision_row(r: &Row) -> StoreResult<Decision> {
    Ok(Decision {
        meeting: r.get(0)?,
        change: NamedRef {
            id: r.get(1)?,
            name: r.get(2)?,
        },
        number: r.get(3)?,
        decision: r.get(4)?,
        comment: r.get(5)?,
        recorded_by: person_at(r, 6)?,
        recorded_at: r.get(9)?,
    })
}

/// The decisions of a meeting.
pub async fn decisions(tx: &mut Tx<'_>, meeting: CabMeetingId) -> StoreResult<Vec<Decision>> {
    let sql = format!("{DECISION} WHERE d.meeting_id = $1 ORDER BY t.number");
    tx.query(&sql, &[meeting.into()])
        .await?
        .iter()
        .map(decision_row)
        .collect()
}

/// The CAB's decisions on a change, with the meetings' titles and dates.
pub async fn decisions_on(
    tx: &mut Tx<'_>,
    change: TaskId,
) -> StoreResult<Vec<(Decision, String, Timestamp)>> {
    let sql = "SELECT d.meeting_id, t.id, t.short_description, t.number, d.decision, d.comment, \
         p.id, p.login, p.name, d.recorded_at, m.title, m.starts_at FROM cab_decision d \
         JOIN task t ON t.id = d.change_id LEFT JOIN person p ON p.id = d.recorded_by \
         JOIN cab_meeting m ON m.id = d.meeting_id WHERE d.change_id = $1 ORDER BY m.starts_at";
    tx.query(sql, &[change.into()])
        .await?
        .iter()
        .map(|r| Ok((decision_row(r)?, r.get(10)?, r.get(11)?)))
        .collect()
}

// ----- blackout and maintenance windows -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blackout {
    pub id: BlackoutId,
    pub name: String,
    pub service: Option<NamedRef<ServiceId>>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reason: String,
}

const BLACKOUT: &str = "SELECT b.id, b.name, s.id, s.name, b.starts_at, b.ends_at, b.reason \
    FROM change_blackout b LEFT JOIN service s ON s.id = b.service_id";

fn blackout_row(r: &Row) -> StoreResult<Blackout> {
    Ok(Blackout {
        id: r.get(0)?,
        name: r.get(1)?,
        service: task::named(r, 2)?,
        starts_at: r.get(4)?,
        ends_at: r.get(5)?,
        reason: r.get(6)?,
    })
}

pub async fn insert_blackout(
    tx: &mut Tx<'_>,
    name: &str,
    service: Option<ServiceId>,
    window: (Timestamp, Timestamp),
    reason: &str,
    now: Timestamp,
) -> StoreResult<BlackoutId> {
    let id = BlackoutId::new();
    tx.execute(
        "INSERT INTO change_blackout (id, name, service_id, starts_at, ends_at, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            id.into(),
            name.into(),
            service.into(),
            window.0.into(),
            window.1.into(),
            reason.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

pub async fn delete_blackout(tx: &mut Tx<'_>, id: BlackoutId) -> StoreResult<bool> {
    Ok(tx
        .execute("DELETE FROM change_blackout WHERE id = $1", &[id.into()])
        .await?
        > 0)
}

pub async fn blackout(tx: &mut Tx<'_>, id: BlackoutId) -> StoreResult<Blackout> {
    let sql = format!("{BLACKOUT} WHERE b.id = $1");
    blackout_row(&tx.query_one(&sql, &[id.into()]).await?)
}

/// The blackout windows overlapping `[from, to)`: global ones and, when `services` is
/// given, those of these services (else of every service).
pub async fn blackouts(
    tx: &mut Tx<'_>,
    from: Timestamp,
    to: Timestamp,
    services: Option<&[ServiceId]>,
) -> StoreResult<Vec<Blackout>> {
    let dialect = tx.dialect();
    let arr = id_array(services.unwrap_or_default());
    let mut params: Vec<P<'_>> = vec![from.into(), to.into()];
    let scope = match services {
        Some(_) => {
            params.push((&arr).into());
            format!(
                " AND (b.service_id IS NULL OR {})",
                in_json(dialect, "b.service_id", "$3")
            )
        }
        None => String::new(),
    };
    let sql = format!(
        "{BLACKOUT} WHERE b.starts_at < $2 AND b.ends_at > $1{scope} ORDER BY b.starts_at, b.id LIMIT 500"
    );
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(blackout_row)
        .collect()
}

/// An offering's maintenance window: the business hours of a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub offering: NamedRef<OfferingId>,
    pub service: NamedRef<ServiceId>,
    pub calendar: NamedRef<CalendarId>,
}

const MAINTENANCE: &str = "SELECT o.id, o.name, s.id, s.name, c.id, c.name FROM maintenance_window m \
    JOIN service_offering o ON o.id = m.offering_id JOIN service s ON s.id = o.service_id \
    JOIN calendar c ON c.id = m.calendar_id";

fn maintenance_row(r: &Row) -> StoreResult<Maintenance> {
    Ok(Maintenance {
        offering: NamedRef {
            id: r.get(0)?,
            name: r.get(1)?,
        },
        service: NamedRef {
            id: r.get(2)?,
            name: r.get(3)?,
        },
        calendar: NamedRef {
            id: r.get(4)?,
            name: r.get(5)?,
        },
    })
}

pub async fn set_maintenance(
    tx: &mut Tx<'_>,
    offering: OfferingId,
    calendar: Option<CalendarId>,
    now: Timestamp,
) -> StoreResult<()> {
    match calendar {
        Some(c) => {
            tx.execute(
                "INSERT INTO maintenance_window (offering_id, calendar_id, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (offering_id) DO UPDATE SET calendar_id = excluded.calendar_id, \
                 updated_at = excluded.updated_at",
                &[offering.into(), c.into(), now.into()],
            )
            .await?;
        }
        None => {
            tx.execute(
                "DELETE FROM maintenance_window WHERE offering_id = $1",
                &[offering.into()],
            )
            .await?;
        }
    }
    Ok(())
}

pub async fn maintenance_of(
    tx: &mut Tx<'_>,
    offering: OfferingId,
) -> StoreResult<Option<Maintenance>> {
    let sql = format!("{MAINTENANCE} WHERE m.offering_id = $1");
    tx.query_opt(&sql, &[offering.into()])
        .await?
        .as_ref()
        .map(maintenance_row)
        .transpose()
}

pub async fn maintenance_windows(tx: &mut Tx<'_>) -> StoreResult<Vec<Maintenance>> {
    let sql = format!("{MAINTENANCE} ORDER BY s.name, o.name LIMIT 1000");
    tx.query(&sql, &[])
        .await?
        .iter()
        .map(maintenance_row)
        .collect()
}

/// The services of some offerings (for blackouts on a change's offering).
pub async fn service_of_offering(
    tx: &mut Tx<'_>,
    offering: OfferingId,
) -> StoreResult<Option<ServiceId>> {
    match tx
        .query_opt(
            "SELECT service_id FROM service_offering WHERE id = $1",
            &[offering.into()],
        )
        .await?
    {
        Some(r) => Ok(Some(r.get(0)?)),
        None => Ok(None),
    }
}

/// The CIs of a change: those it affects, or (`direct_only` false) those its impact reaches
/// too.
pub async fn ci_ids(tx: &mut Tx<'_>, change: TaskId, direct_only: bool) -> StoreResult<Vec<CiId>> {
    let sql = if direct_only {
        "SELECT ci_id FROM change_ci WHERE change_id = $1 AND direct ORDER BY ci_id"
    } else {
        "SELECT ci_id FROM change_ci WHERE change_id = $1 ORDER BY ci_id"
    };
    tx.query(sql, &[change.into()])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The criticality (1 to 4) of some services.
pub async fn criticalities(
    tx: &mut Tx<'_>,
    ids: &[ServiceId],
) -> StoreResult<Vec<(ServiceId, u8)>> {
    let dialect = tx.dialect();
    let sql = format!(
        "SELECT id, criticality FROM service WHERE {}",
        in_json(dialect, "id", "$1")
    );
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let arr = id_array(chunk);
        for r in tx.query(&sql, &[(&arr).into()]).await? {
            let c: i64 = r.get(1)?;
            out.push((r.get(0)?, u8::try_from(c.clamp(1, 4)).unwrap_or(4)));
        }
    }
    Ok(out)
}
