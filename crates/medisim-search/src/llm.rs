//! The LLM edit operator over any OpenAI-compatible chat-completions endpoint.
//!
//! The prompt gives the language reference and guardrails (Listing 5), the parent program with
//! its channel diagnostics, the best programs so far, a few diverse inspirations, and the
//! diagnostics of recent responses that failed; it asks for SEARCH/REPLACE blocks or a full
//! rewrite. Every response is parsed, applied and checked by the language. Nothing a response
//! says can crash the run: a failure is recorded with its reason and fed back later.
//! Requests retry with exponential backoff on 429 and 5xx; a budget caps calls and tokens.
//! Responses are stored by a key of (prompt, model, temperature, seed), so a resumed run reads
//! the same responses instead of asking again.

use crate::config::{EditFormat, LlmConfig};
use crate::domain::Brief;
use crate::store::{LlmRecord, Store};
use anyhow::{bail, Result};
use medisim_dsl::schema::Schema;
use medisim_dsl::{fmt, patch, structured, Policy};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use ureq::ErrorKind;

/// A program shown in the prompt, with the diagnostics that matter.
pub struct Shown<'a> {
    pub policy: &'a Policy,
    pub fitness: f64,
    pub diagnostics: String,
}

/// Everything the prompt is built from.
pub struct PromptInput<'a> {
    /// What the programs are, what the fitness rewards and penalises, the guardrails.
    pub brief: Brief,
    pub parent: Shown<'a>,
    pub top: Vec<Shown<'a>>,
    pub inspirations: Vec<Shown<'a>>,
    pub recent_failures: Vec<String>,
    /// What earlier edits did, summarised from the run (`llm.scratchpad_every`).
    pub scratchpad: Option<String>,
    /// The short prompt for small models (`llm.compact_prompt`): the reference in brief, the
    /// parent alone, the last failure.
    pub compact: bool,
}

/// The prompt, its task worded for the default edit format.
pub fn prompt(input: &PromptInput) -> String {
    prompt_for(input, EditFormat::Diff)
}

/// What the model is asked to answer with, in the words of each format.
fn task(format: EditFormat) -> &'static str {
    match format {
        EditFormat::Diff => "\n## Task\nPropose one improved version of the parent. Answer with SEARCH/REPLACE blocks against the parent's text exactly as shown:\n<<<<<<< SEARCH\n(exact lines of the parent)\n=======\n(replacement)\n>>>>>>> REPLACE\nor with the complete program in a ```policy fenced block.\n",
        EditFormat::Rewrite | EditFormat::Grammar => "\n## Task\nPropose one improved version of the parent. Answer with the complete program: the kind, version and name lines, then [admin_policy] and [doctor_policy] with one `field = expression` per line, using only the fields, features and calls above.\n",
        EditFormat::Json => "\n## Task\nPropose one improved version of the parent. Answer with one JSON object whose keys are the fields you change and whose values are their new expressions, as strings, for example {\"alpha\": \"0.6\", \"candidate_score\": \"upcode_pressure - audit_penalty - ethics_pressure\"}. Fields you leave out keep the parent's rule. Use only the fields, features and calls above.\n",
    }
}

/// A program as the prompt shows it: its fitness, diagnostics and text.
fn show(s: &Shown) -> String {
    format!(
        "fitness {:.4}; {}\n```policy\n{}```\n",
        s.fitness,
        s.diagnostics,
        fmt::policy_to_string(s.policy)
    )
}

/// The scratchpad's section, when there is one.
fn scratchpad(input: &PromptInput) -> String {
    match &input.scratchpad {
        Some(pad) => format!("## What earlier edits did\n{pad}\n"),
        None => String::new(),
    }
}

/// The short prompt: the objective, the reference in brief, the parent, the scratchpad, the
/// last failure and the task (about a third of the full prompt's length).
fn compact_prompt(input: &PromptInput, format: EditFormat) -> String {
    let schema = input.parent.policy.schema().reference_compact();
    let mut p = format!(
        "You edit {} to maximise the {} objective's safety-penalised fitness.\n\n## Objective\n{}\n## Language\n{schema}Arithmetic saturates; x / 0 = 0; I(bool) is 0/1.\n\n## Parent program\n{}\n",
        input.brief.subject,
        input.brief.objective,
        input.brief.objective_rules,
        show(&input.parent)
    );
    p.push_str(&scratchpad(input));
    if let Some(f) = input.recent_failures.first() {
        p.push_str(&format!("## Last rejected edit (do not repeat)\n- {f}\n"));
    }
    p.push_str(task(format));
    p
}

/// The prompt, its task worded for `format`.
pub fn prompt_for(input: &PromptInput, format: EditFormat) -> String {
    if input.compact {
        return compact_prompt(input, format);
    }
    // The parent's schema is the one every program of the search is checked against.
    let schema = input.parent.policy.schema().reference_markdown();
    let mut p = String::new();
    p.push_str(&format!(
        "You edit {} to maximise the {} objective's safety-penalised fitness under strategic provider response.\n\n## Objective\n{}\n## Guardrails\n{}\n\n## Language reference\n{schema}\nTypes: number and bool; I(bool) is 0/1; comparisons give bool; and/or/not take bool. Arithmetic saturates and x / 0 = 0. A line may start with a binary operator to continue the expression above.\n\n",
        input.brief.subject,
        input.brief.objective,
        input.brief.objective_rules,
        input.brief.guardrails
    ));
    p.push_str(&format!("## Parent program\n{}\n", show(&input.parent)));
    if !input.top.is_empty() {
        p.push_str("## Best programs so far\n");
        for s in &input.top {
            p.push_str(&show(s));
        }
    }
    if !input.inspirations.is_empty() {
        p.push_str("## Diverse inspirations\n");
        for s in &input.inspirations {
            p.push_str(&show(s));
        }
    }
    p.push_str(&scratchpad(input));
    if !input.recent_failures.is_empty() {
        p.push_str("## Recent edits that were rejected (do not repeat these mistakes)\n");
        for f in &input.recent_failures {
            p.push_str(&format!("- {f}\n"));
        }
    }
    p.push_str(task(format));
    p
}

/// What the operator produced.
pub enum LlmOutcome {
    /// A checked child program.
    Child { policy: Box<Policy>, key: String },
    /// A recorded failure (bad response, budget, transport); never fatal.
    Failed { key: String, reason: String },
}

#[derive(Clone)]
pub struct LlmClient {
    pub config: LlmConfig,
    pub api_key: Option<String>,
}

impl LlmClient {
    pub fn from_env(config: LlmConfig) -> Self {
        LlmClient {
            config,
            api_key: std::env::var("OPENAI_API_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
        }
    }

    /// The store's key of `prompt` asked of this model with these settings.
    pub fn key(&self, prompt: &str) -> String {
        let mut h = Sha256::new();
        h.update(prompt.as_bytes());
        h.update(
            format!(
                "{}|{}|{:?}|{:?}",
                self.config.model,
                self.config.temperature,
                self.config.seed,
                self.config.edit_format
            )
            .as_bytes(),
        );
        h.finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The same endpoint and settings, asking `model`.
    pub fn with_model(&self, model: &str) -> LlmClient {
        let mut config = self.config.clone();
        config.model = model.to_string();
        LlmClient {
            config,
            api_key: self.api_key.clone(),
        }
    }

    /// What the recorded calls have cost, at the configured prices.
    pub fn spent(&self, store: &Store) -> Result<f64> {
        Ok(store
            .llm_usage_by_model()?
            .iter()
            .map(|(m, _, _, pt, ct, _)| self.config.cost(m, *pt, *ct))
            .sum())
    }

    /// Ask for an edit of `parent` (whose printed text the blocks apply to).
    pub fn propose(&self, store: &Store, parent: &Policy, prompt_text: &str) -> Result<LlmOutcome> {
        let key = self.key(prompt_text);
        let rec = match store.llm(&key)? {
            Some(r) => r,
            None => {
                let rec = if self.over_budget(store, 0)? {
                    budget_record()
                } else {
                    self.call(prompt_text, parent.schema())
                };
                self.keep(store, &key, prompt_text, &rec)?;
                rec
            }
        };
        self.apply(store, parent, key, &rec)
    }

    /// True when the recorded calls, with `in_flight` more, have used the call budget, or the
    /// recorded ones the token or money budget.
    pub fn over_budget(&self, store: &Store, in_flight: u64) -> Result<bool> {
        let (calls, _, pt, ct) = store.llm_usage()?;
        let spent = self.spent(store)?;
        Ok(self.over_budget_with(calls + in_flight, pt + ct, spent))
    }

    /// True when `calls`, `tokens` or `spent` has reached its budget.
    pub fn over_budget_with(&self, calls: u64, tokens: u64, spent: f64) -> bool {
        calls >= u64::from(self.config.max_calls)
            || tokens >= self.config.max_tokens_total
            || self.config.max_cost.is_some_and(|c| spent >= c)
    }

    /// Store a fresh reply. A server that is not there is not a misbehaving model: the run
    /// stops with the fix instead of failing every iteration, and the record is not stored, so
    /// `--resume` asks again once the server is up.
    pub fn keep(&self, store: &Store, key: &str, prompt_text: &str, rec: &LlmRecord) -> Result<()> {
        if let Some(why) = rec.status.strip_prefix(UNREACHABLE) {
            let why = why.trim_start_matches([':', ' ']);
            let answered = store.llm_answered()?;
            if answered == 0 && !why.starts_with(DROPPED) {
                bail!(
                    "cannot reach the LLM endpoint {}: {why}\n  start the server, pass --llm-base-url URL, or use --operator offline",
                    self.config.base_url,
                );
            }
            bail!(
                "the LLM server at {} stopped answering ({why}); it had answered {answered} call(s) of this run\n  the server may have crashed: see its log, restart it",
                self.config.base_url,
            );
        }
        store.put_llm(key, &self.config.model, prompt_text, rec)
    }

    /// The child a reply gives `parent`, or the failure it is, recorded against `key`.
    pub fn apply(
        &self,
        store: &Store,
        parent: &Policy,
        key: String,
        rec: &LlmRecord,
    ) -> Result<LlmOutcome> {
        if rec.status != "ok" {
            let reason = format!("request failed: {}", rec.status);
            store.set_llm_outcome(&key, &reason)?;
            return Ok(LlmOutcome::Failed { key, reason });
        }
        let parent_text = fmt::policy_to_string(parent);
        let schema = parent.schema();
        let applied = match self.config.edit_format {
            EditFormat::Json => structured::apply_json_edit(schema, parent, &rec.response)
                .map_err(|e| e.to_string()),
            _ => patch::edit_and_check(schema, &parent_text, &rec.response)
                .map_err(|e| e.to_string()),
        };
        Ok(match applied {
            Ok((_, policy)) => {
                store.set_llm_outcome(&key, "child")?;
                LlmOutcome::Child {
                    policy: Box::new(policy),
                    key,
                }
            }
            Err(e) => {
                let reason = first_line(&e, 300);
                store.set_llm_outcome(&key, &reason)?;
                LlmOutcome::Failed { key, reason }
            }
        })
    }

    /// One chat-completions request with retries; never panics, never errors.
    pub fn call(&self, prompt_text: &str, schema: &Schema) -> LlmRecord {
        let c = &self.config;
        let url = format!("{}/chat/completions", c.base_url.trim_end_matches('/'));
        let mut body = serde_json::json!({
            "model": c.model,
            "temperature": c.temperature,
            "max_tokens": c.max_tokens,
            "messages": [
                {"role": "system", "content": "You are a careful editor of typed, assignment-only policy programs."},
                {"role": "user", "content": prompt_text},
            ],
        });
        if let Some(seed) = c.seed {
            body["seed"] = serde_json::json!(seed);
        }
        // The structured formats ask the server to enforce them: llama.cpp (and
        // llama-cpp-python) read `response_format.schema` and `grammar` as grammars.
        match c.edit_format {
            EditFormat::Json => {
                body["response_format"] = serde_json::json!({
                    "type": "json_object",
                    "schema": structured::edit_json_schema(schema),
                });
            }
            EditFormat::Grammar => {
                body["grammar"] = serde_json::json!(structured::policy_grammar(schema, "child"));
            }
            EditFormat::Diff | EditFormat::Rewrite => {}
        }
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs_f64(c.timeout_s.max(0.001)))
            .build();
        let start = Instant::now();
        let mut attempts = 0;
        // What an earlier attempt of this call got from a server that was there: a refusal
        // after it means the server went away, not that it never was.
        let mut reached: Option<String> = None;
        loop {
            attempts += 1;
            let mut req = agent.post(&url).set("Content-Type", "application/json");
            if let Some(k) = &self.api_key {
                req = req.set("Authorization", &format!("Bearer {k}"));
            }
            let outcome = req.send_json(body.clone());
            let retry_status = match outcome {
                Ok(resp) => {
                    let read = read_reply(resp, c.max_reply_bytes);
                    let latency_ms = start.elapsed().as_millis() as u64;
                    let failed = |status: String| LlmRecord {
                        status,
                        response: String::new(),
                        prompt_tokens: 0,
                        completion_tokens: 0,
                        latency_ms,
                        attempts,
                    };
                    return match read.and_then(|bytes| parse_reply(&bytes)) {
                        Ok(reply) => LlmRecord {
                            status: if reply.content.is_empty() {
                                "empty response".into()
                            } else {
                                "ok".into()
                            },
                            response: reply.content,
                            prompt_tokens: reply.prompt_tokens,
                            completion_tokens: reply.completion_tokens,
                            latency_ms,
                            attempts,
                        },
                        Err(status) => failed(status),
                    };
                }
                Err(ureq::Error::Status(code, _)) if code == 429 || code >= 500 => {
                    format!("HTTP {code}")
                }
                Err(ureq::Error::Status(code, resp)) => {
                    let text = resp.into_string().unwrap_or_default();
                    return LlmRecord {
                        status: format!("HTTP {code}: {}", first_line(&text, 200)),
                        response: String::new(),
                        prompt_tokens: 0,
                        completion_tokens: 0,
                        latency_ms: start.elapsed().as_millis() as u64,
                        attempts,
                    };
                }
                Err(ureq::Error::Transport(t))
                    if matches!(
                        t.kind(),
                        ErrorKind::ConnectionFailed
                            | ErrorKind::Dns
                            | ErrorKind::InvalidUrl
                            | ErrorKind::UnknownScheme
                    ) =>
                {
                    // Nobody is listening at that address: retrying will not help.
                    let status = match &reached {
                        Some(before) => format!("{UNREACHABLE}: {DROPPED} {before}, then {t}"),
                        None => format!("{UNREACHABLE}: {t}"),
                    };
                    return LlmRecord {
                        status,
                        response: String::new(),
                        prompt_tokens: 0,
                        completion_tokens: 0,
                        latency_ms: start.elapsed().as_millis() as u64,
                        attempts,
                    };
                }
                Err(ureq::Error::Transport(t)) => format!("transport: {t}"),
            };
            reached = Some(retry_status.clone());
            if attempts > c.retries {
                return LlmRecord {
                    status: retry_status,
                    response: String::new(),
                    prompt_tokens: 0,
                    completion_tokens: 0,
                    latency_ms: start.elapsed().as_millis() as u64,
                    attempts,
                };
            }
            std::thread::sleep(Duration::from_millis(
                c.backoff_ms.saturating_mul(1 << (attempts - 1).min(10)),
            ));
        }
    }
}

/// The record of a call the budget did not allow.
pub fn budget_record() -> LlmRecord {
    LlmRecord {
        status: "budget".into(),
        response: String::new(),
        prompt_tokens: 0,
        completion_tokens: 0,
        latency_ms: 0,
        attempts: 0,
    }
}

/// One question of a block: the client (its model), the parent and the prompt.
pub struct Question<'a> {
    pub client: LlmClient,
    pub parent: &'a Policy,
    pub prompt: String,
}

/// Ask a block's questions with up to `in_flight` requests at once. A recorded reply is read
/// back; questions with the same key are asked once; the budget counts the calls this block
/// makes; each reply is stored as it arrives (a kill loses none that came back), and the
/// outcomes are returned in the questions' order, whatever order the replies came in. A
/// server that is not there stops the block once every reply is in. The token and money
/// budgets are checked against `(tokens, spent)` as they stood at the block's start, so a
/// block resumed after some of its replies were stored decides as it first did.
pub fn ask_all(
    store: &Store,
    questions: &[Question],
    in_flight: usize,
    (tokens, spent): (u64, f64),
) -> Result<Vec<LlmOutcome>> {
    let (calls, ..) = store.llm_usage()?;
    let keys: Vec<String> = questions.iter().map(|q| q.client.key(&q.prompt)).collect();
    let mut records: Vec<Option<LlmRecord>> = Vec::with_capacity(questions.len());
    // The first question of each key not yet answered, to be asked.
    let mut asked: Vec<usize> = Vec::new();
    for (i, (q, key)) in questions.iter().zip(&keys).enumerate() {
        if let Some(r) = store.llm(key)? {
            records.push(Some(r));
        } else if asked.iter().any(|&a| keys[a] == *key) {
            records.push(None);
        } else if q
            .client
            .over_budget_with(calls + asked.len() as u64, tokens, spent)
        {
            let rec = budget_record();
            q.client.keep(store, key, &q.prompt, &rec)?;
            records.push(Some(rec));
        } else {
            asked.push(i);
            records.push(None);
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let mut stopped: Option<anyhow::Error> = None;
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..in_flight.clamp(1, asked.len().max(1)) {
            let (tx, next, asked) = (tx.clone(), &next, &asked);
            scope.spawn(move || loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&i) = asked.get(n) else { break };
                let q = &questions[i];
                if tx
                    .send((i, q.client.call(&q.prompt, q.parent.schema())))
                    .is_err()
                {
                    break;
                }
            });
        }
        drop(tx);
        for (i, rec) in rx {
            let q = &questions[i];
            match q.client.keep(store, &keys[i], &q.prompt, &rec) {
                Ok(()) => records[i] = Some(rec),
                Err(e) => {
                    stopped.get_or_insert(e);
                }
            }
        }
        Ok(())
    })?;
    if let Some(e) = stopped {
        return Err(e);
    }
    questions
        .iter()
        .zip(keys)
        .enumerate()
        .map(|(i, (q, key))| {
            let rec = match &records[i] {
                Some(r) => r.clone(),
                None => store
                    .llm(&key)?
                    .ok_or_else(|| anyhow::anyhow!("no reply recorded for {key}"))?,
            };
            q.client.apply(store, q.parent, key, &rec)
        })
        .collect()
}

/// Most tokens one reply may claim in its `usage`: more is not a real count, and would not fit
/// the store's integers.
pub const MAX_USAGE_TOKENS: u64 = 1 << 32;

/// The reply's body, read no further than `max` bytes.
fn read_reply(resp: ureq::Response, max: usize) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    use std::io::Read;
    let reader: Box<dyn Read + Send + Sync> = resp.into_reader();
    reader
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("unreadable response: {e}"))?;
    if bytes.len() > max {
        return Err(format!(
            "reply larger than {max} bytes (llm.max_reply_bytes); not stored"
        ));
    }
    Ok(bytes)
}

/// What a chat-completions reply says, checked: its text and its token counts.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub content: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Read a chat-completions JSON body. An out-of-range or malformed field is a failed call
/// (its reason recorded), never a fatal error.
pub fn parse_reply(bytes: &[u8]) -> Result<Reply, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("unreadable response: {e}"))?;
    let content = v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let count = |key: &str| -> Result<u64, String> {
        match &v["usage"][key] {
            serde_json::Value::Null => Ok(0),
            n => match n.as_u64() {
                Some(x) if x <= MAX_USAGE_TOKENS => Ok(x),
                _ => Err(format!(
                    "reply's usage.{key} is {n}, not a token count in [0, {MAX_USAGE_TOKENS}]"
                )),
            },
        }
    };
    Ok(Reply {
        content,
        prompt_tokens: count("prompt_tokens")?,
        completion_tokens: count("completion_tokens")?,
    })
}

/// Status prefix of a call that found no server at the address.
const UNREACHABLE: &str = "unreachable";
/// What an unreachable status says when an earlier attempt of the same call had reached a
/// server (its connection dropped mid-request, or it answered with an error).
const DROPPED: &str = "the connection was lost after";

fn first_line(s: &str, max: usize) -> String {
    let l: String = s.lines().take(3).collect::<Vec<_>>().join(" | ");
    l.chars().take(max).collect()
}

/// A UCB1 bandit over the configured models (ShinkaEvolve's idea: move the choice towards
/// models whose children are good). A call's reward is 0 when it gives no new checked child,
/// 0.5 for a child that does not beat its parent, 1 for one that does. Untried models go
/// first, by weight; then the highest mean + weight-scaled exploration bonus wins, ties to the
/// earlier model. Deterministic, so a resumed run, which replays the same rewards, replays the
/// same choices.
#[derive(Clone, Debug)]
pub struct ModelBandit {
    weights: Vec<f64>,
    pulls: Vec<u64>,
    rewards: Vec<f64>,
}

impl ModelBandit {
    pub fn new(weights: &[f64]) -> Self {
        ModelBandit {
            weights: weights.to_vec(),
            pulls: vec![0; weights.len()],
            rewards: vec![0.0; weights.len()],
        }
    }

    /// The arm to pull next.
    pub fn choose(&self) -> usize {
        let untried = (0..self.weights.len())
            .filter(|i| self.pulls[*i] == 0)
            .max_by(|a, b| self.weights[*a].total_cmp(&self.weights[*b]).then(b.cmp(a)));
        if let Some(i) = untried {
            return i;
        }
        let n: u64 = self.pulls.iter().sum();
        let wmax = self
            .weights
            .iter()
            .copied()
            .fold(f64::MIN_POSITIVE, f64::max);
        let score = |i: usize| {
            let m = self.rewards[i] / self.pulls[i] as f64;
            m + (self.weights[i] / wmax) * (2.0 * (n as f64).ln() / self.pulls[i] as f64).sqrt()
        };
        (0..self.weights.len())
            .max_by(|a, b| score(*a).total_cmp(&score(*b)).then(b.cmp(a)))
            .unwrap_or(0)
    }

    pub fn reward(&mut self, arm: usize, r: f64) {
        self.pulls[arm] += 1;
        self.rewards[arm] += r;
    }

    pub fn pulls(&self) -> &[u64] {
        &self.pulls
    }
}

#[cfg(test)]
mod bandit_tests {
    use super::ModelBandit;

    #[test]
    fn untried_models_go_first_by_weight_then_the_better_one_is_pulled_more() {
        let mut b = ModelBandit::new(&[1.0, 2.0]);
        assert_eq!(b.choose(), 1, "the heavier untried model first");
        b.reward(1, 0.0);
        assert_eq!(b.choose(), 0);
        b.reward(0, 1.0);
        for _ in 0..40 {
            let arm = b.choose();
            b.reward(arm, if arm == 0 { 1.0 } else { 0.0 });
        }
        assert!(b.pulls()[0] > 3 * b.pulls()[1], "{:?}", b.pulls());
    }
}
