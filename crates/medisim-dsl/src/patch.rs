//! Edits as language models write them: exact SEARCH/REPLACE blocks applied to a policy's text,
//! or a full rewrite. A patched program is always re-checked before anyone may run it.
//!
//! ```text
//! <<<<<<< SEARCH
//! alpha = 0.5
//! =======
//! alpha = 0.45
//! >>>>>>> REPLACE
//! ```
//!
//! The SEARCH text must occur exactly once in the current text (blocks apply in order, each to
//! the result of the previous one). No fuzzy matching: an edit that does not say exactly what it
//! replaces is refused with an error that says why.

use crate::check::{check_source, Policy};
use crate::diag::Diagnostic;
use crate::schema::Schema;
use std::fmt;
use std::sync::Arc;

const SEARCH: &str = "<<<<<<< SEARCH";
const DIVIDER: &str = "=======";
const REPLACE: &str = ">>>>>>> REPLACE";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchReplace {
    pub search: String,
    pub replace: String,
}

/// What an edit response asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    Blocks(Vec<SearchReplace>),
    Rewrite(String),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("malformed edit at line {line}: {message}")]
    Malformed { line: usize, message: String },
    #[error("the response holds neither SEARCH/REPLACE blocks nor a complete policy")]
    NoEdit,
    #[error("SEARCH block {block} is empty; it must quote the text it replaces")]
    EmptySearch { block: usize },
    #[error("SEARCH block {block} matches nothing in the policy{}", hint.as_ref().map(|h| format!("; closest line: `{h}`")).unwrap_or_default())]
    NoMatch { block: usize, hint: Option<String> },
    #[error("SEARCH block {block} matches {count} places in the policy; quote more context so it matches once")]
    Ambiguous { block: usize, count: usize },
}

/// Parse SEARCH/REPLACE blocks. Text outside blocks is ignored (models add prose).
pub fn parse_blocks(text: &str) -> Result<Vec<SearchReplace>, PatchError> {
    let text = text.replace("\r\n", "\n");
    let mut blocks = Vec::new();
    let mut lines = text.split('\n').enumerate();
    while let Some((n, line)) = lines.next() {
        let t = line.trim_end();
        if t == DIVIDER || t == REPLACE {
            return Err(PatchError::Malformed {
                line: n + 1,
                message: format!("`{t}` without a preceding `{SEARCH}`"),
            });
        }
        if t != SEARCH {
            continue;
        }
        let mut search = Vec::new();
        let mut replace = Vec::new();
        let mut in_replace = false;
        let mut closed = false;
        for (m, line) in lines.by_ref() {
            match line.trim_end() {
                DIVIDER if !in_replace => in_replace = true,
                REPLACE if in_replace => {
                    closed = true;
                    break;
                }
                REPLACE => {
                    return Err(PatchError::Malformed {
                        line: m + 1,
                        message: format!("`{REPLACE}` before `{DIVIDER}`"),
                    })
                }
                SEARCH => {
                    return Err(PatchError::Malformed {
                        line: m + 1,
                        message: format!("`{SEARCH}` inside an open block"),
                    })
                }
                _ if in_replace => replace.push(line),
                _ => search.push(line),
            }
        }
        if !closed {
            return Err(PatchError::Malformed {
                line: n + 1,
                message: format!("block opened here is not closed with `{REPLACE}`"),
            });
        }
        blocks.push(SearchReplace {
            search: search.join("\n"),
            replace: replace.join("\n"),
        });
    }
    Ok(blocks)
}

/// Apply blocks in order.
pub fn apply_blocks(src: &str, blocks: &[SearchReplace]) -> Result<String, PatchError> {
    let mut text = src.replace("\r\n", "\n");
    for (i, b) in blocks.iter().enumerate() {
        let block = i + 1;
        if b.search.trim().is_empty() {
            return Err(PatchError::EmptySearch { block });
        }
        match text.matches(b.search.as_str()).count() {
            0 => {
                return Err(PatchError::NoMatch {
                    block,
                    hint: closest_line(&text, &b.search),
                })
            }
            1 => text = text.replacen(b.search.as_str(), &b.replace, 1),
            count => return Err(PatchError::Ambiguous { block, count }),
        }
    }
    Ok(text)
}

fn closest_line(text: &str, search: &str) -> Option<String> {
    let first = search.lines().find(|l| !l.trim().is_empty())?.trim();
    text.lines()
        .map(|l| (strsim::normalized_levenshtein(l.trim(), first), l.trim()))
        .filter(|(s, _)| *s > 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, l)| l.to_string())
}

/// Read an edit out of a model's response: SEARCH/REPLACE blocks if there are any, otherwise a
/// complete policy (the first fenced code block that holds a `version` header, or the whole
/// response if it does).
pub fn parse_edit(response: &str) -> Result<Edit, PatchError> {
    let blocks = parse_blocks(response)?;
    if !blocks.is_empty() {
        return Ok(Edit::Blocks(blocks));
    }
    let looks_like_policy =
        |s: &str| s.lines().any(|l| l.trim_start().starts_with("version")) && s.contains('[');
    for body in fenced_blocks(response) {
        if looks_like_policy(&body) {
            return Ok(Edit::Rewrite(body));
        }
    }
    if looks_like_policy(response) {
        return Ok(Edit::Rewrite(response.replace("\r\n", "\n")));
    }
    Err(PatchError::NoEdit)
}

fn fenced_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(body) => out.push(body.join("\n") + "\n"),
                None => current = Some(Vec::new()),
            }
        } else if let Some(body) = current.as_mut() {
            body.push(line);
        }
    }
    out
}

/// Apply an edit to a policy's text.
pub fn apply_edit(src: &str, edit: &Edit) -> Result<String, PatchError> {
    match edit {
        Edit::Blocks(b) => apply_blocks(src, b),
        Edit::Rewrite(text) => Ok(text.clone()),
    }
}

/// Why a response could not become a runnable policy.
#[derive(Debug)]
pub enum EditFailure {
    /// The response could not be applied as an edit.
    Patch(PatchError),
    /// The edited text does not check; `text` is what was checked.
    Check {
        text: String,
        diagnostics: Vec<Diagnostic>,
    },
}

impl fmt::Display for EditFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditFailure::Patch(e) => e.fmt(f),
            EditFailure::Check { text, diagnostics } => {
                let errors: Vec<&crate::Diagnostic> =
                    diagnostics.iter().filter(|d| d.is_error()).collect();
                write!(
                    f,
                    "the edited policy does not check:\n{}",
                    crate::diag::short_all(&errors, "candidate.policy", text, MAX_REPORTED)
                )
            }
        }
    }
}

/// Most errors an edit failure reports (a model is shown them; more is noise).
pub const MAX_REPORTED: usize = 10;

/// Parse a response, apply it to `src`, and check the result: the whole path from model output
/// to a policy that may run.
pub fn edit_and_check(
    schema: &Arc<Schema>,
    src: &str,
    response: &str,
) -> Result<(String, Policy), EditFailure> {
    let edit = parse_edit(response).map_err(EditFailure::Patch)?;
    let text = apply_edit(src, &edit).map_err(EditFailure::Patch)?;
    let out = check_source(schema, &text);
    match out.policy {
        Some(p) => Ok((text, p)),
        None => Err(EditFailure::Check {
            text,
            diagnostics: out.diagnostics,
        }),
    }
}
