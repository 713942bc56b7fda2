//! The frame every page shares, and small HTML helpers.

use super::super::status::CaseStatus;
use crate::report::html_escape;

const STYLE: &str = include_str!("style.css");

/// Records every script error and `console.error` call in
/// `window.pmconfErrors`, first thing on the page, so that a test driving a
/// real browser can tell a page that loaded cleanly (no engine exposes its
/// console over WebDriver alike).
const ERROR_HOOK: &str = "<script>window.pmconfErrors=[];addEventListener('error',function(e){pmconfErrors.push(String(e.message||(e.target&&e.target.outerHTML)||e.type))},true);(function(c){console.error=function(){pmconfErrors.push([].join.call(arguments,' '));return c.apply(console,arguments)}})(console.error);</script>";

/// A whole page.
pub fn page(title: &str, body: &str, script: Option<&str>) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n{ERROR_HOOK}\n<title>{}</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<style>\n{STYLE}</style>\n</head>\n<body>\n{body}{}</body>\n</html>\n",
        esc(title),
        script.map(|s| format!("<script>\n{s}</script>\n")).unwrap_or_default()
    )
}

/// HTML-escaped text.
pub fn esc(text: &str) -> String {
    html_escape(text)
}

/// The CSS class of a status: `s-conforms`, `s-diverges`, `s-absent`...
pub fn status_class(status: Option<&CaseStatus>) -> &'static str {
    match status.map(|s| s.status.word()) {
        None => "s-absent",
        Some("conforms") => "s-conforms",
        Some("contested") => "s-contested",
        Some("diverges") => "s-diverges",
        Some("inconclusive") => "s-inconclusive",
        Some("internal-error") => "s-internal-error",
        Some("crashed") => "s-crashed",
        Some(_) => "s-other",
    }
}

/// A link, or nothing when there is no URL.
pub fn link(url: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", esc(url), esc(text))
}

/// Links of a known divergence.
pub fn known_links(known: Option<&crate::known::KnownDivergence>) -> String {
    let Some(k) = known else {
        return String::new();
    };
    let mut parts: Vec<String> = k
        .links()
        .iter()
        .map(|(label, url)| link(url, label))
        .collect();
    if let Some(note) = &k.note {
        parts.push(esc(note));
    }
    parts.join(" ")
}
