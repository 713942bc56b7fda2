//! `pmconf bench --profile`: where a run's time goes, per engine.
//!
//! Counted always (a few atomic adds per batch, kept in the server's
//! [`super::state::RunState`]): wall time by phase of each batch, page
//! loads and reports as the server sees them, WebDriver commands as each
//! session's connection sees them. Sampled only when asked: CPU seconds
//! of every process of each engine's tree, by kind ([`procs`], [`kinds`]).

pub mod kinds;
pub mod procs;
mod table;

use crate::engine::{CommandDeadline, EngineId, EngineSession};
use kinds::ProcessKind;
use procs::{read_args, read_table, read_ticks, ticks_per_second, Root, TreeSampler, TreeTotals};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use table::render_table;

/// The phases of a batch, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Mounting the batch's top frames until every window ran its agent.
    MountLoad,
    /// Finding popup windows' WebDriver handles.
    Popups,
    /// Running every case's steps (and, for plain cases, the markers sent
    /// with each sender's last step).
    Steps,
    /// Part of `Steps`: a race case's wait for its navigations to settle
    /// and its separate marker scripts.
    Markers,
    /// Waiting for every marker and message report to arrive.
    Reports,
    /// Closing popups and unmounting the frames.
    Cleanup,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 6] = [
        Phase::MountLoad,
        Phase::Popups,
        Phase::Steps,
        Phase::Markers,
        Phase::Reports,
        Phase::Cleanup,
    ];

    /// Its name in the table.
    pub fn label(self) -> &'static str {
        match self {
            Phase::MountLoad => "mount and load",
            Phase::Popups => "popups",
            Phase::Steps => "steps",
            Phase::Markers => "  of which race settle+markers",
            Phase::Reports => "reports",
            Phase::Cleanup => "cleanup",
        }
    }
}

/// What one engine's batches counted.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct EngineCounts {
    /// Batches run.
    pub batches: usize,
    /// Case runs mounted in them.
    pub runs: usize,
    /// Seconds spent in each phase, summed over batches.
    pub phases: BTreeMap<Phase, f64>,
    /// Window pages served (each a document load in a browser).
    pub page_loads: usize,
    /// Reports (ready, message, marker, steps, failure) received.
    pub reports: usize,
}

#[derive(Default)]
struct Registered {
    counts: BTreeMap<String, EngineCounts>,
    roots: Vec<(String, EngineId, Root)>,
    /// Each session's command counter and its value when registered.
    sessions: Vec<(String, CommandDeadline, u64)>,
}

/// The counters of a run, shared by the server, the driver and the pool.
#[derive(Default)]
pub struct Profile {
    registered: Mutex<Registered>,
}

impl Profile {
    fn count(&self, engine: &str, f: impl FnOnce(&mut EngineCounts)) {
        let mut r = self.registered.lock().unwrap();
        f(r.counts.entry(engine.to_owned()).or_default());
    }

    /// A batch of `runs` case runs started in `engine`.
    pub fn batch(&self, engine: &str, runs: usize) {
        self.count(engine, |c| {
            c.batches += 1;
            c.runs += runs;
        });
    }

    /// A batch of `engine` spent `took` in `phase`.
    pub fn phase(&self, engine: &str, phase: Phase, took: Duration) {
        self.count(engine, |c| {
            *c.phases.entry(phase).or_default() += took.as_secs_f64()
        });
    }

    /// The server sent one of `engine`'s window pages.
    pub fn page_load(&self, engine: &str) {
        self.count(engine, |c| c.page_loads += 1);
    }

    /// The server received one of `engine`'s reports.
    pub fn report(&self, engine: &str) {
        self.count(engine, |c| c.reports += 1);
    }

    /// A session of `engine` started: its driver and display are roots of
    /// the engine's process tree, its connection counts commands from now.
    pub fn session(&self, engine: &str, id: EngineId, session: &EngineSession) {
        let mut r = self.registered.lock().unwrap();
        let roots = [
            session
                .driver_process()
                .map(|p| (p.identity(), ProcessKind::Driver)),
            session
                .display()
                .map(|d| (d.process().identity(), ProcessKind::Display)),
        ];
        for (identity, kind) in roots.into_iter().flatten() {
            r.roots
                .push((engine.to_owned(), id, Root { identity, kind }));
        }
        let deadline = session.command_deadline().clone();
        let now = deadline.commands();
        r.sessions.push((engine.to_owned(), deadline, now));
    }

    /// What `engine`'s batches counted so far.
    pub fn counts_of(&self, engine: &str) -> EngineCounts {
        let r = self.registered.lock().unwrap();
        r.counts.get(engine).cloned().unwrap_or_default()
    }

    fn roots(&self) -> Vec<(String, EngineId, Root)> {
        self.registered.lock().unwrap().roots.clone()
    }

    /// The counts so far, and WebDriver commands per engine.
    fn counts(&self) -> (BTreeMap<String, EngineCounts>, BTreeMap<String, u64>) {
        let r = self.registered.lock().unwrap();
        let mut commands: BTreeMap<String, u64> = BTreeMap::new();
        for (engine, deadline, from) in &r.sessions {
            *commands.entry(engine.clone()).or_default() += deadline.commands() - from;
        }
        (r.counts.clone(), commands)
    }
}

/// A thread that samples the engines' process trees until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(TreeSampler, f64)>,
    harness_ticks: u64,
    load_before: String,
}

impl Sampler {
    /// Starts sampling the trees `profile` learns of.
    pub fn start(state: Arc<super::state::RunState>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let own_before = read_ticks("/proc/thread-self/stat").unwrap_or(0);
            let mut sampler = TreeSampler::default();
            loop {
                let roots = state.profile.roots();
                sampler.sample(&roots, &read_table(), &read_args);
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(procs::SAMPLE_INTERVAL);
            }
            let own = read_ticks("/proc/thread-self/stat").unwrap_or(0) - own_before;
            (sampler, own as f64 / ticks_per_second())
        });
        Sampler {
            stop,
            thread,
            harness_ticks: read_ticks("/proc/self/stat").unwrap_or(0),
            load_before: load_average(),
        }
    }

    /// Takes a last sample and builds the report.
    pub fn finish(
        self,
        state: &super::state::RunState,
        engine_seconds: &[(String, f64)],
        requests_served: u64,
    ) -> ProfileReport {
        self.stop.store(true, Ordering::SeqCst);
        let (sampler, sampler_cpu) = self.thread.join().unwrap_or_default();
        let hz = ticks_per_second();
        let harness_cpu =
            (read_ticks("/proc/self/stat").unwrap_or(0) - self.harness_ticks) as f64 / hz;
        let (counts, commands) = state.profile.counts();
        build_report(
            Measured {
                counts,
                commands,
                trees: sampler.totals(hz),
                engine_seconds,
                harness_cpu,
                sampler_cpu,
                requests_served,
            },
            [self.load_before, load_average()],
        )
    }
}

/// `/proc/loadavg`'s three load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// What went into a report (separate from `/proc`, for tests).
pub struct Measured<'a> {
    /// Per engine counts.
    pub counts: BTreeMap<String, EngineCounts>,
    /// Per engine WebDriver commands.
    pub commands: BTreeMap<String, u64>,
    /// CPU and processes created per engine and kind.
    pub trees: TreeTotals,
    /// Wall seconds per engine.
    pub engine_seconds: &'a [(String, f64)],
    /// CPU seconds of the harness process (all threads).
    pub harness_cpu: f64,
    /// Of which the sampler thread.
    pub sampler_cpu: f64,
    /// Requests the server passed to its handler, all engines.
    pub requests_served: u64,
}

/// One engine's profile.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EngineProfile {
    /// The engine instance's name.
    pub engine: String,
    /// Wall seconds it ran cases.
    pub seconds: f64,
    /// What its batches counted.
    pub counts: EngineCounts,
    /// WebDriver commands sent.
    pub webdriver_commands: u64,
    /// CPU seconds by process kind (the harness's is in the report).
    pub cpu: BTreeMap<ProcessKind, f64>,
    /// Processes created while sampled, by kind.
    pub created: BTreeMap<ProcessKind, usize>,
}

/// A whole profile (`target/pmconf/profile.json`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProfileReport {
    /// Per engine, in the run's order.
    pub engines: Vec<EngineProfile>,
    /// CPU seconds of the harness process (shared by every engine).
    pub harness_cpu: f64,
    /// Of which the profile's own sampler thread.
    pub sampler_cpu: f64,
    /// HTTP requests the server handled (all engines).
    pub requests_served: u64,
    /// `/proc/loadavg` at the start and at the end.
    pub load_average: [String; 2],
    /// How often the process trees were sampled.
    pub sample_interval_ms: u64,
}

/// Puts the measurements together.
pub fn build_report(m: Measured<'_>, load_average: [String; 2]) -> ProfileReport {
    let engines = m
        .engine_seconds
        .iter()
        .map(|(engine, seconds)| {
            let mut cpu = BTreeMap::new();
            let mut created = BTreeMap::new();
            for kind in ProcessKind::ALL {
                let key = (engine.clone(), kind);
                if let Some(s) = m.trees.cpu.get(&key) {
                    cpu.insert(kind, *s);
                }
                if let Some(n) = m.trees.created.get(&key) {
                    created.insert(kind, *n);
                }
            }
            EngineProfile {
                engine: engine.clone(),
                seconds: *seconds,
                counts: m.counts.get(engine).cloned().unwrap_or_default(),
                webdriver_commands: m.commands.get(engine).copied().unwrap_or(0),
                cpu,
                created,
            }
        })
        .collect();
    ProfileReport {
        engines,
        harness_cpu: m.harness_cpu,
        sampler_cpu: m.sampler_cpu,
        requests_served: m.requests_served,
        load_average,
        sample_interval_ms: procs::SAMPLE_INTERVAL.as_millis() as u64,
    }
}
