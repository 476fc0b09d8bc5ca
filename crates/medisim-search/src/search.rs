//! The search loop (Algorithm A.2): warm start from the library, islands with ring migration
//! and elitism, a MAP-Elites archive over (up-coding, rejection), tournament parents and archive
//! inspirations, a short-rollout screen, validation of island champions, and one held-out
//! evaluation of the best validation candidate against the baselines.

use crate::config::{OperatorKind, SearchConfig};
use crate::domain::{Domain, ScenarioOf};
use crate::evaluate::{Backend, Evaluator};
use crate::llm::{self, LlmClient, LlmOutcome, Shown};
use crate::store::{Eval, Store};
use anyhow::{bail, Context, Result};
use medisim_core::progress::Progress;
use medisim_core::{Model, RunDir, Table};
use medisim_dsl::{fmt, Policy};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

pub use crate::domain::{Individual, MethodRow};
use crate::pareto::Selection;
use crate::reward_hacking::{self, Checked, Gain};
use crate::scratchpad::Notes;

/// A running-best update (Table 5): what changed and what it bought.
#[derive(Clone, Debug, Serialize)]
pub struct Update {
    pub iteration: u32,
    pub hash: String,
    pub operator: String,
    pub fields_changed: Vec<String>,
    pub validation_fitness: f64,
    pub before: BTreeMap<String, f64>,
    pub after: BTreeMap<String, f64>,
}

/// One incumbent of the run, the best warm start first: when it took over, after how many
/// evaluated children, and its fitness on the training (evolution), validation and held-out
/// seeds side by side. The held-out column is computed after the search, so it never steered
/// it; read against `evaluations` it is the run's held-out curve (the search benchmark's).
#[derive(Clone, Debug, Serialize)]
pub struct LineagePoint {
    pub iteration: u32,
    pub evaluations: usize,
    pub operator: String,
    pub hash: String,
    pub training: f64,
    pub validation: f64,
    pub held_out: f64,
}

/// One point of the search trace (Figures 11, 18).
#[derive(Clone, Debug, Serialize)]
pub struct TracePoint {
    pub iteration: u32,
    pub island: usize,
    pub operator: String,
    pub outcome: String,
    pub child_fitness: Option<f64>,
    pub running_best_validation: f64,
}

pub struct SearchOutcome {
    pub best: Individual,
    pub best_validation: f64,
    pub table: Vec<MethodRow>,
    pub trace: Vec<TracePoint>,
    pub updates: Vec<Update>,
    /// Rollouts simulated in this process (cache misses), simulation seconds, total seconds.
    pub rollouts: u64,
    pub sim_seconds: f64,
    pub total_seconds: f64,
    /// Per model: calls, children, tokens and cost at the configured prices.
    pub llm_usage: Vec<ModelUsage>,
    /// Children not evaluated because they repeat an existing program: the same canonical
    /// hash, or the same behaviour signature (screen diagnostics, rounded).
    pub duplicates: u64,
    pub same_behaviour: u64,
    /// Every child that beat its parent, checked on validation and held-out seeds (empty for
    /// a run stopped early).
    pub reward_hacking: Vec<Checked>,
    /// The incumbents in order, with their held-out fitness (empty for a run stopped early).
    pub lineage: Vec<LineagePoint>,
    /// Children evaluated at full horizon (the benchmark's unit of search effort).
    pub evaluated: usize,
    /// A multi-objective search's front: the non-dominated programs of the final islands,
    /// each with its objectives on the training and the held-out seeds (empty when scalar or
    /// stopped early).
    pub pareto_front: Vec<FrontPoint>,
    /// The MAP-Elites archive as the search left it, by cell.
    pub archive: Vec<Elite>,
    /// The islands as the search left them.
    pub islands: Vec<Vec<Individual>>,
}

/// Whether a program of fitness `new` displaces a cell's elite of fitness `old`: only a strictly
/// fitter one does (the first found keeps a tie). The archive's one rule, which a reader of the
/// event log applies too.
pub fn takes_the_cell(new: f64, old: f64) -> bool {
    new > old
}

/// A MAP-Elites cell (its index on each of the domain's two axes) and its fittest program.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Elite {
    pub cell: [usize; 2],
    pub hash: String,
    /// Training fitness.
    pub fitness: f64,
}

/// A program of the final front and its objectives (labelled `max:NAME` / `min:NAME`).
#[derive(Clone, Debug, Serialize)]
pub struct FrontPoint {
    pub hash: String,
    pub training: BTreeMap<String, f64>,
    pub held_out: BTreeMap<String, f64>,
}

/// Most programs of the front the results list.
pub const MAX_FRONT: usize = 100;

/// What one model was asked and what it cost.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ModelUsage {
    pub model: String,
    pub calls: u64,
    pub children: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost: f64,
}

impl SearchOutcome {
    /// One metric of one method in the held-out table (NaN if the table lacks it).
    pub fn held_out(&self, method: &str, metric: impl medisim_core::Metric) -> f64 {
        self.table
            .iter()
            .find(|r| r.method == method)
            .and_then(|r| r.metrics.get(metric.name()).copied())
            .unwrap_or(f64::NAN)
    }
}

/// The store's note that the event log holds the warm start.
const WARM_START_LOGGED: &str = "warm_start_logged";

/// The domain's table metrics of an evaluation, by name (NaN where one was not recorded).
pub fn pick(names: &[&str], eval: &Eval) -> BTreeMap<String, f64> {
    names
        .iter()
        .map(|m| (m.to_string(), mean(eval, m)))
        .collect()
}

fn mean(eval: &Eval, name: &str) -> f64 {
    eval.summary.by_name(name).map_or(f64::NAN, |s| s.mean)
}

/// Every `.policy` in `dir`, in name order, each checked against the domain's schema.
pub fn read_library<D: Domain>(domain: &D, dir: &str) -> Result<Vec<Policy>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read library {dir}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "policy"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("library {dir} holds no .policy files");
    }
    paths
        .iter()
        .map(|p| {
            let limit = medisim_dsl::schema::MAX_SOURCE_BYTES as u64;
            let text = medisim_core::input::read_text(p, limit, "a policy source")?;
            let origin = p.display().to_string();
            domain
                .load(&text, &origin)
                .map_err(|e| anyhow::anyhow!("{origin}: {e}"))
        })
        .collect()
}

/// Where a search runs: its directory, whether it continues a run there, and where it stops
/// early (as an interruption would: no held-out evaluation, no result files).
#[derive(Clone, Copy, Debug)]
pub struct Place<'a> {
    pub out: &'a Path,
    pub resume: bool,
    pub stop_after: Option<u32>,
}

/// Run (or resume) a search of `domain`'s programs in `scenario`, its evaluations simulated
/// by `backend`.
pub fn search<D: Domain>(
    domain: &D,
    config: &SearchConfig,
    scenario: &ScenarioOf<D>,
    place: Place,
    pb: &dyn Progress,
    backend: &dyn Backend<D::Model>,
) -> Result<SearchOutcome> {
    config.validate()?;
    // Checked before the run directory is claimed.
    Selection::new(domain, &config.objectives)?;
    let (out, stop_after) = (place.out, place.stop_after);
    let started = std::time::Instant::now();
    // One writer per run directory; the lock goes when this function returns.
    let (_lock, store, completed) = open_run(domain, config, scenario, out, place.resume)?;
    let evaluator = Evaluator::with_backend(domain, config, scenario, backend);
    let mut run = Run::start(config, scenario, out, evaluator, store, completed)?;
    pb.set_length(u64::from(config.iterations));
    let last = stop_after.map_or(config.iterations, |s| s.min(config.iterations));
    // Blocks of `llm.concurrency` iterations at fixed places (1..=K, K+1..=2K, ...), so a
    // resumed run replays the same blocks; an offline search has blocks of one.
    let size = match config.operator {
        OperatorKind::Offline => 1,
        _ => config.llm.concurrency.max(1),
    };
    let mut k = 1;
    // Cancel (asked through the progress display) stops at a block's end, as a kill there
    // would: the run resumes from it to the same result.
    while k <= last && !pb.cancelled() {
        let end = ((k - 1) / size + 1).saturating_mul(size).min(last);
        run.block(k..=end, pb, started)?;
        k = end + 1;
    }
    // One evaluation on the held-out seeds: the searched policy against the baselines. A run
    // stopped early (as a kill would) has no result yet.
    let stopped_early = k <= config.iterations;
    let (table, checked, lineage, front) = if stopped_early {
        (Vec::new(), Vec::new(), Vec::new(), Vec::new())
    } else {
        let table = held_out_table(
            config,
            &run.evaluator,
            &run.store,
            &run.best,
            &run.warm_best,
        )?;
        let checked = reward_hacking::check(&run.gains, config, &run.evaluator, &run.store)?;
        let lineage = run.lineage()?;
        let front = run.front()?;
        (table, checked, lineage, front)
    };
    let mut outcome = run.outcome(table, checked, lineage, started)?;
    outcome.pareto_front = front;
    if !stopped_early {
        write_results(domain, out, config, &outcome, last)?;
    }
    Ok(outcome)
}

/// The LLM operator's state: the client, the models it may ask and the bandit between them.
struct LlmArms {
    client: LlmClient,
    choices: Vec<crate::config::ModelChoice>,
    bandit: llm::ModelBandit,
}

/// A proposed child: the program, the operator that made it, the key of the LLM call (if one
/// did) and the bandit arm to reward.
struct Child {
    policy: Policy,
    operator: String,
    prompt_key: Option<String>,
    arm: Option<usize>,
}

/// One iteration's plan, made from the state at its block's start.
struct Plan {
    k: u32,
    island: usize,
    parent: Individual,
    inspirations: Vec<Individual>,
    proposal: Proposal,
}

/// What the iteration's operator proposes: a child, or a question for the model.
enum Proposal {
    Ready(Child),
    Ask {
        arm: usize,
        client: LlmClient,
        prompt: String,
    },
}

/// A search between iterations: the islands, the archive, the incumbent and what has been
/// recorded. Each iteration is a list of steps: choose a parent, propose a child, consider it.
struct Run<'a, D: Domain> {
    config: &'a SearchConfig,
    scenario: &'a ScenarioOf<D>,
    out: &'a Path,
    evaluator: Evaluator<'a, D>,
    store: Store,
    completed: u32,
    llm: LlmArms,
    warm_best: Individual,
    /// Every program met so far, by hash: a child equal to one is a duplicate.
    seen: HashSet<String>,
    islands: Vec<Vec<Individual>>,
    archive: BTreeMap<(usize, usize), Individual>,
    best: Individual,
    best_val: f64,
    updates: Vec<Update>,
    /// Children that beat their parent, for the reward-hacking monitor.
    gains: Vec<Gain>,
    /// Children evaluated at full horizon so far.
    evaluated: usize,
    /// The incumbents with their programs; each point's held-out fitness is filled in after
    /// the search ([`Run::lineage`]).
    incumbents: Vec<(LineagePoint, Individual)>,
    trace: Vec<TracePoint>,
    /// How islands rank their individuals (`objectives`).
    selection: Selection,
    /// What each child's edit did, for the prompt's scratchpad.
    notes: Notes,
    /// The first iteration of the block being planned.
    block_start: u32,
    failures: Vec<String>,
    duplicates: u64,
    same_behaviour: u64,
    behaviours: HashSet<String>,
}

impl<'a, D: Domain> Run<'a, D> {
    /// Warm start: evaluate the library; every island starts with all of it, and the best
    /// warm start on validation is the incumbent at iteration 0.
    fn start(
        config: &'a SearchConfig,
        scenario: &'a ScenarioOf<D>,
        out: &'a Path,
        evaluator: Evaluator<'a, D>,
        mut store: Store,
        completed: u32,
    ) -> Result<Self> {
        let choices = config.llm.choices();
        let bandit = llm::ModelBandit::new(&choices.iter().map(|m| m.weight).collect::<Vec<_>>());
        let llm = LlmArms {
            client: LlmClient::from_env(config.llm.clone()),
            choices,
            bandit,
        };
        // The warm start is logged once: a run cancelled before its first iteration has logged it
        // already, though it completed none.
        store.quiet = completed > 0 || store.meta(WARM_START_LOGGED)?.is_some();
        let selection = Selection::new(evaluator.domain, &config.objectives)?;
        let warm = warm_start(config, &evaluator, &store)?;
        let (val, horizon) = (&config.validation_seeds, config.horizon);
        let (warm_best, warm_val) = best_on_validation(&warm, &evaluator, &store, val, horizon)?;
        let mut run = Run {
            config,
            scenario,
            out,
            evaluator,
            store,
            completed,
            llm,
            best: warm_best.clone(),
            best_val: warm_val,
            warm_best,
            seen: warm.iter().map(|i| i.hash.clone()).collect(),
            islands: vec![warm.clone(); config.islands],
            archive: BTreeMap::new(),
            updates: Vec::new(),
            gains: Vec::new(),
            evaluated: 0,
            incumbents: Vec::new(),
            trace: Vec::new(),
            selection,
            notes: Notes::new(config.llm.scratchpad_every),
            block_start: 1,
            failures: Vec::new(),
            duplicates: 0,
            same_behaviour: 0,
            behaviours: HashSet::new(),
        };
        for ind in &warm {
            run.archive_insert(ind);
        }
        let first = run.incumbent(0, "library", &run.best, run.best_val);
        run.incumbents.push(first);
        run.trace.push(TracePoint {
            iteration: 0,
            island: 0,
            operator: "library".into(),
            outcome: "warm start".into(),
            child_fitness: Some(run.best.fitness()),
            running_best_validation: run.best_val,
        });
        // The archive's axes and its cells after the warm start, so that a reader of the log
        // rebuilds the archive as the search keeps it.
        let axes = run
            .domain()
            .archive_axes(config)
            .map(|(name, cells)| json!({"name": name, "cells": cells}));
        let archive = run.elites();
        run.store.event(json!({"event": "warm_start", "library": warm.len(), "best": run.best.hash, "validation_fitness": run.best_val, "archive_axes": axes, "archive": archive}))?;
        if !run.store.quiet {
            run.store.set_meta(WARM_START_LOGGED, "1")?;
        }
        if config.novelty_by_behaviour {
            for ind in &warm {
                let e = run.screen_eval(&ind.policy)?;
                run.behaviours.insert(behaviour(run.domain(), &e));
            }
        }
        Ok(run)
    }

    /// Iterations `ks`, one block: every child of the block is proposed from the state at its
    /// start (the LLM's requests asked together, `llm.concurrency` in flight), then each is
    /// considered in iteration order, whatever order the replies came in. A block of one
    /// iteration is the sequential search. Each iteration draws from its own random stream.
    fn block(
        &mut self,
        ks: std::ops::RangeInclusive<u32>,
        pb: &dyn Progress,
        started: std::time::Instant,
    ) -> Result<()> {
        let first = *ks.start();
        self.block_start = first;
        self.store.quiet = *ks.end() <= self.completed;
        let plans: Vec<Plan> = ks.map(|k| self.plan(k)).collect();
        let questions: Vec<llm::Question> = plans
            .iter()
            .filter_map(|p| match &p.proposal {
                Proposal::Ask { client, prompt, .. } => Some(llm::Question {
                    client: client.clone(),
                    parent: &p.parent.policy,
                    prompt: prompt.clone(),
                }),
                Proposal::Ready(_) => None,
            })
            .collect();
        let in_flight = self.config.llm.concurrency as usize;
        let usage = if questions.is_empty() {
            (0, 0.0)
        } else {
            self.usage_at_block(first)?
        };
        let answers = llm::ask_all(&self.store, &questions, in_flight, usage)
            .map_err(|e| self.interrupted(e, first))?;
        drop(questions);
        let mut answers = answers.into_iter();
        for plan in plans {
            let k = plan.k;
            self.store.quiet = k <= self.completed;
            let child = match plan.proposal {
                Proposal::Ready(child) => Some(child),
                Proposal::Ask { arm, client, .. } => {
                    let answer = answers.next().expect("one answer per question");
                    self.answered(k, plan.island, arm, &client, answer, pb)?
                }
            };
            let inspiration = &plan.inspirations[0];
            let considered = match child {
                Some(child) => self.consider(k, plan.island, &plan.parent, inspiration, child)?,
                None => false,
            };
            if considered {
                self.after(k, pb, started)?;
            }
            if k > self.completed {
                self.store.set_meta("completed", &k.to_string())?;
            }
            pb.inc(1);
        }
        Ok(())
    }

    /// The LLM tokens and money spent when the block starting at `first` began: recorded before
    /// its first call, and read back when a resumed run meets the block again (its stored
    /// replies must not count against the budget it first saw).
    fn usage_at_block(&self, first: u32) -> Result<(u64, f64)> {
        const KEY: &str = "llm_block_usage";
        if let Some(v) = self.store.meta(KEY)? {
            let parts: Vec<&str> = v.split(' ').collect();
            if let [f, t, s] = parts[..] {
                if f.parse() == Ok(first) {
                    if let (Ok(t), Ok(s)) = (t.parse(), s.parse()) {
                        return Ok((t, s));
                    }
                }
            }
        }
        let (_, _, pt, ct) = self.store.llm_usage()?;
        let spent = self.llm.client.spent(&self.store)?;
        // Only a block met for the first time records; a replayed earlier one must not
        // overwrite the record of the block a kill interrupted.
        if first > self.completed {
            self.store
                .set_meta(KEY, &format!("{first} {} {spent:?}", pt + ct))?;
        }
        Ok((pt + ct, spent))
    }

    /// Iteration `k`'s plan: island k mod islands, the parent and inspirations, and the child
    /// (offline) or the question for the model (LLM).
    fn plan(&self, k: u32) -> Plan {
        let mut rng = Pcg64::seed_from_u64(
            self.config.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(k),
        );
        let island = (k as usize - 1) % self.config.islands;
        let (parent, inspirations) = self.select(island, &mut rng);
        let proposal = self.propose(k, &parent, &inspirations, &mut rng);
        Plan {
            k,
            island,
            parent,
            inspirations,
            proposal,
        }
    }

    /// Migration when it is due, and the progress line, after a child was considered.
    fn after(&mut self, k: u32, pb: &dyn Progress, started: std::time::Instant) -> Result<()> {
        if k % self.config.migration_interval == 0 && self.config.islands > 1 {
            migrate(
                &mut self.islands,
                self.config.migration,
                self.config.population,
                &self.selection,
                self.evaluator.domain,
            );
            self.store
                .event(json!({"event": "migration", "iteration": k}))?;
        }
        let (calls, fails, _, _) = self.store.llm_usage()?;
        let elapsed = started.elapsed().as_secs_f64().max(1e-9);
        pb.set_message(format!(
            "best {:.4}  {:.0} rollouts/s  LLM calls {calls} ({fails} failed)",
            self.best_val,
            self.evaluator.rollouts.get() as f64 / elapsed
        ));
        Ok(())
    }

    /// The parent (a tournament of three within island `i`) and two inspirations from the
    /// archive (the parent itself while the archive is empty).
    fn select(&self, i: usize, rng: &mut Pcg64) -> (Individual, Vec<Individual>) {
        let island = &self.islands[i];
        let drawn: Vec<&Individual> = (0..3)
            .map(|_| island.choose(rng).expect("islands are never empty"))
            .collect();
        let parent = self.selection.winner(self.domain(), island, &drawn).clone();
        let elites: Vec<&Individual> = self.archive.values().collect();
        let mut inspirations: Vec<Individual> = elites
            .choose_multiple(rng, 2)
            .map(|x| (*x).clone())
            .collect();
        if inspirations.is_empty() {
            inspirations.push(parent.clone());
        }
        (parent, inspirations)
    }

    /// A child of `parent` from the iteration's operator, or the question the LLM is to be
    /// asked (its model chosen by the bandit).
    fn propose(
        &self,
        k: u32,
        parent: &Individual,
        inspirations: &[Individual],
        rng: &mut Pcg64,
    ) -> Proposal {
        let use_llm = match self.config.operator {
            OperatorKind::Offline => false,
            OperatorKind::Llm => true,
            OperatorKind::Both => k % 2 == 1,
        };
        if !use_llm {
            let (policy, operator) =
                self.domain()
                    .offline_child(self.config, parent, &inspirations[0], rng);
            return Proposal::Ready(Child {
                policy,
                operator,
                prompt_key: None,
                arm: None,
            });
        }
        let input = prompt_input(
            self.domain(),
            (self.config, self.scenario),
            parent,
            &self.islands,
            inspirations,
            (&self.failures, self.notes.text(k, self.block_start - 1)),
        );
        let arm = self.llm.bandit.choose();
        let client = self.llm.client.with_model(&self.llm.choices[arm].name);
        let prompt = llm::prompt_for(&input, self.config.llm.edit_format);
        Proposal::Ask {
            arm,
            client,
            prompt,
        }
    }

    /// The child an LLM answer gives; `None` when it gave no valid program (recorded as a
    /// failure the next prompts are shown).
    fn answered(
        &mut self,
        k: u32,
        i: usize,
        arm: usize,
        client: &LlmClient,
        answer: LlmOutcome,
        pb: &dyn Progress,
    ) -> Result<Option<Child>> {
        let (calls, _, pt, ct) = self.store.llm_usage()?;
        pb.set_message(format!(
            "LLM {calls} calls, {} tokens, cost {:.4}",
            pt + ct,
            client.spent(&self.store)?
        ));
        match answer {
            LlmOutcome::Child { policy, key } => Ok(Some(Child {
                policy: *policy,
                operator: "llm".into(),
                prompt_key: Some(key),
                arm: Some(arm),
            })),
            LlmOutcome::Failed { key, reason } => {
                self.llm.bandit.reward(arm, 0.0);
                let model = &client.config.model;
                self.store.event(json!({"event": "llm_failure", "iteration": k, "key": key, "model": model, "reason": reason}))?;
                self.failures.push(reason.clone());
                self.notes.rejected(k, &reason);
                self.trace.push(TracePoint {
                    iteration: k,
                    island: i,
                    operator: "llm".into(),
                    outcome: format!("failed: {reason}"),
                    child_fitness: None,
                    running_best_validation: self.best_val,
                });
                Ok(None)
            }
        }
    }

    /// An LLM error that ends the run, with what is kept and how to continue.
    fn interrupted(&self, e: impl std::fmt::Display, k: u32) -> anyhow::Error {
        let out = self.out.display();
        anyhow::anyhow!(
            "{e}\n  {} of {} iterations are finished and kept in {out}; --resume {out} continues from there",
            k - 1,
            self.config.iterations,
        )
    }

    /// Record, screen and evaluate a child, and place it: its island (elitism), the archive,
    /// and the incumbent when it wins on validation. False when it went no further than the
    /// screen (a duplicate, a known behaviour, or a screen below its parent's).
    fn consider(
        &mut self,
        k: u32,
        i: usize,
        parent: &Individual,
        inspiration: &Individual,
        child: Child,
    ) -> Result<bool> {
        let hash = child.policy.canonical_hash().to_string();
        self.store.put_program(
            &hash,
            &fmt::policy_to_string(&child.policy),
            &child.operator,
            &[parent.hash.clone(), inspiration.hash.clone()],
            k,
            child.prompt_key.as_deref(),
        )?;
        let mut point = TracePoint {
            iteration: k,
            island: i,
            operator: child.operator.clone(),
            outcome: String::new(),
            child_fitness: None,
            running_best_validation: self.best_val,
        };
        if !self.seen.insert(hash.clone()) {
            self.duplicates += 1;
            let event = json!({"event": "duplicate", "iteration": k, "hash": hash});
            return self.skip(child.arm, 0.0, point, "duplicate", event);
        }
        let screen_eval = self.screen_eval(&child.policy)?;
        let screen = screen_eval.fitness;
        // Novelty by behaviour: a child whose screen diagnostics match an evaluated program's
        // (rounded) behaves the same on the screen seeds and is not evaluated again.
        let signature = behaviour(self.domain(), &screen_eval);
        if self.config.novelty_by_behaviour && !self.behaviours.insert(signature) {
            self.same_behaviour += 1;
            let event = json!({"event": "same_behaviour", "iteration": k, "hash": hash});
            return self.skip(child.arm, 0.0, point, "same behaviour", event);
        }
        if screen < parent.screen - self.config.screen_tolerance {
            self.notes.screened_out(k, &parent.policy, &child.policy);
            let event = json!({"event": "screened_out", "iteration": k, "hash": hash, "screen": screen, "parent_screen": parent.screen});
            return self.skip(child.arm, 0.5, point, "screened out", event);
        }
        let (seeds, horizon) = (&self.config.evolution_seeds, self.config.horizon);
        let eval = self
            .evaluator
            .eval(&self.store, &child.policy, seeds, horizon)?;
        let ind = Individual {
            hash: hash.clone(),
            policy: Arc::new(child.policy),
            eval,
            screen,
        };
        point.child_fitness = Some(ind.fitness());
        self.evaluated += 1;
        self.notes.evaluated(self.evaluator.domain, k, parent, &ind);
        let improved = ind.fitness() > parent.fitness();
        self.reward(child.arm, if improved { 1.0 } else { 0.5 });
        if improved {
            self.gains.push(Gain {
                iteration: k,
                island: i,
                operator: child.operator.clone(),
                parent: parent.clone(),
                child: ind.clone(),
            });
        }
        let island_best = self.islands[i]
            .iter()
            .map(Individual::fitness)
            .fold(f64::NEG_INFINITY, f64::max);
        self.island_insert(i, &ind);
        let cell = self.archive_insert(&ind);
        self.store.event(json!({"event": "evaluated", "iteration": k, "island": i, "hash": hash, "operator": child.operator, "fitness": ind.fitness(), "parent": parent.hash, "cell": [cell.0, cell.1]}))?;
        point.outcome = "evaluated".into();
        if ind.fitness() > island_best && self.promote(k, &ind, &child.operator)? {
            point.outcome = "new best".into();
            point.running_best_validation = self.best_val;
        }
        self.trace.push(point);
        Ok(true)
    }

    /// A child that goes no further: its bandit reward, its outcome in the trace, its event.
    fn skip(
        &mut self,
        arm: Option<usize>,
        reward: f64,
        mut point: TracePoint,
        outcome: &str,
        event: serde_json::Value,
    ) -> Result<bool> {
        self.reward(arm, reward);
        point.outcome = outcome.into();
        self.store.event(event)?;
        self.trace.push(point);
        Ok(false)
    }

    fn reward(&mut self, arm: Option<usize>, r: f64) {
        if let Some(a) = arm {
            self.llm.bandit.reward(a, r);
        }
    }

    /// Eq. 8 on the evolution seeds at the screening horizon.
    fn screen_eval(&self, policy: &Policy) -> Result<Eval> {
        let (seeds, horizon) = (&self.config.evolution_seeds, self.config.screen_horizon);
        self.evaluator.eval(&self.store, policy, seeds, horizon)
    }

    /// Elitism: the island keeps its best ([`Selection::insert`]).
    fn island_insert(&mut self, i: usize, ind: &Individual) {
        let domain = self.domain();
        let population = self.config.population;
        self.selection
            .insert(domain, &mut self.islands[i], ind, population);
    }

    fn domain(&self) -> &'a D {
        self.evaluator.domain
    }

    /// The archive's cells, each with its fittest program.
    fn elites(&self) -> Vec<Elite> {
        self.archive
            .iter()
            .map(|(&(a, b), ind)| Elite {
                cell: [a, b],
                hash: ind.hash.clone(),
                fitness: ind.fitness(),
            })
            .collect()
    }

    /// The MAP-Elites archive over the domain's cells keeps each cell's fittest; the cell.
    fn archive_insert(&mut self, ind: &Individual) -> (usize, usize) {
        let key = self.domain().archive_cell(self.config, &ind.eval);
        if self
            .archive
            .get(&key)
            .is_none_or(|x| takes_the_cell(ind.fitness(), x.fitness()))
        {
            self.archive.insert(key, ind.clone());
        }
        key
    }

    /// A new island best is validated; it becomes the incumbent when it beats the incumbent's
    /// validation fitness, and the update is recorded (Table 5). True when it did.
    fn promote(&mut self, k: u32, ind: &Individual, operator: &str) -> Result<bool> {
        let (val, horizon) = (&self.config.validation_seeds, self.config.horizon);
        let v = self
            .evaluator
            .eval(&self.store, &ind.policy, val, horizon)?;
        // (Written as the comparison that wins, so a NaN never does.)
        let wins = v.fitness > self.best_val;
        if !wins {
            return Ok(false);
        }
        let prev = self
            .evaluator
            .eval(&self.store, &self.best.policy, val, horizon)?;
        let fields_changed = crate::domain::fields_changed(&self.best.policy, &ind.policy);
        let names = self.domain().table_metrics();
        self.updates.push(Update {
            iteration: k,
            hash: ind.hash.clone(),
            operator: operator.to_string(),
            fields_changed,
            validation_fitness: v.fitness,
            before: pick(names, &prev),
            after: pick(names, &v),
        });
        self.store.event(json!({"event": "new_best", "iteration": k, "hash": ind.hash, "validation_fitness": v.fitness}))?;
        let point = self.incumbent(k, operator, ind, v.fitness);
        self.incumbents.push(point);
        self.best = ind.clone();
        self.best_val = v.fitness;
        Ok(true)
    }

    /// What the run found and what it cost.
    /// An incumbent taken over at iteration `k`, its held-out fitness not yet known.
    fn incumbent(
        &self,
        k: u32,
        operator: &str,
        ind: &Individual,
        validation: f64,
    ) -> (LineagePoint, Individual) {
        let point = LineagePoint {
            iteration: k,
            evaluations: self.evaluated,
            operator: operator.to_string(),
            hash: ind.hash.clone(),
            training: ind.fitness(),
            validation,
            held_out: f64::NAN,
        };
        (point, ind.clone())
    }

    /// The incumbents with their held-out fitness (evaluated now, after the search).
    fn lineage(&self) -> Result<Vec<LineagePoint>> {
        let (test, horizon) = (&self.config.test_seeds, self.config.horizon);
        self.incumbents
            .iter()
            .map(|(point, ind)| {
                let e = self
                    .evaluator
                    .eval(&self.store, &ind.policy, test, horizon)?;
                Ok(LineagePoint {
                    held_out: e.fitness,
                    ..point.clone()
                })
            })
            .collect()
    }

    /// The final islands' front, evaluated on the held-out seeds (after the search).
    fn front(&self) -> Result<Vec<FrontPoint>> {
        let Selection::Pareto(objectives) = &self.selection else {
            return Ok(Vec::new());
        };
        let all: Vec<Individual> = self.islands.iter().flatten().cloned().collect();
        let domain = self.domain();
        let (test, horizon) = (&self.config.test_seeds, self.config.horizon);
        let values = |e: &Eval| {
            objectives
                .iter()
                .map(|o| (o.label(), o.value(domain, e)))
                .collect::<BTreeMap<_, _>>()
        };
        self.selection
            .front(domain, &all)
            .into_iter()
            .take(MAX_FRONT)
            .map(|ind| {
                let held = self
                    .evaluator
                    .eval(&self.store, &ind.policy, test, horizon)?;
                Ok(FrontPoint {
                    training: values(&ind.eval),
                    held_out: values(&held),
                    hash: ind.hash,
                })
            })
            .collect()
    }

    fn outcome(
        self,
        table: Vec<MethodRow>,
        reward_hacking: Vec<Checked>,
        lineage: Vec<LineagePoint>,
        started: std::time::Instant,
    ) -> Result<SearchOutcome> {
        let config = self.config;
        let archive = self.elites();
        Ok(SearchOutcome {
            best: self.best,
            best_validation: self.best_val,
            table,
            trace: self.trace,
            updates: self.updates,
            rollouts: self.evaluator.rollouts.get(),
            sim_seconds: self.evaluator.sim_seconds.get(),
            total_seconds: started.elapsed().as_secs_f64(),
            llm_usage: self
                .store
                .llm_usage_by_model()?
                .into_iter()
                .map(|(model, calls, children, pt, ct, _)| ModelUsage {
                    cost: config.llm.cost(&model, pt, ct),
                    model,
                    calls,
                    children,
                    prompt_tokens: pt,
                    completion_tokens: ct,
                })
                .collect(),
            duplicates: self.duplicates,
            same_behaviour: self.same_behaviour,
            reward_hacking,
            lineage,
            evaluated: self.evaluated,
            pareto_front: Vec::new(),
            archive,
            islands: self.islands,
        })
    }
}

/// Open (or resume) the run directory: take its lock, write the settings first (so a kill at
/// any later point leaves a directory `--resume` can read), check that a resumed run keeps
/// the model version and the scenario, and read how many iterations are finished.
fn open_run<D: Domain>(
    domain: &D,
    config: &SearchConfig,
    scenario: &ScenarioOf<D>,
    out: &Path,
    resume: bool,
) -> Result<(medisim_core::RunLock, Store, u32)> {
    let dir = RunDir::create(out)?;
    let lock = dir.lock()?;
    let config_text = toml::to_string(config)?;
    let held = std::fs::read_to_string(dir.join("config.toml")).ok();
    dir.claim("a search", held.as_deref(), &config_text, resume)?;
    dir.write("config.toml", config_text.as_bytes())?;
    let store = Store::open(out)?;
    // Cached evaluations belong to the model that made them: a resume under another model
    // version would mix two models' numbers. (A store without settings holds no evaluation.)
    let version = domain.model().version();
    if store.meta("config")?.is_some() {
        dir.check_version("a search", store.meta("model_version")?.as_deref(), version)?;
    }
    store.set_meta("config", &config_text)?;
    store.set_meta("model_version", &version.to_string())?;
    // The scenario is part of the run: a resumed run must simulate the same world.
    let scenario_text = domain.scenario_text(scenario);
    match store.meta("scenario")? {
        Some(prev) if resume && prev != scenario_text => bail!(
            "{} holds a search over a different scenario; resume it with {}",
            out.display(),
            out.join(SCENARIO_FILE).display()
        ),
        _ => store.set_meta("scenario", &scenario_text)?,
    }
    dir.write(SCENARIO_FILE, scenario_text.as_bytes())?;
    let completed: u32 = store
        .meta("completed")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok((lock, store, completed))
}

/// The warm start: every distinct program of the library, evaluated on the evolution seeds
/// (and screened at the screen horizon).
fn warm_start<D: Domain>(
    config: &SearchConfig,
    evaluator: &Evaluator<D>,
    store: &Store,
) -> Result<Vec<Individual>> {
    let (ev, horizon) = (&config.evolution_seeds, config.horizon);
    let mut warm: Vec<Individual> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for p in &evaluator.domain.library(&config.library)? {
        let hash = p.canonical_hash().to_string();
        if !seen.insert(hash.clone()) {
            continue;
        }
        store.put_program(&hash, &fmt::policy_to_string(p), "library", &[], 0, None)?;
        let eval = evaluator.eval(store, p, ev, horizon)?;
        let screen = evaluator.eval(store, p, ev, config.screen_horizon)?.fitness;
        warm.push(Individual {
            hash,
            policy: Arc::new(p.clone()),
            eval,
            screen,
        });
    }
    Ok(warm)
}

/// The individual with the best fitness on the validation seeds (the first of equals).
fn best_on_validation<D: Domain>(
    candidates: &[Individual],
    evaluator: &Evaluator<D>,
    store: &Store,
    val: &[u64],
    horizon: u32,
) -> Result<(Individual, f64)> {
    let mut best: Option<(Individual, f64)> = None;
    for ind in candidates {
        let v = evaluator.eval(store, &ind.policy, val, horizon)?.fitness;
        if best.as_ref().is_none_or(|(_, b)| v > *b) {
            best = Some((ind.clone(), v));
        }
    }
    best.context("the library is empty")
}

/// Table 1 on the held-out seeds: the searched policy against the best warm start and the
/// shipped baselines.
fn held_out_table<D: Domain>(
    config: &SearchConfig,
    evaluator: &Evaluator<D>,
    store: &Store,
    best: &Individual,
    warm_best: &Individual,
) -> Result<Vec<MethodRow>> {
    let mut table = Vec::new();
    let domain = evaluator.domain;
    let methods = [
        ("searched", Policy::clone(&best.policy)),
        ("best_warm_start", Policy::clone(&warm_best.policy)),
    ];
    for (method, p) in methods.into_iter().chain(domain.baselines()) {
        let e = evaluator.eval(store, &p, &config.test_seeds, config.horizon)?;
        let mut metrics: BTreeMap<String, f64> = e
            .summary
            .iter()
            .map(|(k, s)| (k.to_string(), s.mean))
            .collect();
        metrics.insert(domain.fitness_name().into(), e.fitness);
        table.push(MethodRow {
            method: method.into(),
            policy: p.header.name.clone(),
            hash: p.canonical_hash().to_string(),
            metrics,
        });
    }
    Ok(table)
}

/// What the LLM operator is shown: the parent, the two best programs of every island, the
/// inspirations, the last three failures, the scratchpad and what the fitness rewards.
fn prompt_input<'a, D: Domain>(
    domain: &D,
    (config, scenario): (&'a SearchConfig, &ScenarioOf<D>),
    parent: &'a Individual,
    islands: &'a [Vec<Individual>],
    inspirations: &'a [Individual],
    (failures, scratchpad): (&[String], Option<String>),
) -> llm::PromptInput<'a> {
    let shown = |x: &'a Individual| Shown {
        policy: &x.policy,
        fitness: x.fitness(),
        diagnostics: domain.diagnostics(&x.eval),
    };
    let mut top: Vec<&Individual> = islands.iter().flatten().collect();
    top.sort_by(|a, b| b.fitness().total_cmp(&a.fitness()));
    top.dedup_by(|a, b| a.hash == b.hash);
    llm::PromptInput {
        brief: domain.brief(config, scenario),
        parent: shown(parent),
        top: top.into_iter().take(2).map(shown).collect(),
        inspirations: inspirations.iter().map(shown).collect(),
        recent_failures: failures.iter().rev().take(3).cloned().collect(),
        scratchpad,
        compact: config.llm.compact_prompt,
    }
}

/// A program's behaviour signature: its screen diagnostics rounded to four significant
/// places, so two programs that act alike on the screen seeds share one.
fn behaviour<D: Domain>(domain: &D, e: &Eval) -> String {
    domain
        .table_metrics()
        .iter()
        .map(|m| format!("{:.4e}", mean(e, m)))
        .collect::<Vec<_>>()
        .join("|")
}

/// Ring migration: each island's best `m` go to the next island, which takes each as it takes
/// a child ([`Selection::insert`]).
fn migrate<D: Domain>(
    islands: &mut [Vec<Individual>],
    m: usize,
    population: usize,
    selection: &Selection,
    domain: &D,
) {
    let n = islands.len();
    let movers: Vec<Vec<Individual>> = islands
        .iter()
        .map(|isl| {
            let best = selection.best_first(domain, isl);
            best.into_iter().take(m).map(|i| isl[i].clone()).collect()
        })
        .collect();
    for (i, group) in movers.into_iter().enumerate() {
        let dest = &mut islands[(i + 1) % n];
        for ind in group {
            if dest.iter().any(|x| x.hash == ind.hash) {
                continue;
            }
            selection.insert(domain, dest, &ind, population);
        }
    }
}

/// The scenario a run simulates, written into its directory so `--resume` can reload it.
pub const SCENARIO_FILE: &str = "scenario.toml";

fn write_results<D: Domain>(
    domain: &D,
    out: &Path,
    config: &SearchConfig,
    o: &SearchOutcome,
    iterations: u32,
) -> Result<()> {
    let dir = RunDir::create(out)?;
    let atomic = |name: &str, bytes: &[u8]| dir.write(name, bytes);
    let mut best = Policy::clone(&o.best.policy);
    let objective = domain.objective_name(config);
    best.header.name = format!("searched_{objective}");
    best.header.description = Some(format!(
        "Best validation candidate of a {objective}-objective search ({iterations} iterations)."
    ));
    atomic("best.policy", fmt::policy_to_string(&best).as_bytes())?;
    let mut result: serde_json::Map<String, serde_json::Value> = o
        .table
        .iter()
        .map(|r| (r.method.clone(), json!(r.metrics)))
        .collect();
    result.insert("llm_usage".into(), json!(o.llm_usage));
    result.insert("lineage".into(), json!(o.lineage));
    if let Selection::Pareto(objectives) = Selection::new(domain, &config.objectives)? {
        let labels: Vec<String> = objectives.iter().map(|o| o.label()).collect();
        result.insert(
            "pareto_front".into(),
            json!({"objectives": labels, "points": o.pareto_front}),
        );
    }
    result.insert(
        "reward_hacking".into(),
        reward_hacking::summary(&o.reward_hacking),
    );
    result.insert(
        "not_evaluated".into(),
        json!({"duplicate_hash": o.duplicates, "same_behaviour": o.same_behaviour}),
    );
    atomic(
        "result.json",
        serde_json::to_string_pretty(&serde_json::Value::Object(result))?.as_bytes(),
    )?;
    atomic(
        "updates.json",
        serde_json::to_string_pretty(&o.updates)?.as_bytes(),
    )?;
    atomic("trace.csv", &Table::from_records(&o.trace)?.to_csv()?)?;
    atomic(
        "reward_hacking.csv",
        &reward_hacking::csv(&o.reward_hacking)?,
    )?;
    atomic("table.txt", domain.table_text(&o.table).as_bytes())?;
    Ok(())
}
