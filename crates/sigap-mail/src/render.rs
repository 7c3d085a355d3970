//! The words of a mail: a subject and a text from a template (the administrators' for its
//! kind and language, else the built-in one), with the texts of the locale files handed in
//! as variables; the HTML part is made from the text.

use fluent_bundle::FluentArgs;
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Value, json};
use sigap_core::FieldError;
use sigap_core::i18n::{I18n, NOTIFICATIONS};
use sigap_domain::Locale;
use sigap_domain::mail::REPLY_MARKER;

const SOURCES: [(Locale, &str); 2] = [
    (Locale::En, include_str!("../locales/mail.en.ftl")),
    (Locale::Id, include_str!("../locales/mail.id.ftl")),
];

pub use sigap_core::mail::{BUILT_IN_BODY, BUILT_IN_SUBJECT};

/// How much work one rendering may do (a mail's template needs a few hundred).
const FUEL: u64 = 50_000;

/// What a mail is made of, before its words are chosen.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The template's kind: acknowledge, unknown_sender, resolved_refused or notification.
    pub kind: String,
    /// A notification's kind (`incident_assigned`…), for its headline.
    pub notification_kind: Option<String>,
    pub locale: Locale,
    pub recipient_name: String,
    pub number: Option<String>,
    pub title: String,
    /// What the notification carries (a comment, resolution notes…).
    pub body: String,
    /// Where to look (absolute).
    pub link: Option<String>,
    /// Where the person chooses their mail (absolute).
    pub preferences_link: Option<String>,
}

/// A mail's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders mail; built once.
pub struct Renderer {
    i18n: I18n,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").finish()
    }
}

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    // Keep the text's own line ends.
    env.set_keep_trailing_newline(true);
    // An administrator's template cannot loop for long: rendering stops, and the built-in
    // template is used.
    env.set_fuel(Some(FUEL));
    env
}

impl Renderer {
    pub fn new() -> Result<Self, String> {
        let mut all: Vec<(Locale, &'static str)> = SOURCES.to_vec();
        all.extend(NOTIFICATIONS);
        all.extend(sigap_core::i18n::REPORTS);
        Ok(Self {
            i18n: I18n::load(&all)?,
        })
    }

    fn t(&self, locale: Locale, id: &str, args: &[(&str, &str)]) -> String {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, (*v).to_owned());
        }
        self.i18n.text(locale, id, Some(&a))
    }

    /// The loaded texts (the mail's, the notifications' and the reports').
    pub fn i18n(&self) -> &I18n {
        &self.i18n
    }

    /// The variables a template sees.
    pub fn variables(&self, f: &Facts) -> Value {
        let l = f.locale;
        let number = f.number.clone().unwrap_or_default();
        let labelled = match &f.number {
            Some(n) => format!("{n} {}", f.title),
            None => f.title.clone(),
        };
        let (headline, subject_text) = match f.kind.as_str() {
            "acknowledge" => (
                self.t(l, "mail-acknowledge", &[("number", &number)]),
                self.t(l, "mail-acknowledge-subject", &[("title", &f.title)]),
            ),
            "unknown_sender" => (
                self.t(l, "mail-unknown-sender", &[]),
                self.t(l, "mail-unknown-sender-subject", &[("title", &f.title)]),
            ),
            "resolved_refused" => (
                self.t(l, "mail-resolved-refused", &[("number", &number)]),
                self.t(
                    l,
                    "mail-resolved-refused-subject",
                    &[("number", &number), ("title", &f.title)],
                ),
            ),
            _ => {
                let kind = f.notification_kind.as_deref().unwrap_or("");
                let id = format!("notification-{kind}");
                let headline = if self.i18n.has(l, &id) || self.i18n.has(Locale::En, &id) {
                    self.t(l, &id, &[("subject", &labelled), ("body", &f.body)])
                } else {
                    labelled.clone()
                };
                (headline, f.title.clone())
            }
        };
        let footer = match &f.number {
            Some(n) => self.t(l, "mail-footer-task", &[("number", n)]),
            None => self.t(l, "mail-footer", &[]),
        };
        let preferences = f
            .preferences_link
            .as_ref()
            .map(|p| self.t(l, "mail-preferences", &[("link", p)]));
        json!({
            "kind": f.kind,
            "notification_kind": f.notification_kind,
            "language": l.code(),
            "marker": REPLY_MARKER,
            "greeting": self.t(l, "mail-greeting", &[("name", &f.recipient_name)]),
            "recipient": f.recipient_name,
            "number": f.number,
            "title": f.title,
            "headline": headline,
            "subject_text": subject_text,
            "body": f.body,
            "link": f.link,
            "open_text": self.t(l, "mail-open", &[]),
            "footer": footer,
            "preferences": preferences,
        })
    }

    /// Renders with a template (subject, body), else the built-in one. An administrators'
    /// template that fails to render gives way to the built-in one.
    pub fn render(&self, template: Option<(&str, &str)>, f: &Facts) -> Rendered {
        let vars = self.variables(f);
        if let Some((s, b)) = template {
            if let Ok(r) = render_with(s, b, &vars) {
                return r;
            }
            tracing::warn!(kind = %f.kind, "a mail template failed to render; the built-in one is used");
        }
        match render_with(BUILT_IN_SUBJECT, BUILT_IN_BODY, &vars) {
            Ok(r) => r,
            // The built-in templates render (tested); this keeps a mail going regardless.
            Err(_) => Rendered {
                subject: f.title.clone(),
                text: f.body.clone(),
                html: html_of(&f.body),
            },
        }
    }

    /// Checks an administrators' template by rendering it with sample facts.
    pub fn check(&self, subject: &str, body: &str) -> Result<(), Vec<FieldError>> {
        let sample = Facts {
            kind: "notification".into(),
            notification_kind: Some("incident_comment".into()),
            recipient_name: "Budi".into(),
            number: Some("INC0000001".into()),
            title: "Printer".into(),
            body: "Text".into(),
            link: Some("https://sigap.example/incidents/INC0000001".into()),
            ..Default::default()
        };
        let vars = self.variables(&sample);
        let mut errs = Vec::new();
        if let Err(e) = env().render_str(subject, &vars) {
            errs.push(FieldError::new(
                "subject",
                "invalid_template",
                e.to_string(),
            ));
        }
        if let Err(e) = env().render_str(body, &vars) {
            errs.push(FieldError::new("body", "invalid_template", e.to_string()));
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

fn render_with(subject: &str, body: &str, vars: &Value) -> Result<Rendered, minijinja::Error> {
    let env = env();
    let subject = env.render_str(subject, vars)?;
    let subject: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let text = env.render_str(body, vars)?;
    let html = html_of(&text);
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A line with its web links made links (http and https only), the rest escaped.
fn linked(line: &str) -> String {
    let mut out = String::new();
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.starts_with("https://") || word.starts_with("http://") {
            let e = escape(word);
            out.push_str(&format!("<a href=\"{e}\">{e}</a>"));
        } else {
            out.push_str(&escape(word));
        }
    }
    out
}

/// The HTML part of a text: paragraphs at blank lines, line breaks kept, links made links,
/// everything else escaped.
pub fn html_of(text: &str) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family: sans-serif; line-height: 1.4\">",
    );
    for para in text.replace("\r\n", "\n").split("\n\n") {
        let para = para.trim_matches('\n');
        if para.is_empty() {
            continue;
        }
        let lines: Vec<String> = para.lines().map(linked).collect();
        html.push_str("<p>");
        html.push_str(&lines.join("<br>\n"));
        html.push_str("</p>\n");
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(locale: Locale) -> Facts {
        Facts {
            kind: "notification".into(),
            notification_kind: Some("incident_comment".into()),
            locale,
            recipient_name: "Budi".into(),
            number: Some("INC0000007".into()),
            title: "Printer <b>macet</b>".into(),
            body: "Sudah dicoba <script>x</script>?".into(),
            link: Some("https://sigap.example/portal/incidents/INC0000007".into()),
            preferences_link: None,
        }
    }

    #[test]
    fn built_in_mail_speaks_the_language_and_carries_the_number() -> Result<(), String> {
        let r = Renderer::new()?;
        let en = r.render(None, &facts(Locale::En));
        assert_eq!(en.subject, "[INC0000007] Printer <b>macet</b>");
        assert!(en.text.starts_with(REPLY_MARKER));
        assert!(
            en.text.contains("a new message from the service desk"),
            "{}",
            en.text
        );
        assert!(en.text.contains("Sudah dicoba <script>x</script>?"));
        assert!(!en.html.contains("<script>"), "{}", en.html);
        assert!(en.html.contains("&lt;script&gt;"));
        assert!(
            en.html
                .contains("<a href=\"https://sigap.example/portal/incidents/INC0000007\">")
        );
        let id = r.render(None, &facts(Locale::Id));
        assert!(id.text.contains("Halo Budi"), "{}", id.text);
        assert!(
            id.text.contains("pesan baru dari service desk"),
            "{}",
            id.text
        );
        Ok(())
    }

    #[test]
    fn every_reply_kind_has_its_words() -> Result<(), String> {
        let r = Renderer::new()?;
        for kind in ["acknowledge", "unknown_sender", "resolved_refused"] {
            for l in Locale::ALL {
                let f = Facts {
                    kind: kind.into(),
                    locale: l,
                    ..facts(l)
                };
                let out = r.render(None, &f);
                assert!(!out.text.contains("mail-"), "{kind} {l:?}: {}", out.text);
                assert!(
                    !out.subject.contains("mail-"),
                    "{kind} {l:?}: {}",
                    out.subject
                );
            }
        }
        Ok(())
    }

    #[test]
    fn administrators_templates_are_checked_and_fall_back() -> Result<(), String> {
        let r = Renderer::new()?;
        assert!(
            r.check("[{{ number }}] {{ title }}", "{{ headline }}\n{{ link }}")
                .is_ok()
        );
        let errs = r.check("{% if %}", "{{ body").err().unwrap_or_default();
        assert_eq!(errs.len(), 2);
        let f = facts(Locale::En);
        let own = r.render(
            Some(("Re {{ number }}", "Dear {{ recipient }}: {{ body }}")),
            &f,
        );
        assert_eq!(own.subject, "Re INC0000007");
        assert!(own.text.starts_with("Dear Budi: "));
        let broken = r.render(Some(("{% for %}", "x")), &f);
        assert_eq!(broken.subject, "[INC0000007] Printer <b>macet</b>");
        let endless =
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
        assert!(
            r.check("s", endless).is_err(),
            "a template that works too long is refused"
        );
        let spent = r.render(Some(("s", endless)), &f);
        assert!(
            spent.text.starts_with(REPLY_MARKER),
            "the built-in one is used"
        );
        Ok(())
    }

    #[test]
    fn both_languages_have_the_same_mail_texts() -> Result<(), String> {
        let i18n = I18n::load(&SOURCES)?;
        let mut en = i18n.ids(Locale::En);
        let mut id = i18n.ids(Locale::Id);
        en.sort();
        id.sort();
        assert_eq!(en, id);
        Ok(())
    }
}
