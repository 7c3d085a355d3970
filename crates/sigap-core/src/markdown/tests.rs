use super::*;
use scraper::{ElementRef, Html, Selector};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Hostile inputs: the OWASP XSS filter evasion vectors, then Markdown's own.
const HOSTILE: &[&str] = &[
    // Script tags, in all cases and encodings.
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<script src=http://xss.example/xss.js></script>",
    r#"<SCRIPT/XSS SRC="http://xss.example/xss.js"></SCRIPT>"#,
    r#"<<SCRIPT>alert("XSS");//\<</SCRIPT>"#,
    "<SCRIPT SRC=http://xss.example/xss.js?< B >",
    "<script>alert(String.fromCharCode(88,83,83))</script>",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    r"\x3cscript\x3ealert(1)\x3c/script\x3e",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "</title><script>alert(1)</script>",
    r#""><script>alert(1)</script>"#,
    r#"'';!--"<XSS>=&{()}"#,
    // Images with handlers and script URLs.
    "<img src=x onerror=alert(1)>",
    r#"<IMG SRC="javascript:alert('XSS');">"#,
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    r#"<IMG SRC=`javascript:alert("RSnake says, 'XSS'")`>"#,
    r#"<IMG """><SCRIPT>alert("XSS")</SCRIPT>">"#,
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    r#"<IMG SRC="jav&#x09;ascript:alert('XSS');">"#,
    r#"<IMG SRC="jav&#x0A;ascript:alert('XSS');">"#,
    r#"<IMG SRC="jav&#x0D;ascript:alert('XSS');">"#,
    r#"<IMG SRC=" &#14;  javascript:alert('XSS');">"#,
    r#"<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>"#,
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    r#"<IMG DYNSRC="javascript:alert('XSS')">"#,
    r#"<IMG LOWSRC="javascript:alert('XSS')">"#,
    r#"<IMG STYLE="xss:expr/*XSS*/ession(alert('XSS'))">"#,
    r#"<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">"#,
    r#"<img src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">"#,
    r#"<img src="data:image/png,<svg onload=alert(1)>">"#,
    // SVG and MathML.
    "<svg onload=alert(1)>",
    "<svg/onload=alert('XSS')>",
    "<svg><script>alert(1)</script></svg>",
    r#"<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>"#,
    r#"<math><a xlink:href="javascript:alert(1)">click</a></math>"#,
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    r#"<svg><animate attributeName="href" values="javascript:alert(1)"/><a><text>x</text></a></svg>"#,
    r#"<svg><foreignObject><iframe src="javascript:alert(1)"></iframe></foreignObject></svg>"#,
    // Links.
    r#"<a href="javascript:alert(1)">x</a>"#,
    r#"<a href="JaVaScRiPt:alert(1)">x</a>"#,
    r#"<a href="&#106;avascript:alert(1)">x</a>"#,
    r#"<a href="&#x6A;avascript&#x3A;alert(1)">x</a>"#,
    r#"<a href="java&#9;script:alert(1)">x</a>"#,
    r#"<a href="java&NewLine;script&colon;alert(1)">x</a>"#,
    r#"<a href="  javascript:alert(1)">x</a>"#,
    "<a href=\"\u{1}javascript:alert(1)\">x</a>",
    r#"<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>"#,
    r#"<a href="data:image/png;base64,iVBORw0KGgo=">x</a>"#,
    r#"<a href="vbscript:msgbox(1)">x</a>"#,
    r#"<a href="livescript:alert(1)">x</a>"#,
    r#"<a href="http://example.com" onclick="alert(1)">x</a>"#,
    "<a href=http://example.com/ onmouseover=alert(1)//>x</a>",
    r#"<a href="x" ping="javascript:alert(1)" target="_top" name="location">x</a>"#,
    // Frames, objects, embeds.
    r#"<iframe src="javascript:alert(1)"></iframe>"#,
    r#"<IFRAME SRC="http://xss.example/scriptlet.html"><</IFRAME>"#,
    r#"<iframe srcdoc="<script>alert(1)</script>"></iframe>"#,
    r#"<object data="javascript:alert(1)"></object>"#,
    r#"<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.example/scriptlet.html"></OBJECT>"#,
    r#"<EMBED SRC="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" type="image/svg+xml" AllowScriptAccess="always"></EMBED>"#,
    r#"<applet code="xss.class"></applet>"#,
    // Style.
    "<style>@import'http://xss.example/xss.css';</style>",
    r#"<STYLE>li {list-style-image: url("javascript:alert('XSS')");}</STYLE><UL><LI>XSS</br>"#,
    r#"<div style="background:url(javascript:alert(1))">x</div>"#,
    r#"<DIV STYLE="background-image:\0075\0072\006C\0028'\006a\0061\0076\0061\0073\0063\0072\0069\0070\0074\003a\0061\006c\0065\0072\0074\0028\0027\0058\0053\0053\0027\0029'\0029">"#,
    r#"<DIV STYLE="width: expression(alert('XSS'));">"#,
    r#"<LINK REL="stylesheet" HREF="javascript:alert('XSS');">"#,
    r#"<p style="color:red" onmouseover="alert(1)">x</p>"#,
    // Meta, base, forms, body.
    r#"<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert('XSS');">"#,
    r#"<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">"#,
    r#"<BASE HREF="javascript:alert('XSS');//">"#,
    r#"<form action="javascript:alert(1)"><input type=submit></form>"#,
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    "<BODY ONLOAD=alert('XSS')>",
    r#"<BODY BACKGROUND="javascript:alert('XSS')">"#,
    r#"<TABLE BACKGROUND="javascript:alert('XSS')"><TD BACKGROUND="javascript:alert('XSS')">"#,
    r#"<input type="image" src="javascript:alert(1)">"#,
    "<details open ontoggle=alert(1)>",
    r#"<video><source onerror="alert(1)">"#,
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>",
    // Quote and backtick breaking.
    "<img src=\"x` `<script>alert(1)</script>\"` `>",
    r#"<a title="a"onmouseover="alert(1)">x</a>"#,
    "<img src=`x`onerror=alert(1)>",
    "<a href='x' title='a' onclick='alert(1)'>x</a>",
    // Comments, CDATA, processing instructions.
    r#"<!--<img src="--><img src=x onerror=alert(1)//">"#,
    "<![CDATA[<script>alert(1)</script>]]>",
    "<!-- --!><script>alert(1)</script> -->",
    r#"<?xml version="1.0"?><script>alert(1)</script>"#,
    "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    // Nested and unclosed tags.
    r#"<div><p><a href="javascript:alert(1)"><b>x"#,
    "<<img src=x onerror=alert(1)//<",
    "<img src=x onerror=alert(1)",
    r#"<a href="javascript:alert(1)""#,
    r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>">"#,
    "<template><script>alert(1)</script></template>",
    "<textarea></textarea><script>alert(1)</script>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<select><style></select><img src=x onerror=alert(1)></style>",
    // Null bytes.
    "<scr\0ipt>alert(1)</scr\0ipt>",
    "<img src=java\0script:alert(1)>",
    "<a href=\"java\0script:alert(1)\">x</a>",
    "[x](java\0script:alert(1))",
    // Markdown links.
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript&colon;alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](<javascript:alert(1)>)",
    "[x]( javascript:alert(1) )",
    "[x](<java script:alert(1)>)",
    "[x](java%0ascript:alert(1))",
    r#"[x](javascript:alert(1) "title")"#,
    "[x](javascript://%0aalert(1))",
    r#"[x](http://a "\" onmouseover=alert(1)")"#,
    r#"[x](http://a '" onmouseover=alert(1)')"#,
    r#"[x](http://a" onmouseover="alert(1))"#,
    r#"[x](#" onclick="alert(1))"#,
    r#"[a](https://example.com/"><script>alert(1)</script>)"#,
    // Markdown images.
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    r#"![x" onerror="alert(1)](x.png)"#,
    r#"![x](x.png "a\" onerror=\"alert(1)")"#,
    "![<img src=x onerror=alert(1)>](x.png)",
    // Reference links and autolinks.
    "[x][1]\n\n[1]: javascript:alert(1)",
    "[x][1]\n\n[1]: <javascript:alert(1)> \"t\"",
    "![x][img]\n\n[img]: data:image/svg+xml,<svg onload=alert(1)>",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==>",
    // Raw HTML blocks and inline HTML.
    "[<img src=x onerror=alert(1)>](http://a)",
    "[x](http://a)<script>alert(1)</script>",
    "<div>\n\n[x](javascript:alert(1))\n\n</div>",
    "<div onclick=\"alert(1)\">\n*markdown*\n</div>",
    "<details>\n<summary>x</summary>\n<script>alert(1)</script>\n</details>",
    "> <iframe src=javascript:alert(1)>",
    "* [x](javascript:alert(1))\n* <svg onload=alert(1)>",
    "***<b onmouseover=alert(1)>x</b>***",
    "~~<a href=javascript:alert(1)>x</a>~~",
    // HTML inside tables.
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <script>alert(1)</script> |",
    "| [x](javascript:alert(1)) | ![y](javascript:alert(2)) |\n|---|---|\n| 1 | 2 |",
    "| <td style=\"x\" onclick=alert(1)> |\n|:-:|\n| </table><script>alert(1)</script> |",
    // Code spans and blocks.
    "`<script>alert(1)</script>`",
    "```\n\"><script>alert(1)</script>\n<img src=x onerror=alert(1)>\n```",
    "```js onclick=alert(1)\nx\n```",
    "```rust\" onmouseover=\"alert(1)\nx\n```",
    "```<script>\nx\n```",
    "    <script>alert(1)</script>",
    // Footnotes and heading attributes.
    "x[^a\" onclick=\"alert(1)]\n\n[^a\" onclick=\"alert(1)]: note <script>alert(1)</script>",
    "x[^location]\n\n[^location]: y",
    "x[^<svg/onload=alert(1)>]\n\n[^<svg/onload=alert(1)>]: y",
    "# <script>alert(1)</script> {#x .y onclick=alert(1)}",
];

const ALLOWED_ELEMENTS: &[&str] = &[
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
];

const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "svg", "math", "form", "input", "base", "meta",
    "link",
];

/// The URL as a browser reads its scheme: whitespace and control characters dropped,
/// lower-cased. Returns the scheme, or `None` for a relative URL.
fn scheme_of(url: &str) -> Option<String> {
    let squeezed: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_lowercase();
    let cut = squeezed
        .find(['/', '?', '#', '\\'])
        .unwrap_or(squeezed.len());
    squeezed[..cut]
        .find(':')
        .map(|colon| squeezed[..colon].to_owned())
}

fn href_is_safe(href: &str) -> bool {
    matches!(
        scheme_of(href).as_deref(),
        None | Some("http" | "https" | "mailto")
    )
}

fn src_is_safe(src: &str) -> bool {
    match scheme_of(src).as_deref() {
        None | Some("http" | "https") => true,
        Some("data") => {
            let lower: String = src
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_lowercase();
            ["png", "gif", "jpeg", "webp"]
                .iter()
                .any(|kind| lower.starts_with(&format!("data:image/{kind};base64,")))
        }
        Some(_) => false,
    }
}

/// Parses `html` as a browser would and checks every node against the policy.
fn check_safe(input: &str, html: &str) -> Result<(), String> {
    let fail = |why: String| Err(format!("{why}\n  input:  {input:?}\n  output: {html:?}"));
    let doc = Html::parse_fragment(html);
    // The fragment's own wrapper `<html>` comes first.
    for node in doc.root_element().descendants().skip(1) {
        if node.value().is_comment() {
            return fail("a comment survived".into());
        }
        let Some(element) = ElementRef::wrap(node) else {
            continue;
        };
        let name = element.value().name();
        if FORBIDDEN_ELEMENTS.contains(&name) {
            return fail(format!("forbidden element <{name}>"));
        }
        if !ALLOWED_ELEMENTS.contains(&name) {
            return fail(format!("element <{name}> is not in the allow-list"));
        }
        for (attribute, value) in element.value().attrs() {
            let attribute = attribute.to_ascii_lowercase();
            if attribute.starts_with("on") {
                return fail(format!("event handler {attribute} on <{name}>"));
            }
            let allowed = match attribute.as_str() {
                "style" | "name" => false,
                "href" => name == "a" && href_is_safe(value),
                "src" => name == "img" && src_is_safe(value),
                "title" => matches!(name, "a" | "img"),
                "alt" => name == "img",
                "rel" => name == "a" && value == "noopener noreferrer nofollow",
                "start" => name == "ol",
                "id" => name == "div" && value.starts_with("fn-"),
                "class" => match name {
                    "code" => value.strip_prefix("language-").is_some_and(|w| {
                        w.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c))
                    }),
                    "td" | "th" => value.starts_with("align-"),
                    "sup" | "div" => value.starts_with("footnote-"),
                    _ => false,
                },
                _ => false,
            };
            if !allowed {
                return fail(format!("attribute {attribute}={value:?} on <{name}>"));
            }
        }
    }
    Ok(())
}

fn select<'a>(doc: &'a Html, selector: &str) -> Result<Vec<ElementRef<'a>>, String> {
    let selector = Selector::parse(selector).map_err(|e| format!("{selector}: {e}"))?;
    Ok(doc.select(&selector).collect())
}

#[test]
fn the_corpus_is_large_enough() {
    assert!(HOSTILE.len() >= 80, "{} hostile inputs", HOSTILE.len());
}

#[test]
fn hostile_markdown_renders_safe_html() -> TestResult {
    for input in HOSTILE {
        check_safe(input, &render(input))?;
    }
    Ok(())
}

/// The second layer alone, fed the raw hostile HTML (as if the first one had let it through).
#[test]
fn the_sanitizer_alone_stops_hostile_html() -> TestResult {
    for input in HOSTILE {
        check_safe(input, &sanitize(input))?;
    }
    Ok(())
}

/// Also inside blocks that Markdown nests, and after the first layer's output.
#[test]
fn hostile_inputs_in_context_render_safe_html() -> TestResult {
    for input in HOSTILE {
        for wrapped in [
            format!("> {input}"),
            format!("* {input}"),
            format!("| h |\n|---|\n| {input} |"),
            format!("para {input} end"),
        ] {
            check_safe(&wrapped, &render(&wrapped))?;
        }
        let html = render(input);
        check_safe(input, &sanitize(&html))?;
    }
    Ok(())
}

#[test]
fn the_checker_rejects_what_it_should() {
    for bad in [
        "<script>alert(1)</script>",
        "<b>x</b>",
        "<a href=\"java&#9;script:alert(1)\">x</a>",
        "<a href=\" JAVASCRIPT:alert(1)\">x</a>",
        "<img src=\"data:image/svg+xml;base64,AAAA\">",
        "<p onclick=\"x\">x</p>",
        "<p style=\"color:red\">x</p>",
        "<p><!-- x --></p>",
        "<div id=\"location\">x</div>",
    ] {
        assert!(check_safe(bad, bad).is_err(), "checker accepted {bad}");
    }
}

#[test]
fn dangerous_elements_lose_their_content() {
    for (input, expected) in [
        ("<script>alert(1)</script>ok", "ok"),
        ("<style>p{}</style>ok", "ok"),
        ("<iframe>alert(1)</iframe>ok", "ok"),
        ("<svg><a><text>alert(1)</text></a></svg>ok", "ok"),
        ("<math><mi>alert(1)</mi></math>ok", "ok"),
        ("<template>alert(1)</template>ok", "ok"),
        ("<noscript>alert(1)</noscript>ok", "ok"),
        ("<form>alert(1)<input></form>ok", "ok"),
        ("<object>alert(1)</object>ok", "ok"),
        ("<b>kept</b> text", "kept text"),
    ] {
        assert_eq!(sanitize(input), expected, "{input}");
    }
}

#[test]
fn script_links_lose_their_href() -> TestResult {
    for input in [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        "[x][1]\n\n[1]: javascript:alert(1)",
        "[x](java&#x09;script:alert(1))",
        "[x](mailto:a@b.c)",
    ] {
        let doc = Html::parse_fragment(&render(input));
        let links = select(&doc, "a")?;
        assert_eq!(links.len(), 1, "{input}");
        let href = links.first().and_then(|a| a.value().attr("href"));
        if input.contains("mailto") {
            assert_eq!(href, Some("mailto:a@b.c"));
        } else {
            assert_eq!(href, None, "{input}");
        }
    }
    // An autolink with a script scheme is not a link at all.
    let doc = Html::parse_fragment(&render("<javascript:alert(1)>"));
    assert!(
        select(&doc, "a")?
            .iter()
            .all(|a| a.value().attr("href").is_none())
    );
    Ok(())
}

#[test]
fn renders_tables() -> TestResult {
    let html = render("| Name | Qty |\n|:-----|----:|\n| a | 1 |\n| b | 2 |\n");
    let doc = Html::parse_fragment(&html);
    let heads = select(&doc, "table > thead > tr > th")?;
    assert_eq!(heads.len(), 2, "{html}");
    assert_eq!(select(&doc, "table > tbody > tr")?.len(), 2, "{html}");
    let cells = select(&doc, "table > tbody > tr > td")?;
    assert_eq!(cells.len(), 4, "{html}");
    let texts: Vec<String> = cells.iter().map(|td| td.text().collect()).collect();
    assert_eq!(texts, ["a", "1", "b", "2"]);
    // Alignment as classes, never as inline styles (the CSP forbids them).
    assert_eq!(
        heads.first().and_then(|th| th.value().attr("class")),
        Some("align-left")
    );
    assert_eq!(
        cells.get(1).and_then(|td| td.value().attr("class")),
        Some("align-right")
    );
    assert!(!html.contains("style"), "{html}");
    check_safe("table", &html)?;
    Ok(())
}

#[test]
fn renders_fenced_code_with_its_language() -> TestResult {
    let html = render("```rust\nfn lt(a: u8, b: u8) -> bool { a < b }\n```\n");
    assert!(
        html.contains("<pre><code class=\"language-rust\">"),
        "{html}"
    );
    assert!(html.contains("a &lt; b"), "{html}");
    let doc = Html::parse_fragment(&html);
    let code = select(&doc, "pre > code")?;
    let Some(code) = code.first() else {
        return Err(format!("no code in {html}").into());
    };
    assert_eq!(
        code.text().collect::<String>(),
        "fn lt(a: u8, b: u8) -> bool { a < b }\n"
    );
    assert_eq!(code.children().count(), 1, "only text inside: {html}");
    // A language that is not a plain word is dropped, the block stays.
    let html = render("```c\"onclick=x\nint x;\n```\n");
    assert!(html.contains("<pre><code>int x;"), "{html}");
    Ok(())
}

#[test]
fn renders_headings() -> TestResult {
    let html = render("# One\n\n## Two\n\n### Three\n");
    let doc = Html::parse_fragment(&html);
    for (tag, text) in [("h1", "One"), ("h2", "Two"), ("h3", "Three")] {
        let found = select(&doc, tag)?;
        assert_eq!(found.len(), 1, "{html}");
        let got: Option<String> = found.first().map(|h| h.text().collect());
        assert_eq!(got.as_deref(), Some(text));
    }
    Ok(())
}

#[test]
fn keeps_web_links_and_adds_rel() -> TestResult {
    let html = render("See [the site](https://example.com/a?b=1&c=2 \"Home\").");
    let doc = Html::parse_fragment(&html);
    let links = select(&doc, "a")?;
    let Some(link) = links.first() else {
        return Err(format!("no link in {html}").into());
    };
    assert_eq!(
        link.value().attr("href"),
        Some("https://example.com/a?b=1&c=2")
    );
    assert_eq!(link.value().attr("title"), Some("Home"));
    assert_eq!(
        link.value().attr("rel"),
        Some("noopener noreferrer nofollow")
    );
    // Relative links and anchors stay too.
    let html = render("[a](/kb/KB0000002) [b](#top) [c](other?x=1)");
    let doc = Html::parse_fragment(&html);
    let hrefs: Vec<_> = select(&doc, "a")?
        .iter()
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(hrefs, ["/kb/KB0000002", "#top", "other?x=1"]);
    Ok(())
}

#[test]
fn keeps_attachment_and_data_images() -> TestResult {
    let relative = "/api/v1/articles/KB0000001/attachments/0190a8c4-1b2c-7d3e-8f40-123456789abc";
    let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    for src in [relative, png, "https://cdn.example.com/x.webp"] {
        let html = render(&format!("![shot]({src})"));
        let doc = Html::parse_fragment(&html);
        let images = select(&doc, "img")?;
        let Some(img) = images.first() else {
            return Err(format!("no image in {html}").into());
        };
        assert_eq!(img.value().attr("src"), Some(src));
        assert_eq!(img.value().attr("alt"), Some("shot"));
        check_safe(src, &html)?;
    }
    for src in [
        "data:image/svg+xml;base64,PHN2Zz4=",
        "data:text/html;base64,PHA+",
        "javascript:alert(1)",
        "mailto:a@b.c",
    ] {
        let doc = Html::parse_fragment(&render(&format!("![x]({src})")));
        let images = select(&doc, "img")?;
        assert!(
            images.iter().all(|img| img.value().attr("src").is_none()),
            "{src}"
        );
    }
    Ok(())
}

#[test]
fn raw_html_shows_as_text() -> TestResult {
    let html = render("Some <b>bold</b> here.\n\n<div class=\"x\">\nblock\n</div>\n");
    assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"), "{html}");
    let doc = Html::parse_fragment(&html);
    assert!(select(&doc, "b")?.is_empty(), "{html}");
    let paragraphs: Vec<String> = select(&doc, "p")?
        .iter()
        .map(|p| p.text().collect())
        .collect();
    assert_eq!(
        paragraphs.first().map(String::as_str),
        Some("Some <b>bold</b> here.")
    );
    assert!(
        paragraphs
            .get(1)
            .is_some_and(|p| p.contains("<div class=\"x\">")),
        "{html}"
    );
    assert_eq!(select(&doc, "div")?.len(), 0, "{html}");
    Ok(())
}

#[test]
fn renders_footnotes_with_safe_ids() -> TestResult {
    let html = render("Text[^1] and[^Note x].\n\n[^1]: First.\n\n[^Note x]: Second.\n");
    let doc = Html::parse_fragment(&html);
    let refs: Vec<_> = select(&doc, "sup.footnote-reference > a")?
        .iter()
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(refs, ["#fn-1", "#fn-note_20x"], "{html}");
    let ids: Vec<_> = select(&doc, "div.footnote-definition")?
        .iter()
        .filter_map(|d| d.value().attr("id"))
        .collect();
    assert_eq!(ids, ["fn-1", "fn-note_20x"], "{html}");
    check_safe("footnotes", &html)?;
    Ok(())
}

#[test]
fn renders_lists_quotes_and_emphasis() -> TestResult {
    let html = render("3. c\n4. d\n\n- x\n\n> *q* **s** ~~d~~ `c`\n\n---\nend  \nbreak");
    let doc = Html::parse_fragment(&html);
    let lists = select(&doc, "ol")?;
    assert_eq!(
        lists.first().and_then(|ol| ol.value().attr("start")),
        Some("3")
    );
    for tag in [
        "ul > li",
        "blockquote em",
        "strong",
        "del",
        "code",
        "hr",
        "br",
    ] {
        assert!(!select(&doc, tag)?.is_empty(), "{tag} in {html}");
    }
    check_safe("lists", &html)?;
    Ok(())
}

#[test]
fn url_schemes_are_read_like_a_browser() {
    use UrlScheme::*;
    for (url, expected) in [
        ("/a/b", Some(Relative)),
        ("#top", Some(Relative)),
        ("a/b:c", Some(Relative)),
        ("?q=a:b", Some(Relative)),
        ("//host/x", Some(Relative)),
        ("https://a", Some(Web)),
        ("HTTP://a", Some(Web)),
        (" \thttp://a", Some(Web)),
        ("mailto:a@b", Some(Mailto)),
        ("data:image/png;base64,AA==", Some(Data)),
        ("javascript:alert(1)", None),
        ("JaVa\tScRiPt:alert(1)", None),
        ("\u{1} java\nscript:x", None),
        ("vbscript:x", None),
        ("java%0ascript:x", None),
        ("file:///etc/passwd", None),
    ] {
        assert_eq!(url_scheme(url), expected, "{url:?}");
    }
    assert!(is_data_image("data:image/png;base64,iVBORw0KGgo="));
    assert!(is_data_image("DATA:image/WEBP;base64,AAAA"));
    assert!(!is_data_image("data:image/svg+xml;base64,AAAA"));
    assert!(!is_data_image("data:image/png,<svg>"));
    assert!(!is_data_image("data:image/png;base64,\"><script>"));
}

#[test]
fn plain_text_drops_markup() {
    let source = "# Title\n\nSome *emphasis* and `code`,\nsoft   break.\n\n\
                  | a | b |\n|---|---|\n| c | d |\n\n\
                  - one\n- two\n\n[link](http://x) ![alt text](/i.png) <b>raw</b>\n\n\
                  ```\nfn x() {}\n```\n";
    assert_eq!(
        plain_text(source),
        "Title Some emphasis and code, soft break. a b c d one two link alt text <b>raw</b> fn x() {}"
    );
    assert_eq!(plain_text(""), "");
    assert_eq!(plain_text("  \n\n  "), "");
}

fn line(op: DiffOp, old: Option<usize>, new: Option<usize>, text: &str) -> DiffLine {
    DiffLine {
        op,
        old,
        new,
        text: text.to_owned(),
    }
}

#[test]
fn diff_marks_added_removed_and_same_lines() {
    use DiffOp::*;
    assert_eq!(
        diff("a\nb\nc\n", "a\nB\nc\nd\n"),
        [
            line(Same, Some(1), Some(1), "a"),
            line(Removed, Some(2), None, "b"),
            line(Added, None, Some(2), "B"),
            line(Same, Some(3), Some(3), "c"),
            line(Added, None, Some(4), "d"),
        ]
    );
    assert_eq!(
        diff("intro\nold step\nend", "new first\nintro\nend"),
        [
            line(Added, None, Some(1), "new first"),
            line(Same, Some(1), Some(2), "intro"),
            line(Removed, Some(2), None, "old step"),
            line(Same, Some(3), Some(3), "end"),
        ]
    );
}

#[test]
fn diff_edges() {
    use DiffOp::*;
    assert_eq!(diff("", ""), []);
    assert_eq!(
        diff("", "x\ny"),
        [
            line(Added, None, Some(1), "x"),
            line(Added, None, Some(2), "y")
        ]
    );
    assert_eq!(diff("x\n", ""), [line(Removed, Some(1), None, "x")]);
    // Line endings and a final newline are not changes.
    assert_eq!(
        diff("a\r\nb", "a\nb\n"),
        [
            line(Same, Some(1), Some(1), "a"),
            line(Same, Some(2), Some(2), "b")
        ]
    );
}
