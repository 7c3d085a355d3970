//! The HTML interface: pages, languages, and no external URLs.

use sigap_testkit::{ADMIN_PASSWORD, TestApp, both, client};

both!(
    pages_render_in_both_languages_without_external_urls,
    non_admins_do_not_get_admin_pages
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
        !home.contains("href=\"/admin/people\""),
        "no admin links for agents"
    );
    assert!(home.contains("Your groups"));
    for page in ["/admin/people", "/admin/groups", "/admin/organizations"] {
        assert_eq!(
            browser.get(app.page(page)).send().await?.status(),
            403,
            "{page}"
        );
    }
    let resp = browser
        .post(app.page("/admin/organizations"))
        .header("origin", &app.url)
        .form(&[("name", "X"), ("kind", "customer")])
        .send()
        .await?;
    assert_eq!(resp.status(), 403, "refused");
    Ok(())
}
