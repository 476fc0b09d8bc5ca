//! The yearly Identify–Treat–Settle loop over a panel, replicated over runs in parallel. Each
//! run draws every patient-year's transition from its own stream keyed by (seed, run), one
//! uniform per patient-year whatever the provider decides, so two contracts compared on one
//! seed see the same patients (common random numbers) and results do not depend on threads.

use crate::disease::{draw, DiseaseModel};
use crate::model::PanelMetric;
use crate::outcomes::Outcomes;
use crate::payment::Settlement;
use crate::provider::{optimal_policy, q_learning, Learned, Myopic, ProviderKind};
use crate::{PanelConfig, PanelError, PURPOSE_DISEASE};
use medisim_core::stats::summarise;
use medisim_core::Summaries;
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One run's totals over the horizon.
#[derive(Clone, Debug, Default)]
struct RunTotals {
    year: Vec<Settlement>,
    complications: usize,
    patient_years: usize,
    max_intensity: usize,
    min_intensity: usize,
    /// mix[state][treatment]: patient-years.
    mix: Vec<Vec<usize>>,
    /// occupancy[year][state] at the start of each year.
    occupancy: Vec<Vec<usize>>,
    /// The premium per patient-year alive.
    premium_rate: f64,
    /// The fee value of the care delivered (under capitation, what FFS would have paid).
    delivered: f64,
    /// Cycle-corrected life-years, discounted QALYs, running costs (undiscounted) and the
    /// payer's whole cost discounted.
    life_years: f64,
    qalys: f64,
    running: f64,
    discounted_cost: f64,
    /// The provider's profit discounted at the cost rate (what the payer would owe to keep a
    /// loss-making provider, in the units of `discounted_cost`).
    discounted_profit: f64,
}

impl RunTotals {
    /// The payer's premium income: a premium per patient-year alive (the dead pay none).
    fn premium(&self) -> f64 {
        self.premium_rate * self.patient_years as f64
    }

    /// Add the panel's state at cycle boundary `t` of `years` to the outcomes.
    fn add_boundary(
        &mut self,
        d: &dyn DiseaseModel,
        o: &Outcomes,
        states: &[usize],
        t: usize,
        years: usize,
    ) {
        let w = o.occupancy_weight(t, years);
        if w == 0.0 {
            return;
        }
        let (mut alive, mut utility, mut running) = (0.0, 0.0, 0.0);
        for s in states {
            alive += f64::from(u8::from(!d.is_dead(*s)));
            utility += d.utility(*s);
            running += d.running_cost(*s);
        }
        self.life_years += w * alive;
        self.qalys += w * o.effect_discount(t) * utility;
        self.running += w * running;
        self.discounted_cost += w * o.cost_discount(t) * running;
    }
}

/// The metrics reported for every run, by name, with how each is read off a run.
type Reader = fn(&RunTotals) -> f64;
const METRICS: [(PanelMetric, Reader); 20] = [
    (PanelMetric::TotalCost, |r| {
        r.year.iter().map(Settlement::total_cost).sum()
    }),
    (PanelMetric::PayerCost, |r| {
        r.year.iter().map(Settlement::total_cost).sum()
    }),
    (PanelMetric::Fees, |r| {
        r.year.iter().map(|s| s.prevention).sum()
    }),
    (PanelMetric::ComplicationsCost, |r| {
        r.year.iter().map(|s| s.complications).sum()
    }),
    (PanelMetric::SharedRiskTransfer, |r| {
        r.year.iter().map(|s| s.transfer).sum()
    }),
    (PanelMetric::ProviderRevenue, |r| {
        r.year.iter().map(Settlement::provider_revenue).sum()
    }),
    (PanelMetric::ProviderCost, |r| {
        r.year.iter().map(|s| s.provider_cost).sum()
    }),
    (PanelMetric::ProviderProfit, |r| {
        r.year.iter().map(Settlement::provider_profit).sum()
    }),
    (PanelMetric::PayerRevenue, RunTotals::premium),
    (PanelMetric::PayerMargin, |r| {
        r.premium() - r.year.iter().map(Settlement::total_cost).sum::<f64>()
    }),
    (PanelMetric::MedicalLossRatio, |r| {
        r.year.iter().map(Settlement::total_cost).sum::<f64>() / r.premium().max(f64::MIN_POSITIVE)
    }),
    (PanelMetric::Complications, |r| r.complications as f64),
    (PanelMetric::MaxIntensityShare, |r| {
        r.max_intensity as f64 / r.patient_years.max(1) as f64
    }),
    (PanelMetric::MinIntensityShare, |r| {
        r.min_intensity as f64 / r.patient_years.max(1) as f64
    }),
    (PanelMetric::CareDelivered, |r| r.delivered),
    (PanelMetric::LifeYears, |r| r.life_years),
    (PanelMetric::Qalys, |r| r.qalys),
    (PanelMetric::RunningCosts, |r| r.running),
    (PanelMetric::DiscountedCost, |r| r.discounted_cost),
    (PanelMetric::DiscountedProviderProfit, |r| {
        r.discounted_profit
    }),
];

/// One year of the horizon, averaged over runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct YearSummary {
    pub year: usize,
    pub total_cost: f64,
    pub fees: f64,
    pub complications_cost: f64,
    pub shared_risk_transfer: f64,
    pub provider_profit: f64,
    /// Share of patients in each state at the start of the year.
    pub state_distribution: Vec<f64>,
}

/// A panel simulation's results: each metric over runs (mean, 95% interval), the policy,
/// the treatment mix, the per-year path.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PanelResult {
    pub disease: String,
    pub runs: usize,
    #[serde(flatten)]
    pub metrics: Summaries,
    /// The treatment chosen in each state: the stationary policy of an MDP provider, the
    /// most frequent choice of the myopic one ("-" for a state never visited).
    pub policy: BTreeMap<String, String>,
    /// Share of each state's patient-years given each treatment.
    pub treatment_mix: BTreeMap<String, BTreeMap<String, f64>>,
    pub per_year: Vec<YearSummary>,
    /// Q-learning's training record, when the provider learned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<Learned>,
}

impl PanelResult {
    pub fn mean(&self, metric: PanelMetric) -> f64 {
        self.metrics.mean(metric)
    }
}

enum Decider<'a> {
    Panel(Myopic<'a>),
    Stationary(Vec<usize>),
}

/// Most patient-years one simulation may ask for: patients × years × (runs + Q-learning's most
/// training runs). At the bound a myopic or optimal provider takes about a second.
pub const MAX_PATIENT_YEARS: u128 = 100_000_000;

/// Q-learning's most training runs (0 for the other providers).
fn training_runs(cfg: &PanelConfig) -> u128 {
    match cfg.provider.kind {
        ProviderKind::Qlearning => cfg.provider.qlearning.max_runs as u128,
        _ => 0,
    }
}

/// The most patient-years simulating `runs` replicates of `cfg` can take, training included:
/// what [`MAX_PATIENT_YEARS`] bounds, for one simulation or a whole sweep.
pub fn patient_years(cfg: &PanelConfig, runs: usize) -> u128 {
    (cfg.patients as u128) * (cfg.years as u128) * (runs as u128 + training_runs(cfg))
}

/// Simulate the configured panel: its runs 0..runs-1.
pub fn run(d: &dyn DiseaseModel, cfg: &PanelConfig) -> Result<PanelResult, PanelError> {
    let runs: Vec<u64> = (0..cfg.runs as u64).collect();
    run_replicates(d, cfg, &runs)
}

/// Simulate the given runs of the configured panel (each its own stream, keyed by the
/// configuration's seed and the run); `cfg.runs` is not read.
pub fn run_replicates(
    d: &dyn DiseaseModel,
    cfg: &PanelConfig,
    replicates: &[u64],
) -> Result<PanelResult, PanelError> {
    // The payment program, if any, is resolved once, here.
    let contract = cfg.validated_contract(d)?;
    // The whole job, bounded before anything is allocated: each flag may be in its range while
    // together they ask for 10^14 patient-years.
    let training = training_runs(cfg);
    let work = patient_years(cfg, replicates.len());
    if work > MAX_PATIENT_YEARS {
        let (key, runs_text) = if training > 0 {
            (
                "patients × years × (runs + qlearning.max_runs)",
                format!("({} + {training})", replicates.len()),
            )
        } else {
            ("patients × years × runs", replicates.len().to_string())
        };
        return Err(PanelError::Invalid {
            key: key.into(),
            message: format!(
                "{} × {} × {runs_text} = {work} patient-years; at most {MAX_PATIENT_YEARS} \
                 in one run",
                cfg.patients, cfg.years
            ),
        });
    }
    let pay = &contract;
    let spec = &cfg.provider;
    let mut training = None;
    let decider = match spec.kind {
        ProviderKind::Myopic => {
            Decider::Panel(Myopic::for_panel(d, pay, spec.capacity, cfg.patients))
        }
        ProviderKind::Optimal => Decider::Stationary(optimal_policy(d, pay, spec.gamma)?.0),
        ProviderKind::Qlearning => {
            let l = q_learning(d, pay, spec, cfg.patients, cfg.years, cfg.seed);
            let p = l.policy.clone();
            training = Some(l);
            Decider::Stationary(p)
        }
    };
    let fees: Vec<f64> = d.treatments().iter().map(|t| t.fee).collect();
    let most = (0..fees.len()).fold(0, |b, k| if fees[k] > fees[b] { k } else { b });
    let least = (0..fees.len()).fold(0, |b, k| if fees[k] < fees[b] { k } else { b });
    let (n_states, n_treat) = (d.states().len(), fees.len());
    let runs: Vec<RunTotals> = replicates
        .par_iter()
        .map(|r| {
            let mut rng = medisim_core::rng::stream(cfg.seed, *r, PURPOSE_DISEASE);
            let mut states = vec![d.initial_state(); cfg.patients];
            let mut t = RunTotals {
                mix: vec![vec![0; n_treat]; n_states],
                premium_rate: cfg.premium,
                ..Default::default()
            };
            let mut chosen = vec![0usize; cfg.patients];
            let mut living = vec![0usize; n_states];
            for year in 0..cfg.years {
                t.add_boundary(d, &cfg.outcomes, &states, year, cfg.years);
                let mut counts = vec![0usize; n_states];
                for s in &states {
                    counts[*s] += 1;
                }
                // The dead get no care: the provider plans for the living.
                for (m, l) in living.iter_mut().enumerate() {
                    *l = if d.is_dead(m) { 0 } else { counts[m] };
                }
                match &decider {
                    Decider::Stationary(p) => {
                        for (c, s) in chosen.iter_mut().zip(&states) {
                            *c = p[*s];
                        }
                    }
                    Decider::Panel(my) => {
                        // Patients of one state take the MILP's counts in panel order.
                        let mut y = my.decide(&living)?;
                        for (c, s) in chosen.iter_mut().zip(&states) {
                            if d.is_dead(*s) {
                                continue;
                            }
                            let k = y[*s].iter().position(|n| *n > 0).unwrap_or(0);
                            y[*s][k] -= 1;
                            *c = k;
                        }
                    }
                }
                let (mut prevention, mut cost, mut compl) = (0.0, 0.0, 0.0);
                for (s, k) in states.iter_mut().zip(&chosen) {
                    if d.is_dead(*s) {
                        continue;
                    }
                    prevention += pay.prevention(*s, *k, fees[*k]);
                    cost += (1.0 - pay.margin) * fees[*k];
                    t.delivered += fees[*k];
                    t.mix[*s][*k] += 1;
                    t.patient_years += 1;
                    t.max_intensity += usize::from(*k == most);
                    t.min_intensity += usize::from(*k == least);
                    let next = draw(d.transition(*s, *k), rng.gen::<f64>());
                    if next != *s && d.is_complication(next) {
                        compl += d.entry_cost(next);
                        t.complications += 1;
                    }
                    *s = next;
                }
                t.occupancy.push(counts);
                let alive = living.iter().sum();
                let reference = pay.reference_for(alive, cfg.patients);
                let settled = pay.settle_against(reference, prevention, compl, cost);
                t.discounted_cost += cfg.outcomes.cost_discount(year) * settled.total_cost();
                t.discounted_profit += cfg.outcomes.cost_discount(year) * settled.provider_profit();
                t.year.push(settled);
            }
            t.add_boundary(d, &cfg.outcomes, &states, cfg.years, cfg.years);
            Ok(t)
        })
        .collect::<Result<_, PanelError>>()?;
    Ok(summarise_runs(d, cfg, &runs, &decider, training))
}

fn summarise_runs(
    d: &dyn DiseaseModel,
    cfg: &PanelConfig,
    runs: &[RunTotals],
    decider: &Decider,
    training: Option<Learned>,
) -> PanelResult {
    let mut metrics = Summaries::new();
    for (m, read) in &METRICS {
        let xs: Vec<f64> = runs.iter().map(read).collect();
        metrics.insert(*m, summarise(&xs));
    }
    let names = d.states();
    let tnames: Vec<&str> = d.treatments().iter().map(|t| t.name.as_str()).collect();
    let mut mix = vec![vec![0usize; tnames.len()]; names.len()];
    for r in runs {
        for (m, row) in r.mix.iter().enumerate() {
            for (k, c) in row.iter().enumerate() {
                mix[m][k] += c;
            }
        }
    }
    let policy = names
        .iter()
        .enumerate()
        .map(|(m, s)| {
            let name = match decider {
                _ if d.is_dead(m) => "-".into(),
                Decider::Stationary(p) => tnames[p[m]].to_string(),
                Decider::Panel(_) => {
                    let row = &mix[m];
                    if row.iter().all(|c| *c == 0) {
                        "-".into()
                    } else {
                        let k = (0..row.len()).fold(0, |b, k| if row[k] > row[b] { k } else { b });
                        tnames[k].to_string()
                    }
                }
            };
            (s.clone(), name)
        })
        .collect();
    let treatment_mix = names
        .iter()
        .enumerate()
        .map(|(m, s)| {
            let total: usize = mix[m].iter().sum();
            let shares = tnames
                .iter()
                .zip(&mix[m])
                .map(|(t, c)| (t.to_string(), *c as f64 / total.max(1) as f64))
                .collect();
            (s.clone(), shares)
        })
        .collect();
    let k = runs.len().max(1) as f64;
    let per_year = (0..cfg.years)
        .map(|y| {
            let avg = |f: &dyn Fn(&Settlement) -> f64| {
                runs.iter().map(|r| f(&r.year[y])).sum::<f64>() / k
            };
            YearSummary {
                year: y + 1,
                total_cost: avg(&Settlement::total_cost),
                fees: avg(&|s| s.prevention),
                complications_cost: avg(&|s| s.complications),
                shared_risk_transfer: avg(&|s| s.transfer),
                provider_profit: avg(&Settlement::provider_profit),
                state_distribution: (0..names.len())
                    .map(|m| {
                        runs.iter().map(|r| r.occupancy[y][m] as f64).sum::<f64>()
                            / (k * cfg.patients as f64)
                    })
                    .collect(),
            }
        })
        .collect();
    PanelResult {
        disease: d.name().into(),
        runs: runs.len(),
        metrics,
        policy,
        treatment_mix,
        per_year,
        training,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disease::Retinopathy;

    #[test]
    fn a_run_is_deterministic_and_its_totals_add_up() {
        let d = Retinopathy::default();
        let cfg = PanelConfig {
            runs: 8,
            ..Default::default()
        };
        let a = run(&d, &cfg).unwrap();
        let b = run(&d, &cfg).unwrap();
        assert_eq!(serde_json_like(&a), serde_json_like(&b));
        use PanelMetric as M;
        let total = a.mean(M::TotalCost);
        let parts = a.mean(M::Fees) + a.mean(M::ComplicationsCost) + a.mean(M::SharedRiskTransfer);
        assert!((total - parts).abs() < 1e-6 * total, "{total} vs {parts}");
        let profit = a.mean(M::ProviderRevenue) - a.mean(M::ProviderCost);
        assert!((profit - a.mean(M::ProviderProfit)).abs() < 1e-6 * profit.abs().max(1.0));
        // FFS without shared risk: everyone at the most intensive treatment.
        assert_eq!(a.mean(M::MaxIntensityShare), 1.0);
        assert_eq!(a.per_year.len(), 15);
        assert_eq!(a.per_year[0].state_distribution[0], 1.0);
    }

    /// The kidney model's dead are neither treated, billed nor charged a premium: fees are the
    /// top fee times the years lived (FFS, cycles counted at their start), not patients ×
    /// years × fee as when death is an ordinary state.
    #[test]
    fn the_dead_are_never_billed() {
        use crate::disease::{MarkovFile, KIDNEY_MODEL};
        use crate::outcomes::{CycleCorrection, Outcomes};
        let mut cfg = PanelConfig {
            runs: 20,
            ..Default::default()
        };
        cfg.outcomes = Outcomes {
            cycle_correction: CycleCorrection::None,
            ..Default::default()
        };
        let d = MarkovFile::from_toml(KIDNEY_MODEL, "kidney").unwrap();
        let r = run(&d, &cfg).unwrap();
        use PanelMetric as M;
        let lived = r.mean(M::LifeYears);
        assert!(
            lived < 150.0,
            "someone died in 20 runs × 10 patients × 15 years: {lived}"
        );
        assert!(
            (r.mean(M::Fees) - 1100.0 * lived).abs() < 1e-6,
            "{}",
            r.mean(M::Fees)
        );
        assert!((r.mean(M::PayerRevenue) - cfg.premium * lived).abs() < 1e-6);
        assert_eq!(r.policy["death"], "-");
        // Switched off (death an ordinary state): the dead are billed every year.
        let alive = KIDNEY_MODEL.replace("dead = [\"death\"]", "");
        let d = MarkovFile::from_toml(&alive, "kidney").unwrap();
        let r = run(&d, &cfg).unwrap();
        assert_eq!(r.mean(M::Fees), 1100.0 * 150.0);
    }

    /// Shared risk pays no "savings" on the dead: the reference shrinks with the living, so
    /// once the whole panel has died the transfer is 0 (it was the reward on the whole
    /// reference every year).
    #[test]
    fn shared_risk_pays_nothing_for_the_dead() {
        use crate::disease::MarkovFile;
        let dies = r#"
name = "dies"
states = ["alive", "dead"]
initial = "alive"
dead = ["dead"]
[[treatments]]
name = "care"
fee = 100.0
visits = 1.0
transitions = [[0.0, 1.0], [0.0, 1.0]]
"#;
        let d = MarkovFile::from_toml(dies, "dies").unwrap();
        let mut cfg = PanelConfig {
            runs: 3,
            ..Default::default()
        };
        cfg.payment.capitation = vec![100.0, 100.0];
        (cfg.payment.reward_rate, cfg.payment.penalty_rate) = (0.5, 0.5);
        for kind in [ProviderKind::Myopic, ProviderKind::Optimal] {
            cfg.provider.kind = kind;
            let r = run(&d, &cfg).unwrap();
            // Year 1 only: 0.5 × (10,000 − 10 × 100).
            assert_eq!(r.mean(PanelMetric::SharedRiskTransfer), 4500.0, "{kind:?}");
        }
    }

    /// With full health everywhere and no discounting, QALYs are the life-years, and the
    /// discounted cost is the total cost.
    #[test]
    fn undiscounted_full_health_qalys_are_life_years() {
        let mut cfg = PanelConfig {
            runs: 5,
            ..Default::default()
        };
        cfg.retinopathy.utilities = [1.0; 6];
        cfg.outcomes.discount_costs = 0.0;
        cfg.outcomes.discount_effects = 0.0;
        let r = run(&Retinopathy::new(cfg.retinopathy.clone()).unwrap(), &cfg).unwrap();
        use PanelMetric as M;
        assert_eq!(r.mean(M::LifeYears), 150.0);
        assert!((r.mean(M::Qalys) - 150.0).abs() < 1e-9);
        assert!((r.mean(M::DiscountedCost) - r.mean(M::TotalCost)).abs() < 1e-6);
        // At 3% both fall below.
        cfg.outcomes = Default::default();
        let r = run(&Retinopathy::new(cfg.retinopathy.clone()).unwrap(), &cfg).unwrap();
        assert!(r.mean(M::Qalys) < 150.0 && r.mean(M::DiscountedCost) < r.mean(M::TotalCost));
    }

    fn serde_json_like(r: &PanelResult) -> Vec<u64> {
        r.metrics.iter().map(|(_, s)| s.mean.to_bits()).collect()
    }
}
