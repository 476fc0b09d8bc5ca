//! The numeric maximisers the games' upper levels use: argmin's solvers on the negated
//! objective (argmin minimises).

use argmin::core::{CostFunction, Error, Executor};

/// `−f` over parameters `P`, as argmin's cost.
struct Negated<P, F>(F, std::marker::PhantomData<P>);

impl<P, F: Fn(&P) -> f64> Negated<P, F> {
    fn new(f: F) -> Self {
        Negated(f, std::marker::PhantomData)
    }
}

impl<P, F: Fn(&P) -> f64> CostFunction for Negated<P, F> {
    type Param = P;
    type Output = f64;
    fn cost(&self, p: &P) -> Result<f64, Error> {
        Ok(-(self.0)(p))
    }
}

/// Maximise `f` on [lo, hi] with Brent's method; `None` for an empty interval or a failure.
pub fn brent_max(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> Option<f64> {
    use argmin::solver::brent::BrentOpt;
    if hi <= lo {
        return None;
    }
    let res = Executor::new(Negated::new(|m: &f64| f(*m)), BrentOpt::new(lo, hi))
        .configure(|s| s.max_iters(200))
        .run()
        .ok()?;
    res.state.best_param
}

/// Maximise `f(x, y)` from `start` with Nelder–Mead (initial simplex of side 0.01).
pub fn nelder_mead_max(f: impl Fn(f64, f64) -> f64, start: (f64, f64)) -> Option<(f64, f64)> {
    use argmin::solver::neldermead::NelderMead;
    let (a, b) = start;
    let simplex = vec![vec![a, b], vec![a + 0.01, b], vec![a, b + 0.01]];
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-10).ok()?;
    let res = Executor::new(Negated::new(|p: &Vec<f64>| f(p[0], p[1])), solver)
        .configure(|s| s.max_iters(500))
        .run()
        .ok()?;
    res.state.best_param.map(|p| (p[0], p[1]))
}

/// The value of the scalar key `key` at which `decision` first changes, scanning outward from
/// its current value x0 in both directions (steps growing by 5% from 1% of |x0|, as far as
/// `reach` × max(|x0|, 1) away or the key's legal range, never crossing zero: a parameter's
/// sign is part of its meaning) and bisecting to 1e-7 relative. The
/// "transition point" of a sensitivity table; `None` when the decision never changes.
pub fn switch_point<G, D>(g: &G, key: &str, reach: f64, decision: impl Fn(&G) -> D) -> Option<f64>
where
    G: crate::GameParams,
    D: PartialEq,
{
    let x0 = g.value(key)?;
    let at = |x: f64| g.with(key, &format!("{x:?}")).ok();
    let d0 = decision(g);
    let unit = if x0 == 0.0 { 1.0 } else { x0.abs() };
    let mut best: Option<f64> = None;
    for dir in [1.0, -1.0] {
        let mut inside = x0;
        for k in 0.. {
            let x = x0 + dir * 0.01 * unit * 1.05f64.powi(k);
            if (x - x0).abs() > reach * unit.max(1.0) || x * x0 < 0.0 {
                break;
            }
            // Outside the key's legal range: nothing further this way.
            let Some(gx) = at(x) else { break };
            if decision(&gx) != d0 {
                let (mut a, mut b) = (inside, x);
                while (b - a).abs() > 1e-7 * unit {
                    let m = 0.5 * (a + b);
                    match at(m) {
                        Some(gm) if decision(&gm) == d0 => a = m,
                        _ => b = m,
                    }
                }
                let hit = 0.5 * (a + b);
                if best.is_none_or(|c| (hit - x0).abs() < (c - x0).abs()) {
                    best = Some(hit);
                }
                break;
            }
            inside = x;
        }
    }
    best
}
