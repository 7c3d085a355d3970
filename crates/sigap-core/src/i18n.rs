//! Texts in people's languages: Fluent files embedded at compile time, several per
//! language. The web pages and the mail each load their own files with the ones shared
//! here (what a notification says).

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use sigap_domain::Locale;
use std::collections::HashMap;

/// What each kind of notification says (`notification-<kind>`).
pub const NOTIFICATIONS: [(Locale, &str); 2] = [
    (Locale::En, include_str!("../locales/notifications.en.ftl")),
    (Locale::Id, include_str!("../locales/notifications.id.ftl")),
];

/// The words of reports: states, priorities, contact types, groupings and measures
/// (`reports::table::I18nWords`).
pub const REPORTS: [(Locale, &str); 2] = [
    (Locale::En, include_str!("../locales/reports.en.ftl")),
    (Locale::Id, include_str!("../locales/reports.id.ftl")),
];

/// Loaded texts, by language.
pub struct I18n {
    bundles: HashMap<Locale, FluentBundle<FluentResource>>,
    sources: Vec<(Locale, &'static str)>,
}

impl std::fmt::Debug for I18n {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("I18n")
            .field("languages", &self.bundles.len())
            .finish()
    }
}

impl I18n {
    /// Parses the files; an error names the broken language and message.
    pub fn load(sources: &[(Locale, &'static str)]) -> Result<Self, String> {
        let mut bundles: HashMap<Locale, FluentBundle<FluentResource>> = HashMap::new();
        for (locale, source) in sources {
            let resource = FluentResource::try_new((*source).to_owned())
                .map_err(|(_, errs)| format!("locale {}: {errs:?}", locale.code()))?;
            let bundle = match bundles.entry(*locale) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let lang = locale
                        .code()
                        .parse()
                        .map_err(|e| format!("locale {}: {e}", locale.code()))?;
                    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
                    bundle.set_use_isolating(false);
                    v.insert(bundle)
                }
            };
            bundle
                .add_resource(resource)
                .map_err(|errs| format!("locale {}: {errs:?}", locale.code()))?;
        }
        Ok(Self {
            bundles,
            sources: sources.to_vec(),
        })
    }

    /// The message `id` in `locale`, falling back to English and then to the id itself.
    pub fn text(&self, locale: Locale, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        for l in [locale, Locale::En] {
            if let Some(bundle) = self.bundles.get(&l) {
                if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                    let mut errors = Vec::new();
                    return bundle
                        .format_pattern(pattern, args, &mut errors)
                        .into_owned();
                }
            }
        }
        id.to_owned()
    }

    /// Whether a language has the message.
    pub fn has(&self, locale: Locale, id: &str) -> bool {
        self.bundles
            .get(&locale)
            .is_some_and(|b| b.get_message(id).is_some())
    }

    /// Every message id of a language, for the completeness tests.
    pub fn ids(&self, locale: Locale) -> Vec<String> {
        self.sources
            .iter()
            .filter(|(l, _)| *l == locale)
            .flat_map(|(_, s)| s.lines())
            .filter(|l| !l.starts_with([' ', '#', '\t', '.']) && l.contains(" ="))
            .filter_map(|l| l.split(" =").next().map(str::to_owned))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_said_in_both_languages() -> Result<(), String> {
        let i18n = I18n::load(&NOTIFICATIONS)?;
        let mut en = i18n.ids(Locale::En);
        let mut id = i18n.ids(Locale::Id);
        en.sort();
        id.sort();
        assert_eq!(en, id);
        assert!(en.iter().all(|k| k.starts_with("notification-")));
        let mut args = FluentArgs::new();
        args.set("subject", "INC0000001 Printer");
        args.set("body", "");
        let text = i18n.text(Locale::Id, "notification-incident_assigned", Some(&args));
        assert!(text.contains("INC0000001 Printer"), "{text}");
        Ok(())
    }
}
