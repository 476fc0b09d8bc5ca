//! Provider models: the myopic optimiser (a mixed-integer program over the panel each year,
//! `good_lp` with `microlp`), the exact dynamic-programming optimum of the per-patient MDP
//! (value iteration), and tabular Q-learning over (health state, treatment).

use crate::disease::DiseaseModel;
use crate::payment::Payment;
use crate::PanelError;
use good_lp::{constraint, microlp, variable, Expression, Solution, SolverModel, Variable};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// Which provider decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    /// One-step profit maximiser over the whole panel (the paper's CPLEX MILP).
    Myopic,
    /// Q-learning on the per-patient MDP.
    Qlearning,
    /// The exact optimum of the per-patient MDP (value iteration).
    Optimal,
}

/// Q-learning's settings (the paper leaves them open; docs/panel.md gives the reasons).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QLearning {
    /// ε of the ε-greedy behaviour policy while training.
    pub epsilon: f64,
    /// Learning rate 1 / n(s, a)^power, n the visits of (s, a): power in (0.5, 1] meets the
    /// Robbins–Monro conditions; at γ = 0 the first visit already gives the exact value.
    pub learning_rate_power: f64,
    /// Training runs per convergence check.
    pub batch: usize,
    /// Converged when the greedy policy is unchanged and no Q-value moved more than
    /// `tolerance` (relative to the largest |Q|) over this many consecutive batches.
    pub stable_batches: usize,
    pub tolerance: f64,
    /// The most training runs (each a panel of `patients` over `years`).
    pub max_runs: usize,
}

impl Default for QLearning {
    fn default() -> Self {
        QLearning {
            epsilon: 0.2,
            learning_rate_power: 0.8,
            batch: 20,
            stable_batches: 5,
            tolerance: 5e-4,
            max_runs: 50_000,
        }
    }
}

/// The most Q-learning training runs (the default is 50,000; the total work bound of a panel
/// simulation counts them too, `sim::MAX_PATIENT_YEARS`).
pub const MAX_TRAINING_RUNS: usize = 10_000_000;

/// The provider: its kind, discount γ (for the MDP providers), appointment capacity per year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSpec {
    pub kind: ProviderKind,
    pub gamma: f64,
    /// Appointment slots per year; the myopic MILP's constraint (1).
    pub capacity: f64,
    pub qlearning: QLearning,
}

impl Default for ProviderSpec {
    fn default() -> Self {
        ProviderSpec {
            kind: ProviderKind::Myopic,
            gamma: 0.0,
            capacity: 1e9,
            qlearning: QLearning::default(),
        }
    }
}

impl ProviderSpec {
    pub fn validate(&self, payment: &Payment) -> Result<(), PanelError> {
        if !(0.0..1.0).contains(&self.gamma) {
            return Err(PanelError::Invalid {
                key: "gamma".into(),
                message: format!("{} is outside [0, 1)", self.gamma),
            });
        }
        if self.capacity.is_nan() || self.capacity < 0.0 {
            return Err(PanelError::Invalid {
                key: "capacity".into(),
                message: format!("{} must be ≥ 0", self.capacity),
            });
        }
        let q = &self.qlearning;
        let power_ok = q.learning_rate_power > 0.5 && q.learning_rate_power <= 1.0;
        let counts_ok = (1..=q.max_runs).contains(&q.batch)
            && q.max_runs <= MAX_TRAINING_RUNS
            && (1..=q.max_runs).contains(&q.stable_batches);
        if !((0.0..=1.0).contains(&q.epsilon)
            && power_ok
            && (0.0..=1.0).contains(&q.tolerance)
            && counts_ok)
        {
            return Err(PanelError::Invalid {
                key: "qlearning".into(),
                message: format!(
                    "epsilon in [0, 1], learning_rate_power in (0.5, 1], tolerance in [0, 1] \
                     (relative to the largest |Q|), max_runs in 1..={MAX_TRAINING_RUNS}, batch \
                     and stable_batches in 1..=max_runs"
                ),
            });
        }
        if self.kind != ProviderKind::Myopic && !payment.is_linear() {
            return Err(PanelError::Invalid {
                key: "provider".into(),
                message: format!(
                    "the per-patient MDP is exact only when the reward rate equals the penalty rate (got {} and {}): the panel's bonus then splits into per-patient bonuses; use the myopic provider",
                    payment.reward_rate, payment.penalty_rate
                ),
            });
        }
        if self.kind == ProviderKind::Myopic && self.gamma != 0.0 {
            return Err(PanelError::Invalid {
                key: "gamma".into(),
                message:
                    "the myopic provider looks one year ahead; γ belongs to qlearning and optimal"
                        .into(),
            });
        }
        Ok(())
    }
}

/// The per-patient one-year profit of treatment `k` in state `m` when shared risk is linear
/// (rate ρ): `(1 − ρ) v − (1 − margin) f − ρ E[complication cost]`, dropping the constant
/// ρ·(reference share), which moves no decision.
pub fn patient_reward(d: &dyn DiseaseModel, pay: &Payment, m: usize, k: usize) -> f64 {
    // The dead get no care and earn nothing.
    if d.is_dead(m) {
        return 0.0;
    }
    let f = d.treatments()[k].fee;
    let rho = pay.reward_rate;
    (1.0 - rho) * pay.prevention(m, k, f)
        - (1.0 - pay.margin) * f
        - rho * d.expected_complication_cost(m, k)
}

/// The per-patient MDP's reward table `u[m][k]`.
pub fn reward_table(d: &dyn DiseaseModel, pay: &Payment) -> Vec<Vec<f64>> {
    (0..d.states().len())
        .map(|m| {
            (0..d.treatments().len())
                .map(|k| patient_reward(d, pay, m, k))
                .collect()
        })
        .collect()
}

fn argmax(q: &[f64]) -> usize {
    // Ties to the lowest index (the least intensive treatment when listed by intensity).
    q.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |b, (k, v)| {
            if *v > b.1 + 1e-12 {
                (k, *v)
            } else {
                b
            }
        })
        .0
}

/// The most value-iteration work one optimal policy may take: sweeps × states² × treatments
/// (about a nanosecond each: five seconds). Sweeps grow as 1/(1 − γ): a 127-state ×
/// 64-treatment model took 3 s at γ = 0.99, 20 s at 0.999, and ran on unbounded at 0.9999.
pub const MAX_VALUE_ITERATION_WORK: u64 = 5_000_000_000;

/// Value iteration on the per-patient MDP: the optimal stationary policy and Q-values. A
/// model and discount that do not converge within [`MAX_VALUE_ITERATION_WORK`] (or 100,000
/// sweeps) are refused, naming γ: the policy of an unconverged table is not the optimum.
pub fn optimal_policy(
    d: &dyn DiseaseModel,
    pay: &Payment,
    gamma: f64,
) -> Result<(Vec<usize>, Vec<Vec<f64>>), PanelError> {
    let u = reward_table(d, pay);
    let (n, kk) = (u.len(), u[0].len());
    let per_sweep = (n * n * kk).max(1) as u64;
    let sweeps = (MAX_VALUE_ITERATION_WORK / per_sweep).clamp(1, 100_000);
    let mut v = vec![0.0; n];
    let mut q = u.clone();
    let mut converged = false;
    for _ in 0..sweeps {
        for m in 0..n {
            for k in 0..kk {
                q[m][k] = u[m][k]
                    + gamma
                        * d.transition(m, k)
                            .iter()
                            .zip(&v)
                            .map(|(p, x)| p * x)
                            .sum::<f64>();
            }
        }
        let next: Vec<f64> = q.iter().map(|r| r[argmax(r)]).collect();
        let delta = next
            .iter()
            .zip(&v)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        v = next;
        if delta < 1e-11 {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(PanelError::Invalid {
            key: "gamma".into(),
            message: format!(
                "value iteration did not converge within {sweeps} sweeps of this {n}-state × \
                 {kk}-treatment model at γ = {gamma} (sweeps grow as 1/(1 − γ)); use a \
                 smaller γ or a smaller model"
            ),
        });
    }
    Ok((q.iter().map(|r| argmax(r)).collect(), q))
}

/// Q-learning's result: the greedy policy, the table, how many runs it trained.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Learned {
    pub policy: Vec<usize>,
    pub q: Vec<Vec<f64>>,
    pub training_runs: usize,
    pub converged: bool,
}

/// Train Q(s, a) by Q-learning on simulated panels. The provider knows its expected
/// one-year profit of each (state, treatment) — its fees, costs and the payer's formula — and
/// learns the dynamics from sampled transitions. Exploring starts (each training patient
/// starts in a uniformly drawn state) and ε-greedy behaviour visit every pair.
pub fn q_learning(
    d: &dyn DiseaseModel,
    pay: &Payment,
    spec: &ProviderSpec,
    patients: usize,
    years: usize,
    seed: u64,
) -> Learned {
    let cfg = &spec.qlearning;
    let u = reward_table(d, pay);
    let (n, kk) = (u.len(), u[0].len());
    let mut q = vec![vec![0.0; kk]; n];
    let mut visits = vec![vec![0u64; kk]; n];
    let mut stable = 0;
    let mut last_policy: Vec<usize> = vec![usize::MAX; n];
    let mut runs = 0;
    while runs < cfg.max_runs {
        let before = q.clone();
        for _ in 0..cfg.batch {
            let mut rng = medisim_core::rng::stream(seed, runs as u64, crate::PURPOSE_TRAINING);
            runs += 1;
            for _ in 0..patients {
                let mut s = rng.gen_range(0..n);
                for _ in 0..years {
                    let a = if rng.gen::<f64>() < cfg.epsilon {
                        rng.gen_range(0..kk)
                    } else {
                        argmax(&q[s])
                    };
                    let next = crate::disease::draw(d.transition(s, a), rng.gen::<f64>());
                    visits[s][a] += 1;
                    let lr = 1.0 / (visits[s][a] as f64).powf(cfg.learning_rate_power);
                    let target = u[s][a] + spec.gamma * q[next][argmax(&q[next])];
                    q[s][a] += lr * (target - q[s][a]);
                    s = next;
                }
            }
        }
        let policy: Vec<usize> = q.iter().map(|r| argmax(r)).collect();
        let scale = q.iter().flatten().fold(1.0f64, |a, x| a.max(x.abs()));
        let moved = q
            .iter()
            .flatten()
            .zip(before.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        if policy == last_policy && moved <= cfg.tolerance * scale {
            stable += 1;
        } else {
            stable = 0;
        }
        last_policy = policy;
        if stable >= cfg.stable_batches {
            return Learned {
                policy: last_policy,
                q,
                training_runs: runs,
                converged: true,
            };
        }
    }
    Learned {
        policy: last_policy,
        q,
        training_runs: runs,
        converged: false,
    }
}

/// The myopic provider: each year, the treatment counts per state that maximise expected
/// profit over the panel subject to appointment capacity, as a MILP (integer patients per
/// (state, treatment); the shared-risk kink solved one side at a time). Decisions
/// depend only on the panel's state counts, so they are cached by them.
pub struct Myopic<'a> {
    d: &'a dyn DiseaseModel,
    pay: &'a Payment,
    capacity: f64,
    /// The panel's size, when the shared-risk reference shrinks with the living.
    patients: Option<usize>,
    cache: Mutex<HashMap<Vec<usize>, Vec<Vec<usize>>>>,
}

impl<'a> Myopic<'a> {
    pub fn new(d: &'a dyn DiseaseModel, pay: &'a Payment, capacity: f64) -> Self {
        Myopic {
            d,
            pay,
            capacity,
            patients: None,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The provider of a panel of `patients`: the shared-risk reference of a year is the
    /// living's share of it ([`Payment::reference_for`]).
    pub fn for_panel(
        d: &'a dyn DiseaseModel,
        pay: &'a Payment,
        capacity: f64,
        patients: usize,
    ) -> Self {
        Myopic {
            patients: Some(patients),
            ..Myopic::new(d, pay, capacity)
        }
    }

    /// The reference of a year with these state counts.
    fn reference(&self, counts: &[usize]) -> f64 {
        match self.patients {
            Some(n) => self.pay.reference_for(counts.iter().sum(), n),
            None => self.pay.reference,
        }
    }

    /// How many patients in each state get each treatment this year: `y[m][k]`.
    pub fn decide(&self, counts: &[usize]) -> Result<Vec<Vec<usize>>, PanelError> {
        if let Some(y) = self.cache.lock().expect("no poisoned cache").get(counts) {
            return Ok(y.clone());
        }
        let y = self.solve(counts)?;
        self.cache
            .lock()
            .expect("no poisoned cache")
            .insert(counts.to_vec(), y.clone());
        Ok(y)
    }

    /// The year's profit is `Σ a·y + transfer(Q)` with `Q = Σ (v + e)·y` and a transfer that
    /// is linear on each side of the reference `R`. So the best plan is the better of two
    /// integer programs, one per side, each with a linear objective: `Q ≤ R` earning
    /// `ρ_reward·(R − Q)` and `Q ≥ R` paying `ρ_penalty·(Q − R)`. A single MILP would need a
    /// binary and a big-M of the panel's whole cost, which loses the simplex's precision (and
    /// tripped microlp's own assertions) once costs reach 10⁹.
    fn solve(&self, counts: &[usize]) -> Result<Vec<Vec<usize>>, PanelError> {
        let pay = self.pay;
        if pay.reward_rate == 0.0 && pay.penalty_rate == 0.0 {
            return self.solve_side(counts, None).map(|(y, _)| y);
        }
        let below = self.solve_side(counts, Some(Side::Below));
        let above = self.solve_side(counts, Some(Side::Above));
        // A side with no feasible plan leaves the other; a side that ran past the node limit
        // is no answer at all (its best plan might have won).
        let too_hard = |r: &Result<_, PanelError>| matches!(r, Err(PanelError::Invalid { key, .. }) if key == "reference");
        if too_hard(&below) {
            return below.map(|(y, _)| y);
        }
        if too_hard(&above) {
            return above.map(|(y, _)| y);
        }
        match (below, above) {
            (Ok((yb, pb)), Ok((ya, pa))) => Ok(if pb >= pa { yb } else { ya }),
            (Ok((y, _)), Err(_)) | (Err(_), Ok((y, _))) => Ok(y),
            (Err(e), Err(_)) => Err(e),
        }
    }

    /// The best plan on one side of the reference (or with no shared risk), and its profit.
    fn solve_side(
        &self,
        counts: &[usize],
        side: Option<Side>,
    ) -> Result<(Vec<Vec<usize>>, f64), PanelError> {
        let (d, pay) = (self.d, self.pay);
        let reference = self.reference(counts);
        let kk = d.treatments().len();
        let mut vars = good_lp::variables!();
        let y: Vec<Vec<Variable>> = counts
            .iter()
            .map(|n| {
                (0..kk)
                    .map(|_| vars.add(variable().integer().min(0.0).max(*n as f64)))
                    .collect()
            })
            .collect();
        // On a side the transfer is `rate·(R − Q)`: the constant `rate·R` is added after.
        let rate = match side {
            None => 0.0,
            Some(Side::Below) => pay.reward_rate,
            Some(Side::Above) => pay.penalty_rate,
        };
        let mut profit = Expression::from(0.0);
        let mut cost_q = Expression::from(0.0);
        let mut visits = Expression::from(0.0);
        for (m, row) in y.iter().enumerate() {
            for (k, var) in row.iter().enumerate() {
                let t = &d.treatments()[k];
                let v = pay.prevention(m, k, t.fee);
                let ec = d.expected_complication_cost(m, k);
                // A millionth of a dollar per treatment index breaks exact ties toward the
                // first-listed (least intensive) treatment, as the MDP providers' argmax does.
                let own = v - (1.0 - pay.margin) * t.fee - 1e-6 * k as f64;
                profit += (own - rate * (v + ec)) * *var;
                cost_q += (v + ec) * *var;
                visits += t.visits * *var;
            }
        }
        let mut model = vars.maximise(&profit).using(microlp);
        for (m, row) in y.iter().enumerate() {
            let total: Expression = row.iter().map(|v| Expression::from(*v)).sum();
            model = model.with(constraint!(total == counts[m] as f64));
        }
        model = model.with(constraint!(visits <= self.capacity));
        match side {
            Some(Side::Below) => model = model.with(constraint!(cost_q <= reference)),
            Some(Side::Above) => model = model.with(constraint!(cost_q >= reference)),
            None => {}
        }
        let sol = self.bounded_solve(&model, &y, counts, side)?;
        let plan = y
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| sol.value(*v).round().max(0.0) as usize)
                    .collect()
            })
            .collect();
        Ok((plan, sol.eval(&profit) + rate * reference))
    }

    /// Solve `model` (built by good_lp, whose variables are `y` in order) with microlp's
    /// branch and bound limited by [`MAX_NODE_WORK`], deterministically: without a limit a
    /// reference near the panel's cost ran for minutes and took gigabytes. The solve is the
    /// one good_lp makes (same problem, same options), so plans are unchanged where it ends.
    fn bounded_solve(
        &self,
        model: &good_lp::solvers::microlp::MicroLpProblem,
        y: &[Vec<Variable>],
        counts: &[usize],
        side: Option<Side>,
    ) -> Result<Values, PanelError> {
        let mut options = microlp::SolveOptions::default();
        options.node_limit = Some(self.node_limit());
        let outcome = model
            .as_inner()
            .solve_with(options)
            .map_err(|e| self.failure(counts, e.into()))?;
        let proven = outcome.termination_reason() == microlp::TerminationReason::ProvenOptimal;
        let solution = match outcome.into_solution() {
            Ok(s) if proven => s,
            _ => return Err(self.too_hard(counts, side)),
        };
        let values = y
            .iter()
            .flatten()
            .copied()
            .zip(solution.iter().map(|(_, v)| v));
        Ok(Values(values.collect()))
    }

    /// The branch-and-bound nodes one program may take: [`MAX_NODE_WORK`] over its variables.
    fn node_limit(&self) -> u64 {
        let variables = self.d.states().len() * self.d.treatments().len();
        MAX_NODE_WORK / variables.max(1) as u64
    }

    /// The node limit, in the inputs' terms: where the shared-risk reference lies, many plans
    /// cost nearly the same, and proving the best of them is what runs away.
    fn too_hard(&self, counts: &[usize], side: Option<Side>) -> PanelError {
        let patients = counts.iter().sum::<usize>();
        let limit = format!(
            "the myopic provider's plan for {patients} patients was not proven best within \
             {} branch-and-bound nodes",
            self.node_limit()
        );
        match side {
            Some(_) => PanelError::Invalid {
                key: "reference".into(),
                message: format!(
                    "{limit}: at {} dollars many plans cost nearly the reference; move it \
                     away from the panel's yearly cost, or use fewer patients",
                    self.pay.reference
                ),
            },
            None => PanelError::Solver(format!("{limit}; use fewer patients")),
        }
    }

    /// Why the myopic program failed, in the inputs' terms: the capacity when even the least
    /// demanding treatment for everyone overruns it, else the solver's own words.
    fn failure(&self, counts: &[usize], e: good_lp::ResolutionError) -> PanelError {
        let least = self
            .d
            .treatments()
            .iter()
            .map(|t| t.visits)
            .fold(f64::INFINITY, f64::min);
        let need = counts.iter().sum::<usize>() as f64 * least;
        if need > self.capacity {
            return PanelError::Invalid {
                key: "capacity".into(),
                message: format!(
                    "{} appointments cannot serve {} patients at the least demanding treatment \
                     ({least} visits each: {need} needed)",
                    self.capacity,
                    counts.iter().sum::<usize>()
                ),
            };
        }
        PanelError::Solver(format!(
            "the myopic MILP for state counts {counts:?} has no solution ({e})"
        ))
    }
}

/// The most branch-and-bound work one myopic program may take: nodes × integer variables
/// (states × treatments). Each open node holds a copy of the program, so memory grows with
/// both: the built-in model (6 states × 4 treatments) gets 166,666 nodes (3.8 s and 89 MB
/// where a reference of 100,000 dollars ran on for minutes), a 20-state × 8-treatment file
/// 25,000 (0.3 s, 308 MB; it took 3.1 GB at 200,000 nodes, and aborted unbounded).
pub const MAX_NODE_WORK: u64 = 4_000_000;

/// A solved program's values by good_lp variable, read the way good_lp reads its own.
struct Values(HashMap<Variable, f64>);

impl Solution for Values {
    fn status(&self) -> good_lp::SolutionStatus {
        good_lp::SolutionStatus::Optimal
    }

    fn value(&self, variable: Variable) -> f64 {
        self.0.get(&variable).copied().unwrap_or(0.0)
    }
}

/// Which side of the shared-risk reference a myopic plan's total cost lies on.
#[derive(Clone, Copy)]
enum Side {
    Below,
    Above,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disease::{Retinopathy, NON_PROLIFERATIVE, NO_RETINOPATHY, PROLIFERATIVE};

    fn shared(rho: f64, margin: f64) -> Payment {
        Payment {
            reward_rate: rho,
            penalty_rate: rho,
            margin,
            ..Default::default()
        }
    }

    /// With linear shared risk the myopic MILP decides each patient by the per-patient reward,
    /// so it picks the per-state argmax — the γ = 0 optimum.
    #[test]
    fn the_myopic_milp_equals_the_per_patient_optimum_when_shared_risk_is_linear() {
        let d = Retinopathy::default();
        for (rho, margin) in [(0.2, 0.4), (0.45, 0.4), (0.55, 0.3), (0.7, 0.5)] {
            let pay = shared(rho, margin);
            let (policy, _) = optimal_policy(&d, &pay, 0.0).unwrap();
            let my = Myopic::new(&d, &pay, 1e9);
            let y = my.decide(&[3, 3, 2, 1, 1, 0]).unwrap();
            for (m, row) in y.iter().enumerate().take(5) {
                assert_eq!(
                    row[policy[m]],
                    [3, 3, 2, 1, 1][m],
                    "ρ {rho} μ {margin} state {m}: {y:?}"
                );
            }
        }
    }

    #[test]
    fn capacity_binds_the_myopic_choice() {
        let d = Retinopathy::default();
        let pay = Payment::default();
        // FFS, unbounded: everyone at the most intensive (6 visits).
        let y = Myopic::new(&d, &pay, 1e9)
            .decide(&[10, 0, 0, 0, 0, 0])
            .unwrap();
        assert_eq!(y[0][3], 10);
        // 40 slots: 10 patients × 6 visits do not fit.
        let y = Myopic::new(&d, &pay, 40.0)
            .decide(&[10, 0, 0, 0, 0, 0])
            .unwrap();
        let used: f64 = (0..4)
            .map(|k| y[0][k] as f64 * d.treatments()[k].visits)
            .sum();
        assert!(used <= 40.0 && y[0][3] < 10, "{y:?}");
        assert!(Myopic::new(&d, &pay, 5.0)
            .decide(&[10, 0, 0, 0, 0, 0])
            .is_err());
    }

    #[test]
    fn the_switch_point_is_the_margin_in_the_state_without_immediate_risk() {
        let d = Retinopathy::default();
        for margin in [0.3, 0.4, 0.5] {
            let below = optimal_policy(&d, &shared(margin - 0.02, margin), 0.0)
                .unwrap()
                .0;
            let above = optimal_policy(&d, &shared(margin + 0.02, margin), 0.0)
                .unwrap()
                .0;
            assert_eq!(below[NO_RETINOPATHY], 3, "μ {margin}");
            assert_eq!(above[NO_RETINOPATHY], 0, "μ {margin}");
            // The states that risk an immediate complication keep the intensive treatment.
            assert_eq!(above[NON_PROLIFERATIVE], 3);
            assert_eq!(above[PROLIFERATIVE], 3);
        }
    }

    #[test]
    fn q_learning_approaches_the_dynamic_programming_optimum() {
        let d = Retinopathy::default();
        let pay = shared(0.5, 0.4);
        for gamma in [0.0, 0.5] {
            let spec = ProviderSpec {
                kind: ProviderKind::Qlearning,
                gamma,
                ..Default::default()
            };
            let learned = q_learning(&d, &pay, &spec, 10, 15, 7);
            let (policy, q) = optimal_policy(&d, &pay, gamma).unwrap();
            assert!(
                learned.converged,
                "γ {gamma}: {} runs",
                learned.training_runs
            );
            eprintln!("γ {gamma}: converged in {} runs", learned.training_runs);
            assert_eq!(learned.policy, policy, "γ {gamma}");
            let worst = learned
                .q
                .iter()
                .flatten()
                .zip(q.iter().flatten())
                .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
                .fold(0.0, f64::max);
            assert!(worst < 0.05, "γ {gamma}: Q within {worst}");
        }
    }

    /// Where the optimum is a near tie (lookahead's No Retinopathy choice: MM-0/SMT-1 beats
    /// MM-0/SMT-0 by 0.3–1.8 of a value near −130), sampling noise can still flip Q-learning's
    /// choice: over 20 seeds × 3 margins it learns the exact optimum in at least 55 of 60
    /// (59 measured; docs/panel.md).
    #[test]
    fn q_learning_learns_the_exact_lookahead_policy_on_nearly_every_seed() {
        let d = Retinopathy::default();
        let mut hits = 0;
        for margin in [0.3, 0.4, 0.5] {
            let pay = shared(margin + 0.1, margin);
            let (policy, _) = optimal_policy(&d, &pay, 0.5).unwrap();
            for seed in 600..620 {
                let spec = ProviderSpec {
                    kind: ProviderKind::Qlearning,
                    gamma: 0.5,
                    ..Default::default()
                };
                let l = q_learning(&d, &pay, &spec, 10, 15, seed);
                hits += usize::from(l.converged && l.policy == policy);
            }
        }
        assert!(hits >= 55, "{hits} of 60");
    }

    #[test]
    fn the_mdp_providers_refuse_a_kinked_contract() {
        let pay = Payment {
            reward_rate: 0.5,
            penalty_rate: 0.2,
            ..Default::default()
        };
        let spec = ProviderSpec {
            kind: ProviderKind::Optimal,
            ..Default::default()
        };
        let e = spec.validate(&pay).unwrap_err().to_string();
        assert!(e.contains("reward rate equals the penalty rate"), "{e}");
    }
}
