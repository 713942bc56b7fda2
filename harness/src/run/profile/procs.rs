//! CPU time of the processes a run started, read from `/proc`.
//!
//! Each engine's tree is every descendant of the processes its sessions
//! started (the WebDriver server, the Xvfb display), found by parent PID.
//! The tree is sampled every [`SAMPLE_INTERVAL`]: a process's share is its
//! `utime + stime` at its last sample minus its value at its first sample
//! (zero for a process born after its tree was first sampled). A process
//! that exits loses at most its last interval; one that lives less than an
//! interval is not seen at all (its parent's `cutime` would hold it, but
//! that mixes in every earlier child, so it is not used). A process is
//! identified by PID and start time, so a reused PID is never confused
//! with an earlier process.

use super::kinds::{classify, parse_cmdline, ProcessKind};
use crate::engine::proc_table::stat_fields;
use crate::engine::{EngineId, ProcessIdentity};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// How often the trees are sampled.
pub const SAMPLE_INTERVAL: Duration = Duration::from_millis(100);

/// The CPU fields of one `/proc/PID/stat` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuStat {
    /// The process.
    pub identity: ProcessIdentity,
    /// Its parent's PID.
    pub ppid: u32,
    /// `comm` (at most 15 bytes).
    pub name: String,
    /// `utime + stime`, in clock ticks.
    pub ticks: u64,
    /// Zombie or dead.
    pub exited: bool,
}

/// Parses the fields a profile needs from a `/proc/PID/stat` line
/// (field 4 ppid, 14 utime, 15 stime, 22 starttime).
pub fn parse_cpu_stat(text: &str) -> Option<CpuStat> {
    let (pid, name, fields) = stat_fields(text)?;
    let field = |n: usize| -> Option<u64> { fields.get(n - 3)?.parse().ok() };
    let state = fields.first()?.chars().next()?;
    Some(CpuStat {
        identity: ProcessIdentity {
            pid,
            start_time: field(22)?,
        },
        ppid: u32::try_from(field(4)?).ok()?,
        name: name.to_owned(),
        ticks: field(14)? + field(15)?,
        exited: matches!(state, 'Z' | 'X'),
    })
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a constant and touches no memory of ours.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// `utime + stime` of a `/proc/.../stat` file, in clock ticks.
pub fn read_ticks(path: &str) -> Option<u64> {
    parse_cpu_stat(&std::fs::read_to_string(path).ok()?).map(|s| s.ticks)
}

/// A root of an engine's tree: a process a session started.
#[derive(Debug, Clone, Copy)]
pub struct Root {
    /// The process.
    pub identity: ProcessIdentity,
    /// Its kind (the driver or the display).
    pub kind: ProcessKind,
}

/// What is known of one process of a tree.
#[derive(Debug, Clone)]
struct Tracked {
    engine: String,
    kind: ProcessKind,
    first_ticks: u64,
    last_ticks: u64,
    /// Born after its tree was first sampled.
    created: bool,
}

/// CPU seconds and processes created, by engine and kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreeTotals {
    /// (engine, kind) → CPU seconds.
    pub cpu: HashMap<(String, ProcessKind), f64>,
    /// (engine, kind) → processes born while sampled.
    pub created: HashMap<(String, ProcessKind), usize>,
}

/// The accumulated samples of every engine's tree.
#[derive(Debug, Default)]
pub struct TreeSampler {
    tracked: HashMap<ProcessIdentity, Tracked>,
    /// Roots already sampled once (their trees' first sample is the
    /// baseline).
    baselined: HashSet<ProcessIdentity>,
}

impl TreeSampler {
    /// Takes one sample of `table` (every process on the machine) for the
    /// trees of `roots` (engine name, engine, roots); `args_of` reads a
    /// new process's command line.
    pub fn sample(
        &mut self,
        roots: &[(String, EngineId, Root)],
        table: &[CpuStat],
        args_of: &dyn Fn(u32) -> Vec<String>,
    ) {
        let by_pid: HashMap<u32, &CpuStat> = table.iter().map(|s| (s.identity.pid, s)).collect();
        let mut children: HashMap<u32, Vec<&CpuStat>> = HashMap::new();
        for s in table {
            children.entry(s.ppid).or_default().push(s);
        }
        for (engine_name, engine, root) in roots {
            let Some(root_stat) = by_pid
                .get(&root.identity.pid)
                .filter(|s| s.identity == root.identity)
            else {
                continue;
            };
            let first_sample = self.baselined.insert(root.identity);
            // The root, then descendants by parent PID (a child started
            // before its parent is a reused PID's, not ours).
            let mut stack = vec![(*root_stat, Some(root.kind))];
            while let Some((s, kind)) = stack.pop() {
                for child in children.get(&s.identity.pid).into_iter().flatten() {
                    if child.identity.start_time >= s.identity.start_time {
                        stack.push((child, None));
                    }
                }
                let entry = self.tracked.entry(s.identity).or_insert_with(|| Tracked {
                    engine: engine_name.clone(),
                    kind: kind
                        .unwrap_or_else(|| classify(*engine, &s.name, &args_of(s.identity.pid))),
                    first_ticks: if first_sample { s.ticks } else { 0 },
                    last_ticks: s.ticks,
                    created: !first_sample,
                });
                // A zombie's times are its final ones.
                entry.last_ticks = entry.last_ticks.max(s.ticks);
            }
        }
    }

    /// The totals so far.
    pub fn totals(&self, ticks_per_second: f64) -> TreeTotals {
        let mut totals = TreeTotals::default();
        for t in self.tracked.values() {
            let key = (t.engine.clone(), t.kind);
            *totals.cpu.entry(key.clone()).or_default() +=
                (t.last_ticks - t.first_ticks) as f64 / ticks_per_second;
            if t.created {
                *totals.created.entry(key).or_default() += 1;
            }
        }
        totals
    }
}

/// Every process's CPU fields, from `/proc`.
pub fn read_table() -> Vec<CpuStat> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            parse_cpu_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
        })
        .collect()
}

/// A process's arguments (empty when it is gone or unreadable).
pub fn read_args(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| parse_cmdline(&raw))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(pid: u32, ppid: u32, name: &str, start: u64, utime: u64, stime: u64) -> String {
        format!(
            "{pid} ({name}) S {ppid} {pid} {pid} 0 -1 4194560 1 0 0 0 {utime} {stime} 7 8 20 0 12 0 {start} 1000 100"
        )
    }

    #[test]
    fn parses_cpu_fields_of_a_name_with_spaces_and_parentheses() {
        let s = parse_cpu_stat(&stat(42, 7, "Web Content) (x", 900, 150, 25)).unwrap();
        assert_eq!(
            s.identity,
            ProcessIdentity {
                pid: 42,
                start_time: 900
            }
        );
        assert_eq!(s.ppid, 7);
        assert_eq!(s.name, "Web Content) (x");
        // utime + stime, not the children's cutime/cstime (7, 8).
        assert_eq!(s.ticks, 175);
        assert!(!s.exited);
        assert!(parse_cpu_stat("42 (x) S 7").is_none());
    }

    fn table(lines: &[String]) -> Vec<CpuStat> {
        lines.iter().map(|l| parse_cpu_stat(l).unwrap()).collect()
    }

    #[test]
    fn sums_cpu_by_kind_from_the_first_sample_and_counts_new_processes() {
        let driver = ProcessIdentity {
            pid: 10,
            start_time: 100,
        };
        let roots = vec![(
            "chromium".to_owned(),
            EngineId::Chromium,
            Root {
                identity: driver,
                kind: ProcessKind::Driver,
            },
        )];
        let args = |pid: u32| -> Vec<String> {
            match pid {
                12 | 13 => vec!["chromium".into(), "--type=renderer".into()],
                _ => vec!["chromium".into()],
            }
        };
        let mut sampler = TreeSampler::default();
        // First sample: driver, browser, one renderer; an unrelated process
        // (pid 99) and a process whose parent PID matches but that started
        // before the driver (a reused PID) are not ours.
        sampler.sample(
            &roots,
            &table(&[
                stat(10, 1, "chromedriver", 100, 50, 10),
                stat(11, 10, "chromium", 110, 300, 100),
                stat(12, 11, "chromium", 120, 40, 0),
                stat(99, 1, "other", 50, 1000, 0),
                stat(98, 10, "old", 90, 1000, 0),
            ]),
            &args,
        );
        // Second sample: renderer 12 gone (its last sample stands), a new
        // renderer 13 born, the others grew.
        sampler.sample(
            &roots,
            &table(&[
                stat(10, 1, "chromedriver", 100, 55, 10),
                stat(11, 10, "chromium", 110, 320, 110),
                stat(13, 11, "chromium", 200, 30, 5),
                stat(99, 1, "other", 50, 2000, 0),
            ]),
            &args,
        );
        let totals = sampler.totals(100.0);
        let cpu = |k| {
            totals
                .cpu
                .get(&("chromium".to_owned(), k))
                .copied()
                .unwrap_or(0.0)
        };
        let created = |k| {
            totals
                .created
                .get(&("chromium".to_owned(), k))
                .copied()
                .unwrap_or(0)
        };
        assert!((cpu(ProcessKind::Driver) - 0.05).abs() < 1e-9);
        assert!((cpu(ProcessKind::Browser) - 0.30).abs() < 1e-9);
        // Renderer 12 grew 0 between its samples; 13 counts from zero.
        assert!((cpu(ProcessKind::Renderer) - 0.35).abs() < 1e-9);
        assert_eq!(created(ProcessKind::Renderer), 1);
        assert_eq!(created(ProcessKind::Browser), 0);
        assert_eq!(totals.cpu.len(), 3, "nothing else counted: {totals:?}");
    }

    #[test]
    fn a_root_that_is_gone_or_reused_contributes_nothing() {
        let roots = vec![(
            "firefox".to_owned(),
            EngineId::Firefox,
            Root {
                identity: ProcessIdentity {
                    pid: 10,
                    start_time: 100,
                },
                kind: ProcessKind::Driver,
            },
        )];
        let mut sampler = TreeSampler::default();
        sampler.sample(
            &roots,
            &table(&[stat(10, 1, "bash", 500, 10, 0)]),
            &|_| vec![],
        );
        assert!(sampler.totals(100.0).cpu.is_empty());
    }

    #[test]
    fn reads_this_process_from_proc() {
        let me = std::process::id();
        let mine = read_table().into_iter().find(|s| s.identity.pid == me);
        assert!(mine.is_some());
        assert!(!read_args(me).is_empty());
        assert!(read_ticks("/proc/self/stat").is_some());
    }
}
