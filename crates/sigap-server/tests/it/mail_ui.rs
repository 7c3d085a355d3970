//! The e-mail channel's pages: the administrators' mailboxes, outbound server, templates and
//! quarantine (in both languages, refused to others), their forms with the errors beside
//! the fields, passwords never shown, a quarantined message read, downloaded, tried again
//! and discarded, a person's mail switches on their profile, and an incident's mail on its
//! page, over HTTP as a signed-in person sees them.

use crate::ui::submit;
use sigap_core::Ctx;
use sigap_core::mail::admin::{self as mail, MailboxInput, NOTIFICATION_KINDS};
use sigap_core::mail::inbound::{Handled, Source};
use sigap_mail::intake::{Received, receive};
use sigap_testkit::{ADMIN_PASSWORD, TestApp, both};

both!(
    mail_pages_answer_administrators_in_both_languages_and_refuse_others,
    a_mailbox_is_made_through_its_form_with_the_errors_beside_the_fields,
    the_outbound_server_is_set_and_its_password_never_shown,
    templates_are_checked_kept_and_reset,
    quarantined_mail_is_read_downloaded_tried_again_and_discarded,
    the_quarantine_is_paged_without_gaps_or_repeats,
    mail_switches_are_kept_on_the_profile,
    the_incident_page_lists_its_mail,
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

fn core_err(e: sigap_core::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// The value of a form's field as the page shows it.
fn value_of(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" type=\"text\" value=\""))
        .nth(1)
        .or_else(|| html.split(&format!("name=\"{name}\" value=\"")).nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// The hidden version of the first form that has one.
fn version_of(html: &str) -> String {
    html.split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// A form's fields: `base`, with `extra` in place of the same names.
fn form_with<'a>(
    base: &[(&'a str, &'a str)],
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f: Vec<(&str, &str)> = base
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .copied()
        .collect();
    f.extend_from_slice(extra);
    f
}

/// A mailbox made directly (not through its form), with a small size limit.
async fn desk_mailbox(app: &TestApp) -> anyhow::Result<sigap_core::mail::Mailbox> {
    let input = MailboxInput {
        name: Some("Service desk".into()),
        address: Some("desk@example.com".into()),
        max_bytes: Some(2048),
        ..Default::default()
    };
    let m = mail::create_mailbox(&app.core, &Ctx::system("test"), input)
        .await
        .map_err(core_err)?;
    Ok(m.mailbox)
}

async fn mail_pages_answer_administrators_in_both_languages_and_refuse_others(
    app: TestApp,
) -> anyhow::Result<()> {
    app.person("agnes", &["agent"], None).await?;
    let admin = app.browser("admin", ADMIN_PASSWORD).await?;
    let agent = app.browser("agnes", "agnes-password-1").await?;
    let mb = desk_mailbox(&app).await?;
    let kept = receive(&app.core, &mb, b"", Source::Pipe)
        .await
        .map_err(core_err)?;
    let pages = [
        "/admin/mail/mailboxes".to_owned(),
        "/admin/mail/mailboxes/new".to_owned(),
        format!("/admin/mail/mailboxes/{}", mb.id),
        "/admin/mail/outbound".to_owned(),
        "/admin/mail/templates".to_owned(),
        "/admin/mail/templates/acknowledge/en".to_owned(),
        "/admin/mail/templates/notification/id".to_owned(),
        "/admin/mail/quarantine".to_owned(),
        "/admin/mail/quarantine?state=discarded".to_owned(),
        format!("/admin/mail/messages/{}", kept.id()),
    ];
    // The hub links to the mail pages.
    let (status, hub) = page(&app, &admin, "/admin").await?;
    assert_eq!(status, 200);
    for link in [
        "/admin/mail/mailboxes",
        "/admin/mail/outbound",
        "/admin/mail/templates",
        "/admin/mail/quarantine",
    ] {
        assert!(
            hub.contains(&format!("href=\"{link}\"")),
            "the hub links {link}"
        );
    }
    for (lang, words) in [
        (
            "en",
            [
                "Mailboxes",
                "Outbound server",
                "Mail templates",
                "Quarantine",
            ],
        ),
        (
            "id",
            ["Kotak surat", "Server keluar", "Templat surel", "Karantina"],
        ),
    ] {
        let resp = admin
            .post(app.page("/language"))
            .header("origin", &app.url)
            .form(&[("lang", lang), ("back", "/")])
            .send()
            .await?;
        assert_eq!(resp.status(), 303);
        for path in &pages {
            let (status, html) = page(&app, &admin, path).await?;
            assert_eq!(status, 200, "{path} in {lang}: {html}");
            assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{path}");
            for w in words {
                assert!(html.contains(w), "{path} in {lang} names {w}");
            }
            // The administration link is the current one.
            assert!(
                html.contains("href=\"/admin\" aria-current=\"page\""),
                "{path}"
            );
        }
    }
    let (_, q) = page(&app, &admin, "/admin/mail/quarantine").await?;
    assert!(q.contains("Pesan kosong"), "the reason, in Indonesian: {q}");
    // Not for agents, and not for anyone signed out.
    for path in &pages {
        let (status, html) = page(&app, &agent, path).await?;
        assert_eq!(status, 403, "{path} for an agent: {html}");
    }
    let (status, _) = page(
        &app,
        &agent,
        &format!("/admin/mail/messages/{}/raw", kept.id()),
    )
    .await?;
    assert_eq!(status, 403, "the original is the administrators'");
    for (path, form) in [
        (
            "/admin/mail/mailboxes",
            vec![("name", "X"), ("address", "x@example.com")],
        ),
        ("/admin/mail/outbound", vec![("host", "smtp.example.com")]),
        (
            "/admin/mail/templates/acknowledge/en",
            vec![("subject", "S"), ("body", "B")],
        ),
    ] {
        let (status, _, _) = submit(&app, &agent, path, &form).await?;
        assert_eq!(status, 403, "{path} for an agent");
    }
    let (status, _, _) = submit(
        &app,
        &agent,
        &format!("/admin/mail/messages/{}/discard", kept.id()),
        &[],
    )
    .await?;
    assert_eq!(status, 403);
    let anon = sigap_testkit::client(false)?;
    let resp = anon.get(app.page("/admin/mail/quarantine")).send().await?;
    assert_eq!(resp.status(), 303, "signed out: to the sign-in page");
    // A form from another site is refused.
    let resp = admin
        .post(app.page("/admin/mail/outbound"))
        .header("origin", "http://evil.example")
        .form(&[("host", "smtp.evil.example")])
        .send()
        .await?;
    assert_eq!(resp.status(), 403, "the Origin check");
    Ok(())
}

async fn a_mailbox_is_made_through_its_form_with_the_errors_beside_the_fields(
    app: TestApp,
) -> anyhow::Result<()> {
    let admin = app.browser("admin", ADMIN_PASSWORD).await?;
    let base = [
        ("name", "Service desk"),
        ("address", "servicedesk@example.com"),
        ("active", "true"),
        ("kind", "incident"),
        ("catalog_item", ""),
        ("group", ""),
        ("unknown_senders", "create"),
        ("resolved_reply", "reopen"),
        ("max_tasks_per_day", "40"),
        ("max_replies_per_day", "10"),
        ("max_bytes", "10485760"),
        ("acknowledge", "true"),
        ("imap_port", ""),
        ("imap_security", "tls"),
        ("imap_folder", "INBOX"),
        ("imap_after", "seen"),
        ("poll_secs", "60"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| form_with(&base, extra);
    // Polling without a user name: the reason is beside the user name, the rest kept.
    let (status, _, html) = submit(
        &app,
        &admin,
        "/admin/mail/mailboxes",
        &with(&[
            ("imap_host", "imap.example.com"),
            ("imap_username", ""),
            ("imap_password", "imap-secret-1"),
        ]),
    )
    .await?;
    assert_eq!(status, 422, "{html}");
    assert!(
        html.contains("<small class=\"field-error\" id=\"err-imap_username\">"),
        "{html}"
    );
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"err-imap_username\""));
    assert!(html.contains("Some fields need your attention."));
    assert_eq!(
        value_of(&html, "name"),
        "Service desk",
        "what was typed stays"
    );
    assert_eq!(value_of(&html, "imap_host"), "imap.example.com");
    assert!(
        !html.contains("imap-secret-1"),
        "a password is never sent back"
    );
    // Not a number, and out of range: each beside its field.
    let (status, _, html) = submit(
        &app,
        &admin,
        "/admin/mail/mailboxes",
        &with(&[("max_bytes", "lots")]),
    )
    .await?;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"err-max_bytes\""), "{html}");
    assert!(html.contains(">Not a whole number.<"), "{html}");
    let (status, _, html) = submit(
        &app,
        &admin,
        "/admin/mail/mailboxes",
        &with(&[("max_tasks_per_day", "0")]),
    )
    .await?;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"err-max_tasks_per_day\""), "{html}");
    // A request mailbox names its catalogue item.
    let (status, _, html) = submit(
        &app,
        &admin,
        "/admin/mail/mailboxes",
        &with(&[("kind", "request")]),
    )
    .await?;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"err-catalog_item\""), "{html}");
    // Corrected: made, and shown with its password as "set" only.
    let (status, location, html) = submit(
        &app,
        &admin,
        "/admin/mail/mailboxes",
        &with(&[
            ("imap_host", "imap.example.com"),
            ("imap_username", "desk"),
            ("imap_password", "imap-secret-1"),
        ]),
    )
    .await?;
    assert_eq!(status, 303, "{html}");
    assert!(location.ends_with("?notice=created"), "{location}");
    let path = location.split('?').next().unwrap_or_default().to_owned();
    let (status, html) = page(&app, &admin, &location).await?;
    assert_eq!(status, 200);
    assert!(html.contains("servicedesk@example.com"));
    assert!(html.contains("a password is set"));
    assert!(
        !html.contains("imap-secret-1"),
        "the password is never shown"
    );
    let secret = || async {
        let boxes = mail::polled_mailboxes(&app.core).await.map_err(core_err)?;
        anyhow::Ok(boxes.first().and_then(|m| m.imap.password.clone()))
    };
    assert_eq!(secret().await?.as_deref(), Some("imap-secret-1"));
    // Saved with the password left empty: it stays.
    let version = version_of(&html);
    let mut changed = with(&[
        ("imap_host", "imap.example.com"),
        ("imap_username", "desk"),
        ("imap_password", ""),
        ("name", "Desk (IMAP)"),
    ]);
    changed.push(("version", &version));
    let (status, location, html) = submit(&app, &admin, &path, &changed).await?;
    assert_eq!(status, 303, "{html}");
    assert!(location.ends_with("?notice=saved"));
    assert_eq!(secret().await?.as_deref(), Some("imap-secret-1"));
    let (_, html) = page(&app, &admin, &path).await?;
    assert!(html.contains("Desk (IMAP)"));
    // The same version again: someone else changed it meanwhile.
    let (status, _, html) = submit(&app, &admin, &path, &changed).await?;
    assert_eq!(status, 412, "{html}");
    assert!(html.contains("Someone else changed this record"));
    // A second mailbox with the same address: refused beside the address.
    let (status, _, html) = submit(&app, &admin, "/admin/mail/mailboxes", &with(&[])).await?;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("id=\"err-address\""), "{html}");
    // The password removed.
    let (_, html) = page(&app, &admin, &path).await?;
    let version = version_of(&html);
    let mut cleared = with(&[
        ("imap_host", "imap.example.com"),
        ("imap_username", "desk"),
        ("imap_password_clear", "true"),
        ("name", "Desk (IMAP)"),
    ]);
    cleared.push(("version", &version));
    let (status, _, html) = submit(&app, &admin, &path, &cleared).await?;
    assert_eq!(status, 303, "{html}");
    assert_eq!(secret().await?, None);
    let (_, html) = page(&app, &admin, &path).await?;
    assert!(html.contains("no password set"));
    // Listed, then deleted.
    let (_, list) = page(&app, &admin, "/admin/mail/mailboxes").await?;
    assert!(list.contains("Desk (IMAP)") && list.contains("polled from imap.example.com"));
    let (status, location, _) = submit(&app, &admin, &format!("{path}/delete"), &[]).await?;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/mail/mailboxes?notice=deleted")
    );
    let (_, list) = page(&app, &admin, "/admin/mail/mailboxes").await?;
    assert!(!list.contains("Desk (IMAP)"));
    assert!(list.contains("id=\"no-mailboxes\""));
    Ok(())
}

async fn the_outbound_server_is_set_and_its_password_never_shown(
    app: TestApp,
) -> anyhow::Result<()> {
    let admin = app.browser("admin", ADMIN_PASSWORD).await?;
    let (status, html) = page(&app, &admin, "/admin/mail/outbound").await?;
    assert_eq!(status, 200);
    assert!(html.contains("no password set"));
    let version = version_of(&html);
    // Sending without a server: refused beside the server.
    let (status, _, html) = submit(
        &app,
        &admin,
        "/admin/mail/outbound",
        &[
            ("version", &version),
            ("enabled", "true"),
            ("host", ""),
            ("port", "587"),
            ("security", "starttls"),
            ("from_address", "servicedesk@example.com"),
        ],
    )
    .await?;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("id=\"err-host\""), "{html}");
    assert!(
        html.contains("name=\"enabled\" value=\"true\" checked"),
        "kept as typed"
    );
    let (status, _, html) = submit(
        &app,
        &admin,
        "/admin/mail/outbound",
        &[("version", &version), ("port", "seventy")],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"err-port\""), "{html}");
    let form = |password: &'static str, clear: bool| {
        let mut f = vec![
            ("enabled", "true"),
            ("host", "smtp.example.com"),
            ("port", "587"),
            ("security", "starttls"),
            ("username", "sigap"),
            ("password", password),
            ("from_address", "servicedesk@example.com"),
            ("from_name", "Service desk"),
        ];
        if clear {
            f.push(("password_clear", "true"));
        }
        f
    };
    let (status, location, html) = submit(
        &app,
        &admin,
        "/admin/mail/outbound",
        &form("smtp-secret-1", false),
    )
    .await?;
    assert_eq!(status, 303, "{html}");
    assert_eq!(location, "/admin/mail/outbound?notice=saved");
    let (_, html) = page(&app, &admin, &location).await?;
    assert!(html.contains("a password is set") && !html.contains("smtp-secret-1"));
    assert_eq!(value_of(&html, "host"), "smtp.example.com");
    let stored = mail::outbound_settings(&app.core).await.map_err(core_err)?;
    assert!(stored.enabled);
    assert_eq!(
        (stored.password.as_str(), stored.port),
        ("smtp-secret-1", 587)
    );
    // Left empty, the password stays; asked to, it goes.
    let (status, _, _) = submit(&app, &admin, "/admin/mail/outbound", &form("", false)).await?;
    assert_eq!(status, 303);
    let stored = mail::outbound_settings(&app.core).await.map_err(core_err)?;
    assert_eq!(stored.password, "smtp-secret-1");
    let (status, _, _) = submit(&app, &admin, "/admin/mail/outbound", &form("", true)).await?;
    assert_eq!(status, 303);
    let stored = mail::outbound_settings(&app.core).await.map_err(core_err)?;
    assert_eq!(stored.password, "");
    Ok(())
}

async fn templates_are_checked_kept_and_reset(app: TestApp) -> anyhow::Result<()> {
    let admin = app.browser("admin", ADMIN_PASSWORD).await?;
    let path = "/admin/mail/templates/acknowledge/id";
    // Without one of their own, the built-in template is shown, as `sigap-mail` has it.
    let (status, html) = page(&app, &admin, path).await?;
    assert_eq!(status, 200);
    assert!(html.contains(sigap_mail::render::BUILT_IN_BODY), "{html}");
    assert!(html.contains(sigap_mail::render::BUILT_IN_SUBJECT));
    assert!(!html.contains("id=\"template-reset\""), "nothing to reset");
    // Empty, and not rendering: the reasons beside the fields.
    let (status, _, html) =
        submit(&app, &admin, path, &[("subject", ""), ("body", "Halo")]).await?;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"err-subject\""), "{html}");
    let (status, _, html) = submit(
        &app,
        &admin,
        path,
        &[
            ("subject", "[{{ number }}] Diterima"),
            ("body", "{% if body %}never closed"),
        ],
    )
    .await?;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("id=\"err-body\""), "{html}");
    assert!(html.contains("id=\"render-errors\""));
    assert!(html.contains("never closed"), "what was typed stays");
    // Kept, listed as their own, and used.
    let body = "{{ greeting }}\n\nTiket {{ number }} sudah kami terima.\n";
    let (status, location, html) = submit(
        &app,
        &admin,
        path,
        &[("subject", "[{{ number }}] Diterima"), ("body", body)],
    )
    .await?;
    assert_eq!(status, 303, "{html}");
    assert_eq!(location, format!("{path}?notice=saved"));
    let own = mail::template_for(&app.core, "acknowledge", "id")
        .await
        .map_err(core_err)?;
    assert_eq!(own.map(|t| t.body), Some(body.to_owned()));
    let (_, list) = page(&app, &admin, "/admin/mail/templates").await?;
    let row = list
        .split("id=\"template-acknowledge-id\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_default();
    assert!(row.contains("Your own"), "{row}");
    let (_, html) = page(&app, &admin, path).await?;
    assert!(html.contains("sudah kami terima") && html.contains("id=\"template-reset\""));
    // Reset: the built-in one again.
    let (status, location, _) = submit(&app, &admin, &format!("{path}/reset"), &[]).await?;
    assert_eq!(
        (status, location.as_str()),
        (
            303,
            "/admin/mail/templates/acknowledge/id?notice=mail-template-reset"
        )
    );
    let (_, html) = page(&app, &admin, &location).await?;
    assert!(html.contains("The built-in template is used again."));
    let own = mail::template_for(&app.core, "acknowledge", "id")
        .await
        .map_err(core_err)?;
    assert!(own.is_none());
    // No such kind or language.
    for p in [
        "/admin/mail/templates/nope/en",
        "/admin/mail/templates/acknowledge/fr",
    ] {
        let (status, _) = page(&app, &admin, p).await?;
        assert_eq!(status, 404, "{p}");
    }
    Ok(())
}

async fn quarantined_mail_is_read_downloaded_tried_again_and_discarded(
    app: TestApp,
) -> anyhow::Result<()> {
    let admin = app.browser("admin", ADMIN_PASSWORD).await?;
    let mb = desk_mailbox(&app).await?;
    let empty = receive(&app.core, &mb, b"", Source::Pipe)
        .await
        .map_err(core_err)?;
    let garbage = receive(&app.core, &mb, b"\x00\x01\x02\xff\xfe binary", Source::Pipe)
        .await
        .map_err(core_err)?;
    let mut large = b"From: Budi <budi@example.com>\r\nTo: desk@example.com\r\nSubject: The whole disk\r\nMessage-ID: <big@example.com>\r\n\r\n".to_vec();
    large.extend(std::iter::repeat_n(b'x', 4000));
    let big = receive(&app.core, &mb, &large, Source::Pipe)
        .await
        .map_err(core_err)?;
    for r in [&empty, &garbage, &big] {
        assert!(
            matches!(r, Received::Done(_, Handled::Quarantined(_))),
            "{r:?}"
        );
    }
    let (status, html) = page(&app, &admin, "/admin/mail/quarantine").await?;
    assert_eq!(status, 200);
    for (id, reason) in [
        (empty.id(), "Empty message"),
        (garbage.id(), "Not a mail message"),
        (big.id(), "Too large"),
    ] {
        let row = html
            .split(&format!("id=\"message-{id}\""))
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap_or_default();
        assert!(row.contains(reason), "{reason}: {row}");
        assert!(row.contains("Service desk"), "its mailbox: {row}");
    }
    // A message's page: its record and header; the original to download.
    let path = format!("/admin/mail/messages/{}", big.id());
    let (status, html) = page(&app, &admin, &path).await?;
    assert_eq!(status, 200);
    assert!(
        html.contains("Subject: The whole disk"),
        "the header: {html}"
    );
    assert!(html.contains("only the start is kept"));
    assert!(html.contains(&format!("href=\"{path}/raw\"")));
    let resp = admin.get(app.page(&format!("{path}/raw"))).send().await?;
    assert_eq!(resp.status(), 200);
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "message/rfc822");
    assert!(header("content-disposition").starts_with("attachment;"));
    let bytes = resp.bytes().await?;
    assert!(bytes.starts_with(b"From: Budi <budi@example.com>"));
    let (status, html) = page(
        &app,
        &admin,
        &format!("/admin/mail/messages/{}", garbage.id()),
    )
    .await?;
    assert_eq!(status, 200, "binary garbage shows: {html}");
    // Tried again: received, to be processed by a job.
    let (status, location, _) = submit(&app, &admin, &format!("{path}/retry"), &[]).await?;
    assert_eq!(status, 303);
    assert_eq!(location, format!("{path}?notice=mail-retried"));
    let (_, html) = page(&app, &admin, &location).await?;
    assert!(html.contains("The message will be processed again."));
    assert!(
        !html.contains("id=\"discard-message\""),
        "only the quarantined are discarded"
    );
    let m = mail::message(&app.core, &Ctx::system("test"), &big.id().to_string())
        .await
        .map_err(core_err)?;
    assert_eq!(m.state, "received");
    // Discarded: out of the quarantine, among the discarded.
    let other = format!("/admin/mail/messages/{}", empty.id());
    let (status, location, _) = submit(&app, &admin, &format!("{other}/discard"), &[]).await?;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/mail/quarantine?notice=mail-discarded")
    );
    let (_, html) = page(&app, &admin, &location).await?;
    assert!(html.contains("The message is discarded."));
    assert!(!html.contains(&format!("id=\"message-{}\"", empty.id())));
    assert!(html.contains(&format!("id=\"message-{}\"", garbage.id())));
    let (_, html) = page(&app, &admin, "/admin/mail/quarantine?state=discarded").await?;
    assert!(html.contains(&format!("id=\"message-{}\"", empty.id())));
    // A message no longer quarantined is not discarded: said why.
    let (status, _, html) = submit(&app, &admin, &format!("{path}/discard"), &[]).await?;
    assert_eq!(status, 409);
    assert!(html.contains("Only a message in the quarantine"), "{html}");
    let (status, _) = page(&app, &admin, "/admin/mail/messages/not-an-id").await?;
    assert_eq!(status, 404);
    Ok(())
}

async fn the_quarantine_is_paged_without_gaps_or_repeats(app: TestApp) -> anyhow::Result<()> {
    let admin = app.browser("admin", ADMIN_PASSWORD).await?;
    let mb = desk_mailbox(&app).await?;
    let mut ids = Vec::new();
    for i in 0..57 {
        // Garbage, each different: the same bytes twice are one message.
        let raw = format!("\u{1}garbage {i}");
        let r = receive(&app.core, &mb, raw.as_bytes(), Source::Pipe)
            .await
            .map_err(core_err)?;
        ids.push(r.id().to_string());
        if i % 10 == 0 {
            app.clock.advance(jiff::SignedDuration::from_secs(1));
        }
    }
    let listed = |html: &str| -> Vec<String> {
        html.split("<tr id=\"message-")
            .skip(1)
            .filter_map(|r| r.split('"').next().map(str::to_owned))
            .collect()
    };
    let (status, first) = page(&app, &admin, "/admin/mail/quarantine").await?;
    assert_eq!(status, 200);
    let mut seen = listed(&first);
    assert_eq!(seen.len(), 50, "a page of 50");
    let next = first
        .split("<p class=\"pager\">")
        .nth(1)
        .and_then(|p| p.split("</p>").next())
        .and_then(|p| p.split("href=\"").last())
        .and_then(|h| h.split('"').next())
        .unwrap_or_default()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(next.contains("before="), "a link to the older ones: {next}");
    let (status, second) = page(&app, &admin, &next).await?;
    assert_eq!(status, 200);
    assert!(second.contains("First page"), "{next}");
    seen.extend(listed(&second));
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no message twice");
    ids.sort();
    assert_eq!(sorted, ids, "every message once");
    // A cursor that is not one is the first page.
    let (status, html) = page(&app, &admin, "/admin/mail/quarantine?before=nonsense").await?;
    assert_eq!(status, 200);
    assert_eq!(listed(&html).len(), 50);
    Ok(())
}

async fn mail_switches_are_kept_on_the_profile(app: TestApp) -> anyhow::Result<()> {
    let (agnes, _) = app.person("agnes", &["agent"], None).await?;
    let browser = app.browser("agnes", "agnes-password-1").await?;
    let (status, html) = page(&app, &browser, "/profile").await?;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"mail-preferences\""));
    assert!(html.contains("agnes@example.com"));
    for kind in NOTIFICATION_KINDS {
        assert!(
            html.contains(&format!("value=\"{kind}\" id=\"mail-pref-{kind}\" checked")),
            "{kind} is on at first"
        );
    }
    // Comments by mail turned off, the rest left on.
    let mut form: Vec<(&str, &str)> = NOTIFICATION_KINDS.iter().map(|k| ("kind", *k)).collect();
    form.extend(
        NOTIFICATION_KINDS
            .iter()
            .filter(|k| **k != "incident_comment")
            .map(|k| ("on", *k)),
    );
    let (status, location, _) = submit(&app, &browser, "/profile/mail", &form).await?;
    assert_eq!(
        (status, location.as_str()),
        (
            303,
            "/profile?notice=mail-preferences-saved#mail-preferences"
        )
    );
    let (_, html) = page(&app, &browser, "/profile?notice=mail-preferences-saved").await?;
    assert!(html.contains("Your mail settings are saved."));
    assert!(html.contains("value=\"incident_comment\" id=\"mail-pref-incident_comment\">"));
    assert!(
        html.contains("value=\"incident_assigned\" id=\"mail-pref-incident_assigned\" checked")
    );
    let ctx = Ctx::new(
        sigap_core::Principal::from_person(&agnes, sigap_core::AuthMethod::System),
        "test",
    );
    let prefs = mail::preferences(&app.core, &ctx).await.map_err(core_err)?;
    let on = |kind: &str| prefs.iter().find(|(k, _)| k == kind).map(|(_, on)| *on);
    assert_eq!(on("incident_comment"), Some(false));
    assert_eq!(on("incident_assigned"), Some(true));
    // And on again, in Indonesian.
    let resp = browser
        .post(app.page("/language"))
        .header("origin", &app.url)
        .form(&[("lang", "id"), ("back", "/profile")])
        .send()
        .await?;
    assert_eq!(resp.status(), 303);
    let (_, html) = page(&app, &browser, "/profile").await?;
    assert!(html.contains("Simpan pengaturan surel") && html.contains("Ditugaskan kepada saya"));
    let form: Vec<(&str, &str)> = vec![("kind", "incident_comment"), ("on", "incident_comment")];
    let (status, _, _) = submit(&app, &browser, "/profile/mail", &form).await?;
    assert_eq!(status, 303);
    let prefs = mail::preferences(&app.core, &ctx).await.map_err(core_err)?;
    assert!(prefs.iter().all(|(_, on)| *on), "{prefs:?}");
    // An unknown kind is passed over.
    let (status, _, _) = submit(&app, &browser, "/profile/mail", &[("kind", "nope")]).await?;
    assert_eq!(status, 303);
    Ok(())
}

async fn the_incident_page_lists_its_mail(app: TestApp) -> anyhow::Result<()> {
    app.person("agnes", &["agent"], None).await?;
    app.person("budi", &["requester"], None).await?;
    let mb = desk_mailbox(&app).await?;
    let raw = b"From: Budi <budi@example.com>\r\nTo: desk@example.com\r\nSubject: Printer on floor 3 jams\r\nMessage-ID: <jam-1@example.com>\r\nDate: Mon, 1 Jun 2026 08:00:00 +0700\r\n\r\nEvery page since this morning.\r\n";
    let r = receive(&app.core, &mb, raw, Source::Pipe)
        .await
        .map_err(core_err)?;
    let Received::Done(id, Handled::Opened(number)) = r else {
        anyhow::bail!("the mail opened no incident: {r:?}");
    };
    let agent = app.browser("agnes", "agnes-password-1").await?;
    let (status, html) = page(&app, &agent, &format!("/incidents/{number}")).await?;
    assert_eq!(status, 200);
    let section = html
        .split("id=\"incident-mail\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .unwrap_or_default();
    assert!(section.contains("Printer on floor 3 jams"), "{section}");
    assert!(section.contains("from budi@example.com"), "{section}");
    assert!(
        !section.contains("/admin/mail/messages/"),
        "agents get no admin link"
    );
    let admin = app.browser("admin", ADMIN_PASSWORD).await?;
    let (_, html) = page(&app, &admin, &format!("/incidents/{number}")).await?;
    assert!(html.contains(&format!("href=\"/admin/mail/messages/{id}\"")));
    // Its message's page links back to the incident.
    let (_, html) = page(&app, &admin, &format!("/admin/mail/messages/{id}")).await?;
    assert!(
        html.contains(&format!("href=\"/incidents/{number}\"")),
        "{html}"
    );
    // An incident without mail says so.
    let other = sigap_core::incidents::create(
        &app.core,
        &Ctx::system("test"),
        sigap_core::incidents::IncidentInput {
            task: sigap_core::task::TaskInput {
                short_description: Some("Phone call".into()),
                caller: Some(Some("budi".into())),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .map_err(core_err)?;
    let (_, html) = page(&app, &agent, &format!("/incidents/{}", other.number)).await?;
    assert!(html.contains("id=\"no-incident-mail\""));
    Ok(())
}
