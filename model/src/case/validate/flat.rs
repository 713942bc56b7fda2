//! The steps as written, flattened: each step of the file (and each
//! member of a `same_task` group) with its path, its one kind and its task.

use super::super::raw::{
    RawChannel, RawFragment, RawNavigate, RawPortCall, RawPortPost, RawPost, RawSabWrite,
    RawSetDomain, RawStep, RawWait, RawWindowRef, STEP_KINDS,
};
use super::Validator;

/// One step of the file with its kind resolved.
pub(super) enum RawSingle<'a> {
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
    SabWrite(&'a RawSabWrite),
}

impl RawSingle<'_> {
    /// The window names the step mentions, with their field names.
    pub fn window_names(&self) -> Vec<(&'static str, &str)> {
        match self {
            RawSingle::Post(p) => {
                let mut out = vec![("from", p.from.as_str())];
                if let Some(to) = &p.to {
                    out.push(("to", to.as_str()));
                }
                if let Some(f) = &p.function_of {
                    out.push(("function_of", f.as_str()));
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
            RawSingle::SabWrite(w) => vec![("window", w.window.as_str())],
            RawSingle::PortPost(p) => p.from.iter().map(|f| ("from", f.as_str())).collect(),
            RawSingle::PortStart(p) | RawSingle::PortClose(p) => {
                p.from.iter().map(|f| ("from", f.as_str())).collect()
            }
        }
    }
}

/// A flattened step: where it is in the file, its kind and its task.
pub(super) struct FlatStep<'a> {
    /// Where it is in the file: `steps[2]`, `steps[3].same_task[1]`.
    pub path: String,
    /// Its kind, as written.
    pub kind: &'static str,
    /// Its task: the index of the top-level step it is, or is in.
    pub task: usize,
    /// The step.
    pub step: RawSingle<'a>,
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
    } else if let Some(w) = &step.sab_write {
        RawSingle::SabWrite(w)
    } else {
        return None; // same_task, handled by the caller
    };
    Some((kinds[0], s))
}

pub(super) fn flatten_steps<'a>(v: &mut Validator, steps: &'a [RawStep]) -> Vec<FlatStep<'a>> {
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

/// Leaves out (and reports) each step that names a window the case does
/// not declare: window names can be checked without a sound tree.
pub(super) fn known_windows_only<'a>(
    v: &mut Validator,
    flat: Vec<FlatStep<'a>>,
    lookup: &dyn Fn(&str) -> Option<usize>,
    known: &str,
) -> Vec<FlatStep<'a>> {
    flat.into_iter()
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
        .collect()
}

/// Which windows `create` steps create (per window, the index in `flat`
/// of the step that does); a second `create` of a window is reported and
/// left out.
pub(super) fn created_once<'a>(
    v: &mut Validator,
    flat: Vec<FlatStep<'a>>,
    lookup: &dyn Fn(&str) -> Option<usize>,
    windows: usize,
) -> (Vec<FlatStep<'a>>, Vec<Option<usize>>) {
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
    let mut created_by: Vec<Option<usize>> = vec![None; windows];
    for (i, f) in flat.iter().enumerate() {
        if let RawSingle::Create(r) = &f.step {
            created_by[lookup(&r.window).expect("names were checked")] = Some(i);
        }
    }
    (flat, created_by)
}
