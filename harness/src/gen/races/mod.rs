//! Generated navigation race cases.
//!
//! A race case is drawn in two parts: a placed topology (windows by shape,
//! each origin drawn relative to the earlier ones: same origin, same site
//! or cross-site, from the host and origin strategies, IDN and loopback
//! included) and a schedule of race steps drawn valid by construction
//! ([`schedule`]). Each renders to the ordinary YAML case format, so a
//! generated race is checked, answered, run and replayed like a
//! hand-written one.
//!
//! The model explores every order of a race case's tasks; a schedule is
//! at most [`schedule::MAX_STEPS`] steps, and one whose exploration would
//! pass [`MAX_STATES`] states is cut short (a prefix of a valid schedule
//! is valid).

pub mod schedule;
pub mod topology;

use crate::gen::{parse_generated, runner_for_seed};
use pmconf_model::{answer_case, Case};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use schedule::{Builder, Tape, MAX_STEPS};
use serde_yaml::{Mapping, Value};
use topology::{placed_topology, PlacedTopology, RaceShape};

/// The most event-loop states the model may explore for a generated case.
pub const MAX_STATES: usize = 3000;

/// A generated race case.
#[derive(Debug, Clone)]
pub struct GeneratedRace {
    /// `race-<seed>-<index>`.
    pub name: String,
    /// The case in the ordinary YAML format (`pmconf check` accepts it).
    pub yaml: String,
    /// The case as parsed from `yaml`.
    pub case: Case,
    /// The strategy families it exercises (topology, origin kinship, host
    /// families, step kinds...), also its tags.
    pub families: Vec<&'static str>,
}

/// A draw the validator refused: a bug of the generator.
#[derive(Debug, Clone)]
pub struct RefusedDraw {
    /// `race-<seed>-<index>`.
    pub name: String,
    /// The YAML drawn.
    pub yaml: String,
    /// The validator's errors, one per line.
    pub errors: String,
}

/// What the strategy draws: a placed topology, which leaf windows a
/// `create` step makes, the schedule length and the choice tape.
#[derive(Debug, Clone)]
pub struct RaceDraw {
    /// Topology and origins.
    pub placed: PlacedTopology,
    /// Per window: made by a `create` step rather than up front.
    pub deferred: Vec<bool>,
    /// Steps to draw.
    pub steps: usize,
    /// The choices.
    pub tape: Vec<u32>,
}

/// The strategy for a race draw.
pub fn race_draw() -> impl Strategy<Value = RaceDraw> {
    (
        placed_topology(),
        proptest::collection::vec(proptest::bool::weighted(0.3), topology::MAX_WINDOWS),
        2..=MAX_STEPS,
        proptest::collection::vec(any::<u32>(), 64),
    )
        .prop_map(|(placed, deferred, steps, tape)| {
            let windows = placed.topology.windows;
            // Only leaves that are not sandboxed may wait for a `create`
            // (a window created by a step has no frames created up front,
            // and pmconf cannot watch a sandboxed window's about:blank).
            let deferred = (0..windows.len())
                .map(|i| {
                    i > 0
                        && deferred[i]
                        && !matches!(windows[i].1, RaceShape::Sandboxed(_))
                        && !windows.iter().any(|(_, s)| s.creator() == Some(i))
                })
                .collect();
            RaceDraw {
                placed,
                deferred,
                steps,
                tape,
            }
        })
}

impl RaceDraw {
    /// The windows as YAML.
    fn windows_yaml(&self) -> Mapping {
        let s = |x: &str| Value::String(x.to_owned());
        let t = self.placed.topology;
        let mut windows = Mapping::new();
        for (i, (name, shape)) in t.windows.iter().enumerate() {
            let mut w = Mapping::new();
            match *shape {
                RaceShape::Top => {}
                RaceShape::Iframe(p) | RaceShape::Sandboxed(p) => {
                    w.insert(s("parent"), s(t.windows[p].0));
                }
                RaceShape::Popup(o) => {
                    w.insert(s("opener"), s(t.windows[o].0));
                }
            }
            w.insert(s("url"), s(&self.placed.origins[i].url()));
            if let RaceShape::Sandboxed(_) = shape {
                let tokens = if self.placed.sandbox_same_origin {
                    "allow-scripts allow-same-origin"
                } else {
                    "allow-scripts"
                };
                w.insert(s("sandbox"), s(tokens));
            }
            windows.insert(s(name), Value::Mapping(w));
        }
        windows
    }

    /// The families of the topology and origins.
    fn families(&self) -> Vec<&'static str> {
        let mut f = vec![self.placed.topology.family];
        for (i, o) in self.placed.origins.iter().enumerate() {
            f.extend(o.families());
            if i > 0 {
                f.push(self.placed.kinship[i].family());
            }
        }
        if self.placed.topology.family == "sandboxed-frame" {
            f.push(if self.placed.sandbox_same_origin {
                "sandbox-same-origin"
            } else {
                "sandbox-opaque"
            });
        }
        f
    }

    /// Renders the case named `name`, its schedule cut to `keep` items
    /// when given; also returns the number of items drawn.
    fn render(
        &self,
        name: &str,
        keep: Option<usize>,
    ) -> Result<(String, Vec<&'static str>, usize), RefusedDraw> {
        let s = |x: &str| Value::String(x.to_owned());
        let windows = self.windows_yaml();
        // The windows alone, with a placeholder step, give the Case the
        // builder's topology reads.
        let mut bare = Mapping::new();
        bare.insert(s("description"), s("windows"));
        bare.insert(s("windows"), Value::Mapping(windows.clone()));
        let top = self.placed.topology.windows[0].0;
        let placeholder: Value = serde_yaml::from_str(&format!(
            "[{{post: {{from: {top}, to: {top}, message: 0, target_origin: '*'}}}}]"
        ))
        .expect("literal YAML");
        bare.insert(s("steps"), placeholder);
        let bare_text = serde_yaml::to_string(&Value::Mapping(bare)).expect("serializes");
        let refused = |yaml: String, errors: String| RefusedDraw {
            name: name.to_owned(),
            yaml,
            errors,
        };
        let windows_case = parse_generated(&format!("{name}.yaml"), &bare_text)
            .map_err(|e| refused(bare_text.clone(), e))?;
        let mut tape = Tape::new(&self.tape);
        let items = Builder::new(&self.placed, windows_case, &self.deferred)
            .schedule(&mut tape, self.steps);
        let drawn = items.len();
        let items = &items[..keep.unwrap_or(drawn).min(drawn)];
        let mut families = self.families();
        families.extend(items.iter().flat_map(|i| i.families()));
        families.sort_unstable();
        families.dedup();
        let mut case = Mapping::new();
        let kinds: Vec<String> = items.iter().map(|i| i.summary()).collect();
        case.insert(
            s("description"),
            s(&format!(
                "generated race {name} ({}): {}",
                self.placed.topology.family,
                kinds.join(", ")
            )),
        );
        let mut tags = vec![s("race"), s("generated")];
        tags.extend(families.iter().map(|f| s(f)));
        case.insert(s("tags"), Value::Sequence(tags));
        case.insert(s("windows"), Value::Mapping(windows));
        case.insert(
            s("steps"),
            Value::Sequence(items.iter().map(|i| i.yaml()).collect()),
        );
        let yaml = serde_yaml::to_string(&Value::Mapping(case)).expect("serializes");
        Ok((yaml, families, drawn))
    }

    /// The case: validated, and cut short until the model explores at most
    /// [`MAX_STATES`] states.
    pub fn build(&self, name: &str) -> Result<GeneratedRace, RefusedDraw> {
        let mut keep = None;
        loop {
            let (yaml, families, drawn) = self.render(name, keep)?;
            let case =
                parse_generated(&format!("{name}.yaml"), &yaml).map_err(|errors| RefusedDraw {
                    name: name.to_owned(),
                    yaml: yaml.clone(),
                    errors,
                })?;
            let kept = keep.unwrap_or(drawn);
            if kept <= 1 || answer_case(&case).states_explored <= MAX_STATES {
                return Ok(GeneratedRace {
                    name: name.to_owned(),
                    yaml,
                    case,
                    families,
                });
            }
            keep = Some(kept - 1);
        }
    }
}

/// `count` draws from `seed`, each built (or refused, which is a bug of
/// the generator that the tests look for).
pub fn draw_races(seed: u64, count: usize) -> Vec<Result<GeneratedRace, RefusedDraw>> {
    let mut runner = runner_for_seed(seed);
    let strategy = race_draw();
    (0..count)
        .map(|i| {
            let draw = strategy
                .new_tree(&mut runner)
                .expect("the race strategy always draws")
                .current();
            draw.build(&format!("race-{seed}-{i}"))
        })
        .collect()
}

/// `count` race cases from `seed`: the same seed gives the same cases. A
/// draw the validator refused (none should be) is left out, so fewer may
/// come back; [`draw_races`] shows them.
pub fn generate_races(seed: u64, count: usize) -> Vec<GeneratedRace> {
    draw_races(seed, count).into_iter().flatten().collect()
}
