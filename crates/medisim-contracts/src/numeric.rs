//! The numeric solvers that cross-check every closed form: a linear program through `good_lp`
//! (pure-Rust `microlp` simplex), a linear system through `nalgebra`, and a convex program
//! through `clarabel` (interior point, exponential cones). No solver is written here.

use crate::params::{ContractError, Payments};
use good_lp::{constraint, microlp, variable, Expression, Solution, SolverModel, Variable};

/// `min c · P` subject to rows `a · P ≥ b`, with `P ≥ 0` when `nonnegative`. Returns the
/// minimiser and the value.
pub fn linear_program(
    c: &Payments,
    rows: &[(Payments, f64)],
    nonnegative: bool,
) -> Result<(Payments, f64), String> {
    // A free payment is the difference of two nonnegative ones (microlp reports free
    // variables in this problem as unbounded).
    let mut vars = good_lp::variables!();
    let plus: Vec<Variable> = (0..4).map(|_| vars.add(variable().min(0.0))).collect();
    let minus: Vec<Variable> = if nonnegative {
        Vec::new()
    } else {
        (0..4).map(|_| vars.add(variable().min(0.0))).collect()
    };
    let affine = |a: &Payments| -> Expression {
        let mut e = Expression::from(0.0);
        for (k, coef) in a.iter().enumerate() {
            e += *coef * plus[k];
            if let Some(m) = minus.get(k) {
                e -= *coef * *m;
            }
        }
        e
    };
    let mut model = vars.minimise(affine(c)).using(microlp);
    for (a, b) in rows {
        model = model.with(constraint!(affine(a) >= *b));
    }
    let sol = model.solve().map_err(|e| e.to_string())?;
    let x: Vec<f64> = (0..4)
        .map(|k| sol.value(plus[k]) - minus.get(k).map_or(0.0, |m| sol.value(*m)))
        .collect();
    let x = [x[0], x[1], x[2], x[3]];
    Ok((x, crate::params::dot(c, &x)))
}

/// Solve the square system `M x = r` (LU with partial pivoting); `None` when singular.
pub fn linear_system(m: [[f64; 4]; 4], r: [f64; 4]) -> Option<Payments> {
    let a = nalgebra::Matrix4::from_fn(|i, j| m[i][j]);
    let x = a.lu().solve(&nalgebra::Vector4::from(r))?;
    Some([x[0], x[1], x[2], x[3]])
}

/// The inverse utility a risk-averse model pays through, as the numeric solver sees it.
#[derive(Clone, Copy, Debug)]
pub enum InverseUtility {
    /// g⁻¹(w) = w² (g = sqrt): a quadratic objective.
    Square,
    /// g⁻¹(w) = eʷ − 1 (g = log1p): t ≥ eʷ − 1 as an exponential cone.
    ExpMinusOne,
    /// g⁻¹(w) = −ln(1 − r w)/r (g = CARA with coefficient r): an exponential cone.
    NegLog { r: f64 },
}

impl InverseUtility {
    pub fn eval(self, w: f64) -> f64 {
        match self {
            InverseUtility::Square => w * w,
            InverseUtility::ExpMinusOne => w.exp_m1(),
            InverseUtility::NegLog { r } => -(1.0 - r * w).ln() / r,
        }
    }
}

/// `min Σ c_k g⁻¹(W_k)` subject to `c1 · W ≥ 1`, `c2 · W ≥ −1`, `W ≥ 0`, by clarabel.
/// Returns the utilities W (polished onto the active set the iterate approaches) and the value.
pub fn convex_program(
    c: &Payments,
    c1: &Payments,
    c2: &Payments,
    inv: InverseUtility,
) -> Result<(Payments, f64), ContractError> {
    use clarabel::algebra::CscMatrix;
    use clarabel::solver::{
        DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
    };
    // Scale the objective so its largest coefficient is 1: with a small γ the payment terms
    // are tiny, and an unscaled interior point stops with loose payments.
    let scale = c.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if !(scale > 0.0 && scale.is_finite()) {
        return Err(ContractError::Solver(
            "objective coefficients are all zero".into(),
        ));
    }
    let c = &c.map(|x| x / scale);
    // Variables: W0..W3, then (for the cone forms) their epigraphs t0..t3.
    let epigraph = !matches!(inv, InverseUtility::Square);
    let n = if epigraph { 8 } else { 4 };
    let (mut rows, mut cols, mut vals, mut b) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut row = 0;
    let mut push = |r: usize, c: usize, v: f64| {
        rows.push(r);
        cols.push(c);
        vals.push(v);
    };
    // Nonnegative cone: −c1·W ≤ −1, −c2·W ≤ 1, −W ≤ 0.
    for (a, rhs) in [(c1, -1.0), (c2, 1.0)] {
        for (k, v) in a.iter().enumerate() {
            push(row, k, -v);
        }
        b.push(rhs);
        row += 1;
    }
    for k in 0..4 {
        push(row, k, -1.0);
        b.push(0.0);
        row += 1;
    }
    let mut cones: Vec<SupportedConeT<f64>> = vec![SupportedConeT::NonnegativeConeT(6)];
    if epigraph {
        for k in 0..4 {
            // s = (s1, s2, s3) in K_exp: s2 · exp(s1 / s2) ≤ s3.
            match inv {
                InverseUtility::ExpMinusOne => {
                    // exp(W) ≤ t + 1
                    push(row, k, -1.0);
                    b.push(0.0);
                    b.push(1.0);
                    push(row + 2, 4 + k, -1.0);
                    b.push(1.0);
                }
                InverseUtility::NegLog { r } => {
                    // exp(−r t) ≤ 1 − r W
                    push(row, 4 + k, r);
                    b.push(0.0);
                    b.push(1.0);
                    push(row + 2, k, r);
                    b.push(1.0);
                }
                InverseUtility::Square => unreachable!(),
            }
            row += 3;
            cones.push(SupportedConeT::ExponentialConeT());
        }
    }
    let a = CscMatrix::new_from_triplets(row, n, rows, cols, vals);
    let (p, q) = if epigraph {
        let mut q = vec![0.0; 4];
        q.extend_from_slice(c);
        (CscMatrix::zeros((n, n)), q)
    } else {
        // ½ Wᵀ P W with P = diag(2 c): Σ c_k W_k².
        let diag: Vec<usize> = (0..4).collect();
        (
            CscMatrix::new_from_triplets(
                4,
                4,
                diag.clone(),
                diag,
                c.iter().map(|x| 2.0 * x).collect(),
            ),
            vec![0.0; 4],
        )
    };
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .tol_gap_abs(1e-10)
        .tol_gap_rel(1e-10)
        .tol_feas(1e-10)
        .max_iter(500)
        .build()
        .map_err(|e| ContractError::Solver(format!("{e:?}")))?;
    let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings)
        .map_err(|e| ContractError::Solver(format!("{e:?}")))?;
    solver.solve();
    let s = &solver.solution;
    match s.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => {}
        SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
            return Err(ContractError::Infeasible {
                model: "risk-averse",
                reason: "no utilities satisfy both incentive constraints".into(),
                numeric: Some("clarabel: primal infeasible".into()),
            })
        }
        other => return Err(ContractError::Solver(format!("clarabel: {other:?}"))),
    }
    let w = [s.x[0], s.x[1], s.x[2], s.x[3]];
    let cost = |v: &Payments| -> f64 { v.iter().zip(c).map(|(x, k)| k * inv.eval(*x)).sum() };
    let polished = polish(w, c1, c2);
    // Keep the polished vertex only if it is no worse than the iterate (which may be cheaper
    // by its own small infeasibility, hence the tolerance).
    // The tolerance is the models' agreement tolerance (crate::model::TOLERANCE).
    let w = if cost(&polished) <= cost(&w) + 1e-7 * (1.0 + cost(&w).abs()) {
        polished
    } else {
        w
    };
    Ok((w, cost(&w) * scale))
}

/// Active-set polish: an interior point's iterate is accurate in value but, where the
/// objective is flat, only to about the square root of that in the variables. When four
/// constraints are near-active at the iterate (slack below 1e-2), their equality system has one
/// solution; if it is feasible it is the exact vertex the iterate approaches.
fn polish(w: Payments, c1: &Payments, c2: &Payments) -> Payments {
    const ACTIVE: f64 = 1e-2;
    let dot = crate::params::dot;
    let mut rows: Vec<([f64; 4], f64)> = Vec::new();
    if (dot(c1, &w) - 1.0).abs() < ACTIVE {
        rows.push((*c1, 1.0));
    }
    if (dot(c2, &w) + 1.0).abs() < ACTIVE {
        rows.push((*c2, -1.0));
    }
    for (k, x) in w.iter().enumerate() {
        if x.abs() < ACTIVE {
            let mut e = [0.0; 4];
            e[k] = 1.0;
            rows.push((e, 0.0));
        }
    }
    if rows.len() != 4 {
        return w;
    }
    let m = [rows[0].0, rows[1].0, rows[2].0, rows[3].0];
    let r = [rows[0].1, rows[1].1, rows[2].1, rows[3].1];
    match linear_system(m, r) {
        Some(v)
            if v.iter().all(|x| *x >= -1e-12)
                && dot(c1, &v) >= 1.0 - 1e-12
                && dot(c2, &v) >= -1.0 - 1e-12
                && v.iter().zip(&w).all(|(a, b)| (a - b).abs() < 1e-1) =>
        {
            v.map(|x| x.max(0.0))
        }
        _ => w,
    }
}
