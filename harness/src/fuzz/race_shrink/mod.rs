//! Shrinking a race divergence in a flaky engine.
//!
//! A race case's outcome depends on timing, so one run that does not break
//! the rule proves little. Here a candidate *reproduces* when the rule
//! breaks in at least one of K runs, with K chosen from the rate seen so
//! far on the case being shrunk: K = ceil(3 / rate), between 1 and
//! [`RaceShrinkConfig::max_runs`] (a bug seen in 30% of runs gets 10 runs;
//! the chance that all ten miss it is 0.7^10, under 3%). The minimal case
//! is confirmed at the end by a fresh batch of runs, and the rate of that
//! batch is the one reported.
//!
//! The reducer works on the case's YAML ([`candidates`]), one change at a
//! time, largest first: drop a step or a whole `same_task` group, split a
//! group into separate tasks, drop a window, then make URLs plainer (the
//! top window's origin, `http`, no port, path `/`), rename a host with its
//! subdomains to a plain `a.test` everywhere ([`hosts`]) and make
//! targetOrigins `*`.
//! Every candidate is checked by the model's own validation
//! ([`pmconf_model::parse_case`])
//! and skipped when invalid; one is kept only when it is smaller
//! ([`size`]) and reproduces, so shrinking always ends.
//!
//! A rare flake can let in a candidate that has lost the bug (the rule
//! broke once by chance). When the last case kept fails its confirmation,
//! the cases kept are bisected for the last one that confirms (about
//! log2 of their number more batches), and the finding says how many
//! changes were undone.
//!
//! The [`RaceOracle`](crate::fuzz::oracle::RaceOracle) runs a case R times
//! in one engine: the real engine (an
//! [`EngineWorker`](crate::run::worker::EngineWorker)) or, in tests, a
//! stand-in with a planted flaky bug.
//!
//! The search (K, confirmation, bisection) is `search.rs`; the reducer
//! (the candidates and the size order) is `reducer.rs`, and renaming hosts
//! `hosts.rs`.

mod hosts;
mod reducer;
mod search;

pub use reducer::{candidates, size};
pub use search::{runs_for_rate, shrink_race, RaceShrinkConfig, RaceShrunk};

/// Four windows, an IDN top host, https and ports, a group, waits, a
/// fragment, a pushState and posts that have nothing to do with the bug
/// (the search's and the reducer's tests shrink it).
#[cfg(test)]
const BIG: &str = r#"
description: a big race
tags: [race]
windows:
  top: { url: "https://bücher.test:8443/start?x=1" }
  child: { parent: top, url: "https://b.test:8444/child" }
  other: { parent: top, url: "https://c.test:8445/" }
  pop: { opener: top, url: "https://d.test:8446/pop" }
steps:
  - post: { from: top, to: pop, message: "p1", target_origin: "https://d.test:8446" }
  - fragment: { window: other, fragment: "f" }
  - same_task:
      - post: { from: top, to: other, message: "o1", target_origin: "*" }
      - post: { from: top, to: child, message: "m", target_origin: "https://b.test:8444" }
      - navigate: { window: child, by: top, url: "https://e.test:8447/next" }
  - wait: { loaded: child }
  - push_state: { window: top }
  - post: { from: child, to: top, message: "back", target_origin: "*" }
"#;
