//! A raw message (RFC 5322 with MIME) taken apart into an [`Inbound`].
//!
//! mail-parser does the MIME work; this module decides what is acceptable (size, shape,
//! nesting, a sender), cleans what the rules and people will read (addresses, ids, subject,
//! file names), picks the body text (HTML made text when there is no plain text), and keeps
//! the attachments.

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::LazyLock;

use jiff::Timestamp;
use mail_parser::{
    Addr, Encoding, HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders,
    PartType,
};
use sigap_domain::mail::{Address, Inbound, MAX_DEPTH, MAX_MESSAGE_BYTES, Part, Unreadable};

use crate::{dsn, html};

/// The longest subject kept, in characters.
const MAX_SUBJECT_CHARS: usize = 1_000;
/// The longest attachment file name kept, in characters.
const MAX_FILENAME_CHARS: usize = 200;
/// The longest display name kept, in characters.
const MAX_NAME_CHARS: usize = 200;
/// The longest address taken, in bytes (RFC 5321 allows 254 in a path; leave some room).
const MAX_ADDRESS_BYTES: usize = 320;
/// The longest value kept of the headers the rules read, in characters.
const MAX_HEADER_CHARS: usize = 200;
/// The longest message id taken, in bytes (a header line's limit).
const MAX_ID_BYTES: usize = 998;
/// The most ids kept from `References` (the first one and the latest ones).
const MAX_REFERENCES: usize = 100;
/// The most addresses kept from `To` and from `Cc`.
const MAX_RECIPIENTS: usize = 500;
/// The longest header field name taken at the start of a message.
const MAX_FIELD_NAME: usize = 200;

/// The parser, built once: the headers Sigap reads are parsed by kind, the rules' headers
/// kept raw, all others skipped.
pub(crate) static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .with_mime_headers()
        .header_address(HeaderName::From)
        .header_address(HeaderName::Sender)
        .header_address(HeaderName::ReplyTo)
        .header_address(HeaderName::To)
        .header_address(HeaderName::Cc)
        .header_id(HeaderName::MessageId)
        .header_id(HeaderName::InReplyTo)
        .header_id(HeaderName::References)
        .header_date(HeaderName::Date)
        .header_text(HeaderName::Subject)
        .header_raw(HeaderName::ReturnPath)
        .header_raw(HeaderName::AutoSubmitted)
        .header_raw(HeaderName::ListId)
        .header_raw(HeaderName::Other(Cow::Borrowed(PRECEDENCE)))
        .header_raw(HeaderName::Other(Cow::Borrowed(AUTO_RESPONSE_SUPPRESS)))
        .header_raw(HeaderName::Other(Cow::Borrowed(SIGAP_LOOP)))
        .default_header_ignore()
});

const PRECEDENCE: &str = "Precedence";
const AUTO_RESPONSE_SUPPRESS: &str = "X-Auto-Response-Suppress";
/// Sigap's loop header, put on everything it sends.
pub const SIGAP_LOOP: &str = "X-Sigap-Loop";

/// Takes a raw message apart.
///
/// Refused, for the quarantine: an empty message, one over [`MAX_MESSAGE_BYTES`] (checked
/// before any parsing), one that does not start with a header field, one with multiparts
/// nested deeper than [`MAX_DEPTH`], and one without a sender address. Anything else is
/// taken, however broken: unknown charsets and bad encodings are decoded as well as they can
/// be, never refused.
pub fn parse(raw: &[u8]) -> Result<Inbound, Unreadable> {
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(Unreadable::TooLarge {
            bytes: raw.len(),
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let start = raw
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or(Unreadable::Empty)?;
    let raw = skip_mbox_separator(raw.get(start..).unwrap_or_default());
    if !starts_with_header_field(raw) {
        return Err(Unreadable::NotMail);
    }
    // mail-parser drops a last header field that no line end closes; a message of header
    // fields only, without a final line end, gets one (the only copy ever made).
    let closed;
    let raw = if raw.ends_with(b"\n") || has_body(raw) {
        raw
    } else {
        closed = [raw, b"\r\n"].concat();
        &closed[..]
    };
    // mail-parser promises never to panic; should a hostile message still make it, the
    // message goes to the quarantine instead of taking the mail reader down.
    let parsed = std::panic::catch_unwind(AssertUnwindSafe(|| PARSER.parse(raw)));
    let message = Dismantled(parsed.ok().flatten().ok_or(Unreadable::NotMail)?);
    let message = &message.0;
    check_depth(message)?;
    let root = message.parts.first().ok_or(Unreadable::NotMail)?;

    let mut inbound = Inbound::default();
    read_headers(root, &mut inbound);
    if inbound.from.is_none() {
        return Err(Unreadable::NoSender);
    }
    read_body(message, &mut inbound);
    inbound.report = dsn::delivery_report(message);
    Ok(inbound)
}

/// A parsed message that is taken apart without recursion when dropped.
///
/// Messages attached without a transfer encoding nest as deep as the input makes them
/// (mail-parser follows them with a stack of its own, with no limit), and dropping such a
/// tree recurses once per level: a 10 MB message of nested `message/rfc822` headers
/// overflows a 2 MiB stack. Taking the nested messages out first, onto a heap stack, keeps
/// every drop shallow.
struct Dismantled<'x>(Message<'x>);

impl Drop for Dismantled<'_> {
    fn drop(&mut self) {
        let mut stack = vec![std::mem::take(&mut self.0)];
        while let Some(mut message) = stack.pop() {
            for part in &mut message.parts {
                if matches!(part.body, PartType::Message(_)) {
                    if let PartType::Message(inner) = std::mem::take(&mut part.body) {
                        stack.push(inner);
                    }
                }
            }
        }
    }
}

/// Skips an mbox `From ` separator line, as in a message saved from a mailbox file.
fn skip_mbox_separator(raw: &[u8]) -> &[u8] {
    let Some(rest) = raw.strip_prefix(b"From ") else {
        return raw;
    };
    // `From : x` is a header field in the obsolete syntax, not a separator.
    if rest
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t'))
        .is_some_and(|b| *b == b':')
    {
        return raw;
    }
    match rest.iter().position(|&b| b == b'\n') {
        Some(end) => rest.get(end + 1..).unwrap_or_default(),
        None => &[],
    }
}

/// Whether `raw` starts with a header field: a name of printable characters, then `:`.
fn starts_with_header_field(raw: &[u8]) -> bool {
    let name = raw
        .iter()
        .take(MAX_FIELD_NAME + 1)
        .take_while(|&&b| (33..=126).contains(&b) && b != b':')
        .count();
    if name == 0 || name > MAX_FIELD_NAME {
        return false;
    }
    raw.get(name..)
        .unwrap_or_default()
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t'))
        == Some(&b':')
}

/// Whether the header is followed by a blank line (and so a body, maybe empty).
fn has_body(raw: &[u8]) -> bool {
    raw.iter().enumerate().any(|(at, &b)| {
        b == b'\n'
            && match raw.get(at + 1) {
                Some(b'\n') => true,
                Some(b'\r') => raw.get(at + 2) == Some(&b'\n'),
                _ => false,
            }
    })
}

/// Refuses multiparts (and attached messages) nested deeper than [`MAX_DEPTH`]. Walks the
/// tree with its own stack, never by recursion, and visits each part once.
fn check_depth(message: &Message<'_>) -> Result<(), Unreadable> {
    let mut messages = vec![(message, 0usize)];
    while let Some((current, base)) = messages.pop() {
        let mut seen = vec![false; current.parts.len()];
        let mut stack = vec![(0usize, base)];
        while let Some((id, depth)) = stack.pop() {
            match seen.get_mut(id) {
                Some(visited) if !*visited => *visited = true,
                _ => continue,
            }
            let Some(part) = current.parts.get(id) else {
                continue;
            };
            match &part.body {
                PartType::Multipart(children) => {
                    let depth = depth + 1;
                    if depth > MAX_DEPTH {
                        return Err(Unreadable::TooDeep);
                    }
                    // Children come after their parent; anything else is not followed.
                    stack.extend(
                        children
                            .iter()
                            .map(|&child| child as usize)
                            .filter(|&child| child > id)
                            .map(|child| (child, depth)),
                    );
                }
                PartType::Message(inner) => {
                    let depth = depth + 1;
                    if depth > MAX_DEPTH {
                        return Err(Unreadable::TooDeep);
                    }
                    messages.push((inner, depth));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Reads the top-level header fields. Where a field appears more than once, the first counts.
fn read_headers(root: &MessagePart<'_>, inbound: &mut Inbound) {
    let mut from = None;
    let mut sender = None;
    let mut reply_to = None;
    let mut seen_to = false;
    let mut seen_cc = false;
    let mut seen_in_reply_to = false;
    let mut seen_references = false;
    let mut seen_subject = false;
    let mut seen_date = false;
    for header in root.headers() {
        let value = header.value();
        match &header.name {
            HeaderName::From if from.is_none() => from = Some(first_address(value)),
            HeaderName::Sender if sender.is_none() => sender = Some(first_address(value)),
            HeaderName::ReplyTo if reply_to.is_none() => reply_to = Some(first_address(value)),
            HeaderName::To if !seen_to => {
                seen_to = true;
                addresses(value, &mut inbound.to);
            }
            HeaderName::Cc if !seen_cc => {
                seen_cc = true;
                addresses(value, &mut inbound.cc);
            }
            HeaderName::MessageId if inbound.message_id.is_none() => {
                inbound.message_id = ids(value).into_iter().next();
            }
            HeaderName::InReplyTo if !seen_in_reply_to => {
                seen_in_reply_to = true;
                inbound.in_reply_to = ids(value);
                inbound.in_reply_to.truncate(MAX_REFERENCES);
            }
            HeaderName::References if !seen_references => {
                seen_references = true;
                inbound.references = references(ids(value));
            }
            HeaderName::Subject if !seen_subject => {
                seen_subject = true;
                inbound.subject =
                    clean_line(value.as_text().unwrap_or_default(), MAX_SUBJECT_CHARS);
            }
            HeaderName::Date if !seen_date => {
                seen_date = true;
                inbound.date = value.as_datetime().and_then(timestamp);
            }
            HeaderName::ReturnPath if inbound.return_path.is_none() => {
                inbound.return_path = Some(return_path(value.as_text().unwrap_or_default()));
            }
            HeaderName::AutoSubmitted => keep_first(&mut inbound.auto_submitted, value),
            HeaderName::ListId => keep_first(&mut inbound.list_id, value),
            HeaderName::Other(name) => {
                if name.eq_ignore_ascii_case(PRECEDENCE) {
                    keep_first(&mut inbound.precedence, value);
                } else if name.eq_ignore_ascii_case(AUTO_RESPONSE_SUPPRESS) {
                    keep_first(&mut inbound.auto_response_suppress, value);
                } else if name.eq_ignore_ascii_case(SIGAP_LOOP) {
                    keep_first(&mut inbound.sigap_loop, value);
                }
            }
            _ => {}
        }
    }
    inbound.reply_to = reply_to.flatten();
    inbound.from = from
        .flatten()
        .or_else(|| inbound.reply_to.clone())
        .or_else(|| sender.flatten());
}

/// Keeps a raw header value (trimmed, cleaned, present even when empty) unless one is kept.
fn keep_first(slot: &mut Option<String>, value: &HeaderValue<'_>) {
    if slot.is_none() {
        *slot = Some(clean_line(
            value.as_text().unwrap_or_default(),
            MAX_HEADER_CHARS,
        ));
    }
}

/// `Return-Path: <>` is `""`; `<Bounce@Example.com>` is `bounce@example.com`.
fn return_path(raw: &str) -> String {
    let raw = raw.trim();
    let inner = match raw.find('<') {
        Some(open) => {
            let rest = raw.get(open + 1..).unwrap_or_default();
            rest.get(..rest.find('>').unwrap_or(rest.len()))
                .unwrap_or_default()
        }
        None => raw.split_whitespace().next().unwrap_or_default(),
    };
    clean_line(inner, MAX_ADDRESS_BYTES).to_lowercase()
}

/// The addresses of an address field, groups flattened.
fn address_list<'a, 'x>(value: &'a HeaderValue<'x>) -> impl Iterator<Item = &'a Addr<'x>> + 'a {
    value.as_address().into_iter().flat_map(|list| list.iter())
}

fn first_address(value: &HeaderValue<'_>) -> Option<Address> {
    address_list(value).find_map(address)
}

fn addresses(value: &HeaderValue<'_>, out: &mut Vec<Address>) {
    out.extend(address_list(value).filter_map(address).take(MAX_RECIPIENTS));
}

fn address(addr: &Addr<'_>) -> Option<Address> {
    let email = clean_email(addr.address()?)?;
    let name = addr
        .name()
        .map(|n| clean_line(n.trim_matches(['"', '\'']), MAX_NAME_CHARS))
        .filter(|n| !n.is_empty());
    Some(Address { email, name })
}

/// An address, trimmed and folded to lower case, when it looks like one.
fn clean_email(raw: &str) -> Option<String> {
    let email = raw
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    let (local, domain) = email.rsplit_once('@')?;
    let acceptable = !local.is_empty()
        && !domain.is_empty()
        && email.len() <= MAX_ADDRESS_BYTES
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
    acceptable.then(|| email.to_lowercase())
}

/// Message ids of an id field, without `<>`, white space or control characters.
pub(crate) fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let clean = |id: &str| {
        let id: String = id
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '<' | '>'))
            .collect();
        (!id.is_empty() && id.len() <= MAX_ID_BYTES).then_some(id)
    };
    match value {
        HeaderValue::Text(id) => clean(id).into_iter().collect(),
        HeaderValue::TextList(list) => list.iter().filter_map(|id| clean(id)).collect(),
        _ => Vec::new(),
    }
}

/// Keeps the first reference (the thread's start) and the latest ones.
fn references(mut ids: Vec<String>) -> Vec<String> {
    if ids.len() > MAX_REFERENCES {
        let drop_to = ids.len() - (MAX_REFERENCES - 1);
        ids.drain(1..drop_to);
    }
    ids
}

fn timestamp(date: &mail_parser::DateTime) -> Option<Timestamp> {
    if !date.is_valid() {
        return None;
    }
    let civil = jiff::civil::DateTime::new(
        i16::try_from(date.year).ok()?,
        i8::try_from(date.month).ok()?,
        i8::try_from(date.day).ok()?,
        i8::try_from(date.hour).ok()?,
        i8::try_from(date.minute).ok()?,
        i8::try_from(date.second).ok()?,
        0,
    )
    .ok()?;
    let seconds = i32::from(date.tz_hour) * 3600 + i32::from(date.tz_minute) * 60;
    let seconds = if date.tz_before_gmt {
        -seconds
    } else {
        seconds
    };
    jiff::tz::Offset::from_seconds(seconds)
        .ok()?
        .to_timestamp(civil)
        .ok()
}

/// Characters that show nothing but can reorder or hide text (bidi overrides, zero-width
/// characters, the byte order mark).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// One line of text: control and invisible characters removed, white space folded to
/// single spaces, trimmed, at most `max` characters.
pub(crate) fn clean_line(raw: &str, max: usize) -> String {
    let mut out = String::with_capacity(raw.len().min(max.saturating_mul(4)));
    let mut space = false;
    let mut count = 0;
    for c in raw.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else if c.is_control() || is_invisible(c) {
            // Dropped.
        } else {
            // The character, and the space before it, must both fit.
            if count + usize::from(space) >= max {
                break;
            }
            if space {
                out.push(' ');
                count += 1;
            }
            space = false;
            out.push(c);
            count += 1;
        }
    }
    out
}

/// Body text: line ends as `\n`, no control characters but tabs, no trailing white space.
fn clean_text(raw: &str) -> String {
    let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    let end = out.trim_end().len();
    out.truncate(end);
    out
}

/// The body text, and the attachments.
fn read_body(message: &Message<'_>, inbound: &mut Inbound) {
    let part_body = |id: &u32| message.parts.get(*id as usize).map(|p| &p.body);
    let texts: Vec<String> = message
        .text_body
        .iter()
        .filter_map(|id| match part_body(id) {
            Some(PartType::Text(text)) => Some(clean_text(text)),
            _ => None,
        })
        .filter(|text| !text.is_empty())
        .collect();
    let mut html_originals = Vec::new();
    // A multipart whose boundary is missing or never comes is all text to mail-parser, but
    // not a body: read it as the body when there is no other.
    let mut broken_multipart = None;
    if texts.is_empty() && message.html_body.is_empty() {
        broken_multipart = message.attachments.iter().copied().find(|&id| {
            message.parts.get(id as usize).is_some_and(|p| {
                !p.is_multipart()
                    && p.content_type()
                        .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart"))
            })
        });
    }
    if let Some(part) = broken_multipart.and_then(|id| message.parts.get(id as usize)) {
        inbound.text = clean_text(&String::from_utf8_lossy(part.contents()));
    } else if texts.is_empty() {
        let htmls: Vec<&str> = message
            .html_body
            .iter()
            .chain(message.text_body.iter())
            .filter_map(|id| match part_body(id) {
                Some(PartType::Html(html)) => Some(html.as_ref()),
                _ => None,
            })
            .collect();
        let mut converted = Vec::new();
        for html in htmls {
            if html_originals.contains(&html) {
                continue;
            }
            html_originals.push(html);
            let text = html::html_to_text(html);
            if !text.is_empty() {
                converted.push(text);
            }
        }
        inbound.text = converted.join("\n\n");
        inbound.html_only = !html_originals.is_empty();
    } else {
        inbound.text = texts.join("\n\n");
    }

    for &id in &message.attachments {
        if broken_multipart == Some(id) {
            continue;
        }
        let Some(part) = message.parts.get(id as usize) else {
            continue;
        };
        let bytes = match &part.body {
            // A base64 part that its boundary never closed comes back undecoded.
            PartType::Text(text) if part.is_encoding_problem && is_base64(part) => {
                decode_base64_leniently(text.as_bytes())
            }
            PartType::Text(text) | PartType::Html(text) => text.as_bytes().to_vec(),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => bytes.to_vec(),
            PartType::Message(inner) => attached_message(message, part, inner).to_vec(),
            PartType::Multipart(_) => continue,
        };
        let number = inbound.attachments.len() + 1;
        let content_type = content_type(part);
        let is_message = matches!(part.body, PartType::Message(_))
            || matches!(content_type.as_str(), "message/rfc822" | "message/global");
        let filename = part
            .attachment_name()
            .and_then(safe_filename)
            .unwrap_or_else(|| {
                if is_message {
                    format!("message-{number}.eml")
                } else {
                    format!("attachment-{number}.{}", extension(&content_type))
                }
            });
        inbound.attachments.push(Part {
            filename,
            content_type,
            bytes,
        });
    }

    for (n, html) in html_originals.into_iter().enumerate() {
        let filename = if n == 0 {
            "original.html".to_owned()
        } else {
            format!("original-{}.html", n + 1)
        };
        inbound.attachments.push(Part {
            filename,
            content_type: "text/html".to_owned(),
            bytes: html.as_bytes().to_vec(),
        });
    }
}

fn is_base64(part: &MessagePart<'_>) -> bool {
    part.content_transfer_encoding()
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"))
}

/// Decodes base64, skipping whatever is not of its alphabet and stopping at padding; a
/// trailing partial group is dropped.
fn decode_base64_leniently(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut bits: u32 = 0;
    let mut count = 0;
    for &b in text {
        let value = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        bits = (bits << 6) | u32::from(value);
        count += 1;
        if count == 4 {
            out.extend_from_slice(&bits.to_be_bytes()[1..]);
            bits = 0;
            count = 0;
        }
    }
    match count {
        2 => out.push((bits >> 4) as u8),
        3 => out.extend_from_slice(&((bits >> 2) as u16).to_be_bytes()),
        _ => {}
    }
    out
}

/// The raw bytes of an attached message. Unencoded, it is a stretch of its parent's bytes;
/// encoded (base64, quoted-printable), mail-parser keeps its decoded bytes with it.
fn attached_message<'a>(
    parent: &'a Message<'_>,
    part: &MessagePart<'_>,
    inner: &'a Message<'_>,
) -> &'a [u8] {
    if part.encoding == Encoding::None {
        let start = part.offset_body as usize;
        let end = part.offset_end as usize;
        parent.raw_message().get(start..end).unwrap_or_default()
    } else {
        inner.raw_message()
    }
}

/// `type/subtype` in lower case, or a default for the kind of body.
fn content_type(part: &MessagePart<'_>) -> String {
    let token = |t: &str| {
        !t.is_empty()
            && t.len() <= 100
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    if let Some(ct) = part.content_type() {
        if let Some(subtype) = ct.subtype() {
            if token(ct.ctype()) && token(subtype) {
                return format!("{}/{}", ct.ctype(), subtype).to_ascii_lowercase();
            }
        }
    }
    match part.body {
        PartType::Text(_) => "text/plain",
        PartType::Html(_) => "text/html",
        PartType::Message(_) => "message/rfc822",
        _ => "application/octet-stream",
    }
    .to_owned()
}

/// A file name extension for a content type, for attachments sent without a name.
fn extension(content_type: &str) -> &'static str {
    match content_type {
        "text/plain" | "message/delivery-status" | "text/rfc822-headers" => "txt",
        "text/html" => "html",
        "text/csv" => "csv",
        "text/calendar" => "ics",
        "text/xml" | "application/xml" => "xml",
        "application/json" => "json",
        "application/pdf" => "pdf",
        "application/zip" | "application/x-zip-compressed" => "zip",
        "application/gzip" => "gz",
        "application/msword" => "doc",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.ms-powerpoint" => "ppt",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        "application/vnd.oasis.opendocument.text" => "odt",
        "application/vnd.oasis.opendocument.spreadsheet" => "ods",
        "application/ms-tnef" | "application/vnd.ms-tnef" => "dat",
        "application/pkcs7-signature" | "application/x-pkcs7-signature" => "p7s",
        "application/pgp-signature" => "asc",
        "image/png" => "png",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/bmp" => "bmp",
        "image/tiff" => "tif",
        "image/svg+xml" => "svg",
        "image/heic" => "heic",
        "audio/mpeg" => "mp3",
        "audio/wav" | "audio/x-wav" => "wav",
        "video/mp4" => "mp4",
        "message/rfc822" | "message/global" => "eml",
        _ => "bin",
    }
}

/// Names Windows keeps for devices.
const RESERVED_NAMES: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// A file name safe to store and to offer for download: the last path component only, no
/// control or invisible characters, none of `:*?"<>|`, no leading or trailing dots or
/// spaces, not a device name, at most 200 characters (the extension kept). `None` when
/// nothing is left.
pub(crate) fn safe_filename(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let mapped: String = last
        .chars()
        .map(|c| {
            if matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name = clean_line(&mapped, usize::MAX);
    let name = name.trim_matches(['.', ' ']);
    if name.is_empty() {
        return None;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.chars().count() <= 16 => (stem, Some(ext)),
        _ => (name, None),
    };
    let reserved = RESERVED_NAMES.iter().any(|r| {
        stem.split('.')
            .next()
            .is_some_and(|s| s.eq_ignore_ascii_case(r))
    });
    let ext_chars = ext.map_or(0, |e| e.chars().count() + 1);
    let room = MAX_FILENAME_CHARS - ext_chars - usize::from(reserved);
    let mut out = String::with_capacity(name.len().min(MAX_FILENAME_CHARS * 4));
    if reserved {
        out.push('_');
    }
    out.extend(stem.chars().take(room));
    let trimmed = out.trim_end_matches(['.', ' ']).len();
    out.truncate(trimmed);
    if let Some(ext) = ext {
        out.push('.');
        out.push_str(ext);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_made_safe() {
        for (raw, want) in [
            ("report.pdf", Some("report.pdf")),
            ("../../etc/passwd", Some("passwd")),
            ("C:\\Users\\x\\Desktop\\cv.docx", Some("cv.docx")),
            ("a\0b\r\nc.txt", Some("ab c.txt")),
            ("  .hidden  ", Some("hidden")),
            ("what?*:<>|\"name\".txt", Some("what_______name_.txt")),
            ("invoice\u{202e}fdp.exe", Some("invoicefdp.exe")),
            ("NUL", Some("_NUL")),
            ("com1.tar.gz", Some("_com1.tar.gz")),
            ("console.log", Some("console.log")),
            ("...", None),
            ("dir/", None),
            ("", None),
            ("\u{7}\u{1b}", None),
        ] {
            assert_eq!(safe_filename(raw).as_deref(), want, "{raw:?}");
        }
        let long = format!("{}.xlsx", "é".repeat(300));
        let safe = safe_filename(&long).unwrap_or_default();
        assert_eq!(safe.chars().count(), MAX_FILENAME_CHARS);
        assert!(safe.ends_with("é.xlsx"));
        let no_ext = "x".repeat(300);
        assert_eq!(
            safe_filename(&no_ext).map(|s| s.len()),
            Some(MAX_FILENAME_CHARS)
        );
    }

    #[test]
    fn lines_are_folded_cleaned_and_capped() {
        assert_eq!(clean_line("  a \t\r\n b\u{0}c\u{200b}  ", 100), "a bc");
        assert_eq!(clean_line("abcdef", 3), "abc");
        assert_eq!(clean_line("ab cd", 3), "ab");
        assert_eq!(clean_line("", 3), "");
    }

    #[test]
    fn a_message_must_start_with_a_header_field() {
        assert!(starts_with_header_field(b"From: a@b"));
        assert!(starts_with_header_field(b"Subject :x"));
        assert!(starts_with_header_field(b"X-A:"));
        assert!(!starts_with_header_field(b"no colon here"));
        assert!(!starts_with_header_field(b"two words: x"));
        assert!(!starts_with_header_field(b":x"));
        assert!(!starts_with_header_field(b"\x00: x"));
        assert!(!starts_with_header_field(&[b'a'; 300]));
        assert_eq!(
            skip_mbox_separator(b"From a@b Mon\nFrom: a@b"),
            b"From: a@b"
        );
        assert_eq!(skip_mbox_separator(b"From : a@b"), b"From : a@b");
    }

    #[test]
    fn base64_is_decoded_leniently() {
        assert_eq!(decode_base64_leniently(b"SGVsbG8="), b"Hello");
        assert_eq!(decode_base64_leniently(b"SGVs\r\nbG8h"), b"Hello!");
        assert_eq!(decode_base64_leniently(b"SG*V!s bG"), b"Hell");
        assert_eq!(decode_base64_leniently(b"SGVsbA"), b"Hell");
        assert_eq!(decode_base64_leniently(b"S"), b"");
        assert_eq!(decode_base64_leniently(b""), b"");
    }

    #[test]
    fn a_body_follows_a_blank_line() {
        assert!(has_body(b"A: b\r\n\r\nbody"));
        assert!(has_body(b"A: b\n\n"));
        assert!(!has_body(b"A: b\r\nC: d"));
        assert!(!has_body(b"A: b\r\n"));
    }
}
