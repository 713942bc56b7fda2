//! Validation: from the file as written to a [`Case`] the model can run,
//! collecting every problem rather than stopping at the first.

use super::raw::{RawCase, RawPost, RawStep, RawWindow};

use super::source_map::{Location, SourceMap};
use super::{reference_path, Case, CaseError, Post, Relation, Step, Window, WindowContent};
use crate::document::matches_about_blank;
use crate::hosts::check_case_host;
use crate::message::{MessageValue, Transferable};
use crate::sandbox::SandboxingFlags;
use url::{Host, Url};

struct Validator<'a> {
    file: &'a str,
    map: SourceMap,
    errors: Vec<CaseError>,
}

impl Validator<'_> {
    fn error_at(&mut self, location: Location, message: impl Into<String>, fix: impl Into<String>) {
        self.errors.push(CaseError {
            file: self.file.to_owned(),
            location,
            message: message.into(),
            fix: fix.into(),
        });
    }

    fn error(&mut self, path: &str, message: impl Into<String>, fix: impl Into<String>) {
        let location = self.map.locate_nearest(path);
        self.error_at(location, message, fix);
    }
}

pub(super) fn parse_and_validate(file: &str, text: &str) -> Result<Case, Vec<CaseError>> {
    let mut v = Validator {
        file,
        map: SourceMap::build(text),
        errors: Vec::new(),
    };
    let raw: RawCase = match serde_yaml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let (location, message) = serde_location(&e);
            let fix = serde_fix(&message);
            v.error_at(location, message, fix);
            return Err(v.errors);
        }
    };
    let case = validate(&mut v, raw);
    match case {
        Some(case) if v.errors.is_empty() => Ok(case),
        _ => Err(v.errors),
    }
}

fn serde_location(e: &serde_yaml::Error) -> (Location, String) {
    let text = e.to_string();
    // serde_yaml appends " at line L column C"; the location is reported
    // separately, so strip it from the message.
    let message = match text.find(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text.clone(),
    };
    let location = e
        .location()
        .map(|l| Location {
            line: l.line(),
            column: l.column(),
        })
        .unwrap_or(Location { line: 1, column: 1 });
    (location, message)
}

fn serde_fix(message: &str) -> String {
    if message.contains("unknown field") {
        "remove the field or correct its spelling: the expected fields are listed in the message"
            .into()
    } else if message.contains("unknown variant") {
        "a step is `- post: {...}`; check the step's name".into()
    } else if message.contains("missing field") {
        "add the missing field".into()
    } else if message.contains("invalid type") {
        "give the field a value of the expected type (quote strings such as \"null\" or \"*\")"
            .into()
    } else if message.contains("duplicate") {
        "give each key once".into()
    } else {
        "correct the YAML syntax at this position".into()
    }
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A window as checked so far, before the tree is known to be sound.
struct Checked {
    name: String,
    content: Option<WindowContent>,
    parent: Option<usize>,
    opener: Option<usize>,
    sandbox: Option<String>,
    attr_flags: SandboxingFlags,
    /// Whether `parent` or `opener` was written, resolved or not: a window
    /// whose parent is misspelled is not a second top window.
    names_a_creator: bool,
    url_as_written: Option<String>,
}

fn validate(v: &mut Validator, raw: RawCase) -> Option<Case> {
    if raw.description.trim().is_empty() {
        v.error(
            "description",
            "the description is empty",
            "say in one line what the case checks",
        );
    }

    // Names first, so references can be resolved.
    let mut names: Vec<String> = Vec::new();
    for (name, _) in &raw.windows.0 {
        let path = format!("windows.{name}");
        if names.contains(name) {
            let loc = v
                .map
                .occurrences(&path)
                .get(1)
                .copied()
                .unwrap_or_else(|| v.map.locate_nearest(&path));
            v.error_at(
                loc,
                format!("duplicate window name `{name}`"),
                "give each window its own name",
            );
            continue;
        }
        if !is_valid_name(name) {
            v.error(
                &path,
                format!("window name `{name}` is not a plain name"),
                "use letters, digits, `_` and `-` only",
            );
        }
        names.push(name.clone());
    }
    let lookup = |n: &str| names.iter().position(|m| m == n);
    let known = names.join(", ");

    let mut checked: Vec<Checked> = Vec::new();
    let mut seen = Vec::new();
    for (name, w) in &raw.windows.0 {
        if seen.contains(name) {
            continue;
        }
        seen.push(name.clone());
        checked.push(check_window(v, name, w, &lookup, &known));
    }

    // Exactly one top window.
    let tops: Vec<&str> = checked
        .iter()
        .filter(|c| !c.names_a_creator)
        .map(|c| c.name.as_str())
        .collect();
    if tops.len() != 1 {
        let msg = if tops.is_empty() {
            "no top window: every window has a parent or an opener".to_owned()
        } else {
            format!(
                "{} top windows ({}); a case has exactly one",
                tops.len(),
                tops.join(", ")
            )
        };
        v.error(
            "windows",
            msg,
            "give exactly one window neither `parent` nor `opener`; it is the page the case starts in",
        );
    }

    // Cycles in parent/opener.
    let creator = |i: usize| checked[i].parent.or(checked[i].opener);
    let mut reported = vec![false; checked.len()];
    for start in 0..checked.len() {
        let mut chain = vec![start];
        let mut at = start;
        while let Some(next) = creator(at) {
            if let Some(pos) = chain.iter().position(|&c| c == next) {
                let cycle: Vec<usize> = chain[pos..].to_vec();
                if !cycle.iter().any(|&c| reported[c]) {
                    cycle.iter().for_each(|&c| reported[c] = true);
                    let names: Vec<&str> =
                        cycle.iter().map(|&c| checked[c].name.as_str()).collect();
                    let path = format!("windows.{}", checked[cycle[0]].name);
                    v.error(
                        &path,
                        format!(
                            "windows create each other in a cycle: {} -> {}",
                            names.join(" -> "),
                            names[0]
                        ),
                        "each window's parent or opener must lead back to the top window",
                    );
                }
                break;
            }
            chain.push(next);
            at = next;
        }
    }

    // Step names can be checked without a sound tree.
    let mut posts: Vec<Option<&RawPost>> = Vec::new();
    for (i, step) in raw.steps.iter().enumerate() {
        let RawStep { post } = step;
        let Some(p) = post else {
            v.error(
                &format!("steps[{i}]"),
                "a step with no kind",
                "write the step as `- post: {from: ..., to: ..., message: ...}`",
            );
            posts.push(None);
            continue;
        };
        posts.push(Some(p));
        for (field, name) in [("from", &p.from), ("to", &p.to)] {
            if lookup(name).is_none() {
                v.error(
                    &format!("steps[{i}].post.{field}"),
                    format!("unknown window `{name}` in `{field}`"),
                    format!("use one of the windows this case declares: {known}"),
                );
            }
        }
    }
    if raw.steps.is_empty() {
        v.error(
            "steps",
            "the case has no steps",
            "add at least one `- post: {...}` step",
        );
    }
    if !v.errors.is_empty() {
        return None;
    }

    // Creation order: each window after its creator, otherwise as listed.
    let mut order: Vec<usize> = Vec::new();
    while order.len() < checked.len() {
        let next = (0..checked.len())
            .find(|&i| !order.contains(&i) && creator(i).is_none_or(|c| order.contains(&c)))
            .expect("no cycles, so some window is ready");
        order.push(next);
    }
    let new_index = |old: usize| order.iter().position(|&o| o == old).expect("all ordered");

    let mut windows: Vec<Window> = Vec::new();
    for &old in &order {
        let c = &checked[old];
        let relation = match (c.parent, c.opener) {
            (Some(p), _) => Relation::Iframe {
                parent: new_index(p),
            },
            (_, Some(o)) => Relation::Popup {
                opener: new_index(o),
            },
            _ => Relation::Top,
        };
        let sandbox_flags = match relation {
            Relation::Top => SandboxingFlags::none(),
            Relation::Iframe { parent } => c.attr_flags.union(&windows[parent].sandbox_flags),
            Relation::Popup { opener } => windows[opener].sandbox_flags.for_popup(),
        };
        windows.push(Window {
            name: c.name.clone(),
            content: c.content.clone().expect("checked"),
            url_as_written: c.url_as_written.clone(),
            relation,
            sandbox_attribute: c.sandbox.clone(),
            sandbox_flags,
        });
    }
    check_tree(v, &windows);

    let mut case = Case {
        description: raw.description,
        tags: raw.tags,
        references: raw.references,
        windows,
        steps: Vec::new(),
    };
    for (i, p) in posts.iter().enumerate() {
        let p = p.expect("steps without a kind were reported above");
        if let Some(post) = check_post(v, &case, i, p) {
            case.steps.push(Step::Post(post));
        }
    }
    Some(case)
}

fn check_window(
    v: &mut Validator,
    name: &str,
    w: &RawWindow,
    lookup: &dyn Fn(&str) -> Option<usize>,
    known: &str,
) -> Checked {
    let path = format!("windows.{name}");
    let mut resolve = |field: &str, target: &Option<String>| -> Option<usize> {
        let target = target.as_ref()?;
        let found = lookup(target);
        if found.is_none() {
            v.error(
                &format!("{path}.{field}"),
                format!("unknown window `{target}` in `{field}` of `{name}`"),
                format!("use one of the windows this case declares: {known}"),
            );
        }
        found
    };
    let parent = resolve("parent", &w.parent);
    let opener = resolve("opener", &w.opener);
    if w.parent.is_some() && w.opener.is_some() {
        v.error(
            &format!("{path}.opener"),
            format!("window `{name}` has both a parent and an opener"),
            "an iframe has `parent`, a popup has `opener`; keep one",
        );
    }
    let is_iframe = w.parent.is_some();
    let is_top = w.parent.is_none() && w.opener.is_none();
    let mut attr_flags = SandboxingFlags::none();
    if let Some(sandbox) = &w.sandbox {
        if !is_iframe {
            v.error(
                &format!("{path}.sandbox"),
                format!("`sandbox` on `{name}`, which is not an iframe"),
                "only iframes (windows with `parent`) take a sandbox attribute",
            );
        }
        match SandboxingFlags::parse_directive(sandbox) {
            Ok(flags) => attr_flags = flags,
            Err(bad) => v.error(
                &format!("{path}.sandbox"),
                format!("`{}` is not a sandbox token", bad.0),
                format!(
                    "use tokens from: {}",
                    crate::sandbox::SANDBOX_TOKENS.join(" ")
                ),
            ),
        }
    }
    let content = match (&w.url, &w.srcdoc) {
        (Some(_), Some(_)) => {
            v.error(
                &format!("{path}.srcdoc"),
                format!("window `{name}` has both `url` and `srcdoc`"),
                "keep one of them",
            );
            None
        }
        (None, None) => {
            v.error(
                &path,
                format!("window `{name}` has neither `url` nor `srcdoc`"),
                "add `url: \"http://a.test/\"` (or `srcdoc` for an iframe)",
            );
            None
        }
        (None, Some(doc)) => {
            if !is_iframe {
                v.error(
                    &format!("{path}.srcdoc"),
                    format!("`srcdoc` on `{name}`, which is not an iframe"),
                    "only iframes have srcdoc; give it a `url`",
                );
            }
            Some(WindowContent::Srcdoc(doc.clone()))
        }
        (Some(u), None) => check_url(v, &format!("{path}.url"), name, u, is_iframe, is_top),
    };
    Checked {
        name: name.to_owned(),
        content,
        parent,
        opener,
        sandbox: w.sandbox.clone(),
        attr_flags,
        names_a_creator: w.parent.is_some() || w.opener.is_some(),
        url_as_written: w.url.clone(),
    }
}

fn check_url(
    v: &mut Validator,
    path: &str,
    name: &str,
    input: &str,
    is_iframe: bool,
    is_top: bool,
) -> Option<WindowContent> {
    let url = match Url::parse(input) {
        Ok(url) => url,
        Err(e) => {
            v.error(
                path,
                format!("`{input}` is not a URL ({e})"),
                "write an absolute URL such as http://a.test:8000/",
            );
            return None;
        }
    };
    match url.scheme() {
        "http" | "https" => {
            let host = url.host().expect("http URLs have a host");
            if let Err(why) = check_case_host(&host) {
                v.error(path, format!("host of `{input}` is not allowed"), why);
                return None;
            }
            if let Err(why) = crate::hosts::check_case_port(url.port()) {
                v.error(path, format!("`{input}` cannot be loaded"), why);
                return None;
            }
        }
        "data" if is_iframe => {}
        "data" => {
            v.error(
                path,
                format!("`{name}` loads a data: URL but is not an iframe"),
                "browsers block top-level data: navigations; use data: only for iframes",
            );
            return None;
        }
        "about" if matches_about_blank(&url) && !is_top => {}
        "about" => {
            v.error(
                path,
                format!("`{input}` cannot be loaded here"),
                "about:blank works for iframes and popups; the top window needs an http(s) URL",
            );
            return None;
        }
        other => {
            v.error(
                path,
                format!("`{other}:` URLs are not supported for windows"),
                "use http:, https:, data: (iframes) or about:blank",
            );
            return None;
        }
    }
    Some(WindowContent::Url(url))
}

/// Whether a document loaded from `content` is served over a potentially
/// trustworthy URL, given its creator's answer (inherited by about:blank,
/// srcdoc and data:).
fn trustworthy(content: &WindowContent, creator: Option<bool>) -> bool {
    match content {
        WindowContent::Url(u) if u.scheme() == "https" => true,
        WindowContent::Url(u) if u.scheme() == "http" => {
            matches!(
                u.host(),
                Some(Host::Ipv4(a)) if a.is_loopback()
            ) || matches!(u.host(), Some(Host::Ipv6(a)) if a.is_loopback())
        }
        _ => creator.unwrap_or(false),
    }
}

/// Checks that need the whole tree: mixed content and popups from sandboxes.
fn check_tree(v: &mut Validator, windows: &[Window]) {
    // For each window: whether it or any ancestor frame (up to its
    // top-level window) is potentially trustworthy.
    let mut secure_ancestry: Vec<bool> = Vec::new();
    let mut secure_self: Vec<bool> = Vec::new();
    for (i, w) in windows.iter().enumerate() {
        let creator = w.relation.creator().map(|c| secure_self[c]);
        let me = trustworthy(&w.content, creator);
        secure_self.push(me);
        let ancestry = match w.relation {
            Relation::Iframe { parent } => secure_ancestry[parent],
            _ => false,
        };
        if let (Relation::Iframe { parent }, false, true) = (w.relation, me, ancestry) {
            let path = format!("windows.{}.url", w.name);
            v.error(
                &path,
                format!(
                    "`{}` would be blocked as mixed content: it is http inside https `{}`",
                    w.name, windows[parent].name
                ),
                "use https for this frame, or http for the frames around it",
            );
        }
        secure_ancestry.push(ancestry || me);
        if let Relation::Popup { opener } = w.relation {
            if windows[opener].sandbox_flags.blocks_popups() {
                v.error(
                    &format!("windows.{}.opener", w.name),
                    format!(
                        "`{}` is sandboxed without allow-popups, so it cannot open `{}`",
                        windows[opener].name, w.name
                    ),
                    "add allow-popups to the opener's sandbox attribute",
                );
            }
        }
        let _ = i;
    }
}

fn check_post(v: &mut Validator, case: &Case, i: usize, p: &RawPost) -> Option<Post> {
    let path = format!("steps[{i}].post");
    let from = case.window_index(&p.from)?;
    let to = case.window_index(&p.to)?;
    for (field, w) in [("from", from), ("to", to)] {
        if case.windows[w].sandbox_flags.blocks_scripts() {
            v.error(
                &format!("{path}.{field}"),
                format!(
                    "`{}` is sandboxed without allow-scripts, so it cannot {}",
                    case.windows[w].name,
                    if field == "from" {
                        "post"
                    } else {
                        "listen for messages"
                    }
                ),
                "add allow-scripts to its sandbox attribute (or its ancestors')",
            );
        }
    }
    if reference_path(case, from, to).is_none() {
        v.error(
            &format!("{path}.to"),
            format!("script in `{}` has no way to reach `{}`", p.from, p.to),
            "a window reaches its parent, its opener, frames[i] of any window it reaches, and popups it opened itself; pick a reachable target",
        );
    }
    let message = match MessageValue::from_yaml(&p.message) {
        Ok(m) => Some(m),
        Err(e) => {
            v.error(&format!("{path}.message"), format!("bad message: {e}"), "see the tagged forms in the README (`$undefined`, `$number`, `$utf16`, `$buffer`, `$function`, `$symbol`)");
            None
        }
    };
    let mut transfer = None;
    if let Some(list) = &p.transfer {
        let mut known_buffers: Vec<String> =
            message.as_ref().map(|m| m.buffer_ids()).unwrap_or_default();
        for Step::Post(earlier) in &case.steps {
            if earlier.from == from {
                known_buffers.extend(earlier.message.buffer_ids());
                if let Some(t) = &earlier.transfer {
                    for item in t {
                        if let Transferable::Value(val) = item {
                            known_buffers.extend(val.buffer_ids());
                        }
                    }
                }
            }
        }
        let mut items = Vec::new();
        for (j, item) in list.iter().enumerate() {
            let item_path = format!("{path}.transfer[{j}]");
            match item {
                serde_yaml::Value::String(id) => {
                    if !known_buffers.contains(id) {
                        v.error(
                            &item_path,
                            format!("transfer names buffer `{id}`, which `{}` never created", p.from),
                            format!("put {{$buffer: {{id: {id}, bytes: [...]}}}} in this or an earlier message from `{}`, or write the buffer inline in the transfer list", p.from),
                        );
                    }
                    items.push(Transferable::BufferId(id.clone()));
                }
                other => match MessageValue::from_yaml(other) {
                    Ok(value) => items.push(Transferable::Value(value)),
                    Err(e) => v.error(
                        &item_path,
                        format!("bad transfer entry: {e}"),
                        "a transfer entry is a buffer id or a tagged value",
                    ),
                },
            }
        }
        transfer = Some(items);
    }
    Some(Post {
        from,
        to,
        message: message?,
        target_origin: p.target_origin.clone(),
        transfer,
    })
}
