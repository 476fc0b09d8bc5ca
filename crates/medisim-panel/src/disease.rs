//! Disease models behind one trait: the states a patient moves through, the treatments the
//! provider can choose, the annual transition row of each (state, treatment), and the
//! non-elective cost of entering a complication state. Two implementations: the IBM
//! retinopathy model, built from named progression rates and treatment effects
//! ([`Retinopathy`]), and any Markov model read wholly from a file ([`MarkovFile`]).

use crate::PanelError;
use serde::{Deserialize, Serialize};

/// One elective treatment: its fee per patient-year and the office visits it needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Treatment {
    pub name: String,
    pub fee: f64,
    pub visits: f64,
}

/// A disease-progression model.
pub trait DiseaseModel: Send + Sync {
    fn name(&self) -> &str;
    fn states(&self) -> &[String];
    fn treatments(&self) -> &[Treatment];
    /// The state every patient starts in.
    fn initial_state(&self) -> usize;
    /// Pr(next state | `state`, `treatment`): a row over [`DiseaseModel::states`] summing to one.
    fn transition(&self, state: usize, treatment: usize) -> &[f64];
    /// The non-elective cost incurred when a patient enters `state` from another state (the
    /// mandatory treatment of a complication); 0 for an ordinary state.
    fn entry_cost(&self, state: usize) -> f64;

    /// The health-related quality of life of a year in `state` (a QALY weight: 1 full health,
    /// 0 death, below 0 worse than death).
    fn utility(&self, state: usize) -> f64;
    /// The payer's cost of a year in `state` besides the provider's care (dialysis, say).
    fn running_cost(&self, state: usize) -> f64;
    /// Whether `state` is death: absorbing, with no care, no billing and no premium.
    fn is_dead(&self, state: usize) -> bool;

    /// Whether entering `state` is a complication.
    fn is_complication(&self, state: usize) -> bool {
        self.entry_cost(state) > 0.0
    }

    /// Expected complication cost next year for a patient in `state` given `treatment`.
    fn expected_complication_cost(&self, state: usize, treatment: usize) -> f64 {
        self.transition(state, treatment)
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != state)
            .map(|(j, p)| p * self.entry_cost(j))
            .sum()
    }
}

/// Check a model's shape: rows are distributions, costs and fees finite and non-negative.
pub fn validate(m: &dyn DiseaseModel) -> Result<(), PanelError> {
    let n = m.states().len();
    let bad = |key: String, message: String| Err(PanelError::Invalid { key, message });
    if n == 0 || m.treatments().is_empty() {
        return bad(
            "states".into(),
            "a model needs states and treatments".into(),
        );
    }
    if m.initial_state() >= n {
        return bad("initial".into(), "names no state of the model".into());
    }
    for (k, t) in m.treatments().iter().enumerate() {
        crate::check_money(&format!("treatments[{k}] ({}) fee", t.name), t.fee)?;
        // A year's treatment has at most a visit a day.
        if !(0.0..=365.0).contains(&t.visits) {
            return bad(
                format!("treatments[{k}] ({}) visits", t.name),
                format!(
                    "{} is outside [0, 365] visits a year",
                    medisim_core::text::number(t.visits)
                ),
            );
        }
        for s in 0..n {
            let row = m.transition(s, k);
            let total: f64 = row.iter().sum();
            if row.len() != n
                || row.iter().any(|p| !(0.0..=1.0).contains(p))
                || (total - 1.0).abs() > 1e-9
            {
                return bad(
                    format!("{}: transition from `{}`", t.name, m.states()[s]),
                    format!("must be {n} probabilities summing to 1, got {row:?} (sum {total})"),
                );
            }
        }
    }
    for s in 0..n {
        let state = &m.states()[s];
        crate::check_money(&format!("entry cost of `{state}`"), m.entry_cost(s))?;
        crate::check_money(&format!("running cost of `{state}`"), m.running_cost(s))?;
        let u = m.utility(s);
        // EQ-5D tariffs reach about −0.6 (UK) at worst; −1 leaves room for any published one.
        if !(-1.0..=1.0).contains(&u) {
            return bad(
                format!("utility of `{state}`"),
                format!("{} is outside [-1, 1]", medisim_core::text::number(u)),
            );
        }
        if m.is_dead(s) {
            if s == m.initial_state() {
                return bad("initial".into(), format!("`{state}` is death"));
            }
            // Death ends the patient's path: every treatment leaves the patient there.
            if (0..m.treatments().len()).any(|k| m.transition(s, k)[s] != 1.0) {
                return bad(
                    format!("transition from `{state}`"),
                    "death is absorbing: its row must be 1 on itself under every treatment".into(),
                );
            }
            if u != 0.0 || m.running_cost(s) != 0.0 {
                return bad(
                    format!("utility of `{state}`"),
                    "death has utility 0 and no running cost".into(),
                );
            }
        }
    }
    Ok(())
}

/// The IBM retinopathy model's parameters: annual progression probabilities at the least
/// intensive treatment (MM-0/SMT-0), the relative risk each high-intensity component applies to
/// every progression from the three treatable states, fees, visits and the cost of the
/// mandatory laser series. docs/panel.md gives each value's source or reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetinopathyParams {
    pub no_retinopathy_to_non_proliferative: f64,
    pub non_proliferative_to_proliferative: f64,
    pub non_proliferative_to_macular_edema: f64,
    pub proliferative_to_macular_edema: f64,
    pub proliferative_to_blindness: f64,
    pub history_to_blindness: f64,
    /// Relative risk of progression under high medication management (MM-1).
    pub medication_management_rr: f64,
    /// Relative risk of progression under high self-management training (SMT-1).
    pub self_management_training_rr: f64,
    /// Fees per patient-year of MM-0/SMT-0, MM-0/SMT-1, MM-1/SMT-0, MM-1/SMT-1.
    pub fees: [f64; 4],
    /// Office visits per year of the four treatments, same order.
    pub visits: [f64; 4],
    /// The mandatory laser series on entering Macular Edema.
    pub macular_edema_cost: f64,
    /// The QALY weight of a year in each of the six states (docs/panel.md gives the source).
    pub utilities: [f64; 6],
    /// The payer's cost of a year in each state besides the provider's care.
    pub running_costs: [f64; 6],
}

impl Default for RetinopathyParams {
    fn default() -> Self {
        RetinopathyParams {
            no_retinopathy_to_non_proliferative: 0.15,
            non_proliferative_to_proliferative: 0.06,
            non_proliferative_to_macular_edema: 0.08,
            proliferative_to_macular_edema: 0.10,
            proliferative_to_blindness: 0.04,
            history_to_blindness: 0.03,
            medication_management_rr: 0.6,
            self_management_training_rr: 0.7,
            fees: [500.0, 540.0, 960.0, 1000.0],
            visits: [2.0, 4.0, 4.0, 6.0],
            macular_edema_cost: 5000.0,
            // UKPDS 62 (Clarke, Gray and Holman 2002): type 2 diabetes without complications
            // 0.785; blindness in one eye −0.074. No decrement for retinopathy short of it.
            utilities: [0.785, 0.785, 0.785, 0.785, 0.785, 0.711],
            running_costs: [0.0; 6],
        }
    }
}

/// The retinopathy model built from [`RetinopathyParams`].
#[derive(Clone, Debug)]
pub struct Retinopathy {
    pub params: RetinopathyParams,
    states: Vec<String>,
    treatments: Vec<Treatment>,
    /// rows[treatment][state]
    rows: Vec<Vec<Vec<f64>>>,
}

pub const NO_RETINOPATHY: usize = 0;
pub const NON_PROLIFERATIVE: usize = 1;
pub const PROLIFERATIVE: usize = 2;
pub const MACULAR_EDEMA: usize = 3;
pub const HISTORY_OF_MACULAR_EDEMA: usize = 4;
pub const BLINDNESS: usize = 5;

impl Retinopathy {
    pub fn new(params: RetinopathyParams) -> Result<Self, PanelError> {
        let p = &params;
        let named = [
            (
                "no_retinopathy_to_non_proliferative",
                p.no_retinopathy_to_non_proliferative,
            ),
            (
                "non_proliferative_to_proliferative",
                p.non_proliferative_to_proliferative,
            ),
            (
                "non_proliferative_to_macular_edema",
                p.non_proliferative_to_macular_edema,
            ),
            (
                "proliferative_to_macular_edema",
                p.proliferative_to_macular_edema,
            ),
            ("proliferative_to_blindness", p.proliferative_to_blindness),
            ("history_to_blindness", p.history_to_blindness),
            ("medication_management_rr", p.medication_management_rr),
            ("self_management_training_rr", p.self_management_training_rr),
        ];
        for (key, v) in named {
            if !(0.0..=1.0).contains(&v) {
                return Err(PanelError::Invalid {
                    key: key.into(),
                    message: format!("{v} is outside [0, 1]"),
                });
            }
        }
        for (key, out) in [
            (
                "non_proliferative_*",
                p.non_proliferative_to_proliferative + p.non_proliferative_to_macular_edema,
            ),
            (
                "proliferative_*",
                p.proliferative_to_macular_edema + p.proliferative_to_blindness,
            ),
        ] {
            if out > 1.0 {
                return Err(PanelError::Invalid {
                    key: key.into(),
                    message: format!("the exits sum to {out} > 1"),
                });
            }
        }
        let names = ["MM-0/SMT-0", "MM-0/SMT-1", "MM-1/SMT-0", "MM-1/SMT-1"];
        let treatments = (0..4)
            .map(|k| Treatment {
                name: names[k].into(),
                fee: p.fees[k],
                visits: p.visits[k],
            })
            .collect();
        let rows = (0..4)
            .map(|k| {
                let rr = if k >= 2 {
                    p.medication_management_rr
                } else {
                    1.0
                } * if k % 2 == 1 {
                    p.self_management_training_rr
                } else {
                    1.0
                };
                let mut t = vec![vec![0.0; 6]; 6];
                let a = p.no_retinopathy_to_non_proliferative * rr;
                t[0][1] = a;
                t[0][0] = 1.0 - a;
                let (b, c) = (
                    p.non_proliferative_to_proliferative * rr,
                    p.non_proliferative_to_macular_edema * rr,
                );
                t[1][2] = b;
                t[1][3] = c;
                t[1][1] = 1.0 - b - c;
                let (d, e) = (
                    p.proliferative_to_macular_edema * rr,
                    p.proliferative_to_blindness * rr,
                );
                t[2][3] = d;
                t[2][5] = e;
                t[2][2] = 1.0 - d - e;
                // After the mandatory laser series, progression no longer depends on treatment.
                t[3][4] = 1.0;
                t[4][5] = p.history_to_blindness;
                t[4][4] = 1.0 - p.history_to_blindness;
                t[5][5] = 1.0;
                t
            })
            .collect();
        let m = Retinopathy {
            states: [
                "No Retinopathy",
                "Non-Proliferative",
                "Proliferative",
                "Macular Edema Entered",
                "History of Macular Edema",
                "Blindness",
            ]
            .map(String::from)
            .to_vec(),
            treatments,
            rows,
            params,
        };
        validate(&m)?;
        Ok(m)
    }
}

impl Default for Retinopathy {
    fn default() -> Self {
        Retinopathy::new(RetinopathyParams::default()).expect("the defaults are valid")
    }
}

impl DiseaseModel for Retinopathy {
    fn name(&self) -> &str {
        "retinopathy"
    }
    fn states(&self) -> &[String] {
        &self.states
    }
    fn treatments(&self) -> &[Treatment] {
        &self.treatments
    }
    fn initial_state(&self) -> usize {
        NO_RETINOPATHY
    }
    fn transition(&self, state: usize, treatment: usize) -> &[f64] {
        &self.rows[treatment][state]
    }
    fn entry_cost(&self, state: usize) -> f64 {
        if state == MACULAR_EDEMA {
            self.params.macular_edema_cost
        } else {
            0.0
        }
    }
    fn utility(&self, state: usize) -> f64 {
        self.params.utilities[state]
    }
    fn running_cost(&self, state: usize) -> f64 {
        self.params.running_costs[state]
    }
    fn is_dead(&self, _: usize) -> bool {
        false
    }
}

/// Most states a Markov disease file may have.
pub const MAX_STATES: usize = 256;
/// Most treatments a Markov disease file may have.
pub const MAX_TREATMENTS: usize = 64;

/// A Markov disease model read wholly from a file: states, the start, each treatment with its
/// full transition matrix, and the entry cost of each complication state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkovFile {
    pub name: String,
    pub states: Vec<String>,
    pub initial: String,
    pub treatments: Vec<MarkovTreatment>,
    /// Non-elective cost on entering each listed state (state name → cost).
    #[serde(default)]
    pub entry_costs: std::collections::BTreeMap<String, f64>,
    /// The QALY weight of a year in each listed state (state name → weight); 1 where unlisted,
    /// 0 for the dead.
    #[serde(default)]
    pub utilities: std::collections::BTreeMap<String, f64>,
    /// The payer's cost of a year in each listed state besides the provider's care.
    #[serde(default)]
    pub running_costs: std::collections::BTreeMap<String, f64>,
    /// The states that are death: absorbing, without care, billing or premium.
    #[serde(default)]
    pub dead: Vec<String>,
    /// The parameters' uncertainty, for a probabilistic sensitivity analysis.
    #[serde(default, skip_serializing_if = "crate::uncertainty::PsaSpec::is_empty")]
    pub psa: crate::uncertainty::PsaSpec,
    #[serde(skip)]
    costs: Vec<f64>,
    #[serde(skip)]
    weights: Vec<f64>,
    #[serde(skip)]
    running: Vec<f64>,
    #[serde(skip)]
    died: Vec<bool>,
    #[serde(skip)]
    start: usize,
    #[serde(skip)]
    plain: Vec<Treatment>,
}

/// One treatment of a [`MarkovFile`] model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkovTreatment {
    pub name: String,
    pub fee: f64,
    pub visits: f64,
    /// One row per state, in the order of `states`.
    pub transitions: Vec<Vec<f64>>,
}

impl MarkovFile {
    /// Read and check a model (`origin` names the file in errors).
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, PanelError> {
        let m: MarkovFile =
            medisim_core::input::from_toml(text).map_err(|message| PanelError::Parse {
                origin: origin.into(),
                message,
            })?;
        m.finish()
    }

    /// Check a model read or drawn, and fill what is derived from its names.
    pub(crate) fn finish(mut self) -> Result<Self, PanelError> {
        let m = &mut self;
        let index = |name: &str, key: &str| {
            m.states
                .iter()
                .position(|s| s == name)
                .ok_or_else(|| PanelError::Invalid {
                    key: key.into(),
                    message: format!("`{name}` is not one of the states {:?}", m.states),
                })
        };
        // The provider's MILP and value iteration grow with states × treatments (1,500 states
        // took 809 MB): a model past these bounds is refused before any table is built.
        for (key, n, most) in [
            ("states", m.states.len(), MAX_STATES),
            ("treatments", m.treatments.len(), MAX_TREATMENTS),
        ] {
            if n > most {
                return Err(PanelError::Invalid {
                    key: key.into(),
                    message: format!("{n} of them; at most {most}"),
                });
            }
        }
        if let Some((key, x)) = medisim_core::params::non_finite(&m) {
            return Err(PanelError::Invalid {
                key,
                message: format!("{x} is not a finite number"),
            });
        }
        let names = |key: &str, names: Vec<&String>| {
            let mut seen = std::collections::BTreeSet::new();
            match names.into_iter().find(|n| !seen.insert(n.as_str())) {
                None => Ok(()),
                Some(n) => Err(PanelError::Invalid {
                    key: key.into(),
                    message: format!("`{n}` is named twice; every name must be its own"),
                }),
            }
        };
        names("states", m.states.iter().collect())?;
        names("treatments", m.treatments.iter().map(|t| &t.name).collect())?;
        names("dead", m.dead.iter().collect())?;
        let named = std::iter::once(("name", &m.name))
            .chain(m.states.iter().map(|n| ("states", n)))
            .chain(m.treatments.iter().map(|t| ("treatments", &t.name)));
        for (key, n) in named {
            medisim_core::input::check_name("the name", n).map_err(|message| {
                PanelError::Invalid {
                    key: key.into(),
                    message,
                }
            })?;
        }
        m.start = index(&m.initial, "initial")?;
        let n = m.states.len();
        let mut costs = vec![0.0; n];
        for (s, c) in &m.entry_costs {
            costs[index(s, "entry_costs")?] = *c;
        }
        m.costs = costs;
        let mut died = vec![false; n];
        for s in &m.dead {
            died[index(s, "dead")?] = true;
        }
        let mut weights: Vec<f64> = died.iter().map(|d| if *d { 0.0 } else { 1.0 }).collect();
        for (s, u) in &m.utilities {
            weights[index(s, "utilities")?] = *u;
        }
        let mut running = vec![0.0; n];
        for (s, c) in &m.running_costs {
            running[index(s, "running_costs")?] = *c;
        }
        (m.died, m.weights, m.running) = (died, weights, running);
        for t in &m.treatments {
            if t.transitions.len() != m.states.len() {
                return Err(PanelError::Invalid {
                    key: format!("treatments.{}.transitions", t.name),
                    message: format!(
                        "has {} rows; the model has {} states",
                        t.transitions.len(),
                        m.states.len()
                    ),
                });
            }
        }
        m.plain = m
            .treatments
            .iter()
            .map(|t| Treatment {
                name: t.name.clone(),
                fee: t.fee,
                visits: t.visits,
            })
            .collect();
        validate(m)?;
        let treatments: Vec<&str> = m.treatments.iter().map(|t| t.name.as_str()).collect();
        m.psa.check(&m.states, &m.dead, &treatments)?;
        Ok(self)
    }
}

impl DiseaseModel for MarkovFile {
    fn name(&self) -> &str {
        &self.name
    }
    fn states(&self) -> &[String] {
        &self.states
    }
    fn treatments(&self) -> &[Treatment] {
        &self.plain
    }
    fn initial_state(&self) -> usize {
        self.start
    }
    fn transition(&self, state: usize, treatment: usize) -> &[f64] {
        &self.treatments[treatment].transitions[state]
    }
    fn entry_cost(&self, state: usize) -> f64 {
        self.costs[state]
    }
    fn utility(&self, state: usize) -> f64 {
        self.weights[state]
    }
    fn running_cost(&self, state: usize) -> f64 {
        self.running[state]
    }
    fn is_dead(&self, state: usize) -> bool {
        self.died[state]
    }
}

/// The state a uniform `u` selects from a distribution `row`.
pub fn draw(row: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    for (j, p) in row.iter().enumerate() {
        acc += p;
        if u < acc {
            return j;
        }
    }
    // Rounding can leave the row a hair under 1: the last state with mass.
    row.iter().rposition(|p| *p > 0.0).unwrap_or(0)
}

/// The diabetic kidney disease model shipped beside the retinopathy model (UKPDS 64 rates).
pub const KIDNEY_MODEL: &str = include_str!("../models/diabetic-kidney.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_follow_the_row() {
        assert_eq!(draw(&[0.2, 0.8], 0.1), 0);
        assert_eq!(draw(&[0.2, 0.8], 0.5), 1);
        assert_eq!(draw(&[0.2, 0.7999999], 0.99999999), 1);
    }

    #[test]
    fn the_retinopathy_model_is_well_formed_and_intensity_slows_progression() {
        let m = Retinopathy::default();
        validate(&m).unwrap();
        assert_eq!(m.states().len(), 6);
        // Higher intensity lowers the complication risk in the treatable states only.
        for s in [NON_PROLIFERATIVE, PROLIFERATIVE] {
            assert!(m.expected_complication_cost(s, 3) < m.expected_complication_cost(s, 0));
        }
        assert_eq!(m.expected_complication_cost(NO_RETINOPATHY, 0), 0.0);
        assert_eq!(
            m.transition(MACULAR_EDEMA, 0),
            m.transition(MACULAR_EDEMA, 3)
        );
        assert!(m.is_complication(MACULAR_EDEMA));
    }

    #[test]
    fn a_markov_file_model_reads_and_bad_ones_are_named() {
        let m = MarkovFile::from_toml(KIDNEY_MODEL, "diabetic-kidney.toml").unwrap();
        assert!(m.states().len() >= 4 && m.treatments().len() >= 2);
        assert!((0..m.states().len()).any(|s| m.is_complication(s)));
        let e = MarkovFile::from_toml(
            &KIDNEY_MODEL.replace("initial = ", "initial = \"x\"\n#"),
            "k.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`initial`") || e.contains("initial"), "{e}");
        let e = MarkovFile::from_toml("name = 1", "k.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("k.toml"), "{e}");
        let e = Retinopathy::new(RetinopathyParams {
            proliferative_to_blindness: 1.5,
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("`proliferative_to_blindness`"), "{e}");
    }
}
