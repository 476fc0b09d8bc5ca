//! Progress, reported by the libraries and shown by whoever runs them: the command line draws a
//! terminal bar, the Python module counts for `tqdm`, a test ignores it. So no library crate
//! knows a terminal, and every long job reports the same way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Where a long job reports how far it is. Shared across worker threads.
pub trait Progress: Send + Sync {
    /// The number of steps the job will take.
    fn set_length(&self, steps: u64);
    /// `steps` more are done.
    fn inc(&self, steps: u64);
    /// What the job is doing now (shown beside the count, where there is room).
    fn set_message(&self, _message: String) {}
    /// The job is over: a display may clear itself.
    fn finish(&self) {}
    /// Whoever watches asked the job to stop: a job that can stop early checks this at its
    /// safe points (a search at a block's end, where it can resume from).
    fn cancelled(&self) -> bool {
        false
    }
}

/// Progress nobody watches.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hidden;

impl Progress for Hidden {
    fn set_length(&self, _steps: u64) {}
    fn inc(&self, _steps: u64) {}
}

/// A count any thread can read while the job runs: (done, total) and the last message.
#[derive(Clone, Debug, Default)]
pub struct Counter {
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    message: Arc<Mutex<String>>,
}

impl Counter {
    /// (steps done, steps in all).
    pub fn get(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    pub fn message(&self) -> String {
        self.message.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl Progress for Counter {
    fn set_length(&self, steps: u64) {
        self.total.store(steps, Ordering::Relaxed);
    }
    fn inc(&self, steps: u64) {
        self.done.fetch_add(steps, Ordering::Relaxed);
    }
    fn set_message(&self, message: String) {
        if let Ok(mut m) = self.message.lock() {
            *m = message;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_is_read_from_other_threads() {
        let c = Counter::default();
        c.set_length(8);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    c.inc(1);
                    c.inc(1);
                });
            }
        });
        c.set_message("solving".into());
        assert_eq!(c.get(), (8, 8));
        assert_eq!(c.clone().message(), "solving");
        let p: &dyn Progress = &Hidden;
        p.inc(1);
    }
}
