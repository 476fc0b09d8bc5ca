//! Probabilistic sensitivity analysis of a Markov disease file under strategic provider
//! response: each draw samples the model's uncertain parameters (the file's `[psa]` table), and
//! under every payment arm the provider re-optimises on the drawn model (the myopic MILP, the
//! exact DP or Q-learning, as configured) before the panel is simulated. The arms' discounted
//! payer cost and QALYs per patient form the PSA that `medisim_core::cea` analyses.
//!
//! The distributions are [`crate::uncertainty`]'s. Each draw samples from its own stream keyed by
//! (seed, draw), so a PSA is bit-identical for any thread count and any subset of draws.

use crate::disease::MarkovFile;
use crate::payment::Basis;
use crate::program::PaymentProgram;
use crate::PanelError;
use rand::Rng;
use rand_distr::Distribution as _;
use serde::{Deserialize, Serialize};

impl MarkovFile {
    /// One draw of the model's uncertain parameters (its `[psa]` table), checked.
    pub fn draw(&self, rng: &mut impl Rng) -> Result<MarkovFile, PanelError> {
        self.draw_with_values(rng).map(|(m, _)| m)
    }

    /// [`MarkovFile::draw`], with the value each uncertain parameter took, by name
    /// (`p: FROM -> TO` for a natural-history exit, `utility: STATE`, `entry cost: STATE`,
    /// `running cost: STATE`, `fee: TREATMENT`).
    pub fn draw_with_values(
        &self,
        rng: &mut impl Rng,
    ) -> Result<(MarkovFile, Vec<(String, f64)>), PanelError> {
        let spec = &self.psa;
        let mut m = self.clone();
        let mut values = Vec::new();
        if spec.transition_sample_size > 0.0 {
            for state in 0..m.states.len() {
                let base = &self.treatments[0].transitions[state];
                let mut drawn = base.clone();
                dirichlet_row(&mut drawn, spec.transition_sample_size, rng);
                for (j, p) in drawn.iter().enumerate() {
                    // A row with one way out has nothing uncertain in it.
                    if j != state && base[j] > 0.0 && base[j] < 1.0 {
                        values.push((format!("p: {} -> {}", m.states[state], m.states[j]), *p));
                    }
                }
                for t in &mut m.treatments {
                    t.transitions[state] = with_effect(&drawn, base, &t.transitions[state], state);
                }
            }
        }
        let tables = [
            ("utility", &spec.utilities, &mut m.utilities),
            ("entry cost", &spec.entry_costs, &mut m.entry_costs),
            ("running cost", &spec.running_costs, &mut m.running_costs),
        ];
        for (what, from, into) in tables {
            for (state, u) in from {
                let v = u.draw(rng);
                into.insert(state.clone(), v);
                values.push((format!("{what}: {state}"), v));
            }
        }
        for t in &mut m.treatments {
            if let Some(u) = spec.fees.get(&t.name) {
                t.fee = u.draw(rng);
                values.push((format!("fee: {}", t.name), t.fee));
            }
        }
        Ok((m.finish()?, values))
    }
}

/// Treatment `row`'s effect carried onto a drawn natural history: each exit from `state` is the
/// drawn baseline's times the file's ratio of this treatment's to the baseline's (the relative
/// risk), an exit the baseline lacks is kept, and the patient stays with what is left (exits
/// scaled to sum to at most 1).
fn with_effect(drawn: &[f64], base: &[f64], row: &[f64], state: usize) -> Vec<f64> {
    let mut out: Vec<f64> = (0..row.len())
        .map(|j| match j {
            _ if j == state => 0.0,
            _ if base[j] > 0.0 => drawn[j] * row[j] / base[j],
            _ => row[j],
        })
        .collect();
    let exits: f64 = out.iter().sum();
    if exits > 1.0 {
        out.iter_mut().for_each(|p| *p /= exits);
    } else {
        out[state] = 1.0 - exits;
    }
    out
}

/// Replace `row` by a draw from Dirichlet(n × row) over its positive entries.
fn dirichlet_row(row: &mut [f64], n: f64, rng: &mut impl Rng) {
    // A Dirichlet is independent gammas normalised (rand_distr's Dirichlet needs two entries).
    let mut total = 0.0;
    let mut draws = vec![0.0; row.len()];
    for (d, p) in draws.iter_mut().zip(row.iter()) {
        // n ≥ 1 and p > 0 make a positive shape (PsaSpec::check).
        if let Ok(g) = rand_distr::Gamma::new(n * p, 1.0) {
            *d = g.sample(rng);
            total += *d;
        }
    }
    if total > 0.0 {
        for (p, d) in row.iter_mut().zip(&draws) {
            *p = d / total;
        }
    }
}

/// One arm of a PSA: a payment model of the configuration's keys, or a payment program.
#[derive(Clone, Debug, PartialEq)]
pub enum Arm {
    Ffs,
    Gc,
    FfsSr,
    GcSr,
    /// A payment program in force (`policies/panel/*.policy`), named by its header; its
    /// shared-risk terms are its own.
    Program(Box<PaymentProgram>),
}

impl Arm {
    pub const ALL: [Arm; 4] = [Arm::Ffs, Arm::Gc, Arm::FfsSr, Arm::GcSr];

    pub fn name(&self) -> &str {
        match self {
            Arm::Ffs => "ffs",
            Arm::Gc => "gc",
            Arm::FfsSr => "ffs-sr",
            Arm::GcSr => "gc-sr",
            Arm::Program(p) => &p.policy().header.name,
        }
    }

    /// What keys the arm's cached draws: its name, and a program's canonical hash.
    pub fn key(&self) -> String {
        match self {
            Arm::Program(p) => format!("{}@{}", self.name(), p.hash()),
            _ => self.name().to_string(),
        }
    }

    /// The arms `text` names (comma-separated; empty: none) followed by the programs, every
    /// name distinct.
    pub fn with_programs(text: &str, programs: Vec<PaymentProgram>) -> Result<Vec<Arm>, String> {
        let mut arms = if text.trim().is_empty() {
            Vec::new()
        } else {
            Arm::parse_list(text)?
        };
        for p in &programs {
            let name = &p.policy().header.name;
            if Arm::ALL.iter().any(|a| a.name() == name) {
                return Err(format!(
                    "the payment program `{name}` (--arm-policy) has the name of a built-in arm: \
                     rename it in its header, so the PSA's rows can tell the two apart"
                ));
            }
        }
        arms.extend(programs.into_iter().map(|p| Arm::Program(Box::new(p))));
        medisim_core::params::distinct(arms.iter().map(Arm::name))?;
        Ok(arms)
    }

    /// The arms a comma-separated list names.
    pub fn parse_list(text: &str) -> Result<Vec<Arm>, String> {
        let arms = text
            .split(',')
            .map(|a| {
                let a = a.trim();
                Arm::ALL.into_iter().find(|x| x.name() == a).ok_or_else(|| {
                    format!(
                        "no payment arm `{}`: choose from {} (a payment program is an arm of \
                         its own: --arm-policy FILE)",
                        medisim_core::input::excerpt(a),
                        Arm::ALL
                            .iter()
                            .map(Arm::name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        medisim_core::params::distinct(arms.iter().map(|a| a.name()))?;
        Ok(arms)
    }

    /// `base` under this arm: its basis, and shared risk at `base`'s rates (refused when the
    /// configuration gives none) or none; or the program in force.
    pub fn config(&self, base: &crate::PanelConfig) -> Result<crate::PanelConfig, PanelError> {
        if base.program.is_some() {
            return Err(PanelError::Invalid {
                key: "policy".into(),
                message: "the arms set the payment, one per strategy; a payment program given \
                          would be overridden by none of them: drop it"
                    .into(),
            });
        }
        let mut cfg = base.clone();
        cfg.payment.basis = match self {
            Arm::Ffs | Arm::FfsSr => Basis::Ffs,
            Arm::Gc | Arm::GcSr => Basis::Gc,
            Arm::Program(p) => {
                cfg.program = Some(PaymentProgram::clone(p));
                return Ok(cfg);
            }
        };
        let shared = matches!(self, Arm::FfsSr | Arm::GcSr);
        if !shared {
            cfg.payment.reward_rate = 0.0;
            cfg.payment.penalty_rate = 0.0;
        } else if cfg.payment.reward_rate == 0.0 && cfg.payment.penalty_rate == 0.0 {
            return Err(PanelError::Invalid {
                key: "arms".into(),
                message: format!(
                    "the {} arm shares risk at the configuration's reward and penalty rates, \
                     and both are 0: give --reward-rate and --penalty-rate",
                    self.name()
                ),
            });
        }
        Ok(cfg)
    }
}

/// One strategy's mean discounted payer cost and discounted QALYs per patient in one draw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PsaRow {
    pub draw: u64,
    pub strategy: String,
    pub cost: f64,
    pub effect: f64,
}

/// Random-stream purposes of a PSA: the parameter draw, and the seed of its panel runs.
pub const PURPOSE_PSA_PARAMETERS: u8 = 3;
pub const PURPOSE_PSA_PANEL: u8 = 4;

/// One draw of a PSA: each arm's row, and the values the draw gave every uncertain parameter
/// and every arm's provider response (`response ARM: most intensive share`, the share of
/// patient-years the provider gave the most expensive treatment), for EVPPI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PsaDraw {
    pub rows: Vec<PsaRow>,
    pub parameters: Vec<(String, f64)>,
}

/// Draw `draw` of the PSA of `file` under `base`: the drawn model, and each arm's row, the
/// provider re-optimising on the drawn model under each arm. The arms share the draw's panel
/// seed (common random numbers), derived from (`base.seed`, `draw`).
pub fn draw_rows(
    file: &MarkovFile,
    base: &crate::PanelConfig,
    arms: &[Arm],
    draw: u64,
) -> Result<PsaDraw, PanelError> {
    let mut rng = medisim_core::rng::stream(base.seed, draw, PURPOSE_PSA_PARAMETERS);
    let (model, mut parameters) = file.draw_with_values(&mut rng)?;
    let seed = medisim_core::rng::stream(base.seed, draw, PURPOSE_PSA_PANEL).gen::<u64>();
    let patients = base.patients as f64;
    let mut rows = Vec::with_capacity(arms.len());
    for arm in arms {
        let cfg = crate::PanelConfig {
            seed,
            ..arm.config(base)?
        };
        let r = crate::sim::run(&model, &cfg)?;
        use crate::PanelMetric as M;
        rows.push(PsaRow {
            draw,
            strategy: arm.name().to_string(),
            cost: r.mean(M::DiscountedCost) / patients,
            effect: r.mean(M::Qalys) / patients,
        });
        let response = format!("response {}: most intensive share", arm.name());
        parameters.push((response, r.mean(M::MaxIntensityShare)));
    }
    Ok(PsaDraw { rows, parameters })
}

/// The parameter table of a PSA's draws: a `draw` column and one column per parameter.
pub fn parameter_table(draws: &[PsaDraw]) -> medisim_core::Table {
    use medisim_core::Column;
    let mut t = medisim_core::Table::new().with(
        "draw",
        Column::Count(
            draws
                .iter()
                .map(|d| d.rows.first().map_or(0, |r| r.draw))
                .collect(),
        ),
    );
    let names = draws
        .first()
        .map(|d| d.parameters.clone())
        .unwrap_or_default();
    for (k, (name, _)) in names.iter().enumerate() {
        let values = draws
            .iter()
            .map(|d| d.parameters.get(k).map_or(f64::NAN, |p| p.1));
        t.push(name, Column::Real(values.collect()));
    }
    t
}

/// Draws 0..`draws` in parallel, each through `each` (which may answer it from a cache), in
/// draw order whatever the thread count.
pub fn run_draws<E: Send>(
    draws: usize,
    each: impl Fn(u64) -> Result<PsaDraw, E> + Sync + Send,
) -> Result<Vec<PsaDraw>, E> {
    use rayon::prelude::*;
    (0..draws as u64).into_par_iter().map(each).collect()
}

/// The PSA of the drawn rows, strategies in arm order, for `medisim_core::cea`.
pub fn analysis(arms: &[Arm], draws: &[PsaDraw]) -> Result<medisim_core::cea::Psa, String> {
    let strategies = arms.iter().map(|a| a.name().to_string()).collect();
    let table = |f: fn(&PsaRow) -> f64| {
        draws
            .iter()
            .map(|d| d.rows.iter().map(f).collect())
            .collect()
    };
    medisim_core::cea::Psa::new(strategies, table(|r| r.cost), table(|r| r.effect))
}

/// Most draws × arms × patient-years one PSA may ask for.
pub const MAX_PSA_WORK: u128 = 1_000_000_000;

/// Check a PSA before it runs: the model has distributions, the arms are valid, the whole job
/// within [`MAX_PSA_WORK`].
pub fn check(
    file: &MarkovFile,
    base: &crate::PanelConfig,
    arms: &[Arm],
    draws: usize,
) -> Result<(), PanelError> {
    if file.psa.is_empty() {
        return Err(PanelError::Invalid {
            key: "psa".into(),
            message: format!(
                "the disease model `{}` gives no distributions: add a [psa] table \
                 (docs/panel.md)",
                file.name
            ),
        });
    }
    if arms.is_empty() {
        return Err(PanelError::Invalid {
            key: "arms".into(),
            message: "name at least one payment arm".into(),
        });
    }
    // The arms set the basis and, without a shared-risk arm, read no shared-risk term: a value
    // given for one would be ignored.
    let d = crate::PanelConfig::default();
    // A program may read every configured term (`fee_for_service`, the configured rates).
    let program = arms.iter().any(|a| matches!(a, Arm::Program(_)));
    let shared = program || arms.iter().any(|a| matches!(a, Arm::FfsSr | Arm::GcSr));
    let ignored = [
        (
            "payment.basis",
            !program && base.payment.basis != d.payment.basis,
        ),
        (
            "reward-rate",
            !shared && base.payment.reward_rate != d.payment.reward_rate,
        ),
        (
            "penalty-rate",
            !shared && base.payment.penalty_rate != d.payment.penalty_rate,
        ),
        (
            "reference",
            !shared && base.payment.reference != d.payment.reference,
        ),
    ];
    if let Some((key, _)) = ignored.iter().find(|(_, moved)| *moved) {
        return Err(PanelError::Invalid {
            key: (*key).into(),
            message: "the arms set the payment (the basis each, shared risk in ffs-sr and \
                      gc-sr only): the value given would be ignored; drop it or add a \
                      shared-risk arm"
                .into(),
        });
    }
    for arm in arms {
        arm.config(base)?.validate(file)?;
    }
    let work = crate::sim::patient_years(base, base.runs) * (draws as u128) * (arms.len() as u128);
    if draws == 0 || work > MAX_PSA_WORK {
        return Err(PanelError::Invalid {
            key: "draws".into(),
            message: format!(
                "{draws} draws × {} arms × {} patient-years each: at least 1 draw and at most \
                 {MAX_PSA_WORK} patient-years in all",
                arms.len(),
                crate::sim::patient_years(base, base.runs)
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disease::KIDNEY_MODEL;
    use crate::uncertainty::{Family, Uncertain};
    use rand::SeedableRng;

    /// Each family's draws have the mean and sd it was given (method of moments).
    #[test]
    fn draws_have_the_moments_they_were_given() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        for (dist, mean, sd) in [
            (Family::Beta, 0.56, 0.05),
            (Family::Gamma, 90_000.0, 15_000.0),
            (Family::Lognormal, 40_000.0, 10_000.0),
        ] {
            let u = Uncertain { dist, mean, sd };
            u.check("x").unwrap();
            let xs: Vec<f64> = (0..200_000).map(|_| u.draw(&mut rng)).collect();
            let s = medisim_core::summarise(&xs);
            assert!(
                (s.mean - mean).abs() < 0.01 * mean,
                "{dist:?} mean {}",
                s.mean
            );
            assert!((s.std - sd).abs() < 0.02 * sd, "{dist:?} sd {}", s.std);
        }
        let bad = Uncertain {
            dist: Family::Beta,
            mean: 0.5,
            sd: 0.6,
        };
        assert!(bad
            .check("psa.utilities.x")
            .unwrap_err()
            .to_string()
            .contains("sd²"));
    }

    /// Settings without a distribution, or whose draws could pass the model's money bound, are
    /// refused by name before any draw (each once panicked or aborted a PSA midway).
    #[test]
    fn distributions_without_a_sampler_are_refused_up_front() {
        for (dist, mean, sd) in [
            (Family::Gamma, 1000.0, 1e200),
            (Family::Lognormal, 1000.0, 1e200),
            (Family::Gamma, 1000.0, 1e-200),
            (Family::Beta, 0.5, 1e-200),
            (Family::Gamma, 1e12, 1e11),
        ] {
            let u = Uncertain { dist, mean, sd };
            let e = u.check("psa.running_costs.x").unwrap_err().to_string();
            assert!(
                e.contains("psa.running_costs.x"),
                "{dist:?} {mean} {sd}: {e}"
            );
        }
        let file = MarkovFile::from_toml(
            &KIDNEY_MODEL.replace(
                "transition_sample_size = 500.0",
                "transition_sample_size = 5e-324",
            ),
            "kidney",
        )
        .unwrap_err()
        .to_string();
        assert!(file.contains("transition_sample_size"), "{file}");
    }

    /// A Dirichlet row keeps its zeros, sums to one and has the file's row as its mean.
    #[test]
    fn dirichlet_rows_keep_their_support_and_mean() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let base = [0.9, 0.0, 0.07, 0.03];
        let mut mean = [0.0; 4];
        for _ in 0..20_000 {
            let mut row = base;
            dirichlet_row(&mut row, 200.0, &mut rng);
            assert_eq!(row[1], 0.0);
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            for (m, p) in mean.iter_mut().zip(row) {
                *m += p / 20_000.0;
            }
        }
        for (m, b) in mean.iter().zip(base) {
            assert!((m - b).abs() < 2e-3, "{mean:?}");
        }
    }

    /// A payment program is an arm: the shipped fee-for-service program answers in every draw
    /// exactly as the `ffs` arm (its fees read the drawn list fees), the blended one differently;
    /// arms are named by the program's header, and two arms of one name are refused.
    #[test]
    fn a_payment_program_is_an_arm_of_its_own() {
        let file = MarkovFile::from_toml(KIDNEY_MODEL, "kidney").unwrap();
        let base = crate::PanelConfig {
            runs: 5,
            ..Default::default()
        };
        let load = |f: &str| {
            let path = format!(
                "{}/../../policies/panel/{f}.policy",
                env!("CARGO_MANIFEST_DIR")
            );
            PaymentProgram::load(&std::fs::read_to_string(path).unwrap()).unwrap()
        };
        let arms =
            Arm::with_programs("ffs", vec![load("fee-for-service"), load("blended")]).unwrap();
        assert_eq!(
            arms.iter().map(Arm::name).collect::<Vec<_>>(),
            ["ffs", "fee-for-service", "blended"]
        );
        check(&file, &base, &arms, 3).unwrap();
        for d in 0..3 {
            let draw = draw_rows(&file, &base, &arms, d).unwrap();
            let (ffs, program, blended) = (&draw.rows[0], &draw.rows[1], &draw.rows[2]);
            assert_eq!(ffs.cost.to_bits(), program.cost.to_bits(), "draw {d}");
            assert_eq!(ffs.effect.to_bits(), program.effect.to_bits(), "draw {d}");
            assert_ne!(ffs.cost, blended.cost, "draw {d}");
        }
        assert_ne!(arms[1].key(), arms[1].name());
        let e = Arm::with_programs("ffs", vec![load("blended"), load("blended")]).unwrap_err();
        assert!(e.contains("blended"), "{e}");
    }

    /// In a draw each treatment keeps its relative risk to the first and its death rate.
    #[test]
    fn a_drawn_model_keeps_the_treatment_effects() {
        let file = MarkovFile::from_toml(KIDNEY_MODEL, "kidney").unwrap();
        let mut rng = medisim_core::rng::stream(1, 0, PURPOSE_PSA_PARAMETERS);
        let m = file.draw(&mut rng).unwrap();
        let (base, ace) = (&m.treatments[0].transitions, &m.treatments[1].transitions);
        assert_ne!(base[0], file.treatments[0].transitions[0]);
        for s in 0..3 {
            assert_eq!(base[s][5], ace[s][5], "death from state {s}");
            let rr = ace[s][s + 1] / base[s][s + 1];
            assert!((rr - 0.6).abs() < 1e-9, "state {s}: relative risk {rr}");
        }
    }

    /// A draw is reproducible from (seed, draw) and moves the uncertain parameters only.
    #[test]
    fn a_draw_is_keyed_by_seed_and_draw() {
        let file = MarkovFile::from_toml(KIDNEY_MODEL, "kidney").unwrap();
        assert!(!file.psa.is_empty());
        let base = crate::PanelConfig {
            runs: 2,
            ..Default::default()
        };
        let a = draw_rows(&file, &base, &[Arm::Ffs, Arm::Gc], 5).unwrap();
        let b = draw_rows(&file, &base, &[Arm::Ffs, Arm::Gc], 5).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, draw_rows(&file, &base, &[Arm::Ffs, Arm::Gc], 6).unwrap());
        let mut rng = medisim_core::rng::stream(1, 0, PURPOSE_PSA_PARAMETERS);
        let drawn = file.draw(&mut rng).unwrap();
        assert_eq!(drawn.states, file.states);
        assert_ne!(drawn.utilities, file.utilities);
        let e = Arm::FfsSr.config(&base).unwrap_err().to_string();
        assert!(e.contains("--reward-rate"), "{e}");
    }
}
