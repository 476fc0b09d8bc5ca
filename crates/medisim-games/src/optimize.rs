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
