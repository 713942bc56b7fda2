//! Document reuse: which cases may run in windows an earlier case of the
//! same session left behind, and the pool key that says which windows
//! they may take.
//!
//! A reused window's agent is reset for the new case by a script call
//! (`window.__pmconf.reset`), which also posts an *epoch marker* to every
//! scripted window of the slot. A receiver attributes each message event
//! to the epoch its source was in when it posted: the epoch of the last
//! epoch marker that source's messages brought, or the epoch the receiving
//! document was born in. Tasks from one source to one target keep their
//! order, so a message posted before the sender's reset (delayed, or sent
//! to a window that is reused next) arrives before that sender's epoch
//! marker and is never counted for the new case, whenever it arrives.

use super::plan::{path_of, CasePlan};
use super::protocol::{AgentConfig, Path};
use super::state::PageRun;
use pmconf_model::case::{Relation, Step, Topology, WindowContent, WindowIndex};
use pmconf_model::message::Transferable;

/// Why a case runs in fresh documents, or `Ok(key)`: the pool key of its
/// slot (every window, in order: how it is created, what it loads, its
/// sandbox), equal for two cases exactly when their windows are the same
/// before the first step in everything a case can observe.
pub fn reuse_key(plan: &CasePlan) -> Result<String, &'static str> {
    let case = &plan.case;
    if plan.cannot_run.is_some() {
        return Err("the case cannot run");
    }
    if case.is_race() {
        return Err("a race case (it navigates, creates, removes or closes windows)");
    }
    if case.is_isolated() {
        return Err("a cross-origin isolated case (its top window is a page of its own)");
    }
    for step in &case.steps {
        let Step::Post(p) = step else {
            return Err("a step other than a post (ports)");
        };
        let transferred = p.transfer.iter().flatten().filter_map(|t| match t {
            Transferable::Value(v) => Some(v),
            Transferable::BufferId(_) => None,
        });
        let values = std::iter::once(&p.message).chain(transferred);
        for v in values {
            if !v.port_names().is_empty() || v.contains_shared_buffer() {
                return Err("a post with MessagePorts or a SharedArrayBuffer");
            }
        }
    }
    let mut key = String::new();
    for w in &case.windows {
        let relation = match w.relation {
            Relation::Top => "top".to_owned(),
            Relation::Iframe { parent } => format!("iframe of {parent}"),
            Relation::Popup { .. } => return Err("a case with a popup"),
        };
        if w.created_by_step.is_some() {
            return Err("a window created by a step");
        }
        let content = match &w.content {
            WindowContent::Srcdoc(_) => "srcdoc".to_owned(),
            WindowContent::Url(u) => w.url_as_written.clone().unwrap_or_else(|| u.to_string()),
        };
        key.push_str(&format!(
            "{relation}|{content}|{:?}|{:?};",
            w.sandbox_attribute, w.sandbox_flags
        ));
    }
    Ok(key)
}

/// The hop paths from `w` to every scripted window of the case (itself
/// included), where `w` posts its epoch marker when it is reset.
pub fn epoch_targets(plan: &CasePlan, w: WindowIndex) -> Vec<Path> {
    let case = &plan.case;
    let topo = Topology::initial(case);
    (0..case.windows.len())
        .filter(|&t| plan.scripted[t])
        .filter_map(|t| topo.path(case, w, t))
        .map(|p| path_of(case, &p))
        .collect()
}

/// The agent configuration window `w` of a reused slot is reset to: its
/// first document's, without children (they exist already).
pub fn reset_config(
    plan: &CasePlan,
    w: WindowIndex,
    key_prefix: &str,
    run: &PageRun,
) -> AgentConfig {
    let mut config = plan.document_config(plan.first_document(w), key_prefix, run);
    config.children.clear();
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case_files::LoadedCase;
    use pmconf_model::parse_case;

    fn plan(windows: &str, steps: &str) -> CasePlan {
        let yaml = format!("description: t\nwindows:\n{windows}steps:\n{steps}");
        let case = parse_case("t.yaml", &yaml).unwrap();
        CasePlan::new(
            1,
            0,
            &LoadedCase {
                path: "t.yaml".into(),
                name: "t.yaml".into(),
                case,
            },
        )
    }

    const TWO: &str =
        "  top: { url: \"http://a.test/\" }\n  kid: { parent: top, url: \"http://b.test/\" }\n";
    const POST: &str = "  - post: { from: top, to: kid, message: 1, target_origin: \"*\" }\n";

    #[test]
    fn plain_cases_with_the_same_windows_share_a_key_whatever_they_post() {
        let a = reuse_key(&plan(TWO, POST)).unwrap();
        let other_steps = "  - post: { from: kid, to: top, message: { a: [1, 2] } }\n  - post: { from: top, to: top, message: \"x\", target_origin: \"http://b.test\" }\n";
        assert_eq!(reuse_key(&plan(TWO, other_steps)).unwrap(), a);
        // Window names are the case's own words, not the window's.
        let renamed =
            "  t: { url: \"http://a.test/\" }\n  k: { parent: t, url: \"http://b.test/\" }\n";
        let renamed_post = "  - post: { from: t, to: k, message: 1, target_origin: \"*\" }\n";
        assert_eq!(reuse_key(&plan(renamed, renamed_post)).unwrap(), a);
    }

    #[test]
    fn anything_a_case_can_observe_of_its_windows_changes_the_key() {
        let a = reuse_key(&plan(TWO, POST)).unwrap();
        let variants = [
            // Another host, port, scheme or spelling of the child's URL.
            "  top: { url: \"http://a.test/\" }\n  kid: { parent: top, url: \"http://c.test/\" }\n",
            "  top: { url: \"http://a.test/\" }\n  kid: { parent: top, url: \"http://b.test:8001/\" }\n",
            "  top: { url: \"http://a.test/\" }\n  kid: { parent: top, url: \"https://b.test/\" }\n",
            "  top: { url: \"http://a.test/\" }\n  kid: { parent: top, url: \"http://B.test/\" }\n",
            // A sandbox, an opaque document, another place in the tree.
            "  top: { url: \"http://a.test/\" }\n  kid: { parent: top, url: \"http://b.test/\", sandbox: \"allow-scripts\" }\n",
            "  top: { url: \"http://a.test/\" }\n  kid: { parent: top, srcdoc: \"x\" }\n",
            "  top: { url: \"http://a.test/\" }\n  mid: { parent: top, url: \"http://a.test/\" }\n  kid: { parent: mid, url: \"http://b.test/\" }\n",
        ];
        for windows in variants {
            let key = reuse_key(&plan(windows, POST)).unwrap();
            assert_ne!(key, a, "{windows}");
        }
    }

    #[test]
    fn races_ports_popups_and_isolated_cases_take_fresh_documents() {
        let refused = [
            (TWO, "  - navigate: { window: kid, url: \"http://c.test/\", by: top }\n"),
            (TWO, "  - remove: { window: kid }\n"),
            (TWO, "  - fragment: { window: kid, fragment: \"x\" }\n"),
            (
                TWO,
                "  - channel: { window: top, ports: [p1, p2] }\n  - post: { from: top, to: kid, message: 1, target_origin: \"*\", transfer: [{ $port: p2 }] }\n",
            ),
            (
                "  top: { url: \"http://a.test/\" }\n  pop: { opener: top, url: \"http://b.test/\" }\n",
                "  - post: { from: top, to: pop, message: 1, target_origin: \"*\" }\n",
            ),
            (
                "  top: { url: \"https://a.test/\", isolated: true }\n",
                "  - post: { from: top, to: top, message: 1, target_origin: \"*\" }\n",
            ),
        ];
        for (windows, steps) in refused {
            assert!(
                reuse_key(&plan(windows, steps)).is_err(),
                "{windows}{steps}"
            );
        }
    }

    #[test]
    fn every_scripted_window_gets_an_epoch_marker_from_each() {
        let p = plan(
            "  top: { url: \"http://a.test/\" }\n  kid: { parent: top, url: \"http://b.test/\" }\n  mute: { parent: top, url: \"http://c.test/\", sandbox: \"\" }\n",
            POST,
        );
        // To itself and to the other scripted window; not to `mute`,
        // which runs no script.
        let targets = |w| serde_json::to_value(epoch_targets(&p, w)).unwrap();
        assert_eq!(targets(0), serde_json::json!([[], [["frame", 0]]]));
        assert_eq!(targets(1), serde_json::json!([[["parent"]], []]));
        let run = PageRun {
            marker_prefix: "m:",
            token: "t",
        };
        let config = reset_config(&p, 1, "chromium/1.5", &run);
        assert_eq!(config.key, "chromium/1.5/1");
        assert!(config.children.is_empty());
    }
}
