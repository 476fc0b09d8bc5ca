//! Finite, discounted, general-sum two-player stochastic games of perfect information: in each
//! state at most one player moves (a switching-control game whose controllers take turns). The
//! engine knows nothing of any particular game: it evaluates a pair of pure stationary
//! strategies exactly (a linear system, `nalgebra`), computes a player's best response by policy
//! iteration, certifies a pair with the Filar–Vrieze program (NLP-1; a linear program once the
//! strategies are fixed, `good_lp` with `microlp`), and searches the pure equilibria by
//! enumerating one player's strategies — all a perfect-information game needs (Thuijsman and
//! Raghavan: pure stationary equilibria exist).

use good_lp::{constraint, microlp, variable, Expression, Solution, SolverModel, Variable};
use nalgebra::{DMatrix, DVector};
use serde::Serialize;

/// Numerical tolerance of a best-response gap: a deviation gaining less is no gain.
pub const GAP_TOLERANCE: f64 = 1e-9;

/// One move in a state: both players' immediate rewards and the next state's distribution.
#[derive(Clone, Debug)]
pub struct Move {
    pub label: String,
    pub reward: [f64; 2],
    /// (next state, probability); probabilities sum to one.
    pub next: Vec<(usize, f64)>,
}

/// A state, the player who moves there (`None`: nobody, a single move of nature), its moves.
#[derive(Clone, Debug)]
pub struct State {
    pub label: String,
    pub controller: Option<usize>,
    pub moves: Vec<Move>,
}

/// A game: its states and the discount factor both players use.
#[derive(Clone, Debug)]
pub struct Game {
    pub states: Vec<State>,
    pub discount: f64,
}

/// A pure stationary strategy pair: the move index chosen in every state (each state has one
/// controller, so one vector holds both players' choices).
pub type Profile = Vec<usize>;

/// The evidence that a profile is (or is not) an equilibrium, per player.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Certificate {
    /// The Filar–Vrieze objective minimised over the value vector with the strategies fixed
    /// (the NLP-1 value); 0 exactly at an equilibrium.
    pub psi: [f64; 2],
    /// The largest one-shot gain of a deviation, `max Q(s, a) − v(s)` over the player's states.
    pub gap: [f64; 2],
}

impl Certificate {
    pub fn is_equilibrium(&self) -> bool {
        self.gap.iter().all(|g| *g <= GAP_TOLERANCE)
    }
}

/// A game description that does not make a game.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GameFormError {
    #[error("state {state}: {message}")]
    State { state: String, message: String },
    #[error("discount {0} is outside (0, 1)")]
    Discount(f64),
}

impl Game {
    /// Check the description: moves present, one move where nobody controls, distributions
    /// that sum to one over existing states.
    pub fn validate(&self) -> Result<(), GameFormError> {
        if !(self.discount > 0.0 && self.discount < 1.0) {
            return Err(GameFormError::Discount(self.discount));
        }
        let n = self.states.len();
        for s in &self.states {
            let bad = |message: String| GameFormError::State {
                state: s.label.clone(),
                message,
            };
            if s.moves.is_empty() {
                return Err(bad("has no move".into()));
            }
            if s.controller.is_none() && s.moves.len() != 1 {
                return Err(bad("nobody moves but it offers several moves".into()));
            }
            if matches!(s.controller, Some(p) if p > 1) {
                return Err(bad("a controller other than player 0 or 1".into()));
            }
            for m in &s.moves {
                let total: f64 = m.next.iter().map(|(_, p)| p).sum();
                if m.next
                    .iter()
                    .any(|(t, p)| *t >= n || !(0.0..=1.0).contains(p))
                    || (total - 1.0).abs() > 1e-9
                {
                    return Err(bad(format!(
                        "move `{}` has no probability distribution over the states (sum {total})",
                        m.label
                    )));
                }
            }
        }
        Ok(())
    }

    fn chosen<'a>(&'a self, profile: &Profile, s: usize) -> &'a Move {
        &self.states[s].moves[profile[s]]
    }

    /// Both players' value vectors under a profile: `v = (I − βP)⁻¹ r`.
    pub fn values(&self, profile: &Profile) -> [DVector<f64>; 2] {
        let n = self.states.len();
        let mut a = DMatrix::<f64>::identity(n, n);
        let mut r = [DVector::zeros(n), DVector::zeros(n)];
        for s in 0..n {
            let m = self.chosen(profile, s);
            for (t, p) in &m.next {
                a[(s, *t)] -= self.discount * p;
            }
            r[0][s] = m.reward[0];
            r[1][s] = m.reward[1];
        }
        // I − βP is strictly diagonally dominant for β < 1, so the LU never fails.
        let lu = a.lu();
        let solve = |b: &DVector<f64>| lu.solve(b).expect("I - βP is nonsingular for β < 1");
        [solve(&r[0]), solve(&r[1])]
    }

    /// A move's value to `player` against the value vector `v`: `r + β Σ p v'`.
    fn q(&self, player: usize, m: &Move, v: &DVector<f64>) -> f64 {
        m.reward[player] + self.discount * m.next.iter().map(|(t, p)| p * v[*t]).sum::<f64>()
    }

    /// The states `player` controls.
    fn controlled(&self, player: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.states.len()).filter(move |s| self.states[*s].controller == Some(player))
    }

    /// `player`'s best response to the other's moves in `profile`, by policy iteration from
    /// `profile` (a move changes only when it gains more than the tolerance, so ties keep
    /// the current move and the iteration ends).
    pub fn best_response(&self, player: usize, profile: &Profile) -> Result<Profile, String> {
        let mut p = profile.clone();
        // Policy iteration ends in a few rounds; payoffs so large that values lose their
        // precision can make it cycle, which is refused, not looped on.
        for _ in 0..MAX_ROUNDS {
            let v = &self.values(&p)[player];
            let mut changed = false;
            for s in self.controlled(player).collect::<Vec<_>>() {
                let current = self.q(player, self.chosen(&p, s), v);
                let (best, q) = self.states[s]
                    .moves
                    .iter()
                    .enumerate()
                    .map(|(k, m)| (k, self.q(player, m, v)))
                    .fold((p[s], current), |acc, x| if x.1 > acc.1 { x } else { acc });
                if q > current + GAP_TOLERANCE {
                    p[s] = best;
                    changed = true;
                }
            }
            if !changed {
                return Ok(p);
            }
        }
        Err(format!(
            "the best response did not settle in {MAX_ROUNDS} rounds: the payoffs are too large \
             for the values to be compared"
        ))
    }

    /// The largest gain `player` could make by changing one move, against the profile's values.
    pub fn gap(&self, player: usize, profile: &Profile) -> f64 {
        let v = &self.values(profile)[player];
        self.controlled(player)
            .flat_map(|s| {
                self.states[s]
                    .moves
                    .iter()
                    .map(move |m| self.q(player, m, v) - v[s])
            })
            .fold(0.0, f64::max)
    }

    /// `player`'s part of the Filar–Vrieze objective (NLP-1, Eq. 5.9) minimised over its value
    /// vector with the strategies fixed: `min Σ_s [v(s) − r(s) − β (P v)(s)]` subject to
    /// `v(s) ≥ r(s, a) + β Σ p(s'|s, a) v(s')` for every move `a` open to `player` in `s`.
    /// Each summand is a nonnegative slack, so the value is 0 exactly when the profile's
    /// strategy for `player` is a best response.
    pub fn psi(&self, player: usize, profile: &Profile) -> Result<f64, String> {
        let n = self.states.len();
        // microlp reports free variables as unbounded, so v = w + floor with w ≥ 0: every
        // feasible v is at least the optimal value, itself at least min r / (1 − β).
        let floor = self
            .states
            .iter()
            .flat_map(|s| s.moves.iter().map(|m| m.reward[player]))
            .fold(0.0, f64::min)
            / (1.0 - self.discount)
            - 1.0;
        let mut vars = good_lp::variables!();
        let w: Vec<Variable> = (0..n).map(|_| vars.add(variable().min(0.0))).collect();
        let v = |s: usize| -> Expression { w[s] + floor };
        let lookahead = |m: &Move| -> Expression {
            let mut e = Expression::from(m.reward[player]);
            for (t, p) in &m.next {
                e += self.discount * p * v(*t);
            }
            e
        };
        let mut objective = Expression::from(0.0);
        for s in 0..n {
            objective += v(s) - lookahead(self.chosen(profile, s));
        }
        let mut model = vars.minimise(objective.clone()).using(microlp);
        for (s, st) in self.states.iter().enumerate() {
            let open: Vec<&Move> = if st.controller == Some(player) {
                st.moves.iter().collect()
            } else {
                vec![self.chosen(profile, s)]
            };
            for m in open {
                model = model.with(constraint!(v(s) >= lookahead(m)));
            }
        }
        let sol = model.solve().map_err(|e| format!("good_lp/microlp: {e}"))?;
        // Rounding in the simplex can leave a −1e-15; the value is a sum of slacks.
        Ok(sol.eval(&objective).max(0.0))
    }

    /// The profile's certificate: both players' NLP-1 values and best-response gaps.
    pub fn certificate(&self, profile: &Profile) -> Result<Certificate, String> {
        Ok(Certificate {
            psi: [self.psi(0, profile)?, self.psi(1, profile)?],
            gap: [self.gap(0, profile), self.gap(1, profile)],
        })
    }

    /// Every pure stationary strategy of `player` in which the states of each group in `tied`
    /// take the same move index (a player who cannot tell those states apart), the other
    /// player's moves set to the first.
    pub fn strategies(&self, player: usize, tied: &[Vec<usize>]) -> Result<Vec<Profile>, String> {
        let n = self.states.len();
        let mut group_of = vec![None; n];
        for (g, states) in tied.iter().enumerate() {
            for s in states {
                group_of[*s] = Some(g);
            }
        }
        // The decision units: each tied group once, each other controlled state alone.
        let mut units: Vec<Vec<usize>> = tied.to_vec();
        units.extend(
            self.controlled(player)
                .filter(|s| group_of[*s].is_none())
                .map(|s| vec![s]),
        );
        let arity: Vec<usize> = units
            .iter()
            .map(|u| {
                u.iter()
                    .map(|s| self.states[*s].moves.len())
                    .min()
                    .unwrap_or(1)
            })
            .collect();
        // Counted before anything is allocated: every profile is materialised and solved.
        let count = arity.iter().try_fold(1usize, |n, a| {
            n.checked_mul(*a).filter(|n| *n <= MAX_PROFILES)
        });
        let Some(count) = count else {
            return Err(format!(
                "player {player} has {} decision units: more than {MAX_PROFILES} strategy \
                 profiles to enumerate; use fewer stages",
                units.len()
            ));
        };
        let mut out = Vec::with_capacity(count);
        let mut digits = vec![0usize; units.len()];
        loop {
            let mut p = vec![0; n];
            for (u, d) in units.iter().zip(&digits) {
                for s in u {
                    p[*s] = *d;
                }
            }
            out.push(p);
            // Odometer over the units' move counts.
            let mut k = 0;
            loop {
                if k == units.len() {
                    return Ok(out);
                }
                digits[k] += 1;
                if digits[k] < arity[k] {
                    break;
                }
                digits[k] = 0;
                k += 1;
            }
        }
    }

    /// The pure equilibria found by enumerating `leader`'s strategies (tied as `tied`) and
    /// answering each with the other player's best response. With no tie every
    /// perfect-information game has one; with ties there may be none (`first_best` empty),
    /// and `second_best` is the enumerated pair with the least total NLP-1 value (NLP-2's
    /// "second best" among pairs where the other player best-responds).
    pub fn pure_equilibria(&self, leader: usize, tied: &[Vec<usize>]) -> Result<Search, String> {
        let follower = 1 - leader;
        let mut first_best = Vec::new();
        let mut second_best: Option<(Profile, Certificate)> = None;
        for start in self.strategies(leader, tied)? {
            let profile = self.best_response(follower, &start)?;
            let cert = self.certificate(&profile)?;
            let total = cert.psi[0] + cert.psi[1];
            if cert.is_equilibrium() {
                first_best.push((profile.clone(), cert));
            }
            if second_best
                .as_ref()
                .is_none_or(|(_, c)| total < c.psi[0] + c.psi[1] - GAP_TOLERANCE)
            {
                second_best = Some((profile, cert));
            }
        }
        Ok(Search {
            first_best,
            second_best,
        })
    }
}

/// Most strategy profiles an enumeration materialises (each is then solved).
pub const MAX_PROFILES: usize = 1 << 14;
/// Most rounds of policy iteration in one best response.
pub const MAX_ROUNDS: usize = 1_000;

/// What an equilibrium search found.
#[derive(Clone, Debug)]
pub struct Search {
    /// Profiles with both gaps zero: Nash equilibria (NLP-1 value 0).
    pub first_best: Vec<(Profile, Certificate)>,
    /// The enumerated profile with the least NLP-1 value (an equilibrium when one exists).
    pub second_best: Option<(Profile, Certificate)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-state-per-player game with a known answer: in state 0 player 0 chooses to stay
    /// (reward 1) or pass to state 1 (reward 0); in state 1 player 1 chooses to return to 0
    /// (rewards 2, 1) or stay (rewards 0, 3).
    fn toy() -> Game {
        let mv = |label: &str, reward: [f64; 2], to: usize| Move {
            label: label.into(),
            reward,
            next: vec![(to, 1.0)],
        };
        Game {
            states: vec![
                State {
                    label: "0".into(),
                    controller: Some(0),
                    moves: vec![mv("stay", [1.0, 0.0], 0), mv("pass", [0.0, 0.0], 1)],
                },
                State {
                    label: "1".into(),
                    controller: Some(1),
                    moves: vec![mv("return", [2.0, 1.0], 0), mv("stay", [0.0, 3.0], 1)],
                },
            ],
            discount: 0.9,
        }
    }

    /// A player with 40 two-move states has 2^40 profiles: refused at once, before any is
    /// built, naming the bound; 14 states (2^14) are enumerated.
    #[test]
    fn an_enumeration_past_the_bound_is_refused_before_it_allocates() {
        let chain = |n: usize| Game {
            states: (0..n)
                .map(|i| State {
                    label: i.to_string(),
                    controller: Some(0),
                    moves: (0..2)
                        .map(|k| Move {
                            label: k.to_string(),
                            reward: [k as f64, 0.0],
                            next: vec![((i + 1) % n, 1.0)],
                        })
                        .collect(),
                })
                .collect(),
            discount: 0.9,
        };
        let start = std::time::Instant::now();
        let e = chain(40).strategies(0, &[]).unwrap_err();
        assert!(
            e.contains("40 decision units") && e.contains("16384"),
            "{e}"
        );
        assert!(start.elapsed().as_secs() < 1);
        assert_eq!(chain(14).strategies(0, &[]).unwrap().len(), MAX_PROFILES);
    }

    #[test]
    fn values_solve_the_bellman_equation() {
        let g = toy();
        // Player 0 stays forever: v0(0) = 1 / (1 − 0.9) = 10.
        let v = g.values(&vec![0, 0]);
        assert!((v[0][0] - 10.0).abs() < 1e-12);
        // Player 1 stays in 1 forever: v1(1) = 30.
        let v = g.values(&vec![1, 1]);
        assert!((v[1][1] - 30.0).abs() < 1e-12);
    }

    #[test]
    fn best_responses_gaps_and_psi_agree() {
        let g = toy();
        // Player 1 prefers staying (3 forever) to returning, whatever player 0 does.
        let br = g.best_response(1, &vec![1, 0]).unwrap();
        assert_eq!(br, vec![1, 1]);
        // Against a player 1 who stays, passing earns 0 forever; staying 1 forever.
        assert_eq!(g.best_response(0, &vec![1, 1]).unwrap(), vec![0, 1]);
        let eq = vec![0, 1];
        let c = g.certificate(&eq).unwrap();
        assert!(
            c.is_equilibrium() && c.psi[0] < 1e-9 && c.psi[1] < 1e-9,
            "{c:?}"
        );
        // A profile that is not an equilibrium has a positive gap and a positive ψ.
        let c = g.certificate(&vec![1, 1]).unwrap();
        assert!(
            !c.is_equilibrium() && c.gap[0] > 0.5 && c.psi[0] > 0.5,
            "{c:?}"
        );
        let found = g.pure_equilibria(1, &[]).unwrap();
        assert_eq!(found.first_best.len(), 1);
        assert_eq!(found.first_best[0].0, eq);
    }

    #[test]
    fn tied_strategies_enumerate_groups_once() {
        let mut g = toy();
        g.states.push(State {
            label: "2".into(),
            controller: Some(1),
            moves: g.states[1].moves.clone(),
        });
        assert_eq!(g.strategies(1, &[]).unwrap().len(), 4);
        assert_eq!(g.strategies(1, &[vec![1, 2]]).unwrap().len(), 2);
    }

    #[test]
    fn a_malformed_game_is_refused() {
        let mut g = toy();
        g.states[0].moves[0].next = vec![(0, 0.5)];
        assert!(g.validate().unwrap_err().to_string().contains("state 0"));
        g = toy();
        g.discount = 1.0;
        assert!(g.validate().is_err());
    }
}
