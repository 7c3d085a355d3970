//! The e-mail channel: mail taken in becomes incidents and comments, machine-made mail makes
//! nothing, hostile mail goes to the quarantine without stopping the rest, a mail storm is
//! held by the day's limit, the same message twice is one; and against real servers
//! (Dovecot for IMAP, Postfix for SMTP, started by scripts/mail-servers): polling, the
//! replies and notifications Sigap sends (language and headers), bounces that stop mail to
//! an address, IDLE taking mail as it arrives, and a `kill -9` while polling that loses and
//! doubles nothing.

use futures_util::StreamExt;
use sigap_core::mail::admin::{self, MailboxInput, OutboundInput};
use sigap_core::mail::inbound::{Handled, Source};
use sigap_core::mail::{Mailbox, Outbound};
use sigap_core::{Ctx, Principal};
use sigap_mail::intake::{self, Received};
use sigap_mail::smtp::{Smtp, TlsTrust};
use sigap_testkit::{TestApp, both};
use std::process::Command;
use std::time::Duration;

both!(
    new_mail_opens_an_incident_and_replies_thread,
    machine_made_mail_makes_nothing,
    hostile_mail_is_quarantined_and_the_rest_goes_on,
    a_mail_storm_is_held_by_the_days_limit,
    replies_to_resolved_and_closed_incidents,
    mail_receive_keeps_or_asks_the_mta_to_retry,
    imap_and_smtp_round_trip,
    kill_9_while_polling_loses_and_doubles_nothing,
    idle_takes_mail_as_it_arrives,
    a_request_mailbox_orders_its_item,
    a_scheduled_report_arrives_once_with_two_nodes,
);

fn err(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

fn admin_ctx() -> Ctx {
    Ctx::new(Principal::system("test"), "test")
}

/// A message from header lines and a body, CRLF line ends.
fn mail(headers: &[String], body: &str) -> Vec<u8> {
    let mut out = String::new();
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&body.replace("\r\n", "\n").replace('\n', "\r\n"));
    out.into_bytes()
}

fn headers(from: &str, to: &str, subject: &str, id: &str) -> Vec<String> {
    vec![
        format!("From: Test Sender <{from}>"),
        format!("To: <{to}>"),
        format!("Subject: {subject}"),
        format!("Message-ID: <{id}>"),
        "Date: Thu, 3 Dec 2026 09:00:00 +0700".into(),
        "MIME-Version: 1.0".into(),
        "Content-Type: text/plain; charset=utf-8".into(),
    ]
}

fn unique() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

async fn mailbox(
    app: &TestApp,
    address: &str,
    adjust: impl FnOnce(&mut MailboxInput),
) -> anyhow::Result<Mailbox> {
    let mut input = MailboxInput {
        name: Some(format!("Desk {address}")),
        address: Some(address.to_owned()),
        ..Default::default()
    };
    adjust(&mut input);
    let v = admin::create_mailbox(&app.core, &admin_ctx(), input)
        .await
        .map_err(err)?;
    admin::mailbox_for(&app.core, &v.mailbox.id.to_string())
        .await
        .map_err(err)
}

async fn take(app: &TestApp, m: &Mailbox, raw: &[u8]) -> anyhow::Result<Received> {
    intake::receive(&app.core, m, raw, Source::Pipe)
        .await
        .map_err(err)
}

fn handled(r: &Received) -> anyhow::Result<&Handled> {
    match r {
        Received::Done(_, h) => Ok(h),
        other => anyhow::bail!("not processed: {other:?}"),
    }
}

async fn incident(
    app: &TestApp,
    number: &str,
) -> anyhow::Result<sigap_core::incidents::IncidentDetail> {
    sigap_core::incidents::detail(&app.core, &admin_ctx(), number)
        .await
        .map_err(err)
}

/// Every incident (numbers), paging through.
async fn incident_numbers(app: &TestApp) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let params = sigap_core::listing::ListParams {
            limit: Some(200),
            cursor: cursor.clone(),
            sort: None,
        };
        let page =
            sigap_core::incidents::list(&app.core, &admin_ctx(), Default::default(), &params)
                .await
                .map_err(err)?;
        out.extend(page.items.iter().map(|i| i.number.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}

async fn messages(
    app: &TestApp,
    state: Option<&str>,
) -> anyhow::Result<Vec<sigap_core::mail::MailMessage>> {
    let mut out = Vec::new();
    let mut f = sigap_core::mail::MessageFilter {
        direction: Some(sigap_core::mail::Direction::In),
        state: state.map(str::to_owned),
        ..Default::default()
    };
    loop {
        let page = admin::messages(&app.core, &admin_ctx(), f.clone(), 200)
            .await
            .map_err(err)?;
        let last = page.last().map(|m| (m.created_at, m.id));
        let n = page.len();
        out.extend(page);
        match last {
            Some(l) if n == 200 => f.before = Some(l),
            _ => break,
        }
    }
    Ok(out)
}

async fn new_mail_opens_an_incident_and_replies_thread(app: TestApp) -> anyhow::Result<()> {
    app.person("andi", &["agent"], None).await?;
    crate::incidents::group_with(&app, "Service Desk", &["andi"]).await?;
    let desk = mailbox(&app, "servicedesk@example.com", |i| {
        i.group = Some(Some("Service Desk".into()))
    })
    .await?;
    app.person("budi", &["requester"], None).await?;
    // A new mail from a known person: an incident by e-mail, the subject and body its own.
    let first = mail(
        &headers(
            "Budi@Example.com",
            "servicedesk@example.com",
            "Printer on floor 3 jams",
            "m1@mail.example.com",
        ),
        "The printer on floor 3 jams on every page.\n\nBudi",
    );
    let r = take(&app, &desk, &first).await?;
    let Handled::Opened(number) = handled(&r)?.clone() else {
        anyhow::bail!("not opened: {r:?}");
    };
    let d = incident(&app, &number).await?;
    assert_eq!(d.incident.short_description, "Printer on floor 3 jams");
    assert!(d.incident.description.contains("jams on every page"));
    assert_eq!(d.incident.contact_type.code(), "email");
    assert_eq!(
        d.incident.caller.as_ref().map(|c| c.login.as_str()),
        Some("budi")
    );
    // The same message again (a second delivery) is the one message.
    let again = take(&app, &desk, &first).await?;
    assert!(matches!(again, Received::Again(..)), "{again:?}");
    assert_eq!(incident_numbers(&app).await?.len(), 1);

    // A reply by the number in its subject: a comment without the quoted history.
    let reply = mail(
        &headers(
            "budi@example.com",
            "servicedesk@example.com",
            &format!("RE: [{number}] Printer on floor 3 jams"),
            "m2@mail.example.com",
        ),
        "It jams on the second tray only.\n\nOn Thu, 3 Dec 2026 at 09:00, Service Desk <servicedesk@example.com> wrote:\n> We received your message.\n> -- Reply above this line --",
    );
    let r = take(&app, &desk, &reply).await?;
    assert_eq!(handled(&r)?, &Handled::Commented(number.clone()));
    // A reply found by In-Reply-To alone (a subject without the number).
    let mut h = headers(
        "budi@example.com",
        "servicedesk@example.com",
        "Re: Printer",
        "m3@mail.example.com",
    );
    h.push("In-Reply-To: <m1@mail.example.com>".into());
    h.push("References: <m1@mail.example.com>".into());
    let r = take(
        &app,
        &desk,
        &mail(&h, "Also the toner is low.\n\n-- \nBudi Santoso\nFinance"),
    )
    .await?;
    assert_eq!(handled(&r)?, &Handled::Commented(number.clone()));
    let d = incident(&app, &number).await?;
    let comments: Vec<&str> = d
        .journal
        .iter()
        .filter(|j| j.kind.code() == "comment")
        .map(|j| j.body.as_str())
        .collect();
    assert!(
        comments.contains(&"It jams on the second tray only."),
        "{comments:?}"
    );
    assert!(comments.contains(&"Also the toner is low."), "{comments:?}");
    assert!(
        comments.iter().all(|c| !c.contains("We received")),
        "{comments:?}"
    );
    assert_eq!(incident_numbers(&app).await?.len(), 1);

    // An unknown sender: a requester is made (the mailbox's default), then a task.
    let r = take(
        &app,
        &desk,
        &mail(
            &headers(
                "new.person@example.org",
                "servicedesk@example.com",
                "VPN down",
                "m4@x.example.org",
            ),
            "VPN is down",
        ),
    )
    .await?;
    assert!(matches!(handled(&r)?, Handled::Opened(_)), "{r:?}");
    // A mailbox that refuses unknown senders: nothing is opened.
    let strict = mailbox(&app, "hr-it@example.com", |i| {
        i.unknown_senders = Some("refuse".into())
    })
    .await?;
    let r = take(
        &app,
        &strict,
        &mail(
            &headers(
                "stranger@example.net",
                "hr-it@example.com",
                "Hello",
                "m5@example.net",
            ),
            "hi",
        ),
    )
    .await?;
    assert_eq!(handled(&r)?, &Handled::Refused("unknown_sender"));
    // HTML-only mail: safe text, the original kept as an attachment.
    let mut h = headers(
        "budi@example.com",
        "servicedesk@example.com",
        "Screen flickers",
        "m6@mail.example.com",
    );
    h.retain(|l| !l.starts_with("Content-Type"));
    h.push("Content-Type: text/html; charset=utf-8".into());
    let r = take(
        &app,
        &desk,
        &mail(
            &h,
            "<html><body><p>The screen <b>flickers</b>.</p><script>alert(1)</script></body></html>",
        ),
    )
    .await?;
    let Handled::Opened(n) = handled(&r)?.clone() else {
        anyhow::bail!("{r:?}");
    };
    let d = incident(&app, &n).await?;
    assert!(
        d.incident.description.contains("The screen flickers."),
        "{}",
        d.incident.description
    );
    assert!(!d.incident.description.contains("alert"));
    let files = sigap_core::incidents::attachments(&app.core, &admin_ctx(), &n)
        .await
        .map_err(err)?;
    assert!(
        files
            .iter()
            .any(|f| f.content_type.starts_with("text/html")),
        "{files:?}"
    );
    Ok(())
}

async fn machine_made_mail_makes_nothing(app: TestApp) -> anyhow::Result<()> {
    let desk = mailbox(&app, "servicedesk@example.com", |_| {}).await?;
    app.person("budi", &["requester"], None).await?;
    let base = |id: &str| {
        headers(
            "budi@example.com",
            "servicedesk@example.com",
            "Out of office",
            id,
        )
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            [base("a1@x"), vec!["Auto-Submitted: auto-replied".into()]].concat(),
            "auto_submitted",
        ),
        (
            [base("a2@x"), vec!["Precedence: bulk".into()]].concat(),
            "precedence",
        ),
        (
            [base("a3@x"), vec!["Return-Path: <>".into()]].concat(),
            "empty_return_path",
        ),
        (
            [base("a4@x"), vec!["X-Sigap-Loop: sigap.example.com".into()]].concat(),
            "loop",
        ),
        (
            [base("a5@x"), vec!["List-Id: <it.lists.example.com>".into()]].concat(),
            "list",
        ),
        (
            headers(
                "MAILER-DAEMON@example.com",
                "servicedesk@example.com",
                "Undeliverable",
                "a6@x",
            ),
            "daemon",
        ),
    ];
    for (h, reason) in cases {
        let r = take(&app, &desk, &mail(&h, "I am away until Monday.")).await?;
        assert_eq!(handled(&r)?, &Handled::Ignored(reason.into()));
    }
    assert!(incident_numbers(&app).await?.is_empty());
    // Nothing was sent back either: no reply job.
    let jobs = sigap_core::jobs::counts(&app.core).await.map_err(err)?;
    assert_eq!(jobs.queued, 0, "{jobs:?}");
    Ok(())
}

async fn hostile_mail_is_quarantined_and_the_rest_goes_on(app: TestApp) -> anyhow::Result<()> {
    let desk = mailbox(&app, "servicedesk@example.com", |_| {}).await?;
    app.person("budi", &["requester"], None).await?;
    let good = |i: usize| {
        mail(
            &headers(
                "budi@example.com",
                "servicedesk@example.com",
                &format!("Ordinary {i}"),
                &format!("ok{i}@x"),
            ),
            "An ordinary message.",
        )
    };
    let mut nested =
        String::from("From: budi@example.com\r\nSubject: deep\r\nMessage-ID: <deep@x>\r\n");
    for d in 0..100 {
        nested.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{d}\"\r\n\r\n--b{d}\r\n"
        ));
    }
    nested.push_str("Content-Type: text/plain\r\n\r\ndeep\r\n");
    let mut big = String::from(
        "From: budi@example.com\r\nSubject: big\r\nMessage-ID: <big@x>\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    let line = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n";
    while big.len() < 20 * 1024 * 1024 {
        big.push_str(line);
    }
    big.push_str("--x--\r\n");
    let mut garbage = vec![0u8; 4096];
    for (i, b) in garbage.iter_mut().enumerate() {
        *b = u8::try_from((i * 7919 + 13) % 251).unwrap_or(0);
    }
    let hostile: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "empty"),
        (big.into_bytes(), "too_large"),
        (nested.into_bytes(), "too_deep"),
        (garbage, "not_mail"),
        (
            b"this is not a header\r\nnor this\r\n\r\nbody".to_vec(),
            "not_mail",
        ),
        (
            b"Subject: no sender at all\r\nMessage-ID: <ns@x>\r\n\r\nbody".to_vec(),
            "no_sender",
        ),
    ];
    for (i, (raw, reason)) in hostile.iter().enumerate() {
        let r = take(&app, &desk, raw).await?;
        assert_eq!(
            handled(&r)?,
            &Handled::Quarantined((*reason).into()),
            "case {i}"
        );
        // The next message goes on.
        let r = take(&app, &desk, &good(i)).await?;
        assert!(
            matches!(handled(&r)?, Handled::Opened(_)),
            "after case {i}: {r:?}"
        );
    }
    // Wrong and unknown charsets are read as well as they can be: a task.
    let mut h = headers(
        "budi@example.com",
        "servicedesk@example.com",
        "=?x-unknown?B?SGFsbw==?= charset",
        "cs@x",
    );
    h.retain(|l| !l.starts_with("Content-Type"));
    h.push("Content-Type: text/plain; charset=x-klingon".into());
    let r = take(&app, &desk, &mail(&h, "caf\u{e9} bytes")).await?;
    assert!(matches!(handled(&r)?, Handled::Opened(_)), "{r:?}");
    let quarantined = messages(&app, Some("quarantined")).await?;
    assert_eq!(quarantined.len(), hostile.len());
    // The raw message is kept (the start of one over the limit).
    let too_large = quarantined
        .iter()
        .find(|m| m.reason.as_deref() == Some("too_large"))
        .ok_or_else(|| anyhow::anyhow!("no too_large"))?;
    assert!(too_large.truncated && too_large.size > 20 * 1024 * 1024);
    // An administrator discards one and tries another again: it is quarantined again.
    let ctx = admin_ctx();
    let first = &quarantined[0];
    admin::discard(&app.core, &ctx, &first.id.to_string())
        .await
        .map_err(err)?;
    let second = &quarantined[1];
    admin::retry(&app.core, &ctx, &second.id.to_string())
        .await
        .map_err(err)?;
    let h = intake::reprocess(&app.core, second.id).await.map_err(err)?;
    assert!(matches!(h, Handled::Quarantined(_)), "{h:?}");
    assert_eq!(messages(&app, Some("discarded")).await?.len(), 1);
    Ok(())
}

async fn a_mail_storm_is_held_by_the_days_limit(app: TestApp) -> anyhow::Result<()> {
    let desk = mailbox(&app, "servicedesk@example.com", |_| {}).await?;
    app.person("storm", &["requester"], None).await?;
    let mut opened = 0;
    let mut limited = 0;
    for i in 0..1_000 {
        let raw = mail(
            &headers(
                "storm@example.com",
                "servicedesk@example.com",
                &format!("Alert {i}"),
                &format!("s{i}@storm"),
            ),
            "disk full",
        );
        match handled(&take(&app, &desk, &raw).await?)? {
            Handled::Opened(_) => opened += 1,
            Handled::Ignored(r) if r == "rate_limited" => limited += 1,
            other => anyhow::bail!("message {i}: {other:?}"),
        }
    }
    assert_eq!((opened, limited), (40, 960));
    assert_eq!(incident_numbers(&app).await?.len(), 40);
    // Someone else still gets through.
    app.person("budi", &["requester"], None).await?;
    let r = take(
        &app,
        &desk,
        &mail(
            &headers(
                "budi@example.com",
                "servicedesk@example.com",
                "Mouse",
                "b1@x",
            ),
            "broken",
        ),
    )
    .await?;
    assert!(matches!(handled(&r)?, Handled::Opened(_)));
    // The next day the sender may open tasks again.
    app.clock.advance(jiff::SignedDuration::from_hours(25));
    let r = take(
        &app,
        &desk,
        &mail(
            &headers(
                "storm@example.com",
                "servicedesk@example.com",
                "Alert again",
                "s-next@storm",
            ),
            "disk full",
        ),
    )
    .await?;
    assert!(matches!(handled(&r)?, Handled::Opened(_)), "{r:?}");
    Ok(())
}

async fn replies_to_resolved_and_closed_incidents(app: TestApp) -> anyhow::Result<()> {
    let desk = mailbox(&app, "servicedesk@example.com", |_| {}).await?;
    let (budi, _) = app.person("budi", &["requester"], None).await?;
    let (agent, _) = app.person("andi", &["agent"], None).await?;
    let r = take(
        &app,
        &desk,
        &mail(
            &headers(
                "budi@example.com",
                "servicedesk@example.com",
                "Laptop slow",
                "r1@x",
            ),
            "very slow",
        ),
    )
    .await?;
    let Handled::Opened(number) = handled(&r)?.clone() else {
        anyhow::bail!("{r:?}");
    };
    let actx = Ctx::new(
        Principal::from_person(&agent, sigap_core::AuthMethod::System),
        "t",
    );
    let resolve = sigap_core::incidents::Action::Resolve {
        code: "solved_permanently".into(),
        notes: "Replaced the disk".into(),
        article: None,
    };
    sigap_core::incidents::act(&app.core, &actx, &number, resolve, None)
        .await
        .map_err(err)?;
    // The caller's reply to the resolved incident reopens it.
    let reply = mail(
        &headers(
            "budi@example.com",
            "servicedesk@example.com",
            &format!("Re: [{number}] Laptop slow"),
            "r2@x",
        ),
        "Still slow after the change.",
    );
    let r = take(&app, &desk, &reply).await?;
    assert_eq!(handled(&r)?, &Handled::Reopened(number.clone()));
    let d = incident(&app, &number).await?;
    assert_eq!(d.incident.state.to_string(), "in_progress");
    // A mailbox that refuses replies to resolved incidents.
    let strict = mailbox(&app, "strict@example.com", |i| {
        i.resolved_reply = Some("refuse".into())
    })
    .await?;
    let resolve = sigap_core::incidents::Action::Resolve {
        code: "solved_permanently".into(),
        notes: "Again".into(),
        article: None,
    };
    sigap_core::incidents::act(&app.core, &actx, &number, resolve, None)
        .await
        .map_err(err)?;
    let reply = mail(
        &headers(
            "budi@example.com",
            "strict@example.com",
            &format!("Re: [{number}] Laptop slow"),
            "r3@x",
        ),
        "Once more.",
    );
    let r = take(&app, &strict, &reply).await?;
    assert_eq!(handled(&r)?, &Handled::Refused("resolved"));
    assert_eq!(
        incident(&app, &number).await?.incident.state.to_string(),
        "resolved"
    );
    // Closed (the caller accepts): a reply opens a new incident that refers to the old one.
    let bctx = Ctx::new(
        Principal::from_person(&budi, sigap_core::AuthMethod::System),
        "t",
    );
    sigap_core::incidents::act(
        &app.core,
        &bctx,
        &number,
        sigap_core::incidents::Action::Accept,
        None,
    )
    .await
    .map_err(err)?;
    let reply = mail(
        &headers(
            "budi@example.com",
            "servicedesk@example.com",
            &format!("Re: [{number}] Laptop slow"),
            "r4@x",
        ),
        "It is slow again.",
    );
    let r = take(&app, &desk, &reply).await?;
    let Handled::Opened(new) = handled(&r)?.clone() else {
        anyhow::bail!("{r:?}");
    };
    assert_ne!(new, number);
    assert!(
        incident(&app, &new)
            .await?
            .incident
            .description
            .contains(&number)
    );
    Ok(())
}

async fn mail_receive_keeps_or_asks_the_mta_to_retry(app: TestApp) -> anyhow::Result<()> {
    mailbox(&app, "servicedesk@example.com", |_| {}).await?;
    app.person("budi", &["requester"], None).await?;
    let pipe = |db: &str, mailbox: &str, raw: &[u8]| -> anyhow::Result<(i32, String)> {
        use std::io::Write as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_sigap"))
            .args([
                "mail",
                "receive",
                "--mailbox",
                mailbox,
                "--database-url",
                db,
            ])
            .env("SIGAP_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(raw)?;
        }
        let out = child.wait_with_output()?;
        Ok((
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        ))
    };
    let raw = mail(
        &headers(
            "budi@example.com",
            "servicedesk@example.com",
            "Piped",
            "p1@x",
        ),
        "through the MTA",
    );
    let (code, said) = pipe(&app.db.url, "servicedesk@example.com", &raw)?;
    assert_eq!(code, 0, "{said}");
    assert_eq!(incident_numbers(&app).await?.len(), 1);
    // Garbage is kept in the quarantine: taken, exit 0.
    let (code, said) = pipe(
        &app.db.url,
        "servicedesk@example.com",
        b"\x00\x01\x02 garbage",
    )?;
    assert_eq!(code, 0, "{said}");
    // No such mailbox, or no database: 75, the MTA keeps the message.
    let (code, said) = pipe(&app.db.url, "nobody@example.com", &raw)?;
    assert_eq!(code, 75, "{said}");
    let (code, said) = pipe(
        "postgres://nobody@127.0.0.1:1/none",
        "servicedesk@example.com",
        &raw,
    )?;
    assert_eq!(code, 75, "{said}");
    Ok(())
}

// ----- against real servers -----

/// The test mail servers (scripts/mail-servers), if configured. CI requires them
/// (SIGAP_REQUIRE_MAIL=1).
struct Servers {
    domain: String,
    imap: (String, i64),
    smtp: (String, i64),
    smtp_plain: (String, i64),
    password: String,
    trust: TlsTrust,
}

fn servers() -> anyhow::Result<Option<Servers>> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let Some(domain) = var("SIGAP_TEST_MAIL_DOMAIN") else {
        anyhow::ensure!(
            var("SIGAP_REQUIRE_MAIL").is_none(),
            "SIGAP_REQUIRE_MAIL is set but the mail servers are not (scripts/mail-servers env)"
        );
        eprintln!("mail servers not configured: skipped");
        return Ok(None);
    };
    let addr = |n: &str| -> anyhow::Result<(String, i64)> {
        let v = var(n).ok_or_else(|| anyhow::anyhow!("{n} is not set"))?;
        let (h, p) = v
            .rsplit_once(':')
            .ok_or_else(|| anyhow::anyhow!("{n}={v}"))?;
        Ok((h.to_owned(), p.parse()?))
    };
    Ok(Some(Servers {
        imap: addr("SIGAP_TEST_IMAP")?,
        smtp: addr("SIGAP_TEST_SMTP")?,
        smtp_plain: addr("SIGAP_TEST_SMTP_PLAIN")?,
        password: var("SIGAP_TEST_MAIL_PASSWORD").unwrap_or_default(),
        trust: TlsTrust {
            ca_file: var("SIGAP_TEST_MAIL_CA").map(Into::into),
        },
        domain,
    }))
}

impl Servers {
    fn address(&self, who: &str) -> String {
        format!("{who}-{}@{}", unique(), self.domain)
    }

    /// A mailbox reading `address` over IMAP (implicit TLS).
    fn imap_input(&self, address: &str) -> MailboxInput {
        MailboxInput {
            name: Some(format!("Desk {address}")),
            address: Some(address.to_owned()),
            imap_host: Some(Some("localhost".into())),
            imap_port: Some(Some(self.imap.1)),
            imap_security: Some("tls".into()),
            imap_username: Some(Some(address.to_owned())),
            imap_password: Some(Some(self.password.clone())),
            ..Default::default()
        }
    }

    /// Sends raw mail as a plain SMTP client on port 25 (how mail reaches the desk).
    async fn deliver(&self, from: &str, to: &str, raw: &[u8]) -> anyhow::Result<()> {
        let o = Outbound {
            enabled: true,
            host: self.smtp_plain.0.clone(),
            port: self.smtp_plain.1,
            security: "none".into(),
            from_address: from.to_owned(),
            ..Default::default()
        };
        Smtp::new(self.trust.clone())
            .send(&o, to, raw)
            .await
            .map_err(err)
    }

    /// The messages in `address`'s INBOX, parsed (with their raw bytes).
    async fn inbox(
        &self,
        address: &str,
    ) -> anyhow::Result<Vec<(sigap_domain::mail::Inbound, Vec<u8>)>> {
        let m = Mailbox {
            id: sigap_domain::MailboxId::new(),
            name: address.to_owned(),
            address: address.to_owned(),
            active: true,
            kind: "incident".into(),
            catalog_item_id: None,
            group_id: None,
            unknown_senders: "create".into(),
            resolved_reply: "reopen".into(),
            max_tasks_per_day: 40,
            max_replies_per_day: 10,
            max_bytes: 10 << 20,
            acknowledge: true,
            imap: sigap_core::mail::Imap {
                host: Some("localhost".into()),
                port: Some(self.imap.1),
                security: "tls".into(),
                username: Some(address.to_owned()),
                password: Some(self.password.clone()),
                folder: "INBOX".into(),
                after: "seen".into(),
                poll_secs: 60,
            },
            last_polled_at: None,
            last_error: None,
            created_at: jiff::Timestamp::now(),
            updated_at: jiff::Timestamp::now(),
            version: 1,
        };
        let mut session = sigap_mail::imap::connect(&m, &self.trust)
            .await
            .map_err(err)?;
        session.select("INBOX").await?;
        let mut out = Vec::new();
        {
            let mut stream = session.fetch("1:*", "(BODY.PEEK[])").await?;
            while let Some(f) = stream.next().await {
                let f = f?;
                if let Some(body) = f.body() {
                    let parsed = sigap_mail::parse(body).map_err(err)?;
                    out.push((parsed, body.to_vec()));
                }
            }
        }
        let _ = session.logout().await;
        Ok(out)
    }

    /// Waits until `address` has `n` messages (delivery takes tens of milliseconds).
    async fn wait_inbox(
        &self,
        address: &str,
        n: usize,
    ) -> anyhow::Result<Vec<(sigap_domain::mail::Inbound, Vec<u8>)>> {
        for _ in 0..100 {
            let got = self.inbox(address).await.unwrap_or_default();
            if got.len() >= n {
                return Ok(got);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("{address} did not get {n} messages")
    }

    fn outbound(&self, from: &str) -> OutboundInput {
        OutboundInput {
            enabled: Some(true),
            host: Some("localhost".into()),
            port: Some(self.smtp.1),
            security: Some("starttls".into()),
            username: Some(from.to_owned()),
            password: Some(Some(self.password.clone())),
            from_address: Some(from.to_owned()),
            from_name: Some("Service Desk".into()),
        }
    }
}

/// Runs the jobs that are due with the mail handlers.
async fn run_jobs(app: &TestApp, trust: &TlsTrust) -> anyhow::Result<usize> {
    let mut registry = sigap_core::jobs::Registry::standard();
    sigap_mail::register(
        &mut registry,
        sigap_mail::Mailer::new(trust.clone()).map_err(err)?,
    );
    let worker = sigap_core::jobs::Worker::new(app.core.clone(), registry);
    let mut total = 0;
    loop {
        let n = worker.run_once().await.map_err(err)?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
}

async fn poll(app: &TestApp, m: &Mailbox, s: &Servers) -> anyhow::Result<sigap_mail::imap::Polled> {
    let fresh = admin::mailbox_for(&app.core, &m.id.to_string())
        .await
        .map_err(err)?;
    sigap_mail::imap::poll(&app.core, &fresh, &s.trust)
        .await
        .map_err(err)
}

async fn imap_and_smtp_round_trip(app: TestApp) -> anyhow::Result<()> {
    let Some(s) = servers()? else { return Ok(()) };
    let desk_address = s.address("desk");
    let desk = mailbox(&app, &desk_address, |i| {
        *i = MailboxInput {
            ..s.imap_input(&desk_address)
        }
    })
    .await?;
    admin::set_outbound(&app.core, &admin_ctx(), s.outbound(&desk_address), None)
        .await
        .map_err(err)?;
    let budi_address = s.address("budi");
    let (budi, _) = app.person("budi", &["requester"], None).await?;
    let ctx = admin_ctx();
    let set_mail = |email: String, locale: &str| sigap_core::people::PersonInput {
        email: Some(Some(email)),
        locale: Some(locale.to_owned()),
        ..Default::default()
    };
    sigap_core::people::update(
        &app.core,
        &ctx,
        &budi.id.to_string(),
        set_mail(budi_address.clone(), "id"),
        None,
    )
    .await
    .map_err(err)?;

    // A new mail, polled over IMAP: an incident; the mailbox marks it seen afterwards.
    let raw = mail(
        &headers(
            &budi_address,
            &desk_address,
            "Printer jams",
            &format!("{}@client.sigap.test", unique()),
        ),
        "It jams.",
    );
    s.deliver(&budi_address, &desk_address, &raw).await?;
    s.wait_inbox(&desk_address, 1).await?;
    let p = poll(&app, &desk, &s).await?;
    assert_eq!(p.taken, 1, "{p:?}");
    let numbers = incident_numbers(&app).await?;
    let [number] = numbers.as_slice() else {
        anyhow::bail!("{numbers:?}");
    };
    assert_eq!(
        poll(&app, &desk, &s).await?.taken,
        0,
        "seen messages are not taken again"
    );

    // The acknowledgement goes out by SMTP, in budi's language, with the number and the marks.
    run_jobs(&app, &s.trust).await?;
    let got = s.wait_inbox(&budi_address, 1).await?;
    let (ack, ack_raw) = &got[0];
    assert!(
        ack.subject.contains(&format!("[{number}]")),
        "{}",
        ack.subject
    );
    assert!(ack.text.contains("sudah kami terima"), "{}", ack.text);
    let raw_text = String::from_utf8_lossy(ack_raw);
    assert!(raw_text.contains("Auto-Submitted: auto-generated"));
    assert!(raw_text.contains("X-Auto-Response-Suppress: All"));
    assert!(raw_text.contains("X-Sigap-Loop:"));
    let ack_id = ack
        .message_id
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no Message-ID"))?;

    // A reply by In-Reply-To to what Sigap sent (the subject without the number).
    let mut h = headers(
        &budi_address,
        &desk_address,
        "Re: Diterima",
        &format!("{}@client.sigap.test", unique()),
    );
    h.push(format!("In-Reply-To: <{ack_id}>"));
    s.deliver(
        &budi_address,
        &desk_address,
        &mail(&h, "Only the second tray.\n\n> quoted"),
    )
    .await?;
    // And a reply by the subject.
    let h = headers(
        &budi_address,
        &desk_address,
        &format!("Re: [{number}] Printer jams"),
        &format!("{}@c", unique()),
    );
    s.deliver(&budi_address, &desk_address, &mail(&h, "And it beeps."))
        .await?;
    s.wait_inbox(&desk_address, 3).await?;
    assert_eq!(poll(&app, &desk, &s).await?.taken, 2);
    let d = incident(&app, number).await?;
    let comments: Vec<&str> = d
        .journal
        .iter()
        .filter(|j| j.kind.code() == "comment")
        .map(|j| j.body.as_str())
        .collect();
    assert!(comments.contains(&"Only the second tray."), "{comments:?}");
    assert!(comments.contains(&"And it beeps."), "{comments:?}");

    // An auto-reply makes nothing.
    let mut h = headers(
        &budi_address,
        &desk_address,
        "Out of office",
        &format!("{}@c", unique()),
    );
    h.push("Auto-Submitted: auto-replied".into());
    s.deliver(&budi_address, &desk_address, &mail(&h, "Away"))
        .await?;
    s.wait_inbox(&desk_address, 4).await?;
    assert_eq!(poll(&app, &desk, &s).await?.taken, 1);
    assert_eq!(incident_numbers(&app).await?.len(), 1);

    // A notification: an agent's comment reaches budi in Indonesian, threaded.
    let (agent, _) = app.person("andi", &["agent"], None).await?;
    let actx = Ctx::new(
        Principal::from_person(&agent, sigap_core::AuthMethod::System),
        "t",
    );
    let comment = sigap_core::incidents::Action::Comment {
        body: "Kami kirim teknisi.".into(),
    };
    sigap_core::incidents::act(&app.core, &actx, number, comment, None)
        .await
        .map_err(err)?;
    run_jobs(&app, &s.trust).await?;
    let got = s.wait_inbox(&budi_address, 2).await?;
    let (note, note_raw) = got
        .iter()
        .find(|(m, _)| m.text.contains("Kami kirim teknisi."))
        .ok_or_else(|| anyhow::anyhow!("no notification mail"))?;
    assert!(note.subject.contains(&format!("[{number}]")));
    assert!(
        note.text.contains("pesan baru dari service desk"),
        "{}",
        note.text
    );
    assert!(!note.in_reply_to.is_empty(), "threaded");
    assert!(String::from_utf8_lossy(note_raw).contains("Auto-Submitted: auto-generated"));

    // A bounce: mail to an address that fails for good comes back as a report; the
    // address is marked and gets no more mail.
    let gone = format!("gone-{}@bounce.{}", unique(), s.domain);
    sigap_core::people::update(
        &app.core,
        &ctx,
        &budi.id.to_string(),
        set_mail(gone.clone(), "en"),
        None,
    )
    .await
    .map_err(err)?;
    let comment = sigap_core::incidents::Action::Comment {
        body: "Are you there?".into(),
    };
    sigap_core::incidents::act(&app.core, &actx, number, comment, None)
        .await
        .map_err(err)?;
    run_jobs(&app, &s.trust).await?;
    let mut reported = false;
    for _ in 0..50 {
        poll(&app, &desk, &s).await?;
        let bounces = messages(&app, Some("processed"))
            .await?
            .into_iter()
            .any(|m| m.reason.as_deref() == Some("delivery_report"));
        if bounces {
            reported = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::ensure!(reported, "no delivery report arrived");
    let p = sigap_core::people::get(&app.core, &ctx, &budi.id.to_string())
        .await
        .map_err(err)?;
    let before = sigap_core::jobs::counts(&app.core).await.map_err(err)?;
    let comment = sigap_core::incidents::Action::Comment {
        body: "Hello?".into(),
    };
    sigap_core::incidents::act(&app.core, &actx, number, comment, None)
        .await
        .map_err(err)?;
    let after = sigap_core::jobs::counts(&app.core).await.map_err(err)?;
    assert_eq!(
        after.queued, before.queued,
        "no mail job for a failed address ({})",
        p.login
    );
    Ok(())
}

async fn kill_9_while_polling_loses_and_doubles_nothing(app: TestApp) -> anyhow::Result<()> {
    let Some(s) = servers()? else { return Ok(()) };
    let desk_address = s.address("storm");
    let desk = mailbox(&app, &desk_address, |i| {
        *i = MailboxInput {
            max_tasks_per_day: Some(100_000),
            acknowledge: Some(false),
            ..s.imap_input(&desk_address)
        }
    })
    .await?;
    app.person("budi", &["requester"], None).await?;
    const N: usize = 300;
    for i in 0..N {
        let raw = mail(
            &headers(
                "budi@example.com",
                &desk_address,
                &format!("Message {i}"),
                &format!("k{i}-{}@c", unique()),
            ),
            "body",
        );
        s.deliver("budi@example.com", &desk_address, &raw).await?;
    }
    s.wait_inbox(&desk_address, N).await?;
    // A poller killed with SIGKILL while it works.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args(["mail", "poll", "--database-url", &app.db.url])
        .env("SIGAP_LOG", "warn")
        .env(
            "SIGAP_MAIL_CA_FILE",
            s.trust.ca_file.clone().unwrap_or_default(),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let mut killed_at = 0;
    for _ in 0..600 {
        killed_at = messages(&app, None).await?.len();
        if killed_at >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill()?;
    child.wait()?;
    anyhow::ensure!(killed_at < N, "the poller finished before it was killed");
    // The next polls take the rest; what the killed one fetched but did not mark is
    // fetched again and is the one message.
    for _ in 0..5 {
        poll(&app, &desk, &s).await?;
        intake::sweep(&app.core).await.map_err(err)?;
    }
    app.clock.advance(jiff::SignedDuration::from_secs(120));
    intake::sweep(&app.core).await.map_err(err)?;
    let all = messages(&app, None).await?;
    assert_eq!(all.len(), N, "every message once");
    assert!(
        all.iter().all(|m| m.state == "processed"),
        "{:?}",
        all.iter().map(|m| &m.state).collect::<Vec<_>>()
    );
    let numbers = incident_numbers(&app).await?;
    assert_eq!(numbers.len(), N, "one incident per message");
    Ok(())
}

/// Waits until there are `n` incidents (at most `secs` seconds).
async fn wait_incidents(app: &TestApp, n: usize, secs: u64) -> anyhow::Result<Vec<String>> {
    let start = std::time::Instant::now();
    loop {
        let numbers = incident_numbers(app).await?;
        if numbers.len() >= n {
            return Ok(numbers);
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(secs),
            "{} incidents after {secs} s, not {n}",
            numbers.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn idle_takes_mail_as_it_arrives(app: TestApp) -> anyhow::Result<()> {
    let Some(s) = servers()? else { return Ok(()) };
    let desk_address = s.address("desk");
    // Polled once an hour: only IDLE takes the second mail within seconds.
    mailbox(&app, &desk_address, |i| {
        *i = MailboxInput {
            poll_secs: Some(3600),
            ..s.imap_input(&desk_address)
        }
    })
    .await?;
    let budi_address = s.address("budi");
    let send = |subject: &str| {
        mail(
            &headers(
                &budi_address,
                &desk_address,
                subject,
                &format!("{}@client.sigap.test", unique()),
            ),
            "Details inside.",
        )
    };
    // Mail waiting before the watcher starts is taken when it connects.
    s.deliver(&budi_address, &desk_address, &send("VPN drops"))
        .await?;
    s.wait_inbox(&desk_address, 1).await?;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let timing = sigap_mail::imap::idle::Timing {
        check: Duration::from_millis(200),
        retry: Duration::from_millis(500),
        reissue: Duration::from_secs(600),
    };
    let watcher = tokio::spawn(sigap_mail::imap::idle::watch_with(
        app.core.clone(),
        s.trust.clone(),
        stopped,
        timing,
    ));
    wait_incidents(&app, 1, 30).await?;
    // Give the connection a moment to enter IDLE, then mail arrives: taken within seconds.
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.deliver(&budi_address, &desk_address, &send("Printer jams"))
        .await?;
    s.deliver(&budi_address, &desk_address, &send("Screen flickers"))
        .await?;
    let numbers = wait_incidents(&app, 3, 15).await?;
    assert_eq!(numbers.len(), 3, "{numbers:?}");
    let m = admin::mailbox_for(&app.core, &desk_address)
        .await
        .map_err(err)?;
    assert!(m.last_polled_at.is_some());
    assert_eq!(m.last_error, None);

    // The watcher stops when told, and gives up its lease for another node.
    stop.send(true).map_err(err)?;
    tokio::time::timeout(Duration::from_secs(10), watcher)
        .await
        .map_err(err)?
        .map_err(err)?;
    let other = sigap_core::jobs::hold_lease(&app.core, sigap_mail::imap::idle::LEASE, "other", 60)
        .await
        .map_err(err)?;
    assert!(other, "the lease was given up");
    // Each message made one incident.
    assert_eq!(incident_numbers(&app).await?.len(), 3);
    Ok(())
}

async fn a_request_mailbox_orders_its_item(app: TestApp) -> anyhow::Result<()> {
    use crate::portfolio::{get, post};
    let offering = crate::requests::catalogue_offering(&app, "Workplace").await?;
    let (_, agent) = app.person("fajar", &["agent"], None).await?;
    crate::incidents::group_with(&app, "Accounts", &["fajar"]).await?;
    let admin = app.admin_token.clone();
    let item = post(
        &app,
        "/catalog/items",
        &admin,
        serde_json::json!({
            "name": "Shared folder access", "service_offering": offering,
            "plan": [{"order": 10, "group": "Accounts", "short_description": "Grant the access"}]
        }),
    )
    .await?;
    let item_id = item["id"].as_str().unwrap_or_default().to_owned();
    let desk = mailbox(&app, "access@example.com", |i| {
        i.kind = Some("request".into());
        i.catalog_item = Some(Some(item_id.clone()));
    })
    .await?;
    app.person("budi", &["requester"], None).await?;

    // A new mail: a request for the mailbox's item, by e-mail, the mail its comment.
    let r = take(
        &app,
        &desk,
        &mail(
            &headers(
                "budi@example.com",
                "access@example.com",
                "Access to the finance folder",
                "order-1@mail.example.com",
            ),
            "I need to read the finance folder for the audit.",
        ),
    )
    .await?;
    let Handled::Opened(number) = handled(&r)?.clone() else {
        anyhow::bail!("not opened: {r:?}");
    };
    assert!(number.starts_with("REQ"), "{number}");
    let req = get(&app, &format!("/requests/{number}"), &agent).await?;
    assert_eq!(req["contact_type"], "email", "{req}");
    assert_eq!(req["caller"]["display"], "Test budi", "{req}");
    let items = req["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{req}");
    assert_eq!(
        items[0]["short_description"], "Shared folder access",
        "{req}"
    );
    assert_eq!(items[0]["contact_type"], "email", "{req}");
    let journal = req["journal"].to_string();
    assert!(
        journal.contains("finance folder for the audit"),
        "{journal}"
    );

    // A reply by its number: a comment on the request.
    let r = take(
        &app,
        &desk,
        &mail(
            &headers(
                "budi@example.com",
                "access@example.com",
                &format!("Re: [{number}] Access to the finance folder"),
                "order-2@mail.example.com",
            ),
            "Read access is enough.\n\n> quoted",
        ),
    )
    .await?;
    assert_eq!(handled(&r)?, &Handled::Commented(number.clone()));
    let req = get(&app, &format!("/requests/{number}"), &agent).await?;
    let journal = req["journal"].to_string();
    assert!(journal.contains("Read access is enough."), "{journal}");
    assert!(!journal.contains("quoted"), "{journal}");
    // Nothing else was opened.
    let list = get(&app, "/requests", &agent).await?;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    Ok(())
}

/// A report scheduled weekly as XLSX arrives once, with its file, though two nodes' workers
/// sweep the due deliveries at the same time; the next week's is not sent early.
async fn a_scheduled_report_arrives_once_with_two_nodes(app: TestApp) -> anyhow::Result<()> {
    let Some(s) = servers()? else { return Ok(()) };
    let desk_address = s.address("desk");
    admin::set_outbound(&app.core, &admin_ctx(), s.outbound(&desk_address), None)
        .await
        .map_err(err)?;
    let mona_address = s.address("mona");
    let (mona, token) = app.person("mona", &["manager"], None).await?;
    sigap_core::people::update(
        &app.core,
        &admin_ctx(),
        &mona.id.to_string(),
        sigap_core::people::PersonInput {
            email: Some(Some(mona_address.clone())),
            ..Default::default()
        },
        None,
    )
    .await
    .map_err(err)?;
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: String, body: serde_json::Value| {
        client
            .request(method, app.api(&path))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let i = call(
        reqwest::Method::POST,
        "/incidents".into(),
        serde_json::json!({"short_description": "Printer jam"}),
    )
    .await?;
    anyhow::ensure!(i.status() == 201, "{}", i.text().await?);
    let r = call(
        reqwest::Method::POST,
        "/reports".into(),
        serde_json::json!({"name": "Weekly incidents", "definition":
            {"source": "incident", "group_by": ["priority"], "display": "bar", "period": "last_7_days"}}),
    )
    .await?;
    anyhow::ensure!(r.status() == 201, "{}", r.text().await?);
    let report: serde_json::Value = r.json().await?;
    let id = report["id"].as_str().unwrap_or_default().to_owned();
    let sch = call(
        reqwest::Method::POST,
        format!("/reports/{id}/schedules"),
        serde_json::json!({"every": "weekly", "weekday": 1, "hour": 7, "time_zone": "UTC", "format": "xlsx"}),
    )
    .await?;
    anyhow::ensure!(sch.status() == 201, "{}", sch.text().await?);
    let sch: serde_json::Value = sch.json().await?;
    assert_eq!(
        sch["people"],
        serde_json::json!([mona.id.to_string()]),
        "to its owner"
    );

    // Nothing is due yet.
    assert_eq!(
        sigap_core::reports::schedules::deliver_due(&app.core)
            .await
            .map_err(err)?,
        0
    );
    // A week on, two nodes sweep at once: one of them queues the mail.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 7));
    let (a, b) = tokio::join!(
        sigap_core::reports::schedules::deliver_due(&app.core),
        sigap_core::reports::schedules::deliver_due(&app.core),
    );
    assert_eq!(a.map_err(err)? + b.map_err(err)?, 1, "claimed once");
    let (x, y) = tokio::join!(run_jobs(&app, &s.trust), run_jobs(&app, &s.trust));
    x?;
    y?;
    let got = s.wait_inbox(&mona_address, 1).await?;
    let (mail, raw) = &got[0];
    assert!(
        mail.subject.contains("Weekly incidents"),
        "{}",
        mail.subject
    );
    let xlsx = mail
        .attachments
        .iter()
        .find(|p| p.filename == "sigap-weekly-incidents.xlsx")
        .ok_or_else(|| anyhow::anyhow!("no XLSX attached: {}", String::from_utf8_lossy(raw)))?;
    assert!(xlsx.bytes.starts_with(b"PK"));
    // Sweeping again sends nothing more; the schedule waits for next week.
    assert_eq!(
        sigap_core::reports::schedules::deliver_due(&app.core)
            .await
            .map_err(err)?,
        0
    );
    run_jobs(&app, &s.trust).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.inbox(&mona_address).await?.len(), 1, "once");
    let after: serde_json::Value = call(
        reqwest::Method::GET,
        format!(
            "/report_schedules/{}",
            sch["id"].as_str().unwrap_or_default()
        ),
        serde_json::Value::Null,
    )
    .await?
    .json()
    .await?;
    assert!(after["last_run_at"].is_string(), "{after}");
    assert!(
        after["next_run_at"].as_str() > sch["next_run_at"].as_str(),
        "{after}"
    );
    Ok(())
}
