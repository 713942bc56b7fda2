//! Reading the process table from `/proc`: who is whose child, which
//! process group each is in, and which carry pmconf's ownership tag.
//!
//! A process is identified by its PID *and* its start time, so that a PID
//! reused by an unrelated process after ours exited is never mistaken for
//! ours.

use std::fs;

/// A process as identified by the kernel: PID plus start time (clock ticks
/// since boot), which together never repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcessIdentity {
    /// The process ID.
    pub pid: u32,
    /// Field 22 of `/proc/PID/stat`.
    pub start_time: u64,
}

impl ProcessIdentity {
    /// The process currently holding `pid`, if any.
    pub fn of(pid: u32) -> Option<Self> {
        read_stat(pid).map(|entry| entry.identity())
    }

    /// Whether this very process still exists and has not exited (a zombie
    /// has exited: it only waits for its parent to collect its status).
    pub fn is_running(&self) -> bool {
        read_stat(self.pid)
            .is_some_and(|entry| entry.start_time == self.start_time && !entry.has_exited())
    }
}

/// One line of the process table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcEntry {
    pub pid: u32,
    pub ppid: u32,
    pub pgid: u32,
    /// `R`, `S`, `D`, `Z` (zombie), `X` (dead), ...
    pub state: char,
    pub start_time: u64,
}

impl ProcEntry {
    pub fn identity(&self) -> ProcessIdentity {
        ProcessIdentity {
            pid: self.pid,
            start_time: self.start_time,
        }
    }

    /// Zombie or dead: signals no longer matter, only reaping does.
    pub fn has_exited(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

/// Parses `/proc/PID/stat`. The command name (field 2) is in parentheses
/// and may itself contain spaces and parentheses, so fields are counted
/// from the last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<ProcEntry> {
    let (pid, _, fields) = stat_fields(text)?;
    Some(ProcEntry {
        pid,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgid: fields.get(2)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// The PID, the command name and the fields after it of a
/// `/proc/PID/stat` line: `fields[0]` is field 3 (state), field N is
/// `fields[N - 3]`.
pub(crate) fn stat_fields(text: &str) -> Option<(u32, &str, Vec<&str>)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let name = text.get(open + 1..close)?;
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    Some((pid, name, fields))
}

pub(crate) fn read_stat(pid: u32) -> Option<ProcEntry> {
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Every process visible in `/proc` right now.
pub(crate) fn snapshot() -> Vec<ProcEntry> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(read_stat)
        .collect()
}

/// The running children of `pid`, oldest first (for the PIDs a debug
/// listing names: the browser is the first child of its driver).
pub fn children_of(pid: u32) -> Vec<ProcessIdentity> {
    let mut children: Vec<ProcEntry> = snapshot()
        .into_iter()
        .filter(|entry| entry.ppid == pid && !entry.has_exited())
        .collect();
    children.sort_by_key(|entry| (entry.start_time, entry.pid));
    children.iter().map(ProcEntry::identity).collect()
}

/// The value of `variable` in the environment `pid` was started with.
/// `None` for zombies, for processes we may not inspect, and for a moment
/// right after a process starts (the kernel records where the environment
/// is after the parent has already been told the child exists), which is
/// why ownership is also traced by process group and parent chain.
pub(crate) fn environment_value(pid: u32, variable: &str) -> Option<String> {
    let environ = fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{variable}=");
    environ
        .split(|byte| *byte == 0)
        .find_map(|entry| entry.strip_prefix(prefix.as_bytes()))
        .map(|value| String::from_utf8_lossy(value).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_whose_name_contains_parentheses_and_spaces() {
        let line = "4242 (Web Content) (x)) S 17 4242 4242 0 -1 4194560 1 0 0 0 \
                    0 0 0 0 20 0 12 0 987654 1000 100";
        assert_eq!(
            parse_stat(line),
            Some(ProcEntry {
                pid: 4242,
                ppid: 17,
                pgid: 4242,
                state: 'S',
                start_time: 987654,
            })
        );
    }

    #[test]
    fn rejects_truncated_stat_lines() {
        assert_eq!(parse_stat("12 (sh) S 1 12"), None);
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn this_process_is_running_and_in_the_snapshot() {
        let me = std::process::id();
        let identity = ProcessIdentity::of(me).expect("own stat is readable");
        assert!(identity.is_running());
        assert!(snapshot().iter().any(|entry| entry.pid == me));
        let older = ProcessIdentity {
            start_time: identity.start_time.wrapping_sub(1),
            ..identity
        };
        assert!(!older.is_running(), "same PID, other start time");
    }

    #[test]
    fn reads_variables_from_the_start_environment() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .env("PMCONF_PROC_TABLE_TEST", "value-42")
            .spawn()
            .unwrap();
        // spawn() returns as soon as the child's new memory is in place,
        // a moment before the kernel records where its environment is.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let value = loop {
            let value = environment_value(child.id(), "PMCONF_PROC_TABLE_TEST");
            if value.is_some() || std::time::Instant::now() > deadline {
                break value;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        let absent = environment_value(child.id(), "PMCONF_NOT_SET_ANYWHERE");
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(value.as_deref(), Some("value-42"));
        assert_eq!(absent, None);
    }
}
