//! One engine order for every table the nightly tools print: the engines
//! pmconf knows in the order reports list them ([`EngineId::ALL`]:
//! chromium, firefox, webkitgtk), then any other name (an engine
//! instance) alphabetically.

use crate::engine::EngineId;

/// The sort key of an engine name.
pub fn engine_rank(name: &str) -> (usize, &str) {
    let known = EngineId::ALL.iter().position(|e| e.name() == name);
    (known.unwrap_or(EngineId::ALL.len()), name)
}

/// `names`, deduplicated, in engine order.
pub fn in_engine_order<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = names.into_iter().collect();
    out.sort_by(|a, b| engine_rank(a).cmp(&engine_rank(b)));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_engines_first_in_report_order_then_others_by_name() {
        assert_eq!(
            in_engine_order([
                "webkitgtk",
                "zeta",
                "firefox",
                "chromium-local",
                "chromium",
                "firefox"
            ]),
            ["chromium", "firefox", "webkitgtk", "chromium-local", "zeta"]
        );
    }
}
