//! Planning a change: the CIs it affects and what their impact reaches (services,
//! offerings, customers), its risk, and its window's conflicts (other changes on those CIs,
//! blackout windows, its offering's maintenance window); the change calendar and its
//! iCalendar feed.

use super::{ChangeInput, MAX_CIS};
use crate::Core;
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use jiff::Timestamp;
use sigap_domain::process::change::{ChangeType, ConflictKind, RiskLevel, overlaps};
use sigap_domain::task::StateModel;
use sigap_domain::{BlackoutId, CiId, OfferingId, Role, ServiceId, TaskId};
use sigap_store::Tx;
use sigap_store::changes::{self as repo, Change, ChangeFields};
use sigap_store::cmdb::CiRef;

/// The most CIs a change's reach keeps for the conflict check, nearest first: on a dense
/// CMDB the transitive reach of a hub is most of it, and a conflict with everything tells
/// nothing.
pub const REACH_LIMIT: usize = 1_000;

/// What a change's CIs reach when they fail (or stop for the change).
#[derive(Debug, Clone, Default)]
pub struct ChangeImpact {
    /// The CIs reached, the affected ones aside, nearest first (at most `REACH_LIMIT`).
    pub reached: Vec<CiId>,
    /// How many the impact analysis reached in all.
    pub reached_count: usize,
    /// The services reached, with their criticality (1 the most critical).
    pub services: Vec<(ServiceId, String, u8)>,
    pub offerings: Vec<(OfferingId, String)>,
    /// The customers with agreements on those services.
    pub customers: Vec<String>,
    pub risk_floor: RiskLevel,
    pub truncated: bool,
}

/// The CIs a change affects: those named (or, when not named, those it had) and its
/// configuration item.
pub(crate) async fn direct_cis(
    tx: &mut Tx<'_>,
    input: &ChangeInput,
    f: &ChangeFields,
    before: Option<&Change>,
) -> AppResult<Vec<CiId>> {
    let mut out: Vec<CiId> = match (&input.cis, before) {
        (Some(keys), _) => {
            if keys.len() > MAX_CIS {
                let message = format!("at most {MAX_CIS} CIs");
                return Err(AppError::field("cis", "too_many", message));
            }
            let mut ids = Vec::new();
            let mut errs = Vec::new();
            for (i, key) in keys.iter().enumerate() {
                match crate::task::resolve_ci(tx, key).await {
                    Ok(id) => ids.push(id),
                    Err(AppError::Validation(_)) | Err(AppError::NotFound) => {
                        errs.push(FieldError::new(
                            format!("cis.{i}"),
                            "not_found",
                            "no such CI",
                        ));
                    }
                    Err(e) => return Err(e),
                }
            }
            if !errs.is_empty() {
                return Err(AppError::Validation(errs));
            }
            ids
        }
        (None, Some(b)) => repo::ci_ids(tx, b.id, true).await?,
        (None, None) => Vec::new(),
    };
    if let Some(ci) = f.ci_id {
        out.push(ci);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The impact of a change's CIs, and of its own service.
pub(crate) async fn impact_of(
    tx: &mut Tx<'_>,
    direct: &[CiId],
    service: Option<ServiceId>,
) -> AppResult<ChangeImpact> {
    let mut out = ChangeImpact::default();
    let mut services: Vec<(ServiceId, String)> = Vec::new();
    if let Some(first) = direct.first() {
        let anchor = sigap_store::cmdb::get_ci(tx, *first).await?.as_ref();
        let i = crate::cmdb::impact_from(tx, direct, anchor, crate::cmdb::WALK_LIMIT).await?;
        out.reached_count = i.cis.len();
        out.reached = i.cis.iter().map(|r| r.ci.id).take(REACH_LIMIT).collect();
        services = i.services.iter().map(|s| (s.id, s.name.clone())).collect();
        out.offerings = i.offerings.iter().map(|o| (o.id, o.name.clone())).collect();
        out.customers = i.customers.iter().map(|c| c.name.clone()).collect();
        out.truncated = i.truncated;
    }
    if let Some(s) = service {
        if !services.iter().any(|(id, _)| *id == s) {
            let svc = sigap_store::portfolio::get(tx, s).await?;
            services.push((s, svc.name));
        }
    }
    let ids: Vec<ServiceId> = services.iter().map(|(id, _)| *id).collect();
    let crit = repo::criticalities(tx, &ids).await?;
    out.services = services
        .into_iter()
        .map(|(id, name)| {
            let c = crit.iter().find(|(s, _)| *s == id).map_or(4, |(_, c)| *c);
            (id, name, c)
        })
        .collect();
    out.services.sort_by(|a, b| (a.2, &a.1).cmp(&(b.2, &b.1)));
    let most = out.services.iter().map(|s| s.2).min();
    out.risk_floor = RiskLevel::from_impact(most, out.customers.len());
    Ok(out)
}

/// Keeps what a change affects and reaches, for the conflict check.
pub(crate) async fn set_reach(
    tx: &mut Tx<'_>,
    change: TaskId,
    direct: &[CiId],
    reached: &[CiId],
) -> AppResult<()> {
    Ok(repo::set_cis(tx, change, direct, reached).await?)
}

/// The risk: the questionnaire's level (from the answers given now or before) raised to the
/// least the impact gives. A standard change keeps its template's level, raised alike. A
/// change whose questions are not answered has no level yet.
pub(crate) async fn assess(
    tx: &mut Tx<'_>,
    input: &ChangeInput,
    f: &mut ChangeFields,
) -> AppResult<()> {
    let floor = f.ext.impact_risk.unwrap_or(RiskLevel::Low);
    let model = super::admin::model_in(tx, f.ext.change_type).await?;
    if let Some(answers) = &input.risk_answers {
        let (score, _) = model.questionnaire.assess(answers).map_err(|errs| {
            AppError::Validation(
                errs.into_iter()
                    .map(|(field, e)| FieldError::from_invalid(field, e))
                    .collect(),
            )
        })?;
        f.ext.risk_answers = serde_json::to_string(answers)
            .map_err(|e| AppError::Internal(format!("risk answers: {e}")))?;
        f.ext.risk_score = Some(i64::from(score));
    }
    f.ext.risk = match (f.ext.risk_score, f.ext.change_type) {
        (Some(score), _) => {
            let score = u32::try_from(score).unwrap_or(u32::MAX);
            Some(model.questionnaire.level(score).max(floor))
        }
        (None, ChangeType::Standard) => Some(f.ext.risk.unwrap_or(RiskLevel::Low).max(floor)),
        (None, _) => None,
    };
    Ok(())
}

/// What a change needs before it is put to its approvers: a window, its plans and its risk.
pub(crate) fn ready_for_approval(f: &ChangeFields) -> AppResult<()> {
    let mut errs = Vec::new();
    let x = &f.ext;
    if x.planned_start.is_none() {
        errs.push(FieldError::new(
            "planned_start",
            "required",
            "plan its window first",
        ));
    }
    let mut plans = vec![
        ("implementation_plan", &x.implementation_plan),
        ("backout_plan", &x.backout_plan),
    ];
    if x.change_type == ChangeType::Normal {
        plans.push(("test_plan", &x.test_plan));
    }
    for (field, text) in plans {
        if text.trim().is_empty() {
            errs.push(FieldError::new(
                field,
                "required",
                "write it before asking for approval",
            ));
        }
    }
    if x.risk.is_none() {
        errs.push(FieldError::new(
            "risk_answers",
            "required",
            "answer the risk questions first",
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errs))
    }
}

/// One conflict of a change's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub kind: ConflictKind,
    /// The other change (number, short description), for a conflict with one.
    pub change: Option<(TaskId, String, String)>,
    pub ci: Option<CiRef>,
    pub blackout: Option<(BlackoutId, String)>,
    /// The other change's or the blackout's window.
    pub window: Option<(Timestamp, Timestamp)>,
}

impl Conflict {
    /// A line naming it, for the journal and errors.
    pub fn summary(&self) -> String {
        let ci = self
            .ci
            .as_ref()
            .map(|c| c.name.as_str())
            .unwrap_or_default();
        match (&self.kind, &self.change, &self.blackout) {
            (ConflictKind::SameCi, Some(c), _) => format!("{} also changes {ci}", c.1),
            (ConflictKind::Impact, Some(c), _) => {
                format!("{} changes {ci}, which one reaches", c.1)
            }
            (ConflictKind::Blackout, _, Some(b)) => format!("inside the blackout window {}", b.1),
            (ConflictKind::Maintenance, _, _) => "outside its offering's maintenance window".into(),
            _ => self.kind.code().to_owned(),
        }
    }
}

/// The conflicts of a change's window (none without one).
pub(crate) async fn conflicts_in(
    tx: &mut Tx<'_>,
    change: TaskId,
    f: &ChangeFields,
) -> AppResult<Vec<Conflict>> {
    let (Some(start), Some(end)) = (f.ext.planned_start, f.ext.planned_end) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Conflict> = Vec::new();
    for c in repo::clashes(tx, change, start, end, 100).await? {
        let kind = if c.same_ci {
            ConflictKind::SameCi
        } else {
            ConflictKind::Impact
        };
        let exists = out
            .iter()
            .any(|o| o.kind == kind && o.change.as_ref().map(|x| x.0) == Some(c.change.id));
        if !exists {
            out.push(Conflict {
                kind,
                change: Some((c.change.id, c.number, c.change.name)),
                ci: Some(c.ci),
                blackout: None,
                window: Some((c.planned_start, c.planned_end)),
            });
        }
    }
    let direct = repo::ci_ids(tx, change, true).await?;
    let mut services: Vec<ServiceId> = sigap_store::cmdb::services_of_cis(tx, &direct)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    services.extend(f.service_id);
    if let Some(o) = f.offering_id {
        services.extend(repo::service_of_offering(tx, o).await?);
    }
    services.sort();
    services.dedup();
    for b in repo::blackouts(tx, start, end, Some(&services)).await? {
        out.push(Conflict {
            kind: ConflictKind::Blackout,
            change: None,
            ci: None,
            blackout: Some((b.id, b.name)),
            window: Some((b.starts_at, b.ends_at)),
        });
    }
    if let Some(o) = f.offering_id {
        if let Some(m) = repo::maintenance_of(tx, o).await? {
            let cal = crate::sla::business_calendar(tx, Some(m.calendar.id), None).await?;
            let inside = cal.business_between(start, end);
            if inside < end.duration_since(start) {
                out.push(Conflict {
                    kind: ConflictKind::Maintenance,
                    change: None,
                    ci: None,
                    blackout: None,
                    window: None,
                });
            }
        }
    }
    Ok(out)
}

/// Checks a change being scheduled: a window, its reach afresh from the CMDB, and its
/// conflicts, which need a reason.
pub(crate) async fn check_schedule(
    tx: &mut Tx<'_>,
    change: TaskId,
    f: &ChangeFields,
    reason: &str,
) -> AppResult<Vec<Conflict>> {
    if f.ext.planned_start.is_none() || f.ext.planned_end.is_none() {
        return Err(AppError::Validation(vec![
            FieldError::new(
                "planned_start",
                "required",
                "a change is scheduled in a window",
            ),
            FieldError::new(
                "planned_end",
                "required",
                "a change is scheduled in a window",
            ),
        ]));
    }
    let direct = repo::ci_ids(tx, change, true).await?;
    let reached = crate::cmdb::reach_in(tx, &direct, REACH_LIMIT).await?;
    // Rewritten only when the CMDB moved since it was kept.
    let mut all: Vec<CiId> = direct.iter().chain(&reached).copied().collect();
    all.sort();
    all.dedup();
    if all != repo::ci_ids(tx, change, false).await? {
        repo::set_cis(tx, change, &direct, &reached).await?;
    }
    let conflicts = conflicts_in(tx, change, f).await?;
    if !conflicts.is_empty() && reason.trim().is_empty() {
        let lines: Vec<String> = conflicts.iter().map(Conflict::summary).collect();
        return Err(AppError::Conflict {
            code: "schedule_conflict",
            message: format!(
                "the window is in conflict: {}; give a conflict_reason to schedule it anyway",
                lines.join("; ")
            ),
            field: Some("conflict_reason".into()),
        });
    }
    Ok(conflicts)
}

/// The conflicts of a change now, for its page.
pub async fn conflicts(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Vec<Conflict>> {
    let c: Change = crate::task::get(core, ctx, key).await?;
    if c.state.is_final() {
        return Ok(Vec::new());
    }
    core.store
        .read(async move |tx| conflicts_in(tx, c.id, &c.fields()).await)
        .await
}

/// The impact of a change's CIs, for its page.
pub async fn impact(core: &Core, ctx: &Ctx, key: &str) -> AppResult<ChangeImpact> {
    let c: Change = crate::task::get(core, ctx, key).await?;
    let service = c.service.as_ref().map(|s| s.id);
    core.store
        .read(async move |tx| {
            let direct = repo::ci_ids(tx, c.id, true).await?;
            impact_of(tx, &direct, service).await
        })
        .await
}

// ----- the calendar -----

pub use sigap_store::changes::{Blackout, CalendarFilter};

/// The calendar's filters from their keys: a service, CI or group by id or name, a risk
/// level by code.
pub async fn calendar_filter(
    core: &Core,
    ctx: &Ctx,
    service: Option<&str>,
    ci: Option<&str>,
    group: Option<&str>,
    risk: Option<&str>,
) -> AppResult<CalendarFilter> {
    ctx.principal.require(Role::Agent)?;
    let key = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (service, ci, group) = (key(service), key(ci), key(group));
    let risk = match key(risk) {
        Some(r) => {
            Some(RiskLevel::parse(&r).map_err(|e| AppError::field("risk", e.code, e.message))?)
        }
        None => None,
    };
    core.store
        .read(async move |tx| {
            let service = match &service {
                Some(k) => Some(
                    crate::refs::services(tx, "service", std::slice::from_ref(k))
                        .await?
                        .into_iter()
                        .next()
                        .ok_or_else(|| {
                            AppError::field("service", "not_found", "no such service")
                        })?,
                ),
                None => None,
            };
            let ci = match &ci {
                Some(k) => Some(crate::task::resolve_ci(tx, k).await.map_err(|_| {
                    AppError::field("configuration_item", "not_found", "no such CI")
                })?),
                None => None,
            };
            let group =
                crate::refs::group(tx, "assignment_group", &group.clone().map(Some), None).await?;
            Ok::<_, AppError>(CalendarFilter {
                service,
                ci,
                group,
                risk,
                scheduled_only: false,
            })
        })
        .await
}

/// A change on the calendar, and whether it is in conflict.
#[derive(Debug, Clone)]
pub struct CalendarEntry {
    pub change: Change,
    pub in_conflict: bool,
}

/// What the calendar shows in a period: the changes with a window in it and the blackout
/// windows.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub entries: Vec<CalendarEntry>,
    pub blackouts: Vec<Blackout>,
    pub truncated: bool,
}

/// The most changes one view of the calendar shows.
pub const CALENDAR_LIMIT: i64 = 2_000;

/// The changes with a window in `[from, to)` (agents), the conflicts among them flagged.
pub async fn calendar(
    core: &Core,
    ctx: &Ctx,
    from: Timestamp,
    to: Timestamp,
    filter: CalendarFilter,
) -> AppResult<Calendar> {
    ctx.principal.require(Role::Agent)?;
    if to <= from {
        return Err(AppError::field(
            "to",
            "before_start",
            "the end is before the start",
        ));
    }
    core.store
        .read(async move |tx| {
            let list = repo::calendar(tx, from, to, &filter, CALENDAR_LIMIT + 1).await?;
            let truncated = list.len() as i64 > CALENDAR_LIMIT;
            let list: Vec<Change> = list.into_iter().take(CALENDAR_LIMIT as usize).collect();
            let open: Vec<TaskId> = list
                .iter()
                .filter(|c| !c.state.is_final())
                .map(|c| c.id)
                .collect();
            // The feed marks no conflicts: it lists months of changes, and a calendar program
            // shows none of it.
            let flagged = if filter.scheduled_only {
                Vec::new()
            } else {
                repo::in_conflict(tx, &open).await?
            };
            let blackouts = repo::blackouts(tx, from, to, None).await?;
            let entries = list
                .into_iter()
                .map(|c| {
                    let in_conflict = flagged.contains(&c.id)
                        || (!c.state.is_final() && in_blackout(&c, &blackouts));
                    CalendarEntry {
                        change: c,
                        in_conflict,
                    }
                })
                .collect();
            Ok::<_, AppError>(Calendar {
                entries,
                blackouts,
                truncated,
            })
        })
        .await
}

fn in_blackout(c: &Change, blackouts: &[Blackout]) -> bool {
    let (Some(s), Some(e)) = (c.ext.planned_start, c.ext.planned_end) else {
        return false;
    };
    let service = c.service.as_ref().map(|x| x.id);
    blackouts.iter().any(|b| {
        let scope = b.service.as_ref().is_none_or(|bs| Some(bs.id) == service);
        scope && overlaps((s, e), (b.starts_at, b.ends_at))
    })
}

/// The iCalendar (RFC 5545) text of the scheduled changes in `[from, to)`: one event a
/// change, its number and short description, its window, its state and a link.
pub async fn ics(
    core: &Core,
    ctx: &Ctx,
    from: Timestamp,
    to: Timestamp,
    base: &str,
) -> AppResult<String> {
    let filter = CalendarFilter {
        scheduled_only: true,
        ..CalendarFilter::default()
    };
    let cal = calendar(core, ctx, from, to, filter).await?;
    let now = core.now();
    let mut out = String::new();
    let mut line = |l: &str| fold(&mut out, l);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Sigap//Change calendar//EN");
    line("CALSCALE:GREGORIAN");
    line("X-WR-CALNAME:Sigap changes");
    for e in &cal.entries {
        let c = &e.change;
        let (Some(s), Some(end)) = (c.ext.planned_start, c.ext.planned_end) else {
            continue;
        };
        line("BEGIN:VEVENT");
        line(&format!("UID:{}@sigap", c.id));
        line(&format!("DTSTAMP:{}", ics_time(now)));
        line(&format!("DTSTART:{}", ics_time(s)));
        line(&format!("DTEND:{}", ics_time(end)));
        line(&format!(
            "SUMMARY:{}",
            ics_text(&format!("{} {}", c.number, c.short_description))
        ));
        let risk = c.ext.risk.map(|r| r.code()).unwrap_or("-");
        let desc = format!("{} change, {}; risk {risk}", c.ext.change_type, c.state);
        line(&format!("DESCRIPTION:{}", ics_text(&desc)));
        line(&format!("URL:{base}/changes/{}", c.number));
        line(&format!("SEQUENCE:{}", c.version));
        line(&format!("LAST-MODIFIED:{}", ics_time(c.updated_at)));
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    Ok(out)
}

fn ics_time(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a text value: backslash, semicolon, comma and line breaks.
fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line folded at 75 octets (never inside a character), ended by CRLF.
fn fold(out: &mut String, line: &str) {
    let mut width = 0;
    for ch in line.chars() {
        let n = ch.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_and_texts_escape() {
        let mut out = String::new();
        let text = ics_text(&"é,;\\\nx".repeat(20));
        fold(&mut out, &format!("SUMMARY:{text}"));
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{l:?} is {} octets", l.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end(), format!("SUMMARY:{text}"));
        assert!(text.starts_with("é\\,\\;\\\\\\nx"));
    }
}
