//! Validation: from the file as written to a [`Case`] the model can run,
//! collecting every problem rather than stopping at the first.

use super::raw::{
    RawCase, RawChannel, RawFragment, RawNavigate, RawPortCall, RawPortPost, RawPost, RawSetDomain,
    RawStep, RawWait, RawWindow, RawWindowRef, STEP_KINDS,
};

use super::schema::{strip_unknown, Unknown};
use super::source_map::{Location, SourceMap};
use super::suggest::nearest;
use super::{
    CallForm, Case, CaseError, Navigate, NavigateVia, PortAction, Post, Relation, Step, Topology,
    Window, WindowContent,
};
use crate::call_args::ArgValue;
use crate::document::matches_about_blank;
use crate::hosts::check_case_host;
use crate::message::{MessageValue, Transferable};
use crate::sandbox::SandboxingFlags;
use serde::Deserialize;
use url::{Host, Url};

mod isolation;
mod ports;
use isolation::check_isolation;
use ports::{check_channel, check_port_call, check_port_post, check_ports};

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
    // Every unknown field first, all of them: serde would stop at the
    // first. The file without them is then validated in the same pass.
    if let Ok(mut value) = serde_yaml::from_str::<serde_yaml::Value>(text) {
        let unknown = strip_unknown(&mut value);
        if !unknown.is_empty() {
            for u in &unknown {
                report_unknown(&mut v, u);
            }
            if let Ok(raw) = RawCase::deserialize(value) {
                validate(&mut v, raw);
            }
            return Err(in_file_order(v.errors));
        }
    }
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
        _ => Err(in_file_order(v.errors)),
    }
}

/// Every error of a file, in the order a reader meets them: by line, then
/// column (errors are found check by check, not line by line).
fn in_file_order(mut errors: Vec<CaseError>) -> Vec<CaseError> {
    errors.sort_by_key(|e| (e.location.line, e.location.column));
    errors
}

fn report_unknown(v: &mut Validator, u: &Unknown) {
    let what = if u.place == "a step" {
        format!("unknown step kind `{}`", u.key)
    } else {
        format!("unknown field `{}` in {}", u.key, u.place)
    };
    let fix = match nearest(&u.key, u.expected) {
        Some(name) => format!(
            "did you mean `{name}`? (expected one of: {})",
            u.expected.join(", ")
        ),
        None => format!("remove it, or use one of: {}", u.expected.join(", ")),
    };
    let location = v
        .map
        .locate(&u.path)
        .unwrap_or_else(|| v.map.locate_nearest(&u.path));
    v.error_at(location, what, fix);
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
        "check the step's name; see the step kinds in docs/src/cases.md".into()
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
    isolated: bool,
}

/// Validates `raw`, adding to the errors found before (unknown fields,
/// already stripped from it). Those, and an empty description, leave the
/// rest of the case whole: they are set aside while it is built, so the
/// checks of the whole case (replies, isolation, ports), which stand down
/// while anything in the case itself is wrong, still run.
fn validate(v: &mut Validator, raw: RawCase) -> Option<Case> {
    if raw.description.trim().is_empty() {
        v.error(
            "description",
            "the description is empty",
            "say in one line what the case checks",
        );
    }
    let aside = std::mem::take(&mut v.errors);
    let case = build_case(v, raw);
    v.errors.splice(0..0, aside);
    case
}

fn build_case(v: &mut Validator, raw: RawCase) -> Option<Case> {
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

    // The tree can be built when every window has a document and the
    // creator it names, and there is one top window and no cycle. Other
    // window errors (a bad name, a stray sandbox) leave it sound: they are
    // set aside, as unknown fields are, and the steps are checked all the
    // same.
    let tree_sound = tops.len() == 1
        && !reported.contains(&true)
        && checked
            .iter()
            .all(|c| c.content.is_some() && (!c.names_a_creator || creator_of(c).is_some()));
    let window_errors: Vec<CaseError> = v.errors.drain(..).collect();

    // Flatten `same_task` groups; every step has exactly one kind.
    let flat = flatten_steps(v, &raw.steps);
    if raw.steps.is_empty() {
        v.error(
            "steps",
            "the case has no steps",
            "add at least one `- post: {...}` step",
        );
    }
    // Window names can be checked without a sound tree; a step that names
    // an unknown window is reported here and left out of the checks below.
    let flat: Vec<FlatStep> = flat
        .into_iter()
        .filter(|f| {
            let mut names_known = true;
            for (field, name) in f.step.window_names() {
                if lookup(name).is_none() {
                    names_known = false;
                    v.error(
                        &format!("{}.{}.{field}", f.path, f.kind),
                        format!("unknown window `{name}` in `{field}`"),
                        format!("use one of the windows this case declares: {known}"),
                    );
                }
            }
            names_known
        })
        .collect();
    // Which windows `create` steps create; a second `create` of a window is
    // reported and left out.
    let mut creates: Vec<usize> = Vec::new();
    let flat: Vec<FlatStep> = flat
        .into_iter()
        .filter(|f| {
            let RawSingle::Create(r) = &f.step else {
                return true;
            };
            let w = lookup(&r.window).expect("names were checked");
            if creates.contains(&w) {
                v.error(
                    &format!("{}.create.window", f.path),
                    format!("`{}` is created twice", r.window),
                    "create each window once",
                );
                return false;
            }
            creates.push(w);
            true
        })
        .collect();
    let mut created_by: Vec<Option<usize>> = vec![None; checked.len()];
    for (i, f) in flat.iter().enumerate() {
        if let RawSingle::Create(r) = &f.step {
            created_by[lookup(&r.window).expect("names were checked")] = Some(i);
        }
    }
    if !tree_sound {
        v.errors.splice(0..0, window_errors);
        return None;
    }
    let case = build_steps(v, &raw, checked, created_by, &flat);
    v.errors.splice(0..0, window_errors);
    case
}

/// The window `c`'s `parent` or `opener` names, when it resolved.
fn creator_of(c: &Checked) -> Option<usize> {
    c.parent.or(c.opener)
}

/// Builds the window tree in creation order, then checks every step
/// against it.
fn build_steps(
    v: &mut Validator,
    raw: &RawCase,
    checked: Vec<Checked>,
    created_by: Vec<Option<usize>>,
    flat: &[FlatStep],
) -> Option<Case> {
    let creator = |i: usize| creator_of(&checked[i]);
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
            created_by_step: created_by[old],
            isolated: c.isolated,
        });
    }
    check_tree(v, &windows);

    let mut case = Case {
        description: raw.description.clone(),
        tags: raw.tags.clone(),
        references: raw.references.clone(),
        windows,
        steps: Vec::new(),
        task_of_step: Vec::new(),
    };
    check_steps(v, &mut case, flat);
    check_replies(v, &case, flat);
    check_isolation(v, &case);
    check_ports(v, &case, flat);
    Some(case)
}

/// A post's target: `to`, or with `reply: true` the sender of the latest
/// earlier post to `from` (and that post's step).
fn post_target(
    v: &mut Validator,
    case: &Case,
    path: &str,
    from: usize,
    p: &RawPost,
) -> Option<(usize, Option<usize>)> {
    match (&p.to, p.reply) {
        (Some(to), false) => Some((case.window_index(to)?, None)),
        (Some(_), true) => {
            v.error(
                &format!("{path}.reply"),
                "a post has `to` and `reply: true`",
                "keep `to` to name the target, or `reply: true` to answer event.source",
            );
            None
        }
        (None, false) => {
            v.error(
                path,
                "a post without `to`",
                "add `to: WINDOW`, or `reply: true` to answer the last message this window received",
            );
            None
        }
        (None, true) => {
            let answered = case
                .steps
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, s)| s.as_post().filter(|q| q.to == from).map(|q| (i, q.from)));
            match answered {
                Some((step, sender)) => Some((sender, Some(step))),
                None => {
                    v.error(
                        &format!("{path}.reply"),
                        format!("`reply: true`, but no earlier post is to `{}`", p.from),
                        "a reply answers the latest earlier post to its `from`: post to it first, or name the target with `to`",
                    );
                    None
                }
            }
        }
    }
}

/// Replies are for cases without race steps, and answer a message that
/// is delivered (otherwise there is no `event.source` to reply to).
fn check_replies(v: &mut Validator, case: &Case, flat: &[FlatStep]) {
    let replies: Vec<(usize, usize)> = case
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_post().and_then(|p| p.reply_to).map(|n| (i, n)))
        .collect();
    if replies.is_empty() || !v.errors.is_empty() {
        return;
    }
    let path = |i: usize| format!("{}.post.reply", flat[i].path);
    if case.is_race() {
        for (i, _) in replies {
            v.error(
                &path(i),
                "`reply: true` in a race case",
                "NOTE: pmconf models replies only in cases whose steps are all posts (no document is replaced, so event.source is the sender's current Window); name the target with `to` here",
            );
        }
        return;
    }
    let delivered = crate::answer::delivered_posts(case);
    for (i, n) in replies {
        if !delivered.contains(&n) {
            v.error(
                &path(i),
                format!("`reply: true` answers step {n}, whose message is never delivered (it throws or its targetOrigin does not match), so there is no event.source"),
                format!("make step {n}'s message reach `{}`, or name the target with `to`", case.windows[case.steps[i].as_post().expect("a post").from].name),
            );
        }
    }
}

/// One step of the file with its kind resolved.
enum RawSingle<'a> {
    Post(&'a RawPost),
    Navigate(&'a RawNavigate),
    Reload(&'a RawWindowRef),
    Remove(&'a RawWindowRef),
    Close(&'a RawWindowRef),
    PushState(&'a RawWindowRef),
    Fragment(&'a RawFragment),
    SetDomain(&'a RawSetDomain),
    Create(&'a RawWindowRef),
    Wait(&'a RawWait),
    Channel(&'a RawChannel),
    PortPost(&'a RawPortPost),
    PortStart(&'a RawPortCall),
    PortClose(&'a RawPortCall),
}

impl RawSingle<'_> {
    /// The window names the step mentions, with their field names.
    fn window_names(&self) -> Vec<(&'static str, &str)> {
        match self {
            RawSingle::Post(p) => {
                let mut out = vec![("from", p.from.as_str())];
                if let Some(to) = &p.to {
                    out.push(("to", to.as_str()));
                }
                out
            }
            RawSingle::Navigate(n) => {
                let mut out = vec![("window", n.window.as_str())];
                if let Some(by) = &n.by {
                    out.push(("by", by.as_str()));
                }
                out
            }
            RawSingle::Reload(r)
            | RawSingle::Remove(r)
            | RawSingle::Close(r)
            | RawSingle::PushState(r)
            | RawSingle::Create(r) => vec![("window", r.window.as_str())],
            RawSingle::Fragment(f) => vec![("window", f.window.as_str())],
            RawSingle::SetDomain(d) => vec![("window", d.window.as_str())],
            RawSingle::Wait(w) => vec![("loaded", w.loaded.as_str())],
            RawSingle::Channel(c) => vec![("window", c.window.as_str())],
            RawSingle::PortPost(p) => p.from.iter().map(|f| ("from", f.as_str())).collect(),
            RawSingle::PortStart(p) | RawSingle::PortClose(p) => {
                p.from.iter().map(|f| ("from", f.as_str())).collect()
            }
        }
    }
}

/// A flattened step: where it is in the file, its kind and its task.
struct FlatStep<'a> {
    path: String,
    kind: &'static str,
    task: usize,
    step: RawSingle<'a>,
}

fn single<'a>(
    v: &mut Validator,
    path: &str,
    step: &'a RawStep,
) -> Option<(&'static str, RawSingle<'a>)> {
    let kinds = step.kinds();
    if kinds.len() != 1 {
        let message = if kinds.is_empty() {
            "a step with no kind".to_owned()
        } else {
            format!("a step with {} kinds: {}", kinds.len(), kinds.join(", "))
        };
        v.error(
            path,
            message,
            format!("write each step as a map with one key, one of: {STEP_KINDS}"),
        );
        return None;
    }
    let s = if let Some(p) = &step.post {
        RawSingle::Post(p)
    } else if let Some(n) = &step.navigate {
        RawSingle::Navigate(n)
    } else if let Some(r) = &step.reload {
        RawSingle::Reload(r)
    } else if let Some(r) = &step.remove {
        RawSingle::Remove(r)
    } else if let Some(r) = &step.close {
        RawSingle::Close(r)
    } else if let Some(r) = &step.push_state {
        RawSingle::PushState(r)
    } else if let Some(f) = &step.fragment {
        RawSingle::Fragment(f)
    } else if let Some(d) = &step.set_domain {
        RawSingle::SetDomain(d)
    } else if let Some(r) = &step.create {
        RawSingle::Create(r)
    } else if let Some(w) = &step.wait {
        RawSingle::Wait(w)
    } else if let Some(c) = &step.channel {
        RawSingle::Channel(c)
    } else if let Some(p) = &step.port_post {
        RawSingle::PortPost(p)
    } else if let Some(p) = &step.port_start {
        RawSingle::PortStart(p)
    } else if let Some(p) = &step.port_close {
        RawSingle::PortClose(p)
    } else {
        return None; // same_task, handled by the caller
    };
    Some((kinds[0], s))
}

fn flatten_steps<'a>(v: &mut Validator, steps: &'a [RawStep]) -> Vec<FlatStep<'a>> {
    let mut out = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let path = format!("steps[{i}]");
        if let (Some(group), 1) = (&step.same_task, step.kinds().len()) {
            if group.is_empty() {
                v.error(
                    &format!("{path}.same_task"),
                    "an empty `same_task` group",
                    "list the steps to run in one task, or remove the group",
                );
            }
            for (j, member) in group.iter().enumerate() {
                let mpath = format!("{path}.same_task[{j}]");
                if member.same_task.is_some() {
                    v.error(
                        &mpath,
                        "`same_task` inside `same_task`",
                        "flatten the groups into one list",
                    );
                    continue;
                }
                if member.wait.is_some() {
                    v.error(
                        &mpath,
                        "`wait` inside `same_task`: a task cannot wait for another task",
                        "move the `wait` step before or after the group",
                    );
                    continue;
                }
                if let Some((kind, s)) = single(v, &mpath, member) {
                    out.push(FlatStep {
                        path: mpath,
                        kind,
                        task: i,
                        step: s,
                    });
                }
            }
            continue;
        }
        if let Some((kind, s)) = single(v, &path, step) {
            out.push(FlatStep {
                path,
                kind,
                task: i,
                step: s,
            });
        }
    }
    out
}

/// Checks every step against the window tree as it stands when the step
/// runs, and builds the case's steps.
fn check_steps(v: &mut Validator, case: &mut Case, flat: &[FlatStep]) {
    let name = |case: &Case, w: usize| case.windows[w].name.clone();
    let mut topo = Topology::initial(case);
    // The window whose script runs each task (a `same_task` group runs
    // in one script).
    let mut task_actor: Vec<(usize, usize, String)> = Vec::new();
    // The URL each window's current document was loaded from.
    let mut current_url: Vec<Option<Url>> = case
        .windows
        .iter()
        .map(|w| match &w.content {
            WindowContent::Url(u) => Some(u.clone()),
            WindowContent::Srcdoc(_) => None,
        })
        .collect();
    // The `document.domain` each window's current document set, if any:
    // its origin's domain, which is then its effective domain.
    let mut domain_set: Vec<Option<String>> = vec![None; case.windows.len()];
    for f in flat {
        let look = |n: &str| case.window_index(n).expect("names were checked");
        let step = match &f.step {
            RawSingle::Post(p) => {
                let Some(post) = check_post(v, case, &topo, &f.path, p) else {
                    // The call is wrong; whether its windows can take the
                    // step is checked all the same, in the same pass.
                    let from = look(&p.from);
                    let stand_in = Step::Post(Post {
                        from,
                        to: p.to.as_deref().map_or(from, look),
                        message: MessageValue::Undefined,
                        target_origin: None,
                        transfer: None,
                        form: CallForm::Positional,
                        reply_to: None,
                    });
                    check_step_windows(v, case, &topo, f, &stand_in);
                    continue;
                };
                Step::Post(post)
            }
            RawSingle::Navigate(n) => {
                let window = look(&n.window);
                let by = n.by.as_deref().map(look).unwrap_or(window);
                let path = format!("{}.navigate", f.path);
                let via = match n.via.as_deref() {
                    None | Some("location") => NavigateVia::Location,
                    Some("src") => NavigateVia::Src,
                    Some(other) => {
                        v.error(
                            &format!("{path}.via"),
                            format!("unknown `via: {other}`"),
                            "use `location` (the default) or `src`",
                        );
                        continue;
                    }
                };
                let relation = case.windows[window].relation;
                let allowed_by = by == window || relation.creator() == Some(by);
                if !allowed_by {
                    v.error(
                        &format!("{path}.by"),
                        format!(
                            "`{}` cannot be navigated by `{}` in a case",
                            n.window,
                            name(case, by)
                        ),
                        "navigate a window from its own script, its parent or its opener",
                    );
                    continue;
                }
                if via == NavigateVia::Src && relation != (Relation::Iframe { parent: by }) {
                    v.error(
                        &format!("{path}.via"),
                        "`via: src` sets an iframe's src, which only its parent can do",
                        format!(
                            "set `by` to `{}`'s parent, or use `via: location`",
                            n.window
                        ),
                    );
                    continue;
                }
                if by != window && topo.path(case, by, window).is_none() {
                    v.error(
                        &format!("{path}.window"),
                        format!("script in `{}` cannot reach `{}` at this step", name(case, by), n.window),
                        "it was removed, closed or its parent navigated away; navigate a window that exists",
                    );
                    continue;
                }
                let Some(url) = check_navigation_url(
                    v,
                    case,
                    &current_url,
                    &format!("{path}.url"),
                    window,
                    &n.url,
                ) else {
                    continue;
                };
                // Navigate, step 13: a URL equal to the current one apart
                // from a non-null fragment navigates to a fragment, in the
                // same document. The harness serves each navigation from
                // its own path, so it could not reproduce that here.
                // <https://html.spec.whatwg.org/multipage/browsing-the-web.html#navigate>
                let same_but_fragment = current_url[window].as_ref().is_some_and(|cur| {
                    let mut a = cur.clone();
                    a.set_fragment(None);
                    let mut b = url.clone();
                    b.set_fragment(None);
                    a == b && url.fragment().is_some()
                });
                if same_but_fragment {
                    v.error(
                        &format!("{path}.url"),
                        format!("`{}` differs from `{}`'s current URL only in its fragment: that is a fragment navigation, in the same document", n.url, n.window),
                        format!("use `- fragment: {{window: {}, fragment: ...}}`", n.window),
                    );
                    continue;
                }
                current_url[window] = Some(url.clone());
                domain_set[window] = None;
                Step::Navigate(Navigate {
                    window,
                    by,
                    via,
                    url,
                    url_as_written: n.url.clone(),
                })
            }
            RawSingle::Reload(r) => {
                let window = look(&r.window);
                let http = current_url[window]
                    .as_ref()
                    .is_some_and(|u| matches!(u.scheme(), "http" | "https"));
                if !http {
                    v.error(
                        &format!("{}.reload.window", f.path),
                        format!("`{}` is not an http(s) document: pmconf's agent would not run again after a reload", r.window),
                        "reload windows loaded from http(s) URLs",
                    );
                    continue;
                }
                domain_set[window] = None;
                Step::Reload { window }
            }
            RawSingle::Remove(r) => {
                let window = look(&r.window);
                if !matches!(case.windows[window].relation, Relation::Iframe { .. }) {
                    v.error(
                        &format!("{}.remove.window", f.path),
                        format!("`{}` is not an iframe, so it cannot be removed", r.window),
                        "remove an iframe (a window with `parent`); `close` a popup",
                    );
                    continue;
                }
                Step::Remove { window }
            }
            RawSingle::Close(r) => {
                let window = look(&r.window);
                if !matches!(case.windows[window].relation, Relation::Popup { .. }) {
                    v.error(
                        &format!("{}.close.window", f.path),
                        format!(
                            "`{}` is not a popup, so its opener cannot close it",
                            r.window
                        ),
                        "close a popup (a window with `opener`); `remove` an iframe",
                    );
                    continue;
                }
                if topo.exists[window] && !topo.handle_held[window] {
                    v.error(
                        &format!("{}.close.window", f.path),
                        format!(
                            "`{}`'s opener no longer holds its handle (it navigated since)",
                            r.window
                        ),
                        "close the popup before its opener navigates",
                    );
                    continue;
                }
                Step::Close { window }
            }
            RawSingle::PushState(r) => Step::PushState {
                window: look(&r.window),
            },
            RawSingle::Fragment(fr) => {
                if fr.fragment.contains('#') || fr.fragment.is_empty() {
                    v.error(
                        &format!("{}.fragment.fragment", f.path),
                        "the fragment is empty or contains `#`",
                        "give the fragment without `#`, such as `section-2`",
                    );
                    continue;
                }
                Step::Fragment {
                    window: look(&fr.window),
                    fragment: fr.fragment.clone(),
                }
            }
            RawSingle::SetDomain(d) => {
                let window = look(&d.window);
                if case.windows[window].sandbox_flags.is_sandboxed() {
                    v.error(
                        &format!("{}.set_domain.window", f.path),
                        format!("`{}` is sandboxed, so setting document.domain throws (the sandboxed document.domain browsing context flag)", d.window),
                        "set document.domain in a window without a sandbox attribute",
                    );
                    continue;
                }
                if let Err(why) = check_domain(
                    current_url[window].as_ref(),
                    domain_set[window].as_deref(),
                    &d.domain,
                ) {
                    v.error(&format!("{}.set_domain.domain", f.path), format!("`document.domain = \"{}\"` would throw: {why}", d.domain), "assign the document's effective domain (its host, or what it set document.domain to) or a parent domain of it with at least two labels (`a.test` for `sub.a.test`)");
                    continue;
                }
                domain_set[window] = Some(d.domain.to_ascii_lowercase());
                Step::SetDomain {
                    window,
                    domain: d.domain.clone(),
                }
            }
            RawSingle::Create(r) => {
                let window = look(&r.window);
                let content = &case.windows[window].content;
                let http = matches!(content, WindowContent::Url(u) if u.scheme() == "http");
                let above = mixed_content_ancestor(case, &current_url, window, |u| {
                    trustworthy(&WindowContent::Url(u.clone()), None)
                });
                if let (true, false, Some(at)) = (http, trustworthy(content, None), above) {
                    v.error(
                        &format!("{}.create.window", f.path),
                        format!(
                            "`{}` would be blocked as mixed content: it is http inside `{}`, whose document is now `{}`",
                            r.window,
                            case.windows[at].name,
                            current_url[at].as_ref().map_or("", |u| u.as_str())
                        ),
                        "create the frame before that window navigates to https, or give the frame an https URL",
                    );
                    continue;
                }
                Step::Create { window }
            }
            RawSingle::Wait(w) => Step::WaitLoaded {
                window: look(&w.loaded),
            },
            RawSingle::Channel(c) => {
                let Some(ports) = check_channel(v, case, &f.path, c) else {
                    continue;
                };
                Step::Channel {
                    window: look(&c.window),
                    ports,
                    start: c.start.unwrap_or(true),
                }
            }
            RawSingle::PortPost(p) => {
                let Some(post) = check_port_post(v, case, &f.path, p) else {
                    continue;
                };
                Step::PortPost(post)
            }
            RawSingle::PortStart(p) | RawSingle::PortClose(p) => {
                let action = if matches!(f.step, RawSingle::PortStart(_)) {
                    PortAction::Start
                } else {
                    PortAction::Close
                };
                let Some(from) = check_port_call(v, case, &f.path, f.kind, p) else {
                    continue;
                };
                Step::PortCall {
                    from,
                    port: p.port.clone(),
                    action,
                }
            }
        };
        if !check_step_windows(v, case, &topo, f, &step) {
            continue;
        }
        if let Some(actor) = step.actor(case) {
            match task_actor.iter().find(|(t, _, _)| *t == f.task) {
                Some((_, other, other_path)) if *other != actor => {
                    v.error(
                        &f.path,
                        format!(
                            "one `same_task` group runs in one window's script, but this step runs in `{}` and {other_path} in `{}`",
                            name(case, actor),
                            name(case, *other)
                        ),
                        "split the group: steps taken by different windows are different tasks",
                    );
                    continue;
                }
                Some(_) => {}
                None => task_actor.push((f.task, actor, f.path.clone())),
            }
        }
        if let Step::PushState { window } | Step::Fragment { window, .. } = step {
            let http = current_url[window]
                .as_ref()
                .is_some_and(|u| matches!(u.scheme(), "http" | "https"));
            if !http {
                v.error(
                    &format!("{}.{}.window", f.path, f.kind),
                    format!(
                        "`{}` is not an http(s) document, so it cannot change its URL",
                        name(case, window)
                    ),
                    "use push_state and fragment in windows loaded from http(s) URLs",
                );
                continue;
            }
        }
        // The URL the window's document now has.
        match &step {
            Step::PushState { window } => {
                if let Some(u) = current_url[*window].as_mut() {
                    u.set_query(Some("pushed"));
                    u.set_fragment(None);
                }
            }
            Step::Fragment { window, fragment } => {
                if let Some(u) = current_url[*window].as_mut() {
                    u.set_fragment(Some(fragment));
                }
            }
            _ => {}
        }
        topo.apply(case, &step);
        case.steps.push(step);
        case.task_of_step.push(f.task);
    }
}

/// Checks that the step's actor can run it and its subject exists, in the
/// tree as it stands before the step.
fn check_step_windows(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    f: &FlatStep,
    step: &Step,
) -> bool {
    let subject = step.subject();
    let subject_name = &case.windows[subject].name;
    let path = format!("{}.{}", f.path, f.kind);
    if let Step::Create { window } = step {
        if topo.exists[*window] {
            v.error(
                &format!("{path}.window"),
                format!("`{subject_name}` already exists here"),
                "create a window once, and give it no other way to be created",
            );
            return false;
        }
        if case.windows[*window].sandbox_flags.is_sandboxed() {
            v.error(&format!("{path}.window"), format!("`{subject_name}` is sandboxed: pmconf cannot observe the initial about:blank document of a sandboxed window it creates"), "create it up front (no `create` step), or drop `sandbox`");
            return false;
        }
        if case
            .windows
            .iter()
            .any(|w| w.relation.creator() == Some(*window) && w.created_by_step.is_none())
        {
            v.error(&format!("{path}.window"), format!("`{subject_name}` has windows created up front, but is itself created by a step"), "create its frames and popups with `create` steps after a `wait: {loaded: ...}`");
            return false;
        }
    } else if !topo.exists[subject] {
        v.error(
            &format!("{path}.{}", if matches!(step, Step::Post(_)) { "to" } else if matches!(step, Step::WaitLoaded { .. }) { "loaded" } else { "window" }),
            format!("`{subject_name}` does not exist at this step (not created yet, or removed, closed or gone with its parent's document)"),
            "only name windows that exist when the step runs",
        );
        return false;
    }
    let Some(actor) = step.actor(case) else {
        return true;
    };
    let actor_name = &case.windows[actor].name;
    let field = match step {
        Step::Post(_) => "from",
        Step::Navigate(n) if n.by != n.window => "by",
        _ => "window",
    };
    if !topo.exists[actor] {
        v.error(
            &format!("{path}.{field}"),
            format!("`{actor_name}`, whose script takes this step, does not exist at this step"),
            "take steps in windows that exist",
        );
        return false;
    }
    if case.windows[actor].sandbox_flags.blocks_scripts() {
        v.error(
            &format!("{path}.{field}"),
            format!(
                "`{actor_name}` is sandboxed without allow-scripts, so it cannot {}",
                if field == "from" {
                    "post"
                } else {
                    "run this step"
                }
            ),
            "add allow-scripts to its sandbox attribute (or its ancestors')",
        );
        return false;
    }
    // Once a navigation of the actor has started (or it was created with a
    // URL to load), its script is the old document's until the new one has
    // loaded, even later in the same task; a case waits for the load.
    if topo.loading[actor] {
        let fix = format!("add `- wait: {{loaded: {actor_name}}}` before this step");
        if case.windows[actor].created_by_step.is_some() && !topo.navigated[actor] {
            v.error(
                &format!("{path}.{field}"),
                format!("`{actor_name}` was just created and runs no script yet"),
                fix,
            );
        } else {
            v.error(
                &format!("{path}.{field}"),
                format!(
                    "`{actor_name}` may still be loading here, so its script cannot take this step"
                ),
                fix,
            );
        }
        return false;
    }
    true
}

/// A navigation target: an http(s) URL on an allowed host, not blocked as
/// mixed content.
fn check_navigation_url(
    v: &mut Validator,
    case: &Case,
    current_url: &[Option<Url>],
    path: &str,
    window: usize,
    input: &str,
) -> Option<Url> {
    let name = case.windows[window].name.clone();
    let content = check_url(v, path, &name, input, true, false)?;
    let WindowContent::Url(url) = content else {
        return None;
    };
    if !matches!(url.scheme(), "http" | "https") {
        v.error(path, format!("`{input}` is not an http(s) URL"), "navigate to an http: or https: URL on a .test host or loopback, so pmconf's agent can run there");
        return None;
    }
    if url.scheme() == "http" && !trustworthy(&WindowContent::Url(url.clone()), None) {
        if let Some(at) =
            mixed_content_ancestor(case, current_url, window, |u| u.scheme() == "https")
        {
            v.error(
                path,
                format!(
                    "`{input}` would be blocked as mixed content inside https `{}`",
                    case.windows[at].name
                ),
                "navigate frames under https to https URLs",
            );
            return None;
        }
    }
    Some(url)
}

/// The nearest frame above `window` (up to its top-level window) whose
/// *current* document `secure` counts as secure: an http frame loaded
/// below it is blocked as mixed content
/// (<https://w3c.github.io/webappsec-mixed-content/#categorize-settings-object>).
/// The current document, not the first: a window that navigated from
/// http to https blocks the http frames created or navigated in it after.
fn mixed_content_ancestor(
    case: &Case,
    current_url: &[Option<Url>],
    window: usize,
    secure: impl Fn(&Url) -> bool,
) -> Option<usize> {
    let mut at = window;
    while let Relation::Iframe { parent } = case.windows[at].relation {
        at = parent;
        if current_url[at].as_ref().is_some_and(&secure) {
            return Some(at);
        }
    }
    None
}

/// Whether `document.domain = value` succeeds in a document at `url`: the
/// setter's steps 5-9
/// (<https://html.spec.whatwg.org/multipage/browsers.html#dom-document-domain>),
/// with every single-label domain taken to be a public suffix, as the
/// Public Suffix List's `*` rule makes `test`. Step 5 throws a
/// "SecurityError" unless the value is a registrable domain suffix of, or
/// equal to, the document's effective domain: its origin's domain when an
/// earlier set gave it one (`set`), else its host.
///
/// NOTE: in an origin-keyed agent cluster, step 6 returns before step 7
/// sets the domain, so a later set is checked against the host again.
/// Whether a cluster is origin-keyed differs between engines; a case that
/// depends on it is refused rather than answered.
fn check_domain(url: Option<&Url>, set: Option<&str>, value: &str) -> Result<(), String> {
    let Some(Host::Domain(host)) = url.and_then(|u| u.host()) else {
        return Err("the document's host is not a domain".into());
    };
    let value = value.to_ascii_lowercase();
    let effective = set.unwrap_or(host);
    let suffix_of = effective == value || effective.ends_with(&format!(".{value}"));
    if !suffix_of {
        return Err(match set {
            Some(_) => format!(
                "`{value}` is not `{effective}` (the document.domain this document set earlier, now its effective domain) or a parent domain of it"
            ),
            None => format!("`{value}` is not `{host}` or a parent domain of it"),
        });
    }
    if !value.contains('.') && host != value {
        return Err(format!("`{value}` is a public suffix"));
    }
    Ok(())
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
            Err(_) => {
                // Every bad token, not only the first.
                let tokens = crate::sandbox::SANDBOX_TOKENS;
                for token in sandbox.split_ascii_whitespace() {
                    let token = token.to_ascii_lowercase();
                    if tokens.contains(&token.as_str()) {
                        continue;
                    }
                    let fix = match nearest(&token, tokens) {
                        Some(t) => format!("did you mean `{t}`?"),
                        None => format!("use tokens from: {}", tokens.join(" ")),
                    };
                    v.error(
                        &format!("{path}.sandbox"),
                        format!("`{token}` is not a sandbox token"),
                        fix,
                    );
                }
            }
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
        isolated: w.isolated.unwrap_or(false),
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

fn check_post(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    step_path: &str,
    p: &RawPost,
) -> Option<Post> {
    let path = format!("{step_path}.post");
    let from = case.window_index(&p.from)?;
    let (to, reply_to) = post_target(v, case, &path, from, p)?;
    let to_name = &case.windows[to].name;
    if case.windows[to].sandbox_flags.blocks_scripts() {
        v.error(
            &format!("{path}.to"),
            format!(
                "`{}` is sandboxed without allow-scripts, so it cannot listen for messages",
                case.windows[to].name
            ),
            "add allow-scripts to its sandbox attribute (or its ancestors')",
        );
    }
    if topo.exists[from] && topo.exists[to] && topo.path(case, from, to).is_none() {
        v.error(
            &format!("{path}.to"),
            format!("script in `{}` has no way to reach `{to_name}`", p.from),
            "a window reaches its parent, its opener, frames[i] of any window it reaches, and popups it opened itself; pick a reachable target",
        );
    }
    let form = check_call_form(v, &path, p);
    let message = match (&p.message, &form) {
        (_, Some(CallForm::Args(args))) => Some(
            args.first()
                .map_or(MessageValue::Undefined, ArgValue::message_value),
        ),
        (Some(message), _) => match MessageValue::from_yaml(message) {
            Ok(m) => Some(m),
            Err(e) => {
                v.error(&format!("{path}.message"), format!("bad message: {e}"), "see the tagged forms in docs/src/cases.md (`$undefined`, `$number`, `$utf16`, `$buffer`, `$function`, `$symbol`, and the structured-clone kinds `$map`, `$set`, `$date`, `$regexp`, `$bigint`, `$boxed`, `$error`, `$typed`, `$dataview`, `$array`, `$id`/`$ref`, `$port`, `$sab`...)");
                None
            }
        },
        // `args` with an error, already reported.
        (None, None) if p.args.is_some() => None,
        (None, _) => {
            v.error(
                &path,
                "a post without `message`",
                "add `message: ...` (or write the whole argument list as `args: [...]`)",
            );
            None
        }
    };
    let (target_origin, transfer_list) = match &p.options {
        Some(o) => (o.target_origin.clone(), o.transfer.as_ref()),
        None => (p.target_origin.clone(), p.transfer.as_ref()),
    };
    let transfer_path = match &p.options {
        Some(_) => format!("{path}.options.transfer"),
        None => format!("{path}.transfer"),
    };
    let transfer = transfer_list.map(|list| {
        check_transfer_list(
            v,
            case,
            &transfer_path,
            from,
            &p.from,
            message.as_ref(),
            list,
        )
    });
    Some(Post {
        from,
        to,
        message: message?,
        target_origin,
        reply_to,
        transfer,
        form: form?,
    })
}

/// A post's call form: positional (`target_origin`, `transfer`), `options`
/// or `args`, one of them only. `args[0]` is read as a message (getters in
/// a message are message values), later arguments may hold getters.
fn check_call_form(v: &mut Validator, path: &str, p: &RawPost) -> Option<CallForm> {
    let positional: Vec<&str> = [
        ("target_origin", p.target_origin.is_some()),
        ("transfer", p.transfer.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, present)| present.then_some(k))
    .collect();
    if p.options.is_some() {
        if let Some(k) = positional.first() {
            v.error(
                &format!("{path}.{k}"),
                format!("a post has `options` and `{k}`"),
                "write targetOrigin and transfer either positionally (`target_origin`, `transfer`) or inside `options: {target_origin: ..., transfer: [...]}`, not both",
            );
            return None;
        }
    }
    let Some(args) = &p.args else {
        return Some(if p.options.is_some() {
            CallForm::Options
        } else {
            CallForm::Positional
        });
    };
    let others: Vec<&str> = positional
        .into_iter()
        .chain(p.message.is_some().then_some("message"))
        .chain(p.options.is_some().then_some("options"))
        .collect();
    if let Some(k) = others.first() {
        v.error(
            &format!("{path}.{k}"),
            format!("a post has `args` and `{k}`"),
            "`args` is the whole argument list (`args: [message, targetOrigin, transfer]`); move the other keys into it or drop `args`",
        );
        return None;
    }
    let mut out = Vec::new();
    for (j, item) in args.iter().enumerate() {
        let parsed = if j == 0 {
            MessageValue::from_yaml(item).map(ArgValue::Value)
        } else {
            ArgValue::from_yaml(item)
        };
        match parsed {
            Ok(a) => out.push(a),
            Err(e) => v.error(
                &format!("{path}.args[{j}]"),
                format!("bad argument: {e}"),
                "an argument is a value in the message syntax; after the first, objects may hold `{$throwing_getter: RangeError}` members",
            ),
        }
    }
    (out.len() == args.len()).then_some(CallForm::Args(out))
}

/// A transfer list: buffer ids `from` created (in this message or an
/// earlier one of its posts), or inline tagged values.
fn check_transfer_list(
    v: &mut Validator,
    case: &Case,
    path: &str,
    from: usize,
    from_name: &str,
    message: Option<&MessageValue>,
    list: &[serde_yaml::Value],
) -> Vec<Transferable> {
    let mut known_buffers: Vec<String> = message.map(|m| m.buffer_ids()).unwrap_or_default();
    for (_, earlier) in case.posts() {
        if earlier.from == from {
            known_buffers.extend(earlier.message.buffer_ids());
            if let Some(t) = &earlier.transfer {
                for item in t {
                    if let Transferable::Value(val) = item {
                        known_buffers.extend(val.buffer_ids());
                    }
                }
            }
            if let CallForm::Args(args) = &earlier.form {
                known_buffers.extend(args.iter().flat_map(|a| a.buffer_ids()));
            }
        }
    }
    let mut items = Vec::new();
    for (j, item) in list.iter().enumerate() {
        let item_path = format!("{path}[{j}]");
        match item {
            serde_yaml::Value::String(id) => {
                if !known_buffers.contains(id) {
                    v.error(
                        &item_path,
                        format!("transfer names buffer `{id}`, which `{from_name}` never created"),
                        format!("put {{$buffer: {{id: {id}, bytes: [...]}}}} in this or an earlier message from `{from_name}`, or write the buffer inline in the transfer list"),
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
    items
}
