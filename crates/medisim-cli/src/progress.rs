//! The terminal side of the libraries' progress reports: only the command line draws a bar.

use indicatif::ProgressBar;
use medisim_core::Progress;

/// A terminal progress bar, as the libraries' [`Progress`]: only the command line draws one.
pub(crate) struct Bar(pub ProgressBar);

impl Progress for Bar {
    fn set_length(&self, steps: u64) {
        self.0.set_length(steps);
    }
    fn inc(&self, steps: u64) {
        self.0.inc(steps);
    }
    fn set_message(&self, message: String) {
        self.0.set_message(message);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl std::ops::Deref for Bar {
    type Target = ProgressBar;
    fn deref(&self) -> &ProgressBar {
        &self.0
    }
}
