//! Search settings: every one has a default (the paper's Appendix J settings), a TOML file can
//! hold any of them, and command-line flags override the file.

use medisim_sim::ObjectiveKind;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Which edit operators propose children.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorKind {
    /// Constant, indicator, clip and crossover edits; needs no LLM.
    Offline,
    /// An OpenAI-compatible chat-completions endpoint.
    Llm,
    /// Alternate: LLM on odd iterations, offline on even ones.
    Both,
}

impl std::str::FromStr for OperatorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "offline" => Ok(OperatorKind::Offline),
            "llm" => Ok(OperatorKind::Llm),
            "both" => Ok(OperatorKind::Both),
            o => Err(format!(
                "unknown operator `{o}`: expected offline, llm or both"
            )),
        }
    }
}

/// What the model is asked to answer with, and what the server is asked to enforce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditFormat {
    /// SEARCH/REPLACE blocks against the parent, or a full program (the paper's format).
    #[default]
    Diff,
    /// The complete program in a fenced block.
    Rewrite,
    /// A JSON object of field → expression, served under a JSON schema of the policy's fields
    /// (`response_format`, which llama.cpp enforces as a grammar).
    Json,
    /// The complete program under a GBNF grammar of the language made from the schema
    /// (llama.cpp's `grammar`), so every reply parses.
    Grammar,
}

impl std::str::FromStr for EditFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "diff" => Ok(EditFormat::Diff),
            "rewrite" => Ok(EditFormat::Rewrite),
            "json" => Ok(EditFormat::Json),
            "grammar" => Ok(EditFormat::Grammar),
            o => Err(format!(
                "unknown edit format `{o}`: expected diff, rewrite, json or grammar"
            )),
        }
    }
}

/// One model the LLM operator may ask, with its prior weight and its prices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelChoice {
    pub name: String,
    /// Prior weight: the order in which untried models are tried and the scale of their
    /// exploration bonus.
    pub weight: f64,
    /// Price per million prompt and completion tokens (any currency; 0 for a local model).
    pub price_in: f64,
    pub price_out: f64,
}

impl Default for ModelChoice {
    fn default() -> Self {
        ModelChoice {
            name: String::new(),
            weight: 1.0,
            price_in: 0.0,
            price_out: 0.0,
        }
    }
}

impl std::str::FromStr for ModelChoice {
    type Err = String;
    /// `NAME` or `NAME:WEIGHT`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, weight) = match s.rsplit_once(':') {
            Some((n, w)) if w.parse::<f64>().is_ok() => (n, w.parse::<f64>().unwrap_or(1.0)),
            _ => (s, 1.0),
        };
        if name.is_empty() {
            return Err(format!("`{s}`: expected NAME or NAME:WEIGHT"));
        }
        if !(weight > 0.0 && weight.is_finite()) {
            return Err(format!("`{s}`: the weight must be positive, got {weight}"));
        }
        Ok(ModelChoice {
            name: name.to_string(),
            weight,
            ..ModelChoice::default()
        })
    }
}

/// The LLM endpoint and its budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// Base URL of an OpenAI-compatible API, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: u32,
    pub timeout_s: f64,
    pub seed: Option<u64>,
    /// Retries after a 429 or 5xx, with exponential backoff from `backoff_ms`.
    pub retries: u32,
    pub backoff_ms: u64,
    /// Budget: most calls and most total tokens per run.
    pub max_calls: u32,
    pub max_tokens_total: u64,
    /// Largest reply body read; a larger one is a failed call and is not stored.
    pub max_reply_bytes: usize,
    pub edit_format: EditFormat,
    /// Several models to choose among by a UCB1 bandit on the quality of their children (empty:
    /// only `model`, at `price_in` / `price_out`).
    pub models: Vec<ModelChoice>,
    /// Price per million prompt / completion tokens of `model` when `models` is empty.
    pub price_in: f64,
    pub price_out: f64,
    /// Budget in money: no call is made once the recorded calls have cost this much.
    pub max_cost: Option<f64>,
    /// Requests in flight at once: the LLM iterations of each block of this many are prompted
    /// from the state at the block's start, asked together, and applied in iteration order
    /// whatever order the replies arrive in. 1 (left out of the file) is one call at a time.
    #[serde(skip_serializing_if = "is_one")]
    pub concurrency: u32,
    /// Every this many iterations, the prompt's summary of what earlier edits did (fields
    /// touched, how often they beat the parent, what they moved; the replies rejected) is
    /// brought up to date; 0 (left out of the file): no summary.
    #[serde(skip_serializing_if = "is_zero")]
    pub scratchpad_every: u32,
    /// The short prompt for small models: the reference in brief, the parent alone.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub compact_prompt: bool,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            base_url: "http://127.0.0.1:8000/v1".into(),
            model: "gpt-4o-mini".into(),
            temperature: 0.4,
            max_tokens: 2048,
            timeout_s: 60.0,
            seed: None,
            retries: 3,
            backoff_ms: 500,
            max_calls: 1000,
            max_tokens_total: 5_000_000,
            // Four times the largest policy source: room for prose around a full rewrite.
            max_reply_bytes: 1 << 20,
            edit_format: EditFormat::Diff,
            models: Vec::new(),
            price_in: 0.0,
            price_out: 0.0,
            max_cost: None,
            concurrency: 1,
            scratchpad_every: 0,
            compact_prompt: false,
        }
    }
}

/// Which model's programs a search evolves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Searched {
    /// Medi-Sim's hospital policies (`policies/hospital.schema.toml`), for `objective`.
    #[default]
    Medisim,
    /// The panel's payment programs (`policies/panel.schema.toml`), for the net monetary
    /// benefit of `[panel]`.
    Panel,
}

/// The panel's payment search: what a QALY is worth to the payer and how many simulated panels
/// one search seed stands for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PanelSearch {
    /// Willingness to pay per QALY, dollars: $50,000, the conventional US threshold (Neumann,
    /// Cohen and Weinstein 2014, *N. Engl. J. Med.* 371).
    pub wtp: f64,
    /// Panels (runs) averaged per search seed.
    pub runs: u64,
}

impl Searched {
    fn is_medisim(&self) -> bool {
        *self == Searched::Medisim
    }
}

impl PanelSearch {
    fn is_default(&self) -> bool {
        *self == PanelSearch::default()
    }
}

impl Default for PanelSearch {
    fn default() -> Self {
        PanelSearch {
            wtp: 50_000.0,
            runs: 100,
        }
    }
}

/// Most panels one search seed stands for (`panel.runs`).
pub const MAX_PANEL_RUNS: u64 = 10_000;
/// Largest willingness to pay per QALY a panel search takes.
pub const MAX_WTP: f64 = 1e9;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// Which model's programs are searched. Left out of the file when it is Medi-Sim (and
    /// `[panel]` when it is the default), so a run directory made before either existed
    /// resumes: its settings are compared as text.
    #[serde(skip_serializing_if = "Searched::is_medisim")]
    pub model: Searched,
    pub objective: ObjectiveKind,
    /// Directory of warm-start `.policy` files; empty means the shipped nine-policy library.
    pub library: String,
    pub iterations: u32,
    pub islands: usize,
    /// Most individuals an island keeps.
    pub population: usize,
    /// Individuals that move to the next island at each migration.
    pub migration: usize,
    /// Iterations between migrations.
    pub migration_interval: u32,
    pub operator: OperatorKind,
    /// Seed of the search's own random choices.
    pub seed: u64,
    pub evolution_seeds: Vec<u64>,
    pub validation_seeds: Vec<u64>,
    pub test_seeds: Vec<u64>,
    pub horizon: u32,
    /// Horizon of the screening rollout.
    pub screen_horizon: u32,
    /// A child whose screen fitness falls this far below its parent's is not fully evaluated.
    pub screen_tolerance: f64,
    /// MAP-Elites bin edges for the up-coding rate and the rejection rate.
    pub archive_upcoding_bins: Vec<f64>,
    pub archive_rejection_bins: Vec<f64>,
    /// Offline operators use domain priors: field choice guided by the parent's diagnostics and
    /// the coding-gap veto idiom. Off: uniform field choice, generic edits only (an ablation of
    /// what the operator itself knows).
    pub offline_priors: bool,
    /// Also skip a child whose behaviour signature (its screen diagnostics, rounded) matches an
    /// evaluated program's, not only one with the same canonical hash. Off by default: it
    /// changes the search's path (docs/search.md gives the measured difference), and the
    /// published results were made without it.
    pub novelty_by_behaviour: bool,
    /// Multi-objective selection inside each island (`crate::pareto`): `max:METRIC`,
    /// `min:METRIC`, the fitness or a safety channel by name, or `safety` alone (the fitness
    /// against each safety channel). Empty (left out of the file): the scalar search.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objectives: Vec<String>,
    pub llm: LlmConfig,
    /// The panel's objective and runs (read when `model = "panel"`).
    #[serde(skip_serializing_if = "PanelSearch::is_default")]
    pub panel: PanelSearch,
}

impl LlmConfig {
    /// The models to choose among: `models`, or `model` alone.
    pub fn choices(&self) -> Vec<ModelChoice> {
        if self.models.is_empty() {
            vec![ModelChoice {
                name: self.model.clone(),
                weight: 1.0,
                price_in: self.price_in,
                price_out: self.price_out,
            }]
        } else {
            self.models.clone()
        }
    }

    /// What `prompt` and `completion` tokens of `model` cost.
    pub fn cost(&self, model: &str, prompt: u64, completion: u64) -> f64 {
        self.choices()
            .iter()
            .find(|m| m.name == model)
            .map_or(0.0, |m| {
                (prompt as f64 * m.price_in + completion as f64 * m.price_out) / 1e6
            })
    }
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            objective: ObjectiveKind::Mixed,
            library: String::new(),
            iterations: 200,
            islands: 3,
            population: 30,
            migration: 2,
            migration_interval: 10,
            operator: OperatorKind::Offline,
            seed: 0,
            evolution_seeds: vec![101, 202, 303],
            validation_seeds: vec![404, 505, 606, 707, 808],
            test_seeds: vec![909, 1001, 1103, 1207, 1301],
            horizon: 200,
            screen_horizon: 60,
            screen_tolerance: 0.5,
            archive_upcoding_bins: vec![0.001, 0.05, 0.2],
            archive_rejection_bins: vec![0.002, 0.01, 0.05],
            offline_priors: true,
            novelty_by_behaviour: false,
            objectives: Vec::new(),
            llm: LlmConfig::default(),
            model: Searched::Medisim,
            panel: PanelSearch::default(),
        }
    }
}

/// Most islands, individuals per island and iterations of one search: the run keeps every
/// individual in memory and evaluates each on every evolution seed.
pub const MAX_ISLANDS: usize = 64;
pub const MAX_POPULATION: usize = 1_000;
pub const MAX_ITERATIONS: u32 = 1_000_000;
/// Most LLM requests in flight at once.
pub const MAX_CONCURRENCY: u32 = 64;
/// Longest wait for one LLM reply, in seconds.
pub const MAX_TIMEOUT_S: f64 = 3_600.0;
use medisim_core::spec::MAX_SEEDS;
use medisim_sim::MAX_HORIZON;

impl SearchConfig {
    pub fn load(path: &Path) -> anyhow::Result<SearchConfig> {
        let text = medisim_core::input::read_settings(path, "a search config")?;
        let c: SearchConfig = medisim_core::input::from_toml(&text)
            .map_err(|at| anyhow::anyhow!("search config {}: {at}", path.display()))?;
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let bad = |k: &str, m: &str| Err(anyhow::anyhow!("search config key `{k}`: {m}"));
        // Counts that size the work and memory of a run: refused outside their range, with it.
        for (key, v, lo, hi) in [
            ("islands", self.islands as u64, 1, MAX_ISLANDS as u64),
            (
                "population",
                self.population as u64,
                2,
                MAX_POPULATION as u64,
            ),
            (
                "migration",
                self.migration as u64,
                0,
                self.population as u64,
            ),
            (
                "iterations",
                u64::from(self.iterations),
                0,
                u64::from(MAX_ITERATIONS),
            ),
            (
                "horizon",
                u64::from(self.horizon),
                1,
                u64::from(MAX_HORIZON),
            ),
            (
                "screen_horizon",
                u64::from(self.screen_horizon),
                1,
                u64::from(self.horizon),
            ),
            (
                "llm.max_tokens",
                u64::from(self.llm.max_tokens),
                1,
                1_000_000,
            ),
            (
                "llm.max_reply_bytes",
                self.llm.max_reply_bytes as u64,
                1,
                64 << 20,
            ),
            ("llm.retries", u64::from(self.llm.retries), 0, 20),
            (
                "llm.concurrency",
                u64::from(self.llm.concurrency),
                1,
                u64::from(MAX_CONCURRENCY),
            ),
            ("llm.backoff_ms", self.llm.backoff_ms, 0, 60_000),
            ("panel.runs", self.panel.runs, 1, MAX_PANEL_RUNS),
        ] {
            if !(lo..=hi).contains(&v) {
                return bad(key, &format!("must be in [{lo}, {hi}], got {v}"));
            }
        }
        for (key, seeds) in [
            ("evolution_seeds", &self.evolution_seeds),
            ("validation_seeds", &self.validation_seeds),
            ("test_seeds", &self.test_seeds),
        ] {
            if seeds.is_empty() || seeds.len() > MAX_SEEDS {
                return bad(
                    key,
                    &format!("needs between 1 and {MAX_SEEDS} seeds, got {}", seeds.len()),
                );
            }
        }
        if !(0.0..=MAX_WTP).contains(&self.panel.wtp) {
            return bad(
                "panel.wtp",
                &format!(
                    "must be in [0, {}] dollars per QALY, got {}",
                    medisim_core::text::number(MAX_WTP),
                    medisim_core::text::number(self.panel.wtp)
                ),
            );
        }
        if self.migration_interval == 0 {
            return bad("migration_interval", "must be at least 1");
        }
        if !(self.screen_tolerance >= 0.0 && self.screen_tolerance.is_finite()) {
            return bad("screen_tolerance", "must be a finite number >= 0");
        }
        for (key, bins) in [
            ("archive_upcoding_bins", &self.archive_upcoding_bins),
            ("archive_rejection_bins", &self.archive_rejection_bins),
        ] {
            if bins.iter().any(|b| !b.is_finite()) || bins.windows(2).any(|w| w[1] <= w[0]) {
                return bad(key, "bin edges must be finite and increasing");
            }
        }
        let l = &self.llm;
        if !(l.base_url.starts_with("http://") || l.base_url.starts_with("https://")) {
            return bad(
                "llm.base_url",
                &format!("`{}` is not an http:// or https:// URL", l.base_url),
            );
        }
        if !(0.0..=2.0).contains(&l.temperature) {
            return bad("llm.temperature", "must be between 0 and 2");
        }
        if !(l.timeout_s > 0.0 && l.timeout_s <= MAX_TIMEOUT_S) {
            return bad(
                "llm.timeout_s",
                &format!(
                    "must be in (0, {MAX_TIMEOUT_S}] seconds, got {}",
                    medisim_core::text::number(l.timeout_s)
                ),
            );
        }
        for (i, m) in l.choices().iter().enumerate() {
            if m.name.is_empty() {
                return bad(&format!("llm.models[{i}].name"), "must not be empty");
            }
            if !(m.weight > 0.0 && m.weight.is_finite()) {
                return bad(&format!("llm.models[{i}].weight"), "must be positive");
            }
            if !(m.price_in >= 0.0
                && m.price_in.is_finite()
                && m.price_out >= 0.0
                && m.price_out.is_finite())
            {
                return bad(
                    &format!("llm.models[{i}]"),
                    "prices must be non-negative numbers",
                );
            }
        }
        if let Some(c) = l.max_cost {
            if !(c >= 0.0 && c.is_finite()) {
                return bad("llm.max_cost", "must be a non-negative number");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings file of a Medi-Sim search is what it was before the panel's search existed
    /// (a run directory compares it as text to resume), and a panel search's reads back.
    #[test]
    fn a_medisim_search_writes_its_settings_as_before_the_panel_search() {
        let text = toml::to_string(&SearchConfig::default()).unwrap();
        assert!(
            !text.contains("model = \"medisim\"") && !text.contains("[panel]"),
            "{text}"
        );
        let panel = SearchConfig {
            model: Searched::Panel,
            panel: PanelSearch {
                wtp: 20_000.0,
                runs: 7,
            },
            ..SearchConfig::default()
        };
        let back: SearchConfig = toml::from_str(&toml::to_string(&panel).unwrap()).unwrap();
        assert_eq!(back, panel);
    }

    #[test]
    fn the_defaults_are_valid_and_each_bad_setting_names_its_key() {
        assert!(SearchConfig::default().validate().is_ok());
        type Spoil = fn(&mut SearchConfig);
        let cases: [(&str, Spoil); 12] = [
            ("panel.wtp", |c| c.panel.wtp = f64::NAN),
            ("panel.runs", |c| c.panel.runs = 0),
            ("islands", |c| c.islands = 0),
            ("screen_tolerance", |c| c.screen_tolerance = f64::NAN),
            ("archive_upcoding_bins", |c| {
                c.archive_upcoding_bins = vec![0.2, 0.1]
            }),
            ("population", |c| c.population = 1),
            ("validation_seeds", |c| c.validation_seeds.clear()),
            ("screen_horizon", |c| c.screen_horizon = 0),
            ("migration_interval", |c| c.migration_interval = 0),
            ("llm.base_url", |c| c.llm.base_url = "localhost:8000".into()),
            ("llm.temperature", |c| c.llm.temperature = -0.1),
            ("llm.timeout_s", |c| c.llm.timeout_s = f64::NAN),
        ];
        for (key, spoil) in cases {
            let mut c = SearchConfig::default();
            spoil(&mut c);
            let err = c.validate().expect_err(key).to_string();
            assert!(err.contains(&format!("`{key}`")), "{key}: {err}");
        }
    }
}
