//! Each window of a case as the exported test's script sees it: how it
//! reaches the other windows (the same paths pages use: `parent`,
//! `opener`, `frames[i]`, a popup's handle), the frames and popups it
//! creates, the windows it posts to and hears from, and its steps as
//! JavaScript functions.

use super::hosts::{HostMap, Role};
use super::js::{arg_expr, string_literal, transfer_expr, value_expr};
use super::refusal::{Refusal, RefusalGroup};
use pmconf_model::case::{
    reference_path, CallForm, Case, Hop, Post, Relation, Step, WindowContent, WindowIndex,
};

/// A path of hops as the shared script reads it.
pub fn hops_json(case: &Case, hops: &[Hop]) -> String {
    let parts: Vec<String> = hops
        .iter()
        .map(|h| match h {
            Hop::Parent => "'parent'".to_owned(),
            Hop::Opener => "'opener'".to_owned(),
            Hop::Frame(i) => i.to_string(),
            Hop::PopupHandle(w) => format!("{{popup: {}}}", string_literal(&case.windows[*w].name)),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// A path from `from` to `to`, or a refusal naming why the test needs it.
pub fn path(
    case: &Case,
    from: WindowIndex,
    to: WindowIndex,
    why: &str,
) -> Result<Vec<Hop>, Refusal> {
    reference_path(case, from, to).ok_or_else(|| {
        Refusal::new(
            RefusalGroup::WindowShape,
            format!(
                "{} cannot reach {} by script, which the exported test needs {why}",
                case.windows[from].name, case.windows[to].name
            ),
        )
    })
}

/// The origin part of a window URL as written (scheme and authority).
pub fn origin_part(written: &str) -> &str {
    let Some(after) = written.find("//").map(|i| i + 2) else {
        return written;
    };
    let end = written[after..]
        .find(['/', '?', '#', '\\'])
        .map_or(written.len(), |i| after + i);
    &written[..end]
}

/// What a window's creator needs to create it.
pub enum ChildContent {
    /// An http(s) URL: the origin as spelled, to which the helper's path
    /// is added.
    Url(String),
    /// Inline documents: `srcdoc`, `data:` or the initial `about:blank`
    /// written with `document.write`.
    Inline(&'static str),
}

/// How `w` is loaded, for its creator.
pub fn child_content(
    case: &Case,
    w: WindowIndex,
    map: &mut HostMap,
) -> Result<ChildContent, Refusal> {
    let window = &case.windows[w];
    Ok(match &window.content {
        WindowContent::Srcdoc(_) => ChildContent::Inline("srcdoc"),
        WindowContent::Url(u) if u.scheme() == "data" => {
            if !matches!(window.relation, Relation::Iframe { .. }) {
                return Err(Refusal::new(RefusalGroup::WindowShape, "a data: popup"));
            }
            ChildContent::Inline("data")
        }
        WindowContent::Url(u) if u.as_str() == "about:blank" => {
            if !matches!(window.relation, Relation::Iframe { .. }) {
                return Err(Refusal::new(
                    RefusalGroup::WindowShape,
                    "an about:blank popup",
                ));
            }
            ChildContent::Inline("blank")
        }
        WindowContent::Url(u) => {
            let written = window
                .url_as_written
                .clone()
                .unwrap_or_else(|| u.to_string());
            ChildContent::Url(map.spell(origin_part(&written), Role::Loaded)?.js())
        }
    })
}

/// A window's entry in its creator's `children` (or a `create` step):
/// `{name, kind, url or html, sandbox}`. `url` is an expression for an
/// http(s) window's URL, `html` the document of an inline one (`kind`
/// `srcdoc`, `data` or `blank`).
pub fn child_literal(
    case: &Case,
    c: WindowIndex,
    content: &ChildContent,
    url_or_html: &str,
) -> String {
    let window = &case.windows[c];
    let sandbox = window
        .sandbox_attribute
        .as_ref()
        .map(|s| format!(", sandbox: {}", string_literal(s)))
        .unwrap_or_default();
    let name = string_literal(&window.name);
    match content {
        ChildContent::Url(_) => format!(
            "{{name: {name}, kind: '{}', url: {url_or_html}{sandbox}}}",
            if matches!(window.relation, Relation::Popup { .. }) {
                "popup"
            } else {
                "url"
            }
        ),
        ChildContent::Inline(kind) => format!(
            "{{name: {name}, kind: '{kind}', html: {}{sandbox}}}",
            string_literal(url_or_html)
        ),
    }
}

/// The windows `w` posts to, in order.
pub fn targets(case: &Case, w: WindowIndex) -> Vec<WindowIndex> {
    let mut out = Vec::new();
    for (_, p) in case.posts() {
        if p.from == w && !out.contains(&p.to) {
            out.push(p.to);
        }
    }
    out
}

/// The windows that post to `w`, in order.
pub fn senders(case: &Case, w: WindowIndex) -> Vec<WindowIndex> {
    let mut out = Vec::new();
    for (_, p) in case.posts() {
        if p.to == w && !out.contains(&p.from) {
            out.push(p.from);
        }
    }
    out
}

/// The arguments of a post's call.
pub fn call_args(p: &Post, map: &mut HostMap) -> Result<String, Refusal> {
    let mut spell = |s: &str| map.spell(s, Role::Named).map(|x| x.js());
    let message = value_expr(&p.message);
    Ok(match &p.form {
        CallForm::Positional => match (&p.target_origin, &p.transfer) {
            (None, None) => message?,
            (Some(t), None) => format!("{}, {}", message?, spell(t)?),
            (None, Some(tr)) => format!("{}, {{transfer: {}}}", message?, transfer_expr(tr)?),
            (Some(t), Some(tr)) => format!("{}, {}, {}", message?, spell(t)?, transfer_expr(tr)?),
        },
        CallForm::Options => {
            let mut members = Vec::new();
            if let Some(t) = &p.target_origin {
                members.push(format!("targetOrigin: {}", spell(t)?));
            }
            if let Some(tr) = &p.transfer {
                members.push(format!("transfer: {}", transfer_expr(tr)?));
            }
            format!("{}, {{{}}}", message?, members.join(", "))
        }
        CallForm::Args(args) => {
            let mut parts = Vec::new();
            for (i, a) in args.iter().enumerate() {
                parts.push(match (i, a) {
                    (0, pmconf_model::call_args::ArgValue::Value(v)) => value_expr(v)?,
                    _ => arg_expr(a, &mut spell)?,
                });
            }
            parts.join(", ")
        }
    })
}

/// One post as a step function `(w, reply) => ...`.
pub fn step_fn(case: &Case, p: &Post, map: &mut HostMap) -> Result<String, Refusal> {
    let target = match p.reply_to {
        Some(_) => format!("reply({})", string_literal(&case.windows[p.to].name)),
        None => format!("w[{}]", string_literal(&case.windows[p.to].name)),
    };
    let args = call_args(p, map)?;
    let Some(f) = p.function_of else {
        return Ok(format!("(w, reply) => {target}.postMessage({args})"));
    };
    // `function_of`: W's own postMessage function, called with the target
    // as `this`. What it throws is reported with the window whose realm
    // made it (`SyntaxError@W`), as the model's outcome says: an exception
    // is an instance of its realm's Error (a DOMException's prototype
    // chain ends in its realm's Error.prototype).
    let this_and_args = if args.is_empty() {
        target
    } else {
        format!("{target}, {args}")
    };
    let f_name = string_literal(&case.windows[f].name);
    let caller = string_literal(&case.windows[p.from].name);
    Ok(format!(
        "(w, reply) => {{\n    const f = w[{f_name}];\n    try {{\n      f.postMessage.call({this_and_args});\n    }} catch (e) {{\n      const realm = e instanceof f.Error ? {f_name} : e instanceof Error ? {caller} : '?';\n      throw {{name: String(e && e.name) + '@' + realm}};\n    }}\n  }}"
    ))
}

/// A one-line description of a post for assertion messages: a
/// JavaScript expression (its targetOrigin is spelled with WPT's tokens).
pub fn describe_post(case: &Case, p: &Post, map: &mut HostMap) -> Result<String, Refusal> {
    let head = format!(
        "{} → {}{}",
        case.windows[p.from].name,
        case.windows[p.to].name,
        if p.reply_to.is_some() {
            " (reply to event.source)"
        } else {
            ""
        }
    );
    Ok(match (&p.form, &p.target_origin) {
        (CallForm::Args(_), _) => string_literal(&format!("{head}, raw arguments")),
        (_, Some(t)) => format!(
            "{} + JSON.stringify({})",
            string_literal(&format!("{head}, targetOrigin ")),
            map.spell(t, Role::Named)?.js()
        ),
        (_, None) => string_literal(&format!("{head}, no targetOrigin")),
    })
}

/// Refuses what the exported test cannot drive: ports and isolation,
/// windows without script.
pub fn check_shape(case: &Case) -> Result<(), Refusal> {
    if case.is_isolated()
        || case
            .steps
            .iter()
            .any(|s| matches!(s, Step::Channel { .. } | Step::PortPost(_)))
        || case
            .posts()
            .any(|(_, p)| p.message.contains_shared_buffer() || !p.message.port_names().is_empty())
    {
        return Err(Refusal::new(
            RefusalGroup::PortsOrIsolation,
            "MessagePorts, SharedArrayBuffers or cross-origin isolation: not exported by this version",
        ));
    }
    // Race tests take their steps as `go => ...` functions without the
    // window references a cross-window call or another realm's Error uses.
    if case.is_race() {
        if let Some((i, p)) = case.posts().find(|(_, p)| p.function_of.is_some()) {
            return Err(Refusal::new(
                RefusalGroup::CallShape,
                format!(
                    "step {i} calls `{}`'s postMessage function with `{}` as this (`function_of`): a cross-window call in a race case is not written yet",
                    case.windows[p.function_of.expect("found")].name,
                    case.windows[p.to].name
                ),
            ));
        }
        if let Some((i, r)) = case
            .posts()
            .find_map(|(i, p)| p.error_realms().first().map(|r| (i, r.clone())))
        {
            return Err(Refusal::new(
                RefusalGroup::ValueKind,
                format!("step {i} posts an Error made in `{r}`'s realm: in a race case, not written yet"),
            ));
        }
    }
    for w in &case.windows {
        if let Some(attr) = &w.sandbox_attribute {
            if !attr
                .split_ascii_whitespace()
                .any(|t| t.eq_ignore_ascii_case("allow-scripts"))
            {
                return Err(Refusal::new(
                    RefusalGroup::WindowShape,
                    format!(
                        "window `{}` is sandboxed without allow-scripts: no script of the test can run in it",
                        w.name
                    ),
                ));
            }
        }
        if w.relation != Relation::Top
            && !matches!(w.content, WindowContent::Url(_) | WindowContent::Srcdoc(_))
        {
            return Err(Refusal::new(
                RefusalGroup::WindowShape,
                format!("window `{}`", w.name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::refusal::RefusalGroup;

    /// A growable SharedArrayBuffer (`max_byte_length`) is refused like a
    /// fixed-length one, isolated or not: the exporter writes no
    /// SharedArrayBuffer yet, and says so.
    #[test]
    fn a_growable_shared_buffer_is_refused_as_not_exported_yet() {
        for top in [
            "{ url: 'https://a.test/', isolated: true }",
            "{ url: 'https://a.test/' }",
        ] {
            let case = pmconf_model::parse_case(
                "t.yaml",
                &format!("description: d\nwindows:\n  top: {top}\nsteps:\n  - post: {{ from: top, to: top, message: {{$sab: {{bytes: [1], max_byte_length: 4}}}}, target_origin: '*' }}\n"),
            )
            .unwrap();
            let refusal = check_shape(&case).unwrap_err();
            assert_eq!(refusal.group, RefusalGroup::PortsOrIsolation, "{top}");
            assert!(
                refusal.reason.contains("not exported by this version"),
                "{}",
                refusal.reason
            );
        }
    }
}
