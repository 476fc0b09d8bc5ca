//! Offline edit operators: semantic edits of policy programs that need no LLM. Every child is
//! printed and re-checked by the language; an edit that does not check (e.g. it would exceed
//! the size guardrail) is retried, and the last resort is a constant perturbation, which
//! always checks. So the operator never yields an invalid program.
//!
//! The edits read a program only through its schema; what they need to know of a model's
//! language beyond it (a feature's typical range, a field's step, an idiom) is its
//! [`Vocabulary`], which the search domain supplies.

use medisim_dsl::ast::{BinOp, Expr, ExprKind};
use medisim_dsl::schema::{Schema, Ty};
use medisim_dsl::{fmt, FieldId, Policy};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use rand_pcg::Pcg64;
use std::sync::Arc;

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

/// Expressions built by hand, as the edits write them (no source spans).
pub mod build {
    use medisim_dsl::ast::{BinOp, Expr, ExprKind, UnOp};
    use medisim_dsl::span::Span;

    pub fn e(kind: ExprKind) -> Expr {
        Expr::new(kind, Span::default())
    }

    /// A literal rounded to four decimals, negative ones as a negation.
    pub fn num(v: f64) -> Expr {
        let v = (v * 1e4).round() / 1e4;
        if v < 0.0 {
            e(ExprKind::Unary(UnOp::Neg, Box::new(e(ExprKind::Num(-v)))))
        } else {
            e(ExprKind::Num(v))
        }
    }

    pub fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        e(ExprKind::Binary(op, Box::new(a), Box::new(b)))
    }

    pub fn call(name: &str, args: Vec<Expr>) -> Expr {
        e(ExprKind::Call {
            name: name.into(),
            name_span: Span::default(),
            args,
        })
    }

    pub fn name(feature: &str) -> Expr {
        e(ExprKind::Name(feature.into()))
    }
}

use build::{bin, call, e, num};

/// What the edits know of a model's language beyond its schema.
pub trait Vocabulary: Sync {
    fn schema(&self) -> &Schema;

    /// A feature's typical range, for indicator thresholds.
    fn typical(&self, feature: &str) -> (f64, f64);

    /// The size of a typical additive step for a field.
    fn step(&self, field: FieldId) -> f64;

    /// The fields a clip retune may bound.
    fn clip_fields(&self) -> Vec<FieldId>;

    /// An idiom of the domain's own programs to add to `field` in place of a generic indicator,
    /// when the domain has one there and `idioms` allows it (drawing from `rng` only then).
    fn idiom(
        &self,
        _field: FieldId,
        _base: &Expr,
        _idioms: bool,
        _rng: &mut Pcg64,
    ) -> Option<Expr> {
        None
    }

    /// The weight of an indicator added to a numeric `field`.
    fn indicator_size(&self, field: FieldId, rng: &mut Pcg64) -> f64 {
        self.step(field) * (0.5 + rng.gen::<f64>())
    }

    /// Whether the printed program checks against the schema (the guardrails included).
    fn valid(&self, p: &Policy) -> bool;
}

fn numeric_features(schema: &Schema, scope: medisim_dsl::ScopeId) -> Vec<&str> {
    schema
        .readable(scope)
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
/// pressure (paper §1: the dashboard "guides policy search"). Weights by [`FieldId`] index.
/// `idioms` allows the domain's idioms ([`Vocabulary::idiom`]); with it off and uniform weights
/// the operator carries no prior about where the good programs are.
#[derive(Clone, Debug)]
pub struct Focus {
    pub weights: Vec<f64>,
    pub idioms: bool,
}

impl Focus {
    /// Every one of `fields` fields equally likely, idioms allowed.
    pub fn even(fields: usize) -> Self {
        Focus {
            weights: vec![1.0; fields],
            idioms: true,
        }
    }

    /// Every field equally likely, no idioms: the operator without domain priors.
    pub fn uninformed(fields: usize) -> Self {
        Focus {
            weights: vec![1.0; fields],
            idioms: false,
        }
    }

    fn choose(&self, rng: &mut Pcg64) -> FieldId {
        let total: f64 = self.weights.iter().sum();
        let mut u = rng.gen::<f64>() * total;
        for (i, w) in self.weights.iter().enumerate() {
            u -= w;
            if u <= 0.0 {
                return FieldId(i as u16);
            }
        }
        FieldId(self.weights.len().saturating_sub(1) as u16)
    }
}

/// Propose one child. `a` is the parent, `b` an inspiration (for crossover edits), `focus`
/// weights the fields to edit.
pub fn propose(
    v: &dyn Vocabulary,
    a: &Policy,
    b: &Policy,
    focus: &Focus,
    rng: &mut Pcg64,
) -> (Policy, Edit) {
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
        if let Some(child) = apply(v, edit, a, b, focus, rng) {
            if v.valid(&child) && !child.same_behaviour(a) {
                return (child, edit);
            }
        }
    }
    // A constant perturbation of a field with a literal always checks.
    for _ in 0..50 {
        if let Some(child) = apply(v, Edit::PerturbConstant, a, b, focus, rng) {
            if v.valid(&child) {
                return (child, Edit::PerturbConstant);
            }
        }
    }
    // A program without a single literal: give the parent back (the search skips duplicates).
    (a.clone(), Edit::PerturbConstant)
}

/// Whether `p`, printed, checks against `schema` (the guardrails included).
pub fn checks(schema: &Arc<Schema>, p: &Policy) -> bool {
    medisim_dsl::check_source(schema, &fmt::policy_to_string(p))
        .policy
        .is_some()
}

fn apply(
    v: &dyn Vocabulary,
    edit: Edit,
    a: &Policy,
    b: &Policy,
    focus: &Focus,
    rng: &mut Pcg64,
) -> Option<Policy> {
    let schema = v.schema();
    let mut child = a.clone();
    match edit {
        Edit::PerturbConstant => {
            let mut f = focus.choose(rng);
            if count_nums(child.expr(f)) == 0 {
                let fields: Vec<FieldId> = schema
                    .field_ids()
                    .filter(|f| count_nums(child.expr(*f)) > 0)
                    .collect();
                f = *fields.choose(rng)?;
            }
            let mut x = child.expr(f).clone();
            let mut k = rng.gen_range(0..count_nums(&x));
            let c = nth_num(&mut x, &mut k)?;
            // Mostly small moves, sometimes large ones (a heavy tail).
            let sd = if rng.gen_bool(0.3) { 1.0 } else { 0.25 };
            let z: f64 = Normal::new(0.0, sd).ok()?.sample(rng);
            *c = if c.abs() < 1e-9 {
                (z.abs() * v.step(f)).max(0.01)
            } else {
                *c * z.exp()
            };
            *c = (*c * 1e4).round() / 1e4;
            child.set(f, Some(x));
        }
        Edit::AddIndicator => {
            let f = focus.choose(rng);
            let spec = schema.field(f);
            if let Some(x) = v.idiom(f, child.expr(f), focus.idioms, rng) {
                child.set(f, Some(x));
                return Some(child);
            }
            let feats = numeric_features(schema, spec.scope_id());
            let feat = *feats.choose(rng)?;
            let (lo, hi) = v.typical(feat);
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
                let size = v.indicator_size(f, rng);
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
            let target = if schema.field(f).ty == Ty::Bool {
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
            let f = *v.clip_fields().choose(rng)?;
            let x = child.expr(f).clone();
            let s = v.step(f);
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
                    let centre = schema.field(f).project(
                        medisim_dsl::compile::eval_reference(schema, &x, &[0.0; 64]).max(0.0),
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
            for f in schema.field_ids() {
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
    use crate::hospital::HospitalWords;
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
                &HospitalWords,
                &parent,
                &policies[i % policies.len()],
                &Focus::even(16),
                &mut rng,
            );
            assert!(
                HospitalWords.valid(&child),
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
