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
//! Every candidate is checked by the model's own validation ([`parse_case`])
//! and skipped when invalid; one is kept only when it is smaller
//! ([`size`]) and reproduces, so shrinking always ends.
//!
//! A rare flake can let in a candidate that has lost the bug (the rule
//! broke once by chance). When the last case kept fails its confirmation,
//! the cases kept are bisected for the last one that confirms (about
//! log2 of their number more batches), and the finding says how many
//! changes were undone.
//!
//! The [`RaceOracle`] runs a case R times in one engine: the real engine
//! (an [`crate::run::worker::EngineWorker`]) or, in tests, a stand-in with
//! a planted flaky bug.

mod hosts;

use crate::run::verdict::Observation;
use pmconf_model::violation::{classify, Rule};
use pmconf_model::{parse_case, Case, Outcome};
use serde_yaml::{Mapping, Value};
use std::future::Future;
use std::pin::Pin;

/// Runs a case several times in one engine.
pub trait RaceOracle {
    /// Runs `case` `runs` times; one observation per run.
    fn run_times<'a>(
        &'a mut self,
        case: &'a Case,
        runs: usize,
    ) -> Pin<Box<dyn Future<Output = Vec<Observation>> + 'a>>;
}

impl RaceOracle for crate::run::worker::EngineWorker {
    fn run_times<'a>(
        &'a mut self,
        case: &'a Case,
        runs: usize,
    ) -> Pin<Box<dyn Future<Output = Vec<Observation>> + 'a>> {
        Box::pin(async move {
            let cases = vec![case.clone(); runs];
            self.run(&cases).await
        })
    }
}

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

fn parse_yaml(v: &Value) -> Result<Case, String> {
    let text = serde_yaml::to_string(v).map_err(|e| e.to_string())?;
    parse_case("shrinking.yaml", &text).map_err(|errors| {
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn key(k: &str) -> Value {
    Value::String(k.to_owned())
}

fn get<'a>(v: &'a Value, k: &str) -> Option<&'a Value> {
    v.as_mapping()?.get(key(k))
}

fn get_mut<'a>(v: &'a mut Value, k: &str) -> Option<&'a mut Value> {
    v.as_mapping_mut()?.get_mut(key(k))
}

/// How big a case is, compared lexicographically: steps, `same_task`
/// groups, windows, distinct origins, `https` URLs, explicit ports, targetOrigins
/// other than `*`, and the YAML's length. Every change [`candidates`]
/// proposes lowers one of them without raising an earlier one, or is not
/// taken.
pub fn size(case: &Value) -> (usize, usize, usize, usize, usize, usize, usize, usize) {
    let steps = get(case, "steps").and_then(Value::as_sequence);
    let mut step_count = 0;
    let mut groups = 0;
    let mut target_origins = 0;
    let mut urls: Vec<String> = Vec::new();
    for step in steps.into_iter().flatten() {
        if get(step, "same_task").is_some() {
            groups += 1;
        }
        for s in group_members(step) {
            step_count += 1;
            if let Some(post) = get(s, "post") {
                if get(post, "target_origin").and_then(Value::as_str) != Some("*") {
                    target_origins += 1;
                }
            }
            if let Some(url) = get(s, "navigate")
                .and_then(|n| get(n, "url"))
                .and_then(Value::as_str)
            {
                urls.push(url.to_owned());
            }
        }
    }
    let windows = get(case, "windows").and_then(Value::as_mapping);
    for (_, w) in windows.into_iter().flatten() {
        if let Some(url) = get(w, "url").and_then(Value::as_str) {
            urls.push(url.to_owned());
        }
    }
    let parsed: Vec<url::Url> = urls
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .collect();
    let mut origins: Vec<String> = parsed
        .iter()
        .map(|u| u.origin().ascii_serialization())
        .collect();
    origins.sort();
    origins.dedup();
    let https = parsed.iter().filter(|u| u.scheme() == "https").count();
    let ports = parsed.iter().filter(|u| u.port().is_some()).count();
    let length = serde_yaml::to_string(case).map_or(usize::MAX, |t| t.len());
    (
        step_count,
        groups,
        windows.map_or(0, Mapping::len),
        origins.len(),
        https,
        ports,
        target_origins,
        length,
    )
}

/// The steps of a top-level entry: the members of a `same_task` group, or
/// the entry itself.
fn group_members(step: &Value) -> Vec<&Value> {
    match get(step, "same_task").and_then(Value::as_sequence) {
        Some(members) => members.iter().collect(),
        None => vec![step],
    }
}

/// Every one-change simplification of `case`, largest first. Some are
/// invalid (a dropped window a step still names, a group split that
/// validation refuses): the caller skips those.
pub fn candidates(case: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let steps: Vec<Value> = get(case, "steps")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let with_steps = |steps: Vec<Value>| {
        let mut c = case.clone();
        if let Some(s) = get_mut(&mut c, "steps") {
            *s = Value::Sequence(steps);
        }
        c
    };
    // Drop a window with the windows it creates and every step naming
    // them (never the first window: the top one).
    if let Some(windows) = get(case, "windows").and_then(Value::as_mapping) {
        for name in windows.keys().skip(1).filter_map(Value::as_str) {
            out.push(without_window(case, name));
        }
    }
    // Drop a top-level step or a whole group.
    for i in 0..steps.len() {
        let mut s = steps.clone();
        s.remove(i);
        out.push(with_steps(s));
    }
    // Drop one member of a group; split a group into separate tasks.
    for (i, step) in steps.iter().enumerate() {
        let Some(members) = get(step, "same_task").and_then(Value::as_sequence) else {
            continue;
        };
        for m in 0..members.len() {
            let mut members = members.clone();
            members.remove(m);
            let mut s = steps.clone();
            if members.len() == 1 {
                s[i] = members.remove(0);
            } else {
                s[i] = group(members);
            }
            out.push(with_steps(s));
        }
        let mut s = steps.clone();
        s.splice(i..=i, members.iter().cloned());
        out.push(with_steps(s));
    }
    // Drop a window (never the first: the top window).
    if let Some(windows) = get(case, "windows").and_then(Value::as_mapping) {
        for name in windows.keys().skip(1) {
            let mut c = case.clone();
            if let Some(w) = get_mut(&mut c, "windows").and_then(Value::as_mapping_mut) {
                w.remove(name);
            }
            out.push(c);
        }
    }
    out.extend(plainer_urls(case));
    out.extend(hosts::renamed_hosts(case));
    // targetOrigin "*".
    for (i, step) in steps.iter().enumerate() {
        for (m, s) in group_members(step).into_iter().enumerate() {
            let Some(post) = get(s, "post") else { continue };
            if get(post, "target_origin").and_then(Value::as_str) == Some("*") {
                continue;
            }
            let mut c = case.clone();
            if let Some(p) = member_mut(&mut c, i, m).and_then(|s| get_mut(s, "post")) {
                if let Some(map) = p.as_mapping_mut() {
                    map.insert(key("target_origin"), key("*"));
                }
            }
            out.push(c);
        }
    }
    out
}

/// `case` without window `name`, the windows below it (its iframes and
/// popups, transitively), and every step that names one of them.
fn without_window(case: &Value, name: &str) -> Value {
    let mut gone = vec![name.to_owned()];
    let windows = get(case, "windows")
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default();
    loop {
        let before = gone.len();
        for (n, w) in &windows {
            let Some(n) = n.as_str() else { continue };
            let creator = get(w, "parent")
                .or_else(|| get(w, "opener"))
                .and_then(Value::as_str);
            if creator.is_some_and(|c| gone.iter().any(|g| g == c)) && !gone.iter().any(|g| g == n)
            {
                gone.push(n.to_owned());
            }
        }
        if gone.len() == before {
            break;
        }
    }
    let names = |step: &Value| -> bool {
        step.as_mapping()
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(Value::as_mapping)
            .flat_map(|fields| {
                ["from", "to", "window", "by", "loaded"]
                    .into_iter()
                    .filter_map(|k| fields.get(key(k)).and_then(Value::as_str))
            })
            .any(|w| gone.iter().any(|g| g == w))
    };
    let mut c = case.clone();
    if let Some(w) = get_mut(&mut c, "windows").and_then(Value::as_mapping_mut) {
        w.retain(|n, _| !n.as_str().is_some_and(|n| gone.iter().any(|g| g == n)));
    }
    if let Some(steps) = get_mut(&mut c, "steps").and_then(Value::as_sequence_mut) {
        let mut kept = Vec::new();
        for step in steps.drain(..) {
            match get(&step, "same_task").and_then(Value::as_sequence) {
                Some(members) => {
                    let mut members: Vec<Value> =
                        members.iter().filter(|m| !names(m)).cloned().collect();
                    match members.len() {
                        0 => {}
                        1 => kept.push(members.remove(0)),
                        _ => kept.push(group(members)),
                    }
                }
                None if names(&step) => {}
                None => kept.push(step),
            }
        }
        *steps = kept;
    }
    c
}

fn group(members: Vec<Value>) -> Value {
    let mut m = Mapping::new();
    m.insert(key("same_task"), Value::Sequence(members));
    Value::Mapping(m)
}

/// Member `m` of top-level step `i` (the step itself when it is no group).
fn member_mut(case: &mut Value, i: usize, m: usize) -> Option<&mut Value> {
    let step = get_mut(case, "steps")?.as_sequence_mut()?.get_mut(i)?;
    if get(step, "same_task").is_some() {
        get_mut(step, "same_task")?.as_sequence_mut()?.get_mut(m)
    } else {
        Some(step)
    }
}

/// Each URL (windows' and navigations') made plainer in one way: the top
/// window's origin (same origin with it), `http`, no port, path `/`.
fn plainer_urls(case: &Value) -> Vec<Value> {
    let top_origin = get(case, "windows")
        .and_then(Value::as_mapping)
        .and_then(|w| w.values().next())
        .and_then(|w| get(w, "url"))
        .and_then(Value::as_str)
        .and_then(|u| url::Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let simpler = |text: &str| -> Vec<String> {
        let Ok(u) = url::Url::parse(text) else {
            return Vec::new();
        };
        if !matches!(u.scheme(), "http" | "https") {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Some(top) = &top_origin {
            if top.origin() != u.origin() {
                let mut v = u.clone();
                let _ = v.set_scheme(top.scheme());
                let _ = v.set_host(top.host_str());
                let _ = v.set_port(top.port());
                out.push(v.to_string());
            }
        }
        if u.scheme() == "https" {
            let mut v = u.clone();
            let _ = v.set_scheme("http");
            out.push(v.to_string());
        }
        if u.port().is_some() {
            let mut v = u.clone();
            let _ = v.set_port(None);
            out.push(v.to_string());
        }
        if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
            let mut v = u.clone();
            v.set_path("/");
            v.set_query(None);
            v.set_fragment(None);
            out.push(v.to_string());
        }
        out
    };
    let mut out = Vec::new();
    if let Some(windows) = get(case, "windows").and_then(Value::as_mapping) {
        for (name, w) in windows {
            let Some(url) = get(w, "url").and_then(Value::as_str) else {
                continue;
            };
            for plain in simpler(url) {
                let mut c = case.clone();
                if let Some(w) = get_mut(&mut c, "windows")
                    .and_then(Value::as_mapping_mut)
                    .and_then(|ws| ws.get_mut(name))
                    .and_then(Value::as_mapping_mut)
                {
                    w.insert(key("url"), key(&plain));
                }
                out.push(c);
            }
        }
    }
    let steps: Vec<Value> = get(case, "steps")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    for (i, step) in steps.iter().enumerate() {
        for (m, s) in group_members(step).into_iter().enumerate() {
            let Some(url) = get(s, "navigate")
                .and_then(|n| get(n, "url"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            for plain in simpler(url) {
                let mut c = case.clone();
                if let Some(n) = member_mut(&mut c, i, m)
                    .and_then(|s| get_mut(s, "navigate"))
                    .and_then(Value::as_mapping_mut)
                {
                    n.insert(key("url"), key(&plain));
                }
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::block_on;
    use pmconf_model::answer_case;
    use pmconf_model::case::Step;

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

    /// Four windows, an IDN top host, https and ports, a group, waits, a
    /// fragment, a pushState and posts that have nothing to do with the bug.
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

    #[test]
    fn invalid_candidates_are_skipped() {
        let v: Value = serde_yaml::from_str(BIG).unwrap();
        let all = candidates(&v);
        let valid = all.iter().filter(|c| parse_yaml(c).is_ok()).count();
        // Dropping `child` while steps still name it is one invalid change.
        assert!(valid < all.len(), "{valid} of {}", all.len());
        assert!(valid > 0);
    }
}
