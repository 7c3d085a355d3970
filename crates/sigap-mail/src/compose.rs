//! Writing a message: the headers Sigap sends (its Message-ID, the thread, the marks that
//! keep auto-responders quiet, its loop header) and a text and an HTML part, as the exact
//! bytes that are sent and kept.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use std::fmt::Write as _;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub from_address: String,
    pub from_name: String,
    pub to_address: String,
    pub to_name: Option<String>,
    pub subject: String,
    /// Without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Oldest first, without angle brackets.
    pub references: Vec<String>,
    pub date: Timestamp,
    /// The value of Sigap's loop header (its host).
    pub loop_value: String,
    pub text: String,
    pub html: String,
    /// Files sent with the message (a scheduled report's).
    pub attachments: Vec<Attachment>,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A file name as a MIME parameter: plain ASCII quoted, anything else in RFC 2231's
/// `filename*=UTF-8''…` form.
fn filename_param(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !c.is_control()).collect();
    if clean
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._ ".contains(&b))
    {
        format!("filename=\"{clean}\"")
    } else {
        let encoded: String = clean
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!("filename*=UTF-8''{encoded}")
    }
}

/// A new Message-ID on `host`.
pub fn message_id(host: &str) -> String {
    format!("sigap.{}@{host}", uuid::Uuid::now_v7().simple())
}

/// Whether text can go into a header as it is: printable ASCII.
fn plain(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Text without line breaks or other control characters (they would end a header).
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A header value as RFC 2047 encoded words (UTF-8, base64), each short enough for a line;
/// plain ASCII stays as it is.
pub fn encode_words(text: &str) -> String {
    let text = one_line(text);
    if plain(&text) {
        return text;
    }
    encoded(&text)
}

/// Text as RFC 2047 encoded words, always.
fn encoded(text: &str) -> String {
    // 45 bytes of UTF-8 make 60 characters of base64: with "=?UTF-8?B?" and "?=" a word
    // stays under the 75 characters RFC 2047 allows.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

/// An address with its display name: `Name <addr>`, the name quoted or encoded.
fn mailbox(name: Option<&str>, address: &str) -> String {
    let address = one_line(address);
    match name.map(one_line).filter(|n| !n.trim().is_empty()) {
        None => format!("<{address}>"),
        // Quoting would do for `"` and `\`, but readers unquote them differently.
        Some(n) if plain(&n) && !n.contains(['"', '\\']) => format!("\"{n}\" <{address}>"),
        Some(n) => format!("{} <{address}>", encoded(&n)),
    }
}

/// Base64 in lines of 76 characters.
fn base64_lines(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for (i, c) in encoded.chars().enumerate() {
        if i > 0 && i % 76 == 0 {
            out.push_str("\r\n");
        }
        out.push(c);
    }
    out
}

/// The message's bytes.
pub fn compose(m: &Outgoing) -> Vec<u8> {
    let boundary = format!("=_sigap_{}", uuid::Uuid::now_v7().simple());
    let mut h = String::with_capacity(1024 + m.text.len() * 3);
    let date = jiff::tz::TimeZone::UTC
        .to_datetime(m.date)
        .strftime("%a, %d %b %Y %H:%M:%S +0000")
        .to_string();
    let _ = write!(h, "Date: {date}\r\n");
    let _ = write!(
        h,
        "From: {}\r\n",
        mailbox(Some(&m.from_name), &m.from_address)
    );
    let _ = write!(
        h,
        "To: {}\r\n",
        mailbox(m.to_name.as_deref(), &m.to_address)
    );
    let _ = write!(h, "Subject: {}\r\n", encode_words(&m.subject));
    let _ = write!(h, "Message-ID: <{}>\r\n", one_line(&m.message_id));
    if let Some(r) = &m.in_reply_to {
        let _ = write!(h, "In-Reply-To: <{}>\r\n", one_line(r));
    }
    if !m.references.is_empty() {
        let refs: Vec<String> = m
            .references
            .iter()
            .map(|r| format!("<{}>", one_line(r)))
            .collect();
        let _ = write!(h, "References: {}\r\n", refs.join("\r\n "));
    }
    // Automatic mail (RFC 3834): no auto-reply, no out-of-office, no loop.
    h.push_str("Auto-Submitted: auto-generated\r\n");
    h.push_str("X-Auto-Response-Suppress: All\r\n");
    let _ = write!(h, "{}: {}\r\n", crate::LOOP_HEADER, one_line(&m.loop_value));
    h.push_str("MIME-Version: 1.0\r\n");
    // With files: a multipart/mixed around the text and HTML, then each file.
    let mixed = format!("=_sigap_mixed_{}", uuid::Uuid::now_v7().simple());
    if !m.attachments.is_empty() {
        let _ = write!(
            h,
            "Content-Type: multipart/mixed; boundary=\"{mixed}\"\r\n\r\n--{mixed}\r\n"
        );
    }
    let _ = write!(
        h,
        "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n"
    );
    let _ = write!(h, "--{boundary}\r\n");
    h.push_str(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    h.push_str(&base64_lines(m.text.replace('\n', "\r\n").as_bytes()));
    let _ = write!(h, "\r\n--{boundary}\r\n");
    h.push_str(
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    h.push_str(&base64_lines(m.html.as_bytes()));
    let _ = write!(h, "\r\n--{boundary}--\r\n");
    if !m.attachments.is_empty() {
        for a in &m.attachments {
            let _ = write!(
                h,
                "\r\n--{mixed}\r\nContent-Type: {}\r\nContent-Transfer-Encoding: base64\r\n\
                 Content-Disposition: attachment; {}\r\n\r\n",
                one_line(&a.content_type),
                filename_param(&a.filename)
            );
            h.push_str(&base64_lines(&a.bytes));
        }
        let _ = write!(h, "\r\n--{mixed}--\r\n");
    }
    h.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Outgoing {
        Outgoing {
            from_address: "desk@example.com".into(),
            from_name: "Layanan \"TI\" Kantor".into(),
            to_address: "budi@example.com".into(),
            to_name: Some("Budi Śantoso".into()),
            subject: "[INC0000123] Pencetak macet — pesan baru\r\nBcc: evil@example.com".into(),
            message_id: message_id("sigap.example.com"),
            in_reply_to: Some("abc@mail.example.com".into()),
            references: vec!["abc@mail.example.com".into()],
            date: Timestamp::UNIX_EPOCH,
            loop_value: "sigap.example.com".into(),
            text: "Halo Budi,\nbaris dua".into(),
            html: "<p>Halo Budi</p>".into(),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn headers_cannot_be_injected_and_are_encoded() -> anyhow::Result<()> {
        let raw = compose(&sample());
        let text = String::from_utf8(raw.clone())?;
        assert!(text.is_ascii());
        assert!(!text.contains("\r\nBcc:"), "{text}");
        let parsed = crate::parse(&raw).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert!(
            parsed.subject.starts_with("[INC0000123] Pencetak macet"),
            "{}",
            parsed.subject
        );
        assert_eq!(parsed.in_reply_to, vec!["abc@mail.example.com".to_owned()]);
        assert_eq!(parsed.auto_submitted.as_deref(), Some("auto-generated"));
        assert!(parsed.sigap_loop.is_some());
        assert_eq!(
            parsed.text.replace("\r\n", "\n").trim(),
            "Halo Budi,\nbaris dua"
        );
        let from = parsed.from.ok_or_else(|| anyhow::anyhow!("no from"))?;
        assert_eq!(from.name.as_deref(), Some("Layanan \"TI\" Kantor"));
        Ok(())
    }

    #[test]
    fn long_words_are_split_under_the_line_limit() {
        let long = "Ä".repeat(200);
        let encoded = encode_words(&long);
        assert!(encoded.split("\r\n ").all(|w| w.len() <= 75));
    }
}
