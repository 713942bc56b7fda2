//! The window tree: built from the checked windows in creation order, and
//! checked as a whole (frames mixed content blocks, popups a sandbox
//! forbids).

use super::super::{Case, Relation, Topology, Window};
use super::windows::{creator_of, Checked};
use super::Validator;
use crate::mixed_content::{frame_load_blocker, FrameBlocker};
use crate::sandbox::SandboxingFlags;

/// The windows in creation order: each after its creator, otherwise as
/// listed (the tree is sound: every creator resolved, no cycle).
pub(super) fn build_tree(checked: Vec<Checked>, created_by: Vec<Option<usize>>) -> Vec<Window> {
    let creator = |i: usize| creator_of(&checked[i]);
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
    windows
}

/// Checks that need the whole tree: frames created up front that mixed
/// content blocks (a frame a `create` step makes is checked at that step,
/// against the documents then), and popups from sandboxes.
pub(super) fn check_tree(v: &mut Validator, case: &Case) {
    let initial = Topology::initial(case);
    for (w, window) in case.windows.iter().enumerate() {
        if window.created_by_step.is_some() {
            continue;
        }
        if let Some(blocker) = frame_load_blocker(case, &initial, w, &initial.current_url[w]) {
            v.error(
                &format!("windows.{}.url", window.name),
                format!(
                    "`{}` would be blocked as mixed content: it is http inside {}",
                    window.name,
                    inside(case, &blocker)
                ),
                if blocker.is_https() {
                    "use https for this frame, or http for the frames around it"
                } else {
                    "use https or a loopback address for this frame, or http on a *.test name for the frames around it"
                },
            );
        }
        if let Relation::Popup { opener } = window.relation {
            if case.windows[opener].sandbox_flags.blocks_popups() {
                v.error(
                    &format!("windows.{}.opener", window.name),
                    format!(
                        "`{}` is sandboxed without allow-popups, so it cannot open `{}`",
                        case.windows[opener].name, window.name
                    ),
                    "add allow-popups to the opener's sandbox attribute",
                );
            }
        }
    }
}

/// How an error names the window whose document blocks a frame:
/// "https `top`", or, for a loopback page, "`top`, whose origin
/// http://127.0.0.1:8001 is potentially trustworthy (loopback)".
pub(super) fn inside(case: &Case, blocker: &FrameBlocker) -> String {
    let name = &case.windows[blocker.window].name;
    if blocker.is_https() {
        format!("https `{name}`")
    } else {
        format!(
            "`{name}`, whose origin {} is potentially trustworthy (loopback)",
            blocker.origin.ascii_serialization()
        )
    }
}
