//! The search: candidates tried one change at a time, each run K times
//! with K from the rate seen so far, the last one kept confirmed by a
//! fresh batch (bisecting the kept cases when it does not confirm).

use super::reducer::{candidates, parse_yaml, size};
use crate::fuzz::oracle::RaceOracle;
use crate::run::verdict::Observation;
use pmconf_model::violation::{classify, Rule};
use pmconf_model::{Case, Outcome};
use serde_yaml::Value;

/// Limits of one shrink.
#[derive(Debug, Clone)]
pub struct RaceShrinkConfig {
    /// At most this many runs per candidate (K's cap).
    pub max_runs: usize,
    /// Runs of the final confirmation.
    pub confirm_runs: usize,
    /// At most this many runs for candidates and the first confirmation;
    /// bisecting after a failed confirmation adds about log2(cases kept)
    /// batches of [`Self::confirm_runs`].
    pub budget: usize,
}

impl Default for RaceShrinkConfig {
    fn default() -> Self {
        RaceShrinkConfig {
            max_runs: 30,
            confirm_runs: 20,
            budget: 1500,
        }
    }
}

/// What shrinking a race reached.
#[derive(Debug, Clone)]
pub struct RaceShrunk {
    /// The minimal case's YAML.
    pub yaml: String,
    /// The minimal case.
    pub case: Case,
    /// The rule it breaks.
    pub rule: Rule,
    /// Outcomes of the confirmation runs that broke the rule (each
    /// distinct one once).
    pub observed: Vec<Outcome>,
    /// The confirmation: runs that broke the rule, out of how many.
    pub confirmed: (usize, usize),
    /// Every outcome the confirmation runs observed, with how many runs
    /// observed it, most frequent first.
    pub histogram: Vec<(Outcome, usize)>,
    /// Candidates tried.
    pub candidates: usize,
    /// Runs made in all (candidates and confirmation).
    pub runs: usize,
    /// How many kept changes the confirmation undid because the smaller
    /// cases did not break the rule in a fresh batch (0: the last case
    /// kept confirmed).
    pub stepped_back: usize,
}

impl RaceShrunk {
    /// The rate of the confirmation batch.
    pub fn rate(&self) -> f64 {
        self.confirmed.0 as f64 / self.confirmed.1.max(1) as f64
    }
}

/// How many runs a candidate gets when the rule broke in `hits` of `runs`
/// so far: ceil(3 / rate), from 1 to `cap`.
pub fn runs_for_rate(hits: usize, runs: usize, cap: usize) -> usize {
    if hits == 0 {
        return cap.max(1);
    }
    let k = (3 * runs).div_ceil(hits);
    k.clamp(1, cap.max(1))
}

/// The runs among `observations` whose outcome breaks `rule` in `case`.
fn breaking(case: &Case, rule: &Rule, observations: Vec<Observation>) -> (usize, Vec<Outcome>) {
    let mut out = Vec::new();
    let mut n = 0;
    for o in observations {
        if let Observation::Observed(o) = o {
            if classify(case, &o).iter().any(|v| v.rule == *rule) {
                n += 1;
                if !out.contains(&o) {
                    out.push(o);
                }
            }
        }
    }
    (n, out)
}

/// A confirmation batch: runs breaking the rule, the distinct outcomes
/// that broke it, and every outcome with its count, most frequent first.
struct ConfirmBatch {
    hits: usize,
    observed: Vec<Outcome>,
    histogram: Vec<(Outcome, usize)>,
}

/// Runs `case` [`RaceShrinkConfig::confirm_runs`] times afresh.
async fn confirm(
    case: &Case,
    rule: &Rule,
    oracle: &mut dyn RaceOracle,
    config: &RaceShrinkConfig,
) -> ConfirmBatch {
    let observations = oracle.run_times(case, config.confirm_runs).await;
    let mut histogram: Vec<(Outcome, usize)> = Vec::new();
    for o in &observations {
        if let Observation::Observed(o) = o {
            match histogram.iter_mut().find(|(x, _)| x == o) {
                Some((_, n)) => *n += 1,
                None => histogram.push((o.clone(), 1)),
            }
        }
    }
    histogram.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.canonical_key().cmp(&b.0.canonical_key()))
    });
    let (hits, observed) = breaking(case, rule, observations);
    ConfirmBatch {
        hits,
        observed,
        histogram,
    }
}

/// Shrinks the race case `yaml`, which broke `rule` in `hits` of `runs`
/// runs in `oracle`'s engine.
pub async fn shrink_race(
    yaml: &str,
    rule: &Rule,
    (hits, runs): (usize, usize),
    oracle: &mut dyn RaceOracle,
    config: &RaceShrinkConfig,
) -> Result<RaceShrunk, String> {
    let mut best: Value = serde_yaml::from_str(yaml).map_err(|e| e.to_string())?;
    let mut best_case = parse_yaml(&best)?;
    // Every case kept, the given one first: where confirmation steps back to.
    let mut kept: Vec<(Value, Case)> = Vec::new();
    let (mut hits, mut seen_runs) = (hits, runs);
    let mut tried = 0;
    let mut spent = 0;
    'again: loop {
        for candidate in candidates(&best) {
            let Ok(case) = parse_yaml(&candidate) else {
                continue;
            };
            if size(&candidate) >= size(&best) {
                continue;
            }
            let k = runs_for_rate(hits, seen_runs, config.max_runs);
            if spent + k + config.confirm_runs > config.budget {
                break 'again;
            }
            tried += 1;
            spent += k;
            let (h, _) = breaking(&case, rule, oracle.run_times(&case, k).await);
            if h > 0 {
                hits += h;
                seen_runs += k;
                kept.push((
                    std::mem::replace(&mut best, candidate),
                    std::mem::replace(&mut best_case, case),
                ));
                continue 'again;
            }
        }
        break;
    }
    kept.push((best, best_case));
    // Confirm the last case kept. A rare flake may have let a candidate in
    // that no longer breaks the rule; then bisect the cases kept for the
    // last one that confirms, on the assumption that once a change lost
    // the bug no later case has it (the given case is assumed to break it,
    // and is confirmed itself only if everything after it fails).
    let (mut good, mut bad) = (0, kept.len() - 1);
    let mut batch = confirm(&kept[bad].1, rule, oracle, config).await;
    spent += config.confirm_runs;
    let mut last_good: Option<ConfirmBatch> = None;
    if batch.hits == 0 {
        while bad - good > 1 {
            let mid = good + (bad - good) / 2;
            let b = confirm(&kept[mid].1, rule, oracle, config).await;
            spent += config.confirm_runs;
            if b.hits > 0 {
                good = mid;
                last_good = Some(b);
            } else {
                bad = mid;
            }
        }
        batch = match last_good {
            Some(b) => b,
            None if good == bad => batch,
            None => {
                spent += config.confirm_runs;
                confirm(&kept[good].1, rule, oracle, config).await
            }
        };
    } else {
        good = bad;
    }
    let stepped_back = kept.len() - 1 - good;
    let (best, best_case) = kept.swap_remove(good);
    let ConfirmBatch {
        hits: h,
        observed,
        histogram,
    } = batch;
    Ok(RaceShrunk {
        yaml: serde_yaml::to_string(&best).map_err(|e| e.to_string())?,
        case: best_case,
        rule: rule.clone(),
        observed,
        confirmed: (h, config.confirm_runs),
        histogram,
        candidates: tried,
        runs: spent,
        stepped_back,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::block_on;
    use crate::fuzz::race_shrink::BIG;
    use pmconf_model::case::Step;
    use pmconf_model::{answer_case, parse_case};
    use std::future::Future;
    use std::pin::Pin;

    /// A seeded xorshift64*: the stand-in's coin.
    struct Coin(u64);

    impl Coin {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// An engine that does what the model allows (an allowed outcome drawn
    /// at random), with one planted flaky bug, as Chromium's: in 30% of
    /// runs, a message posted before a later step navigates its target is
    /// delivered to the document that navigation loads.
    struct PlantedFlaky {
        coin: Coin,
        runs: usize,
        /// How often the bug shows.
        rate: f64,
        /// A window the bug needs: a case without it shows the bug in the
        /// first batch it is run in, and never again (a flake that fooled
        /// the candidate search).
        needs: Option<&'static str>,
        /// Cases run so far (their Debug form).
        seen: std::collections::HashSet<String>,
    }

    impl PlantedFlaky {
        fn new(seed: u64) -> Self {
            PlantedFlaky {
                coin: Coin(seed),
                runs: 0,
                rate: 0.3,
                needs: None,
                seen: Default::default(),
            }
        }

        /// A bug in every run while `window` exists; without it, only in
        /// a case's first batch.
        fn needing(window: &'static str) -> Self {
            PlantedFlaky {
                rate: 1.0,
                needs: Some(window),
                ..PlantedFlaky::new(7)
            }
        }

        /// A run of `case`; `fluke` when a case without the needed window
        /// is in its first batch.
        fn once(&mut self, case: &Case, fluke: bool) -> Outcome {
            let allowed = answer_case(case).allowed;
            let pick = (self.coin.next() * allowed.len() as f64) as usize;
            let mut o = allowed[pick.min(allowed.len() - 1)].clone();
            for (i, post) in case.posts() {
                let navigation = case
                    .steps
                    .iter()
                    .enumerate()
                    .skip(i + 1)
                    .find(|(_, s)| matches!(s, Step::Navigate(n) if n.window == post.to));
                let Some((j, _)) = navigation else { continue };
                let has_needed = self
                    .needs
                    .is_none_or(|n| case.windows.iter().any(|w| w.name == n));
                if !(has_needed && self.coin.next() < self.rate || !has_needed && fluke) {
                    continue;
                }
                let Ok(data) = serde_json::to_value(post.message.observable_json()) else {
                    continue;
                };
                let mut moved = None;
                for (_, list) in o.received.iter_mut() {
                    if let Some(k) = list.iter().position(|d| d.message == data) {
                        moved = Some(list.remove(k));
                    }
                }
                let delivery = moved.unwrap_or(pmconf_model::Delivery {
                    message: data,
                    origin: url::Url::parse(
                        &case.windows[post.from]
                            .url_as_written
                            .clone()
                            .unwrap_or_default(),
                    )
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or_default(),
                    source: Some(case.windows[post.from].name.clone()),
                    ports: Vec::new(),
                });
                let label = format!("{}@{j}", case.windows[post.to].name);
                match o.received.iter_mut().find(|(l, _)| *l == label) {
                    Some((_, list)) => list.insert(0, delivery),
                    None => o.received.push((label, vec![delivery])),
                }
            }
            o
        }
    }

    impl RaceOracle for PlantedFlaky {
        fn run_times<'a>(
            &'a mut self,
            case: &'a Case,
            runs: usize,
        ) -> Pin<Box<dyn Future<Output = Vec<Observation>> + 'a>> {
            Box::pin(async move {
                self.runs += runs;
                let fluke = self.seen.insert(format!("{case:?}"));
                (0..runs)
                    .map(|_| Observation::Observed(self.once(case, fluke)))
                    .collect()
            })
        }
    }

    /// Hand-derived: the bug needs a post to a window and a later
    /// navigation of that window, nothing else; every window but top and
    /// the target goes, URLs become top's plain origin, top's host a.test,
    /// the group becomes two tasks and the targetOrigin `*`.
    const MINIMAL: &str = r#"
description: a big race
tags: [race]
windows:
  top: { url: "http://a.test/" }
  child: { parent: top, url: "http://a.test/" }
steps:
  - post: { from: top, to: child, message: "m", target_origin: "*" }
  - navigate: { window: child, by: top, url: "http://a.test/" }
"#;

    fn assert_same_yaml(got: &str, want: &str) {
        let g: Value = serde_yaml::from_str(got).unwrap();
        let w: Value = serde_yaml::from_str(want).unwrap();
        assert_eq!(g, w, "reached:\n{got}");
    }

    /// Shrinks BIG, seen breaking wrong-document in `hits` of 5 runs.
    fn shrink_big(oracle: &mut PlantedFlaky, hits: usize) -> RaceShrunk {
        block_on(shrink_race(
            BIG,
            &Rule::WrongDocument,
            (hits, 5),
            oracle,
            &RaceShrinkConfig::default(),
        ))
        .unwrap()
    }

    #[test]
    fn k_follows_the_rate() {
        // 3 of 10 runs: rate 0.3, K = 10.
        assert_eq!(runs_for_rate(3, 10, 30), 10);
        assert_eq!(runs_for_rate(1, 1, 30), 3);
        assert_eq!(runs_for_rate(1, 100, 30), 30);
        assert_eq!(runs_for_rate(0, 10, 30), 30);
    }

    #[test]
    fn a_flaky_planted_bug_shrinks_to_the_known_minimal_case() {
        let mut oracle = PlantedFlaky::new(0x5eed_0042);
        let big = parse_case("big.yaml", BIG).unwrap();
        // The campaign's view: 5 repeats, and the rule the bug breaks.
        let first = block_on(oracle.run_times(&big, 5));
        let (hits, observed) = breaking(&big, &Rule::WrongDocument, first);
        assert!(
            hits > 0,
            "the planted bug shows in 5 runs of seed 0x5eed0042"
        );
        assert!(observed
            .iter()
            .all(|o| !o.is_in(&answer_case(&big).allowed)));
        let shrunk = shrink_big(&mut oracle, hits);
        assert_same_yaml(&shrunk.yaml, MINIMAL);
        // Confirmed by a fresh batch, at about the planted rate.
        let (h, n) = shrunk.confirmed;
        assert_eq!(n, 20);
        assert!((2..=12).contains(&h), "{h} of {n}");
        assert!(!shrunk.observed.is_empty());
        assert!(shrunk.runs <= 1500 && oracle.runs == shrunk.runs + 5);
        assert_eq!(shrunk.stepped_back, 0);
    }

    /// Hand-derived: BIG without `other` and the steps naming it (its
    /// fragment, and the post to it, which leaves the group two members).
    const WITHOUT_OTHER: &str = r#"
description: a big race
tags: [race]
windows:
  top: { url: "https://bücher.test:8443/start?x=1" }
  child: { parent: top, url: "https://b.test:8444/child" }
  pop: { opener: top, url: "https://d.test:8446/pop" }
steps:
  - post: { from: top, to: pop, message: "p1", target_origin: "https://d.test:8446" }
  - same_task:
      - post: { from: top, to: child, message: "m", target_origin: "https://b.test:8444" }
      - navigate: { window: child, by: top, url: "https://e.test:8447/next" }
  - wait: { loaded: child }
  - push_state: { window: top }
  - post: { from: child, to: top, message: "back", target_origin: "*" }
"#;

    #[test]
    fn a_minimal_case_that_does_not_confirm_gives_way_to_the_last_kept_one_that_does() {
        // The bug shows in every run while `pop` exists. Dropping `child`
        // loses it; dropping `other` keeps it; dropping `pop` (tried next)
        // and every later change only flukes in their first batch, so the
        // search keeps them and the minimal case fails its confirmation.
        let mut oracle = PlantedFlaky::needing("pop");
        let shrunk = shrink_big(&mut oracle, 5);
        assert_same_yaml(&shrunk.yaml, WITHOUT_OTHER);
        assert_eq!(shrunk.confirmed, (20, 20));
        assert!(shrunk.stepped_back >= 2, "{}", shrunk.stepped_back);
        assert_eq!(oracle.runs, shrunk.runs);
    }

    #[test]
    fn a_case_that_never_confirms_is_reported_unconfirmed() {
        // Every case, the given one too, breaks the rule only in its first
        // batch: nothing confirms, and the given case comes back with 0.
        let mut oracle = PlantedFlaky::needing("nowhere");
        block_on(oracle.run_times(&parse_case("big.yaml", BIG).unwrap(), 5));
        let shrunk = shrink_big(&mut oracle, 5);
        assert_eq!(shrunk.confirmed.0, 0);
        assert_same_yaml(&shrunk.yaml, BIG);
    }
}
