//! The run store: one SQLite database per run directory (bundled SQLite, no server) holding
//! every program with its parents and the operator that made it, every evaluation with its
//! diagnostics, every LLM call with its prompt, response and token usage; plus a JSONL event
//! log. Each write is its own transaction, so a kill loses at most the write in flight.

use anyhow::{Context, Result};
use medisim_core::{Metric, Summaries};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// One evaluation: Eq. 8 fitness over a seed set and the diagnostics summary.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Eval {
    pub fitness: f64,
    pub summary: Summaries,
}

impl Eval {
    pub fn mean(&self, metric: impl Metric) -> f64 {
        self.summary.mean(metric)
    }
}

/// One recorded LLM exchange.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LlmRecord {
    pub status: String,
    pub response: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub latency_ms: u64,
    pub attempts: u32,
}

pub struct Store {
    conn: Connection,
    /// The event log, absent for a store opened to read ([`Store::open_read_only`]).
    events: Option<std::fs::File>,
    /// While replaying finished iterations on resume, events are not written twice.
    pub quiet: bool,
}

/// One model's recorded calls: (model, calls, children, prompt tokens, completion tokens).
pub type ModelCalls = (String, u64, u64, u64, u64, u64);

/// One stored program's record: (hash, operator, parents, iteration).
pub type ProgramRecord = (String, String, Vec<String>, u32);

/// The parents column: hashes joined by commas.
fn split_parents(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

impl Store {
    /// A statement run through the connection's statement cache: prepared once per connection,
    /// since parsing a write's SQL cost about as much as the write (issue 29).
    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.conn.prepare_cached(sql)?.execute(params)
    }

    /// One row of a query, through the statement cache as [`Store::execute`].
    fn query_row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.conn.prepare_cached(sql)?.query_row(params, row)
    }

    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let conn =
            Connection::open(dir.join("search.sqlite")).context("cannot open the run database")?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS programs (
                 hash TEXT PRIMARY KEY, text TEXT NOT NULL, operator TEXT NOT NULL,
                 parents TEXT NOT NULL, iteration INTEGER NOT NULL, prompt_key TEXT);
             CREATE TABLE IF NOT EXISTS evaluations (
                 model TEXT NOT NULL, hash TEXT NOT NULL, spec TEXT NOT NULL,
                 fitness REAL NOT NULL, summary TEXT NOT NULL,
                 PRIMARY KEY (model, hash, spec));
             CREATE TABLE IF NOT EXISTS llm_calls (
                 key TEXT PRIMARY KEY, prompt TEXT NOT NULL, status TEXT NOT NULL, response TEXT NOT NULL,
                 prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
                 latency_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, outcome TEXT NOT NULL DEFAULT '');
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )?;
        // Stores made before calls recorded their model gain the column (empty for old calls).
        let has_model: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('llm_calls') WHERE name = 'model'")?
            .exists([])?;
        if !has_model {
            conn.execute_batch("ALTER TABLE llm_calls ADD COLUMN model TEXT NOT NULL DEFAULT ''")?;
        }
        let events = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("events.jsonl"))
            .context("cannot open events.jsonl")?;
        Ok(Store {
            conn,
            events: Some(events),
            quiet: false,
        })
    }

    /// An existing run's store, to read while another process may be writing it: no table or
    /// row is created or changed (SQLite may make the shared-memory files of a write-ahead log
    /// beside it), and [`Store::event`] refuses.
    pub fn open_read_only(dir: &Path) -> Result<Store> {
        let path = dir.join("search.sqlite");
        let conn = Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("{} is not a run's store", path.display()))?;
        Ok(Store {
            conn,
            events: None,
            quiet: true,
        })
    }

    /// Every program: (hash, operator, parents, iteration), in the order they were made.
    pub fn programs(&self) -> Result<Vec<ProgramRecord>> {
        let mut q = self.conn.prepare(
            "SELECT hash, operator, parents, iteration FROM programs ORDER BY iteration, rowid",
        )?;
        let rows = q.query_map([], |r| {
            let parents: String = r.get(2)?;
            Ok((r.get(0)?, r.get(1)?, split_parents(&parents), r.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A program's text, if the store holds it.
    pub fn program_text(&self, hash: &str) -> Result<Option<String>> {
        Ok(self.program(hash)?.map(|(text, _)| text))
    }

    /// A program's text and record, if the store holds it.
    pub fn program(&self, hash: &str) -> Result<Option<(String, ProgramRecord)>> {
        Ok(self
            .query_row(
                "SELECT text, operator, parents, iteration FROM programs WHERE hash = ?1",
                params![hash],
                |r| {
                    let parents: String = r.get(2)?;
                    Ok((
                        r.get(0)?,
                        (
                            hash.to_string(),
                            r.get(1)?,
                            split_parents(&parents),
                            r.get(3)?,
                        ),
                    ))
                },
            )
            .optional()?)
    }

    /// The evaluation of program `hash` under `spec` (a [`medisim_core::RunSpec::key`]) by model
    /// version `model`, if the store holds one.
    pub fn eval(&self, model: &str, hash: &str, spec: &str) -> Result<Option<Eval>> {
        let row: Option<(f64, String)> = self
            .query_row(
                "SELECT fitness, summary FROM evaluations WHERE model = ?1 AND hash = ?2 AND spec = ?3",
                params![model, hash, spec],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((fitness, summary)) => Some(Eval {
                fitness,
                summary: serde_json::from_str(&summary)?,
            }),
            None => None,
        })
    }

    pub fn put_eval(&self, model: &str, hash: &str, spec: &str, e: &Eval) -> Result<()> {
        self.execute(
            "INSERT OR REPLACE INTO evaluations (model, hash, spec, fitness, summary) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![model, hash, spec, e.fitness, serde_json::to_string(&e.summary)?],
        )?;
        Ok(())
    }

    pub fn put_program(
        &self,
        hash: &str,
        text: &str,
        operator: &str,
        parents: &[String],
        iteration: u32,
        prompt_key: Option<&str>,
    ) -> Result<()> {
        self.execute(
            "INSERT OR IGNORE INTO programs (hash, text, operator, parents, iteration, prompt_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![hash, text, operator, parents.join(","), iteration, prompt_key],
        )?;
        Ok(())
    }

    pub fn program_count(&self) -> Result<u64> {
        Ok(self.query_row("SELECT COUNT(*) FROM programs", [], |r| r.get(0))?)
    }

    pub fn evaluation_count(&self) -> Result<u64> {
        Ok(self.query_row("SELECT COUNT(*) FROM evaluations", [], |r| r.get(0))?)
    }

    pub fn llm(&self, key: &str) -> Result<Option<LlmRecord>> {
        Ok(self
            .query_row(
                "SELECT status, response, prompt_tokens, completion_tokens, latency_ms, attempts FROM llm_calls WHERE key = ?1",
                params![key],
                |r| Ok(LlmRecord { status: r.get(0)?, response: r.get(1)?, prompt_tokens: r.get(2)?, completion_tokens: r.get(3)?, latency_ms: r.get(4)?, attempts: r.get(5)? }),
            )
            .optional()?)
    }

    pub fn put_llm(&self, key: &str, model: &str, prompt: &str, rec: &LlmRecord) -> Result<()> {
        self.execute(
            "INSERT OR REPLACE INTO llm_calls (key, prompt, status, response, prompt_tokens, completion_tokens, latency_ms, attempts, model) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![key, prompt, rec.status, rec.response, rec.prompt_tokens, rec.completion_tokens, rec.latency_ms, rec.attempts, model],
        )?;
        Ok(())
    }

    /// Per model: (model, calls, children, prompt tokens, completion tokens, milliseconds
    /// waited for answers), by name. A store
    /// from before calls named their model, read without migrating it, has one unnamed model.
    pub fn llm_usage_by_model(&self) -> Result<Vec<ModelCalls>> {
        let named = self
            .conn
            .prepare("SELECT 1 FROM pragma_table_info('llm_calls') WHERE name = 'model'")?
            .exists([])?;
        let model = if named { "model" } else { "''" };
        let mut q = self.conn.prepare(&format!(
            "SELECT {model}, COUNT(*), COALESCE(SUM(outcome = 'child'), 0), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(latency_ms), 0) FROM llm_calls GROUP BY 1 ORDER BY 1"
        ))?;
        let rows = q.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What became of a response: `child`, or the reason it was refused.
    pub fn set_llm_outcome(&self, key: &str, outcome: &str) -> Result<()> {
        self.execute(
            "UPDATE llm_calls SET outcome = ?2 WHERE key = ?1",
            params![key, outcome],
        )?;
        Ok(())
    }

    pub fn llm_outcome(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .query_row(
                "SELECT outcome FROM llm_calls WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// (calls, failures, prompt tokens, completion tokens) recorded so far; a failure is a
    /// request that failed or a response that did not become a checked child.
    pub fn llm_usage(&self) -> Result<(u64, u64, u64, u64)> {
        Ok(self.query_row(
            "SELECT COUNT(*), COALESCE(SUM(status != 'ok' OR outcome != 'child'), 0), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0) FROM llm_calls",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?)
    }

    /// Recorded calls that reached a server (a reply, an HTTP error or a timeout), as opposed to
    /// finding nothing listening (stores from before such calls stopped being recorded) or
    /// being refused by the budget.
    pub fn llm_answered(&self) -> Result<u64> {
        Ok(self.query_row(
            "SELECT COUNT(*) FROM llm_calls WHERE status NOT LIKE 'unreachable%' AND status != 'budget'",
            [],
            |r| r.get(0),
        )?)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        Ok(())
    }

    /// Append one event line (skipped while replaying).
    pub fn event(&mut self, value: serde_json::Value) -> Result<()> {
        if self.quiet {
            return Ok(());
        }
        let Some(events) = self.events.as_mut() else {
            anyhow::bail!("a store opened to read writes no events");
        };
        let mut line = serde_json::to_vec(&value)?;
        line.push(b'\n');
        events.write_all(&line)?;
        Ok(())
    }
}
