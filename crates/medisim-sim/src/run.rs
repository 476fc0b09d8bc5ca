//! Many replicates of one (scenario, policy) pair, in parallel with rayon. Results are
//! collected in seed order, so the output is bit-identical whatever the number of threads.

use crate::arrivals::kernel;
use crate::engine::Rollout;
use crate::metrics::{Metric, RolloutMetrics};
use crate::objective::RunSpec;
use crate::objective::{fitness, FitnessWeights};
use crate::records::TeamRecord;
use crate::scenario::Scenario;
use crate::schema::HospitalProgram;
use medisim_core::{summarise, Metric as _, Summaries, Summary};
use medisim_dsl::hash::CanonicalHash;
use medisim_dsl::Policy;
use rayon::prelude::*;
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Every replicate's metrics, their summaries over seeds, and the Eq. 8 fitness of the set.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub spec: RunSpec,
    pub per_seed: Vec<RolloutMetrics>,
    pub summary: Summaries,
    #[serde(skip)]
    pub trace: Vec<TeamRecord>,
}

impl RunResult {
    /// Mean of a metric over seeds.
    pub fn mean(&self, m: Metric) -> f64 {
        self.summary.mean(m)
    }
}

/// The summary over a seed set from each metric's per-seed values (`values(m)`, in seed
/// order): every metric summarised, and Eq. 8's fitness over the set in place of the
/// per-rollout one. One function for a batch run and for a sweep point's one-seed cells, so
/// the two agree bit for bit.
pub fn summarise_seeds(scenario: &Scenario, values: impl Fn(Metric) -> Vec<f64>) -> Summaries {
    let mut summary =
        Summaries::from_metrics(Metric::ALL.iter().map(|&m| (m, summarise(&values(m)))));
    let returns = values(Metric::DiscountedReturn);
    let o = &scenario.objective;
    let weights = FitnessWeights {
        lambda_unsafe: o.lambda_unsafe,
        lambda_var: o.lambda_var,
    };
    let f = fitness(&returns, &values(Metric::ViolationScore), weights);
    summary.insert(Metric::Fitness, Summary::exact(f, returns.len()));
    summary
}

/// Run `spec.seeds` replicates of `policy` in `scenario`; `trace` keeps per-period team rows.
pub fn run_seeds(
    scenario: &Scenario,
    policy: &Policy,
    spec: &RunSpec,
    trace: bool,
) -> Result<RunResult, String> {
    let mut rows = Vec::new();
    let result = {
        let mut keep = |r: Vec<TeamRecord>| {
            rows.extend(r);
            Ok(())
        };
        let sink: Option<RowSink<'_>> = if trace { Some(&mut keep) } else { None };
        run_streamed(scenario, policy, spec, sink)?
    };
    Ok(RunResult {
        trace: rows,
        ..result
    })
}

/// As [`run_seeds`] with the trace on, each seed's rows handed to `rows` in seed order as soon
/// as its chunk of seeds (one per thread) is done, so memory holds a chunk's rows, never the
/// whole trace; the summary is that of [`run_seeds`], bit for bit, from the same one simulation.
pub fn run_seeds_traced(
    scenario: &Scenario,
    policy: &Policy,
    spec: &RunSpec,
    rows: &mut dyn FnMut(Vec<TeamRecord>) -> Result<(), String>,
) -> Result<RunResult, String> {
    run_streamed(scenario, policy, spec, Some(rows))
}

type RowSink<'a> = &'a mut dyn FnMut(Vec<TeamRecord>) -> Result<(), String>;

fn run_streamed(
    scenario: &Scenario,
    policy: &Policy,
    spec: &RunSpec,
    mut rows: Option<RowSink<'_>>,
) -> Result<RunResult, String> {
    scenario.validate().map_err(|e| e.to_string())?;
    spec.validate()?;
    let compiled = compiled(policy);
    let kernel = kernel(scenario)?;
    let rollout = Rollout {
        scenario,
        policy: &compiled,
        kernel: kernel.as_ref(),
    };
    let trace = rows.is_some();
    // Without a trace every seed runs at once; with one, a chunk of seeds per round.
    let chunk = if trace {
        rayon::current_num_threads().max(1)
    } else {
        spec.seeds.len().max(1)
    };
    let mut per_seed = Vec::with_capacity(spec.seeds.len());
    for seeds in spec.seeds.chunks(chunk) {
        let results: Vec<_> = seeds
            .par_iter()
            .map(|seed| rollout.run(*seed, spec.settings.horizon, spec.settings.objective, trace))
            .collect();
        for r in results {
            per_seed.push(r.metrics);
            if let Some(sink) = rows.as_mut() {
                sink(r.trace)?;
            }
        }
    }
    let summary = summarise_seeds(scenario, |m| per_seed.iter().map(|r| r.get(m)).collect());
    // In-range scenarios keep every number finite; a NaN or infinity here means the model
    // left its domain, and a result built on it must not pass for one.
    if let Some((name, s)) = summary
        .iter()
        .find(|(_, s)| !(s.mean.is_finite() && s.std.is_finite()))
    {
        return Err(format!(
            "the rollout produced a non-finite {name} (mean {}, sd {}): the scenario's values \
             are outside what the model can compute; bring them towards the defaults",
            s.mean, s.std
        ));
    }
    Ok(RunResult {
        spec: spec.clone(),
        per_seed,
        summary,
        trace: Vec::new(),
    })
}

/// What a kept compiled program is keyed by: the canonical hash and the schema's address.
type ProgramKey = (CanonicalHash, usize);

/// `policy` compiled, or the program this thread compiled last when `policy` has the same
/// canonical hash, already taken (the search hashes every program before it evaluates it, then
/// runs it on the screen, in full and on validation; issue 29). A policy nobody hashed is
/// compiled afresh: taking the hash costs more than compiling.
fn compiled(policy: &Policy) -> Rc<HospitalProgram> {
    thread_local! {
        static LAST: RefCell<Option<(ProgramKey, Rc<HospitalProgram>)>> =
            const { RefCell::new(None) };
    }
    let Some(hash) = policy.kept_canonical_hash() else {
        return Rc::new(HospitalProgram::new(policy));
    };
    // The schema the program was compiled against is part of the key, with the hash.
    let key = (hash, Arc::as_ptr(policy.schema()) as usize);
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match last.as_ref() {
            Some((seen, program)) if *seen == key => Rc::clone(program),
            _ => {
                let program = Rc::new(HospitalProgram::new(policy));
                *last = Some((key, Rc::clone(&program)));
                program
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program compiled for one policy is never run for another: after the baseline, a
    /// policy one constant away gives what it gives on a fresh thread, and so does the
    /// baseline after it (both hashed, so the kept program is consulted).
    #[test]
    fn a_kept_program_serves_only_its_own_policy() {
        let scenario = Scenario::default();
        let base = crate::baseline().clone();
        let mut other = base.clone();
        other.fix(crate::Field::Alpha, 0.95);
        assert_ne!(base.canonical_hash(), other.canonical_hash());
        let spec = crate::run_spec(vec![1, 2], 40, crate::ObjectiveKind::Mixed);
        let run = |p: &Policy| {
            serde_json::to_string(&run_seeds(&scenario, p, &spec, false).unwrap().summary).unwrap()
        };
        let fresh = |p: &Policy| std::thread::scope(|s| s.spawn(|| run(p)).join().unwrap());
        let (base_fresh, other_fresh) = (fresh(&base), fresh(&other));
        assert_ne!(
            base_fresh, other_fresh,
            "α must move the summary for this test to bite"
        );
        for _ in 0..2 {
            assert_eq!(run(&base), base_fresh);
            assert_eq!(run(&other), other_fresh);
        }
    }

    /// The streamed trace is one simulation: its rows are the whole-run trace's, in order, its
    /// summary the untraced run's, bit for bit, over more seeds than one chunk holds.
    #[test]
    fn a_streamed_trace_is_the_traced_run_and_its_summary_the_plain_one() {
        let scenario = Scenario::default();
        let policy = crate::baseline();
        let seeds: Vec<u64> = (1..=(2 * rayon::current_num_threads() as u64 + 1)).collect();
        let spec = crate::run_spec(seeds, 40, crate::ObjectiveKind::Mixed);
        let whole = run_seeds(&scenario, policy, &spec, true).unwrap();
        let plain = run_seeds(&scenario, policy, &spec, false).unwrap();
        let (mut rows, mut calls) = (Vec::new(), 0);
        let streamed = run_seeds_traced(&scenario, policy, &spec, &mut |r| {
            calls += 1;
            rows.extend(r);
            Ok(())
        })
        .unwrap();
        assert_eq!(calls, spec.seeds.len());
        assert_eq!(rows.len(), whole.trace.len());
        assert!(rows
            .iter()
            .zip(&whole.trace)
            .all(|(a, b)| format!("{a:?}") == format!("{b:?}")));
        assert_eq!(streamed.summary, plain.summary);
        assert!(plain.trace.is_empty() && streamed.trace.is_empty());
    }
}
