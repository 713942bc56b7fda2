//! The step-by-step check: every step against the case's replay as it
//! stands before the step ([`Topology`]), which then takes the step.

use super::flat::{FlatStep, RawSingle};
use super::navigate::check_navigate;
use super::ports::{check_channel, check_port_call, check_port_post};
use super::posts::check_post;
use super::window_steps::{
    check_close, check_create, check_fragment, check_reload, check_remove, check_set_domain,
    check_url_change,
};
use super::Validator;
use crate::case::{CallForm, Case, PortAction, Post, Step, Topology};
use crate::message::MessageValue;

/// Checks every step against the window tree as it stands when the step
/// runs, and builds the case's steps.
pub(super) fn check_steps(v: &mut Validator, case: &mut Case, flat: &[FlatStep]) {
    let name = |case: &Case, w: usize| case.windows[w].name.clone();
    let mut topo = Topology::initial(case);
    // The window whose script runs each task (a `same_task` group runs
    // in one script).
    let mut task_actor: Vec<(usize, usize, String)> = Vec::new();
    for f in flat {
        let look = |n: &str| case.window_index(n).expect("names were checked");
        let checked = match &f.step {
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
                        function_of: None,
                    });
                    check_step_windows(v, case, &topo, f, &stand_in);
                    continue;
                };
                super::realms::check_error_realms(v, case, &topo, &f.path, &post);
                Some(Step::Post(post))
            }
            RawSingle::Navigate(n) => check_navigate(v, case, &topo, &f.path, n),
            RawSingle::Reload(r) => check_reload(v, case, &topo, &f.path, r),
            RawSingle::Remove(r) => check_remove(v, case, &f.path, r),
            RawSingle::Close(r) => check_close(v, case, &topo, &f.path, r),
            RawSingle::PushState(r) => Some(Step::PushState {
                window: look(&r.window),
            }),
            RawSingle::Fragment(fr) => check_fragment(v, case, &f.path, fr),
            RawSingle::SetDomain(d) => check_set_domain(v, case, &topo, &f.path, d),
            RawSingle::Create(r) => check_create(v, case, &topo, &f.path, r),
            RawSingle::Wait(w) => Some(Step::WaitLoaded {
                window: look(&w.loaded),
            }),
            RawSingle::Channel(c) => {
                let Some(ports) = check_channel(v, case, &f.path, c) else {
                    continue;
                };
                Some(Step::Channel {
                    window: look(&c.window),
                    ports,
                    start: c.start.unwrap_or(true),
                })
            }
            RawSingle::SabWrite(w) => {
                super::shared_memory::check_sab_write(v, case, &f.path, f.task, w)
            }
            RawSingle::PortPost(p) => {
                let Some(post) = check_port_post(v, case, &f.path, p) else {
                    continue;
                };
                super::realms::check_port_post_error_realms(v, case, &topo, &f.path, &post);
                Some(Step::PortPost(post))
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
                Some(Step::PortCall {
                    from,
                    port: p.port.clone(),
                    action,
                })
            }
        };
        let Some(step) = checked else {
            continue;
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
        if !check_url_change(v, case, &topo, &f.path, f.kind, &step) {
            continue;
        }
        topo.apply(case, &step);
        case.steps.push(step);
        case.task_of_step.push(f.task);
    }
}

/// Checks that the step's actor can run it and its subject exists, in the
/// tree as it stands before the step.
pub(super) fn check_step_windows(
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
