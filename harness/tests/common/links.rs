//! Internal links of a built site (the mdBook under `docs/`): every
//! relative `href` and `src` must name a file that exists, and every
//! `#fragment` an `id` in the page it points to. External links are not
//! followed (no network).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

/// The attribute values `name="..."` (or `name='...'`) in `html`, in order.
pub fn attribute_values(html: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for quote in ['"', '\''] {
        let needle = format!(" {name}={quote}");
        let mut rest = html;
        while let Some(at) = rest.find(&needle) {
            let value = &rest[at + needle.len()..];
            let Some(end) = value.find(quote) else { break };
            out.push(unescape(&value[..end]));
            rest = &value[end..];
        }
    }
    out
}

fn unescape(text: &str) -> String {
    text.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// Whether a link leaves the site (or is not a link to a file at all).
pub fn is_external(link: &str) -> bool {
    let lower = link.to_ascii_lowercase();
    [
        "http://",
        "https://",
        "mailto:",
        "javascript:",
        "data:",
        "//",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// `path` without `.` and with `..` applied.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Where the relative `link` found in `page` points: the file, and the
/// fragment (percent-decoded), if any.
pub fn resolve(page: &Path, link: &str) -> (PathBuf, Option<String>) {
    let (path, fragment) = match link.split_once('#') {
        Some((p, f)) => (p, Some(percent_decode(f))),
        None => (link, None),
    };
    let path = path.split('?').next().unwrap_or("");
    let target = if path.is_empty() {
        page.to_path_buf()
    } else {
        normalize(&page.parent().unwrap().join(percent_decode(path)))
    };
    let target = if target.is_dir() {
        target.join("index.html")
    } else {
        target
    };
    (target, fragment.filter(|f| !f.is_empty()))
}

/// `text` with `%XX` escapes decoded.
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Every HTML file under `dir`, sorted.
pub fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "html") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every broken internal link of the HTML pages under `dir` (but
/// `skip`ped file names), as `page: link (why)`.
pub fn broken_links(dir: &Path, skip: &[&str]) -> Vec<String> {
    let mut ids: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut ids_of = |file: &Path| -> BTreeSet<String> {
        ids.entry(file.to_path_buf())
            .or_insert_with(|| {
                let html = std::fs::read_to_string(file).unwrap_or_default();
                attribute_values(&html, "id")
                    .into_iter()
                    .chain(attribute_values(&html, "name"))
                    .collect()
            })
            .clone()
    };
    let mut broken = Vec::new();
    for page in html_files(dir) {
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        if skip.contains(&name.as_str()) {
            continue;
        }
        let html = std::fs::read_to_string(&page).unwrap();
        let links = attribute_values(&html, "href")
            .into_iter()
            .chain(attribute_values(&html, "src"));
        for link in links {
            if link.is_empty() || is_external(&link) {
                continue;
            }
            let (target, fragment) = resolve(&page, &link);
            let shown = page
                .strip_prefix(dir)
                .unwrap_or(&page)
                .display()
                .to_string();
            if !target.is_file() {
                broken.push(format!("{shown}: {link} (no such file)"));
                continue;
            }
            if let Some(fragment) = fragment {
                let is_html = target.extension().is_some_and(|x| x == "html");
                if is_html && !ids_of(&target).contains(&fragment) {
                    broken.push(format!("{shown}: {link} (no id `{fragment}` there)"));
                }
            }
        }
    }
    broken
}

/// The anchor GitHub and mdBook give a markdown heading: lowercased,
/// spaces as `-`, punctuation but `-` and `_` dropped.
pub fn heading_anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of every heading of a markdown file (outside code blocks).
pub fn markdown_anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut code = false;
    for line in text.lines() {
        if line.starts_with("```") {
            code = !code;
        } else if !code && line.starts_with('#') {
            out.insert(heading_anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// The `](target)` links of a markdown text, outside code blocks.
pub fn markdown_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut code = false;
    for line in text.lines() {
        if line.starts_with("```") {
            code = !code;
            continue;
        }
        if code {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    out
}
