//! Offline edit operators: semantic edits of policy programs that need no LLM. Every child is
//! printed and re-checked by the language; an edit that does not check (e.g. it would exceed
//! the size guardrail) is retried, and the last resort is a constant perturbation, which
//! always checks. So the operator never yields an invalid program.

use medisim_dsl::ast::{BinOp, Expr, ExprKind, UnOp};
use medisim_dsl::schema::Ty;
use medisim_dsl::span::Span;
use medisim_dsl::{fmt, Policy};
use medisim_sim::check_source;
use medisim_sim::schema::{hospital, Field, Scope};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use rand_pcg::Pcg64;

/// The edits, named as they are recorded in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edit {
    PerturbConstant,
    AddIndicator,
    DropTerm,
    RetuneClip,
    ExchangeField,
    Recombine,
}

impl Edit {
    pub fn name(self) -> &'static str {
        match self {
            Edit::PerturbConstant => "offline:perturb_constant",
            Edit::AddIndicator => "offline:add_indicator",
            Edit::DropTerm => "offline:drop_term",
            Edit::RetuneClip => "offline:retune_clip",
            Edit::ExchangeField => "offline:exchange_field",
            Edit::Recombine => "offline:recombine",
        }
    }
}

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

fn num(v: f64) -> Expr {
    let v = (v * 1e4).round() / 1e4;
    if v < 0.0 {
        e(ExprKind::Unary(UnOp::Neg, Box::new(e(ExprKind::Num(-v)))))
    } else {
        e(ExprKind::Num(v))
    }
}

fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    e(ExprKind::Binary(op, Box::new(a), Box::new(b)))
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    e(ExprKind::Call {
        name: name.into(),
        name_span: Span::default(),
        args,
    })
}

/// Typical range of a feature, for indicator thresholds.
fn typical(feature: &str) -> (f64, f64) {
    match feature {
        "queue_total" => (0.0, 30.0),
        "queue_max" => (0.0, 8.0),
        "wbar" => (0.0, 4.0),
        "rbar" => (0.0, 0.2),
        "utilization" => (0.3, 1.0),
        "funds" => (-500.0, 3000.0),
        "profit_last" => (-20.0, 40.0),
        "current_total_capacity" => (8.0, 14.0),
        "current_flex_pool" => (0.0, 3.0),
        "reputation" => (0.5, 0.9),
        "period" => (1.0, 200.0),
        "wait" => (0.0, 5.0),
        "tolerance" => (1.0, 8.0),
        "coding_gap" => (0.0, 0.35),
        "upcode_gain" | "upcode_pressure" | "audit_penalty" => (0.0, 2.0),
        "ethics_pressure" => (0.0, 1.5),
        "base_effort" => (1.2, 3.3),
        "margin_pressure" | "kpi_gaming_pressure" => (-0.4, 0.4),
        "effort_quality_pressure" => (-0.8, 1.0),
        "bonus_pressure" => (0.0, 3.0),
        "accept_threshold" | "defer_threshold" => (1.0, 2.0),
        _ => (0.0, 1.0),
    }
}

/// Size of a typical additive step for a field.
fn step(field: Field) -> f64 {
    match field {
        Field::Alpha | Field::Beta => 0.1,
        Field::TotalCapacity | Field::FlexPool => 1.0,
        Field::BonusPool | Field::Xi | Field::Kappa => 0.5,
        Field::WH | Field::WW | Field::WRej | Field::WC => 0.2,
        Field::Effort => 0.2,
        Field::CandidateScore => 0.5,
        _ => 0.1,
    }
}

fn numeric_features(scope: Scope) -> Vec<&'static str> {
    let schema = hospital();
    schema
        .readable(scope.id())
        .into_iter()
        .filter(|name| schema.feature(name).is_some_and(|f| f.def.ty == Ty::Num))
        .collect()
}

/// The k-th number literal of an expression (depth first), for editing in place.
fn nth_num<'a>(x: &'a mut Expr, k: &mut usize) -> Option<&'a mut f64> {
    match &mut x.kind {
        ExprKind::Num(v) => {
            if *k == 0 {
                return Some(v);
            }
            *k -= 1;
            None
        }
        ExprKind::Unary(_, a) => nth_num(a, k),
        ExprKind::Binary(_, a, b) => {
            if let Some(v) = nth_num(a, k) {
                return Some(v);
            }
            nth_num(b, k)
        }
        ExprKind::Call { args, .. } => args.iter_mut().find_map(|a| nth_num(a, k)),
        _ => None,
    }
}

fn count_nums(x: &Expr) -> usize {
    let mut n = 0;
    x.walk(&mut |y| n += usize::from(matches!(y.kind, ExprKind::Num(_))));
    n
}

/// The first comparison in an expression: the score of a triage rule.
fn first_comparison(x: &mut Expr) -> Option<&mut Expr> {
    if matches!(&x.kind, ExprKind::Binary(op, ..) if op.is_comparison()) {
        return Some(x);
    }
    match &mut x.kind {
        ExprKind::Unary(_, a) => first_comparison(a),
        ExprKind::Binary(_, a, b) => {
            if let Some(c) = first_comparison(a) {
                return Some(c);
            }
            first_comparison(b)
        }
        ExprKind::Call { args, .. } => args.iter_mut().find_map(first_comparison),
        _ => None,
    }
}

/// Which fields to edit more often: the diagnostics of the parent point at the channel under
/// pressure (paper §1: the dashboard "guides policy search"). Weights in [`Field`] order.
/// `idioms` allows the domain idioms of the paper's listings (the coding-gap veto); with it off
/// and uniform weights the operator carries no prior about where the good programs are.
#[derive(Clone, Debug)]
pub struct Focus {
    pub weights: [f64; 16],
    pub idioms: bool,
}

impl Default for Focus {
    fn default() -> Self {
        Focus {
            weights: [1.0; 16],
            idioms: true,
        }
    }
}

impl Focus {
    /// Up-coding draws edits to the coding rule; rejection and deferral to the triage rules.
    pub fn from_diagnostics(upcoding: f64, rejection: f64, deferral: f64) -> Self {
        let mut w = [1.0; 16];
        w[Field::CandidateScore as usize] += 100.0 * upcoding.max(0.0);
        for f in [Field::TriageAccept, Field::TriageDefer] {
            w[f as usize] += 40.0 * rejection.max(0.0) + 5.0 * deferral.max(0.0);
        }
        Focus {
            weights: w,
            idioms: true,
        }
    }

    /// Every field equally likely, no idioms: the operator without domain priors.
    pub fn uninformed() -> Self {
        Focus {
            weights: [1.0; 16],
            idioms: false,
        }
    }

    fn choose(&self, rng: &mut Pcg64) -> Field {
        let total: f64 = self.weights.iter().sum();
        let mut u = rng.gen::<f64>() * total;
        for f in Field::ALL {
            u -= self.weights[f as usize];
            if u <= 0.0 {
                return f;
            }
        }
        Field::CandidateScore
    }
}

/// Propose one child. `a` is the parent, `b` an inspiration (for crossover edits), `focus`
/// weights the fields to edit.
pub fn propose(a: &Policy, b: &Policy, focus: &Focus, rng: &mut Pcg64) -> (Policy, Edit) {
    let edits = [
        (Edit::PerturbConstant, 35),
        (Edit::AddIndicator, 20),
        (Edit::DropTerm, 10),
        (Edit::RetuneClip, 10),
        (Edit::ExchangeField, 15),
        (Edit::Recombine, 10),
    ];
    for _ in 0..8 {
        let edit = edits
            .choose_weighted(rng, |x| x.1)
            .map(|x| x.0)
            .unwrap_or(Edit::PerturbConstant);
        if let Some(child) = apply(edit, a, b, focus, rng) {
            if valid(&child) && !child.same_behaviour(a) {
                return (child, edit);
            }
        }
    }
    // A constant perturbation of a field with a literal always checks.
    for _ in 0..50 {
        if let Some(child) = apply(Edit::PerturbConstant, a, b, focus, rng) {
            if valid(&child) {
                return (child, Edit::PerturbConstant);
            }
        }
    }
    // A program without a single literal: give the parent back (the search skips duplicates).
    (a.clone(), Edit::PerturbConstant)
}

/// Whether the printed program checks (the guardrails included).
pub fn valid(p: &Policy) -> bool {
    check_source(&fmt::policy_to_string(p)).policy.is_some()
}

fn apply(edit: Edit, a: &Policy, b: &Policy, focus: &Focus, rng: &mut Pcg64) -> Option<Policy> {
    let mut child = a.clone();
    match edit {
        Edit::PerturbConstant => {
            let mut f = focus.choose(rng);
            if count_nums(child.expr(f)) == 0 {
                let fields: Vec<Field> = Field::ALL
                    .into_iter()
                    .filter(|f| count_nums(child.expr(*f)) > 0)
                    .collect();
                f = *fields.choose(rng)?;
            }
            let mut x = child.expr(f).clone();
            let mut k = rng.gen_range(0..count_nums(&x));
            let v = nth_num(&mut x, &mut k)?;
            // Mostly small moves, sometimes large ones (a heavy tail).
            let sd = if rng.gen_bool(0.3) { 1.0 } else { 0.25 };
            let z: f64 = Normal::new(0.0, sd).ok()?.sample(rng);
            *v = if v.abs() < 1e-9 {
                (z.abs() * step(f)).max(0.01)
            } else {
                *v * z.exp()
            };
            *v = (*v * 1e4).round() / 1e4;
            child.set(f, Some(x));
        }
        Edit::AddIndicator => {
            let f = focus.choose(rng);
            let spec = f.spec();
            if f == Field::CandidateScore && focus.idioms && rng.gen_bool(0.5) {
                // The coding-gap idiom (Listings 3, 4): a hard veto above a gap threshold.
                let thr = num(0.2 * rng.gen::<f64>());
                let veto = call(
                    "I",
                    vec![bin(BinOp::Gt, e(ExprKind::Name("coding_gap".into())), thr)],
                );
                child.set(
                    f,
                    Some(bin(
                        BinOp::Sub,
                        child.expr(f).clone(),
                        bin(BinOp::Mul, num(100.0), veto),
                    )),
                );
                return Some(child);
            }
            let feats = numeric_features(Scope::of(spec.scope_id()));
            let feat = *feats.choose(rng)?;
            let (lo, hi) = typical(feat);
            let thr = num(lo + (hi - lo) * rng.gen::<f64>());
            let cond = bin(
                if rng.gen_bool(0.5) {
                    BinOp::Gt
                } else {
                    BinOp::Lt
                },
                e(ExprKind::Name(feat.into())),
                thr,
            );
            let sign = if rng.gen_bool(0.5) {
                BinOp::Add
            } else {
                BinOp::Sub
            };
            let base = child.expr(f).clone();
            let x = if spec.ty == Ty::Bool {
                // Add a weighted feature to the rule's score, as the Listing 4 edits do.
                let mut x = base;
                let cmp = first_comparison(&mut x)?;
                if let ExprKind::Binary(_, lhs, _) = &mut cmp.kind {
                    let w = num(0.02 + 0.2 * rng.gen::<f64>());
                    let term = bin(BinOp::Mul, w, e(ExprKind::Name(feat.into())));
                    let old = std::mem::replace(lhs.as_mut(), num(0.0));
                    **lhs = bin(sign, old, term);
                }
                x
            } else {
                let size = if f == Field::CandidateScore && rng.gen_bool(0.3) {
                    100.0
                } else {
                    step(f) * (0.5 + rng.gen::<f64>())
                };
                bin(
                    sign,
                    base,
                    bin(BinOp::Mul, num(size), call("I", vec![cond])),
                )
            };
            child.set(f, Some(x));
        }
        Edit::DropTerm => {
            let f = focus.choose(rng);
            let mut x = child.expr(f).clone();
            let target = if f.spec().ty == Ty::Bool {
                match &mut first_comparison(&mut x)?.kind {
                    ExprKind::Binary(_, lhs, _) => lhs.as_mut(),
                    _ => return None,
                }
            } else {
                &mut x
            };
            // Walk down the left spine of a sum a random number of steps, then drop its right term.
            let mut depth = rng.gen_range(0..3);
            let mut node = target;
            loop {
                let is_sum = matches!(&node.kind, ExprKind::Binary(BinOp::Add | BinOp::Sub, ..));
                if !is_sum {
                    return None;
                }
                let go_deeper = depth > 0
                    && matches!(&node.kind, ExprKind::Binary(_, l, _) if matches!(l.kind, ExprKind::Binary(BinOp::Add | BinOp::Sub, ..)));
                if !go_deeper {
                    break;
                }
                depth -= 1;
                node = match &mut node.kind {
                    ExprKind::Binary(_, l, _) => l.as_mut(),
                    _ => unreachable!(),
                };
            }
            let left = match &mut node.kind {
                ExprKind::Binary(_, l, _) => std::mem::replace(l.as_mut(), num(0.0)),
                _ => return None,
            };
            *node = left;
            child.set(f, Some(x));
        }
        Edit::RetuneClip => {
            let admin: Vec<Field> = Field::in_scope(Scope::Admin)
                .filter(|f| !matches!(f, Field::TotalCapacity | Field::FlexPool))
                .collect();
            let f = *admin.choose(rng)?;
            let x = child.expr(f).clone();
            let s = step(f);
            let new = match &x.kind {
                ExprKind::Call { name, args, .. } if name == "clip" && args.len() == 3 => {
                    let mut args = args.clone();
                    let k = if rng.gen_bool(0.5) { 1 } else { 2 };
                    let mut i = 0;
                    let v = nth_num(&mut args[k], &mut i)?;
                    *v = (*v + s * (rng.gen::<f64>() - 0.5)).max(0.0);
                    call("clip", args)
                }
                _ => {
                    let centre = f.spec().project(
                        medisim_dsl::compile::eval_reference(hospital(), &x, &[0.0; 64]).max(0.0),
                    );
                    let lo = (centre - s * (0.5 + rng.gen::<f64>())).max(0.0);
                    let hi = centre + s * (0.5 + rng.gen::<f64>());
                    call("clip", vec![x, num(lo), num(hi)])
                }
            };
            child.set(f, Some(new));
        }
        Edit::ExchangeField => {
            let f = focus.choose(rng);
            child.set(f, Some(b.expr(f).clone()));
        }
        Edit::Recombine => {
            for f in Field::ALL {
                if rng.gen_bool(0.5) {
                    child.set(f, Some(b.expr(f).clone()));
                }
            }
        }
    }
    Some(child)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_child_checks_and_differs_from_its_parent() {
        let lib = ["neutral", "greedy_profit", "aggressive_coding", "high_flex"];
        let policies: Vec<Policy> = lib
            .iter()
            .map(|n| {
                medisim_sim::load(
                    &std::fs::read_to_string(format!(
                        "{}/../../policies/library/{n}.policy",
                        env!("CARGO_MANIFEST_DIR")
                    ))
                    .unwrap(),
                )
                .unwrap()
            })
            .collect();
        let mut rng = Pcg64::seed_from_u64(3);
        let mut seen = std::collections::HashSet::new();
        let mut parent = policies[0].clone();
        for i in 0..400 {
            let (child, edit) = propose(
                &parent,
                &policies[i % policies.len()],
                &Focus::default(),
                &mut rng,
            );
            assert!(
                valid(&child),
                "{}: {}",
                edit.name(),
                fmt::policy_to_string(&child)
            );
            seen.insert(edit);
            parent = if i % 50 == 49 {
                policies[(i / 50) % policies.len()].clone()
            } else {
                child
            };
        }
        assert_eq!(seen.len(), 6, "every edit kind is used: {seen:?}");
    }
}
