//! When an engine's sessions die too often, it is given up for the rest of
//! the run (see [`super::pool`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Restarts an engine may need within [`RESTART_WINDOW`]; one more and it
/// is given up.
pub const MAX_RESTARTS: usize = 3;

/// See [`MAX_RESTARTS`].
pub const RESTART_WINDOW: Duration = Duration::from_secs(60);

/// New sessions that may fail to start in a row before the engine is
/// given up, however long each attempt took: a start that times out
/// (30 s and more) would otherwise keep older restarts leaving the
/// window, and the engine would be retried for ever.
pub const MAX_FAILED_STARTS: usize = 3;

/// When an engine's sessions have died too often.
#[derive(Debug, Default)]
pub struct RestartBudget {
    /// When each restart within the window happened.
    recent: VecDeque<Instant>,
    /// Why the engine was given up, once it was.
    given_up: Option<String>,
    /// New sessions that failed to start since the last one that started.
    failed_starts: usize,
}

impl RestartBudget {
    /// A restart is wanted at `now` because of `why`: allowed (`Ok`), or
    /// refused because the engine is given up (`Err` with the reason; the
    /// `bool` says whether this call gave it up).
    pub fn restart(&mut self, now: Instant, why: &str) -> Result<(), (String, bool)> {
        if let Some(reason) = &self.given_up {
            return Err((reason.clone(), false));
        }
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= RESTART_WINDOW)
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= MAX_RESTARTS {
            let reason = format!(
                "given up for the rest of the run: it needed more than {} restarts within {} s; last: {why}",
                MAX_RESTARTS,
                RESTART_WINDOW.as_secs()
            );
            self.given_up = Some(reason.clone());
            return Err((reason, true));
        }
        self.recent.push_back(now);
        Ok(())
    }

    /// A new session failed to start because of `why`: `Err` (as from
    /// [`Self::restart`]) once [`MAX_FAILED_STARTS`] failed in a row.
    pub fn start_failed(&mut self, why: &str) -> Result<(), (String, bool)> {
        if let Some(reason) = &self.given_up {
            return Err((reason.clone(), false));
        }
        self.failed_starts += 1;
        if self.failed_starts >= MAX_FAILED_STARTS {
            let reason = format!(
                "given up for the rest of the run: {MAX_FAILED_STARTS} new sessions in a row failed to start; last: {why}"
            );
            self.given_up = Some(reason.clone());
            return Err((reason, true));
        }
        Ok(())
    }

    /// A new session started: failed starts no longer count.
    pub fn started(&mut self) {
        self.failed_starts = 0;
    }

    /// Why the engine was given up, if it was.
    pub fn given_up(&self) -> Option<&str> {
        self.given_up.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_restarts_a_minute_are_allowed_and_a_fourth_gives_the_engine_up() {
        let mut budget = RestartBudget::default();
        let t0 = Instant::now();
        for s in 0..3 {
            assert_eq!(budget.restart(t0 + Duration::from_secs(s), "died"), Ok(()));
        }
        let (reason, now) = budget
            .restart(t0 + Duration::from_secs(59), "browser gone")
            .unwrap_err();
        assert!(now);
        assert!(
            reason.contains("more than 3 restarts within 60 s"),
            "{reason}"
        );
        assert!(reason.ends_with("last: browser gone"), "{reason}");
        assert_eq!(budget.given_up(), Some(reason.as_str()));
        // Given up stays given up, and says so only once.
        let (again, now) = budget
            .restart(t0 + Duration::from_secs(600), "x")
            .unwrap_err();
        assert!(!now);
        assert_eq!(again, reason);
    }

    #[test]
    fn slow_failing_starts_give_the_engine_up_though_the_window_never_fills() {
        let mut budget = RestartBudget::default();
        let t0 = Instant::now();
        // Each start times out after 40 s: the window never holds 3.
        for (i, s) in [0u64, 40, 80].into_iter().enumerate() {
            assert_eq!(budget.restart(t0 + Duration::from_secs(s), "died"), Ok(()));
            let failed = budget.start_failed("no answer");
            if i < 2 {
                assert_eq!(failed, Ok(()));
            } else {
                let (reason, now) = failed.unwrap_err();
                assert!(now);
                assert!(
                    reason.contains("3 new sessions in a row failed to start"),
                    "{reason}"
                );
            }
        }
        assert!(budget.restart(t0 + Duration::from_secs(500), "x").is_err());
    }

    #[test]
    fn a_session_that_starts_clears_the_failed_starts() {
        let mut budget = RestartBudget::default();
        for _ in 0..2 {
            assert_eq!(budget.start_failed("no answer"), Ok(()));
        }
        budget.started();
        for _ in 0..2 {
            assert_eq!(budget.start_failed("no answer"), Ok(()));
        }
        assert!(budget.given_up().is_none());
    }

    #[test]
    fn restarts_older_than_the_window_do_not_count() {
        let mut budget = RestartBudget::default();
        let t0 = Instant::now();
        for s in [0, 30, 50] {
            assert_eq!(budget.restart(t0 + Duration::from_secs(s), "died"), Ok(()));
        }
        // The first has left the window: a fourth restart in 61 s is fine.
        assert_eq!(budget.restart(t0 + Duration::from_secs(61), "died"), Ok(()));
        assert!(budget
            .restart(t0 + Duration::from_secs(62), "died")
            .is_err());
    }
}
