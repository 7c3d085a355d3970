//! Change management's pages: the change form and page, the calendar, CAB meetings and the
//! administration of templates and windows, over HTTP as a signed-in person sees them.

use crate::portfolio::{get, post};
use crate::ui::submit;
use serde_json::json;
use sigap_core::Ctx;
use sigap_testkit::{TestApp, both};

both!(
    change_pages_answer_agents_and_refuse_requesters,
    a_change_is_made_and_moved_through_its_forms,
    a_bad_change_form_shows_its_errors_and_changes_nothing,
    the_calendar_shows_changes_on_their_days_with_their_conflicts,
    the_cab_records_a_decision_through_its_form,
    a_standard_change_comes_from_a_template_approved_in_the_settings,
    an_incident_shows_the_change_that_caused_it,
);

/// A page's HTML, with its status.
async fn page(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
) -> anyhow::Result<(u16, String)> {
    let resp = browser.get(app.page(path)).send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await?))
}

/// The value of a form's field as the page shows it.
fn value_of(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// The HTML of one day of the calendar.
fn day<'a>(html: &'a str, date: &str) -> &'a str {
    html.split(&format!("data-date=\"{date}\""))
        .nth(1)
        .and_then(|rest| rest.split("</td>").next())
        .unwrap_or_default()
}

/// A group with members, made by the system.
async fn group(app: &TestApp, name: &str, members: &[&str]) -> anyhow::Result<()> {
    let ctx = Ctx::system("test");
    let input = sigap_core::groups::GroupInput {
        name: Some(name.into()),
        group_type: Some("technical".into()),
        ..Default::default()
    };
    sigap_core::groups::create(&app.core, &ctx, input)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for m in members {
        sigap_core::groups::set_member(&app.core, &ctx, name, m, true)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}

async fn change_pages_answer_agents_and_refuse_requesters(app: TestApp) -> anyhow::Result<()> {
    let (_, token) = app.person("ani", &["agent"], None).await?;
    app.person("mira", &["manager"], None).await?;
    app.person("budi", &["requester"], None).await?;
    let agent = app.browser("ani", "ani-password-1").await?;
    let manager = app.browser("mira", "mira-password-1").await?;
    let user = app.browser("budi", "budi-password-1").await?;
    let c = post(
        &app,
        "/changes",
        &token,
        json!({"short_description": "Patch the mail relay"}),
    )
    .await?;
    let number = c["number"].as_str().unwrap_or_default().to_owned();
    let (status, location, _) = submit(
        &app,
        &agent,
        &format!("/changes/{number}/tasks"),
        &[("short_description", "Take a backup"), ("order", "10")],
    )
    .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/changes/{number}?notice=added").as_str())
    );
    let (status, location, _) = submit(
        &app,
        &manager,
        "/cab",
        &[
            ("title", "Weekly CAB"),
            ("starts_at", "2031-03-01T09:00"),
            ("ends_at", "2031-03-01T10:00"),
        ],
    )
    .await?;
    assert_eq!(status, 303, "the meeting is planned");
    let meeting = location.split('?').next().unwrap_or_default().to_owned();
    let (status, location, _) = submit(
        &app,
        &agent,
        "/admin/changes/templates",
        &[("name", "Restart the mail relay")],
    )
    .await?;
    assert_eq!(status, 303, "a template is written");
    let template = location.split('?').next().unwrap_or_default().to_owned();
    let pages = [
        "/changes".to_owned(),
        "/changes?queue=awaiting_approval".to_owned(),
        "/changes/new".to_owned(),
        format!("/changes/{number}"),
        "/change_tasks".to_owned(),
        "/change_tasks/CTASK0000001".to_owned(),
        "/changes/calendar".to_owned(),
        "/changes/calendar?view=week&date=2031-03-04".to_owned(),
        "/cab".to_owned(),
        meeting.clone(),
        "/admin/changes".to_owned(),
        template.clone(),
        "/admin/changes/blackouts".to_owned(),
        "/admin/changes/maintenance".to_owned(),
    ];
    for lang in ["en", "id"] {
        let resp = agent
            .post(app.page("/language"))
            .header("origin", &app.url)
            .form(&[("lang", lang), ("back", "/")])
            .send()
            .await?;
        assert_eq!(resp.status(), 303);
        for p in &pages {
            let (status, html) = page(&app, &agent, p).await?;
            assert_eq!(status, 200, "{p} in {lang}: {html}");
            assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{p}");
            assert!(
                html.contains("href=\"/changes/calendar\""),
                "the nav links the calendar"
            );
        }
        let (_, html) = page(&app, &agent, &format!("/changes/{number}")).await?;
        let word = if lang == "en" {
            "Risk and impact"
        } else {
            "Risiko dan dampak"
        };
        assert!(html.contains(word), "the change page in {lang}");
    }
    // The new meeting form is the managers'.
    assert_eq!(page(&app, &agent, "/cab/new").await?.0, 403);
    assert_eq!(page(&app, &manager, "/cab/new").await?.0, 200);
    for p in pages.iter().chain(["/cab/new".to_owned()].iter()) {
        let (status, _) = page(&app, &user, p).await?;
        assert_eq!(status, 403, "{p} for a requester");
    }
    let (status, _, _) = submit(
        &app,
        &user,
        "/changes",
        &[("short_description", "Mine"), ("change_type", "normal")],
    )
    .await?;
    assert_eq!(status, 403, "requesters make no changes");
    Ok(())
}

async fn a_change_is_made_and_moved_through_its_forms(app: TestApp) -> anyhow::Result<()> {
    let (_, token) = app.person("ani", &["agent"], None).await?;
    let agent = app.browser("ani", "ani-password-1").await?;
    post(
        &app,
        "/configuration_items",
        &token,
        json!({"class": "server", "name": "srv-01"}),
    )
    .await?;
    let i = post(
        &app,
        "/incidents",
        &token,
        json!({"short_description": "Mail is slow", "caller": "ani"}),
    )
    .await?;
    let incident = i["number"].as_str().unwrap_or_default().to_owned();
    let (status, location, _) = submit(
        &app,
        &agent,
        "/changes",
        &[
            ("change_type", "normal"),
            ("short_description", "Upgrade the mail relay"),
            ("ci", "server/srv-01"),
            ("planned_start", "2031-03-04T02:00"),
            ("planned_end", "2031-03-04T04:00"),
            ("impact", "2"),
            ("urgency", "3"),
            ("reason", "Security fixes"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    assert_eq!(location, "/changes/CHG0000001?notice=created");
    let c = "/changes/CHG0000001";
    let (_, html) = page(&app, &agent, c).await?;
    assert!(html.contains("Upgrade the mail relay") && html.contains("srv-01"));
    assert!(html.contains("2031-03-04 02:00 – 04:00 UTC"), "its window");
    assert!(
        html.contains("name=\"risk.users_affected\""),
        "the risk questions"
    );
    assert!(
        html.contains("value=\"assess\""),
        "a new normal change is assessed"
    );
    assert!(
        !html.contains("value=\"request_approval\""),
        "not yet put to approvers"
    );

    // An action through its form.
    let (status, location, _) =
        submit(&app, &agent, &format!("{c}/act"), &[("action", "assess")]).await?;
    assert_eq!(
        (status, location.as_str()),
        (303, "/changes/CHG0000001?notice=saved")
    );
    let (_, html) = page(&app, &agent, c).await?;
    assert!(html.contains("id=\"change-state\">Assess<"), "assessed");
    assert!(
        html.contains("value=\"request_approval\""),
        "now it may be put to approvers"
    );

    // Asking for approval before the plans and the risk are there shows what is missing
    // beside those fields.
    let (status, _, body) = submit(
        &app,
        &agent,
        &format!("{c}/act"),
        &[("action", "request_approval")],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(
        body.contains("id=\"err-implementation_plan\"") && body.contains("id=\"err-backout_plan\"")
    );
    assert!(
        body.contains("id=\"err-risk_answers\""),
        "the risk questions are asked for"
    );
    assert!(
        body.contains("id=\"change-state\">Assess<"),
        "nothing moved"
    );

    // The risk questions: the risk follows the answers.
    let (status, _, _) = submit(
        &app,
        &agent,
        &format!("{c}/risk"),
        &[
            ("version", &value_of(&html, "version")),
            ("risk.users_affected", "everyone"),
            ("risk.done_before", "never"),
            ("risk.backout", "no"),
            ("risk.outage", "yes"),
            ("risk.tested", "no"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &agent, c).await?;
    assert!(html.contains("Risk: Very high"), "{html}");
    let (status, _, body) = submit(
        &app,
        &agent,
        &format!("{c}/risk"),
        &[
            ("version", &value_of(&html, "version")),
            ("risk.users_affected", "few"),
        ],
    )
    .await?;
    assert_eq!(status, 422, "every question is answered");
    assert!(body.contains("id=\"err-q-done_before\""));

    // The plans through the edit form; the window stays as it was.
    let (status, _, body) = submit(
        &app,
        &agent,
        c,
        &[
            ("version", &value_of(&html, "version")),
            ("short_description", "Upgrade the mail relay"),
            ("implementation_plan", "Install the packages"),
            ("backout_plan", "Restore the snapshot"),
            ("test_plan", "Send a test message"),
            ("planned_start", "2031-03-04T02:00"),
            ("planned_start_was", "2031-03-04T02:00"),
            ("planned_end", "2031-03-04T04:00"),
            ("planned_end_was", "2031-03-04T04:00"),
            ("ci", "server/srv-01"),
            ("ci_was", "server/srv-01"),
            ("impact", "2"),
            ("urgency", "3"),
        ],
    )
    .await?;
    assert_eq!(status, 303, "{body}");
    let (_, html) = page(&app, &agent, c).await?;
    assert!(html.contains("Send a test message"));

    // A task, and links to an incident it caused.
    let (status, _, _) = submit(
        &app,
        &agent,
        &format!("{c}/tasks"),
        &[("short_description", "Take a snapshot"), ("order", "5")],
    )
    .await?;
    assert_eq!(status, 303);
    let (status, _, body) = submit(
        &app,
        &agent,
        &format!("{c}/tasks"),
        &[("short_description", "")],
    )
    .await?;
    assert_eq!(status, 422, "a task needs its text");
    assert!(
        body.contains("id=\"err-task-short_description\""),
        "beside the task's field"
    );
    let (status, _, _) = submit(
        &app,
        &agent,
        &format!("{c}/links"),
        &[("kind", "caused_incidents"), ("tasks", &incident)],
    )
    .await?;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &agent, c).await?;
    assert!(html.contains("href=\"/change_tasks/CTASK0000001\""));
    assert!(html.contains(&format!("href=\"/incidents/{incident}\"")));
    let (status, html) = page(&app, &agent, "/change_tasks/CTASK0000001").await?;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/changes/CHG0000001\"") && html.contains("Take a snapshot"));
    // The queues list them.
    let (_, html) = page(&app, &agent, "/changes").await?;
    assert!(html.contains("href=\"/changes/CHG0000001\"") && html.contains("Very high"));
    let (_, html) = page(&app, &agent, "/change_tasks?queue=all").await?;
    assert!(html.contains("href=\"/change_tasks/CTASK0000001\""));

    // Cancelling takes a reason.
    let (status, _, _) = submit(
        &app,
        &agent,
        &format!("{c}/act"),
        &[
            ("action", "cancel"),
            ("reason", "Postponed to next quarter"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &agent, c).await?;
    assert!(html.contains("id=\"change-state\">Canceled<"));
    assert!(
        !html.contains("id=\"change-form\""),
        "a finished change is not edited"
    );
    Ok(())
}

async fn a_bad_change_form_shows_its_errors_and_changes_nothing(
    app: TestApp,
) -> anyhow::Result<()> {
    let (_, token) = app.person("ani", &["agent"], None).await?;
    let agent = app.browser("ani", "ani-password-1").await?;
    let (status, _, body) = submit(
        &app,
        &agent,
        "/changes",
        &[
            ("change_type", "normal"),
            ("short_description", "Move the database"),
            ("planned_start", "2031-03-04T04:00"),
            ("planned_end", "2031-03-04T02:00"),
            ("ci", "server/nowhere"),
        ],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(body.contains("class=\"field-error\""), "{body}");
    assert!(
        body.contains("id=\"err-planned_end\"") || body.contains("id=\"err-configuration_item\""),
        "beside the field: {body}"
    );
    assert!(
        body.contains("value=\"Move the database\""),
        "what was typed is kept"
    );
    let (status, _, body) = submit(
        &app,
        &agent,
        "/changes",
        &[
            ("change_type", "normal"),
            ("short_description", ""),
            ("planned_start", "soon"),
        ],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(
        body.contains("id=\"err-planned_start\""),
        "a time that is no time"
    );
    let (status, _, body) = submit(
        &app,
        &agent,
        "/changes",
        &[
            ("change_type", "standard"),
            ("short_description", "From nothing"),
        ],
    )
    .await?;
    assert_eq!(status, 422, "a standard change needs its template");
    assert!(body.contains("id=\"err-template\""), "{body}");
    let list = get(&app, "/changes", &token).await?;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(0),
        "nothing was made"
    );
    Ok(())
}

async fn the_calendar_shows_changes_on_their_days_with_their_conflicts(
    app: TestApp,
) -> anyhow::Result<()> {
    let (_, token) = app.person("ani", &["agent"], None).await?;
    app.person("mira", &["manager"], None).await?;
    let agent = app.browser("ani", "ani-password-1").await?;
    let manager = app.browser("mira", "mira-password-1").await?;
    post(
        &app,
        "/configuration_items",
        &token,
        json!({"class": "server", "name": "srv-01"}),
    )
    .await?;
    post(
        &app,
        "/configuration_items",
        &token,
        json!({"class": "server", "name": "srv-02"}),
    )
    .await?;
    let change = |title: &'static str, ci: &'static str, start: &'static str, end: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            let c = post(
                app,
                "/changes",
                &token,
                json!({"short_description": title, "configuration_item": ci,
                       "planned_start": start, "planned_end": end}),
            )
            .await?;
            Ok::<_, anyhow::Error>(c["number"].as_str().unwrap_or_default().to_owned())
        }
    };
    let a = change(
        "Patch srv-01",
        "server/srv-01",
        "2031-03-04T02:00:00Z",
        "2031-03-04T04:00:00Z",
    )
    .await?;
    let b = change(
        "Reboot srv-01",
        "server/srv-01",
        "2031-03-04T03:00:00Z",
        "2031-03-04T05:00:00Z",
    )
    .await?;
    let alone = change(
        "Patch srv-02",
        "server/srv-02",
        "2031-03-06T02:00:00Z",
        "2031-03-06T03:00:00Z",
    )
    .await?;

    let (status, html) = page(&app, &agent, "/changes/calendar?view=week&date=2031-03-04").await?;
    assert_eq!(status, 200);
    let tuesday = day(&html, "2031-03-04");
    for n in [&a, &b] {
        assert!(
            tuesday.contains(&format!("href=\"/changes/{n}\"")),
            "{n} on its day: {tuesday}"
        );
    }
    assert!(
        tuesday.contains("in-conflict") && tuesday.contains("In conflict"),
        "marked"
    );
    let thursday = day(&html, "2031-03-06");
    assert!(thursday.contains(&format!("href=\"/changes/{alone}\"")));
    assert!(
        !thursday.contains("in-conflict"),
        "a change alone is not in conflict"
    );
    assert!(
        !day(&html, "2031-03-05").contains("href=\"/changes/CHG"),
        "nothing the day between"
    );
    assert!(
        html.contains("/api/v1/changes/calendar.ics") && html.contains("?token="),
        "the feed"
    );
    // The month view, and its filters.
    let (_, html) = page(&app, &agent, "/changes/calendar?date=2031-03-04").await?;
    assert!(html.contains("March 2031"));
    let tuesday = day(&html, "2031-03-04");
    assert!(
        tuesday.contains(&format!("href=\"/changes/{a}\""))
            && tuesday.contains("data-conflict=\"true\"")
    );
    let (_, html) = page(
        &app,
        &agent,
        "/changes/calendar?date=2031-03-04&ci=server/srv-02",
    )
    .await?;
    assert!(
        !html.contains(&format!("href=\"/changes/{a}\""))
            && html.contains(&format!("href=\"/changes/{alone}\""))
    );
    let (status, html) = page(
        &app,
        &agent,
        "/changes/calendar?date=2031-03-04&ci=server/ghost",
    )
    .await?;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"err-configuration_item\""),
        "a filter that finds nothing says so"
    );
    // The change page names the conflict.
    let (_, html) = page(&app, &agent, &format!("/changes/{a}")).await?;
    assert!(
        html.contains("id=\"change-conflict-badge\"")
            && html.contains(&format!("href=\"/changes/{b}\""))
    );

    // A blackout window shows on its days and puts the change in it in conflict.
    let (status, _, body) = submit(
        &app,
        &manager,
        "/admin/changes/blackouts",
        &[
            ("name", "Year-end freeze"),
            ("starts_at", "2031-03-06T00:00"),
            ("ends_at", "2031-03-07T00:00"),
            ("reason", "Closing the books"),
        ],
    )
    .await?;
    assert_eq!(status, 303, "{body}");
    let (status, _, body) = submit(
        &app,
        &manager,
        "/admin/changes/blackouts",
        &[
            ("name", "Backwards"),
            ("starts_at", "2031-03-07T00:00"),
            ("ends_at", "2031-03-06T00:00"),
        ],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(
        body.contains("id=\"err-ends_at\""),
        "beside the end: {body}"
    );
    let (status, _, _) = submit(
        &app,
        &agent,
        "/admin/changes/blackouts",
        &[
            ("name", "Mine"),
            ("starts_at", "2031-03-08T00:00"),
            ("ends_at", "2031-03-09T00:00"),
        ],
    )
    .await?;
    assert_eq!(status, 403, "blackouts are the managers'");
    let (_, html) = page(&app, &agent, "/changes/calendar?view=week&date=2031-03-04").await?;
    let thursday = day(&html, "2031-03-06");
    assert!(
        thursday.contains("Year-end freeze") && thursday.contains("in-conflict"),
        "{thursday}"
    );
    let (_, html) = page(&app, &agent, "/admin/changes/blackouts").await?;
    assert!(html.contains("Year-end freeze") && !html.contains("Backwards"));
    Ok(())
}

async fn the_cab_records_a_decision_through_its_form(app: TestApp) -> anyhow::Result<()> {
    app.person("ani", &["agent"], None).await?;
    app.person("mira", &["manager"], None).await?;
    group(&app, "Emergency CAB", &["mira"]).await?;
    let agent = app.browser("ani", "ani-password-1").await?;
    let manager = app.browser("mira", "mira-password-1").await?;
    // An emergency change, put to the emergency CAB.
    let (status, location, body) = submit(
        &app,
        &agent,
        "/changes",
        &[
            ("change_type", "emergency"),
            ("short_description", "Replace the failed disk"),
            ("planned_start", "2031-03-04T02:00"),
            ("planned_end", "2031-03-04T03:00"),
            ("implementation_plan", "Swap the disk"),
            ("backout_plan", "Run degraded"),
        ],
    )
    .await?;
    assert_eq!(status, 303, "{body}");
    let c = location.split('?').next().unwrap_or_default().to_owned();
    let (_, html) = page(&app, &agent, &c).await?;
    assert!(
        !html.contains("value=\"assess\""),
        "an emergency change is not assessed"
    );
    let (status, _, _) = submit(
        &app,
        &agent,
        &format!("{c}/risk"),
        &[
            ("version", &value_of(&html, "version")),
            ("risk.users_affected", "department"),
            ("risk.done_before", "often"),
            ("risk.backout", "minutes"),
            ("risk.outage", "no"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let (status, _, body) = submit(
        &app,
        &agent,
        &format!("{c}/act"),
        &[("action", "request_approval")],
    )
    .await?;
    assert_eq!(status, 303, "{body}");
    let (_, html) = page(&app, &agent, &c).await?;
    assert!(html.contains("id=\"change-state\">Authorize<") && html.contains("Test mira"));
    // The approver sees it on their approvals, linked.
    let (_, html) = page(&app, &manager, "/approvals").await?;
    assert!(html.contains("href=\"/changes/CHG0000001\""), "{html}");

    // The meeting, and the change on its agenda.
    let (status, _, body) = submit(
        &app,
        &manager,
        "/cab",
        &[
            ("title", "Weekly CAB"),
            ("starts_at", "2031-03-05T09:00"),
            ("ends_at", "2031-03-01T10:00"),
        ],
    )
    .await?;
    assert_eq!(status, 422, "a meeting ends after it starts");
    assert!(body.contains("id=\"err-ends_at\"") && body.contains("value=\"Weekly CAB\""));
    let (status, location, _) = submit(
        &app,
        &manager,
        "/cab",
        &[
            ("title", "Weekly CAB"),
            ("starts_at", "2031-03-01T09:00"),
            ("ends_at", "2031-03-01T10:00"),
            ("attendees", "mira, ani"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let meeting = location.split('?').next().unwrap_or_default().to_owned();
    let (_, html) = page(&app, &manager, &meeting).await?;
    assert!(html.contains("id=\"agenda-CHG0000001\"") && html.contains("Test ani"));
    let (_, html) = page(&app, &manager, "/cab").await?;
    assert!(html.contains("Weekly CAB"));

    // A rejection says why; without a reason nothing is recorded.
    let decide = format!("{meeting}/decisions");
    let (status, _, body) = submit(
        &app,
        &manager,
        &decide,
        &[
            ("change", "CHG0000001"),
            ("decision", "rejected"),
            ("comment", ""),
        ],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(
        body.contains("id=\"err-decision-CHG0000001\""),
        "beside its form: {body}"
    );
    assert!(!body.contains("class=\"recorded\""), "nothing recorded");
    let (status, location, _) = submit(
        &app,
        &manager,
        &decide,
        &[
            ("change", "CHG0000001"),
            ("decision", "approved"),
            ("comment", "Go ahead"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    assert!(location.ends_with("#agenda-CHG0000001"), "{location}");
    let (_, html) = page(&app, &manager, &meeting).await?;
    assert!(html.contains("class=\"recorded\"") && html.contains("Go ahead"));
    // The manager's own approval was decided with it: the change may be scheduled.
    let (_, html) = page(&app, &agent, &c).await?;
    assert!(html.contains("id=\"change-approval\">Approved<"), "{html}");
    assert!(
        html.contains("id=\"change-decisions\"") && html.contains(&format!("href=\"{meeting}\""))
    );
    let (status, _, _) =
        submit(&app, &agent, &format!("{c}/act"), &[("action", "schedule")]).await?;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &agent, &c).await?;
    assert!(html.contains("id=\"change-state\">Scheduled<"));
    Ok(())
}

async fn a_standard_change_comes_from_a_template_approved_in_the_settings(
    app: TestApp,
) -> anyhow::Result<()> {
    app.person("ani", &["agent"], None).await?;
    app.person("mira", &["manager"], None).await?;
    group(&app, "Network", &[]).await?;
    let agent = app.browser("ani", "ani-password-1").await?;
    let manager = app.browser("mira", "mira-password-1").await?;
    let (status, location, _) = submit(
        &app,
        &agent,
        "/admin/changes/templates",
        &[("name", "Restart the mail relay")],
    )
    .await?;
    assert_eq!(status, 303);
    let t = location.split('?').next().unwrap_or_default().to_owned();
    let (_, html) = page(&app, &agent, &t).await?;
    assert!(html.contains("id=\"template-state\">Draft<"));
    // A bad row is refused beside it, with what was typed.
    let mut fields = vec![
        ("version".to_owned(), value_of(&html, "version")),
        ("name".to_owned(), "Restart the mail relay".to_owned()),
        (
            "short_description".to_owned(),
            "Restart the relay".to_owned(),
        ),
        (
            "implementation_plan".to_owned(),
            "systemctl restart postfix".to_owned(),
        ),
        ("backout_plan".to_owned(), "Nothing to back out".to_owned()),
        ("risk".to_owned(), "low".to_owned()),
        ("task.0.order".to_owned(), "10".to_owned()),
        ("task.0.group".to_owned(), "Nowhere".to_owned()),
        ("task.0.short_description".to_owned(), "Restart".to_owned()),
        ("task.0.description".to_owned(), String::new()),
        ("task.1.order".to_owned(), String::new()),
        ("task.1.group".to_owned(), String::new()),
        ("task.1.short_description".to_owned(), String::new()),
        ("task.1.description".to_owned(), String::new()),
    ];
    let resp = agent
        .post(app.page(&t))
        .header("origin", &app.url)
        .form(&fields)
        .send()
        .await?;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await?;
    assert!(
        body.contains("Row 1") && body.contains("value=\"Restart the relay\""),
        "{body}"
    );
    fields[7].1 = "Network".to_owned();
    let resp = agent
        .post(app.page(&t))
        .header("origin", &app.url)
        .form(&fields)
        .send()
        .await?;
    assert_eq!(resp.status(), 303);
    let (status, _, _) = submit(&app, &agent, &format!("{t}/propose"), &[]).await?;
    assert_eq!(status, 303);
    // A manager approves it from the list.
    let (_, html) = page(&app, &manager, "/admin/changes").await?;
    assert!(html.contains("Proposed") && html.contains(&format!("action=\"{t}/approve\"")));
    let (status, location, _) =
        submit(&app, &manager, &format!("{t}/approve"), &[("back", "list")]).await?;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/changes?notice=saved")
    );
    // The new-change form offers it; the change gets its fields and tasks.
    let (_, html) = page(
        &app,
        &agent,
        "/changes/new?template=Restart%20the%20mail%20relay",
    )
    .await?;
    assert!(
        html.contains("<option value=\"Restart the mail relay\" selected>"),
        "{html}"
    );
    assert!(html.contains("value=\"standard\" checked"));
    let (status, location, body) = submit(
        &app,
        &agent,
        "/changes",
        &[
            ("change_type", "standard"),
            ("template", "Restart the mail relay"),
        ],
    )
    .await?;
    assert_eq!(status, 303, "{body}");
    let (_, html) = page(&app, &agent, location.split('?').next().unwrap_or_default()).await?;
    assert!(html.contains("Restart the relay") && html.contains("id=\"change-type\">Standard<"));
    assert!(
        html.contains("href=\"/change_tasks/CTASK0000001\""),
        "the template's task"
    );
    assert!(html.contains("Pre-approved by its template."));
    assert!(
        html.contains("value=\"schedule\""),
        "straight to scheduling"
    );
    // The risk questionnaires are shown as they are.
    let (_, html) = page(&app, &agent, "/admin/changes").await?;
    assert!(html.contains("Who would an outage during the change affect?"));
    Ok(())
}

async fn an_incident_shows_the_change_that_caused_it(app: TestApp) -> anyhow::Result<()> {
    let (_, token) = app.person("ani", &["agent"], None).await?;
    let agent = app.browser("ani", "ani-password-1").await?;
    let c = post(
        &app,
        "/changes",
        &token,
        json!({"short_description": "Move the mail relay"}),
    )
    .await?;
    let change = c["number"].as_str().unwrap_or_default().to_owned();
    let i = post(
        &app,
        "/incidents",
        &token,
        json!({"short_description": "Mail bounces"}),
    )
    .await?;
    let incident = i["number"].as_str().unwrap_or_default().to_owned();
    let (status, html) = page(&app, &agent, &format!("/incidents/{incident}")).await?;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"caused-by-form\""),
        "the incident offers no caused-by form"
    );
    let path = format!("/incidents/{incident}/caused-by");
    let (status, _, _) = submit(&app, &agent, &path, &[("change", "CHG9999999")]).await?;
    assert_eq!(status, 422, "an unknown change is refused");
    let (status, location, _) = submit(&app, &agent, &path, &[("change", &change)]).await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/incidents/{incident}?notice=linked").as_str())
    );
    let (_, html) = page(&app, &agent, &format!("/incidents/{incident}")).await?;
    let shown = html
        .split("id=\"caused-by-change\"")
        .nth(1)
        .unwrap_or_default();
    assert!(
        shown.starts_with(&format!("><a href=\"/changes/{change}\">")),
        "{shown:.200}"
    );
    let tied = get(&app, &format!("/incidents/{incident}/changes"), &token).await?;
    assert_eq!(tied["caused_by_change"][0], change.as_str());
    Ok(())
}
