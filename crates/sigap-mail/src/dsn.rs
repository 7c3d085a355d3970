//! Delivery status notifications (RFC 3464, RFC 6533): `multipart/report;
//! report-type=delivery-status` with a `message/delivery-status` part and the returned
//! message or its headers.

use mail_parser::{HeaderName, Message, MessagePart, MimeHeaders, PartType};
use sigap_domain::mail::{DeliveryAction, DeliveryReport, RecipientStatus};

use crate::parse::{PARSER, clean_line, ids};

/// The most recipients read from one report.
const MAX_RECIPIENTS: usize = 1_000;
/// The longest diagnostic kept, in characters.
const MAX_DIAGNOSTIC_CHARS: usize = 1_000;
/// The longest address kept from a report, in characters.
const MAX_ADDRESS_CHARS: usize = 320;

/// The report a message carries, when it is a delivery status notification.
pub(crate) fn delivery_report(message: &Message<'_>) -> Option<DeliveryReport> {
    let root = message.parts.first()?;
    let ct = root.content_type()?;
    let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && ct.attribute("report-type").is_some_and(|t| {
            t.eq_ignore_ascii_case("delivery-status")
                || t.eq_ignore_ascii_case("global-delivery-status")
        });
    if !is_report {
        return None;
    }
    let mut recipients = Vec::new();
    let mut original_message_id = None;
    let mut read_status = false;
    for part in message.parts.iter().skip(1) {
        if !read_status
            && (is_type(part, "message", "delivery-status")
                || is_type(part, "message", "global-delivery-status"))
        {
            read_status = true;
            recipients = status_fields(&String::from_utf8_lossy(part.contents()));
        } else if original_message_id.is_none() {
            original_message_id = returned_message_id(part);
        }
    }
    Some(DeliveryReport {
        original_message_id,
        recipients,
    })
}

fn is_type(part: &MessagePart<'_>, ctype: &str, subtype: &str) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case(subtype))
    })
}

/// The Message-ID of the returned message (`message/rfc822`, `message/global`) or of its
/// returned headers (`text/rfc822-headers`, `message/global-headers`).
fn returned_message_id(part: &MessagePart<'_>) -> Option<String> {
    match &part.body {
        PartType::Message(returned) => message_id(returned),
        _ if is_type(part, "text", "rfc822-headers")
            || is_type(part, "message", "global-headers")
            || is_type(part, "message", "rfc822")
            || is_type(part, "message", "global") =>
        {
            message_id(&PARSER.parse_headers(part.contents())?)
        }
        _ => None,
    }
}

/// The first Message-ID field of a message's top-level header.
fn message_id(message: &Message<'_>) -> Option<String> {
    let root = message.parts.first()?;
    let header = root
        .headers()
        .iter()
        .find(|h| h.name == HeaderName::MessageId)?;
    ids(header.value()).into_iter().next()
}

/// The per-recipient blocks of a `message/delivery-status` body. Fields are unfolded;
/// blocks are separated by blank lines; a block without a recipient (the per-message
/// block) is skipped.
fn status_fields(body: &str) -> Vec<RecipientStatus> {
    let mut recipients = Vec::new();
    let mut block: Vec<(String, String)> = Vec::new();
    for line in body.lines().chain(std::iter::once("")) {
        if recipients.len() >= MAX_RECIPIENTS {
            break;
        }
        if line.trim().is_empty() {
            if let Some(recipient) = recipient(&block) {
                recipients.push(recipient);
            }
            block.clear();
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = block.last_mut() {
                if value.len() < MAX_DIAGNOSTIC_CHARS * 4 {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            }
        } else if let Some((name, value)) = line.split_once(':') {
            if block.len() < 64 {
                block.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
    }
    recipients
}

fn recipient(block: &[(String, String)]) -> Option<RecipientStatus> {
    let field = |name: &str| {
        block
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let address = field("final-recipient")
        .or_else(|| field("original-recipient"))
        .map(typed_address)
        .filter(|a| !a.is_empty())?;
    let status = field("status").and_then(status_code);
    let diagnostic = field("diagnostic-code")
        .map(|d| clean_line(typed_value(d), MAX_DIAGNOSTIC_CHARS))
        .filter(|d| !d.is_empty());
    let status = status.or_else(|| diagnostic.as_deref().and_then(find_status_code));
    let action = match field("action").map(|a| first_word(a).to_ascii_lowercase()) {
        Some(a) if a == "failed" => Some(DeliveryAction::Failed),
        Some(a) if a == "delayed" => Some(DeliveryAction::Delayed),
        Some(a) if a == "delivered" => Some(DeliveryAction::Delivered),
        Some(a) if a == "relayed" => Some(DeliveryAction::Relayed),
        Some(a) if a == "expanded" => Some(DeliveryAction::Expanded),
        _ => None,
    };
    // Without a readable action, the status class tells.
    let action = action.or_else(|| match status.as_deref()?.as_bytes().first()? {
        b'5' => Some(DeliveryAction::Failed),
        b'4' => Some(DeliveryAction::Delayed),
        b'2' => Some(DeliveryAction::Delivered),
        _ => None,
    })?;
    let status = status.unwrap_or_else(|| {
        match action {
            DeliveryAction::Failed => "5.0.0",
            DeliveryAction::Delayed => "4.0.0",
            _ => "2.0.0",
        }
        .to_owned()
    });
    Some(RecipientStatus {
        address,
        action,
        status,
        diagnostic,
    })
}

/// The value after an address or diagnostic type: `rfc822; a@b` is `a@b`.
fn typed_value(value: &str) -> &str {
    value.split_once(';').map_or(value, |(_, v)| v).trim()
}

fn typed_address(value: &str) -> String {
    let address = typed_value(value).trim_matches(['<', '>', ' ']);
    clean_line(address, MAX_ADDRESS_CHARS).to_lowercase()
}

fn first_word(value: &str) -> &str {
    value
        .split(|c: char| c.is_whitespace() || c == '(' || c == ';')
        .next()
        .unwrap_or_default()
}

/// `5.1.1` at the start of a Status field.
fn status_code(value: &str) -> Option<String> {
    let word = first_word(value);
    is_status_code(word).then(|| word.to_owned())
}

/// The first `x.y.z` status code in a text (an SMTP reply carries one: `550 5.1.1 …`).
fn find_status_code(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '#' | '<' | '>'))
        .find(|word| is_status_code(word))
        .map(str::to_owned)
}

/// `class.subject.detail`: class 2, 4 or 5, then one to three digits twice.
fn is_status_code(word: &str) -> bool {
    let mut pieces = word.split('.');
    let (Some(class), Some(subject), Some(detail), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return false;
    };
    let digits = |p: &str| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    matches!(class, "2" | "4" | "5") && digits(subject) && digits(detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_recognised() {
        assert!(is_status_code("5.1.1"));
        assert!(is_status_code("4.4.7"));
        assert!(is_status_code("5.1.10"));
        assert!(!is_status_code("550"));
        assert!(!is_status_code("5.1"));
        assert!(!is_status_code("3.1.1"));
        assert!(!is_status_code("5.1.1.1"));
        assert!(!is_status_code("5.x.1"));
        assert_eq!(
            find_status_code("smtp; 550 5.1.1 <x@y>: Recipient address rejected"),
            Some("5.1.1".to_owned())
        );
    }

    #[test]
    fn blocks_without_a_recipient_are_skipped() {
        let body = "Reporting-MTA: dns; mx.example.com\n\nAction: failed\nStatus: 5.0.0\n\n\
                    Final-Recipient: rfc822; A@Example.com\nAction: weird\nStatus: 4.2.2\n";
        let recipients = status_fields(body);
        assert_eq!(recipients.len(), 1);
        assert_eq!(
            recipients.first().map(|r| (r.address.as_str(), r.action)),
            Some(("a@example.com", DeliveryAction::Delayed))
        );
    }
}
