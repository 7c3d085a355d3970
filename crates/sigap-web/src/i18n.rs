//! Interface language: Fluent files embedded at compile time, one per language.

use fluent_bundle::{FluentArgs, FluentValue};
pub use sigap_core::i18n::I18n;
use sigap_domain::Locale;
use std::borrow::Cow;

const SOURCES: [(Locale, &str); 2] = [
    (Locale::En, include_str!("../locales/en.ftl")),
    (Locale::Id, include_str!("../locales/id.ftl")),
];

/// The pages' texts with the notifications' (shared with the mail).
pub fn load() -> Result<I18n, String> {
    let mut all: Vec<(Locale, &'static str)> = SOURCES.to_vec();
    all.extend(sigap_core::i18n::NOTIFICATIONS);
    all.extend(sigap_core::i18n::REPORTS);
    I18n::load(&all)
}

/// A translator bound to one language, handed to templates as `t`.
#[derive(Clone, Copy)]
pub struct Tr<'a> {
    pub i18n: &'a I18n,
    pub locale: Locale,
}

impl<'a> Tr<'a> {
    pub fn get(&self, id: &str) -> String {
        self.i18n.text(self.locale, id, None)
    }

    /// A message with one named argument.
    pub fn arg(&self, id: &str, name: &str, value: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(
            Cow::Owned(name.to_owned()),
            FluentValue::from(value.to_owned()),
        );
        self.i18n.text(self.locale, id, Some(&args))
    }

    /// A message with a number (for plurals).
    pub fn num(&self, id: &str, name: &str, value: impl AsNumber) -> String {
        let mut args = FluentArgs::new();
        args.set(
            Cow::Owned(name.to_owned()),
            FluentValue::from(value.as_i64()),
        );
        self.i18n.text(self.locale, id, Some(&args))
    }

    pub fn lang(&self) -> &'static str {
        self.locale.code()
    }
}

/// A whole number as templates hand it over (by value or by reference).
pub trait AsNumber {
    fn as_i64(&self) -> i64;
}

impl AsNumber for i64 {
    fn as_i64(&self) -> i64 {
        *self
    }
}

impl AsNumber for u32 {
    fn as_i64(&self) -> i64 {
        i64::from(*self)
    }
}

impl AsNumber for i32 {
    fn as_i64(&self) -> i64 {
        i64::from(*self)
    }
}

impl AsNumber for usize {
    fn as_i64(&self) -> i64 {
        i64::try_from(*self).unwrap_or(i64::MAX)
    }
}

impl<T: AsNumber> AsNumber for &T {
    fn as_i64(&self) -> i64 {
        (**self).as_i64()
    }
}

/// Picks a language from `Accept-Language`: the first of ours by quality, else English.
pub fn negotiate(accept_language: Option<&str>) -> Locale {
    let Some(header) = accept_language else {
        return Locale::En;
    };
    let mut best: Option<(f32, Locale)> = None;
    for part in header.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        let locale = match primary {
            "en" => Locale::En,
            "id" | "in" => Locale::Id,
            _ => continue,
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, locale));
        }
    }
    best.map_or(Locale::En, |(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_messages() -> Result<(), String> {
        let i18n = load()?;
        let mut en = i18n.ids(Locale::En);
        let mut id = i18n.ids(Locale::Id);
        en.sort();
        id.sort();
        let missing: Vec<_> = en.iter().filter(|k| !id.contains(k)).collect();
        let extra: Vec<_> = id.iter().filter(|k| !en.contains(k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing in id: {missing:?}; only in id: {extra:?}"
        );
        assert!(en.len() > 50);
        Ok(())
    }

    /// Every message named literally in a template or the code exists in English (and so,
    /// by the test above, in Indonesian).
    #[test]
    fn every_message_used_exists() -> Result<(), String> {
        let i18n = load()?;
        let known = i18n.ids(Locale::En);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("templates"), root.join("src")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).map_err(|e| e.to_string())? {
                let p = e.map_err(|e| e.to_string())?.path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        let mut missing = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| e.to_string())?;
            for call in ["t.get(\"", ".arg(\"", ".num(\""] {
                let pieces: Vec<&str> = text.split(call).collect();
                for (k, part) in pieces.iter().enumerate().skip(1) {
                    // `t.get(` of a translator (`chrome.t`, `tt`), not of `draft` or `form`.
                    let before = pieces[k - 1].chars().last();
                    if call == "t.get(\""
                        && before.is_some_and(|c| (c.is_alphanumeric() || c == '_') && c != 't')
                    {
                        continue;
                    }
                    let key: String = part
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect();
                    if !key.is_empty()
                        && part[key.len()..].starts_with('"')
                        && !known.contains(&key)
                    {
                        missing.push(format!("{}: {key}", f.display()));
                    }
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "messages missing from en.ftl: {missing:#?}"
        );
        Ok(())
    }

    #[test]
    fn accept_language_is_negotiated() {
        assert_eq!(negotiate(Some("id-ID,id;q=0.9,en;q=0.8")), Locale::Id);
        assert_eq!(negotiate(Some("fr, en;q=0.5")), Locale::En);
        assert_eq!(negotiate(Some("de")), Locale::En);
        assert_eq!(negotiate(None), Locale::En);
    }
}
