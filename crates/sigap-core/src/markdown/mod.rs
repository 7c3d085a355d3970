//! Knowledge articles' Markdown: safe HTML rendering, plain text for search and line diffs
//! between versions.
//!
//! Rendering has two layers of defence. The Markdown parser turns any raw HTML of the source
//! into escaped text, so an author cannot write markup; then an HTML sanitizer with an
//! explicit allow-list checks what the renderer produced: elements, attributes, URL schemes
//! and classes, dropping anything else.

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::LazyLock;

/// Renders an article's Markdown to HTML that is safe to insert in a page.
pub fn render(source: &str) -> String {
    let events = Parser::new_ext(source, parser_options()).map(neutralize);
    let mut html = String::with_capacity(source.len() + source.len() / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    sanitize(&alignment_to_class(&html))
}

/// The text of a Markdown source without markup, whitespace collapsed (for search and summaries).
pub fn plain_text(source: &str) -> String {
    let mut text = String::with_capacity(source.len());
    for event in Parser::new_ext(source, parser_options()) {
        match event {
            Event::Text(t)
            | Event::Code(t)
            | Event::Html(t)
            | Event::InlineHtml(t)
            | Event::InlineMath(t)
            | Event::DisplayMath(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::Rule | Event::End(_) => text.push(' '),
            Event::Start(_) | Event::FootnoteReference(_) | Event::TaskListMarker(_) => {}
        }
        // Cells, items and blocks end with an `End` event: a space keeps their words apart.
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a line of a diff is: unchanged, only in the new text or only in the old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffOp {
    /// The line is in both texts.
    Same,
    /// The line is only in the new text.
    Added,
    /// The line is only in the old text.
    Removed,
}

/// One line of a diff, with where it stands in each text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// Whether the line is kept, added or removed.
    pub op: DiffOp,
    /// 1-based line in the old text
    pub old: Option<usize>,
    /// 1-based line in the new text
    pub new: Option<usize>,
    /// The line's text, without its line ending.
    pub text: String,
}

/// A line diff of two texts (for comparing article versions).
///
/// Line endings do not count: `\r\n` compares equal to `\n` (browsers send a form's text
/// with `\r\n`), and a missing newline at the end is no change.
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    let (old, new) = (normalize_lines(old), normalize_lines(new));
    let diff = similar::TextDiff::configure()
        // Past this the diff is approximated rather than stalling a request.
        .timeout(std::time::Duration::from_secs(2))
        .diff_lines(old.as_ref(), new.as_ref());
    diff.iter_all_changes()
        .map(|change| DiffLine {
            op: match change.tag() {
                similar::ChangeTag::Equal => DiffOp::Same,
                similar::ChangeTag::Insert => DiffOp::Added,
                similar::ChangeTag::Delete => DiffOp::Removed,
            },
            old: change.old_index().map(|i| i + 1),
            new: change.new_index().map(|i| i + 1),
            text: trim_line_end(change.value()).to_owned(),
        })
        .collect()
}

/// `\n` line endings, and one after the last line.
fn normalize_lines(text: &str) -> Cow<'_, str> {
    let mut text = if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(text)
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.to_mut().push('\n');
    }
    text
}

fn trim_line_end(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// Tables, strikethrough and footnotes; no heading attributes (they would let authors set
/// ids and classes), no task lists (they emit `<input>`), no math, no GFM alerts.
fn parser_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES
}

/// First layer: raw HTML becomes text that shows literally, and footnote labels become
/// `fn-` ids of safe characters.
fn neutralize(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        Event::FootnoteReference(label) => Event::FootnoteReference(footnote_id(&label).into()),
        Event::Start(Tag::FootnoteDefinition(label)) => {
            Event::Start(Tag::FootnoteDefinition(footnote_id(&label).into()))
        }
        // Not enabled, but should they ever come: text, never markup.
        Event::InlineMath(t) | Event::DisplayMath(t) => Event::Text(t),
        Event::TaskListMarker(done) => Event::Text(if done { "[x] " } else { "[ ] " }.into()),
        other => other,
    }
}

/// `fn-` then the label lower-cased, ASCII letters and digits kept and every other byte
/// written `_XX` (so distinct labels stay distinct).
fn footnote_id(label: &str) -> String {
    let mut id = String::from("fn-");
    for byte in label.to_lowercase().bytes() {
        if byte.is_ascii_alphanumeric() {
            id.push(char::from(byte));
        } else {
            let _ = write!(id, "_{byte:02X}");
        }
    }
    id
}

/// The renderer aligns table cells with inline styles, which the site's CSP forbids: turn
/// them into classes. The exact strings only come from the renderer, since it escapes `>`
/// in text and `"` in attributes.
fn alignment_to_class(html: &str) -> String {
    if !html.contains(" style=\"text-align: ") {
        return html.to_owned();
    }
    html.replace(" style=\"text-align: left\">", " class=\"align-left\">")
        .replace(" style=\"text-align: center\">", " class=\"align-center\">")
        .replace(" style=\"text-align: right\">", " class=\"align-right\">")
}

/// Second layer: the allow-list sanitizer.
fn sanitize(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "em",
        "strong",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "sup",
        "section",
        "div",
    ]
    .into_iter()
    .collect();
    // Dropped with everything inside them, not just unwrapped.
    let clean_content: HashSet<&str> = [
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "svg",
        "math",
        "template",
        "noscript",
        "noembed",
        "noframes",
        "form",
        "input",
        "button",
        "select",
        "textarea",
        "option",
        "title",
        "xmp",
        "plaintext",
        "base",
        "meta",
        "link",
        "head",
        "audio",
        "video",
        "canvas",
        "portal",
    ]
    .into_iter()
    .collect();
    let tag_attributes: HashMap<&str, HashSet<&str>> = [
        ("a", &["href", "title"][..]),
        ("img", &["src", "alt", "title"]),
        ("ol", &["start"]),
        ("code", &["class"]),
        ("td", &["class"]),
        ("th", &["class"]),
        ("sup", &["class"]),
        ("div", &["class", "id"]),
    ]
    .into_iter()
    .map(|(tag, attrs)| (tag, attrs.iter().copied().collect()))
    .collect();
    let mut builder = Builder::empty();
    builder
        .tags(tags)
        .clean_content_tags(clean_content)
        .tag_attributes(tag_attributes)
        .tag_attribute_values(HashMap::new())
        .set_tag_attribute_values(HashMap::new())
        .generic_attributes(HashSet::new())
        .generic_attribute_prefixes(HashSet::new())
        .allowed_classes(HashMap::new())
        // The sanitizer's own scheme check; `attribute_filter` narrows it per attribute.
        .url_schemes(["http", "https", "mailto", "data"].into_iter().collect())
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer nofollow"))
        .id_prefix(None)
        .strip_comments(true)
        .attribute_filter(filter_attribute);
    builder
});

/// The values each kept attribute may have; `None` drops the attribute.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    let keep = match (element, attribute) {
        ("a", "href") => matches!(
            url_scheme(value),
            Some(UrlScheme::Relative | UrlScheme::Web | UrlScheme::Mailto)
        ),
        ("img", "src") => match url_scheme(value) {
            Some(UrlScheme::Relative | UrlScheme::Web) => true,
            Some(UrlScheme::Data) => is_data_image(value),
            _ => false,
        },
        ("a" | "img", "title") | ("img", "alt") => true,
        // ammonia adds `rel` itself, after this filter has seen the others.
        ("a", "rel") => value == "noopener noreferrer nofollow",
        ("ol", "start") => !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()),
        ("code", "class") => value.strip_prefix("language-").is_some_and(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-'))
        }),
        ("td" | "th", "class") => matches!(value, "align-left" | "align-center" | "align-right"),
        ("sup", "class") => matches!(value, "footnote-reference" | "footnote-definition-label"),
        ("div", "class") => value == "footnote-definition",
        ("div", "id") => value.strip_prefix("fn-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }),
        _ => false,
    };
    keep.then_some(Cow::Borrowed(value))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlScheme {
    /// No scheme: a path, a query or an `#anchor` (also `//host`, which stays on http(s)).
    Relative,
    /// http or https.
    Web,
    Mailto,
    Data,
}

/// The scheme of an attribute value (entities already decoded), read the way a browser
/// does: whitespace and control characters anywhere are ignored and case does not matter.
/// `None` for any other scheme, or for something that is not a well-formed one.
fn url_scheme(value: &str) -> Option<UrlScheme> {
    let squeezed: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect();
    let end = squeezed.find([':', '/', '?', '#', '\\']);
    let Some(end) = end.filter(|&i| squeezed[i..].starts_with(':')) else {
        return Some(UrlScheme::Relative);
    };
    match &squeezed[..end] {
        "http" | "https" => Some(UrlScheme::Web),
        "mailto" => Some(UrlScheme::Mailto),
        "data" => Some(UrlScheme::Data),
        _ => None,
    }
}

/// `data:image/(png|gif|jpeg|webp);base64,` and base64 only: no SVG, no other media type.
fn is_data_image(value: &str) -> bool {
    let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
    let Some((head, payload)) = value.split_once(',') else {
        return false;
    };
    let head = head.to_ascii_lowercase();
    matches!(
        head.as_str(),
        "data:image/png;base64"
            | "data:image/gif;base64"
            | "data:image/jpeg;base64"
            | "data:image/webp;base64"
    ) && payload.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace()
    })
}

#[cfg(test)]
mod tests;
