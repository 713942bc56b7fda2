//! How a script in one window gets hold of another window's WindowProxy.
//!
//! A sender can only call `postMessage` on a window it can name. From a
//! window, script can reach its `parent`, its `opener`, its child frames by
//! index (`frames[i]`, allowed even cross-origin), and, only in the
//! opener's own script, the handle `window.open` returned. The harness uses
//! these paths to run a post; validation refuses posts with no path.
//!
//! <https://html.spec.whatwg.org/multipage/nav-history-apis.html#crossoriginproperties-(-o-)>

use super::{Case, Topology, WindowIndex};

/// One step along a path between windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    /// `.parent`
    Parent,
    /// `.opener`
    Opener,
    /// `.frames[i]`
    Frame(usize),
    /// The handle `window.open` returned for this popup; only usable as the
    /// first hop, from the opener itself.
    PopupHandle(WindowIndex),
}

/// The shortest path of hops from `from` to `to`, if script in `from` can
/// reach `to` at all. An empty path means `to` is `from` itself.
pub fn reference_path(case: &Case, from: WindowIndex, to: WindowIndex) -> Option<Vec<Hop>> {
    Topology::initial(case).path(case, from, to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_case;

    const CASE: &str = r#"
description: reach
windows:
  top: { url: "http://a.test/" }
  one: { parent: top, url: "http://b.test/" }
  two: { parent: top, url: "http://c.test/" }
  deep: { parent: two, url: "http://d.test/" }
  pop: { opener: top, url: "http://e.test/" }
  popkid: { parent: pop, url: "http://f.test/" }
steps:
  - post: { from: top, to: one, message: 1, target_origin: "*" }
"#;

    fn path(from: &str, to: &str) -> Option<Vec<Hop>> {
        let case = parse_case("reach.yaml", CASE).unwrap();
        reference_path(
            &case,
            case.window_index(from).unwrap(),
            case.window_index(to).unwrap(),
        )
    }

    #[test]
    fn frames_parents_and_siblings() {
        assert_eq!(
            path("top", "deep"),
            Some(vec![Hop::Frame(1), Hop::Frame(0)])
        );
        assert_eq!(
            path("deep", "one"),
            Some(vec![Hop::Parent, Hop::Parent, Hop::Frame(0)])
        );
        assert_eq!(path("one", "one"), Some(vec![]));
    }

    #[test]
    fn popup_handles_only_from_the_opener() {
        let case = parse_case("reach.yaml", CASE).unwrap();
        let pop = case.window_index("pop").unwrap();
        assert_eq!(
            path("top", "popkid"),
            Some(vec![Hop::PopupHandle(pop), Hop::Frame(0)])
        );
        assert_eq!(
            path("popkid", "two"),
            Some(vec![Hop::Parent, Hop::Opener, Hop::Frame(1)])
        );
        assert_eq!(path("one", "pop"), None);
    }
}
