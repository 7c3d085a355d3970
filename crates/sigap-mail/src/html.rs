//! HTML made plain text, for mail that carries only HTML.
//!
//! A small, forgiving, single-pass converter: it never fails and never panics, whatever the
//! input, and its work grows linearly with the input. Script, style, title and template
//! contents are dropped; block elements and `<br>` become line breaks; list items get a
//! dash or their number; quoted blocks (`<blockquote>`) get `> ` in front of their lines, so
//! reply cutting treats them like quoted plain text; links become `text (url)`; character
//! references are decoded.

/// Elements whose contents are not text to show.
const SKIPPED: &[&str] = &["script", "style", "title", "template"];

/// Elements that stand apart by a blank line.
const PARAGRAPHS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "pre",
    "hr",
    "dl",
    "blockquote",
];

/// Elements that start on a line of their own.
const LINES: &[&str] = &[
    "div",
    "tr",
    "dt",
    "dd",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "address",
    "figure",
    "figcaption",
    "form",
    "fieldset",
    "legend",
    "center",
    "caption",
    "option",
    "details",
    "summary",
    "body",
];

/// Named character references understood; others stay as written.
const ENTITIES: &[(&str, &str)] = &[
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", "\u{a0}"),
    ("ensp", " "),
    ("emsp", " "),
    ("thinsp", " "),
    ("shy", ""),
    ("zwnj", ""),
    ("zwj", ""),
    ("copy", "©"),
    ("reg", "®"),
    ("trade", "™"),
    ("hellip", "…"),
    ("mdash", "—"),
    ("ndash", "–"),
    ("lsquo", "‘"),
    ("rsquo", "’"),
    ("sbquo", "‚"),
    ("ldquo", "“"),
    ("rdquo", "”"),
    ("bdquo", "„"),
    ("laquo", "«"),
    ("raquo", "»"),
    ("bull", "•"),
    ("middot", "·"),
    ("deg", "°"),
    ("euro", "€"),
    ("pound", "£"),
    ("yen", "¥"),
    ("cent", "¢"),
    ("sect", "§"),
    ("para", "¶"),
    ("times", "×"),
    ("divide", "÷"),
    ("plusmn", "±"),
    ("frac12", "½"),
    ("frac14", "¼"),
    ("frac34", "¾"),
    ("larr", "←"),
    ("rarr", "→"),
    ("uarr", "↑"),
    ("darr", "↓"),
    ("check", "✓"),
];

/// The plain text of an HTML document or fragment.
pub fn html_to_text(html: &str) -> String {
    let mut w = Writer::with_capacity(html.len() / 2);
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'<') => {
                w.text(html.get(text_start..i).unwrap_or_default());
                i = tag(html, i, &mut w);
                text_start = i;
            }
            _ => i += 1,
        }
    }
    w.text(html.get(text_start..).unwrap_or_default());
    w.finish()
}

/// Reads the markup starting at `at` (a `<`), acts on it, and returns where text resumes.
fn tag(html: &str, at: usize, w: &mut Writer) -> usize {
    let bytes = html.as_bytes();
    let next = bytes.get(at + 1).copied();
    match next {
        Some(b'!') => {
            if bytes.get(at + 2..at + 4) == Some(b"--") {
                // A comment, conditional comments of Outlook included.
                return find(bytes, at + 4, b"-->").map_or(bytes.len(), |end| end + 3);
            }
            skip_past(bytes, at + 2, b'>')
        }
        Some(b'?') => skip_past(bytes, at + 2, b'>'),
        Some(b'/') => {
            let name_start = at + 2;
            let name_end = name_end(bytes, name_start);
            if name_end == name_start {
                // `</` followed by no name: a bogus comment up to `>`.
                return skip_past(bytes, name_start, b'>');
            }
            let name = lower(html.get(name_start..name_end).unwrap_or_default());
            w.close(&name);
            skip_past(bytes, name_end, b'>')
        }
        Some(c) if c.is_ascii_alphabetic() => {
            let name_start = at + 1;
            let name_end = name_end(bytes, name_start);
            let name = lower(html.get(name_start..name_end).unwrap_or_default());
            let (href, end) = attributes(html, name_end, name == "a");
            if SKIPPED.contains(&name.as_str()) {
                return skip_raw_text(bytes, end, name.as_bytes());
            }
            w.open(&name, href);
            end
        }
        _ => {
            // A lone `<` is text.
            w.text("<");
            at + 1
        }
    }
}

/// The end of a tag name starting at `from`.
fn name_end(bytes: &[u8], from: usize) -> usize {
    let len = bytes
        .get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b':' | b'_'))
        .count();
    from + len
}

fn lower(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The position just past the next `stop` at or after `from`, else the end.
fn skip_past(bytes: &[u8], from: usize, stop: u8) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == stop))
        .map_or(bytes.len(), |p| from + p + 1)
}

/// The position of `needle` at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = bytes.get(from..)?;
    let first = *needle.first()?;
    let mut at = 0;
    while let Some(p) = rest.get(at..)?.iter().position(|&b| b == first) {
        let candidate = at + p;
        if rest.get(candidate..candidate + needle.len()) == Some(needle) {
            return Some(from + candidate);
        }
        at = candidate + 1;
    }
    None
}

/// Skips the contents of a raw-text element up to and past its end tag (any case).
fn skip_raw_text(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut at = from;
    while let Some(open) = find(bytes, at, b"</") {
        let name_at = open + 2;
        let matches = bytes
            .get(name_at..name_at + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name));
        let boundary = bytes
            .get(name_at + name.len())
            .is_none_or(|b| !b.is_ascii_alphanumeric());
        if matches && boundary {
            return skip_past(bytes, name_at + name.len(), b'>');
        }
        at = open + 2;
    }
    bytes.len()
}

/// Reads a start tag's attributes from `from` to past its `>`; returns the `href` when
/// `want_href`, and where text resumes.
fn attributes(html: &str, from: usize, want_href: bool) -> (Option<String>, usize) {
    let bytes = html.as_bytes();
    let mut i = from;
    let mut href = None;
    loop {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            i += 1;
        }
        match bytes.get(i) {
            None => return (href, bytes.len()),
            Some(b'>') => return (href, i + 1),
            Some(_) => {}
        }
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        // A lone `/` or `=` that starts no name would stall the loop: step over it.
        if i == name_start {
            i += 1;
            continue;
        }
        let name = html.get(name_start..i).unwrap_or_default();
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        let (value, end) = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let start = i + 1;
                let stop = bytes
                    .get(start..)
                    .and_then(|rest| rest.iter().position(|&b| b == q))
                    .map_or(bytes.len(), |p| start + p);
                (html.get(start..stop).unwrap_or_default(), stop + 1)
            }
            _ => {
                let start = i;
                let len = bytes
                    .get(start..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|b| !b.is_ascii_whitespace() && **b != b'>')
                    .count();
                (
                    html.get(start..start + len).unwrap_or_default(),
                    start + len,
                )
            }
        };
        if want_href && href.is_none() && name.eq_ignore_ascii_case("href") {
            href = Some(decode_entities(value.trim()));
        }
        i = end;
    }
}

/// Decodes the character references in `text`.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp + 1..).unwrap_or_default();
        match entity(after) {
            Some((decoded, used)) => {
                out.push_str(&decoded);
                rest = after.get(used..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character reference at the start of `text` (just after `&`): what it stands for,
/// and how many bytes it used (with its `;`).
fn entity(text: &str) -> Option<(String, usize)> {
    let semi = text.get(..text.len().min(34))?.find(';')?;
    let body = text.get(..semi)?;
    let decoded = if let Some(number) = body.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                u32::from_str_radix(hex, 16).ok()
            }
            None if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => {
                number.parse::<u32>().ok()
            }
            _ => return None,
        };
        let c = code
            .filter(|&c| c != 0)
            .and_then(char::from_u32)
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        c.to_string()
    } else {
        let (_, value) = ENTITIES.iter().find(|(name, _)| *name == body)?;
        (*value).to_owned()
    };
    Some((decoded, semi + 1))
}

/// Builds the text: folds white space, places line breaks, quote marks and list marks.
struct Writer {
    out: String,
    /// Line breaks owed before the next text.
    newlines: usize,
    /// A space owed before the next text.
    space: bool,
    quote_depth: usize,
    pre_depth: usize,
    /// For each open list: `None` for bullets, `Some(n)` for the next number.
    lists: Vec<Option<u32>>,
    /// The open link: its target and where its text starts in `out`.
    link: Option<(String, usize)>,
}

impl Writer {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            newlines: 0,
            space: false,
            quote_depth: 0,
            pre_depth: 0,
            lists: Vec::new(),
            link: None,
        }
    }

    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    /// Owes at least `n` line breaks.
    fn block(&mut self, n: usize) {
        self.newlines = self.newlines.max(n);
        self.space = false;
    }

    /// Pays what is owed before writing text.
    fn settle(&mut self) {
        if self.newlines > 0 {
            if !self.out.is_empty() {
                let kept = self.out.trim_end_matches([' ', '\t']).len();
                self.out.truncate(kept);
                let have = self.out.len() - self.out.trim_end_matches('\n').len();
                for _ in have..self.newlines.min(2) {
                    self.out.push('\n');
                }
            }
            self.newlines = 0;
            self.space = false;
        }
        if self.at_line_start() {
            for _ in 0..self.quote_depth {
                self.out.push_str("> ");
            }
            self.space = false;
        } else if self.space {
            self.out.push(' ');
        }
        self.space = false;
    }

    fn text(&mut self, raw: &str) {
        if raw.is_empty() {
            return;
        }
        let decoded;
        let text = if raw.contains('&') {
            decoded = decode_entities(raw);
            decoded.as_str()
        } else {
            raw
        };
        if self.pre_depth > 0 {
            for (n, line) in text.split('\n').enumerate() {
                if n > 0 {
                    self.newlines += 1;
                }
                let line = line.trim_end_matches('\r');
                if !line.is_empty() {
                    self.settle();
                    push_clean(&mut self.out, line);
                }
            }
            return;
        }
        let mut word_start = None;
        for (at, c) in text.char_indices() {
            if c.is_ascii_whitespace() {
                if let Some(start) = word_start.take() {
                    self.word(text.get(start..at).unwrap_or_default());
                }
                self.space = true;
            } else if word_start.is_none() {
                word_start = Some(at);
            }
        }
        if let Some(start) = word_start {
            self.word(text.get(start..).unwrap_or_default());
        }
    }

    fn word(&mut self, word: &str) {
        self.settle();
        push_clean(&mut self.out, &word.replace('\u{a0}', " "));
    }

    fn open(&mut self, name: &str, href: Option<String>) {
        match name {
            "br" => {
                self.newlines += 1;
                self.space = false;
                if self.newlines == 1 && self.at_line_start() && !self.out.is_empty() {
                    // A `<br>` on an empty line makes a blank line.
                    self.newlines = 2;
                }
            }
            "td" | "th" => self.space = true,
            "li" => {
                self.block(1);
                self.settle();
                let depth = self.lists.len().saturating_sub(1);
                for _ in 0..depth {
                    self.out.push_str("  ");
                }
                match self.lists.last_mut() {
                    Some(Some(n)) => {
                        self.out.push_str(&format!("{n}. "));
                        *n = n.saturating_add(1);
                    }
                    _ => self.out.push_str("- "),
                }
            }
            "ul" | "ol" => {
                self.block(if self.lists.is_empty() { 2 } else { 1 });
                self.lists.push((name == "ol").then_some(1));
            }
            "blockquote" => {
                self.block(2);
                self.quote_depth += 1;
            }
            "pre" => {
                self.block(2);
                self.pre_depth += 1;
            }
            "a" if self.link.is_none() => {
                if let Some(href) = href {
                    self.link = Some((href, self.out.len()));
                }
            }
            _ if PARAGRAPHS.contains(&name) => self.block(2),
            _ if LINES.contains(&name) => self.block(1),
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        match name {
            "td" | "th" => self.space = true,
            "ul" | "ol" => {
                self.lists.pop();
                self.block(if self.lists.is_empty() { 2 } else { 1 });
            }
            "blockquote" => {
                self.block(2);
                self.quote_depth = self.quote_depth.saturating_sub(1);
            }
            "pre" => {
                self.block(2);
                self.pre_depth = self.pre_depth.saturating_sub(1);
            }
            "a" => {
                if let Some((href, start)) = self.link.take() {
                    let shown = self.out.get(start..).unwrap_or_default().trim();
                    let address = href.strip_prefix("mailto:").unwrap_or(&href);
                    let worth_showing = ["http://", "https://", "mailto:", "ftp://"]
                        .iter()
                        .any(|s| href.len() > s.len() && starts_with_ignore_case(&href, s))
                        && shown != href
                        && shown != address;
                    if worth_showing {
                        if shown.is_empty() {
                            self.settle();
                        } else {
                            self.out.push(' ');
                        }
                        self.out.push('(');
                        push_clean(&mut self.out, &href);
                        self.out.push(')');
                    }
                }
            }
            "li" => self.block(1),
            _ if PARAGRAPHS.contains(&name) => self.block(2),
            _ if LINES.contains(&name) => self.block(1),
            _ => {}
        }
    }

    fn finish(self) -> String {
        let mut text = String::with_capacity(self.out.len());
        let mut blank_run = 0;
        for line in self.out.split('\n') {
            let line = line.trim_end();
            if line.is_empty() {
                blank_run += 1;
                if blank_run > 1 {
                    continue;
                }
            } else {
                blank_run = 0;
            }
            text.push_str(line);
            text.push('\n');
        }
        let end = text.trim_end().len();
        text.truncate(end);
        let start = text.len() - text.trim_start_matches('\n').len();
        text.split_off(start)
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Appends `text` without control characters (tabs kept).
fn push_clean(out: &mut String, text: &str) {
    out.extend(text.chars().filter(|c| !c.is_control() || *c == '\t'));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn drops_script_style_and_head_contents() {
        let html = "<html><head><title>Ignored</title><style>p { color: red }</style>\
                    <script>alert('x')</script></head><body><p>Hello&nbsp;there</p>\
                    <SCRIPT type=\"text/javascript\">var a = '</p>';</SCRIPT><p>Bye</p></body></html>";
        assert_eq!(html_to_text(html), "Hello there\n\nBye");
    }

    #[test]
    fn block_elements_and_breaks_make_lines() {
        let html = "<div>Line one<br>Line two<br/>Line three</div><div>Next</div><p>Para</p>Tail";
        assert_eq!(
            html_to_text(html),
            "Line one\nLine two\nLine three\nNext\n\nPara\n\nTail"
        );
        assert_eq!(html_to_text("a<br><br>b"), "a\n\nb");
        assert_eq!(html_to_text("<h1>Title</h1><p>x</p>"), "Title\n\nx");
    }

    #[test]
    fn white_space_is_folded_outside_pre() {
        let html = "<p>  many   spaces\n\tand\r\nlines </p><pre>  keep\n    this</pre>";
        assert_eq!(
            html_to_text(html),
            "many spaces and lines\n\n  keep\n    this"
        );
    }

    #[test]
    fn links_show_their_target() {
        let html = "See <a href=\"https://example.com/kb?a=1&amp;b=2\">the article</a>. \
                    Mail <a href='mailto:sd@example.co.id'>sd@example.co.id</a> or \
                    <a href=https://x.example>https://x.example</a> \
                    <a href=\"javascript:alert(1)\">click</a>";
        assert_eq!(
            html_to_text(html),
            "See the article (https://example.com/kb?a=1&b=2). Mail sd@example.co.id or \
             https://x.example click"
        );
    }

    #[test]
    fn entities_are_decoded() {
        let html = "&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42;&#X43; &euro;5 &unknown; &amp \
                    &#0; &#xD800; &#99999999999;";
        assert_eq!(
            html_to_text(html),
            "<b> & \"q\" ABC €5 &unknown; &amp \u{fffd} \u{fffd} \u{fffd}"
        );
    }

    #[test]
    fn lists_tables_and_quotes() {
        let html = "<ul><li>One</li><li>Two<ol><li>a</li><li>b</li></ol></li></ul>\
                    <table><tr><td>Name</td><td>Value</td></tr><tr><td>x</td><td>1</td></tr></table>\
                    <p>Reply</p><blockquote><p>Quoted line</p><p>More</p></blockquote>";
        assert_eq!(
            html_to_text(html),
            "- One\n- Two\n  1. a\n  2. b\n\nName Value\nx 1\n\nReply\n\n> Quoted line\n\n> More"
        );
    }

    #[test]
    fn comments_and_broken_markup_are_survived() {
        assert_eq!(
            html_to_text("<!--[if mso]><xml><o:x>no</o:x></xml><![endif]-->Text"),
            "Text"
        );
        assert_eq!(html_to_text("a < b and c<3 <"), "a < b and c<3 <");
        assert_eq!(html_to_text("<p class=\"unterminated>text"), "");
        assert_eq!(html_to_text("<script>never closed"), "");
        assert_eq!(html_to_text("x</>y<!doctype html>z</ p>"), "xyz");
        assert_eq!(html_to_text("<a href=\"https://e.x\">"), "");
        assert_eq!(html_to_text("<b>bold</b><i>it</i>"), "boldit");
        assert_eq!(html_to_text("<p>\u{0}nul\u{7}</p>"), "nul");
    }

    proptest! {
        #[test]
        fn never_panics(html in "(<[a-zA-Z/!?]{0,3}[^<>]{0,8}>?|&#?[a-zA-Z0-9]{0,6};?|[^<&]{0,8})*") {
            let _ = html_to_text(&html);
        }

        #[test]
        fn never_panics_on_any_text(html in "\\PC*") {
            let text = html_to_text(&html);
            prop_assert!(!text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
        }
    }
}
