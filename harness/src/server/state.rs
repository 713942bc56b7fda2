//! State shared by the accept loop and every connection task.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::tls::CertCache;
use super::{Handler, RejectedRequest};

/// Enough for hours of browser background noise; beyond it new entries are
/// only counted, so a runaway client cannot grow memory without bound.
const MAX_REJECTED: usize = 10_000;

/// A task the server owns; boxed so connection and tunnel tasks (which spawn
/// each other) do not form a recursive future type.
pub(crate) type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

pub(crate) struct Shared {
    pub(crate) handler: Arc<dyn Handler>,
    pub(crate) certs: CertCache,
    rejected: Mutex<Vec<RejectedRequest>>,
    rejected_dropped: AtomicU64,
    served: AtomicU64,
    /// `None` once shutdown has begun, so late tunnels are not started.
    tasks: Mutex<Option<JoinSet<()>>>,
    shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub(crate) fn new(
        handler: Arc<dyn Handler>,
        certs: CertCache,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Shared {
            handler,
            certs,
            rejected: Mutex::new(Vec::new()),
            rejected_dropped: AtomicU64::new(0),
            served: AtomicU64::new(0),
            tasks: Mutex::new(Some(JoinSet::new())),
            shutdown,
        }
    }

    /// Spawns a connection-scoped task that shutdown will wait for (and
    /// abort if it lingers). Dropped silently once shutdown has begun.
    pub(crate) fn spawn(&self, task: Task) {
        let mut guard = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(set) = guard.as_mut() {
            // Reap finished tasks here so a long run does not accumulate them.
            while set.try_join_next().is_some() {}
            set.spawn(task);
        }
    }

    /// Takes every live task out, closing the set to new ones.
    pub(crate) fn take_tasks(&self) -> Option<JoinSet<()>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    pub(crate) fn record_rejected(&self, entry: RejectedRequest) {
        let mut log = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() < MAX_REJECTED {
            log.push(entry);
        } else {
            self.rejected_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn rejected(&self) -> Vec<RejectedRequest> {
        self.rejected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn rejected_dropped(&self) -> u64 {
        self.rejected_dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn count_served(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }
}

/// Resolves once shutdown is signalled (or the server is gone). Returning
/// `()` keeps the watch guard from being held across an await in callers.
pub(crate) async fn stopped(mut signal: watch::Receiver<bool>) {
    let _ = signal.wait_for(|stop| *stop).await;
}
