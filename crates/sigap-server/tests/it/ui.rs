//! The HTML interface: pages, languages, and no external URLs.

use sigap_testkit::{ADMIN_PASSWORD, TestApp, both, client};

both!(
    pages_render_in_both_languages_without_external_urls,
    non_admins_do_not_get_admin_pages,
    a_service_walks_its_lifecycle_in_the_ui,
    cmdb_pages_show_relationships_and_impact,
    administrators_define_ci_classes_in_the_ui,
    incident_pages_for_agents_and_the_portal,
    administrators_edit_the_priority_matrix,
    queues_keep_views_and_pages_take_files,
    administrators_manage_categories_and_assignment_rules,
    problem_pages_take_incidents_from_workaround_to_fix,
);

fn no_external_urls(html: &str, page: &str) {
    for attr in ["src=\"", "href=\"", "action=\""] {
        for part in html.split(attr).skip(1) {
            let value = part.split('"').next().unwrap_or("");
            assert!(
                !(value.starts_with("http:")
                    || value.starts_with("https:")
                    || value.starts_with("//")),
                "{page} references {value}"
            );
        }
    }
}

async fn pages_render_in_both_languages_without_external_urls(app: TestApp) -> anyhow::Result<()> {
    // Anonymous: English by default, Indonesian by Accept-Language.
    let anon = client(false)?;
    let login = anon.get(app.page("/login")).send().await?.text().await?;
    assert!(login.contains("<html lang=\"en\">") && login.contains("Sign in"));
    let masuk = anon
        .get(app.page("/login"))
        .header("accept-language", "id-ID,id;q=0.9")
        .send()
        .await?
        .text()
        .await?;
    assert!(masuk.contains("<html lang=\"id\">") && masuk.contains("Masuk"));
    let redirect = anon.get(app.page("/admin/people")).send().await?;
    assert_eq!(
        redirect
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/login?next=%2Fadmin%2Fpeople")
    );

    let browser = app.browser("admin", ADMIN_PASSWORD).await?;
    let org = app.organization("Contoso", "customer").await?;
    let group = sigap_core::groups::create(
        &app.core,
        &sigap_core::Ctx::system("test"),
        sigap_core::groups::GroupInput {
            name: Some("Network".into()),
            group_type: Some("technical".into()),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let admin = sigap_core::people::get(&app.core, &sigap_core::Ctx::system("test"), "admin")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let pages = [
        "/".to_owned(),
        "/profile".to_owned(),
        "/admin/people".to_owned(),
        format!("/admin/people/{}", admin.id),
        "/admin/groups".to_owned(),
        format!("/admin/groups/{}", group.id),
        "/admin/organizations".to_owned(),
        format!("/admin/organizations/{}", org.id),
    ];
    for lang in ["en", "id"] {
        let resp = browser
            .post(app.page("/language"))
            .header("origin", &app.url)
            .form(&[("lang", lang), ("back", "/")])
            .send()
            .await?;
        assert_eq!(resp.status(), 303);
        for page in &pages {
            let resp = browser.get(app.page(page)).send().await?;
            assert_eq!(resp.status(), 200, "{page}");
            assert!(resp.headers().get("content-security-policy").is_some());
            let html = resp.text().await?;
            assert!(
                html.contains(&format!("<html lang=\"{lang}\">")),
                "{page} in {lang}"
            );
            assert!(html.contains("nav class=\"main-nav\""));
            no_external_urls(&html, page);
        }
    }
    let home = browser.get(app.page("/")).send().await?.text().await?;
    assert!(
        home.contains("Status sistem"),
        "the admin's home in Indonesian"
    );
    assert!(
        home.contains("Grup tanpa anggota") && home.contains("Network"),
        "what waits: a group without members"
    );
    // The choice is remembered on the person.
    let me = sigap_core::people::get(&app.core, &sigap_core::Ctx::system("test"), "admin")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(me.locale, sigap_domain::Locale::Id);
    // Forms show field errors in the page's language.
    let resp = browser
        .post(app.page("/admin/groups"))
        .header("origin", &app.url)
        .form(&[("name", ""), ("type", "nonsense")])
        .send()
        .await?;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await?;
    assert!(
        html.contains("alert-error") && html.contains("wajib diisi"),
        "{html}"
    );
    // A refused form keeps what was typed.
    let resp = browser
        .post(app.page("/admin/groups"))
        .header("origin", &app.url)
        .form(&[
            ("name", "Keep Me"),
            ("type", "application"),
            ("manager", "ghost"),
        ])
        .send()
        .await?;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await?;
    assert!(
        html.contains("value=\"Keep Me\"") && html.contains("value=\"ghost\""),
        "typed values kept"
    );
    assert!(html.contains("<option value=\"application\" selected>"));
    // Creating through the form lands on the record.
    let resp = browser
        .post(app.page("/admin/groups"))
        .header("origin", &app.url)
        .form(&[
            ("name", "Service Desk"),
            ("type", "service_desk"),
            ("manager", "admin"),
        ])
        .send()
        .await?;
    assert_eq!(resp.status(), 303);
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let html = browser
        .get(app.page(&location))
        .send()
        .await?
        .text()
        .await?;
    assert!(html.contains("Service Desk") && html.contains("Dibuat."));
    // Static assets are served from the binary.
    let css = browser.get(app.page("/assets/sigap.css")).send().await?;
    assert_eq!(
        css.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/css; charset=utf-8")
    );
    let missing = browser.get(app.page("/no/such/page")).send().await?;
    assert_eq!(missing.status(), 404);
    Ok(())
}

async fn non_admins_do_not_get_admin_pages(app: TestApp) -> anyhow::Result<()> {
    app.person("ani", &["agent"], None).await?;
    let browser = app.browser("ani", "ani-password-1").await?;
    let home = browser.get(app.page("/")).send().await?.text().await?;
    assert!(
        !home.contains("href=\"/admin\"") && !home.contains("href=\"/admin/people\""),
        "no admin links for agents"
    );
    assert!(home.contains("Your groups"));
    // The top bar groups the desk's and service management's pages.
    assert!(home.contains("Service desk") && home.contains("Service management"));
    for page in [
        "/admin",
        "/admin/people",
        "/admin/groups",
        "/admin/organizations",
    ] {
        assert_eq!(
            browser.get(app.page(page)).send().await?.status(),
            403,
            "{page}"
        );
    }
    // A page handler's error becomes the error page in the viewer's language, in the frame.
    let refused = browser.get(app.page("/admin")).send().await?;
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/html")),
        "an HTML page"
    );
    let html = refused.text().await?;
    assert!(
        html.contains("You are not allowed to do this.") && html.contains("Service desk"),
        "{html}"
    );
    let resp = browser
        .post(app.page("/admin/organizations"))
        .header("origin", &app.url)
        .form(&[("name", "X"), ("kind", "customer")])
        .send()
        .await?;
    assert_eq!(resp.status(), 403, "refused");
    // An administrator's top bar leads to the hub, which lists every administration page.
    let admin = app.browser("admin", sigap_testkit::ADMIN_PASSWORD).await?;
    let home = admin.get(app.page("/")).send().await?.text().await?;
    assert!(home.contains("href=\"/admin\""), "{home}");
    let hub = admin.get(app.page("/admin")).send().await?.text().await?;
    for link in [
        "/admin/people",
        "/admin/groups",
        "/admin/organizations",
        "/admin/locations",
        "/admin/priority-matrix",
        "/admin/incident-categories",
        "/admin/assignment-rules",
        "/sla/calendars",
        "/sla/agreements",
        "/admin/ci-classes",
    ] {
        assert!(
            hub.contains(&format!("href=\"{link}\"")),
            "{link} on the hub"
        );
        let status = admin.get(app.page(link)).send().await?.status();
        assert_eq!(status, 200, "{link}");
    }
    Ok(())
}

/// Posts a form from the signed-in browser and returns the status and where it leads.
pub async fn submit(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> anyhow::Result<(u16, String, String)> {
    let resp = browser
        .post(app.page(path))
        .header("origin", &app.url)
        .form(form)
        .send()
        .await?;
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = resp.text().await?;
    Ok((status, location, body))
}

async fn a_service_walks_its_lifecycle_in_the_ui(app: TestApp) -> anyhow::Result<()> {
    app.person("agnes", &["agent"], None).await?;
    app.person("pm", &["agent", "portfolio_manager"], None)
        .await?;
    let agent = app.browser("agnes", "agnes-password-1").await?;
    let pm = app.browser("pm", "pm-password-1").await?;
    let board = agent
        .get(app.page("/services"))
        .send()
        .await?
        .text()
        .await?;
    assert!(board.contains("id=\"portfolio-board\""), "the board");
    no_external_urls(&board, "/services");
    let (status, location, _) = submit(
        &app,
        &agent,
        "/services",
        &[
            ("name", "Video conferencing"),
            ("criticality", "2"),
            ("owner", "agnes"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let page = location.split('?').next().unwrap_or_default().to_owned();
    let id = page.trim_start_matches("/services/").to_owned();
    let version = |html: &str| -> String {
        html.split("name=\"version\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("0")
            .to_owned()
    };
    let mut html = agent.get(app.page(&page)).send().await?.text().await?;
    for stage in ["analyse", "approve"] {
        let v = version(&html);
        let (status, _, _) = submit(
            &app,
            &agent,
            &format!("{page}/stage"),
            &[("stage", stage), ("reason", "ready"), ("version", &v)],
        )
        .await?;
        assert_eq!(status, 303, "{stage}");
        html = agent.get(app.page(&page)).send().await?.text().await?;
    }
    assert!(
        html.contains("portfolio manager"),
        "the decision hint at approve"
    );
    // The agent is refused the decision, in words, and nothing moves.
    let v = version(&html);
    let (status, _, body) = submit(
        &app,
        &agent,
        &format!("{page}/stage"),
        &[("stage", "charter"), ("reason", "go"), ("version", &v)],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(body.contains("alert-error"), "{body}");
    let svc = sigap_core::portfolio::get(&app.core, &sigap_core::Ctx::system("test"), &id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(svc.stage, sigap_domain::Stage::Approve);
    // The portfolio manager decides; the agent carries on to the catalogue.
    let (status, _, _) = submit(
        &app,
        &pm,
        &format!("{page}/stage"),
        &[("stage", "charter"), ("reason", "funded"), ("version", &v)],
    )
    .await?;
    assert_eq!(status, 303);
    for stage in ["design", "transition", "operational"] {
        html = agent.get(app.page(&page)).send().await?.text().await?;
        let v = version(&html);
        let (status, _, _) = submit(
            &app,
            &agent,
            &format!("{page}/stage"),
            &[("stage", stage), ("reason", "done"), ("version", &v)],
        )
        .await?;
        assert_eq!(status, 303, "{stage}");
    }
    let (status, _, _) = submit(
        &app,
        &agent,
        &format!("{page}/offerings"),
        &[("name", "Meeting rooms"), ("availability_hours", "Mon-Fri")],
    )
    .await?;
    assert_eq!(status, 303);
    // The design package is edited as lines; a malformed line is refused with its field.
    html = agent.get(app.page(&page)).send().await?.text().await?;
    let v = version(&html);
    let (status, _, body) = submit(
        &app,
        &agent,
        &page,
        &[("version", &v), ("requirements", "sometimes | HD video")],
    )
    .await?;
    assert_eq!(status, 422, "{body}");
    let (status, _, _) = submit(
        &app,
        &agent,
        &page,
        &[
            ("version", &v),
            ("requirements", "must | HD video\nshould | Recording"),
            ("targets", "availability | 99.5 %"),
            ("risks", "Bandwidth | medium | high | QoS on the WAN"),
            ("review_date", "2027-05-01"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    html = agent.get(app.page(&page)).send().await?.text().await?;
    assert!(
        html.contains("should | Recording")
            && html.contains("Bandwidth | medium | high | QoS on the WAN")
    );
    assert!(html.contains("Meeting rooms"));
    // Retiring from the page deactivates the offering.
    let v = version(&html);
    let (status, _, _) = submit(
        &app,
        &agent,
        &format!("{page}/stage"),
        &[
            ("stage", "retired"),
            ("reason", "replaced"),
            ("version", &v),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let offerings = sigap_core::portfolio::detail(&app.core, &sigap_core::Ctx::system("test"), &id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .offerings;
    assert!(offerings.iter().all(|o| !o.active));
    // Both languages.
    let (status, _, _) =
        submit(&app, &agent, "/language", &[("lang", "id"), ("back", "/")]).await?;
    assert_eq!(status, 303);
    let board = agent
        .get(app.page("/services?retired=true"))
        .send()
        .await?
        .text()
        .await?;
    assert!(board.contains("Portofolio layanan") && board.contains("Dipensiunkan"));
    let html = agent.get(app.page(&page)).send().await?.text().await?;
    assert!(html.contains("Siklus hidup"));
    no_external_urls(&html, &page);
    Ok(())
}

async fn cmdb_pages_show_relationships_and_impact(app: TestApp) -> anyhow::Result<()> {
    app.person("agnes", &["agent"], None).await?;
    let agent = app.browser("agnes", "agnes-password-1").await?;
    let mut ids = Vec::new();
    for (class, name) in [("server", "srv-01"), ("virtual_machine", "vm-01")] {
        let (status, location, _) = submit(
            &app,
            &agent,
            "/cmdb",
            &[
                ("class", class),
                ("name", name),
                ("status", "operational"),
                ("location", "DC Jakarta"),
            ],
        )
        .await?;
        assert_eq!(status, 303, "{name}");
        ids.push(location.split('?').next().unwrap_or_default().to_owned());
    }
    let (status, _, body) =
        submit(&app, &agent, "/cmdb", &[("class", "server"), ("name", "")]).await?;
    assert_eq!(status, 422);
    assert!(body.contains("alert-error"));
    // vm-01 is hosted on srv-01, added from the VM's page.
    let (status, _, _) = submit(
        &app,
        &agent,
        &format!("{}/relationships", ids[1]),
        &[
            ("direction", "out"),
            ("type", "hosted_on"),
            ("other", "server/srv-01"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let (status, _, body) = submit(
        &app,
        &agent,
        &format!("{}/relationships", ids[1]),
        &[
            ("direction", "out"),
            ("type", "hosted_on"),
            ("other", "server/nope"),
        ],
    )
    .await?;
    assert_eq!(status, 422, "{body}");
    let html = agent.get(app.page(&ids[0])).send().await?.text().await?;
    assert!(
        html.contains("<svg") && html.contains("vm-01"),
        "the impact graph names the VM"
    );
    assert!(html.contains("hosted on"));
    no_external_urls(&html, &ids[0]);
    // The attribute form follows the class.
    let v = html
        .split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("0")
        .to_owned();
    let (status, _, body) = submit(
        &app,
        &agent,
        &ids[0],
        &[
            ("version", &v),
            ("name", "srv-01"),
            ("status", "operational"),
            ("attr.cpu_count", "many"),
        ],
    )
    .await?;
    assert_eq!(status, 422, "{body}");
    let (status, _, _) = submit(
        &app,
        &agent,
        &ids[0],
        &[
            ("version", &v),
            ("name", "srv-01"),
            ("status", "maintenance"),
            ("attr.cpu_count", "16"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let list = agent
        .get(app.page("/cmdb?class=server&status=maintenance&q=jakarta"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        list.contains("srv-01") && !list.contains("vm-01"),
        "filtered by class, status and text"
    );
    for page in ["/projects", "/applications"] {
        let resp = agent.get(app.page(page)).send().await?;
        assert_eq!(resp.status(), 200, "{page}");
    }
    // Requesters do not see the CMDB.
    app.person("budi", &["requester"], None).await?;
    let requester = app.browser("budi", "budi-password-1").await?;
    assert_eq!(requester.get(app.page("/cmdb")).send().await?.status(), 403);
    Ok(())
}

async fn administrators_define_ci_classes_in_the_ui(app: TestApp) -> anyhow::Result<()> {
    let admin = app.browser("admin", ADMIN_PASSWORD).await?;
    let page = admin
        .get(app.page("/admin/ci-classes"))
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("virtual_machine") && page.contains("Hypervisor"));
    no_external_urls(&page, "/admin/ci-classes");
    let (status, _, body) = submit(
        &app,
        &admin,
        "/admin/ci-classes",
        &[
            ("code", "printer"),
            ("name", "Printer"),
            ("attributes", "colour | Colour | colourful"),
        ],
    )
    .await?;
    assert_eq!(status, 422, "an unknown type is refused");
    assert!(body.contains("value=\"printer\""), "typed values kept");
    let (status, _, _) = submit(
        &app,
        &admin,
        "/admin/ci-classes",
        &[
            ("code", "printer"),
            ("name", "Printer"),
            (
                "attributes",
                "colour | Colour | boolean | required\npaper | Paper | choice | | A4, A3",
            ),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let class = sigap_core::cmdb::get_class(&app.core, &sigap_core::Ctx::system("test"), "printer")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let defs = sigap_core::cmdb::attr_defs(&class);
    assert_eq!(defs.len(), 2);
    assert!(defs[0].required && defs[1].choices == ["A4", "A3"]);
    // Agents may not.
    app.person("agnes", &["agent"], None).await?;
    let agent = app.browser("agnes", "agnes-password-1").await?;
    assert_eq!(
        agent
            .get(app.page("/admin/ci-classes"))
            .send()
            .await?
            .status(),
        403
    );
    Ok(())
}

async fn incident_pages_for_agents_and_the_portal(app: TestApp) -> anyhow::Result<()> {
    app.person("budi", &["requester"], None).await?;
    app.person("agnes", &["agent"], None).await?;
    let user = app.browser("budi", "budi-password-1").await?;
    let agent = app.browser("agnes", "agnes-password-1").await?;
    // Requesters land in the portal; a refused report keeps what was typed.
    let resp = user.get(app.page("/incidents")).send().await?;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/portal")
    );
    let (status, _, body) = submit(
        &app,
        &user,
        "/incidents",
        &[("short_description", ""), ("description", "keep me")],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(body.contains("keep me") && body.contains("alert-error"));
    let (status, location, _) = submit(
        &app,
        &user,
        "/incidents",
        &[
            ("short_description", "Mouse <b>broken</b>"),
            ("urgency", "2"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    assert!(location.starts_with("/portal/incidents/INC"), "{location}");
    let number = location
        .trim_start_matches("/portal/incidents/")
        .split('?')
        .next()
        .unwrap_or("")
        .to_owned();
    let page = user
        .get(app.page(&format!("/portal/incidents/{number}")))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        page.contains("broken") && !page.contains("<b>broken</b>"),
        "escaped, not executed"
    );
    // The agent's pages, in both languages, without external URLs.
    for lang in ["en", "id"] {
        submit(&app, &agent, "/language", &[("lang", lang), ("back", "/")]).await?;
        for path in [
            "/incidents?queue=unassigned".to_owned(),
            "/incidents/new".to_owned(),
            format!("/incidents/{number}"),
        ] {
            let resp = agent.get(app.page(&path)).send().await?;
            assert_eq!(resp.status(), 200, "{path}");
            let html = resp.text().await?;
            assert!(html.contains(&format!("<html lang=\"{lang}\">")));
            no_external_urls(&html, &path);
            if path.starts_with("/incidents?") {
                assert!(html.contains(&number), "the unassigned queue lists it");
            }
        }
    }
    let html = agent
        .get(app.page(&format!("/incidents/{number}")))
        .send()
        .await?
        .text()
        .await?;
    assert!(html.contains("Tugaskan ke saya"), "Indonesian actions");
    // The search box in the top bar finds it among all incidents.
    assert!(html.contains("id=\"global-q\""));
    let found = agent
        .get(app.page("/incidents?queue=all&q=mouse"))
        .send()
        .await?
        .text()
        .await?;
    assert!(found.contains(&number), "found by the global search");
    // Bulk from the queue: a failure is listed by number; after joining a group it works.
    let (status, _, body) = submit(
        &app,
        &agent,
        "/incidents/bulk",
        &[
            ("view", "queue=unassigned"),
            ("incident", &number),
            ("action", "assign_to_me"),
        ],
    )
    .await?;
    assert_eq!(status, 200, "re-rendered with the failures");
    assert!(body.contains("alert-error") && body.contains(&number));
    sigap_core::groups::create(
        &app.core,
        &sigap_core::Ctx::system("test"),
        sigap_core::groups::GroupInput {
            name: Some("Desk".into()),
            group_type: Some("service_desk".into()),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    sigap_core::groups::set_member(
        &app.core,
        &sigap_core::Ctx::system("test"),
        "Desk",
        "agnes",
        true,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (status, location, _) = submit(
        &app,
        &agent,
        "/incidents/bulk",
        &[
            ("view", "queue=unassigned"),
            ("incident", &number),
            ("action", "assign_to_me"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    assert!(location.starts_with("/incidents?queue=unassigned"));
    // Another requester cannot open it.
    app.person("citra", &["requester"], None).await?;
    let other = app.browser("citra", "citra-password-1").await?;
    assert_eq!(
        other
            .get(app.page(&format!("/portal/incidents/{number}")))
            .send()
            .await?
            .status(),
        404
    );
    Ok(())
}

async fn administrators_edit_the_priority_matrix(app: TestApp) -> anyhow::Result<()> {
    let admin = app.browser("admin", ADMIN_PASSWORD).await?;
    let page = admin
        .get(app.page("/admin/priority-matrix"))
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("name=\"p33\""));
    no_external_urls(&page, "/admin/priority-matrix");
    let (status, _, _) = submit(
        &app,
        &admin,
        "/admin/priority-matrix",
        &[("preset", "three_level")],
    )
    .await?;
    assert_eq!(status, 303);
    let m = sigap_core::incidents::matrix(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(
        m.priority(
            sigap_domain::task::Level::LOW,
            sigap_domain::task::Level::LOW
        )
        .get(),
        3
    );
    let mut grid: Vec<(String, String)> = Vec::new();
    for i in 1..=3 {
        for u in 1..=3 {
            grid.push((
                format!("p{i}{u}"),
                if i == 3 && u == 3 {
                    "5".into()
                } else {
                    "2".into()
                },
            ));
        }
    }
    let form: Vec<(&str, &str)> = grid.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _, _) = submit(&app, &admin, "/admin/priority-matrix", &form).await?;
    assert_eq!(status, 303);
    let m = sigap_core::incidents::matrix(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(
        m.priority(
            sigap_domain::task::Level::LOW,
            sigap_domain::task::Level::LOW
        )
        .get(),
        5
    );
    let (status, _, body) = submit(&app, &admin, "/admin/priority-matrix", &[("p11", "9")]).await?;
    assert_eq!(status, 422, "{body}");
    app.person("agnes", &["agent"], None).await?;
    let agent = app.browser("agnes", "agnes-password-1").await?;
    assert_eq!(
        agent
            .get(app.page("/admin/priority-matrix"))
            .send()
            .await?
            .status(),
        403
    );
    Ok(())
}

/// A `multipart/form-data` body with one file field.
fn multipart(name: &str, ctype: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "sigap-test-boundary-7f3a";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn queues_keep_views_and_pages_take_files(app: TestApp) -> anyhow::Result<()> {
    let (_, agent_token) = app.person("agnes", &["agent"], None).await?;
    let (_, user_token) = app.person("budi", &["requester"], None).await?;
    let agent = app.browser("agnes", "agnes-password-1").await?;
    let user = app.browser("budi", "budi-password-1").await?;
    crate::portfolio::post(
        &app,
        "/services",
        &agent_token,
        serde_json::json!({"name": "Mail"}),
    )
    .await?;
    let major = crate::portfolio::post(
        &app,
        "/incidents",
        &agent_token,
        serde_json::json!({"short_description": "Mail outage", "service": "Mail", "major": true, "impact": 1, "urgency": 1}),
    )
    .await?;
    let major = major["number"].as_str().unwrap_or_default().to_owned();
    let mine = crate::portfolio::post(
        &app,
        "/incidents",
        &user_token,
        serde_json::json!({"short_description": "Printer jams"}),
    )
    .await?;
    let mine = mine["number"].as_str().unwrap_or_default().to_owned();
    // Columns and filters from the query; the default shows the caller, a choice may not.
    let page = agent
        .get(app.page("/incidents?queue=all&priority=1&col=priority&col=service"))
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("data-col=\"service\"") && !page.contains("data-col=\"caller\""));
    assert!(
        page.contains(&major) && !page.contains(&mine),
        "filtered by priority"
    );
    let all = agent
        .get(app.page("/incidents?queue=all"))
        .send()
        .await?
        .text()
        .await?;
    assert!(all.contains("data-col=\"caller\"") && all.contains(&mine));
    // A view is saved under a name and offered again.
    let (status, location, _) = submit(
        &app,
        &agent,
        "/incidents/views",
        &[
            ("name", "Critical mail"),
            ("view", "queue=all&priority=1&cols=number,priority,service"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    assert!(
        location.starts_with("/incidents?queue=all&priority=1&cols="),
        "{location}"
    );
    let page = agent
        .get(app.page("/incidents"))
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("Critical mail"));
    let (status, _, body) = submit(
        &app,
        &agent,
        "/incidents/views",
        &[("name", ""), ("view", "queue=all")],
    )
    .await?;
    assert_eq!(status, 200);
    assert!(body.contains("alert-error"));
    // Files from the incident page and the portal.
    for (browser, path, back) in [
        (
            &agent,
            format!("/incidents/{major}/attachments"),
            format!("/incidents/{major}"),
        ),
        (
            &user,
            format!("/incidents/{mine}/attachments"),
            format!("/portal/incidents/{mine}"),
        ),
    ] {
        let (ctype, body) = multipart("log <1>.txt", "text/plain", b"line one\nline two\n");
        let resp = browser
            .post(app.page(&path))
            .header("origin", &app.url)
            .header("content-type", ctype)
            .body(body)
            .send()
            .await?;
        assert_eq!(resp.status(), 303, "{path}");
        let page = browser.get(app.page(&back)).send().await?.text().await?;
        assert!(
            page.contains("log &#60;1&#62;.txt"),
            "{back} lists the file: {}",
            page.split("id=\"attachments\"").nth(1).unwrap_or("")
        );
    }
    // Not a multipart body, or no file: an error on the page, nothing attached.
    let (status, _, body) = submit(
        &app,
        &user,
        &format!("/incidents/{mine}/attachments"),
        &[("file", "x")],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(body.contains("alert-error"));
    let files =
        crate::portfolio::get(&app, &format!("/incidents/{mine}/attachments"), &user_token).await?;
    assert_eq!(files.as_array().map(Vec::len), Some(1));
    // The portal shows what is known on a service before a report, keeping what was typed.
    let page = user
        .get(app.page("/portal?service=Mail&short_description=no+mail&check=1"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        page.contains(&major) && page.contains("Mail outage") && page.contains("value=\"no mail\"")
    );
    assert!(
        !page.contains(&format!("/portal/incidents/{major}")),
        "not a link: not theirs"
    );
    Ok(())
}

async fn administrators_manage_categories_and_assignment_rules(app: TestApp) -> anyhow::Result<()> {
    let admin = app.browser("admin", ADMIN_PASSWORD).await?;
    sigap_core::groups::create(
        &app.core,
        &sigap_core::Ctx::system("test"),
        sigap_core::groups::GroupInput {
            name: Some("Network team".into()),
            group_type: Some("technical".into()),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    for lang in ["en", "id"] {
        submit(&app, &admin, "/language", &[("lang", lang), ("back", "/")]).await?;
        for path in ["/admin/incident-categories", "/admin/assignment-rules"] {
            let resp = admin.get(app.page(path)).send().await?;
            assert_eq!(resp.status(), 200, "{path}");
            no_external_urls(&resp.text().await?, path);
        }
    }
    let (status, _, _) = submit(
        &app,
        &admin,
        "/admin/incident-categories",
        &[
            ("code", "wifi"),
            ("name", "Wi-Fi"),
            ("parent", "network"),
            ("sort_order", "5"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let (status, _, body) = submit(
        &app,
        &admin,
        "/admin/incident-categories",
        &[("code", "bad code!"), ("name", "X")],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(body.contains("alert-error") && body.contains("bad code!"));
    // Deactivate a category from its row.
    let (status, _, _) = submit(
        &app,
        &admin,
        "/admin/incident-categories",
        &[
            ("code", "inquiry"),
            ("name", "Inquiry / help"),
            ("active_sent", "1"),
            ("sort_order", "60"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let cats = sigap_core::incidents::categories(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert!(
        cats.iter()
            .any(|c| c.code == "wifi" && c.parent_code.as_deref() == Some("network"))
    );
    assert!(cats.iter().any(|c| c.code == "inquiry" && !c.active));
    let (status, _, _) = submit(
        &app,
        &admin,
        "/admin/assignment-rules",
        &[
            ("category", "network"),
            ("group", "Network team"),
            ("sort_order", "10"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let (status, _, body) = submit(
        &app,
        &admin,
        "/admin/assignment-rules",
        &[("group", "Network team")],
    )
    .await?;
    assert_eq!(status, 422, "a rule needs a condition");
    assert!(body.contains("alert-error"));
    let page = admin
        .get(app.page("/admin/assignment-rules"))
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("Network team") && page.contains("network"));
    let id = page
        .split("/admin/assignment-rules/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_default()
        .to_owned();
    let (status, _, _) = submit(
        &app,
        &admin,
        &format!("/admin/assignment-rules/{id}/delete"),
        &[],
    )
    .await?;
    assert_eq!(status, 303);
    let page = admin
        .get(app.page("/admin/assignment-rules"))
        .send()
        .await?
        .text()
        .await?;
    assert!(!page.contains("/delete"), "gone");
    // Agents do not get these pages.
    app.person("agnes", &["agent"], None).await?;
    let agent = app.browser("agnes", "agnes-password-1").await?;
    assert_eq!(
        agent
            .get(app.page("/admin/assignment-rules"))
            .send()
            .await?
            .status(),
        403
    );
    Ok(())
}

/// The value of the first `name="{name}" value="…"` in a page.
fn field_value(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

async fn problem_pages_take_incidents_from_workaround_to_fix(app: TestApp) -> anyhow::Result<()> {
    let (_, token) = app.person("agnes", &["agent"], None).await?;
    app.person("budi", &["requester"], None).await?;
    let agent = app.browser("agnes", "agnes-password-1").await?;
    let user = app.browser("budi", "budi-password-1").await?;
    let api = |path: &'static str, body: serde_json::Value| {
        let (app, token) = (&app, token.clone());
        async move { crate::portfolio::post(app, path, &token, body).await }
    };
    api("/services", serde_json::json!({"name": "Mail"})).await?;
    let mut numbers = Vec::new();
    for text in [
        "Mail bounces",
        "Outbox stuck",
        "Mail slow",
        "Cannot attach files",
    ] {
        let i = api(
            "/incidents",
            serde_json::json!({"short_description": text, "caller": "budi", "service": "Mail"}),
        )
        .await?;
        numbers.push(i["number"].as_str().unwrap_or_default().to_owned());
    }
    let (a, b) = (numbers[0].as_str(), numbers[1].as_str());
    let page = |path: String| {
        let agent = agent.clone();
        let url = app.page(&path);
        async move { agent.get(url).send().await?.text().await }
    };

    // From a selection in the queue: the new-problem form with both incidents.
    let (status, location, _) = submit(
        &app,
        &agent,
        "/incidents/bulk",
        &[
            ("view", "queue=all"),
            ("incident", a),
            ("incident", b),
            ("action", "create_problem"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    assert_eq!(location, format!("/problems/new?incident={a}&incident={b}"));
    let form = page(location).await?;
    assert!(form.contains(a) && form.contains(b) && form.contains("value=\"Mail bounces\""));
    assert!(
        form.contains("name=\"service\" value=\"Mail\""),
        "the shared service"
    );
    let (status, location, _) = submit(
        &app,
        &agent,
        "/problems",
        &[
            ("short_description", "Mail relay rejects large messages"),
            ("service", "Mail"),
            ("impact", "2"),
            ("urgency", "2"),
            ("incident", a),
            ("incident", b),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    assert!(location.starts_with("/problems/PRB0000001"), "{location}");
    let p = "/problems/PRB0000001";
    let html = page(p.into()).await?;
    assert!(html.contains(a) && html.contains(b) && html.contains("2 open"));
    // A move the state does not allow is refused on the page.
    let (status, _, body) =
        submit(&app, &agent, &format!("{p}/act"), &[("action", "close")]).await?;
    assert_eq!(status, 422);
    assert!(body.contains("alert-error"));

    // The work-around, published as a comment the callers see.
    let (status, _, _) = submit(
        &app,
        &agent,
        p,
        &[
            ("version", &field_value(&html, "version")),
            ("short_description", "Mail relay rejects large messages"),
            ("workaround", "Send attachments through the file share"),
            ("root_cause", "The relay limits messages to 10 MB"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let act = |fields: Vec<(&'static str, &'static str)>| {
        let (app, agent) = (&app, &agent);
        async move { submit(app, agent, &format!("{p}/act"), &fields).await }
    };
    assert_eq!(
        act(vec![
            ("action", "publish_workaround"),
            ("to_callers", "true")
        ])
        .await?
        .0,
        303
    );
    assert!(
        page(format!("/incidents/{b}"))
            .await?
            .contains("Send attachments through the file share")
    );
    let portal = user
        .get(app.page(&format!("/portal/incidents/{a}")))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        portal.contains("Send attachments through the file share"),
        "the caller's comment"
    );

    // A known error, found beside another incident on the service and applied there.
    assert_eq!(
        act(vec![("action", "known_error"), ("on", "true")])
            .await?
            .0,
        303
    );
    assert!(
        page("/problems/known-errors".into())
            .await?
            .contains("PRB0000001")
    );
    let c = numbers[2].as_str();
    let incident = page(format!("/incidents/{c}")).await?;
    assert!(incident.contains("id=\"known-errors\"") && incident.contains("PRB0000001"));
    let (status, _, _) = submit(
        &app,
        &agent,
        &format!("/incidents/{c}/known-error"),
        &[("problem", "PRB0000001")],
    )
    .await?;
    assert_eq!(status, 303);
    let incident = page(format!("/incidents/{c}")).await?;
    assert!(incident.contains("id=\"linked-problem\"") && incident.contains("file share"));
    assert!(page(p.into()).await?.contains("3 open"));

    // Resolved with its incidents in the same step.
    for action in ["assess", "analyze"] {
        assert_eq!(act(vec![("action", action)]).await?.0, 303, "{action}");
    }
    let (status, _, _) = act(vec![
        ("action", "resolve"),
        ("resolution_code", "fix_applied"),
        ("resolution_notes", "Raised the relay's limit to 50 MB"),
        ("resolve_incidents", "true"),
    ])
    .await?;
    assert_eq!(status, 303);
    for n in [a, b, c] {
        let html = page(format!("/incidents/{n}")).await?;
        assert!(html.contains("badge state-resolved"), "{n} is resolved");
    }
    assert!(page(p.into()).await?.contains("0 open"));

    // The trends: the incident no problem explains, and a problem opened from its row.
    let trends = page("/problems/trends?by=service".into()).await?;
    assert!(trends.contains("<td>Mail</td><td>1</td>"), "{trends}");
    let key = field_value(&trends, "key");
    let (from, to) = (field_value(&trends, "from"), field_value(&trends, "to"));
    let (status, location, _) = submit(
        &app,
        &agent,
        "/problems/trends",
        &[
            ("by", "service"),
            ("key", &key),
            ("name", "Mail"),
            ("from", &from),
            ("to", &to),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    assert!(location.starts_with("/problems/PRB0000002"), "{location}");
    assert!(
        page("/problems/PRB0000002".into())
            .await?
            .contains(numbers[3].as_str())
    );

    // Every page in both languages, without external URLs.
    for lang in ["en", "id"] {
        submit(&app, &agent, "/language", &[("lang", lang), ("back", "/")]).await?;
        for path in [
            "/problems",
            "/problems?state=open&known_error=true&sort=number&q=relay",
            "/problems/known-errors",
            "/problems/new",
            "/problems/trends",
            p,
            "/problems/PRB0000002",
            &format!("/incidents/{c}"),
        ] {
            let resp = agent.get(app.page(path)).send().await?;
            assert_eq!(resp.status(), 200, "{path}");
            let html = resp.text().await?;
            assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{path}");
            no_external_urls(&html, path);
        }
    }
    assert!(
        page(p.into()).await?.contains("Akar penyebab"),
        "Indonesian labels"
    );
    // Requesters do not see problems.
    let resp = user.get(app.page(p)).send().await?;
    assert_eq!(resp.status(), 403);
    Ok(())
}
