//! Inbound messages taken apart: ordinary mail from the usual programs, delivery reports,
//! auto-replies, and a hostile corpus generated here in code.

use crate::parse;
use anyhow::{Context, Result, bail};
use proptest::prelude::*;
use sigap_domain::mail::{
    AutoReason, DeliveryAction, Inbound, MAX_DEPTH, MAX_MESSAGE_BYTES, Unreadable, reply_text,
};

/// A message from header lines and a body, with CRLF line ends.
fn mail(headers: &[&str], body: &str) -> Vec<u8> {
    let mut out = String::new();
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&body.replace("\r\n", "\n").replace('\n', "\r\n"));
    out.into_bytes()
}

const BASIC: &[&str] = &[
    "Return-Path: <Budi@Example.co.id>",
    "From: \"Budi Santoso\" <Budi.Santoso@Example.CO.ID>",
    "To: Service Desk <servicedesk@example.co.id>, siti@example.co.id",
    "Cc: Ops <ops@example.co.id>",
    "Subject: Printer macet",
    "Date: Mon, 2 Dec 2024 09:15:00 +0700",
    "Message-ID: <CAB123@mail.example.co.id>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
];

fn parsed(raw: &[u8]) -> Result<Inbound> {
    Ok(parse(raw)?)
}

fn attachment<'a>(m: &'a Inbound, name: &str) -> Result<&'a sigap_domain::mail::Part> {
    m.attachments
        .iter()
        .find(|p| p.filename == name)
        .with_context(|| format!("no attachment {name} in {:?}", names(m)))
}

fn names(m: &Inbound) -> Vec<&str> {
    m.attachments.iter().map(|p| p.filename.as_str()).collect()
}

#[test]
fn an_ordinary_message_is_taken_apart() -> Result<()> {
    let m = parsed(&mail(BASIC, "Printer di lantai 3 macet lagi.\n"))?;
    let from = m.from.clone().context("from")?;
    assert_eq!(from.email, "budi.santoso@example.co.id");
    assert_eq!(from.name.as_deref(), Some("Budi Santoso"));
    let to: Vec<&str> = m.to.iter().map(|a| a.email.as_str()).collect();
    assert_eq!(to, ["servicedesk@example.co.id", "siti@example.co.id"]);
    assert_eq!(
        m.to.first().and_then(|a| a.name.as_deref()),
        Some("Service Desk")
    );
    assert_eq!(m.cc.len(), 1);
    assert_eq!(m.message_id.as_deref(), Some("CAB123@mail.example.co.id"));
    assert_eq!(m.return_path.as_deref(), Some("budi@example.co.id"));
    assert_eq!(m.subject, "Printer macet");
    assert_eq!(m.text, "Printer di lantai 3 macet lagi.");
    assert!(!m.html_only);
    assert!(m.attachments.is_empty());
    assert_eq!(
        m.date.map(|d| d.to_string()).as_deref(),
        Some("2024-12-02T02:15:00Z")
    );
    assert_eq!(m.auto_reason(), None);
    assert_eq!(m.report, None);
    Ok(())
}

#[test]
fn threading_headers_lose_their_brackets() -> Result<()> {
    let mut headers = BASIC.to_vec();
    headers.push("In-Reply-To: <sigap.INC0000123.1@sigap.example.co.id>");
    headers.push("References: <a@x> <b@x>\r\n <c@x>");
    let m = parsed(&mail(&headers, "ok"))?;
    assert_eq!(m.in_reply_to, ["sigap.INC0000123.1@sigap.example.co.id"]);
    assert_eq!(m.references, ["a@x", "b@x", "c@x"]);

    let many: Vec<String> = (0..500).map(|n| format!("<r{n}@x>")).collect();
    let refs = format!("References: {}", many.join("\r\n "));
    let mut headers = BASIC.to_vec();
    headers.push(&refs);
    let m = parsed(&mail(&headers, "ok"))?;
    assert_eq!(m.references.len(), 100);
    assert_eq!(m.references.first().map(String::as_str), Some("r0@x"));
    assert_eq!(m.references.last().map(String::as_str), Some("r499@x"));
    Ok(())
}

#[test]
fn subjects_are_decoded_cleaned_and_capped() -> Result<()> {
    let cases: &[(&str, &str)] = &[
        (
            "Subject: =?UTF-8?B?UHJpbnRlciBtYWNldCDinJM=?=",
            "Printer macet ✓",
        ),
        ("Subject: =?ISO-8859-1?Q?Caf=E9_ferm=E9?=", "Café fermé"),
        (
            "Subject: Re: multi\r\n   line\tfolded   subject ",
            "Re: multi line folded subject",
        ),
        (
            "Subject: bell\x07 and \x1b[31mescape",
            "bell and [31mescape",
        ),
        (
            "Subject: =?utf-8?B?!!!not-base64?=",
            "=?utf-8?B?!!!not-base64?=",
        ),
        ("Subject: =?x-unknown?Q?abc?= tail", "abc tail"),
        ("Subject: =?utf-8?Q?unterminated", "=?utf-8?Q?unterminated"),
        ("Subject: =?utf-8?Q??= =??= =?", ""),
        ("Subject: hidden\u{202e}txt.exe", "hiddentxt.exe"),
    ];
    for (header, want) in cases {
        let raw = mail(&["From: a@example.com", header], "x");
        let m = parsed(&raw)?;
        if !want.is_empty() {
            assert_eq!(&m.subject, want, "{header}");
        }
        assert!(!m.subject.chars().any(char::is_control), "{header}");
    }
    let long = format!("Subject: {}", "é".repeat(5_000));
    let m = parsed(&mail(&["From: a@example.com", &long], "x"))?;
    assert_eq!(m.subject.chars().count(), 1_000);
    Ok(())
}

#[test]
fn dates_that_cannot_be_read_are_left_out() -> Result<()> {
    for date in [
        "Date: yesterday",
        "Date: Mon, 31 Feb 2024 10:00:00 +0000",
        "Date: Mon, 2 Dec 2024 25:61:00 +0000",
        "Date:",
    ] {
        let m = parsed(&mail(&["From: a@example.com", date], "x"))?;
        assert_eq!(m.date, None, "{date}");
    }
    let m = parsed(&mail(
        &[
            "From: a@example.com",
            "Date: Sun, 1 Dec 2024 20:00:00 -0500",
        ],
        "x",
    ))?;
    assert_eq!(
        m.date.map(|d| d.to_string()).as_deref(),
        Some("2024-12-02T01:00:00Z")
    );
    Ok(())
}

#[test]
fn empty_and_oversized_messages_are_refused_first() {
    assert_eq!(parse(b""), Err(Unreadable::Empty));
    assert_eq!(parse(b" \r\n\t\r\n "), Err(Unreadable::Empty));
    // A 20 MB attachment: refused by size before any parsing.
    let mut raw = mail(
        &[
            "From: a@example.com",
            "Content-Type: multipart/mixed; boundary=b",
        ],
        "--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n",
    );
    let line = b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n";
    while raw.len() < 20 * 1024 * 1024 {
        raw.extend_from_slice(line);
    }
    raw.extend_from_slice(b"--b--\r\n");
    assert_eq!(
        parse(&raw),
        Err(Unreadable::TooLarge {
            bytes: raw.len(),
            limit: MAX_MESSAGE_BYTES
        })
    );
    let just_over = vec![b'a'; MAX_MESSAGE_BYTES + 1];
    assert!(matches!(
        parse(&just_over),
        Err(Unreadable::TooLarge { .. })
    ));
}

#[test]
fn what_is_not_mail_is_refused() {
    let garbage: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for raw in [
        &garbage[..],
        b"\x00\x01\x02\x03: binary",
        b"hello, this is just text without any header\r\n",
        b"\r\n\r\nbody only, no header",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"<html><body>hi</body></html>",
        b": no name\r\n\r\nbody",
    ] {
        assert_eq!(
            parse(raw),
            Err(Unreadable::NotMail),
            "{:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn a_message_without_a_sender_is_refused() -> Result<()> {
    for from in [
        None,
        Some("From: undisclosed-recipients:;"),
        Some("From: not an address"),
        Some("From: <>"),
        Some("From: @example.com"),
        Some("From: \"Name only\""),
    ] {
        let mut headers = vec!["To: sd@example.co.id", "Subject: x"];
        headers.extend(from);
        assert_eq!(
            parse(&mail(&headers, "x")),
            Err(Unreadable::NoSender),
            "{from:?}"
        );
    }
    // Reply-To, else Sender, stands in for a missing From.
    let m = parsed(&mail(
        &[
            "Sender: list@example.com",
            "Reply-To: Siti <siti@example.com>",
        ],
        "x",
    ))?;
    assert_eq!(m.from.map(|a| a.email).as_deref(), Some("siti@example.com"));
    assert_eq!(
        m.reply_to.map(|a| a.email).as_deref(),
        Some("siti@example.com")
    );
    let m = parsed(&mail(&["Sender: List@Example.com"], "x"))?;
    assert_eq!(m.from.map(|a| a.email).as_deref(), Some("list@example.com"));
    Ok(())
}

#[test]
fn broken_headers_do_not_stop_the_message() -> Result<()> {
    let raw = mail(
        &[
            "From: a@example.com",
            "This line has no colon at all",
            "Subject: still read",
            ": empty name",
            "X-Very-Long-Header-Name-That-Goes-On-And-On-And-On-Beyond-Any-Limit: v",
            "To:",
            "Cc: ,,,",
            "Message-ID: no-brackets@example.com",
        ],
        "body",
    );
    let m = parsed(&raw)?;
    assert_eq!(m.from.map(|a| a.email).as_deref(), Some("a@example.com"));
    assert_eq!(m.subject, "still read");
    assert!(m.to.is_empty() && m.cc.is_empty());
    assert_eq!(m.message_id.as_deref(), Some("no-brackets@example.com"));
    assert_eq!(m.text, "body");

    // Leading blank lines and an mbox separator are tolerated; LF-only line ends too.
    let raw = b"\r\n\nFrom budi@example.co.id Mon Dec  2 09:15:00 2024\nFrom: budi@example.co.id\nSubject: lf\n\nline one\nline two\n";
    let m = parsed(raw)?;
    assert_eq!(m.subject, "lf");
    assert_eq!(m.text, "line one\nline two");
    // A header block with no body at all.
    let m = parsed(b"From: a@example.com\r\nSubject: no body")?;
    assert_eq!(m.subject, "no body");
    assert_eq!(m.text, "");
    Ok(())
}

#[test]
fn wrong_and_unknown_charsets_fall_back_to_lossy_text() -> Result<()> {
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "text/plain; charset=x-unknown",
            b"plain ascii \xff\xfe bytes",
            "plain ascii",
        ),
        (
            "text/plain; charset=utf-8",
            b"caf\xe9 latin-1 in utf-8",
            "caf\u{fffd} latin-1",
        ),
        (
            "text/plain; charset=windows-1252",
            b"caf\xe9 \x93quoted\x94",
            "café “quoted”",
        ),
        ("text/plain; charset=iso-8859-1", b"Gr\xfc\xdfe", "Grüße"),
        (
            "text/plain; charset=shift_jis",
            b"\x83e\x83X\x83g",
            "テスト",
        ),
        (
            "text/plain; charset=\"\"",
            b"empty charset",
            "empty charset",
        ),
        (
            "text/plain; charset=utf-7",
            b"Hi Mom -+Jjo--!",
            "Hi Mom -☺-!",
        ),
        (
            "text/plain; charset=\x01\x02",
            b"control charset",
            "control charset",
        ),
    ];
    for (ct, body, want) in cases {
        let mut raw = mail(&["From: a@example.com", &format!("Content-Type: {ct}")], "");
        raw.extend_from_slice(body);
        let m = parsed(&raw)?;
        assert!(m.text.contains(want), "{ct}: {:?}", m.text);
    }
    Ok(())
}

#[test]
fn broken_transfer_encodings_still_give_text() -> Result<()> {
    let m = parsed(&mail(
        &["From: a@example.com", "Content-Transfer-Encoding: base64"],
        "SGVsbG8g!!!garbage***d29ybGQ=\n====\n%%%%",
    ))?;
    assert!(
        !m.text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    );
    let m = parsed(&mail(
        &[
            "From: a@example.com",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
        ],
        "caf=C3=A9 =ZZ broken =\nsoft break =3",
    ))?;
    assert!(m.text.starts_with("café"), "{:?}", m.text);
    let m = parsed(&mail(
        &[
            "From: a@example.com",
            "Content-Transfer-Encoding: x-uuencode-ish",
        ],
        "as is",
    ))?;
    assert_eq!(m.text, "as is");
    Ok(())
}

#[test]
fn multipart_alternative_gives_the_plain_text() -> Result<()> {
    let raw = mail(
        &[
            "From: a@example.com",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"alt\"",
        ],
        "--alt\nContent-Type: text/plain; charset=utf-8\n\nPlain version.\n--alt\nContent-Type: text/html; charset=utf-8\n\n<p>HTML <b>version</b>.</p>\n--alt--\n",
    );
    let m = parsed(&raw)?;
    assert_eq!(m.text, "Plain version.");
    assert!(!m.html_only);
    assert!(m.attachments.is_empty(), "{:?}", names(&m));
    Ok(())
}

#[test]
fn html_only_mail_is_made_text_and_its_original_kept() -> Result<()> {
    let html = "<html><head><style>p{color:red}</style><script>steal()</script></head>\
                <body><p>Halo,</p><p>Printer <b>macet</b>.<br>Lantai&nbsp;3</p>\
                <script type=\"text/javascript\">document.write('x')</script>\
                <a href=\"https://kb.example.co.id/42\">KB 42</a></body></html>";
    let raw = mail(
        &[
            "From: a@example.com",
            "Content-Type: text/html; charset=utf-8",
        ],
        html,
    );
    let m = parsed(&raw)?;
    assert!(m.html_only);
    assert_eq!(
        m.text,
        "Halo,\n\nPrinter macet.\nLantai 3\n\nKB 42 (https://kb.example.co.id/42)"
    );
    assert!(!m.text.contains("steal") && !m.text.contains("document.write"));
    let original = attachment(&m, "original.html")?;
    assert_eq!(original.content_type, "text/html");
    assert_eq!(original.bytes, html.as_bytes());

    // An alternative with HTML only, and an empty plain part next to HTML.
    let raw = mail(
        &[
            "From: a@example.com",
            "Content-Type: multipart/alternative; boundary=a",
        ],
        "--a\nContent-Type: text/plain\n\n  \n--a\nContent-Type: text/html\n\n<div>Only here</div>\n--a--\n",
    );
    let m = parsed(&raw)?;
    assert!(m.html_only);
    assert_eq!(m.text, "Only here");
    assert_eq!(names(&m), ["original.html"]);
    Ok(())
}

#[test]
fn html_quotes_are_cut_like_plain_quotes() -> Result<()> {
    let html = "<div>Sudah normal, terima kasih.</div><br><div class=\"gmail_quote\">\
                <div>Pada Sen, 2 Des 2024 pukul 09.15 Sigap &lt;sd@example.co.id&gt; menulis:</div>\
                <blockquote><p>Halo Budi,</p><p>Tiket sudah diperbarui.</p></blockquote></div>";
    let m = parsed(&mail(
        &[
            "From: a@example.com",
            "Content-Type: text/html; charset=utf-8",
        ],
        html,
    ))?;
    assert_eq!(reply_text(&m.text), "Sudah normal, terima kasih.");
    Ok(())
}

#[test]
fn attachments_keep_safe_names_and_types() -> Result<()> {
    let long = format!("{}.pdf", "x".repeat(500));
    let body = format!(
        "--m\nContent-Type: text/plain\n\nSee attached.\n\
         --m\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n\
         --m\nContent-Type: text/plain\nContent-Disposition: attachment; filename*=utf-8''evil%00na%0Ame%0D.txt\n\nfile text\n\
         --m\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"C:\\\\Windows\\\\cmd.exe\"\n\nMZ\n\
         --m\nContent-Type: application/pdf; name=\"{long}\"\nContent-Disposition: attachment\n\n%PDF\n\
         --m\nContent-Type: application/pdf\nContent-Disposition: attachment\n\n%PDF\n\
         --m\nContent-Type: image/png\nContent-Disposition: attachment; filename=\"invoice\u{202e}gnp.exe\"\n\nPNG\n\
         --m\nContent-Type: application/x-thing\nContent-Disposition: attachment; filename=\"...\"\n\nthing\n\
         --m\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"CON.txt\"\n\ncon\n\
         --m\nContent-Type: image/jpeg\nContent-ID: <logo@x>\nContent-Disposition: inline\n\nJPEG\n\
         --m--\n"
    );
    let raw = mail(
        &[
            "From: a@example.com",
            "Content-Type: multipart/mixed; boundary=m",
        ],
        &body,
    );
    let m = parsed(&raw)?;
    assert_eq!(m.text, "See attached.");
    let got = names(&m);
    assert_eq!(got.len(), 9, "{got:?}");
    assert_eq!(attachment(&m, "passwd")?.bytes, b"%PDF-1.4\n");
    assert_eq!(attachment(&m, "passwd")?.content_type, "application/pdf");
    assert_eq!(attachment(&m, "evilna me.txt")?.bytes, b"file text");
    assert_eq!(attachment(&m, "cmd.exe")?.bytes, b"MZ");
    assert_eq!(attachment(&m, "invoicegnp.exe")?.content_type, "image/png");
    assert!(attachment(&m, "_CON.txt").is_ok());
    let long_name = got
        .iter()
        .find(|n| n.starts_with("xxx"))
        .context("long name")?;
    assert_eq!(long_name.chars().count(), 200);
    assert!(long_name.ends_with(".pdf"));
    assert!(attachment(&m, "attachment-5.pdf").is_ok(), "{got:?}");
    assert!(attachment(&m, "attachment-7.bin").is_ok(), "{got:?}");
    assert!(attachment(&m, "attachment-9.jpg").is_ok(), "{got:?}");
    for name in &got {
        assert!(
            !name.contains(['/', '\\', '\0', '\n', '\r', ':']),
            "{name:?}"
        );
        assert!(!name.is_empty() && name.chars().count() <= 200);
    }
    Ok(())
}

#[test]
fn attached_messages_are_kept_raw() -> Result<()> {
    let inner = "From: vendor@example.com\r\nSubject: Quote\r\nMessage-ID: <q1@example.com>\r\n\r\nThe quote.";
    let body = format!(
        "--m\nContent-Type: text/plain\n\nForwarding.\n--m\nContent-Type: message/rfc822\n\n{inner}\n--m--\n"
    );
    let raw = mail(
        &[
            "From: a@example.com",
            "Content-Type: multipart/mixed; boundary=m",
        ],
        &body,
    );
    let m = parsed(&raw)?;
    assert_eq!(m.text, "Forwarding.");
    let eml = attachment(&m, "message-1.eml")?;
    assert_eq!(eml.content_type, "message/rfc822");
    assert_eq!(String::from_utf8_lossy(&eml.bytes), inner);
    // Base64-encoded, with a name.
    let encoded = "RnJvbTogdkBleGFtcGxlLmNvbQ0KU3ViamVjdDogUQ0KDQpCb2R5Lg==";
    let body = format!(
        "--m\nContent-Type: text/plain\n\nFwd.\n--m\nContent-Type: message/rfc822; name=\"Quote.eml\"\nContent-Transfer-Encoding: base64\n\n{encoded}\n--m--\n"
    );
    let raw = mail(
        &[
            "From: a@example.com",
            "Content-Type: multipart/mixed; boundary=m",
        ],
        &body,
    );
    let m = parsed(&raw)?;
    let eml = attachment(&m, "Quote.eml")?;
    assert_eq!(eml.bytes, b"From: v@example.com\r\nSubject: Q\r\n\r\nBody.");
    Ok(())
}

#[test]
fn missing_and_unclosed_boundaries_are_survived() -> Result<()> {
    // No boundary parameter: the body is read as text.
    let m = parsed(&mail(
        &["From: a@example.com", "Content-Type: multipart/mixed"],
        "--x\nContent-Type: text/plain\n\nInside\n--x--\n",
    ))?;
    assert!(m.text.contains("Inside"), "{:?}", m.text);
    // A boundary that never comes.
    let m = parsed(&mail(
        &[
            "From: a@example.com",
            "Content-Type: multipart/mixed; boundary=never",
        ],
        "Preamble only, no parts.\n",
    ))?;
    assert!(m.text.contains("Preamble only"), "{:?}", m.text);
    // Parts opened and never closed.
    let m = parsed(&mail(
        &[
            "From: a@example.com",
            "Content-Type: multipart/mixed; boundary=b",
        ],
        "--b\nContent-Type: text/plain\n\nFirst part\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=a.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0x",
    ))?;
    assert_eq!(m.text, "First part");
    assert_eq!(attachment(&m, "a.pdf")?.bytes, b"%PDF-1");
    // A multipart without any part, and an empty boundary.
    for ct in [
        "Content-Type: multipart/mixed; boundary=e",
        "Content-Type: multipart/mixed; boundary=\"\"",
        "Content-Type: multipart/; boundary=b",
        "Content-Type: /",
        "Content-Type: ;;;===",
    ] {
        parsed(&mail(&["From: a@example.com", ct], "--e--\n"))?;
    }
    Ok(())
}

/// Multiparts nested `depth` deep, each closed when `closed`, with text at the bottom.
fn nested_multiparts(depth: usize, closed: bool) -> Vec<u8> {
    let mut body = String::new();
    for level in 1..depth {
        body.push_str(&format!(
            "--b{level}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n",
            level + 1
        ));
    }
    body.push_str(&format!(
        "--b{depth}\r\nContent-Type: text/plain\r\n\r\nbottom\r\n"
    ));
    if closed {
        for level in (1..=depth).rev() {
            body.push_str(&format!("--b{level}--\r\n"));
        }
    }
    mail(
        &[
            "From: a@example.com",
            "Content-Type: multipart/mixed; boundary=b1",
        ],
        &body,
    )
}

/// Messages attached inside messages, `depth` deep.
fn nested_messages(depth: usize) -> Vec<u8> {
    let mut raw = b"From: a@example.com\r\n".to_vec();
    for _ in 0..depth {
        raw.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\nFrom: b@example.com\r\n");
    }
    raw.extend_from_slice(b"\r\nbottom\r\n");
    raw
}

/// Runs `f` on a thread with the default 2 MiB stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)?;
    match handle.join() {
        Ok(value) => Ok(value),
        Err(_) => bail!("the parsing thread panicked"),
    }
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() -> Result<()> {
    let ok = parsed(&nested_multiparts(MAX_DEPTH, true))?;
    assert_eq!(ok.text, "bottom");
    assert_eq!(
        parse(&nested_multiparts(MAX_DEPTH + 1, true)),
        Err(Unreadable::TooDeep)
    );
    let results = on_small_stack(|| {
        [
            parse(&nested_multiparts(100, true)),
            parse(&nested_multiparts(100, false)),
            parse(&nested_multiparts(5_000, false)),
            parse(&nested_messages(100)),
        ]
    })?;
    for result in results {
        assert_eq!(result, Err(Unreadable::TooDeep));
    }
    Ok(())
}

#[test]
fn a_message_filled_with_nesting_is_refused_quickly() -> Result<()> {
    let raw = nested_messages((MAX_MESSAGE_BYTES - 100) / 60);
    assert!(raw.len() <= MAX_MESSAGE_BYTES);
    let started = std::time::Instant::now();
    let result = on_small_stack(move || parse(&raw))?;
    assert_eq!(result, Err(Unreadable::TooDeep));

    let mut body = String::new();
    let mut level = 0;
    while body.len() < MAX_MESSAGE_BYTES - 1_000 {
        level += 1;
        body.push_str(&format!(
            "--{level}\r\nContent-Type: multipart/mixed; boundary={}\r\n\r\n",
            level + 1
        ));
    }
    let raw = mail(
        &[
            "From: a@example.com",
            "Content-Type: multipart/mixed; boundary=1",
        ],
        &body,
    );
    let result = on_small_stack(move || parse(&raw))?;
    assert_eq!(result, Err(Unreadable::TooDeep));
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
    Ok(())
}

const POSTFIX_DSN: &str = "Return-Path: <>\r\n\
Received: by mx.example.co.id (Postfix)\r\n\tid 4F1C2A; Mon,  2 Dec 2024 09:15:02 +0700 (WIB)\r\n\
Date: Mon,  2 Dec 2024 09:15:02 +0700 (WIB)\r\n\
From: MAILER-DAEMON@mx.example.co.id (Mail Delivery System)\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
To: servicedesk@example.co.id\r\n\
Auto-Submitted: auto-replied\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"4F1C2A.1733105702/mx.example.co.id\"\r\n\
Content-Transfer-Encoding: 8bit\r\n\
Message-Id: <20241202021502.4F1C2A@mx.example.co.id>\r\n\
\r\n\
This is a MIME-encapsulated message.\r\n\
\r\n\
--4F1C2A.1733105702/mx.example.co.id\r\n\
Content-Description: Notification\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
This is the mail system at host mx.example.co.id.\r\n\
\r\n\
I'm sorry to have to inform you that your message could not\r\n\
be delivered to one or more recipients.\r\n\
\r\n\
<nobody@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1\r\n\
\x20   <nobody@example.com>: Recipient address rejected: User unknown\r\n\
\r\n\
--4F1C2A.1733105702/mx.example.co.id\r\n\
Content-Description: Delivery report\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; mx.example.co.id\r\n\
X-Postfix-Queue-ID: 4F1C2A\r\n\
X-Postfix-Sender: rfc822; servicedesk@example.co.id\r\n\
Arrival-Date: Mon,  2 Dec 2024 09:15:01 +0700 (WIB)\r\n\
\r\n\
Final-Recipient: rfc822; Nobody@Example.com\r\n\
Original-Recipient: rfc822;nobody@example.com\r\n\
Action: failed\r\n\
Status: 5.1.1\r\n\
Remote-MTA: dns; mx.example.com\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.com>: Recipient address\r\n\
\x20   rejected: User unknown\r\n\
\r\n\
--4F1C2A.1733105702/mx.example.co.id\r\n\
Content-Description: Undelivered Message Headers\r\n\
Content-Type: text/rfc822-headers\r\n\
\r\n\
Return-Path: <servicedesk@example.co.id>\r\n\
From: Sigap <servicedesk@example.co.id>\r\n\
To: nobody@example.com\r\n\
Subject: [INC0000123] Printer macet\r\n\
Message-ID: <sigap.INC0000123.7@sigap.example.co.id>\r\n\
X-Sigap-Loop: sigap.example.co.id\r\n\
\r\n\
--4F1C2A.1733105702/mx.example.co.id--\r\n";

#[test]
fn a_postfix_bounce_is_read() -> Result<()> {
    let m = parsed(POSTFIX_DSN.as_bytes())?;
    let report = m.report.clone().context("report")?;
    assert_eq!(
        report.original_message_id.as_deref(),
        Some("sigap.INC0000123.7@sigap.example.co.id")
    );
    assert_eq!(report.recipients.len(), 1);
    let r = report.recipients.first().context("recipient")?;
    assert_eq!(r.address, "nobody@example.com");
    assert_eq!(r.action, DeliveryAction::Failed);
    assert_eq!(r.status, "5.1.1");
    assert_eq!(
        r.diagnostic.as_deref(),
        Some("550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown")
    );
    assert!(r.permanent_failure());
    assert_eq!(m.return_path.as_deref(), Some(""));
    assert_eq!(m.auto_reason(), Some(AutoReason::DeliveryReport));
    // The loop header of the returned headers is not the bounce's own.
    assert_eq!(m.sigap_loop, None);
    assert!(m.text.starts_with("This is the mail system"));
    Ok(())
}

const EXCHANGE_DSN: &str = "From: Microsoft Outlook <postmaster@contoso.onmicrosoft.com>\r\n\
To: <servicedesk@example.co.id>\r\n\
Date: Mon, 2 Dec 2024 02:20:11 +0000\r\n\
Content-Type: multipart/report; report-type=\"delivery-status\";\r\n\tboundary=\"b2_3f6d0c1e-5a4e-4b7a-9d9e-1c2b3a4d5e6f\"\r\n\
X-MS-Exchange-Message-Is-Ndr:\r\n\
Content-Language: en-US\r\n\
Message-ID: <6a1b2c3d-0000-4000-8000-abcdefabcdef@SG2PR01MB1234.apcprd01.prod.exchangelabs.com>\r\n\
In-Reply-To: <sigap.INC0000124.2@sigap.example.co.id>\r\n\
References: <sigap.INC0000124.2@sigap.example.co.id>\r\n\
Subject: Undeliverable: [INC0000124] VPN tidak bisa\r\n\
Auto-Submitted: auto-replied\r\n\
MIME-Version: 1.0\r\n\
\r\n\
--b2_3f6d0c1e-5a4e-4b7a-9d9e-1c2b3a4d5e6f\r\n\
Content-Type: multipart/alternative; differences=Content-Type;\r\n\tboundary=\"b1_3f6d0c1e\"\r\n\
\r\n\
--b1_3f6d0c1e\r\n\
Content-Type: text/plain; charset=\"us-ascii\"\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Your message to andi@contoso.com couldn't be delivered.=0D=0A\r\n\
andi wasn't found at contoso.com.\r\n\
--b1_3f6d0c1e\r\n\
Content-Type: text/html; charset=\"us-ascii\"\r\n\
\r\n\
<html><body><p>Your message to andi@contoso.com couldn't be delivered.</p></body></html>\r\n\
--b1_3f6d0c1e--\r\n\
\r\n\
--b2_3f6d0c1e-5a4e-4b7a-9d9e-1c2b3a4d5e6f\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns;SG2PR01MB1234.apcprd01.prod.exchangelabs.com\r\n\
Received-From-MTA: dns;mail.example.co.id\r\n\
Arrival-Date: Mon, 2 Dec 2024 02:20:09 +0000\r\n\
\r\n\
Final-Recipient: rfc822;andi@contoso.com\r\n\
Action: failed\r\n\
Status: 5.1.10\r\n\
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\r\n\
\r\n\
Final-Recipient: rfc822;rina@contoso.com\r\n\
Action: delayed\r\n\
Status: 4.4.7\r\n\
Will-Retry-Until: Tue, 3 Dec 2024 02:20:09 +0000\r\n\
X-Display-Name: Rina\r\n\
\r\n\
--b2_3f6d0c1e-5a4e-4b7a-9d9e-1c2b3a4d5e6f\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: Sigap <servicedesk@example.co.id>\r\n\
To: andi@contoso.com, rina@contoso.com\r\n\
Subject: [INC0000124] VPN tidak bisa\r\n\
Message-ID: <sigap.INC0000124.2@sigap.example.co.id>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Halo Andi, tiket Anda sudah kami terima.\r\n\
\r\n\
--b2_3f6d0c1e-5a4e-4b7a-9d9e-1c2b3a4d5e6f--\r\n";

#[test]
fn an_exchange_bounce_is_read() -> Result<()> {
    let m = parsed(EXCHANGE_DSN.as_bytes())?;
    let report = m.report.clone().context("report")?;
    assert_eq!(
        report.original_message_id.as_deref(),
        Some("sigap.INC0000124.2@sigap.example.co.id")
    );
    let got: Vec<(&str, DeliveryAction, &str)> = report
        .recipients
        .iter()
        .map(|r| (r.address.as_str(), r.action, r.status.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("andi@contoso.com", DeliveryAction::Failed, "5.1.10"),
            ("rina@contoso.com", DeliveryAction::Delayed, "4.4.7"),
        ]
    );
    assert!(
        report
            .recipients
            .first()
            .is_some_and(|r| r.permanent_failure())
    );
    assert!(
        report
            .recipients
            .get(1)
            .is_some_and(|r| !r.permanent_failure())
    );
    assert!(m.text.starts_with("Your message to andi@contoso.com"));
    assert!(!m.html_only);
    assert!(attachment(&m, "message-2.eml").is_ok(), "{:?}", names(&m));
    assert_eq!(m.auto_reason(), Some(AutoReason::DeliveryReport));
    Ok(())
}

#[test]
fn a_report_that_is_not_about_delivery_is_no_bounce() -> Result<()> {
    let raw = mail(
        &[
            "From: dmarc@example.com",
            "Content-Type: multipart/report; report-type=disposition-notification; boundary=r",
        ],
        "--r\nContent-Type: text/plain\n\nRead receipt\n--r--\n",
    );
    let m = parsed(&raw)?;
    assert_eq!(m.report, None);
    Ok(())
}

#[test]
fn auto_replies_are_recognised() -> Result<()> {
    let vacation = mail(
        &[
            "From: Siti <siti@example.co.id>",
            "Subject: Auto: Printer macet",
            "Auto-Submitted: auto-replied (vacation)",
        ],
        "Saya sedang cuti.",
    );
    let m = parsed(&vacation)?;
    assert_eq!(
        m.auto_reason(),
        Some(AutoReason::AutoSubmitted("auto-replied (vacation)".into()))
    );
    let bulk = mail(
        &["From: news@example.com", "Precedence: bulk"],
        "Newsletter",
    );
    assert_eq!(
        parsed(&bulk)?.auto_reason(),
        Some(AutoReason::Precedence("bulk".into()))
    );
    let list = mail(
        &[
            "From: someone@example.com",
            "List-Id: IT Announcements <it-announce.example.co.id>",
        ],
        "x",
    );
    let m = parsed(&list)?;
    assert_eq!(
        m.list_id.as_deref(),
        Some("IT Announcements <it-announce.example.co.id>")
    );
    assert_eq!(m.auto_reason(), Some(AutoReason::List));
    let bounce = mail(&["Return-Path: <>", "From: someone@example.com"], "x");
    assert_eq!(
        parsed(&bounce)?.auto_reason(),
        Some(AutoReason::EmptyReturnPath)
    );
    let daemon = mail(
        &["From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>"],
        "x",
    );
    assert_eq!(
        parsed(&daemon)?.auto_reason(),
        Some(AutoReason::Daemon("mailer-daemon@googlemail.com".into()))
    );
    let looped = mail(
        &[
            "From: servicedesk@example.co.id",
            "X-Sigap-Loop: sigap.example.co.id",
        ],
        "x",
    );
    assert_eq!(
        parsed(&looped)?.auto_reason(),
        Some(AutoReason::Loop("sigap.example.co.id".into()))
    );
    let human = mail(&["From: siti@example.co.id", "Auto-Submitted: no"], "x");
    assert_eq!(parsed(&human)?.auto_reason(), None);
    Ok(())
}

#[test]
fn an_outlook_out_of_office_is_recognised() -> Result<()> {
    let raw = mail(
        &[
            "From: Budi Santoso <budi@example.co.id>",
            "To: Sigap Service Desk <servicedesk@example.co.id>",
            "Subject: Automatic reply: [INC0000123] Printer macet",
            "Thread-Topic: [INC0000123] Printer macet",
            "Thread-Index: AQHbRDo3w5Yq0l1XkUe0mS3r8Yx3Fg==",
            "Date: Mon, 2 Dec 2024 02:16:00 +0000",
            "Message-ID: <SG2PR01MB5678ABCD@SG2PR01MB5678.apcprd01.prod.outlook.com>",
            "In-Reply-To: <sigap.INC0000123.7@sigap.example.co.id>",
            "Auto-Submitted: auto-generated",
            "X-Auto-Response-Suppress: All",
            "X-MS-Exchange-Inbox-Rules-Loop: budi@example.co.id",
            "Content-Type: text/plain; charset=\"iso-8859-1\"",
            "Content-Transfer-Encoding: quoted-printable",
        ],
        "Saya sedang di luar kantor sampai 9 Desember.=0D=0ATerima kasih.",
    );
    let m = parsed(&raw)?;
    assert_eq!(m.auto_response_suppress.as_deref(), Some("All"));
    assert_eq!(m.auto_submitted.as_deref(), Some("auto-generated"));
    assert_eq!(
        m.auto_reason(),
        Some(AutoReason::AutoSubmitted("auto-generated".into()))
    );
    assert_eq!(m.in_reply_to, ["sigap.INC0000123.7@sigap.example.co.id"]);
    assert_eq!(
        m.text,
        "Saya sedang di luar kantor sampai 9 Desember.\nTerima kasih."
    );
    Ok(())
}

/// A valid multipart message with most kinds of part, as the seed for mutations.
fn seed() -> Vec<u8> {
    let mut raw = POSTFIX_DSN.as_bytes().to_vec();
    raw.extend_from_slice(&mail(
        &[
            "From: =?utf-8?Q?Budi_=F0=9F=98=80?= <budi@example.co.id>",
            "Subject: =?iso-8859-1?B?Q2Fm6Q==?=",
            "Content-Type: multipart/mixed; boundary=m",
        ],
        "--m\nContent-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain\n\ntext\n--a\nContent-Type: text/html\n\n<p>x<a href='u'>y</a></p>\n--a--\n--m\nContent-Type: message/rfc822\n\nFrom: x@y\n\ninner\n--m\nContent-Type: image/png; name=a.png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--m--\n",
    ));
    raw
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop_oneof![
        Just(b"\r\n".to_vec()),
        Just(b"\r\n\r\n".to_vec()),
        Just(b"--m\r\n".to_vec()),
        Just(b"--a--".to_vec()),
        Just(b"Content-Type: multipart/mixed; boundary=m\r\n".to_vec()),
        Just(b"Content-Type: message/rfc822\r\n\r\n".to_vec()),
        Just(b"Content-Transfer-Encoding: base64\r\n".to_vec()),
        Just(b"=?utf-8?B?".to_vec()),
        Just(b"=\r\n".to_vec()),
        Just(b"<".to_vec()),
        Just(b"&#x".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        (any::<usize>(), tokens).prop_map(|(at, t)| Mutation::Insert(at, t)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(raw: &mut Vec<u8>, m: &Mutation) {
    let len = raw.len().max(1);
    match m {
        Mutation::Flip(at, b) => {
            if let Some(byte) = raw.get_mut(at % len) {
                *byte = *b;
            }
        }
        Mutation::Insert(at, bytes) => {
            let at = at % (raw.len() + 1);
            raw.splice(at..at, bytes.iter().copied());
        }
        Mutation::Delete(at, n) => {
            let at = at % len;
            let end = (at + n).min(raw.len());
            if at < end {
                raw.drain(at..end);
            }
        }
        Mutation::Truncate(at) => raw.truncate(at % len),
    }
}

/// What every accepted message must satisfy, however broken its input.
fn check_invariants(m: &Inbound) -> Result<(), TestCaseError> {
    prop_assert!(m.subject.chars().count() <= 1_000);
    prop_assert!(!m.subject.chars().any(char::is_control));
    prop_assert!(m.from.is_some());
    for a in m.from.iter().chain(&m.to).chain(&m.cc) {
        prop_assert_eq!(a.email.to_lowercase(), a.email.clone());
        prop_assert!(a.email.contains('@'));
    }
    for id in m
        .message_id
        .iter()
        .chain(&m.references)
        .chain(&m.in_reply_to)
    {
        prop_assert!(!id.contains(['<', '>', ' ']));
    }
    for p in &m.attachments {
        prop_assert!(!p.filename.is_empty() && p.filename.chars().count() <= 200);
        prop_assert!(!p.filename.contains(['/', '\\']));
        prop_assert!(!p.filename.chars().any(char::is_control));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parsing_never_panics_on_arbitrary_bytes(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
        if let Ok(m) = parse(&raw) {
            check_invariants(&m)?;
        }
    }

    #[test]
    fn parsing_never_panics_on_header_like_text(
        raw in "([A-Za-z-]{1,12}:[ -~\t]{0,40}\r?\n[ \t]?){0,12}(\r?\n[ -~\r\n]{0,200})?"
    ) {
        if let Ok(m) = parse(raw.as_bytes()) {
            check_invariants(&m)?;
        }
    }

    #[test]
    fn parsing_never_panics_on_mutated_mail(mutations in proptest::collection::vec(mutation(), 1..12)) {
        let mut raw = seed();
        for m in &mutations {
            apply(&mut raw, m);
        }
        if let Ok(m) = parse(&raw) {
            check_invariants(&m)?;
        }
    }
}
