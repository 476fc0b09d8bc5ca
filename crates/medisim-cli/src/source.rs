//! One reading path (through `medisim_core::input`) for every command that takes a policy
//! file (`check`, `fmt`, `hash`, `patch`, `run --policy`, the experiments' `--policy`): bounded
//! in size before anything is held in memory, UTF-8 or a located diagnostic, and diagnostics
//! rendered through one capped list, so no file can flood the terminal.

use anyhow::Result;
use medisim_dsl::check::decode;
use medisim_dsl::diag::{render_all, Diagnostic};
use medisim_dsl::schema::MAX_SOURCE_BYTES;
use std::io::IsTerminal;
use std::path::Path;

/// A policy file's text, or the rendered reason it has none.
pub struct Source {
    pub name: String,
    pub text: String,
}

/// Read a policy file: `Ok(Err(report))` when the file is readable but is not a policy source
/// (too large, not UTF-8); `Err` when it cannot be read at all.
pub fn read_policy(path: &Path) -> Result<std::result::Result<Source, String>> {
    use medisim_core::input::{read_bytes, InputError};
    let name = path.display().to_string();
    let bytes = match read_bytes(path, MAX_SOURCE_BYTES as u64, "a policy source") {
        Ok(bytes) => bytes,
        Err(InputError::TooLarge { .. }) => {
            return Ok(Err(format!(
                "{name}: error[too-large]: policy file is larger than {MAX_SOURCE_BYTES} bytes, \
                 the limit for a policy source"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    match decode(&bytes) {
        Ok(text) => Ok(Ok(Source {
            name,
            text: text.to_string(),
        })),
        Err((lossy, d)) => Ok(Err(d.render_with(&name, &lossy, color()))),
    }
}

/// The errors (and, with `notes`, the notes) of `diags`, rendered and capped.
pub fn report(diags: &[Diagnostic], src: &Source, notes: bool) -> String {
    let shown: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| notes || d.severity != medisim_dsl::diag::Severity::Note)
        .collect();
    render_all(&shown, &src.name, &src.text, color())
}

pub fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
