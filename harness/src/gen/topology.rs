//! Window topologies and who posts to whom.

use proptest::prelude::*;

/// How a window is created in a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The top window.
    Top,
    /// An iframe of window `0`.
    Iframe(usize),
    /// A popup opened by window `0`.
    Popup(usize),
    /// A sandboxed iframe (`allow-scripts`, maybe `allow-same-origin`).
    Sandboxed(usize),
    /// A `data:` iframe.
    Data(usize),
}

/// A topology template: windows by shape, and the (from, to) pairs script
/// can post along.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Family name (`iframe`, `nested-iframe`...).
    pub family: &'static str,
    /// Window names and shapes; index 0 is the top window.
    pub windows: &'static [(&'static str, Shape)],
    /// Sender and receiver pairs.
    pub pairs: &'static [(usize, usize)],
}

/// The templates, simplest first.
pub const TEMPLATES: &[Template] = &[
    Template {
        family: "self",
        windows: &[("top", Shape::Top)],
        pairs: &[(0, 0)],
    },
    Template {
        family: "iframe",
        windows: &[("top", Shape::Top), ("child", Shape::Iframe(0))],
        pairs: &[(0, 1), (1, 0)],
    },
    Template {
        family: "nested-iframe",
        windows: &[
            ("top", Shape::Top),
            ("middle", Shape::Iframe(0)),
            ("inner", Shape::Iframe(1)),
        ],
        pairs: &[(0, 2), (2, 0), (1, 2), (2, 1)],
    },
    Template {
        family: "siblings",
        windows: &[
            ("top", Shape::Top),
            ("left", Shape::Iframe(0)),
            ("right", Shape::Iframe(0)),
        ],
        pairs: &[(1, 2), (2, 1)],
    },
    Template {
        family: "popup",
        windows: &[("top", Shape::Top), ("pop", Shape::Popup(0))],
        pairs: &[(0, 1), (1, 0)],
    },
    Template {
        family: "sandboxed-frame",
        windows: &[("top", Shape::Top), ("boxed", Shape::Sandboxed(0))],
        pairs: &[(1, 0), (0, 1)],
    },
    Template {
        family: "data-frame",
        windows: &[("top", Shape::Top), ("inline", Shape::Data(0))],
        pairs: &[(1, 0), (0, 1)],
    },
];

/// A template.
pub fn template() -> impl Strategy<Value = &'static Template> {
    (0..TEMPLATES.len()).prop_map(|i| &TEMPLATES[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_name_existing_windows() {
        for t in TEMPLATES {
            for &(a, b) in t.pairs {
                assert!(a < t.windows.len() && b < t.windows.len(), "{}", t.family);
            }
            assert_eq!(t.windows[0].1, Shape::Top);
        }
    }
}
