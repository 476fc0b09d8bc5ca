//! One reading path for every command that takes a policy file (`check`, `fmt`, `hash`,
//! `patch`, `run --policy`, the experiments' `--policy`): bounded in size before anything is
//! held in memory, UTF-8 or a located diagnostic, and diagnostics rendered through one capped
//! list, so no file can flood the terminal.

use anyhow::{Context, Result};
use medisim_dsl::check::decode;
use medisim_dsl::diag::{render_all, Diagnostic};
use medisim_dsl::schema::MAX_SOURCE_BYTES;
use std::io::{IsTerminal, Read};
use std::path::Path;

/// A policy file's text, or the rendered reason it has none.
pub struct Source {
    pub name: String,
    pub text: String,
}

/// Read a policy file: `Ok(Err(report))` when the file is readable but is not a policy source
/// (too large, not UTF-8); `Err` when it cannot be read at all.
pub fn read_policy(path: &Path) -> Result<std::result::Result<Source, String>> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?;
    let mut bytes = Vec::new();
    // One byte past the limit tells "too large" without reading a huge file whole.
    file.take(MAX_SOURCE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))?;
    if bytes.len() > MAX_SOURCE_BYTES {
        return Ok(Err(format!(
            "{name}: error[too-large]: policy file is larger than {MAX_SOURCE_BYTES} bytes, the \
             limit for a policy source"
        )));
    }
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
    let shown: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error() || notes).collect();
    render_all(&shown, &src.name, &src.text, color())
}

pub fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
