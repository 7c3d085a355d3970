//! Sign-in, sessions, the Origin check, rate limiting and tokens.

use crate::helpers::{bearer, problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sigap_testkit::{ADMIN_PASSWORD, TestApp, both, client};

both!(
    sign_in_sets_a_safe_rotated_cookie_and_sign_out_ends_it,
    cross_site_posts_are_refused,
    failed_sign_ins_are_rate_limited,
    read_only_and_expired_tokens,
    password_change_ends_other_sessions,
);

fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("sigap_session="))
        .map(str::to_owned)
}

async fn sign_in_sets_a_safe_rotated_cookie_and_sign_out_ends_it(
    app: TestApp,
) -> anyhow::Result<()> {
    let c = client(false)?;
    let login = |pw: &'static str| {
        c.post(app.page("/login"))
            .header("origin", &app.url)
            .form(&[
                ("login", "admin"),
                ("password", pw),
                ("next", "/admin/people"),
            ])
            .send()
    };
    let first = login(ADMIN_PASSWORD).await?;
    assert_eq!(first.status(), 303);
    assert_eq!(
        first
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/admin/people")
    );
    let cookie = session_cookie(&first).unwrap_or_default();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http test server");
    let second = session_cookie(&login(ADMIN_PASSWORD).await?).unwrap_or_default();
    let value = |c: &str| c.split(';').next().unwrap_or("").to_owned();
    assert_ne!(
        value(&cookie),
        value(&second),
        "a new session id at every sign-in"
    );
    // The cookie works for the API and pages.
    let me = c
        .get(app.api("/me"))
        .header("cookie", value(&cookie))
        .send()
        .await?;
    assert_eq!(me.status(), 200);
    // Sign-in never redirects off-site.
    let resp = c
        .post(app.page("/login"))
        .header("origin", &app.url)
        .form(&[
            ("login", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "//evil.example/x"),
        ])
        .send()
        .await?;
    assert_eq!(
        resp.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/")
    );
    // Sign out ends the session.
    let out = c
        .post(app.page("/logout"))
        .header("origin", &app.url)
        .header("cookie", value(&cookie))
        .send()
        .await?;
    assert_eq!(out.status(), 303);
    let me = c
        .get(app.api("/me"))
        .header("cookie", value(&cookie))
        .send()
        .await?;
    problem(me, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    let page = c
        .get(app.page("/"))
        .header("cookie", value(&cookie))
        .send()
        .await?;
    assert_eq!(
        page.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/login")
    );
    // The session expires after the idle time.
    let fresh = session_cookie(&login(ADMIN_PASSWORD).await?).unwrap_or_default();
    app.clock.advance(jiff::SignedDuration::from_hours(13));
    let me = c
        .get(app.api("/me"))
        .header("cookie", value(&fresh))
        .send()
        .await?;
    problem(me, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    Ok(())
}

async fn cross_site_posts_are_refused(app: TestApp) -> anyhow::Result<()> {
    let browser = app.browser("admin", ADMIN_PASSWORD).await?;
    let resp = browser
        .post(app.page("/admin/organizations"))
        .header("origin", "https://evil.example")
        .form(&[("name", "Evil Corp"), ("kind", "customer")])
        .send()
        .await?;
    assert_eq!(resp.status(), 403);
    let resp = browser
        .post(app.api("/organizations"))
        .header("origin", "https://evil.example")
        .json(&json!({"name": "Evil Corp", "kind": "customer"}))
        .send()
        .await?;
    problem(resp, StatusCode::FORBIDDEN, "origin_not_allowed").await?;
    let resp = browser
        .post(app.page("/admin/organizations"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("name", "Evil Corp"), ("kind", "customer")])
        .send()
        .await?;
    assert_eq!(resp.status(), 403);
    // The same from our own pages works.
    let resp = browser
        .post(app.page("/admin/organizations"))
        .header("origin", &app.url)
        .form(&[("name", "Good Corp"), ("kind", "customer")])
        .send()
        .await?;
    assert_eq!(resp.status(), 303);
    let orgs: Value = app
        .http
        .get(app.api("/organizations?q=corp"))
        .header("authorization", bearer(&app.admin_token))
        .send()
        .await?
        .json()
        .await?;
    let names: Vec<&str> = orgs["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Good Corp"]);
    Ok(())
}

async fn failed_sign_ins_are_rate_limited(app: TestApp) -> anyhow::Result<()> {
    let c = client(false)?;
    let try_login = |pw: &'static str| {
        c.post(app.page("/login"))
            .header("origin", &app.url)
            .form(&[("login", "admin"), ("password", pw)])
            .send()
    };
    for _ in 0..4 {
        let resp = try_login("wrong-password").await?;
        assert_eq!(resp.status(), 401);
        assert!(resp.text().await?.contains("Wrong login or password"));
    }
    let locked = try_login("wrong-password").await?;
    assert_eq!(locked.status(), 429);
    assert!(
        locked
            .text()
            .await?
            .contains("Too many failed sign-in attempts. Try again in 15 minutes.")
    );
    // Even the right password waits.
    assert_eq!(try_login(ADMIN_PASSWORD).await?.status(), 429);
    app.clock.advance(jiff::SignedDuration::from_mins(16));
    assert_eq!(try_login(ADMIN_PASSWORD).await?.status(), 303);
    // Per address: many accounts from one address.
    for i in 0..30 {
        let login = format!("nobody{i}");
        let resp = c
            .post(app.page("/login"))
            .header("origin", &app.url)
            .form(&[("login", login.as_str()), ("password", "x")])
            .send()
            .await?;
        assert!(matches!(resp.status().as_u16(), 401 | 429));
    }
    assert_eq!(try_login(ADMIN_PASSWORD).await?.status(), 429);
    Ok(())
}

async fn read_only_and_expired_tokens(app: TestApp) -> anyhow::Result<()> {
    let auth = bearer(&app.admin_token);
    let expires = (app.clock_now() + jiff::SignedDuration::from_hours(1)).to_string();
    let ro: Value = app
        .http
        .post(app.api("/me/tokens"))
        .header("authorization", &auth)
        .json(&json!({"name": "reporting", "scope": "read", "expires_at": expires}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(ro["scope"], "read");
    let token = ro["token"].as_str().unwrap_or_default().to_owned();
    assert!(token.starts_with("sigap_"));
    assert_eq!(
        app.http
            .get(app.api("/people"))
            .header("authorization", bearer(&token))
            .send()
            .await?
            .status(),
        200
    );
    problem(
        app.http
            .post(app.api("/organizations"))
            .header("authorization", bearer(&token))
            .json(&json!({"name": "X", "kind": "customer"}))
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "read_only_token",
    )
    .await?;
    let listed: Value = app
        .http
        .get(app.api("/me/tokens"))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    let entry = listed
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == "reporting")
        .cloned()
        .unwrap_or(Value::Null);
    assert!(entry["last_used_at"].is_string(), "last use is recorded");
    assert!(entry.get("token").is_none(), "the secret is never listed");
    app.clock.advance(jiff::SignedDuration::from_hours(2));
    problem(
        app.http
            .get(app.api("/people"))
            .header("authorization", bearer(&token))
            .send()
            .await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    problem(
        app.http
            .post(app.api("/me/tokens"))
            .header("authorization", &auth)
            .json(&json!({"name": "old", "expires_at": "2001-01-01T00:00:00Z"}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

async fn password_change_ends_other_sessions(app: TestApp) -> anyhow::Result<()> {
    let (_, token) = app.person("dewi", &["agent"], None).await?;
    let one = app.browser("dewi", "dewi-password-1").await?;
    let two = app.browser("dewi", "dewi-password-1").await?;
    problem(
        app.http
            .post(app.api("/me/password"))
            .header("authorization", bearer(&token))
            .json(&json!({"current_password": "wrong", "new_password": "a-new-password-1"}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let resp = one
        .post(app.page("/profile/password"))
        .header("origin", &app.url)
        .form(&[
            ("current_password", "dewi-password-1"),
            ("new_password", "a-new-password-1"),
        ])
        .send()
        .await?;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        one.get(app.api("/me")).send().await?.status(),
        200,
        "the session that changed it stays"
    );
    assert_eq!(
        two.get(app.api("/me")).send().await?.status(),
        401,
        "other sessions end"
    );
    app.browser("dewi", "a-new-password-1").await?;
    Ok(())
}

trait ClockNow {
    fn clock_now(&self) -> jiff::Timestamp;
}

impl ClockNow for TestApp {
    fn clock_now(&self) -> jiff::Timestamp {
        self.core.now()
    }
}
