//! Every process the harness starts, and ending all of them.
//!
//! Browsers are trees of processes, and some branches leave the tree:
//! Chromium's and Firefox's crash handlers detach into their own sessions,
//! and a killed WebKitWebDriver leaves MiniBrowser and WebKitNetworkProcess
//! running. So ending "the driver" is not enough. The registry:
//!
//! - starts each child in its own process group (`process_group(0)`), which
//!   also keeps a terminal's Ctrl-C away from the browsers, so that only the
//!   harness decides when they end;
//! - tags each child's environment with [`OWNER_VARIABLE`], which every
//!   descendant inherits even after leaving the group;
//! - makes the harness a child subreaper, so orphaned descendants re-parent
//!   to the harness (not to PID 1) and can be reaped;
//! - when ending, finds the whole family in `/proc` (by parent chain,
//!   process group and tag), sends SIGTERM, waits up to
//!   [`TERMINATE_GRACE`], then sends SIGKILL, and reaps what is its own.
//!
//! It never signals a process that is not one it started or a descendant of
//! one, and never matches processes by name.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::proc_table::{self, ProcEntry, ProcessIdentity};

/// Environment variable set on every process the registry starts; its
/// value names the registry and the process, and descendants inherit it.
pub const OWNER_VARIABLE: &str = "PMCONF_OWNER";

/// How long processes get to exit after SIGTERM before SIGKILL.
pub const TERMINATE_GRACE: Duration = Duration::from_secs(2);

/// How long to wait for SIGKILLed processes to disappear.
const KILL_WAIT: Duration = Duration::from_secs(1);

/// How often the process table is re-read while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Distinguishes registries of one harness process (tests create many).
static NEXT_REGISTRY: AtomicU64 = AtomicU64::new(1);

/// A process the registry started. Its PID is also its process group ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProcessHandle {
    identity: ProcessIdentity,
    label: String,
    owner_tag: String,
}

impl ProcessHandle {
    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.identity.pid
    }

    /// The process group ID: the same as the PID, as each child leads its
    /// own group.
    pub fn pgid(&self) -> u32 {
        self.identity.pid
    }

    /// PID plus start time.
    pub fn identity(&self) -> ProcessIdentity {
        self.identity
    }

    /// What the process is, for messages (`"chromedriver"`).
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// What the registry knows about a process it started.
#[derive(Debug)]
pub enum ProcessState {
    /// Still running.
    Running,
    /// Exited by itself with this status (not yet ended by the registry).
    Exited(ExitStatus),
    /// Already ended through the registry, or never started by it.
    NotOwned,
}

/// Cheaply clonable handle to the set of processes the harness owns.
///
/// When the last clone is dropped, every process still registered is
/// ended. For the binary, see also [`super::signals::install_signal_cleanup`].
#[derive(Clone)]
pub struct ProcessRegistry {
    shared: Arc<Shared>,
}

struct Shared {
    /// Prefix of every tag this registry hands out (`"<pid>.<registry>."`).
    tag_prefix: String,
    is_subreaper: bool,
    state: Mutex<State>,
    /// Signalled whenever an [`ProcessRegistry::end`] finishes, so that
    /// `end_all` can wait for ends already under way on other threads.
    end_finished: Condvar,
}

#[derive(Default)]
struct State {
    next_process: u64,
    /// Set by [`ProcessRegistry::shut_down`]: no more processes may start.
    shut_down: bool,
    /// Ends under way on other threads, whose processes are no longer in
    /// `owned`.
    ends_in_progress: usize,
    owned: Vec<OwnedProcess>,
    /// Descendants seen in earlier walks of `/proc`, with the tag of the
    /// started process they belong to: a descendant that later leaves the
    /// tree (or turns into a zombie, whose environment is unreadable) is
    /// still known.
    seen: BTreeMap<ProcessIdentity, String>,
}

struct OwnedProcess {
    handle: ProcessHandle,
    child: Child,
}

impl Default for ProcessRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for ProcessRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessRegistry")
            .field("tag_prefix", &self.shared.tag_prefix)
            .field("owned", &self.owned())
            .finish()
    }
}

impl ProcessRegistry {
    /// A new, empty registry. Makes this process a child subreaper (for the
    /// rest of its life) so that orphaned descendants re-parent to it.
    pub fn new() -> Self {
        // prctl is variadic and the kernel reads unsigned longs: pass
        // arguments of exactly that width.
        let (enable, unused): (libc::c_ulong, libc::c_ulong) = (1, 0);
        // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag and touches
        // no memory of ours; it only changes how the kernel re-parents
        // orphaned descendants of this process.
        let is_subreaper =
            unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, enable, unused, unused, unused) }
                == 0;
        let registry = NEXT_REGISTRY.fetch_add(1, Ordering::Relaxed);
        ProcessRegistry {
            shared: Arc::new(Shared {
                tag_prefix: format!("{}.{registry}.", std::process::id()),
                is_subreaper,
                state: Mutex::new(State::default()),
                end_finished: Condvar::new(),
            }),
        }
    }

    /// Whether orphaned descendants re-parent to this process (false only
    /// if the kernel refused `PR_SET_CHILD_SUBREAPER`).
    pub fn is_subreaper(&self) -> bool {
        self.shared.is_subreaper
    }

    /// Starts `command` in a new process group, with stdin from /dev/null
    /// (a background group reading the terminal would be stopped) and the
    /// ownership tag in its environment, and records it.
    ///
    /// Fails once [`ProcessRegistry::shut_down`] has been called.
    pub fn spawn(&self, label: &str, command: &mut Command) -> io::Result<ProcessHandle> {
        let mut state = self.shared.lock();
        if state.shut_down {
            return Err(io::Error::other(format!(
                "not starting {label}: the harness is shutting down"
            )));
        }
        state.next_process += 1;
        let owner_tag = format!("{}{}", self.shared.tag_prefix, state.next_process);
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .env(OWNER_VARIABLE, &owner_tag)
            .kill_on_drop(false)
            .spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| io::Error::other("child exited before its PID was read"))?;
        // The start time is set at fork, so this reads the right process
        // even if it has already exec'd or exited (it is not reaped yet).
        let identity = ProcessIdentity::of(pid).unwrap_or(ProcessIdentity { pid, start_time: 0 });
        let handle = ProcessHandle {
            identity,
            label: label.to_owned(),
            owner_tag,
        };
        state.owned.push(OwnedProcess {
            handle: handle.clone(),
            child,
        });
        Ok(handle)
    }

    /// Whether a started process is still running.
    pub fn state(&self, handle: &ProcessHandle) -> ProcessState {
        let mut state = self.shared.lock();
        let Some(owned) = state.owned.iter_mut().find(|o| o.handle == *handle) else {
            return ProcessState::NotOwned;
        };
        match owned.child.try_wait() {
            Ok(Some(status)) => ProcessState::Exited(status),
            Ok(None) => ProcessState::Running,
            Err(_) => ProcessState::NotOwned,
        }
    }

    /// The processes started and not yet ended.
    pub fn owned(&self) -> Vec<ProcessHandle> {
        let state = self.shared.lock();
        state.owned.iter().map(|o| o.handle.clone()).collect()
    }

    /// Every running process that belongs to this registry: the started
    /// ones and all their descendants, including those that left the
    /// process tree. Also remembers the descendants for a later end.
    pub fn live_processes(&self) -> Vec<ProcessIdentity> {
        let mut state = self.shared.lock();
        let roots: Vec<Root> = state.owned.iter_mut().map(Root::of).collect();
        let tags: BTreeSet<String> = roots.iter().map(|root| root.tag.clone()).collect();
        let family = find_family(&roots, &state.seen, &proc_table::snapshot(), &|tag| {
            tags.contains(tag)
        });
        for (identity, (_, tag)) in &family {
            state.seen.insert(*identity, tag.clone());
        }
        family
            .into_iter()
            .filter(|(_, (entry, _))| !entry.has_exited())
            .map(|(identity, _)| identity)
            .collect()
    }

    /// Ends one started process, its process group and all its
    /// descendants (SIGTERM, then SIGKILL after [`TERMINATE_GRACE`]).
    /// Blocks until they are gone or given up on; does nothing if the
    /// process was already ended.
    pub fn end(&self, handle: &ProcessHandle) {
        let (owned, seen) = {
            let mut state = self.shared.lock();
            let owned: Vec<OwnedProcess> = extract(&mut state.owned, |o| o.handle == *handle);
            let seen = extract_seen(&mut state.seen, |tag| tag == handle.owner_tag);
            state.ends_in_progress += 1;
            (owned, seen)
        };
        let leftovers = self
            .shared
            .terminate(owned, seen, |tag| tag == handle.owner_tag);
        let mut state = self.shared.lock();
        state.seen.extend(leftovers);
        state.ends_in_progress -= 1;
        self.shared.end_finished.notify_all();
    }

    /// Ends every process started through this registry and all their
    /// descendants, and waits for [`ProcessRegistry::end`]s under way on
    /// other threads. Idempotent; blocks at most a few seconds. The
    /// registry can start processes again afterwards.
    pub fn end_all(&self) {
        self.shared.end_all();
    }

    /// Refuses every later [`ProcessRegistry::spawn`], then
    /// [`ProcessRegistry::end_all`]: for when the harness is exiting, so
    /// that a session starting on another thread cannot leave a driver
    /// behind.
    pub fn shut_down(&self) {
        self.shared.lock().shut_down = true;
        self.shared.end_all();
    }

    /// A guard that calls [`ProcessRegistry::end_all`] when dropped, for a
    /// scope whose processes must not outlive it even though clones of the
    /// registry live on elsewhere.
    pub fn end_all_on_drop(&self) -> EndAllOnDrop {
        EndAllOnDrop {
            registry: self.clone(),
        }
    }
}

/// Calls [`ProcessRegistry::end_all`] when dropped.
#[must_use = "the processes are ended when this guard is dropped"]
pub struct EndAllOnDrop {
    registry: ProcessRegistry,
}

impl Drop for EndAllOnDrop {
    fn drop(&mut self) {
        self.registry.end_all();
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.end_all();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not stop the cleanup.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn end_all(&self) {
        let (owned, seen) = {
            let mut state = self.lock();
            let owned = std::mem::take(&mut state.owned);
            let seen = std::mem::take(&mut state.seen);
            (owned, seen)
        };
        if !(owned.is_empty() && seen.is_empty()) {
            let prefix = self.tag_prefix.clone();
            let leftovers = self.terminate(owned, seen, |tag| tag.starts_with(&prefix));
            self.lock().seen.extend(leftovers);
        }
        // An `end` on another thread took its processes out of `owned`;
        // the harness may exit right after this returns, so wait for it.
        let limit = TERMINATE_GRACE + KILL_WAIT + Duration::from_secs(1);
        let state = self.lock();
        let _ = self
            .end_finished
            .wait_timeout_while(state, limit, |state| state.ends_in_progress > 0);
    }

    /// SIGTERM, wait, SIGKILL, wait: for the started processes in `owned`,
    /// their groups, the already `seen` descendants, and every process
    /// whose tag satisfies `is_ours`. Returns the processes that survived
    /// even SIGKILL (so a later call can try again).
    fn terminate(
        &self,
        mut owned: Vec<OwnedProcess>,
        mut seen: BTreeMap<ProcessIdentity, String>,
        is_ours: impl Fn(&str) -> bool,
    ) -> BTreeMap<ProcessIdentity, String> {
        let me = std::process::id();
        let start = Instant::now();
        let mut signal = libc::SIGTERM;
        let mut signalled = BTreeSet::new();
        loop {
            // Reap the started processes through their `Child`, so tokio
            // never loses track of a status it is owed.
            let roots: Vec<Root> = owned.iter_mut().map(Root::of).collect();
            let table = proc_table::snapshot();
            let family = find_family(&roots, &seen, &table, &is_ours);
            for (identity, (_, tag)) in &family {
                seen.insert(*identity, tag.clone());
            }
            reap_adopted_zombies(me, &family, &owned);

            let leaders: Vec<u32> = roots.iter().filter(|r| r.unreaped).map(|r| r.pid).collect();
            let running: Vec<ProcessIdentity> = family
                .values()
                .filter(|(entry, _)| !entry.has_exited())
                .map(|(entry, _)| entry.identity())
                .collect();
            if leaders.is_empty() && running.is_empty() {
                reap_remaining_zombies(me, &seen, &owned);
                seen.clear();
                return seen;
            }

            let elapsed = start.elapsed();
            if signal == libc::SIGTERM && elapsed >= TERMINATE_GRACE {
                signal = libc::SIGKILL;
                signalled.clear();
            } else if signal == libc::SIGKILL && elapsed >= TERMINATE_GRACE + KILL_WAIT {
                // Unkillable (uninterruptible sleep): give up, but keep
                // knowing about them.
                seen.retain(|identity, _| identity.is_running());
                return seen;
            }
            for &leader in &leaders {
                if signalled.insert(leader) {
                    // SAFETY: `leader` is a child of ours that has not been
                    // reaped (checked just above through its `Child`), so
                    // its PID, and therefore its process group ID, cannot
                    // have been reused. killpg only sends a signal.
                    unsafe { libc::killpg(leader as libc::pid_t, signal) };
                }
            }
            for process in &running {
                // Checked again right before signalling, so that a PID
                // freed and reused since the walk is left alone.
                if process.pid != me && process.is_running() && signalled.insert(process.pid) {
                    // SAFETY: the PID was found in /proc as a descendant of
                    // ours (parent chain, group or tag) and still has the
                    // same start time an instant ago; PIDs are handed out
                    // in increasing order, so it cannot realistically have
                    // been reused since. kill only sends a signal.
                    unsafe { libc::kill(process.pid as libc::pid_t, signal) };
                }
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}

/// A started process as a starting point for finding its family.
struct Root {
    pid: u32,
    tag: String,
    /// Not yet reaped: its PID and group ID cannot have been reused.
    unreaped: bool,
}

impl Root {
    fn of(owned: &mut OwnedProcess) -> Root {
        Root {
            pid: owned.handle.pid(),
            tag: owned.handle.owner_tag.clone(),
            unreaped: matches!(owned.child.try_wait(), Ok(None)),
        }
    }
}

/// The processes in `table` that belong to `roots`: the roots themselves,
/// the members of their process groups, the `seen` descendants, the
/// processes whose ownership tag satisfies `tag_matches`, then everything
/// whose parent is among those. Each comes with the tag of the started
/// process it belongs to.
fn find_family(
    roots: &[Root],
    seen: &BTreeMap<ProcessIdentity, String>,
    table: &[ProcEntry],
    tag_matches: &dyn Fn(&str) -> bool,
) -> BTreeMap<ProcessIdentity, (ProcEntry, String)> {
    let me = std::process::id();
    let mut family: BTreeMap<ProcessIdentity, (ProcEntry, String)> = BTreeMap::new();
    for entry in table.iter().filter(|e| e.pid != me) {
        let root = roots
            .iter()
            .find(|root| root.unreaped && (entry.pid == root.pid || entry.pgid == root.pid));
        let tag = root
            .map(|root| root.tag.clone())
            .or_else(|| seen.get(&entry.identity()).cloned())
            .or_else(|| {
                // Zombies have no readable environment; they are found by
                // group, parent chain or an earlier walk instead.
                let tag = proc_table::environment_value(entry.pid, OWNER_VARIABLE)?;
                tag_matches(&tag).then_some(tag)
            });
        if let Some(tag) = tag {
            family.insert(entry.identity(), (entry.clone(), tag));
        }
    }
    // Close over the parent chain until nothing new is added.
    loop {
        let parents: BTreeMap<u32, String> = family
            .values()
            .map(|(entry, tag)| (entry.pid, tag.clone()))
            .collect();
        let children: Vec<(ProcEntry, String)> = table
            .iter()
            .filter(|e| e.pid != me && !family.contains_key(&e.identity()))
            .filter_map(|e| Some((e.clone(), parents.get(&e.ppid)?.clone())))
            .collect();
        if children.is_empty() {
            return family;
        }
        for (entry, tag) in children {
            family.insert(entry.identity(), (entry, tag));
        }
    }
}

/// Collects the exit status of orphaned descendants that re-parented to
/// this process (as subreaper) and exited. Started processes are skipped:
/// their `Child` reaps them.
fn reap_adopted_zombies(
    me: u32,
    family: &BTreeMap<ProcessIdentity, (ProcEntry, String)>,
    owned: &[OwnedProcess],
) {
    for (entry, _) in family.values() {
        let is_started = owned.iter().any(|o| o.handle.pid() == entry.pid);
        if entry.ppid == me && entry.state == 'Z' && !is_started {
            let mut status = 0;
            // SAFETY: waitpid on one specific PID that /proc shows as our
            // own zombie child and that no `Child` handle owns; WNOHANG
            // keeps it from blocking. `status` is a valid out-pointer.
            unsafe { libc::waitpid(entry.pid as libc::pid_t, &mut status, libc::WNOHANG) };
        }
    }
}

/// After the family has exited: reaps its zombies that are our children.
/// Children of a process that just exited re-parent to us (the subreaper)
/// and may exit in the meantime, so this repeats until a pass finds none.
fn reap_remaining_zombies(
    me: u32,
    family: &BTreeMap<ProcessIdentity, String>,
    owned: &[OwnedProcess],
) {
    for _ in 0..50 {
        let zombies: BTreeMap<ProcessIdentity, (ProcEntry, String)> = proc_table::snapshot()
            .into_iter()
            .filter(|entry| entry.ppid == me && entry.state == 'Z')
            .filter_map(|entry| {
                let tag = family.get(&entry.identity())?.clone();
                Some((entry.identity(), (entry, tag)))
            })
            .collect();
        if zombies.is_empty() {
            return;
        }
        reap_adopted_zombies(me, &zombies, owned);
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn extract<T>(items: &mut Vec<T>, mut pick: impl FnMut(&T) -> bool) -> Vec<T> {
    let (picked, kept) = std::mem::take(items)
        .into_iter()
        .partition(|item| pick(item));
    *items = kept;
    picked
}

fn extract_seen(
    seen: &mut BTreeMap<ProcessIdentity, String>,
    pick: impl Fn(&str) -> bool,
) -> BTreeMap<ProcessIdentity, String> {
    let (picked, kept) = std::mem::take(seen)
        .into_iter()
        .partition(|(_, tag)| pick(tag));
    *seen = kept;
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        command
    }

    fn sleep_30() -> Command {
        let mut command = Command::new("sleep");
        command.arg("30");
        command
    }

    /// Waits until `registry` sees at least `count` running processes
    /// (a shell needs a moment to fork its children).
    async fn wait_for_family(registry: &ProcessRegistry, count: usize) -> Vec<ProcessIdentity> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let live = registry.live_processes();
            if live.len() >= count || Instant::now() > deadline {
                return live;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    fn all_gone(processes: &[ProcessIdentity]) -> Vec<ProcessIdentity> {
        processes
            .iter()
            .copied()
            .filter(|p| p.is_running())
            .collect()
    }

    #[tokio::test]
    async fn end_all_ends_children_grandchildren_and_escaped_orphans() {
        let registry = ProcessRegistry::new();
        assert!(registry.is_subreaper());
        let sleeper = registry.spawn("sleep", &mut sleep_30()).unwrap();
        let shell = registry
            .spawn("shell with a grandchild", &mut sh("sleep 30 & sleep 30"))
            .unwrap();
        // A grandchild that leaves the process group and is orphaned: only
        // the subreaper and the environment tag can still find it.
        let escaper = registry
            .spawn(
                "shell with an escaped orphan",
                &mut sh("(setsid sleep 30 &); sleep 30"),
            )
            .unwrap();
        assert_eq!(sleeper.pgid(), sleeper.pid());

        // sleep, sh + 2 sleeps, sh + its sleep + the escaped sleep.
        let family = wait_for_family(&registry, 7).await;
        assert!(family.len() >= 7, "family: {family:?}");
        for started in [&sleeper, &shell, &escaper] {
            assert!(family.contains(&started.identity()));
        }

        let started = Instant::now();
        registry.end_all();
        assert!(started.elapsed() < TERMINATE_GRACE, "sleep obeys SIGTERM");
        assert_eq!(all_gone(&family), []);
        assert!(registry.owned().is_empty());
        assert!(registry.live_processes().is_empty());
        assert!(matches!(registry.state(&sleeper), ProcessState::NotOwned));

        // Idempotent, and quick the second time.
        let again = Instant::now();
        registry.end_all();
        assert!(again.elapsed() < Duration::from_millis(200));
    }

    #[tokio::test]
    async fn end_ends_one_process_family_and_leaves_the_others() {
        let registry = ProcessRegistry::new();
        let first = registry
            .spawn("first", &mut sh("sleep 30 & sleep 30"))
            .unwrap();
        let second = registry.spawn("second", &mut sleep_30()).unwrap();
        let family = wait_for_family(&registry, 4).await;

        registry.end(&first);
        assert!(!first.identity().is_running());
        assert!(second.identity().is_running());
        assert!(matches!(registry.state(&second), ProcessState::Running));
        let survivors = all_gone(&family);
        assert_eq!(survivors, [second.identity()]);

        registry.end_all();
        assert_eq!(all_gone(&family), []);
    }

    #[tokio::test]
    async fn processes_that_ignore_sigterm_are_killed_after_the_grace_period() {
        let registry = ProcessRegistry::new();
        let stubborn = registry
            .spawn("ignores TERM", &mut sh("trap '' TERM; sleep 30 & wait"))
            .unwrap();
        let family = wait_for_family(&registry, 2).await;
        let started = Instant::now();
        // One thread ends the process while another ends everything, as
        // when Ctrl-C arrives while a session closes: end_all must not
        // return before the other end has finished.
        let ender = {
            let (registry, stubborn) = (registry.clone(), stubborn.clone());
            std::thread::spawn(move || registry.end(&stubborn))
        };
        std::thread::sleep(Duration::from_millis(100));
        registry.end_all();
        assert!(started.elapsed() >= TERMINATE_GRACE);
        assert_eq!(all_gone(&family), []);
        ender.join().unwrap();
    }

    #[tokio::test]
    async fn a_shut_down_registry_starts_nothing() {
        let registry = ProcessRegistry::new();
        let before = registry.spawn("sleep", &mut sleep_30()).unwrap();
        registry.shut_down();
        assert!(!before.identity().is_running());
        let error = registry.spawn("sleep", &mut sleep_30()).unwrap_err();
        assert!(error.to_string().contains("shutting down"), "{error}");
        assert!(registry.owned().is_empty());
    }

    #[tokio::test]
    async fn reports_a_process_that_exited_by_itself() {
        let registry = ProcessRegistry::new();
        let quick = registry.spawn("exit 3", &mut sh("exit 3")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            match registry.state(&quick) {
                ProcessState::Exited(status) => break status,
                _ if Instant::now() > deadline => panic!("sh did not exit"),
                _ => tokio::time::sleep(POLL_INTERVAL).await,
            }
        };
        assert_eq!(status.code(), Some(3));
        registry.end_all();
    }

    #[tokio::test]
    async fn dropping_the_last_clone_or_the_guard_ends_everything() {
        let registry = ProcessRegistry::new();
        let handle = registry.spawn("sleep", &mut sleep_30()).unwrap();
        {
            let _guard = registry.end_all_on_drop();
        }
        assert!(!handle.identity().is_running());

        let handle = registry.spawn("sleep", &mut sleep_30()).unwrap();
        let clone = registry.clone();
        drop(registry);
        assert!(handle.identity().is_running(), "a clone still lives");
        drop(clone);
        assert!(!handle.identity().is_running());
    }
}
