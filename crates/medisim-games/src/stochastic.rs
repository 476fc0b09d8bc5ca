//! Finite, discounted, general-sum two-player stochastic games of perfect information: in each
//! state at most one player moves (a switching-control game whose controllers take turns). The
//! engine knows nothing of any particular game: it evaluates a pair of pure stationary
//! strategies exactly (a linear system, `nalgebra`), computes a player's best response by policy
//! iteration, certifies a pair with the Filar–Vrieze program (NLP-1; a linear program once the
//! strategies are fixed, `microlp`, reached only when bounds from the best response cannot
//! settle it), and searches the pure equilibria by
//! enumerating one player's strategies — all a perfect-information game needs (Thuijsman and
//! Raghavan: pure stationary equilibria exist).

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
        let lu = self.evaluation(profile);
        [0, 1].map(|player| self.solve_values(&lu, player, profile))
    }

    /// `player`'s value vector under a profile (one solve where [`Game::values`] makes two).
    pub fn player_values(&self, player: usize, profile: &Profile) -> DVector<f64> {
        self.solve_values(&self.evaluation(profile), player, profile)
    }

    /// The LU factors of `I − βP` under a profile.
    fn evaluation(
        &self,
        profile: &Profile,
    ) -> nalgebra::linalg::LU<f64, nalgebra::Dyn, nalgebra::Dyn> {
        let n = self.states.len();
        let mut a = DMatrix::<f64>::identity(n, n);
        for s in 0..n {
            for (t, p) in &self.chosen(profile, s).next {
                a[(s, *t)] -= self.discount * p;
            }
        }
        a.lu()
    }

    fn solve_values(
        &self,
        lu: &nalgebra::linalg::LU<f64, nalgebra::Dyn, nalgebra::Dyn>,
        player: usize,
        profile: &Profile,
    ) -> DVector<f64> {
        let r = DVector::from_iterator(
            self.states.len(),
            (0..self.states.len()).map(|s| self.chosen(profile, s).reward[player]),
        );
        // I − βP is strictly diagonally dominant for β < 1, so the LU never fails.
        lu.solve(&r).expect("I - βP is nonsingular for β < 1")
    }

    /// A move's value to `player` against the value vector `v`: `r + β Σ p v'`.
    fn q(&self, player: usize, m: &Move, v: &DVector<f64>) -> f64 {
        m.reward[player] + self.discount * m.next.iter().map(|(t, p)| p * v[*t]).sum::<f64>()
    }

    /// The moves open to `player` in state `s` with the others' moves fixed by `profile`:
    /// all of them where `player` controls `s`, the profile's move elsewhere.
    fn open_moves<'a>(
        &'a self,
        player: usize,
        profile: &'a Profile,
        s: usize,
    ) -> impl Iterator<Item = (usize, &'a Move)> + 'a {
        let controlled = self.states[s].controller == Some(player);
        self.states[s]
            .moves
            .iter()
            .enumerate()
            .filter(move |(k, _)| controlled || *k == profile[s])
    }

    /// The states `player` controls.
    fn controlled(&self, player: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.states.len()).filter(move |s| self.states[*s].controller == Some(player))
    }

    /// `player`'s best response to the other's moves in `profile`, by policy iteration from
    /// `profile` (a move changes only when it gains more than the tolerance, so ties keep
    /// the current move and the iteration ends).
    pub fn best_response(&self, player: usize, profile: &Profile) -> Result<Profile, String> {
        let v = self.player_values(player, profile);
        Ok(self.improve(player, profile.clone(), v)?.0)
    }

    /// Policy iteration from `p`, whose values for `player` are `v`: the best response and its
    /// values.
    fn improve(
        &self,
        player: usize,
        mut p: Profile,
        mut v: DVector<f64>,
    ) -> Result<(Profile, DVector<f64>), String> {
        // Policy iteration ends in a few rounds; payoffs so large that values lose their
        // precision can make it cycle, which is refused, not looped on.
        for _ in 0..MAX_ROUNDS {
            let mut changed = false;
            for s in self.controlled(player).collect::<Vec<_>>() {
                let current = self.q(player, self.chosen(&p, s), &v);
                let (best, q) = self.states[s]
                    .moves
                    .iter()
                    .enumerate()
                    .map(|(k, m)| (k, self.q(player, m, &v)))
                    .fold((p[s], current), |acc, x| if x.1 > acc.1 { x } else { acc });
                if q > current + GAP_TOLERANCE {
                    p[s] = best;
                    changed = true;
                }
            }
            if !changed {
                return Ok((p, v));
            }
            v = self.player_values(player, &p);
        }
        Err(format!(
            "the best response did not settle in {MAX_ROUNDS} rounds: the payoffs are too large \
             for the values to be compared"
        ))
    }

    /// The largest gain `player` could make by changing one move, against the profile's values.
    pub fn gap(&self, player: usize, profile: &Profile) -> f64 {
        self.gap_at(player, &self.player_values(player, profile))
    }

    /// The largest one-move gain against `player`'s values `v`.
    fn gap_at(&self, player: usize, v: &DVector<f64>) -> f64 {
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
    ///
    /// The simplex runs only when [`Game::psi_bounds`] cannot pin the value down.
    pub fn psi(&self, player: usize, profile: &Profile) -> Result<f64, String> {
        let bounds = self.psi_bounds(player, profile, &[])?;
        if bounds.is_exact() {
            Ok(bounds.low)
        } else {
            Ok(self.psi_by_simplex(player, profile)?.0)
        }
    }

    /// Bounds on [`Game::psi`] without the simplex (issue 29: policy iteration and small
    /// linear solves replace most of Table 5.4's simplex runs).
    ///
    /// The upper bound is the program's objective at `player`'s best-response values `v*`,
    /// raised by n times the most they break a constraint by. The bounds close in on the
    /// optimum when LP duality proves a vertex optimal ([`Game::psi_at_vertex`]): the best
    /// response's vertex, or one of `known` (vertices the simplex found for other objectives
    /// over the same constraints). Otherwise the lower bound is [`Game::psi_lower_bound`].
    pub fn psi_bounds(
        &self,
        player: usize,
        profile: &Profile,
        known: &[Vertex],
    ) -> Result<PsiBounds, String> {
        let v_profile = self.player_values(player, profile);
        let from_gap = self.bound_from_gap(self.gap_at(player, &v_profile));
        let (best, v) = self.improve(player, profile.clone(), v_profile)?;
        let above = self.psi_above(player, profile, &v);
        let best_vertex: Vertex = best.iter().copied().enumerate().collect();
        let proven = std::iter::once(&best_vertex)
            .chain(known)
            .find_map(|vertex| self.psi_at_vertex(player, profile, vertex));
        Ok(match proven {
            Some(b) => PsiBounds {
                low: b.low,
                high: b.high.min(above),
            },
            None => PsiBounds {
                low: from_gap.min(above),
                high: above,
            },
        })
    }

    /// An upper bound on ψ from any values `v`: the objective at `v` raised by `n δ`, where
    /// `δ` is the most `v` breaks a constraint by (policy iteration stops within the gap
    /// tolerance, so the best response's values may break one by up to 1e-9). `v + δ/(1 − β)`
    /// is feasible, and the objective's weights sum to `n (1 − β)`.
    fn psi_above(&self, player: usize, profile: &Profile, v: &DVector<f64>) -> f64 {
        let n = self.states.len() as f64;
        self.psi_objective(player, profile, v) + n * self.violation(player, profile, v)
    }

    /// The most the values `v` break one of ψ's constraints by (0 when they break none).
    fn violation(&self, player: usize, profile: &Profile, v: &DVector<f64>) -> f64 {
        (0..self.states.len())
            .flat_map(|s| {
                self.open_moves(player, profile, s)
                    .map(move |(_, m)| self.q(player, m, v) - v[s])
            })
            .fold(0.0, f64::max)
    }

    /// The left side of ψ's constraint for move `m` in state `s`, `v(s) − β Σ p v(t) ≥ r`,
    /// as a row of coefficients on the values: `e_s − β P_m(s, ·)`.
    fn constraint_row(&self, s: usize, m: &Move, row: &mut [f64]) {
        row.fill(0.0);
        row[s] = 1.0;
        for (t, p) in &m.next {
            row[*t] -= self.discount * p;
        }
    }

    /// The weights of ψ's objective on the values: `c = (I − βP_π)ᵀ 1`.
    fn psi_weights(&self, profile: &Profile) -> DVector<f64> {
        let mut weights = DVector::from_element(self.states.len(), 1.0);
        for s in 0..self.states.len() {
            for (t, p) in &self.chosen(profile, s).next {
                weights[*t] -= self.discount * p;
            }
        }
        weights
    }

    /// ψ's objective at the values `v`: `Σ_s [v(s) − r(s) − β (P v)(s)]` under `profile`.
    fn psi_objective(&self, player: usize, profile: &Profile, v: &DVector<f64>) -> f64 {
        (0..self.states.len())
            .map(|s| v[s] - self.q(player, self.chosen(profile, s), v))
            .sum::<f64>()
            .max(0.0)
    }

    /// ψ at a vertex of its feasible set — the values `v` at which the vertex's n constraints
    /// `(state, move)` hold with equality — when LP duality proves the vertex optimal for
    /// `profile`'s objective: the dual `x` solving `Bᵀ x = c` on the vertex's rows `B`
    /// (`c = (I − βP_π)ᵀ 1`, the objective's weights) is nonnegative, so the objective at `v`
    /// is a lower bound (weak duality), and it is ψ when `v` breaks no constraint; a break of
    /// `δ` (rounding, or the gap tolerance) widens the upper bound by `n δ`. For the best
    /// response's vertex `x` is its occupation measure started from `c`. `None` when the
    /// vertex is singular, not the program's, breaks a constraint by more than the gap
    /// tolerance, or its dual has a negative entry.
    pub fn psi_at_vertex(
        &self,
        player: usize,
        profile: &Profile,
        vertex: &Vertex,
    ) -> Option<PsiBounds> {
        let n = self.states.len();
        if vertex.len() != n {
            return None;
        }
        let mut rows = DMatrix::<f64>::zeros(n, n);
        let mut rewards = DVector::zeros(n);
        let mut row = vec![0.0; n];
        for (i, (s, k)) in vertex.iter().enumerate() {
            let m = self.states.get(*s)?.moves.get(*k)?;
            self.constraint_row(*s, m, &mut row);
            rows.row_mut(i).copy_from_slice(&row);
            rewards[i] = m.reward[player];
        }
        let rows_open = vertex
            .iter()
            .all(|(s, k)| self.open_moves(player, profile, *s).any(|(j, _)| j == *k));
        if !rows_open {
            return None;
        }
        let v = rows.clone().lu().solve(&rewards)?;
        let violation = self.violation(player, profile, &v);
        if violation > GAP_TOLERANCE {
            return None;
        }
        let dual = rows.transpose().lu().solve(&self.psi_weights(profile))?;
        if !dual.iter().all(|x| *x >= 0.0) {
            return None;
        }
        let value = self.psi_objective(player, profile, &v);
        Some(PsiBounds {
            low: value,
            high: value + n as f64 * violation,
        })
    }

    /// A lower bound on [`Game::psi`] from the best-response gap alone: `ψ ≥ (1 − β) · gap`.
    /// With the strategies fixed, write the program in the slacks `w = (I − βP_π) (v − v_π) ≥ 0`,
    /// whose sum is the objective; `u = v − v_π = (I − βP_π)⁻¹ w` is nonnegative with every
    /// entry at most `Σw / (1 − β)`. The deviation with the largest advantage `A = gap` in
    /// state `s` must satisfy `w(s) + β (P_π(s) − P_a(s)) u ≥ A`, whose left side is at most
    /// `Σw (1 + β / (1 − β)) = Σw / (1 − β)`.
    pub fn psi_lower_bound(&self, player: usize, profile: &Profile) -> f64 {
        self.bound_from_gap(self.gap(player, profile))
    }

    fn bound_from_gap(&self, gap: f64) -> f64 {
        (1.0 - self.discount) * gap
    }

    /// [`Game::psi`] by the simplex (`microlp`, built directly: good_lp's expression maps cost
    /// as much as the solve on a program this small), with the optimum's vertex when it is one
    /// (n tight constraints).
    pub fn psi_by_simplex(
        &self,
        player: usize,
        profile: &Profile,
    ) -> Result<(f64, Option<Vertex>), String> {
        use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem};
        SIMPLEX_RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let n = self.states.len();
        let beta = self.discount;
        // microlp reports free variables as unbounded, so v = w + floor with w ≥ 0: every
        // feasible v is at least the optimal value, itself at least min r / (1 − β).
        let floor = self
            .states
            .iter()
            .flat_map(|s| s.moves.iter().map(|m| m.reward[player]))
            .fold(0.0, f64::min)
            / (1.0 - beta)
            - 1.0;
        // Σ_s [v(s) − r(s) − β (P v)(s)] = Σ_t weight(t) w(t) + constant.
        let weights = self.psi_weights(profile);
        let constant = n as f64 * floor * (1.0 - beta)
            - (0..n)
                .map(|s| self.chosen(profile, s).reward[player])
                .sum::<f64>();
        let mut problem = Problem::new(OptimizationDirection::Minimize);
        let w: Vec<microlp::Variable> = weights
            .iter()
            .map(|c| problem.add_var(*c, (0.0, f64::INFINITY)))
            .collect();
        // v(s) ≥ r + β Σ p v(t), in w: w(s) − β Σ p w(t) ≥ r − floor (1 − β).
        let mut row = vec![0.0; n];
        let mut constraints: Vec<(usize, usize)> = Vec::new();
        for s in 0..n {
            for (k, m) in self.open_moves(player, profile, s) {
                constraints.push((s, k));
                self.constraint_row(s, m, &mut row);
                let mut lhs = LinearExpr::empty();
                for (t, c) in row.iter().enumerate().filter(|(_, c)| **c != 0.0) {
                    lhs.add(w[t], *c);
                }
                problem.add_constraint(
                    lhs,
                    ComparisonOp::Ge,
                    m.reward[player] - floor * (1.0 - beta),
                );
            }
        }
        let solution = problem
            .solve()
            .map_err(|e| format!("microlp: {e}"))?
            .into_solution()
            .map_err(|_| "microlp: the solve was interrupted".to_string())?;
        let v = DVector::from_iterator(n, w.iter().map(|x| solution.var_value(*x) + floor));
        // The optimum's tight rows, kept as a vertex when they are exactly n.
        let tight: Vertex = constraints
            .iter()
            .copied()
            .filter(|(s, k)| {
                let q = self.q(player, &self.states[*s].moves[*k], &v);
                (v[*s] - q).abs() <= GAP_TOLERANCE * v[*s].abs().max(1.0)
            })
            .collect();
        // Rounding in the simplex can leave a −1e-15; the value is a sum of slacks.
        let psi = (solution.objective() + constant).max(0.0);
        Ok((psi, (tight.len() == n).then_some(tight)))
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

static SIMPLEX_RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many times this process has run the simplex for ψ (what the bounds could not settle).
pub fn simplex_runs() -> usize {
    SIMPLEX_RUNS.load(std::sync::atomic::Ordering::Relaxed)
}

/// A vertex of [`Game::psi`]'s feasible set named by its tight constraints, `(state, move)`.
pub type Vertex = Vec<(usize, usize)>;

/// Bounds on a player's NLP-1 value ([`Game::psi_bounds`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PsiBounds {
    pub low: f64,
    pub high: f64,
}

/// Bounds this close pin ψ down (`low` is taken for it): a thousandth of the gap tolerance,
/// and far below the simplex's own feasibility tolerance.
pub const EXACT_WIDTH: f64 = 1e-12;

impl PsiBounds {
    pub fn is_exact(&self) -> bool {
        self.high - self.low <= EXACT_WIDTH
    }
}

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
        // The simplex agrees where the bounds settled it.
        for player in [0, 1] {
            assert!(g.psi_by_simplex(player, &eq).unwrap().0 < 1e-9);
        }
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
