//! What the search needs of a model. The loop ([`crate::search`]), its evaluator, its run store
//! and the LLM operator read a model only through [`Domain`], so the search is generic over the
//! model and over the language schema its programs are checked against: a model whose policies
//! are programs in `medisim_dsl_v1` under its own schema plugs in by implementing it.
//! Medi-Sim's domain is [`crate::hospital::Hospital`]: its schema, metrics, warm-start library,
//! objective and offline edits. (The search settings' `objective` and archive bins are read by
//! the domain alone.)

use crate::config::SearchConfig;
use crate::store::Eval;
use medisim_core::{Model, RunSpec, Summaries};
use medisim_dsl::schema::Schema;
use medisim_dsl::Policy;
use rand_pcg::Pcg64;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The scenario type of a domain's model.
pub type ScenarioOf<D> = <<D as Domain>::Model as Model>::Scenario;
/// The policy type of a domain's model.
pub type PolicyOf<D> = <<D as Domain>::Model as Model>::Policy;
/// The run specification of a domain's model.
pub type SpecOf<D> = RunSpec<<<D as Domain>::Model as Model>::Settings>;

/// A program met by the search, with its evaluation.
#[derive(Clone, Debug)]
pub struct Individual {
    pub hash: String,
    /// Shared: individuals are cloned into tournaments, archives and migrations, and a
    /// program's expressions are the bulk of one (issue 29).
    pub policy: Arc<Policy>,
    /// The fitness on the evolution seeds, full horizon.
    pub eval: Eval,
    /// The fitness on the evolution seeds, screening horizon.
    pub screen: f64,
}

impl Individual {
    pub fn fitness(&self) -> f64 {
        self.eval.fitness
    }
}

/// One row of the held-out comparison (Table 1).
#[derive(Clone, Debug, Serialize)]
pub struct MethodRow {
    pub method: String,
    pub policy: String,
    pub hash: String,
    pub metrics: BTreeMap<String, f64>,
}

/// The opening of the LLM operator's prompt: what the programs are, what the fitness rewards,
/// and the guardrails of the language as this schema has it.
pub struct Brief {
    /// "hospital policy programs": what the model edits.
    pub subject: &'static str,
    pub objective: String,
    pub objective_rules: String,
    pub guardrails: &'static str,
}

/// A model the search can search: it runs programs of the policy language and says how an
/// evaluation ranks, what it shows and how the offline operator edits a program.
pub trait Domain: Sync {
    type Model: Model;

    fn model(&self) -> &Self::Model;

    /// The model's policy for a checked program of [`Domain::schema`] (for Medi-Sim the program
    /// itself; for the panel the payment program it resolves).
    fn policy_of<'p>(&self, program: &'p Policy) -> Cow<'p, PolicyOf<Self>>;

    /// The schema programs are checked against: the prompt's language reference and the
    /// structured edit formats' JSON schema and grammar come from it.
    fn schema(&self) -> &'static Arc<Schema>;

    /// A program from its source, checked against the schema (the diagnostics, located in
    /// `origin`, as the error).
    fn load(&self, text: &str, origin: &str) -> Result<Policy, String>;

    /// The scenario the search evaluates in, made from the one given.
    fn search_scenario(&self, scenario: &ScenarioOf<Self>) -> ScenarioOf<Self>;

    /// The scenario as the run directory records it (what `--resume` reloads).
    fn scenario_text(&self, scenario: &ScenarioOf<Self>) -> String;

    /// The run specification of one evaluation on `seeds` over `horizon` periods.
    fn spec(&self, config: &SearchConfig, seeds: &[u64], horizon: u32) -> SpecOf<Self>;

    /// The fitness that ranks an evaluation, and its metric's name.
    fn fitness(&self, summary: &Summaries) -> f64;
    fn fitness_name(&self) -> &'static str;

    /// The objective's name, as the best program's name and the trace's title give it.
    fn objective_name(&self, config: &SearchConfig) -> String;

    /// The metrics of the held-out table, of an update record and of a behaviour signature.
    fn table_metrics(&self) -> &'static [&'static str];

    /// The safety channels the reward-hacking monitor watches: metrics where higher is worse.
    fn safety_metrics(&self) -> &'static [&'static str];

    /// The MAP-Elites cell of an evaluation.
    fn archive_cell(&self, config: &SearchConfig, eval: &Eval) -> (usize, usize);

    /// The archive's two axes, each a name and its cells' labels in index order (what
    /// [`Domain::archive_cell`] returns indexes them).
    fn archive_axes(&self, config: &SearchConfig) -> [(String, Vec<String>); 2];

    /// One line of an evaluation's diagnostics, as the LLM operator is shown them.
    fn diagnostics(&self, eval: &Eval) -> String;

    /// The prompt's opening for this search.
    fn brief(&self, config: &SearchConfig, scenario: &ScenarioOf<Self>) -> Brief;

    /// The warm-start library `dir` names (the domain says what an empty name means).
    fn library(&self, dir: &str) -> anyhow::Result<Vec<Policy>>;

    /// The programs the searched one is compared with on the held-out seeds, by method name.
    fn baselines(&self) -> Vec<(&'static str, Policy)>;

    /// The offline operator's child of `parent` (with `inspiration` for crossover), and the
    /// name of its edit.
    fn offline_child(
        &self,
        config: &SearchConfig,
        parent: &Individual,
        inspiration: &Individual,
        rng: &mut Pcg64,
    ) -> (Policy, String);

    /// The held-out comparison as printed text.
    fn table_text(&self, rows: &[MethodRow]) -> String;
}

/// The program `name` of a domain's shipped `library` (name, source), checked against `schema`:
/// what a domain's warm starts and baselines are built from.
pub fn shipped(library: &[(&str, &str)], schema: &Arc<Schema>, name: &str) -> Policy {
    let text = library
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .expect("a shipped program of the library");
    medisim_dsl::load(schema, text).expect("shipped programs check")
}

/// The schema fields whose rules differ between two programs of one schema.
pub fn fields_changed(before: &Policy, after: &Policy) -> Vec<String> {
    let schema = before.schema();
    schema
        .field_ids()
        .filter(|f| !before.expr(*f).same(after.expr(*f)))
        .map(|f| schema.field(f).name.clone())
        .collect()
}

/// The labels of the cells that `edges` number (a value's cell is how many edges it reaches):
/// below the first edge, between each two, from the last.
pub fn bin_labels(edges: &[f64]) -> Vec<String> {
    let mut labels = Vec::with_capacity(edges.len() + 1);
    for (i, e) in edges.iter().enumerate() {
        labels.push(match i {
            0 => format!("< {e}"),
            _ => format!("{}–{e}", edges[i - 1]),
        });
    }
    labels.push(edges.last().map_or("all".into(), |e| format!("≥ {e}")));
    labels
}
