//! Chapter 5: the patient (PA) ↔ primary-care physician (PCP) stochastic game of chronic
//! disease management, with the coronary-heart-disease case study's inputs as defaults.
//!
//! A state is (health h, lifestyle l, setting k): h = 1..H chronic stages and H + 1 an acute
//! episode; l ∈ {B, Nb}; k ∈ {Hm, Po, Hs}, the hospital only in the acute stage — 4H + 2
//! states, 14 for the dissertation's H = 3. At home PA alone moves (next lifestyle × home or a
//! PCP visit next period); in the office PCP alone moves (high or low effort); in hospital
//! nobody does. The game is built as data for [`crate::stochastic::Game`], which solves it.

use crate::stochastic::{
    Certificate, Game, Move, Profile, PsiBounds, State, Vertex, GAP_TOLERANCE,
};
use crate::{GameError, GameParams};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The game's parameters (Section 5.4.1 and Appendix B.4 defaults; the payments, costs and
/// reimbursements default to a point inside Tables 5.1 and 5.4's ranges).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ChronicCareGame {
    /// Health TPM after a PCP visit, rows h = 1..H, columns h' = 1..H+1.
    pub h_po: Vec<Vec<f64>>,
    /// Health TPM at home with lifestyle B.
    pub h_b: Vec<Vec<f64>>,
    /// Health TPM at home with lifestyle Nb.
    pub h_nb: Vec<Vec<f64>>,
    /// Health distribution after a hospital period (the acute stage's row).
    pub h_hs: Vec<f64>,
    /// PA's health utility u(h), h = 1..H+1.
    pub utility: Vec<f64>,
    /// Pr(next lifestyle B | Nb, high effort).
    pub p_high_b: f64,
    /// Pr(next lifestyle Nb | Nb, low effort).
    pub p_low_nb: f64,
    /// Both agents' discount factor β, in (0, [`MAX_DISCOUNT`]].
    pub discount: f64,
    /// PA's payment for a visit with high effort (m1) and low effort (m2).
    pub m1: f64,
    pub m2: f64,
    /// PA's cost of maintaining lifestyle B (c1) and of switching to it (c2).
    pub c1: f64,
    pub c2: f64,
    /// PA's payment for a hospital period.
    pub m_hs: f64,
    /// PCP's reimbursement net of cost for high (n1) and low (n2) effort.
    pub n1: f64,
    pub n2: f64,
    /// PCP's disutility of each hospital period.
    pub u_hs: f64,
}

impl Default for ChronicCareGame {
    fn default() -> Self {
        ChronicCareGame {
            h_po: vec![
                vec![0.95, 0.05, 0.00, 0.00],
                vec![0.04, 0.76, 0.19, 0.01],
                vec![0.00, 0.04, 0.95, 0.01],
            ],
            h_b: vec![
                vec![0.93, 0.07, 0.00, 0.00],
                vec![0.04, 0.72, 0.23, 0.01],
                vec![0.00, 0.04, 0.86, 0.10],
            ],
            h_nb: vec![
                vec![0.90, 0.10, 0.00, 0.00],
                vec![0.04, 0.68, 0.27, 0.01],
                vec![0.00, 0.03, 0.81, 0.16],
            ],
            h_hs: vec![0.00, 0.00, 0.21, 0.79],
            utility: vec![1.00, 0.85, 0.71, 0.43],
            p_high_b: 0.9,
            p_low_nb: 0.9,
            discount: 0.99,
            m1: 0.05,
            m2: 0.05,
            c1: 0.01,
            c2: 0.02,
            m_hs: 0.2,
            n1: 0.05,
            n2: 0.02,
            u_hs: 0.2,
        }
    }
}

/// A lifestyle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifestyle {
    Beneficial,
    NonBeneficial,
}

/// PCP's effort in a visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effort {
    High,
    Low,
}

const PA: usize = 0;
const PCP: usize = 1;
const LIFESTYLES: [Lifestyle; 2] = [Lifestyle::Beneficial, Lifestyle::NonBeneficial];

fn check_distribution(
    key: &'static str,
    what: &str,
    row: &[f64],
    len: usize,
) -> Result<(), GameError> {
    let bad = |message: String| GameError::Invalid { key, message };
    if row.len() != len {
        return Err(bad(format!(
            "{what} has {} entries, expected {len}",
            row.len()
        )));
    }
    if let Some(p) = row.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(bad(format!("{what} holds {p}, outside [0, 1]")));
    }
    let total: f64 = row.iter().sum();
    if (total - 1.0).abs() > 1e-9 {
        return Err(bad(format!("{what} sums to {total}, not 1")));
    }
    Ok(())
}

/// The most chronic stages a game may have (the dissertation's has 3).
pub const MAX_STAGES: usize = 7;

/// The largest discount factor: at β = 0.999999 the certificate's ψ reached 2.7e-7 (1e-12
/// and below up to 0.99999); 0.9999 keeps a margin of two orders of magnitude in horizon.
pub const MAX_DISCOUNT: f64 = 0.9999;

/// The most strategy profiles one command may solve over, counted as 4 per stage per solve
/// (each stage adds an office and a home decision per lifestyle): sixteen 7-stage solves
/// (8.5 s each) or 4,096 of the dissertation's 3-stage game (16 ms each).
pub const MAX_PROFILE_WORK: u128 = 1 << 18;

impl GameParams for ChronicCareGame {
    fn work(&self) -> Option<medisim_core::Work> {
        Some(medisim_core::Work {
            amount: 4u128.pow(self.h_po.len().min(MAX_STAGES + 1) as u32),
            limit: MAX_PROFILE_WORK,
            unit: "strategy profiles (4 per stage per solve)",
        })
    }

    fn validate(&self) -> Result<(), GameError> {
        let h = self.h_po.len();
        if !(1..=MAX_STAGES).contains(&h) {
            return Err(GameError::Invalid {
                key: "h_po",
                message: format!(
                    "has {h} chronic stages (rows); it takes 1..={MAX_STAGES}: each stage adds \
                     two of the physician's decision units, and the equilibrium search \
                     enumerates every strategy profile (7 stages: 2^14 of them, about 11 s)"
                ),
            });
        }
        for (key, m) in [
            ("h_po", &self.h_po),
            ("h_b", &self.h_b),
            ("h_nb", &self.h_nb),
        ] {
            if m.len() != h {
                return Err(GameError::Invalid {
                    key,
                    message: format!("has {} rows; h_po has {h} (one per chronic stage)", m.len()),
                });
            }
            for (i, row) in m.iter().enumerate() {
                check_distribution(key, &format!("row {}", i + 1), row, h + 1)?;
            }
        }
        check_distribution("h_hs", "the acute row", &self.h_hs, h + 1)?;
        if self.utility.len() != h + 1 {
            return Err(GameError::Invalid {
                key: "utility",
                message: format!(
                    "has {} entries, expected {} (stages 1..H+1)",
                    self.utility.len(),
                    h + 1
                ),
            });
        }
        for (key, p) in [("p_high_b", self.p_high_b), ("p_low_nb", self.p_low_nb)] {
            if !(0.0..=1.0).contains(&p) {
                return Err(GameError::Invalid {
                    key,
                    message: format!("{p} is outside [0, 1]"),
                });
            }
        }
        if !(self.discount > 0.0 && self.discount <= MAX_DISCOUNT) {
            return Err(GameError::Invalid {
                key: "discount",
                message: format!(
                    "{} is outside (0, {MAX_DISCOUNT}] (values grow as 1/(1 − β); past a \
                     10,000-period horizon the LP loses the precision its certificate needs)",
                    self.discount
                ),
            });
        }
        let finite = [
            ("m1", self.m1),
            ("m2", self.m2),
            ("c1", self.c1),
            ("c2", self.c2),
            ("m_hs", self.m_hs),
            ("n1", self.n1),
            ("n2", self.n2),
            ("u_hs", self.u_hs),
        ];
        for (key, x) in finite {
            if !x.is_finite() {
                return Err(GameError::Invalid {
                    key,
                    message: format!("{x} is not a finite number"),
                });
            }
        }
        for (key, u) in self.utility.iter().map(|u| ("utility", *u)) {
            if !u.is_finite() {
                return Err(GameError::Invalid {
                    key,
                    message: format!("{u} is not a finite number"),
                });
            }
        }
        Ok(())
    }
}

/// PA's move at home: the next lifestyle and whether the next period is a PCP visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HomeMove {
    pub next: Lifestyle,
    pub visit: bool,
}

/// The move index of a home move (the order [`ChronicCareGame::game`] lists them in).
fn home_index(m: HomeMove) -> usize {
    2 * (m.next == Lifestyle::NonBeneficial) as usize + m.visit as usize
}

fn home_move(index: usize) -> HomeMove {
    HomeMove {
        next: LIFESTYLES[index / 2],
        visit: index % 2 == 1,
    }
}

/// The state index of (stage h in 1..=H, lifestyle, office?) and of the acute states.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub stages: usize,
}

impl Layout {
    pub fn chronic(&self, h: usize, l: Lifestyle, office: bool) -> usize {
        4 * (h - 1) + 2 * (l == Lifestyle::NonBeneficial) as usize + office as usize
    }
    pub fn acute(&self, l: Lifestyle) -> usize {
        4 * self.stages + (l == Lifestyle::NonBeneficial) as usize
    }
    pub fn len(&self) -> usize {
        4 * self.stages + 2
    }
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// A patient strategy: the home move at each (stage, current lifestyle).
pub type PatientStrategy = Vec<[HomeMove; 2]>;

/// One solved profile, read in the game's own terms.
#[derive(Clone, Debug, Serialize)]
pub struct ChronicOutcome {
    /// PA's home move at stage h (index h − 1), for current lifestyle B and Nb.
    pub patient: PatientStrategy,
    /// PCP's effort at stage h, for current lifestyle B and Nb.
    pub physician: Vec<[Effort; 2]>,
    pub certificate: Certificate,
    /// Each player's discounted value from (1, B, Hm).
    pub value_pa: f64,
    pub value_pcp: f64,
}

impl ChronicCareGame {
    pub fn layout(&self) -> Layout {
        Layout {
            stages: self.h_po.len(),
        }
    }

    /// The game as states and moves (Eq. 5.1's product of health, lifestyle and setting
    /// transitions; Appendix B.2's rewards).
    pub fn game(&self) -> Game {
        let lay = self.layout();
        let stages = lay.stages;
        let acute = stages + 1;
        // Where stage h' (1-based) with lifestyle l lands when the setting would be `office`.
        let land = |h2: usize, l: Lifestyle, office: bool| {
            if h2 == acute {
                lay.acute(l)
            } else {
                lay.chronic(h2, l, office)
            }
        };
        let name = |l: Lifestyle| match l {
            Lifestyle::Beneficial => "B",
            Lifestyle::NonBeneficial => "Nb",
        };
        let mut states = Vec::with_capacity(lay.len());
        for h in 1..=stages {
            let u = self.utility[h - 1];
            for l in LIFESTYLES {
                let tpm = match l {
                    Lifestyle::Beneficial => &self.h_b[h - 1],
                    Lifestyle::NonBeneficial => &self.h_nb[h - 1],
                };
                let moves = (0..4)
                    .map(|k| {
                        let m = home_move(k);
                        let cost = match (l, m.next) {
                            (Lifestyle::Beneficial, Lifestyle::Beneficial) => self.c1,
                            (Lifestyle::NonBeneficial, Lifestyle::Beneficial) => self.c2,
                            _ => 0.0,
                        };
                        let verb = match (l, m.next) {
                            (Lifestyle::Beneficial, Lifestyle::Beneficial) => "maintain",
                            (Lifestyle::Beneficial, _) => "relapse",
                            (_, Lifestyle::Beneficial) => "switch",
                            _ => "status quo",
                        };
                        Move {
                            label: format!("{verb}, {}", if m.visit { "PCP" } else { "home" }),
                            reward: [u - cost, 0.0],
                            next: tpm
                                .iter()
                                .enumerate()
                                .filter(|(_, p)| **p > 0.0)
                                .map(|(j, p)| (land(j + 1, m.next, m.visit), *p))
                                .collect(),
                        }
                    })
                    .collect();
                states.push(State {
                    label: format!("({h},{},Hm)", name(l)),
                    controller: Some(PA),
                    moves,
                });
                let office = [Effort::High, Effort::Low]
                    .into_iter()
                    .map(|e| {
                        let to_b = match (l, e) {
                            (Lifestyle::Beneficial, _) => 1.0,
                            (_, Effort::High) => self.p_high_b,
                            (_, Effort::Low) => 1.0 - self.p_low_nb,
                        };
                        let mut next = Vec::new();
                        for (j, p) in self.h_po[h - 1].iter().enumerate() {
                            for (l2, q) in [
                                (Lifestyle::Beneficial, to_b),
                                (Lifestyle::NonBeneficial, 1.0 - to_b),
                            ] {
                                if p * q > 0.0 {
                                    next.push((land(j + 1, l2, false), p * q));
                                }
                            }
                        }
                        let (pay, fee) = match e {
                            Effort::High => (self.m1, self.n1),
                            Effort::Low => (self.m2, self.n2),
                        };
                        Move {
                            label: format!("{e:?} effort").to_lowercase(),
                            reward: [u - pay, fee],
                            next,
                        }
                    })
                    .collect();
                states.push(State {
                    label: format!("({h},{},Po)", name(l)),
                    controller: Some(PCP),
                    moves: office,
                });
            }
        }
        for l in LIFESTYLES {
            states.push(State {
                label: format!("({acute},{},Hs)", name(l)),
                controller: None,
                moves: vec![Move {
                    label: "hospital".into(),
                    reward: [self.utility[acute - 1] - self.m_hs, -self.u_hs],
                    next: self
                        .h_hs
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| **p > 0.0)
                        .map(|(j, p)| (land(j + 1, l, false), *p))
                        .collect(),
                }],
            });
        }
        Game {
            states,
            discount: self.discount,
        }
    }

    /// NLP-2's constraint (7): PCP sees the stage, not the lifestyle, so its effort at
    /// (h, B, Po) and (h, Nb, Po) is one choice.
    pub fn observation_ties(&self) -> Vec<Vec<usize>> {
        let lay = self.layout();
        (1..=lay.stages)
            .map(|h| {
                LIFESTYLES
                    .iter()
                    .map(|l| lay.chronic(h, *l, true))
                    .collect()
            })
            .collect()
    }

    /// Read a profile back in the game's terms, with its certificate.
    pub fn outcome(&self, game: &Game, profile: &Profile) -> Result<ChronicOutcome, String> {
        let lay = self.layout();
        let v = game.values(profile);
        let start = lay.chronic(1, Lifestyle::Beneficial, false);
        Ok(ChronicOutcome {
            patient: (1..=lay.stages)
                .map(|h| LIFESTYLES.map(|l| home_move(profile[lay.chronic(h, l, false)])))
                .collect(),
            physician: (1..=lay.stages)
                .map(|h| LIFESTYLES.map(|l| effort(profile[lay.chronic(h, l, true)])))
                .collect(),
            certificate: game.certificate(profile)?,
            value_pa: v[PA][start],
            value_pcp: v[PCP][start],
        })
    }

    /// The game's pure equilibria: NLP-2 (PCP's effort tied across lifestyles) — its first
    /// best solutions, or the second best when none is an equilibrium — and NLP-1's
    /// unrestricted pure equilibria, which always exist in a perfect-information game.
    pub fn solve(&self) -> Result<ChronicSolution, String> {
        let game = self.game();
        game.validate().map_err(|e| e.to_string())?;
        let read = |found: Vec<(Profile, Certificate)>| -> Result<Vec<ChronicOutcome>, String> {
            found.iter().map(|(p, _)| self.outcome(&game, p)).collect()
        };
        let tied = game.pure_equilibria(PCP, &self.observation_ties())?;
        let free = game.pure_equilibria(PCP, &[])?;
        Ok(ChronicSolution {
            second_best: match (&tied.first_best.is_empty(), tied.second_best) {
                (true, Some((p, _))) => Some(self.outcome(&game, &p)?),
                _ => None,
            },
            first_best: read(tied.first_best)?,
            unrestricted: read(free.first_best)?,
        })
    }

    /// PA's best response when PCP plays `effort` in every office state, with its gap.
    pub fn patient_response(
        &self,
        effort_everywhere: Effort,
    ) -> Result<(PatientStrategy, f64), String> {
        let game = self.game();
        let lay = self.layout();
        let mut start = vec![0; lay.len()];
        for h in 1..=lay.stages {
            for l in LIFESTYLES {
                start[lay.chronic(h, l, true)] = effort_index(effort_everywhere);
            }
        }
        let p = game.best_response(PA, &start)?;
        let strategy = (1..=lay.stages)
            .map(|h| LIFESTYLES.map(|l| home_move(p[lay.chronic(h, l, false)])))
            .collect();
        Ok((strategy, game.gap(PA, &p)))
    }

    /// PCP's tied effort (one per stage) against a fixed patient strategy that minimises its
    /// NLP-2 value: a best response when that value is 0, the second best otherwise.
    pub fn physician_response(
        &self,
        patient: &PatientStrategy,
    ) -> Result<(Vec<Effort>, f64), String> {
        let game = self.game();
        let mut best: Option<Scored> = None;
        // The tied strategies share ψ's constraints (PA's moves are fixed), so a vertex the
        // simplex finds for one may be proven optimal for another.
        let mut vertices: Vec<Vertex> = Vec::new();
        for p in self.tied_physician_strategies(&game, patient)? {
            // The first strategy whose ψ undercuts the best so far by the tolerance replaces
            // it; bounds decide most comparisons, the simplex the rest (issue 29).
            if let Some(b) = &best {
                if game.psi_lower_bound(PCP, &p) >= b.high() - GAP_TOLERANCE {
                    continue;
                }
            }
            let mut candidate = Scored::new(&game, p, &vertices)?;
            let replaces = match &mut best {
                None => true,
                Some(b) => candidate.undercuts(b, &game, &mut vertices)?,
            };
            if replaces {
                best = Some(candidate);
            }
        }
        let mut best = best.expect("at least one PCP strategy");
        let psi = best.value(&game, &mut vertices)?;
        Ok((self.tied_efforts(&best.profile), psi))
    }

    /// PCP's tied strategies (one effort per stage) against a fixed patient strategy, as
    /// profiles of `game`.
    fn tied_physician_strategies(
        &self,
        game: &Game,
        patient: &PatientStrategy,
    ) -> Result<Vec<Profile>, String> {
        let lay = self.layout();
        let mut strategies = game.strategies(PCP, &self.observation_ties())?;
        for p in &mut strategies {
            for (h, moves) in patient.iter().enumerate() {
                for (l, m) in LIFESTYLES.iter().zip(moves) {
                    p[lay.chronic(h + 1, *l, false)] = home_index(*m);
                }
            }
        }
        Ok(strategies)
    }

    /// PCP's effort per stage in a tied profile.
    fn tied_efforts(&self, p: &Profile) -> Vec<Effort> {
        let lay = self.layout();
        (1..=lay.stages)
            .map(|h| effort(p[lay.chronic(h, Lifestyle::Beneficial, true)]))
            .collect()
    }
}

/// A PCP strategy with bounds on its ψ; the simplex runs only when a comparison needs it.
struct Scored {
    profile: Profile,
    bounds: PsiBounds,
    simplex: Option<f64>,
}

impl Scored {
    fn new(game: &Game, profile: Profile, vertices: &[Vertex]) -> Result<Self, String> {
        let bounds = game.psi_bounds(PCP, &profile, vertices)?;
        Ok(Scored {
            profile,
            bounds,
            simplex: None,
        })
    }

    fn low(&self) -> f64 {
        self.simplex.unwrap_or(self.bounds.low)
    }

    fn high(&self) -> f64 {
        self.simplex.unwrap_or(self.bounds.high)
    }

    /// ψ by the simplex, keeping the optimum's vertex for the next strategies.
    fn solve(&mut self, game: &Game, vertices: &mut Vec<Vertex>) -> Result<f64, String> {
        if let Some(psi) = self.simplex {
            return Ok(psi);
        }
        let (psi, vertex) = game.psi_by_simplex(PCP, &self.profile)?;
        vertices.extend(vertex);
        self.simplex = Some(psi);
        Ok(psi)
    }

    /// ψ: the bounds' when they pin it down, else the simplex's.
    fn value(&mut self, game: &Game, vertices: &mut Vec<Vertex>) -> Result<f64, String> {
        match self.simplex {
            None if self.bounds.is_exact() => Ok(self.bounds.low),
            _ => self.solve(game, vertices),
        }
    }

    /// Whether this ψ is below `other`'s by more than the tolerance: decided on the bounds,
    /// solving this ψ and then the other's only while they leave it open.
    fn undercuts(
        &mut self,
        other: &mut Scored,
        game: &Game,
        vertices: &mut Vec<Vertex>,
    ) -> Result<bool, String> {
        loop {
            if self.high() < other.low() - GAP_TOLERANCE {
                return Ok(true);
            }
            if self.low() >= other.high() - GAP_TOLERANCE {
                return Ok(false);
            }
            if self.simplex.is_none() {
                self.solve(game, vertices)?;
            } else {
                other.solve(game, vertices)?;
            }
        }
    }
}

fn effort(index: usize) -> Effort {
    if index == 0 {
        Effort::High
    } else {
        Effort::Low
    }
}

fn effort_index(e: Effort) -> usize {
    (e == Effort::Low) as usize
}

/// What [`ChronicCareGame::solve`] found.
#[derive(Clone, Debug, Serialize)]
pub struct ChronicSolution {
    /// NLP-2's first best solutions: equilibria in which PCP's effort ignores the lifestyle.
    pub first_best: Vec<ChronicOutcome>,
    /// NLP-2's second best when no first best exists.
    pub second_best: Option<ChronicOutcome>,
    /// NLP-1's pure equilibria with PCP free to condition on the lifestyle.
    pub unrestricted: Vec<ChronicOutcome>,
}

/// A count over the chronic stages, as the dissertation's four colours: in how many of the H
/// stages PA does the thing (all, all but one, …, none). For H = 3: always, 2 of 3, 1 of 3,
/// never.
pub fn count_class(count: usize, stages: usize) -> usize {
    stages - count
}

/// Table 5.1's patient grid: the visit payment of the PCP's effort level over [0, 0.20] and
/// the cost pairs c1 ∈ [0.01, 0.10), c2 ∈ (0.01, 0.10] with c1 < c2, all in steps of 0.01 —
/// 21 × 45 = 945 cases.
pub fn patient_grid() -> Vec<(f64, f64, f64)> {
    let mut out = Vec::new();
    for m in 0..=20 {
        for c1 in 1..10 {
            for c2 in (c1 + 1)..=10 {
                out.push((m as f64 / 100.0, c1 as f64 / 100.0, c2 as f64 / 100.0));
            }
        }
    }
    out
}

/// One patient case: the visit payment, the costs, PA's best response and its gap.
#[derive(Clone, Debug, Serialize)]
pub struct PatientCase {
    pub effort: Effort,
    pub payment: f64,
    pub c1: f64,
    pub c2: f64,
    /// Stages with a PCP visit next period, for current lifestyle B and Nb.
    pub visits: [usize; 2],
    /// Stages choosing lifestyle B next period, for current lifestyle B and Nb.
    pub beneficial: [usize; 2],
    pub gap: f64,
}

/// Section 5.4.2's patient experiment: over the 945-case grid, PCP plays `effort` everywhere
/// and PA best-responds (the payment of the other effort level is irrelevant, and 0).
pub fn patient_experiment(
    base: &ChronicCareGame,
    effort: Effort,
) -> Result<Vec<PatientCase>, String> {
    patient_grid()
        .into_par_iter()
        .map(|(m, c1, c2)| {
            let mut g = base.clone();
            (g.m1, g.m2) = match effort {
                Effort::High => (m, 0.0),
                Effort::Low => (0.0, m),
            };
            (g.c1, g.c2) = (c1, c2);
            let (s, gap) = g.patient_response(effort)?;
            let count =
                |f: &dyn Fn(&HomeMove) -> bool, l: usize| s.iter().filter(|m| f(&m[l])).count();
            Ok(PatientCase {
                effort,
                payment: m,
                c1,
                c2,
                visits: [0, 1].map(|l| count(&|m| m.visit, l)),
                beneficial: [0, 1].map(|l| count(&|m| m.next == Lifestyle::Beneficial, l)),
                gap,
            })
        })
        .collect()
}

/// The share (percent) of cases in each count class, always first.
pub fn class_shares(counts: impl Iterator<Item = usize>, stages: usize) -> Vec<f64> {
    let mut n = vec![0usize; stages + 1];
    let mut total = 0;
    for c in counts {
        n[count_class(c, stages)] += 1;
        total += 1;
    }
    n.iter()
        .map(|k| 100.0 * *k as f64 / total.max(1) as f64)
        .collect()
}

/// Section 5.4.3's three patient strategies: lifestyle kept (maintain B, status quo Nb), a
/// PCP visit from stage `first_visit` on (1: always, 2: from stage 2, 3: only at stage 3).
pub fn patient_strategy(stages: usize, first_visit: usize) -> PatientStrategy {
    (1..=stages)
        .map(|h| {
            LIFESTYLES.map(|l| HomeMove {
                next: l,
                visit: h >= first_visit,
            })
        })
        .collect()
}

/// One physician case: reimbursements, PCP's tied effort per stage, its NLP-2 value.
#[derive(Clone, Debug, Serialize)]
pub struct PhysicianCase {
    pub patient_strategy: usize,
    pub u_hs: f64,
    pub n1: f64,
    pub n2: f64,
    pub efforts: Vec<Effort>,
    /// 0 for a best response (first best); positive for the second best.
    pub psi: f64,
}

/// The dissertation's name for a tied PCP strategy: S1 = high everywhere, S2 low at stage 1
/// only, S3 high at the last stage only, S4 low everywhere (for H = 3); others by their
/// letters, stage 1 first.
pub fn physician_strategy_name(efforts: &[Effort]) -> String {
    let letters: String = efforts
        .iter()
        .map(|e| if *e == Effort::High { 'H' } else { 'L' })
        .collect();
    match letters.as_str() {
        "HHH" => "S1".into(),
        "LHH" => "S2".into(),
        "LLH" => "S3".into(),
        "LLL" => "S4".into(),
        _ => letters,
    }
}

/// Section 5.4.3's physician experiment for one patient strategy (1, 2 or 3) and disutility:
/// n1, n2 over [0, 0.20] in steps of 0.01 (441 cases).
pub fn physician_experiment(
    base: &ChronicCareGame,
    patient_strategy_number: usize,
    u_hs: f64,
) -> Result<Vec<PhysicianCase>, String> {
    let stages = base.layout().stages;
    let strategy = patient_strategy(stages, patient_strategy_number);
    let grid: Vec<(f64, f64)> = (0..=20)
        .flat_map(|a| (0..=20).map(move |b| (a as f64 / 100.0, b as f64 / 100.0)))
        .collect();
    grid.into_par_iter()
        .map(|(n1, n2)| {
            let mut g = base.clone();
            (g.n1, g.n2, g.u_hs) = (n1, n2, u_hs);
            let (efforts, psi) = g.physician_response(&strategy)?;
            Ok(PhysicianCase {
                patient_strategy: patient_strategy_number,
                u_hs,
                n1,
                n2,
                efforts,
                psi,
            })
        })
        .collect()
}

/// Where PA's visit count changes as the high-effort payment m1 rises over [0, 0.20] (PCP
/// high everywhere): (m1, visits) at each change, starting at m1 = 0, for the lifestyle given.
pub fn visit_thresholds(
    base: &ChronicCareGame,
    lifestyle: Lifestyle,
) -> Result<Vec<(f64, usize)>, String> {
    let l = (lifestyle == Lifestyle::NonBeneficial) as usize;
    let mut out: Vec<(f64, usize)> = Vec::new();
    for k in 0..=20 {
        let mut g = base.clone();
        g.m1 = k as f64 / 100.0;
        let (s, _) = g.patient_response(Effort::High)?;
        let visits = s.iter().filter(|m| m[l].visit).count();
        if out.last().is_none_or(|(_, v)| *v != visits) {
            out.push((g.m1, visits));
        }
    }
    Ok(out)
}

/// Every key of the chronic-care game: unit and meaning (Section 5.4.1, Appendix B.4). Health
/// matrices: rows h = 1..H, columns h' = 1..H + 1 (the last is death); `utility` by h.
pub const KEY_DOCS: &[medisim_core::params::KeyDoc] = &[
    medisim_core::params::key_doc(
        "h_po",
        "probability",
        "health transitions after a PCP visit",
    ),
    medisim_core::params::key_doc(
        "h_b",
        "probability",
        "health transitions at home with lifestyle B",
    ),
    medisim_core::params::key_doc(
        "h_nb",
        "probability",
        "health transitions at home with lifestyle Nb",
    ),
    medisim_core::params::key_doc(
        "h_hs",
        "probability",
        "the health distribution after a hospital period",
    ),
    medisim_core::params::key_doc(
        "utility",
        "utility",
        "the patient-agent's health utility u(h)",
    ),
    medisim_core::params::key_doc(
        "p_high_b",
        "probability",
        "next lifestyle B from Nb under the PCP's high effort",
    ),
    medisim_core::params::key_doc(
        "p_low_nb",
        "probability",
        "next lifestyle Nb from Nb under low effort",
    ),
    medisim_core::params::key_doc("discount", "-", "β: both agents' discount factor"),
    medisim_core::params::key_doc(
        "m1",
        "payment",
        "the patient-agent's payment for a visit with high effort",
    ),
    medisim_core::params::key_doc(
        "m2",
        "payment",
        "the patient-agent's payment for a visit with low effort",
    ),
    medisim_core::params::key_doc(
        "c1",
        "cost",
        "the patient-agent's cost of keeping lifestyle B",
    ),
    medisim_core::params::key_doc(
        "c2",
        "cost",
        "the patient-agent's cost of switching to lifestyle B",
    ),
    medisim_core::params::key_doc(
        "m_hs",
        "payment",
        "the patient-agent's payment for a hospital period",
    ),
    medisim_core::params::key_doc(
        "n1",
        "payment",
        "the PCP's reimbursement net of cost for high effort",
    ),
    medisim_core::params::key_doc(
        "n2",
        "payment",
        "the PCP's reimbursement net of cost for low effort",
    ),
    medisim_core::params::key_doc(
        "u_hs",
        "utility",
        "the PCP's disutility of each hospital period",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chd_game_has_fourteen_states_and_is_well_formed() {
        let g = ChronicCareGame::default();
        g.validate().unwrap();
        let game = g.game();
        assert_eq!(game.states.len(), 14);
        game.validate().unwrap();
    }

    /// Section 5.4.2's worked examples of the visit thresholds in m1 (PCP high everywhere).
    #[test]
    fn the_worked_examples_thresholds_reproduce() {
        let mut g = ChronicCareGame {
            c1: 0.01,
            c2: 0.02,
            ..Default::default()
        };
        // Lifestyle B: always below 0.09, sometimes 0.09–0.15, never above 0.15.
        let t = visit_thresholds(&g, Lifestyle::Beneficial).unwrap();
        assert_eq!(t.first(), Some(&(0.0, 3)));
        assert!(
            (t[1].0 - 0.09).abs() < 1e-12 && t[1].1 > 0 && t[1].1 < 3,
            "{t:?}"
        );
        assert_eq!(t.last(), Some(&(0.16, 0)), "{t:?}");
        // Lifestyle Nb with c1 0.02, c2 0.05: always below 0.15, sometimes to 0.18, never after.
        (g.c1, g.c2) = (0.02, 0.05);
        let t = visit_thresholds(&g, Lifestyle::NonBeneficial).unwrap();
        assert_eq!(t.first(), Some(&(0.0, 3)));
        assert!(
            (t[1].0 - 0.15).abs() < 1e-12 && t[1].1 > 0 && t[1].1 < 3,
            "{t:?}"
        );
        assert_eq!(t.last(), Some(&(0.19, 0)), "{t:?}");
    }

    /// Section 5.4.3's example: PA strategy 2, n1 = 0, n2 = 0.02 — S4, S3, S2 as the
    /// disutility rises through 0.1, 0.2, 0.3. All three are second best (ψ > 0): with
    /// n2 > n1, PCP would rather be low with a B patient and high with an Nb one.
    #[test]
    fn the_physician_example_reproduces() {
        let strategy = patient_strategy(3, 2);
        for (u_hs, name) in [(0.1, "S4"), (0.2, "S3"), (0.3, "S2")] {
            let g = ChronicCareGame {
                n1: 0.0,
                n2: 0.02,
                u_hs,
                ..Default::default()
            };
            let (efforts, psi) = g.physician_response(&strategy).unwrap();
            assert_eq!(physician_strategy_name(&efforts), name, "u_hs {u_hs}");
            assert!(psi > 1e-6, "{psi}");
        }
    }

    /// The default game's equilibria carry their certificates; without NLP-2's tie the
    /// perfect-information game always has a pure equilibrium.
    #[test]
    fn the_default_game_is_solved_with_certificates() {
        let s = ChronicCareGame::default().solve().unwrap();
        assert!(!s.unrestricted.is_empty());
        for o in s.first_best.iter().chain(&s.unrestricted) {
            let c = o.certificate;
            assert!(
                c.is_equilibrium() && c.psi.iter().all(|p| *p < 1e-7),
                "{c:?}"
            );
        }
        if let Some(o) = &s.second_best {
            assert!(o.certificate.psi[1] > 1e-9);
        }
    }

    /// Section 5.4.3's findings over the nine 441-case panels: only the four strategies S1–S4
    /// appear; the strategy is decided by n1 − n2 (every non-S1 case above the 45° line and
    /// every non-S4 case below it lies within 0.07 of it — Incentive 1); that band widens as
    /// the disutility rises, for every patient strategy (Incentive 2); and PA strategy 2 draws
    /// the most S2 (Incentive 3). The dissertation's other half of Incentive 3, PA strategy 3
    /// drawing the most S3, does not reproduce: PA strategy 2 draws more S3 at every u_hs.
    #[test]
    fn the_physician_experiments_findings_reproduce() {
        let g = ChronicCareGame::default();
        let mut s2 = [[0usize; 3]; 3];
        let mut s3 = [[0usize; 3]; 3];
        for pa in 1..=3 {
            let mut last_band = 0.0;
            for (k, u) in [0.1, 0.2, 0.3].into_iter().enumerate() {
                let cases = physician_experiment(&g, pa, u).unwrap();
                assert_eq!(cases.len(), 441);
                let mut band: f64 = 0.0;
                for c in &cases {
                    let name = physician_strategy_name(&c.efforts);
                    assert!(["S1", "S2", "S3", "S4"].contains(&name.as_str()), "{name}");
                    if (name != "S1" && c.n1 > c.n2) || (name != "S4" && c.n2 > c.n1) {
                        band = band.max((c.n1 - c.n2).abs());
                    }
                    s2[pa - 1][k] += (name == "S2") as usize;
                    s3[pa - 1][k] += (name == "S3") as usize;
                }
                assert!(band <= 0.07 + 1e-9, "PA{pa} u_hs {u}: band {band}");
                assert!(
                    band > last_band,
                    "PA{pa} u_hs {u}: band {band} ≤ {last_band}"
                );
                last_band = band;
            }
        }
        for k in 0..3 {
            assert!(s2[1][k] > s2[0][k] && s2[1][k] > s2[2][k], "{s2:?}");
            assert!(s3[1][k] > s3[2][k], "{s3:?}");
        }
    }

    /// Over every tied PCP strategy of Table 5.4's grid (all three patient strategies, u_hs
    /// 0.2, every other n1), the simplex's ψ lies within `psi_bounds`, with or without the
    /// vertices the simplex found for the case's other strategies, and equals them where they
    /// meet; `psi` agrees with it. Exact and open bounds both occur, and known vertices settle
    /// strategies the best response's vertex cannot.
    #[test]
    fn psi_bounds_hold_the_simplex_value() {
        let (mut exact, mut by_vertex, mut open, mut worst) = (0, 0, 0, 0.0f64);
        for pa in 1..=3 {
            let strategy = patient_strategy(3, pa);
            for (a, b) in (0..=20)
                .step_by(2)
                .flat_map(|a| (0..=20).map(move |b| (a, b)))
            {
                let mut g = ChronicCareGame::default();
                (g.n1, g.n2, g.u_hs) = (a as f64 / 100.0, b as f64 / 100.0, 0.2);
                let game = g.game();
                let mut vertices = Vec::new();
                for p in g.tied_physician_strategies(&game, &strategy).unwrap() {
                    let (lp, vertex) = game.psi_by_simplex(PCP, &p).unwrap();
                    assert!(game.psi_lower_bound(PCP, &p) <= lp + 1e-12, "{a} {b} {p:?}");
                    let alone = game.psi_bounds(PCP, &p, &[]).unwrap();
                    let known = game.psi_bounds(PCP, &p, &vertices).unwrap();
                    for bounds in [alone, known] {
                        assert!(
                            bounds.low <= lp + 1e-12 && lp <= bounds.high + 1e-12,
                            "{a} {b} {p:?}: {lp} outside {bounds:?}"
                        );
                        if bounds.is_exact() {
                            worst = worst.max((bounds.low - lp).abs());
                        }
                    }
                    match (alone.is_exact(), known.is_exact()) {
                        (true, _) => exact += 1,
                        (false, true) => by_vertex += 1,
                        (false, false) => open += 1,
                    }
                    assert!((game.psi(PCP, &p).unwrap() - lp).abs() < 1e-12);
                    vertices.extend(vertex);
                }
            }
        }
        eprintln!("exact {exact}, by a known vertex {by_vertex}, open {open}, largest difference {worst:e}");
        assert!(exact > 0 && by_vertex > 0 && open > 0);
        assert!(worst < 1e-12, "largest difference {worst:e}");
    }

    /// PCP's choice over its tied strategies, made on bounds, is the choice the simplex alone
    /// makes (every ψ solved, the same first-undercut rule), case by case over one panel of
    /// Table 5.4 per patient strategy: the same efforts, ψ on the same side of 1e-9 and within
    /// 1e-9 of it.
    #[test]
    fn choosing_on_bounds_is_choosing_on_the_simplex() {
        for pa in 1..=3 {
            let strategy = patient_strategy(3, pa);
            for (a, b) in (0..=20).flat_map(|a| (0..=20).step_by(3).map(move |b| (a, b))) {
                let mut g = ChronicCareGame::default();
                (g.n1, g.n2, g.u_hs) = (a as f64 / 100.0, b as f64 / 100.0, 0.3);
                let (efforts, psi) = g.physician_response(&strategy).unwrap();
                let game = g.game();
                let mut best: Option<(Profile, f64)> = None;
                for p in g.tied_physician_strategies(&game, &strategy).unwrap() {
                    let lp = game.psi_by_simplex(PCP, &p).unwrap().0;
                    if best.as_ref().is_none_or(|(_, x)| lp < x - GAP_TOLERANCE) {
                        best = Some((p, lp));
                    }
                }
                let (p, lp) = best.unwrap();
                assert_eq!(efforts, g.tied_efforts(&p), "PA {pa}, n1 {a}, n2 {b}");
                assert_eq!(psi > 1e-9, lp > 1e-9, "PA {pa}, n1 {a}, n2 {b}: {psi} {lp}");
                assert!(
                    (psi - lp).abs() < 1e-9,
                    "PA {pa}, n1 {a}, n2 {b}: {psi} {lp}"
                );
            }
        }
    }

    /// How many of Table 5.4's 31,752 programs the simplex still solves (the figure in
    /// docs/games.md): `cargo test --release -p medisim-games -- --ignored --nocapture
    /// simplex_runs_of_table_5_4`.
    #[test]
    #[ignore = "a measurement, printed"]
    fn simplex_runs_of_table_5_4() {
        let before = crate::stochastic::simplex_runs();
        let cases = crate::tables::physician_cases(&ChronicCareGame::default()).unwrap();
        let runs = crate::stochastic::simplex_runs() - before;
        eprintln!(
            "{} cases, {} programs, {runs} simplex runs",
            cases.len(),
            cases.len() * 8
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(24))]
        /// On random payments, costs, reimbursements and PCP strategies, PA's policy-iteration
        /// best response has NLP-1 value 0 and a value vector at least that of 64 random pure
        /// strategies in every state.
        #[test]
        fn the_patients_best_response_beats_every_strategy_tried(
            x in proptest::collection::vec(0.0f64..0.2, 7),
            pcp in proptest::collection::vec(0usize..2, 6),
            others in proptest::collection::vec(proptest::collection::vec(0usize..4, 6), 64),
        ) {
            let g = ChronicCareGame {
                m1: x[0], m2: x[1], c1: x[2], c2: x[3], m_hs: x[4], n1: x[5], n2: x[6],
                ..Default::default()
            };
            let game = g.game();
            let lay = g.layout();
            let mut p = vec![0; lay.len()];
            let mut k = 0;
            for h in 1..=3 {
                for l in LIFESTYLES {
                    p[lay.chronic(h, l, true)] = pcp[k];
                    k += 1;
                }
            }
            let br = game.best_response(PA, &p).unwrap();
            proptest::prop_assert!(game.psi(PA, &br).unwrap() < 1e-7);
            proptest::prop_assert!(game.psi_by_simplex(PA, &br).unwrap().0 < 1e-7);
            let v = &game.values(&br)[PA];
            for o in &others {
                let mut q = br.clone();
                let mut k = 0;
                for h in 1..=3 {
                    for l in LIFESTYLES {
                        q[lay.chronic(h, l, false)] = o[k];
                        k += 1;
                    }
                }
                let w = &game.values(&q)[PA];
                proptest::prop_assert!(v.iter().zip(w.iter()).all(|(a, b)| *a >= b - 1e-9));
            }
        }
    }

    #[test]
    fn bad_parameters_are_named() {
        let g = ChronicCareGame {
            h_b: vec![
                vec![0.5, 0.5, 0.0, 0.0],
                vec![0.1, 0.1, 0.1, 0.1],
                vec![0.0, 0.0, 0.0, 1.0],
            ],
            ..Default::default()
        };
        let e = g.validate().unwrap_err().to_string();
        assert!(e.contains("`h_b`") && e.contains("row 2"), "{e}");
        let e = ChronicCareGame::from_toml("discount = 1.0", "x.toml").unwrap_err();
        assert!(e.to_string().contains("`discount`"));
        // Just below 1 the LP failed as "Infeasible", naming no range.
        let e = ChronicCareGame::from_toml("discount = 0.9999999999999999", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`discount`") && e.contains("(0, 0.9999]"), "{e}");
        let edge = ChronicCareGame {
            discount: MAX_DISCOUNT,
            ..Default::default()
        };
        assert!(edge.validate().is_ok());
        let e = ChronicCareGame::from_toml("utilty = [1.0]", "x.toml").unwrap_err();
        assert!(e.to_string().contains("utilty"));
    }

    /// A best response that never settles ends after `MAX_ROUNDS` with the reason, whatever
    /// the payoffs (reached only past the parameters' range, which `check` refuses).
    #[test]
    fn an_unsettled_best_response_ends_with_the_reason() {
        let g = ChronicCareGame {
            m1: 1e20,
            ..Default::default()
        };
        let start = std::time::Instant::now();
        let e = g.solve().unwrap_err();
        assert!(e.contains("did not settle in 1000 rounds"), "{e}");
        assert!(start.elapsed().as_secs() < 10);
    }
}
