//! Knowledge management's pages: an article written through its form, sent to review,
//! approved and published, read and rated on the portal, its versions compared, the
//! owner groups' queue of flagged feedback, the portal's deflection of an incident, and the
//! knowledge sides of the incident and problem pages, over HTTP as a signed-in person sees
//! them.

use crate::portfolio::post;
use crate::ui::submit;
use serde_json::json;
use sigap_core::Ctx;
use sigap_testkit::{TestApp, both};

both!(
    an_article_is_written_reviewed_published_and_read,
    knowledge_pages_answer_in_both_languages_and_refuse_others,
    the_portal_deflection_records_it_and_opens_no_incident,
    flagged_feedback_waits_for_its_owners_until_dealt_with,
    the_versions_page_shows_the_lines_added_and_removed,
    hostile_markdown_never_becomes_markup,
    an_incident_is_resolved_with_an_attached_article,
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

/// The first id in a form action that starts with `prefix` (`/approvals/`).
fn action_id(html: &str, prefix: &str) -> String {
    html.split(&format!("action=\"{prefix}"))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// The rows of a table with a class (`diff-added`), as their HTML.
fn rows<'a>(html: &'a str, class: &str) -> Vec<&'a str> {
    html.split(&format!("<tr class=\"{class}\">"))
        .skip(1)
        .filter_map(|r| r.split("</tr>").next())
        .collect()
}

/// The people of the tests: ani writes, rudi reviews (both of the owner group), mira
/// manages the knowledge bases, budi reads on the portal. Returns their browsers.
struct People {
    ani: reqwest::Client,
    rudi: reqwest::Client,
    budi: reqwest::Client,
    token: String,
}

async fn people(app: &TestApp) -> anyhow::Result<People> {
    let (_, token) = app.person("ani", &["agent"], None).await?;
    app.person("rudi", &["agent"], None).await?;
    app.person("mira", &["manager"], None).await?;
    app.person("budi", &["requester"], None).await?;
    let ctx = Ctx::system("test");
    let input = sigap_core::groups::GroupInput {
        name: Some("Knowledge team".into()),
        group_type: Some("technical".into()),
        ..Default::default()
    };
    sigap_core::groups::create(&app.core, &ctx, input)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for m in ["ani", "rudi"] {
        sigap_core::groups::set_member(&app.core, &ctx, "Knowledge team", m, true)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    // The knowledge base, through the managers' page.
    let mira = app.browser("mira", "mira-password-1").await?;
    let (status, location, body) = submit(
        app,
        &mira,
        "/admin/knowledge/bases",
        &[
            ("name", "IT help"),
            ("owner_group", "Knowledge team"),
            ("active", "true"),
            ("description", "Answers for everyone"),
        ],
    )
    .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/knowledge?notice=created"),
        "{body}"
    );
    Ok(People {
        ani: app.browser("ani", "ani-password-1").await?,
        rudi: app.browser("rudi", "rudi-password-1").await?,
        budi: app.browser("budi", "budi-password-1").await?,
        token,
    })
}

/// Writes an article through the form; returns its number.
async fn write(app: &TestApp, p: &People, title: &str, body: &str) -> anyhow::Result<String> {
    let (status, location, html) = submit(
        app,
        &p.ani,
        "/knowledge",
        &[
            ("short_description", title),
            ("summary", "What to do, step by step."),
            ("description", body),
            ("knowledge_base", "IT help"),
            ("language", "en"),
            ("audience", "everyone"),
        ],
    )
    .await?;
    assert_eq!(status, 303, "the article is written: {html}");
    let number = location
        .strip_prefix("/knowledge/")
        .and_then(|r| r.split('?').next())
        .unwrap_or_default()
        .to_owned();
    assert!(number.starts_with("KB"), "{location}");
    Ok(number)
}

/// Sends an article to review, and approves it as its reviewer on the approvals page.
async fn publish(app: &TestApp, p: &People, number: &str) -> anyhow::Result<()> {
    let (status, location, html) = submit(
        app,
        &p.ani,
        &format!("/knowledge/{number}/act"),
        &[("action", "submit"), ("note", "Please check the steps")],
    )
    .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/knowledge/{number}?notice=updated").as_str()),
        "{html}"
    );
    let (status, html) = page(app, &p.rudi, "/approvals").await?;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("href=\"/knowledge/{number}\"")),
        "the review links the article: {html}"
    );
    let id = action_id(&html, "/approvals/");
    assert!(!id.is_empty() && !id.starts_with("delegations"), "{html}");
    let (status, location, _) = submit(
        app,
        &p.rudi,
        &format!("/approvals/{id}"),
        &[("decision", "approve"), ("comment", "Clear")],
    )
    .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, "/approvals?notice=approved")
    );
    Ok(())
}

async fn an_article_is_written_reviewed_published_and_read(app: TestApp) -> anyhow::Result<()> {
    let p = people(&app).await?;
    // The form, and its preview without JavaScript: nothing is written.
    let (status, html) = page(&app, &p.ani, "/knowledge/new").await?;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"kb-preview\"") && html.contains("data-preview-api"));
    let (status, _, html) = submit(
        &app,
        &p.ani,
        "/knowledge",
        &[
            ("short_description", "Draft"),
            ("description", "Some **bold** words"),
            ("knowledge_base", "IT help"),
            ("preview", "1"),
        ],
    )
    .await?;
    assert_eq!(status, 200);
    assert!(
        html.contains("<strong>bold</strong>"),
        "the preview: {html}"
    );
    let (_, html) = page(&app, &p.ani, "/knowledge?queue=all").await?;
    assert!(!html.contains("KB0000001"), "a preview writes nothing");

    let body = "## Steps\n\n1. Open the VPN portal\n2. Choose **Reset**\n\n| Step | Time |\n|---|---|\n| Reset | 1 min |\n";
    let number = write(&app, &p, "Reset your VPN password", body).await?;
    let (_, html) = page(&app, &p.ani, "/knowledge").await?;
    assert!(
        html.contains(&format!("href=\"/knowledge/{number}\""))
            && html.contains("Reset your VPN password"),
        "the queue lists it: {html}"
    );
    assert!(html.contains("IT help"), "with its knowledge base");
    let (status, html) = page(&app, &p.ani, &format!("/knowledge/{number}")).await?;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("state-draft"), "a draft: {html}");
    assert!(html.contains("<table>") && html.contains("<strong>Reset</strong>"));
    // Readers do not see a draft.
    let (status, _) = page(&app, &p.budi, &format!("/portal/knowledge/{number}")).await?;
    assert_eq!(status, 404);

    publish(&app, &p, &number).await?;
    let (_, html) = page(&app, &p.ani, &format!("/knowledge/{number}")).await?;
    assert!(html.contains("state-published"), "published: {html}");

    // A requester finds it, reads it and says it helped.
    let (status, html) = page(&app, &p.budi, "/portal/knowledge?q=vpn").await?;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("href=\"/portal/knowledge/{number}\"")),
        "found: {html}"
    );
    let (status, html) = page(&app, &p.budi, &format!("/portal/knowledge/{number}")).await?;
    assert_eq!(status, 200);
    assert!(html.contains("<h2>Steps</h2>") && html.contains("id=\"kb-helpful\""));
    assert!(
        html.contains("href=\"/portal/knowledge\""),
        "the portal's navigation"
    );
    let (status, location, _) = submit(
        &app,
        &p.budi,
        &format!("/portal/knowledge/{number}/feedback"),
        &[("helpful", "yes"), ("comment", "Worked for me")],
    )
    .await?;
    assert_eq!(
        (status, location.as_str()),
        (
            303,
            format!("/portal/knowledge/{number}?notice=kb-thanks").as_str()
        )
    );
    let (_, html) = page(&app, &p.budi, &location).await?;
    assert!(html.contains("Thank you for your feedback."));
    let (status, _, _) = submit(
        &app,
        &p.budi,
        &format!("/portal/knowledge/{number}/feedback"),
        &[("rating", "5")],
    )
    .await?;
    assert_eq!(status, 303);
    // The desk sees the counters and the feedback.
    let (_, html) = page(&app, &p.ani, &format!("/knowledge/{number}")).await?;
    assert!(html.contains("Worked for me"), "{html}");
    assert!(
        html.contains("Views</dt><dd>1</dd>") && html.contains("Helpful</dt><dd>1</dd>"),
        "{html}"
    );
    assert!(html.contains("<dd>5.0</dd>"), "the average rating: {html}");
    Ok(())
}

async fn knowledge_pages_answer_in_both_languages_and_refuse_others(
    app: TestApp,
) -> anyhow::Result<()> {
    let p = people(&app).await?;
    let number = write(&app, &p, "Printer jams", "Open the tray.").await?;
    publish(&app, &p, &number).await?;
    let mira = app.browser("mira", "mira-password-1").await?;
    let desk = [
        "/knowledge".to_owned(),
        "/knowledge?queue=review".to_owned(),
        "/knowledge/new".to_owned(),
        format!("/knowledge/{number}"),
        format!("/knowledge/{number}?version=1"),
        format!("/knowledge/{number}/versions"),
        "/knowledge/attention".to_owned(),
    ];
    let portal = [
        "/portal/knowledge".to_owned(),
        "/portal/knowledge?q=printer".to_owned(),
        format!("/portal/knowledge/{number}"),
        "/portal".to_owned(),
    ];
    for (lang, word, read) in [
        ("en", "Newest version", "Was this helpful?"),
        ("id", "Versi terbaru", "Apakah artikel ini membantu?"),
    ] {
        for b in [&p.ani, &p.budi, &mira] {
            let resp = b
                .post(app.page("/language"))
                .header("origin", &app.url)
                .form(&[("lang", lang), ("back", "/")])
                .send()
                .await?;
            assert_eq!(resp.status(), 303);
        }
        for path in &desk {
            let (status, html) = page(&app, &p.ani, path).await?;
            assert_eq!(status, 200, "{path} in {lang}: {html}");
            assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{path}");
            assert!(
                html.contains("href=\"/knowledge\""),
                "the desk's navigation"
            );
        }
        let (_, html) = page(&app, &p.ani, &format!("/knowledge/{number}")).await?;
        assert!(html.contains(word), "the article page in {lang}");
        for path in &portal {
            let (status, html) = page(&app, &p.budi, path).await?;
            assert_eq!(status, 200, "{path} in {lang}: {html}");
        }
        let (_, html) = page(&app, &p.budi, &format!("/portal/knowledge/{number}")).await?;
        assert!(html.contains(read), "the reader's page in {lang}");
        let (status, html) = page(&app, &mira, "/admin/knowledge").await?;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("IT help"));
    }
    // The desk's pages are the desk's; the bases are the managers'.
    for path in ["/knowledge", "/knowledge/new", "/knowledge/attention"] {
        let (status, _) = page(&app, &p.budi, path).await?;
        assert_eq!(status, 403, "{path} for a requester");
    }
    let (status, _) = page(&app, &p.budi, &format!("/knowledge/{number}")).await?;
    assert_eq!(status, 303, "a requester is sent to the portal's page");
    let (status, _) = page(&app, &p.ani, "/admin/knowledge").await?;
    assert_eq!(status, 403, "agents do not manage the bases");
    let (status, _, _) = submit(
        &app,
        &p.budi,
        "/knowledge",
        &[("short_description", "Mine"), ("knowledge_base", "IT help")],
    )
    .await?;
    assert_eq!(status, 403, "requesters write no articles");
    Ok(())
}

async fn the_portal_deflection_records_it_and_opens_no_incident(
    app: TestApp,
) -> anyhow::Result<()> {
    let p = people(&app).await?;
    let number = write(&app, &p, "VPN password expired", "Reset it in the portal.").await?;
    publish(&app, &p, &number).await?;
    // The report form carries the suggestion list and, without JavaScript, a search.
    let (_, html) = page(&app, &p.budi, "/portal").await?;
    assert!(html.contains("data-suggest-api=\"/api/v1/knowledge/suggest\""));
    assert!(html.contains("aria-live=\"polite\"") && html.contains("id=\"kb-search-first\""));
    let (status, html) = page(
        &app,
        &p.budi,
        "/portal/knowledge?short_description=vpn+password&urgency=3",
    )
    .await?;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("/portal/knowledge/{number}")),
        "{html}"
    );
    // What the script asks while the short description is typed.
    let resp = p
        .budi
        .get(app.api("/knowledge/suggest?q=vpn%20pass"))
        .send()
        .await?;
    if resp.status() == 200 {
        let v: serde_json::Value = resp.json().await?;
        assert_eq!(v["items"][0]["number"], number.as_str(), "{v}");
    }
    // "This solved my problem".
    let (status, location, _) = submit(
        &app,
        &p.budi,
        &format!("/portal/knowledge/{number}/solved"),
        &[("q", "vpn password expired")],
    )
    .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/portal/knowledge/{number}?solved=1").as_str())
    );
    let (_, html) = page(&app, &p.budi, &location).await?;
    assert!(
        html.contains("id=\"kb-solved\"") && html.contains("No incident was opened."),
        "{html}"
    );
    let (_, html) = page(&app, &p.ani, &format!("/knowledge/{number}")).await?;
    assert!(
        html.contains("Incidents avoided</dt><dd>1</dd>"),
        "the deflection is counted: {html}"
    );
    let incidents = sigap_core::incidents::list(
        &app.core,
        &Ctx::system("test"),
        Default::default(),
        &sigap_core::listing::ListParams::default(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert!(incidents.items.is_empty(), "no incident was opened");
    // A draft solves nothing.
    let draft = write(&app, &p, "Not yet", "Soon.").await?;
    let (status, _, _) = submit(
        &app,
        &p.budi,
        &format!("/portal/knowledge/{draft}/solved"),
        &[("q", "soon")],
    )
    .await?;
    assert_eq!(status, 404);
    Ok(())
}

async fn flagged_feedback_waits_for_its_owners_until_dealt_with(
    app: TestApp,
) -> anyhow::Result<()> {
    let p = people(&app).await?;
    let number = write(&app, &p, "Map a network drive", "Use \\\\files\\share.").await?;
    publish(&app, &p, &number).await?;
    let path = format!("/portal/knowledge/{number}/feedback");
    // A flag says what is wrong.
    let (status, _, html) = submit(&app, &p.budi, &path, &[("flag", "outdated")]).await?;
    assert_eq!(status, 422, "a flag without a comment: {html}");
    assert!(html.contains("alert-error"), "{html}");
    let (status, _, _) = submit(
        &app,
        &p.budi,
        &path,
        &[
            ("flag", "outdated"),
            ("comment", "The share moved to files2"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &p.ani, "/knowledge/attention").await?;
    assert!(
        html.contains("The share moved to files2") && html.contains(&number),
        "the owners' queue: {html}"
    );
    let (_, home) = page(&app, &p.ani, "/").await?;
    assert!(
        home.contains("a reader flagged it or rated it low"),
        "the owners are told: {home}"
    );
    let id = action_id(&html, "/knowledge/attention/");
    let (status, location, _) = submit(
        &app,
        &p.ani,
        &format!("/knowledge/attention/{id}"),
        &[("note", "Updated the share's name")],
    )
    .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, "/knowledge/attention?notice=kb-addressed")
    );
    let (_, html) = page(&app, &p.ani, &location).await?;
    assert!(!html.contains("The share moved to files2"), "{html}");
    assert!(html.contains("id=\"attention-empty\""));
    // Dealt with once.
    let (status, _, html) = submit(
        &app,
        &p.ani,
        &format!("/knowledge/attention/{id}"),
        &[("note", "again")],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(
        html.contains("This feedback was already dealt with."),
        "{html}"
    );
    Ok(())
}

async fn the_versions_page_shows_the_lines_added_and_removed(app: TestApp) -> anyhow::Result<()> {
    let p = people(&app).await?;
    let number = write(
        &app,
        &p,
        "Restart the router",
        "Unplug it.\nWait ten seconds.\nPlug it in.\n",
    )
    .await?;
    publish(&app, &p, &number).await?;
    // Editing the published article starts a new draft.
    let (_, html) = page(&app, &p.ani, &format!("/knowledge/{number}")).await?;
    let version = value_of(&html, "version");
    let (status, location, html) = submit(
        &app,
        &p.ani,
        &format!("/knowledge/{number}"),
        &[
            ("version", version.as_str()),
            ("short_description", "Restart the router"),
            ("summary", "What to do, step by step."),
            (
                "description",
                "Unplug it.\nWait thirty seconds.\nPlug it in.\n",
            ),
        ],
    )
    .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/knowledge/{number}?notice=saved").as_str()),
        "{html}"
    );
    let (_, html) = page(&app, &p.ani, &format!("/knowledge/{number}")).await?;
    assert!(
        html.contains(&format!(
            "/knowledge/{number}?version=2\">Version 2</a> · Draft"
        )),
        "a new draft: {html}"
    );
    assert!(html.contains("state-draft"));
    // Readers still read the published version.
    let (_, html) = page(&app, &p.budi, &format!("/portal/knowledge/{number}")).await?;
    assert!(html.contains("Wait ten seconds.") && !html.contains("thirty"));

    let (status, html) = page(&app, &p.ani, &format!("/knowledge/{number}/versions")).await?;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-version=\"1\"") && html.contains("data-version=\"2\""),
        "{html}"
    );
    let (status, html) = page(
        &app,
        &p.ani,
        &format!("/knowledge/{number}/versions?from=1&to=2"),
    )
    .await?;
    assert_eq!(status, 200);
    let added = rows(&html, "diff-added");
    let removed = rows(&html, "diff-removed");
    assert!(
        added.len() == 1 && added.iter().any(|r| r.contains("Wait thirty seconds.")),
        "{added:?}"
    );
    assert!(
        removed.len() == 1 && removed.iter().any(|r| r.contains("Wait ten seconds.")),
        "{removed:?}"
    );
    assert!(
        rows(&html, "diff-same")
            .iter()
            .any(|r| r.contains("Unplug it.")),
        "kept lines are shown"
    );
    // An unknown version is refused with a reason.
    let (status, html) = page(
        &app,
        &p.ani,
        &format!("/knowledge/{number}/versions?from=1&to=9"),
    )
    .await?;
    assert_eq!(status, 200);
    assert!(html.contains("alert-error"), "{html}");
    Ok(())
}

async fn hostile_markdown_never_becomes_markup(app: TestApp) -> anyhow::Result<()> {
    let p = people(&app).await?;
    let body = "Hello <script>alert('x')</script>\n\n[click](javascript:alert(1))\n\n<img src=x onerror=alert(2)>\n\n<a href=\"javascript:alert(3)\">raw</a>\n";
    let clean = |html: &str, at: &str| {
        assert!(!html.contains("<script>alert"), "{at}: {html}");
        assert!(!html.contains("<a href=\"javascript:"), "{at}: {html}");
        assert!(!html.contains("<a href=javascript:"), "{at}: {html}");
        assert!(
            !html.contains("<img src=\"x\"") && !html.contains("<img src=x"),
            "{at}"
        );
        assert!(!html.contains("onerror=alert(2)>"), "{at}");
        assert!(!html.contains("<b>now</b>"), "{at}");
    };
    let (status, _, html) = submit(
        &app,
        &p.ani,
        "/knowledge",
        &[
            ("short_description", "Careful <b>now</b>"),
            ("description", body),
            ("knowledge_base", "IT help"),
            ("preview", "1"),
        ],
    )
    .await?;
    assert_eq!(status, 200);
    clean(&html, "the preview");
    let number = write(&app, &p, "Careful <b>now</b>", body).await?;
    let (_, html) = page(&app, &p.ani, &format!("/knowledge/{number}")).await?;
    clean(&html, "the article's page");
    assert!(
        html.contains("Careful &lt;b&gt;now&lt;/b&gt;") || html.contains("Careful &#60;b&#62;")
    );
    publish(&app, &p, &number).await?;
    let (_, html) = page(&app, &p.budi, &format!("/portal/knowledge/{number}")).await?;
    clean(&html, "the reader's page");
    assert!(html.contains("Hello"), "{html}");
    let (_, html) = page(&app, &p.budi, "/portal/knowledge?q=careful").await?;
    clean(&html, "the search");
    let (_, html) = page(
        &app,
        &p.ani,
        &format!("/knowledge/{number}/versions?from=1&to=1"),
    )
    .await?;
    clean(&html, "the versions");
    Ok(())
}

async fn an_incident_is_resolved_with_an_attached_article(app: TestApp) -> anyhow::Result<()> {
    let p = people(&app).await?;
    let number = write(&app, &p, "VPN drops every hour", "Renew the certificate.").await?;
    publish(&app, &p, &number).await?;
    let i = post(
        &app,
        "/incidents",
        &p.token,
        json!({"short_description": "VPN drops every hour since Monday", "caller": "ani"}),
    )
    .await?;
    let incident = i["number"].as_str().unwrap_or_default().to_owned();
    let (status, html) = page(&app, &p.ani, &format!("/incidents/{incident}")).await?;
    assert_eq!(status, 200);
    let suggested = html
        .split("id=\"suggested-articles\"")
        .nth(1)
        .unwrap_or_default();
    assert!(
        suggested.contains(&number),
        "suggested for the incident: {html}"
    );
    let (status, location, _) = submit(
        &app,
        &p.ani,
        &format!("/incidents/{incident}/articles"),
        &[("article", number.as_str())],
    )
    .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/incidents/{incident}?notice=linked").as_str())
    );
    let (_, html) = page(&app, &p.ani, &format!("/incidents/{incident}")).await?;
    assert!(html.contains("id=\"incident-articles\"") && html.contains("id=\"resolve-article\""));
    // An unknown article is refused on the incident's page.
    let (status, _, html) = submit(
        &app,
        &p.ani,
        &format!("/incidents/{incident}/articles"),
        &[("article", "KB9999999")],
    )
    .await?;
    assert_eq!(status, 422, "{html}");
    let (status, _, html) = submit(
        &app,
        &p.ani,
        &format!("/incidents/{incident}/act"),
        &[
            ("action", "resolve"),
            ("resolution_code", "solved_permanently"),
            ("resolution_notes", "Renewed the certificate"),
            ("article", number.as_str()),
        ],
    )
    .await?;
    assert_eq!(status, 303, "{html}");
    let (_, html) = page(&app, &p.ani, &format!("/knowledge/{number}")).await?;
    let linked = html.split("id=\"linked-tasks\"").nth(1).unwrap_or_default();
    assert!(
        linked.contains(&incident),
        "the article lists the incident: {html}"
    );
    // Attached ones may be removed.
    let (status, location, _) = submit(
        &app,
        &p.ani,
        &format!("/incidents/{incident}/articles/{number}/remove"),
        &[],
    )
    .await?;
    assert_eq!(
        (status, location.as_str()),
        (
            303,
            format!("/incidents/{incident}?notice=unlinked").as_str()
        )
    );

    // A known error publishes its article from the problem's page.
    let pr = post(
        &app,
        "/problems",
        &p.token,
        json!({
            "short_description": "Certificates expire unnoticed",
            "assignment_group": "Knowledge team",
            "workaround": "Renew the certificate by hand",
        }),
    )
    .await?;
    let problem = pr["number"].as_str().unwrap_or_default().to_owned();
    let (status, _, _) = submit(
        &app,
        &p.ani,
        &format!("/problems/{problem}/act"),
        &[("action", "known_error"), ("on", "true")],
    )
    .await?;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &p.ani, &format!("/problems/{problem}")).await?;
    assert!(html.contains("id=\"publish-known-error\""), "{html}");
    let (status, location, html) = submit(
        &app,
        &p.ani,
        &format!("/problems/{problem}/known-error-article"),
        &[],
    )
    .await?;
    assert_eq!(status, 303, "{html}");
    let (_, html) = page(&app, &p.ani, &location).await?;
    assert!(
        html.contains("id=\"known-error-article\"")
            && html.contains("The known-error article is published."),
        "{html}"
    );
    Ok(())
}
