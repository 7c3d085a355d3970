//! Knowledge management over HTTP: an article reviewed, published and edited in versions
//! (the published one readable until its successor is), random steps that never leave two
//! versions published, ranked search with its filters and audiences, suggestions that
//! deflect tickets, feedback sent to the owner group's queue, articles attached to incidents
//! and resolving them, known-error articles kept in step with their problem, review
//! reminders, hostile Markdown, and bad input.

use crate::incidents::{Rng, group_with};
use crate::portfolio::{get, post, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_testkit::{TestApp, both};

both!(
    an_article_is_reviewed_published_and_edited_in_versions,
    random_steps_never_publish_two_versions,
    search_ranks_title_matches_first_and_keeps_audiences,
    suggestions_deflect_tickets,
    feedback_goes_to_the_owner_groups_queue,
    incidents_attach_and_are_resolved_with_articles,
    known_error_articles_follow_their_problem,
    review_reminders_reach_the_owner_group,
    hostile_markdown_renders_safely,
    bad_input_changes_nothing,
);

/// andi writes, maya and budi review (the group "KB Team" owns the base "IT"); rina is a
/// requester.
struct Setup {
    andi: String,
    maya: String,
    budi: String,
    rina: String,
}

async fn setup(app: &TestApp) -> anyhow::Result<Setup> {
    let (_, andi) = app.person("andi", &["agent"], None).await?;
    let (_, maya) = app.person("maya", &["agent", "manager"], None).await?;
    let (_, budi) = app.person("budi", &["agent"], None).await?;
    let (_, rina) = app.person("rina", &["requester"], None).await?;
    group_with(app, "KB Team", &["andi", "maya", "budi"]).await?;
    post(
        app,
        "/knowledge_bases",
        &maya,
        json!({"name": "IT", "description": "How to use IT", "owner_group": "KB Team"}),
    )
    .await?;
    Ok(Setup {
        andi,
        maya,
        budi,
        rina,
    })
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

async fn act(
    app: &TestApp,
    token: &str,
    key: &str,
    action: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    let path = app.api(&format!("/articles/{key}/{action}"));
    send(&app.http, Method::POST, &path, token, Some(body)).await
}

async fn patch(
    app: &TestApp,
    token: &str,
    key: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    let path = app.api(&format!("/articles/{key}"));
    send(&app.http, Method::PATCH, &path, token, Some(body)).await
}

/// Decides the review of an article waiting on the token's person; how many were decided.
async fn review(app: &TestApp, token: &str, number: &str, approve: bool) -> anyhow::Result<usize> {
    let mine = get(app, "/approvals", token).await?;
    let mut n = 0;
    for a in mine.as_array().into_iter().flatten() {
        if a["task_number"] != number || a["state"] != "requested" {
            continue;
        }
        let decision = if approve { "approve" } else { "reject" };
        let (st, v) = send(
            &app.http,
            Method::POST,
            &app.api(&format!("/approvals/{}/{decision}", text(&a["id"]))),
            token,
            Some(json!({"comment": "reviewed"})),
        )
        .await?;
        anyhow::ensure!(st == StatusCode::OK, "{decision}: {st} {v}");
        n += 1;
    }
    Ok(n)
}

/// An article by andi, sent to review and approved by maya; its number.
async fn published(app: &TestApp, s: &Setup, article: Value) -> anyhow::Result<String> {
    let a = post(app, "/articles", &s.andi, article).await?;
    let number = text(&a["number"]);
    let (st, v) = act(app, &s.andi, &number, "submit", json!({})).await?;
    anyhow::ensure!(st == StatusCode::OK, "submit: {st} {v}");
    anyhow::ensure!(review(app, &s.maya, &number, true).await? == 1);
    Ok(number)
}

async fn an_article_is_reviewed_published_and_edited_in_versions(
    app: TestApp,
) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let a = post(
        &app,
        "/articles",
        &s.andi,
        json!({"title": "Connect to the VPN", "summary": "From home",
               "body": "# VPN\n\n1. Open the client\n2. Sign in\n\n| OS | Client |\n|---|---|\n| Linux | openconnect |\n\n```sh\nopenconnect vpn.example.com\n```\n"}),
    )
    .await?;
    let number = text(&a["number"]);
    assert!(number.starts_with("KB") && number.len() == 9, "{number}");
    assert_eq!(a["state"], "draft");
    assert!(a["knowledge_base"]["id"].is_string());
    assert_eq!(a["owner_group"]["display"], "KB Team", "the base's group");
    assert_eq!(a["head_version"], 1);
    // A draft is not for readers.
    let (st, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("/articles/{number}")),
        &s.rina,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // In review: the author is not asked; a reviewer sends it back, then it is asked again.
    let (st, v) = act(
        &app,
        &s.andi,
        &number,
        "submit",
        json!({"note": "please check"}),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "review");
    assert_eq!(
        review(&app, &s.andi, &number, true).await?,
        0,
        "not the author"
    );
    let (st, v) = patch(&app, &s.andi, &number, json!({"body": "changed in review"})).await?;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "in_review");
    assert_eq!(review(&app, &s.budi, &number, false).await?, 1);
    let d = get(&app, &format!("/articles/{number}"), &s.andi).await?;
    assert_eq!(d["state"], "draft", "sent back");
    let (st, _) = act(&app, &s.andi, &number, "submit", json!({})).await?;
    assert_eq!(st, StatusCode::OK);
    // The earlier rejection does not count in the new round.
    assert_eq!(review(&app, &s.maya, &number, true).await?, 1);
    let d = get(&app, &format!("/articles/{number}"), &s.rina).await?;
    assert_eq!(d["state"], "published");
    assert_eq!(d["published_version"], 1);
    let html = text(&d["html"]);
    assert!(
        html.contains("<table>") && html.contains("<td>openconnect</td>"),
        "{html}"
    );
    assert!(html.contains("<pre><code class=\"language-sh\">"), "{html}");
    assert!(html.contains("<h1>VPN</h1>"), "{html}");
    assert_eq!(d["journal"], json!([]), "readers see no journal");

    // Editing the published article starts version 2; readers still read version 1.
    let (st, v) = patch(
        &app,
        &s.andi,
        &number,
        json!({"body": "# VPN\n\nUse the new client.\n"}),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "draft");
    assert_eq!(v["head_version"], 2);
    assert_eq!(v["published_version"], 1);
    let (st, v) = patch(
        &app,
        &s.budi,
        &number,
        json!({"summary": "From home or a hotel"}),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["head_version"], 2, "a draft is edited in place");
    let d = get(&app, &format!("/articles/{number}"), &s.rina).await?;
    assert_eq!(d["read_version"]["version"], 1);
    assert!(text(&d["html"]).contains("openconnect"));
    let draft = get(&app, &format!("/articles/{number}?version=2"), &s.andi).await?;
    assert!(text(&draft["html"]).contains("new client"));
    assert_eq!(
        draft["read_version"]["author"], "Test budi",
        "its latest author"
    );

    // budi edited it last, so maya reviews.
    let (st, _) = act(&app, &s.andi, &number, "submit", json!({})).await?;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(review(&app, &s.maya, &number, true).await?, 1);
    let vs = get(&app, &format!("/articles/{number}/versions"), &s.andi).await?;
    let states: Vec<String> = vs
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| text(&v["state"]))
        .collect();
    assert_eq!(states, vec!["outdated", "published"]);
    let d = get(&app, &format!("/articles/{number}"), &s.rina).await?;
    assert!(text(&d["html"]).contains("new client"));

    // The difference of the two versions, line by line.
    let diff = get(
        &app,
        &format!("/articles/{number}/diff?from=1&to=2"),
        &s.andi,
    )
    .await?;
    let lines = diff["lines"].as_array().cloned().unwrap_or_default();
    assert!(
        lines
            .iter()
            .any(|l| l["op"] == "added" && text(&l["text"]).contains("new client"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l["op"] == "removed" && text(&l["text"]).contains("openconnect"))
    );
    let (st, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("/articles/{number}/diff?from=1&to=9")),
        &s.andi,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // The journal says who did what; requesters get no versions.
    let d = get(&app, &format!("/articles/{number}"), &s.andi).await?;
    let notes: Vec<String> = d["journal"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| text(&j["body"]))
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("version 2 published")),
        "{notes:?}"
    );
    let (st, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("/articles/{number}/versions")),
        &s.rina,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Retired, readers no longer find it.
    let (st, v) = act(
        &app,
        &s.andi,
        &number,
        "retire",
        json!({"reason": "VPN replaced"}),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "retired");
    assert_eq!(v["published_version"], Value::Null);
    let (st, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("/articles/{number}")),
        &s.rina,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let hits = get(&app, "/knowledge/search?q=vpn", &s.rina).await?;
    assert_eq!(hits["items"], json!([]));
    let (st, v) = act(&app, &s.andi, &number, "retire", json!({"reason": "again"})).await?;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    Ok(())
}

/// The acceptance's property, over HTTP: random edits, submissions, reviews, withdrawals
/// and retirements; after each, at most one version is published, the article says which,
/// and every version is still there.
async fn random_steps_never_publish_two_versions(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let a = post(
        &app,
        "/articles",
        &s.andi,
        json!({"title": "Random", "body": "v1"}),
    )
    .await?;
    let number = text(&a["number"]);
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for step in 0..40 {
        let (st, v) = match rng.below(6) {
            0 | 1 => {
                patch(
                    &app,
                    &s.andi,
                    &number,
                    json!({"body": format!("edit {step}")}),
                )
                .await?
            }
            2 => act(&app, &s.andi, &number, "submit", json!({})).await?,
            3 => {
                let approve = rng.below(3) > 0;
                review(&app, &s.maya, &number, approve).await?;
                (StatusCode::OK, Value::Null)
            }
            4 => act(&app, &s.andi, &number, "withdraw", json!({})).await?,
            _ => {
                act(
                    &app,
                    &s.andi,
                    &number,
                    "retire",
                    json!({"reason": "random"}),
                )
                .await?
            }
        };
        assert!(
            st == StatusCode::OK || st == StatusCode::CONFLICT,
            "step {step}: {st} {v}"
        );
        let d = get(&app, &format!("/articles/{number}"), &s.andi).await?;
        let vs = get(&app, &format!("/articles/{number}/versions"), &s.andi).await?;
        let list = vs.as_array().cloned().unwrap_or_default();
        let published: Vec<i64> = list
            .iter()
            .filter(|v| v["state"] == "published")
            .filter_map(|v| v["version"].as_i64())
            .collect();
        assert!(published.len() <= 1, "step {step}: {list:?}");
        assert_eq!(
            d["published_version"].as_i64(),
            published.first().copied(),
            "step {step}"
        );
        assert_eq!(
            d["head_version"].as_i64(),
            Some(list.len() as i64),
            "step {step}"
        );
        for (i, v) in list.iter().enumerate() {
            assert_eq!(v["version"].as_i64(), Some(i as i64 + 1), "step {step}");
            let one = get(
                &app,
                &format!("/articles/{number}?version={}", i + 1),
                &s.andi,
            )
            .await?;
            assert_eq!(one["read_version"]["version"].as_i64(), Some(i as i64 + 1));
        }
        let head = list.last().map(|v| text(&v["state"])).unwrap_or_default();
        let state = text(&d["state"]);
        assert!(
            state == head || (state == "retired" && head == "outdated"),
            "step {step}: {state} {head}"
        );
        // Readers see exactly the published version, or nothing.
        let (st, r) = send(
            &app.http,
            Method::GET,
            &app.api(&format!("/articles/{number}")),
            &s.rina,
            None,
        )
        .await?;
        match published.first() {
            Some(n) => assert_eq!(r["read_version"]["version"].as_i64(), Some(*n)),
            None => assert_eq!(st, StatusCode::NOT_FOUND, "step {step}"),
        }
    }
    Ok(())
}

async fn search_ranks_title_matches_first_and_keeps_audiences(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let acme = app.organization("Acme", "customer").await?;
    let (_, ani) = app.person("ani", &["requester"], Some("Acme")).await?;
    // The body mentions printers once; the other's title has the word.
    let body_only = published(
        &app,
        &s,
        json!({"title": "Office handbook", "body": "Welcome. Desks, chairs and the printer on floor 3 are shared. Coffee is free."}),
    )
    .await?;
    let title = published(
        &app,
        &s,
        json!({"title": "Printer jams on tray 2", "body": "Open the tray and remove the paper."}),
    )
    .await?;
    let hits = get(&app, "/knowledge/search?q=printer", &s.rina).await?;
    let order: Vec<String> = hits["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| text(&h["number"]))
        .collect();
    assert_eq!(order, vec![title.clone(), body_only.clone()]);
    // Stems: "printers" finds "printer", "jammed" finds "jams".
    let hits = get(&app, "/knowledge/search?q=printers%20jammed", &s.rina).await?;
    let order: Vec<String> = hits["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| text(&h["number"]))
        .collect();
    assert_eq!(order, vec![title.clone()]);

    // Filters: language and knowledge base.
    post(
        &app,
        "/knowledge_bases",
        &s.maya,
        json!({"name": "HR IT", "owner_group": "KB Team"}),
    )
    .await?;
    let id_article = published(
        &app,
        &s,
        json!({"title": "Printer macet", "body": "Buka baki kertas.", "language": "id", "knowledge_base": "HR IT"}),
    )
    .await?;
    let hits = get(&app, "/knowledge/search?q=printer&language=id", &s.rina).await?;
    let order: Vec<String> = hits["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| text(&h["number"]))
        .collect();
    assert_eq!(order, vec![id_article.clone()]);
    let hits = get(
        &app,
        "/knowledge/search?q=printer&knowledge_base=IT",
        &s.rina,
    )
    .await?;
    assert_eq!(hits["items"].as_array().map(Vec::len), Some(2));

    // Audiences: agents only, and one organization.
    let internal = published(
        &app,
        &s,
        json!({"title": "Printer server restart", "body": "Internal steps", "audience": "agents", "knowledge_base": "IT"}),
    )
    .await?;
    let theirs = published(
        &app,
        &s,
        json!({"title": "Printer for Acme", "body": "Acme's printer", "audience": "organizations", "organizations": ["Acme"], "knowledge_base": "IT"}),
    )
    .await?;
    let _ = acme;
    let seen = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| text(&h["number"]))
            .collect()
    };
    let rina_sees = seen(&get(&app, "/knowledge/search?q=printer&limit=50", &s.rina).await?);
    assert!(
        !rina_sees.contains(&internal) && !rina_sees.contains(&theirs),
        "{rina_sees:?}"
    );
    let ani_sees = seen(&get(&app, "/knowledge/search?q=printer&limit=50", &ani).await?);
    assert!(
        ani_sees.contains(&theirs) && !ani_sees.contains(&internal),
        "{ani_sees:?}"
    );
    let desk_sees = seen(&get(&app, "/knowledge/search?q=printer&limit=50", &s.andi).await?);
    assert!(desk_sees.contains(&theirs) && desk_sees.contains(&internal));
    let (st, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("/articles/{internal}")),
        &s.rina,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Views are counted; without words the most read come first.
    for _ in 0..3 {
        post(
            &app,
            &format!("/articles/{body_only}/views"),
            &s.rina,
            json!({}),
        )
        .await?;
    }
    let d = get(&app, &format!("/articles/{body_only}"), &s.rina).await?;
    assert_eq!(d["stats"]["views"], 3);
    let top = seen(&get(&app, "/knowledge/search?knowledge_base=IT&limit=1", &s.rina).await?);
    assert_eq!(top, vec![body_only.clone()]);

    // Words are only words: search syntax is not passed on.
    for q in [
        "printer\"",
        "printer*",
        "NOT printer",
        "printer OR",
        "a & b | !c",
        "\"",
        ":*",
        "((",
    ] {
        let (st, v) = send(
            &app.http,
            Method::GET,
            &app.api(&format!("/knowledge/search?q={}", urlencode(q))),
            &s.rina,
            None,
        )
        .await?;
        assert_eq!(st, StatusCode::OK, "{q}: {v}");
    }
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn suggestions_deflect_tickets(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let number = published(
        &app,
        &s,
        json!({"title": "Reset your password", "summary": "Forgot it? Reset it yourself.", "body": "Go to the sign-in page and choose *Forgot password*."}),
    )
    .await?;
    // While typing: nothing under three letters, then the unfinished word matches.
    let hits = get(&app, "/knowledge/suggest?q=pa", &s.rina).await?;
    assert_eq!(hits["items"], json!([]));
    let hits = get(
        &app,
        "/knowledge/suggest?q=I%20forgot%20my%20passw",
        &s.rina,
    )
    .await?;
    assert_eq!(hits["items"][0]["number"], number.as_str(), "{hits}");
    // A sentence no article has every word of still finds those with some.
    let hits = get(
        &app,
        "/knowledge/suggest?q=laptop%20forgot%20passw",
        &s.rina,
    )
    .await?;
    assert_eq!(hits["items"][0]["number"], number.as_str(), "{hits}");
    assert_eq!(
        hits["items"][0]["url"],
        format!("/portal/knowledge/{number}")
    );
    // "This solved my problem": no incident, one deflection.
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/articles/{number}/solved")),
        &s.rina,
        Some(json!({"query": "I forgot my password"})),
    )
    .await?;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let d = get(&app, &format!("/articles/{number}"), &s.andi).await?;
    assert_eq!(d["stats"]["deflections"], 1);
    let mine = get(&app, "/incidents", &s.rina).await?;
    assert_eq!(mine["items"], json!([]), "no incident was opened");
    Ok(())
}

async fn feedback_goes_to_the_owner_groups_queue(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let (_, eko) = app.person("eko", &["agent"], None).await?;
    let number = published(
        &app,
        &s,
        json!({"title": "Map a network drive", "body": "Open Explorer."}),
    )
    .await?;
    let path = format!("/articles/{number}/feedback");
    let f = post(&app, &path, &s.rina, json!({"helpful": true, "rating": 5})).await?;
    assert_eq!(f["attention"], false);
    let low = post(
        &app,
        &path,
        &s.rina,
        json!({"rating": 1, "comment": "did not work"}),
    )
    .await?;
    assert_eq!(low["attention"], true);
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&path),
        &s.rina,
        Some(json!({"flag": "outdated"})),
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a flag says why: {v}");
    let flag = post(
        &app,
        &path,
        &s.rina,
        json!({"flag": "outdated", "comment": "Explorer looks different now"}),
    )
    .await?;
    assert_eq!(flag["attention"], true);
    let d = get(&app, &format!("/articles/{number}"), &s.rina).await?;
    assert_eq!(d["stats"]["helpful_yes"], 1);
    assert_eq!(d["stats"]["ratings"], 2);
    assert_eq!(d["stats"]["rating"], 3.0);

    // The owner group sees both; an agent of no owner group sees none.
    let queue = get(&app, "/knowledge/attention", &s.budi).await?;
    assert_eq!(queue.as_array().map(Vec::len), Some(2), "{queue}");
    let other = get(&app, "/knowledge/attention", &eko).await?;
    assert_eq!(other, json!([]));
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/knowledge/attention/{}", text(&flag["id"]))),
        &eko,
        Some(json!({"note": "x"})),
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let done = post(
        &app,
        &format!("/knowledge/attention/{}", text(&flag["id"])),
        &s.budi,
        json!({"note": "screenshots updated"}),
    )
    .await?;
    assert_eq!(done["addressed_by"]["display"], "Test budi");
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/knowledge/attention/{}", text(&flag["id"]))),
        &s.budi,
        Some(json!({"note": "again"})),
    )
    .await?;
    assert_eq!(st, StatusCode::CONFLICT);
    let queue = get(&app, "/knowledge/attention", &s.budi).await?;
    assert_eq!(queue.as_array().map(Vec::len), Some(1));
    // The owners were told.
    let notes = get(&app, "/me/notifications", &s.budi).await?;
    let kinds: Vec<String> = notes
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| text(&n["kind"]))
        .collect();
    assert!(
        kinds.iter().any(|k| k == "kb_feedback_attention"),
        "{kinds:?}"
    );
    Ok(())
}

async fn incidents_attach_and_are_resolved_with_articles(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let number = published(
        &app,
        &s,
        json!({"title": "Outlook does not start", "body": "Start it in safe mode."}),
    )
    .await?;
    let draft = post(
        &app,
        "/articles",
        &s.andi,
        json!({"title": "Unfinished", "body": "…"}),
    )
    .await?;
    let i = post(
        &app,
        "/incidents",
        &s.rina,
        json!({"short_description": "Outlook will not open"}),
    )
    .await?;
    let inc = text(&i["number"]);
    let list = post(
        &app,
        &format!("/incidents/{inc}/articles"),
        &s.andi,
        json!({"article": number}),
    )
    .await?;
    assert_eq!(list[0]["number"], number.as_str());
    assert_eq!(list[0]["link"], "attached");
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{inc}/articles")),
        &s.andi,
        Some(json!({"article": text(&draft["number"])})),
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "not published: {v}");
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{inc}/articles")),
        &s.rina,
        Some(json!({"article": number})),
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN, "the desk attaches");
    // The caller sees what was attached.
    let theirs = get(&app, &format!("/incidents/{inc}/articles"), &s.rina).await?;
    assert_eq!(theirs.as_array().map(Vec::len), Some(1));
    // Resolved with the article.
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{inc}/resolve")),
        &s.andi,
        Some(json!({"resolution_code": "solved_workaround", "resolution_notes": "safe mode", "article": number})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    let list = get(&app, &format!("/incidents/{inc}/articles"), &s.andi).await?;
    let links: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| text(&l["link"]))
        .collect();
    assert!(links.contains(&"resolved".to_owned()), "{links:?}");
    // The article shows the incident.
    let d = get(&app, &format!("/articles/{number}"), &s.andi).await?;
    let linked: Vec<String> = d["linked"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| text(&l["number"]))
        .collect();
    assert!(linked.contains(&inc), "{linked:?}");
    let (st, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/incidents/{inc}/articles/{number}")),
        &s.andi,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::OK);
    Ok(())
}

async fn known_error_articles_follow_their_problem(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let p = post(
        &app,
        "/problems",
        &s.andi,
        json!({"short_description": "Wi-Fi drops every hour", "symptoms": "Laptops lose Wi-Fi on the hour",
               "workaround": "Reconnect to the network", "root_cause": "DHCP lease of one hour"}),
    )
    .await?;
    let prb = text(&p["number"]);
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/problems/{prb}/known_error_article")),
        &s.andi,
        Some(json!({})),
    )
    .await?;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not yet a known error"
    );
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/problems/{prb}/known_error")),
        &s.andi,
        Some(json!({})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    let a = post(
        &app,
        &format!("/problems/{prb}/known_error_article"),
        &s.andi,
        json!({}),
    )
    .await?;
    let number = text(&a["number"]);
    assert_eq!(a["state"], "published");
    let d = get(&app, &format!("/articles/{number}"), &s.rina).await?;
    let html = text(&d["html"]);
    assert!(
        html.contains("Reconnect to the network") && html.contains("DHCP lease"),
        "{html}"
    );
    // Asked again: the same article.
    let again = post(
        &app,
        &format!("/problems/{prb}/known_error_article"),
        &s.andi,
        json!({}),
    )
    .await?;
    assert_eq!(again["number"], number.as_str());
    // The work-around changes: a new version is published.
    let (st, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/problems/{prb}")),
        &s.andi,
        Some(json!({"workaround": "Use the cable network"})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = get(&app, &format!("/articles/{number}"), &s.rina).await?;
    assert_eq!(d["published_version"], 2);
    assert!(text(&d["html"]).contains("Use the cable network"));
    assert!(!text(&d["html"]).contains("Reconnect to the network"));
    let d = get(&app, &format!("/articles/{number}"), &s.andi).await?;
    let linked: Vec<String> = d["linked"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| text(&l["number"]))
        .collect();
    assert!(
        linked.contains(&prb),
        "the article shows its problem: {linked:?}"
    );
    // Canceled, the problem no longer writes it.
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/problems/{prb}/cancel")),
        &s.andi,
        Some(json!({"reason": "duplicate"})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = get(&app, &format!("/articles/{number}"), &s.andi).await?;
    assert_eq!(d["published_version"], 2);
    Ok(())
}

async fn review_reminders_reach_the_owner_group(app: TestApp) -> anyhow::Result<()> {
    use sigap_domain::Clock;
    let s = setup(&app).await?;
    let now = app.clock.now();
    let soon = now
        .checked_add(jiff::SignedDuration::from_hours(7 * 24))?
        .to_string();
    let later = now
        .checked_add(jiff::SignedDuration::from_hours(60 * 24))?
        .to_string();
    let due = published(
        &app,
        &s,
        json!({"title": "Due soon", "body": "x", "review_at": soon}),
    )
    .await?;
    published(
        &app,
        &s,
        json!({"title": "Due later", "body": "y", "review_at": later}),
    )
    .await?;
    let n = sigap_core::knowledge::remind_reviews(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(n, 1);
    let n = sigap_core::knowledge::remind_reviews(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(n, 0, "once per review date");
    let notes = get(&app, "/me/notifications", &s.budi).await?;
    let subjects: Vec<String> = notes
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["kind"] == "kb_review_due")
        .map(|n| text(&n["subject"]))
        .collect();
    assert_eq!(subjects.len(), 1, "{notes}");
    assert!(subjects[0].starts_with(&due));
    Ok(())
}

async fn hostile_markdown_renders_safely(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let body = "<script>alert(1)</script>\n\n[click](javascript:alert(2))\n\n<img src=x onerror=alert(3)>\n\n![x](data:image/svg+xml;base64,PHN2Zz4=)\n\n[ok](https://example.com)";
    let number = published(&app, &s, json!({"title": "Hostile", "body": body})).await?;
    let d = get(&app, &format!("/articles/{number}"), &s.rina).await?;
    let html = text(&d["html"]);
    for bad in ["<script", "javascript:", "data:image/svg"] {
        assert!(!html.to_lowercase().contains(bad), "{bad} in {html}");
    }
    assert!(
        html.contains("&lt;script&gt;"),
        "raw HTML shows as text: {html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(3)&gt;"),
        "{html}"
    );
    assert_eq!(html.matches("onerror").count(), 1, "only as text: {html}");
    assert!(html.contains("href=\"https://example.com\""));
    let p = post(&app, "/knowledge/preview", &s.andi, json!({"body": body})).await?;
    assert_eq!(text(&p["html"]), html);
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api("/knowledge/preview"),
        &s.rina,
        Some(json!({"body": "x"})),
    )
    .await?;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "the editor's preview is the desk's"
    );
    Ok(())
}

async fn bad_input_changes_nothing(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"body": "no title"}), "title"),
        (json!({"title": "no body"}), "body"),
        (json!({"title": 5, "body": "x"}), ""),
        (json!({"title": "x", "body": "x", "caller": "andi"}), ""),
        (
            json!({"title": "x", "body": "x", "language": "fr"}),
            "language",
        ),
        (
            json!({"title": "x", "body": "x", "audience": "martians"}),
            "audience",
        ),
        (
            json!({"title": "x", "body": "x", "knowledge_base": "Nope"}),
            "knowledge_base",
        ),
        (
            json!({"title": "x", "body": "x", "owner_group": "Nope"}),
            "owner_group",
        ),
        (
            json!({"title": "x", "body": "x", "category": "Nope / Never"}),
            "category",
        ),
        (json!({"title": "x".repeat(500), "body": "x"}), "title"),
        (
            json!({"title": "x", "body": "x", "valid_to": "tomorrow"}),
            "",
        ),
        (
            json!({"title": "x", "body": "x", "translation_of": "KB9999999"}),
            "translation_of",
        ),
        (
            json!({"title": "x", "body": "x", "services": ["No such service"]}),
            "services",
        ),
    ];
    for (body, field) in cases {
        let (st, v) = send(
            &app.http,
            Method::POST,
            &app.api("/articles"),
            &s.andi,
            Some(body.clone()),
        )
        .await?;
        assert!(
            st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::BAD_REQUEST,
            "{body}: {st} {v}"
        );
        if !field.is_empty() {
            let fields: Vec<String> = v["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| text(&e["field"]))
                .collect();
            assert!(fields.contains(&field.to_owned()), "{body}: {v}");
        }
    }
    // Malformed JSON and a requester writing.
    let resp = app
        .http
        .post(app.api("/articles"))
        .header("authorization", format!("Bearer {}", s.andi))
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api("/articles"),
        &s.rina,
        Some(json!({"title": "x", "body": "x"})),
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let list = get(&app, "/articles", &s.andi).await?;
    assert_eq!(list["items"], json!([]), "nothing was written");
    // Feedback out of range, an unknown action, an unknown article.
    let number = published(&app, &s, json!({"title": "Fine", "body": "ok"})).await?;
    for body in [
        json!({"rating": 9}),
        json!({"flag": "boring", "comment": "x"}),
        json!({}),
        json!({"helpful": "yes"}),
    ] {
        let (st, v) = send(
            &app.http,
            Method::POST,
            &app.api(&format!("/articles/{number}/feedback")),
            &s.rina,
            Some(body.clone()),
        )
        .await?;
        assert!(
            st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::BAD_REQUEST,
            "{body}: {st} {v}"
        );
    }
    let (st, _) = act(&app, &s.andi, &number, "explode", json!({})).await?;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = send(
        &app.http,
        Method::GET,
        &app.api("/articles/KB0999999"),
        &s.andi,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = send(
        &app.http,
        Method::GET,
        &app.api("/knowledge/search?limit=1000"),
        &s.rina,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let d = get(&app, &format!("/articles/{number}"), &s.andi).await?;
    assert_eq!(d["stats"]["ratings"], 0);
    // A knowledge base needs a name of its own; categories belong to their base.
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api("/knowledge_bases"),
        &s.maya,
        Some(json!({"name": "it"})),
    )
    .await?;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "names are unique whatever the case"
    );
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api("/knowledge_bases"),
        &s.andi,
        Some(json!({"name": "Mine"})),
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN, "managers make bases");
    post(
        &app,
        "/knowledge_bases/IT/categories",
        &s.maya,
        json!({"name": "Network"}),
    )
    .await?;
    post(
        &app,
        "/knowledge_bases/IT/categories",
        &s.maya,
        json!({"name": "VPN", "parent": "Network"}),
    )
    .await?;
    let b = get(&app, "/knowledge_bases/IT", &s.andi).await?;
    let paths: Vec<String> = b["categories"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| text(&c["path"]))
        .collect();
    assert_eq!(paths, vec!["Network", "Network / VPN"]);
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api("/knowledge_bases/IT/categories"),
        &s.maya,
        Some(json!({"name": "VPN", "parent": "Network"})),
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let a = post(
        &app,
        "/articles",
        &s.andi,
        json!({"title": "In a category", "body": "x", "category": "network/vpn"}),
    )
    .await;
    assert!(a.is_err(), "paths match exactly");
    let a = post(
        &app,
        "/articles",
        &s.andi,
        json!({"title": "In a category", "body": "x", "category": "Network / VPN"}),
    )
    .await?;
    assert!(a["category"]["id"].is_string());
    Ok(())
}
