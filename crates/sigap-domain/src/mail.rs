//! Mail as the service desk reads it: a message taken apart into what the rules need, and the
//! rules themselves (is it machine-made, which task does it answer, where does the reply
//! end). Parsing MIME is `sigap-mail`'s; nothing here does I/O.

use jiff::Timestamp;

/// The largest message taken in; a larger one goes to the quarantine.
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;
/// The deepest nesting of multiparts taken apart; a deeper message goes to the quarantine.
pub const MAX_DEPTH: usize = 20;

/// A mail address, the address part folded to lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub email: String,
    pub name: Option<String>,
}

/// A file carried by a message (an attachment, an inline image, or the HTML original of an
/// HTML-only message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The action a delivery status notification reports for one recipient (RFC 3464 §2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryAction {
    Failed,
    Delayed,
    Delivered,
    Relayed,
    Expanded,
}

/// One recipient of a delivery status notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientStatus {
    /// The final (else original) recipient, folded to lower case.
    pub address: String,
    pub action: DeliveryAction,
    /// The status code, `5.1.1` and the like.
    pub status: String,
    /// The remote server's words, when given.
    pub diagnostic: Option<String>,
}

impl RecipientStatus {
    /// A permanent failure: mail to this address stops until the address is changed.
    pub fn permanent_failure(&self) -> bool {
        self.action == DeliveryAction::Failed && self.status.starts_with('5')
    }
}

/// A delivery status notification (`multipart/report; report-type=delivery-status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The Message-ID of the message it reports on (from its returned headers), without <>.
    pub original_message_id: Option<String>,
    pub recipients: Vec<RecipientStatus>,
}

/// Why a message is machine-made: it never gets an automatic reply and never opens a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoReason {
    /// `Auto-Submitted` other than `no` (RFC 3834), with its value.
    AutoSubmitted(String),
    /// `Precedence: bulk`, `junk` or `list`.
    Precedence(String),
    /// A mailing list's message (`List-Id`).
    List,
    /// An empty return path (`Return-Path: <>`): a bounce or other notification.
    EmptyReturnPath,
    /// From `mailer-daemon@`, `postmaster@` and the like, with the address.
    Daemon(String),
    /// A delivery status notification.
    DeliveryReport,
    /// Sent by a Sigap (its loop header), with the header's value.
    Loop(String),
}

/// A message taken apart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inbound {
    /// Message-ID without the angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from: Option<Address>,
    pub reply_to: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    /// The envelope sender from `Return-Path`: `Some("")` for `<>`, `None` when absent.
    pub return_path: Option<String>,
    /// Decoded, whitespace-folded, at most 1,000 characters.
    pub subject: String,
    pub date: Option<Timestamp>,
    /// The text of the body: the `text/plain` part, else the HTML made text.
    pub text: String,
    /// The body came from HTML only (its original is among the attachments).
    pub html_only: bool,
    pub attachments: Vec<Part>,
    /// Header values the rules read, as sent (trimmed), when present.
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub list_id: Option<String>,
    pub auto_response_suppress: Option<String>,
    /// Sigap's own loop header (`X-Sigap-Loop`).
    pub sigap_loop: Option<String>,
    pub report: Option<DeliveryReport>,
}

/// Why a message could not be taken in: it goes to the quarantine with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    /// Nothing at all (zero bytes or only white space).
    #[error("the message is empty")]
    Empty,
    /// Larger than the limit (its size in bytes, and the limit).
    #[error("the message has {bytes} bytes, more than the limit of {limit}")]
    TooLarge { bytes: usize, limit: usize },
    /// Not a mail message: no header could be read.
    #[error("not a mail message: no header could be read")]
    NotMail,
    /// Multiparts nested deeper than `MAX_DEPTH`.
    #[error("multiparts nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// No sender address could be read (`From`, else `Reply-To`, else `Sender`).
    #[error("no sender address (From, Reply-To or Sender) could be read")]
    NoSender,
}

/// The line Sigap puts above the quoted history of every mail it sends: a reply's own text is
/// what stands above it.
pub const REPLY_MARKER: &str = "-- Reply above this line / Balas di atas baris ini --";

/// Local parts (before any `+tag`) of addresses that only machines send from.
const DAEMON_LOCAL_PARTS: &[&str] = &[
    "mailer-daemon",
    "mailerdaemon",
    "mail-daemon",
    "maildaemon",
    "postmaster",
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "do_not_reply",
    "bounce",
    "bounces",
];

/// The first token of a header value: up to `;`, a comment or white space.
fn first_token(value: &str) -> &str {
    let value = value.trim_start();
    let end = value
        .find(|c: char| c == ';' || c == '(' || c.is_whitespace())
        .unwrap_or(value.len());
    value.get(..end).unwrap_or(value)
}

/// Whether an address is one that only machines send from (`mailer-daemon@`, `noreply@`,
/// `bounces+…@`, `noreply-alerts@` and the like).
fn is_daemon_address(email: &str) -> bool {
    let local = email.rsplit_once('@').map_or(email, |(local, _)| local);
    let local = local.trim().trim_matches('"').to_ascii_lowercase();
    let local = local.split('+').next().unwrap_or_default();
    DAEMON_LOCAL_PARTS.iter().any(|daemon| {
        local == *daemon
            || local
                .strip_prefix(daemon)
                .is_some_and(|rest| rest.starts_with(['-', '.', '_']))
    })
}

impl Inbound {
    /// Why the message is machine-made, if it is (RFC 3834, RFC 3464 and the usual signs).
    /// Checked in this order: Sigap's own loop header, a delivery report, `Auto-Submitted`,
    /// `Precedence`, `List-Id`, an empty return path, a daemon's sender address.
    pub fn auto_reason(&self) -> Option<AutoReason> {
        if let Some(value) = &self.sigap_loop {
            return Some(AutoReason::Loop(value.clone()));
        }
        if self.report.is_some() {
            return Some(AutoReason::DeliveryReport);
        }
        if let Some(value) = &self.auto_submitted {
            if !first_token(value).eq_ignore_ascii_case("no") {
                return Some(AutoReason::AutoSubmitted(value.clone()));
            }
        }
        if let Some(value) = &self.precedence {
            let token = first_token(value);
            if ["bulk", "junk", "list"]
                .iter()
                .any(|p| token.eq_ignore_ascii_case(p))
            {
                return Some(AutoReason::Precedence(value.clone()));
            }
        }
        if self.list_id.is_some() {
            return Some(AutoReason::List);
        }
        if let Some(path) = &self.return_path {
            let path = path.trim();
            if path.is_empty() || path == "<>" {
                return Some(AutoReason::EmptyReturnPath);
            }
        }
        if let Some(from) = &self.from {
            if is_daemon_address(&from.email) {
                return Some(AutoReason::Daemon(from.email.clone()));
            }
        }
        None
    }
}

/// The task number tagged in a subject as `[INC0000123]`: one of `prefixes` (any case)
/// followed by digits, in square brackets, anywhere in the subject. When there are several,
/// the last one counts. The number comes back in upper case (`INC0000123`).
pub fn task_number_in_subject(subject: &str, prefixes: &[&str]) -> Option<String> {
    let bytes = subject.as_bytes();
    let mut found = None;
    for (open, _) in subject.match_indices('[') {
        let start = open + 1;
        let letters = bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        let digits = bytes
            .get(start + letters..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if letters == 0 || digits == 0 || digits > 18 {
            continue;
        }
        if bytes.get(start + letters + digits) != Some(&b']') {
            continue;
        }
        let (Some(prefix), Some(number)) = (
            subject.get(start..start + letters),
            subject.get(start + letters..start + letters + digits),
        ) else {
            continue;
        };
        if prefixes.iter().any(|p| p.eq_ignore_ascii_case(prefix)) {
            found = Some(format!("{}{number}", prefix.to_ascii_uppercase()));
        }
    }
    found
}

/// Reply and forward prefixes mail programs put before a subject (English, Indonesian,
/// German, Nordic, Dutch, French, Polish, Portuguese, Spanish).
const REPLY_PREFIXES: &[&str] = &[
    "re", "fw", "fwd", "aw", "wg", "sv", "vs", "vl", "antw", "doorst", "tr", "trs", "bls", "balas",
    "teruskan", "odp", "pd", "res", "enc", "rv",
];
/// The same in scripts without ASCII letters (Chinese, Japanese).
const REPLY_PREFIXES_WIDE: &[&str] = &["回复", "回覆", "答复", "答覆", "转发", "轉寄", "転送"];

/// One reply prefix (`Re:`, `RE :`, `Re[2]:`, `Fwd:`, `Balas:`…) off the front of `subject`.
fn strip_one_prefix(subject: &str) -> Option<&str> {
    let word_len = subject
        .bytes()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let rest = if word_len > 0 {
        let word = subject.get(..word_len)?;
        if !REPLY_PREFIXES.iter().any(|p| p.eq_ignore_ascii_case(word)) {
            return None;
        }
        subject.get(word_len..)?
    } else {
        let word = REPLY_PREFIXES_WIDE
            .iter()
            .find(|p| subject.starts_with(**p))?;
        subject.get(word.len()..)?
    };
    // An optional counter: `Re[2]:`, `Re(2):`.
    let rest = match rest.chars().next() {
        Some(open @ ('[' | '(')) => {
            let close = if open == '[' { ']' } else { ')' };
            let inner = rest.get(1..)?;
            let digits = inner.bytes().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            inner.get(digits..)?.strip_prefix(close)?
        }
        _ => rest,
    };
    let rest = rest.trim_start_matches(' ');
    rest.strip_prefix(':').or_else(|| rest.strip_prefix('：'))
}

/// The subject without the reply and forward prefixes in front of it (`Re: Fwd: AW: Balas:
/// Re[2]: …`), trimmed: for showing and for comparing subjects.
pub fn strip_reply_prefixes(subject: &str) -> &str {
    let mut rest = subject.trim();
    while let Some(next) = strip_one_prefix(rest) {
        rest = next.trim_start();
    }
    rest
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text
            .get(text.len() - suffix.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

/// `-----Original Message-----` and its Indonesian twins.
fn is_original_message_line(line: &str) -> bool {
    if !line.starts_with("--") {
        return false;
    }
    let words = line.trim_matches('-').trim();
    ["original message", "pesan asli", "pesan awal"]
        .iter()
        .any(|w| words.eq_ignore_ascii_case(w))
}

const ATTRIBUTION_STARTS: &[&str] = &["on ", "pada "];
const ATTRIBUTION_ENDS: &[&str] = &["wrote:", "menulis:"];

/// Lines `from..=to` (trimmed, joined) read as `On <date>, <who> wrote:` or
/// `Pada <date>, <who> menulis:`. A date or an address in it tells it from prose.
fn is_attribution(lines: &[&str]) -> bool {
    let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
        return false;
    };
    ATTRIBUTION_STARTS
        .iter()
        .any(|s| starts_with_ignore_case(first, s))
        && ATTRIBUTION_ENDS
            .iter()
            .any(|e| ends_with_ignore_case(last, e))
        && lines
            .iter()
            .any(|l| l.contains('@') || l.bytes().any(|b| b.is_ascii_digit()))
        && lines.iter().map(|l| l.len()).sum::<usize>() < 400
}

/// An Outlook header field line (`From:`, `*Sent:*`, `Dari:`…) whose label is one of `labels`.
fn is_header_line(line: &str, labels: &[&str]) -> bool {
    let line = line.trim_start_matches(['*', ' ']);
    labels.iter().any(|l| starts_with_ignore_case(line, l))
}

const FROM_LABELS: &[&str] = &["from:", "dari:"];
const SENT_LABELS: &[&str] = &["sent:", "date:", "dikirim:", "terkirim:", "tanggal:"];
const TO_LABELS: &[&str] = &["to:", "kepada:", "subject:", "subjek:", "perihal:", "cc:"];

/// Whether the lines from `at` on open an Outlook-style header block (`From:` then `Sent:` or
/// `Date:` and `To:` or `Subject:` within the next few lines).
fn opens_header_block(lines: &[&str], at: usize) -> bool {
    let Some(first) = lines.get(at) else {
        return false;
    };
    if !is_header_line(first, FROM_LABELS) {
        return false;
    }
    let next: Vec<&str> = lines
        .iter()
        .skip(at + 1)
        .filter(|l| !l.is_empty())
        .take(6)
        .copied()
        .collect();
    next.iter().any(|l| is_header_line(l, SENT_LABELS))
        && next.iter().any(|l| is_header_line(l, TO_LABELS))
}

fn is_rule_line(line: &str) -> bool {
    line.len() >= 8 && line.bytes().all(|b| b == b'_')
}

fn is_quoted(line: &str) -> bool {
    line.starts_with('>')
}

/// The reply's own text: what stands above the first reply marker, quoted history,
/// attribution line (`On … wrote:`, `Pada … menulis:`), Outlook header block, trailing block
/// of `>` quotes or signature separator (`-- `), with trailing white space trimmed. When
/// cutting would leave nothing, the whole text (trimmed at the end) is kept.
pub fn reply_text(text: &str) -> &str {
    let mut starts = Vec::new();
    let mut lines = Vec::new();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        starts.push(offset);
        offset += raw.len();
        lines.push(raw.trim_end_matches(['\n', '\r']));
    }
    let trimmed: Vec<&str> = lines.iter().map(|l| l.trim()).collect();

    let mut cut = None;
    for (i, line) in lines.iter().enumerate() {
        let t = trimmed.get(i).copied().unwrap_or_default();
        let found =
            if t.contains(REPLY_MARKER) || is_original_message_line(t) || line.trim_end() == "--" {
                Some(i)
            } else if opens_header_block(&trimmed, i) {
                // Outlook draws a rule of underscores above the block.
                let above = (0..i)
                    .rev()
                    .find(|&j| trimmed.get(j).is_some_and(|l| !l.is_empty()));
                match above {
                    Some(j) if trimmed.get(j).is_some_and(|l| is_rule_line(l)) => Some(j),
                    _ => Some(i),
                }
            } else {
                // Gmail wraps a long attribution over two or three lines.
                (1..=3).find_map(|n| {
                    let group = trimmed.get(i..i + n)?;
                    let inner_ok = group.iter().all(|l| !l.is_empty() && !is_quoted(l))
                        && group
                            .iter()
                            .take(n - 1)
                            .all(|l| !ATTRIBUTION_ENDS.iter().any(|e| ends_with_ignore_case(l, e)));
                    (inner_ok && is_attribution(group)).then_some(i)
                })
            };
        if found.is_some() {
            cut = found;
            break;
        }
    }

    // A block of `>` quotes (with blank lines between) that runs to the end of the text.
    let mut quoted_from = None;
    for (i, t) in trimmed.iter().enumerate().rev() {
        if is_quoted(t) {
            quoted_from = Some(i);
        } else if !t.is_empty() {
            break;
        }
    }
    let cut = match (cut, quoted_from) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };

    let whole = text.trim_end();
    let Some(line) = cut else {
        return whole;
    };
    let kept = starts
        .get(line)
        .and_then(|&at| text.get(..at))
        .map_or(whole, str::trim_end);
    if kept.trim().is_empty() { whole } else { kept }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PREFIXES: &[&str] = &["INC", "REQ", "RITM", "SCTASK", "PRB", "CHG", "KB"];

    fn from(email: &str) -> Inbound {
        Inbound {
            from: Some(Address {
                email: email.to_owned(),
                name: None,
            }),
            ..Inbound::default()
        }
    }

    #[test]
    fn a_person_writing_is_not_machine_made() {
        let mut m = from("siti@example.co.id");
        assert_eq!(m.auto_reason(), None);
        m.auto_submitted = Some("no".to_owned());
        assert_eq!(m.auto_reason(), None);
        m.auto_submitted = Some(" No ; reason=whatever".to_owned());
        assert_eq!(m.auto_reason(), None);
        m.auto_submitted = Some("no (a comment)".to_owned());
        assert_eq!(m.auto_reason(), None);
        m.precedence = Some("first-class".to_owned());
        m.return_path = Some("siti@example.co.id".to_owned());
        assert_eq!(m.auto_reason(), None);
    }

    #[test]
    fn auto_submitted_other_than_no_is_machine_made() {
        for value in [
            "auto-replied",
            "Auto-Generated",
            "auto-notified; owner-email=\"x@y\"",
            "yes",
        ] {
            let mut m = from("siti@example.co.id");
            m.auto_submitted = Some(value.to_owned());
            assert_eq!(
                m.auto_reason(),
                Some(AutoReason::AutoSubmitted(value.to_owned()))
            );
        }
    }

    #[test]
    fn precedence_list_id_and_empty_return_path_are_machine_made() {
        for value in ["bulk", "JUNK", "list", " Bulk (newsletter)"] {
            let mut m = from("siti@example.co.id");
            m.precedence = Some(value.to_owned());
            assert_eq!(
                m.auto_reason(),
                Some(AutoReason::Precedence(value.to_owned()))
            );
        }
        let mut m = from("siti@example.co.id");
        m.list_id = Some("<it.example.co.id>".to_owned());
        assert_eq!(m.auto_reason(), Some(AutoReason::List));
        let mut m = from("siti@example.co.id");
        m.return_path = Some(String::new());
        assert_eq!(m.auto_reason(), Some(AutoReason::EmptyReturnPath));
        m.return_path = Some("<>".to_owned());
        assert_eq!(m.auto_reason(), Some(AutoReason::EmptyReturnPath));
    }

    #[test]
    fn daemon_senders_are_machine_made() {
        for email in [
            "mailer-daemon@mx.example.com",
            "MAILER-DAEMON@example.com",
            "postmaster@example.com",
            "noreply@github.com",
            "no-reply@accounts.google.com",
            "do-not-reply@bank.co.id",
            "donotreply@example.com",
            "bounces+12345-abcd=x.com@em.example.com",
            "bounce-77@mail.example.com",
            "noreply-dmarc-support@google.com",
        ] {
            assert_eq!(
                from(email).auto_reason(),
                Some(AutoReason::Daemon(email.to_owned())),
                "{email}"
            );
        }
        for email in [
            "norbert@example.com",
            "bouncer@example.com",
            "post@example.com",
            "replyto@example.com",
            "siti.noreply@example.com",
        ] {
            assert_eq!(from(email).auto_reason(), None, "{email}");
        }
    }

    #[test]
    fn loop_first_then_report_then_the_rest() {
        let mut m = from("mailer-daemon@example.com");
        m.auto_submitted = Some("auto-replied".to_owned());
        m.report = Some(DeliveryReport {
            original_message_id: None,
            recipients: Vec::new(),
        });
        m.sigap_loop = Some("sigap.example.com".to_owned());
        assert_eq!(
            m.auto_reason(),
            Some(AutoReason::Loop("sigap.example.com".to_owned()))
        );
        m.sigap_loop = None;
        assert_eq!(m.auto_reason(), Some(AutoReason::DeliveryReport));
        m.report = None;
        assert_eq!(
            m.auto_reason(),
            Some(AutoReason::AutoSubmitted("auto-replied".to_owned()))
        );
        m.auto_submitted = None;
        assert_eq!(
            m.auto_reason(),
            Some(AutoReason::Daemon("mailer-daemon@example.com".to_owned()))
        );
    }

    #[test]
    fn task_numbers_are_found_in_brackets() {
        let find = |s: &str| task_number_in_subject(s, PREFIXES);
        assert_eq!(
            find("[INC0000123] Printer jammed"),
            Some("INC0000123".into())
        );
        assert_eq!(
            find("Re: Fwd: AW: Balas: Printer jammed [inc0000123]"),
            Some("INC0000123".into())
        );
        assert_eq!(find("RE: [SCTASK0001] done"), Some("SCTASK0001".into()));
        assert_eq!(find("[Kb42]"), Some("KB42".into()));
        // The last one counts.
        assert_eq!(
            find("Re: [REQ0000010] was [INC0000001] now [CHG0000002]"),
            Some("CHG0000002".into())
        );
        assert_eq!(
            find("[INC0000001] see [FOO0000002]"),
            Some("INC0000001".into())
        );
        // Not tags.
        for s in [
            "INC0000123 without brackets",
            "[INC] no digits",
            "[0000123] no prefix",
            "[INC 0000123] space",
            "[INC0000123 unclosed",
            "[TASK0000123] unknown prefix",
            "[XINC0000123] longer prefix",
            "[INC0000123x]",
            "[INC١٢٣] arabic digits",
            "",
            "[[[[",
        ] {
            assert_eq!(find(s), None, "{s}");
        }
        assert_eq!(find("[[INC0000123]]"), Some("INC0000123".into()));
        assert_eq!(find("Ünïcödé [PRB0000009] ✓"), Some("PRB0000009".into()));
    }

    #[test]
    fn reply_prefixes_are_stripped() {
        for (subject, want) in [
            ("Re: Printer jammed", "Printer jammed"),
            ("RE: FW: Printer jammed", "Printer jammed"),
            ("Fwd: Re: Re: Printer jammed ", "Printer jammed"),
            ("AW: WG: Drucker", "Drucker"),
            ("SV: Skrivare", "Skrivare"),
            ("Balas: Bls: TRS: Printer macet", "Printer macet"),
            ("Re[2]: Re(3): Printer", "Printer"),
            ("RE : Imprimante", "Imprimante"),
            ("Tr: Imprimante", "Imprimante"),
            ("回复：打印机", "打印机"),
            ("Re: [INC0000123] Printer", "[INC0000123] Printer"),
            ("Printer jammed", "Printer jammed"),
            ("Regarding: printer", "Regarding: printer"),
            ("Re printer", "Re printer"),
            ("Re[x]: printer", "Re[x]: printer"),
            ("Re:", ""),
            ("", ""),
        ] {
            assert_eq!(strip_reply_prefixes(subject), want, "{subject}");
        }
    }

    #[test]
    fn reply_text_cuts_at_sigaps_marker() {
        let text = format!(
            "Sudah saya coba, masih error.\r\n\r\n{REPLY_MARKER}\r\nHalo Siti,\r\nTiket INC0000123 telah dibuat.\r\n"
        );
        assert_eq!(reply_text(&text), "Sudah saya coba, masih error.");
        let quoted = format!("Works now, thanks!\n\n> {REPLY_MARKER}\n> Hello\n");
        assert_eq!(reply_text(&quoted), "Works now, thanks!");
    }

    #[test]
    fn reply_text_from_gmail_in_english_and_indonesian() {
        let gmail = "Thanks, that fixed it.\r\n\r\nOn Mon, 2 Dec 2024 at 09:15, Sigap Service Desk <\r\nservicedesk@example.co.id> wrote:\r\n\r\n> Hello Siti,\r\n>\r\n> Your request was resolved.\r\n>\r\n";
        assert_eq!(reply_text(gmail), "Thanks, that fixed it.");
        let one_line =
            "Thanks.\n\nOn Mon, Dec 2, 2024 at 9:15 AM Sigap <sd@example.co.id> wrote:\n> Hello\n";
        assert_eq!(reply_text(one_line), "Thanks.");
        let gmail_id = "Terima kasih, sudah bisa.\n\nPada tanggal Sen, 2 Des 2024 pukul 09.15 Sigap Service Desk <\nservicedesk@example.co.id> menulis:\n\n> Halo Siti,\n> Permintaan Anda sudah selesai.\n";
        assert_eq!(reply_text(gmail_id), "Terima kasih, sudah bisa.");
        let gmail_id2 = "Oke.\n\nPada Sen, 2 Des 2024 pukul 09.15, Budi <budi@example.co.id> menulis:\n> Halo\n";
        assert_eq!(reply_text(gmail_id2), "Oke.");
    }

    #[test]
    fn reply_text_from_outlook_in_english_and_indonesian() {
        let outlook = "Hi team,\r\n\r\nStill broken after the restart.\r\n\r\nRegards,\r\nBudi\r\n\r\n________________________________\r\nFrom: Sigap Service Desk <servicedesk@example.co.id>\r\nSent: Monday, December 2, 2024 9:15 AM\r\nTo: Budi Santoso <budi@example.co.id>\r\nSubject: [INC0000123] Printer jammed\r\n\r\nHello Budi,\r\n";
        assert_eq!(
            reply_text(outlook),
            "Hi team,\r\n\r\nStill broken after the restart.\r\n\r\nRegards,\r\nBudi"
        );
        let outlook_id = "Masih belum bisa.\r\n\r\nDari: Sigap Service Desk <servicedesk@example.co.id>\r\nDikirim: Senin, 02 Desember 2024 09.15\r\nKepada: Budi <budi@example.co.id>\r\nSubjek: [INC0000123] Printer macet\r\n\r\nHalo Budi,\r\n";
        assert_eq!(reply_text(outlook_id), "Masih belum bisa.");
        let old_outlook =
            "See below.\n\n-----Original Message-----\nFrom: Sigap\nSent: Monday\nTo: Budi\n";
        assert_eq!(reply_text(old_outlook), "See below.");
        let pesan_asli = "Lihat di bawah.\n\n-----Pesan Asli-----\nDari: Sigap\n";
        assert_eq!(reply_text(pesan_asli), "Lihat di bawah.");
        // Outlook's headers in bold, as Gmail renders an HTML reply to text.
        let bold =
            "Done.\n\n*From:* Sigap <sd@example.co.id>\n*Sent:* Monday\n*To:* Budi\n*Subject:* x\n";
        assert_eq!(reply_text(bold), "Done.");
    }

    #[test]
    fn reply_text_from_thunderbird_and_apple_mail() {
        let thunderbird = "It works again.\n\nOn 02/12/2024 09:15, Sigap Service Desk wrote:\n> Hello,\n>\n> your ticket was updated.\n";
        assert_eq!(reply_text(thunderbird), "It works again.");
        let apple = "Yes, please close it.\n\nSent from my iPad\n\n> On 2 Dec 2024, at 09:15, Sigap Service Desk <servicedesk@example.co.id> wrote:\n> \n> Hello\n";
        assert_eq!(
            reply_text(apple),
            "Yes, please close it.\n\nSent from my iPad"
        );
        let apple_unquoted =
            "Yes.\n\nOn 2 Dec 2024, at 09:15, Sigap <sd@example.co.id> wrote:\n\n\u{a0}\n> Hello\n";
        assert_eq!(reply_text(apple_unquoted), "Yes.");
    }

    #[test]
    fn reply_text_cuts_at_signatures_and_trailing_quotes_only() {
        let sig = "Restarted the spooler.\n\n-- \nBudi Santoso\nIT Support\n";
        assert_eq!(reply_text(sig), "Restarted the spooler.");
        let trailing = "Agreed.\n\n> earlier text\n> more\n\n>\n";
        assert_eq!(reply_text(trailing), "Agreed.");
        // Answers between quotes stay, only the trailing quoted block goes.
        let inline = "> Is it plugged in?\nYes.\n> Which floor?\nThird.\n";
        assert_eq!(reply_text(inline), inline.trim_end());
        let inline_tail = "> Is it plugged in?\nYes.\n> thanks\n";
        assert_eq!(reply_text(inline_tail), "> Is it plugged in?\nYes.");
        // Prose that merely looks like an attribution is not cut.
        let prose = "On Monday I wrote:\nthe printer is broken\n";
        assert_eq!(reply_text(prose), prose.trim_end());
        let plain = "Just text.  \n\n";
        assert_eq!(reply_text(plain), "Just text.");
        // A forwarded message is not a reply marker.
        let forward = "FYI\n\n---------- Forwarded message ---------\nText\n";
        assert_eq!(reply_text(forward), forward.trim_end());
    }

    #[test]
    fn reply_text_keeps_everything_when_cutting_leaves_nothing() {
        let only_quote = "> quoted\n> more\n";
        assert_eq!(reply_text(only_quote), "> quoted\n> more");
        let marker_first = format!("{REPLY_MARKER}\nHello\n");
        assert_eq!(reply_text(&marker_first), marker_first.trim_end());
        assert_eq!(reply_text(""), "");
        assert_eq!(reply_text("  \n "), "");
    }

    fn reply_prefix() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("Re: ".to_owned()),
            Just("RE:".to_owned()),
            Just("Fwd: ".to_owned()),
            Just("FW: ".to_owned()),
            Just("AW: ".to_owned()),
            Just("Balas: ".to_owned()),
            Just("BLS: ".to_owned()),
            (1u8..20).prop_map(|n| format!("Re[{n}]: ")),
        ]
    }

    proptest! {
        #[test]
        fn rules_never_panic_and_cut_prefixes(text in "\\PC*[\r\n>\\-: ]*\\PC*") {
            let reply = reply_text(&text);
            prop_assert!(text.starts_with(reply));
            prop_assert_eq!(reply.trim().is_empty(), text.trim().is_empty());
            let stripped = strip_reply_prefixes(&text);
            prop_assert!(text.contains(stripped));
            let _ = task_number_in_subject(&text, PREFIXES);
        }

        #[test]
        fn prefixes_strip_to_the_same_subject(
            prefixes in proptest::collection::vec(reply_prefix(), 0..6),
            subject in "[A-Za-z0-9 \\[\\]]{0,40}",
        ) {
            let full = format!("{}{subject}", prefixes.concat());
            prop_assert_eq!(strip_reply_prefixes(&full), strip_reply_prefixes(&subject));
        }

        #[test]
        fn a_tagged_number_is_always_found(
            kind in proptest::sample::select(PREFIXES),
            number in 0u64..10_000_000,
            lower in any::<bool>(),
            before in "[^\\[]{0,30}",
            after in "[^\\[]{0,30}",
        ) {
            let tag = format!("{kind}{number:07}");
            let shown = if lower { tag.to_ascii_lowercase() } else { tag.clone() };
            let subject = format!("{before}[{shown}]{after}");
            prop_assert_eq!(task_number_in_subject(&subject, PREFIXES), Some(tag));
        }
    }
}
