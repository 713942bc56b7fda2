//! Fanning one event stream out to several reporters.

use crate::run::events::{Reporter, RunEvent};
use std::io;

/// Passes every event to each of its reporters, in the order they were
/// added.
#[derive(Default)]
pub struct MultiReporter {
    reporters: Vec<Box<dyn Reporter>>,
}

impl MultiReporter {
    /// A fan-out to `reporters`.
    pub fn new(reporters: Vec<Box<dyn Reporter>>) -> Self {
        Self { reporters }
    }

    /// Adds a reporter.
    pub fn push(&mut self, reporter: Box<dyn Reporter>) {
        self.reporters.push(reporter);
    }

    /// How many reporters events go to.
    pub fn len(&self) -> usize {
        self.reporters.len()
    }

    /// Whether events go nowhere.
    pub fn is_empty(&self) -> bool {
        self.reporters.is_empty()
    }
}

impl Reporter for MultiReporter {
    fn on_event(&mut self, event: &RunEvent) {
        for reporter in &mut self.reporters {
            reporter.on_event(event);
        }
    }

    /// Finishes every reporter even when one fails, so one unwritable file
    /// does not cost the others; the error lists every failure.
    fn finish(&mut self) -> io::Result<()> {
        let errors: Vec<io::Error> = self
            .reporters
            .iter_mut()
            .filter_map(|r| r.finish().err())
            .collect();
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.into_iter().next().expect("one error")),
            _ => {
                let kind = errors[0].kind();
                let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
                Err(io::Error::new(kind, all.join("; ")))
            }
        }
    }

    fn written(&self) -> Vec<std::path::PathBuf> {
        self.reporters.iter().flat_map(|r| r.written()).collect()
    }
}

/// Two reporters borrowed, each given every event: a run's terminal and
/// its files, finished apart so that the terminal can say which files
/// were written before its verdict line.
pub struct Tee<'a> {
    /// Sees each event first.
    pub first: &'a mut dyn Reporter,
    /// Then this one.
    pub second: &'a mut dyn Reporter,
}

impl Reporter for Tee<'_> {
    fn on_event(&mut self, event: &RunEvent) {
        self.first.on_event(event);
        self.second.on_event(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Logs what it sees into a shared list, and fails `finish` if asked.
    struct Logging {
        name: &'static str,
        log: Arc<Mutex<Vec<String>>>,
        fail: bool,
    }

    impl Reporter for Logging {
        fn on_event(&mut self, event: &RunEvent) {
            let RunEvent::SuiteEnd { seconds } = event else {
                return;
            };
            self.log
                .lock()
                .unwrap()
                .push(format!("{} event {seconds}", self.name));
        }
        fn finish(&mut self) -> io::Result<()> {
            self.log
                .lock()
                .unwrap()
                .push(format!("{} finish", self.name));
            if self.fail {
                Err(io::Error::other(format!("{} failed", self.name)))
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn every_reporter_sees_every_event_and_finishes_despite_failures() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let logging = |name, fail| {
            Box::new(Logging {
                name,
                log: log.clone(),
                fail,
            }) as Box<dyn Reporter>
        };
        let mut multi = MultiReporter::new(vec![logging("a", true), logging("b", false)]);
        multi.push(logging("c", true));
        assert_eq!(multi.len(), 3);
        multi.on_event(&RunEvent::SuiteEnd { seconds: 1.5 });
        let err = multi.finish().unwrap_err();
        assert_eq!(err.to_string(), "a failed; c failed");
        assert_eq!(
            *log.lock().unwrap(),
            [
                "a event 1.5",
                "b event 1.5",
                "c event 1.5",
                "a finish",
                "b finish",
                "c finish"
            ]
        );
    }
}
