//! The words of a report's table and chart in the reader's language (the core's, from the
//! page's translator).

use crate::i18n::Tr;
use sigap_core::reports::table::I18nWords;

/// A report's words in the language of a page's or a request's translator.
pub fn report_words(t: Tr<'_>) -> I18nWords<'_> {
    I18nWords {
        i18n: t.i18n,
        locale: t.locale,
    }
}
