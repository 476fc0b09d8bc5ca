//! Property tests: printing then parsing is the identity, formatting is idempotent, compiled
//! evaluation equals the reference evaluator bit for bit and is always finite, and no input
//! makes the front end panic.

use medisim_dsl::ast::{BinOp, Expr, ExprKind, UnOp};
mod common;

use common::{baseline, check_source, field, hospital, scope};
use medisim_dsl::compile::{eval_reference, CompiledPolicy};
use medisim_dsl::schema::{FieldId, ScopeId, Ty};
use medisim_dsl::span::Span;
use medisim_dsl::{fmt, parser};
use proptest::prelude::*;

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

fn names(scope: ScopeId, ty: Ty) -> Vec<&'static str> {
    let s = hospital();
    s.readable(scope)
        .into_iter()
        .filter(|n| s.feature(n).is_some_and(|f| f.def.ty == ty))
        .collect()
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(1.0),
        Just(0.2),
        Just(100.0),
        Just(1e300),
        Just(1.5e308),
        (0.0f64..1000.0),
        (0u32..50).prop_map(f64::from),
    ]
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    e(ExprKind::Call {
        name: name.into(),
        name_span: Span::default(),
        args,
    })
}

/// Well-typed expressions of type `ty` readable in `scope`.
fn expr(scope: ScopeId, ty: Ty) -> BoxedStrategy<Expr> {
    let num_leaf = {
        let feats = names(scope, Ty::Num);
        prop_oneof![
            number().prop_map(|v| e(ExprKind::Num(v))),
            proptest::sample::select(feats).prop_map(|n| e(ExprKind::Name(n.into())))
        ]
        .boxed()
    };
    let bool_leaf = {
        let feats = names(scope, Ty::Bool);
        let lit = any::<bool>().prop_map(|b| e(ExprKind::Bool(b)));
        if feats.is_empty() {
            lit.boxed()
        } else {
            prop_oneof![
                lit,
                proptest::sample::select(feats).prop_map(|n| e(ExprKind::Name(n.into())))
            ]
            .boxed()
        }
    };
    let leaf = match ty {
        Ty::Num => num_leaf.clone(),
        Ty::Bool => bool_leaf.clone(),
    };
    // Build a pair (num, bool) strategy recursively so both types can nest in each other.
    let pair = (num_leaf, bool_leaf).prop_recursive(5, 48, 3, |inner| {
        let n = inner.clone().prop_map(|p| p.0);
        let b = inner.prop_map(|p| p.1);
        let arith = prop_oneof![
            Just(BinOp::Add),
            Just(BinOp::Sub),
            Just(BinOp::Mul),
            Just(BinOp::Div)
        ];
        let cmp = prop_oneof![
            Just(BinOp::Gt),
            Just(BinOp::Ge),
            Just(BinOp::Lt),
            Just(BinOp::Le),
            Just(BinOp::Eq),
            Just(BinOp::Ne)
        ];
        let logic = prop_oneof![Just(BinOp::And), Just(BinOp::Or)];
        let num = prop_oneof![
            (arith, n.clone(), n.clone()).prop_map(|(op, a, b)| e(ExprKind::Binary(
                op,
                Box::new(a),
                Box::new(b)
            ))),
            n.clone()
                .prop_map(|a| e(ExprKind::Unary(UnOp::Neg, Box::new(a)))),
            b.clone().prop_map(|x| call("I", vec![x])),
            (n.clone(), n.clone(), n.clone()).prop_map(|(x, lo, hi)| call("clip", vec![x, lo, hi])),
            proptest::collection::vec(n.clone(), 2..4).prop_map(|v| call("min", v)),
            proptest::collection::vec(n.clone(), 2..4).prop_map(|v| call("max", v)),
            n.clone().prop_map(|x| call("abs", vec![x])),
            n.clone().prop_map(|x| call("round", vec![x])),
            (n.clone(), n.clone()).prop_map(|(x, y)| call("soft_gt", vec![x, y])),
            (n.clone(), n.clone()).prop_map(|(x, y)| call("soft_lt", vec![x, y])),
        ];
        let boolean = prop_oneof![
            (cmp, n.clone(), n.clone()).prop_map(|(op, a, b)| e(ExprKind::Binary(
                op,
                Box::new(a),
                Box::new(b)
            ))),
            (logic, b.clone(), b.clone()).prop_map(|(op, x, y)| e(ExprKind::Binary(
                op,
                Box::new(x),
                Box::new(y)
            ))),
            b.prop_map(|x| e(ExprKind::Unary(UnOp::Not, Box::new(x)))),
        ];
        (num, boolean)
    });
    let picked = pair.prop_map(move |(n, b)| match ty {
        Ty::Num => n,
        Ty::Bool => b,
    });
    prop_oneof![1 => leaf, 4 => picked].boxed()
}

/// A field and an expression for it.
fn field_and_expr() -> impl Strategy<Value = (FieldId, Expr)> {
    proptest::sample::select(vec![
        "alpha",
        "effort",
        "triage_accept",
        "candidate_score",
        "request_bed",
    ])
    .prop_flat_map(|name| {
        let f = field(name);
        let def = hospital().field(f);
        expr(def.scope_id(), def.ty).prop_map(move |x| (f, x))
    })
}

/// Feature values: mostly a small set, so that ties (`x > y` with `x == y`) and overflows
/// (`MAX + MAX`) are common, plus a continuous range.
fn feature_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        5 => proptest::sample::select(vec![0.0, -0.0, 1.0, -1.0, 0.5, 2.0]),
        2 => proptest::sample::select(vec![f64::MAX, -f64::MAX, 1e-300]),
        3 => -10.0f64..10.0,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_is_identity((field, x) in field_and_expr()) {
        let text = fmt::statement(&hospital().field(field).name, &x);
        let (stmts, diags) = parser::parse_statements(&text);
        prop_assert!(diags.is_empty(), "{text}\n{diags:?}");
        prop_assert_eq!(stmts.len(), 1);
        prop_assert!(stmts[0].value.same(&x), "printed:\n{}\nreparsed:\n{}", text, stmts[0].value);
    }

    #[test]
    fn random_programs_check_and_format_idempotently((field, x) in field_and_expr()) {
        let mut p = baseline().clone();
        p.set(field, Some(x));
        let text = fmt::policy_to_string(&p);
        let out = check_source(&text);
        prop_assert!(!out.has_errors(), "{text}\n{:?}", out.diagnostics);
        let once = fmt::format_source(&text).unwrap();
        let twice = fmt::format_source(&once).unwrap();
        prop_assert_eq!(&once, &twice);
        prop_assert!(out.policy.unwrap().same_behaviour(&p));
    }

    #[test]
    fn compiled_equals_reference_and_is_finite(
        (field, x) in field_and_expr(),
        values in proptest::collection::vec(feature_value(), 40),
    ) {
        compiled_matches_reference(field, &x, &values)?;
    }

    /// A sum that extends an earlier one adds only its own terms (`share_prefix`), and gives
    /// the bits of adding them all, saturation included.
    #[test]
    fn a_sum_extending_an_earlier_one_is_the_same_sum(
        terms in proptest::collection::vec(
            (proptest::sample::select(names(scope("care"), Ty::Num)),
             proptest::sample::select(vec![1.0, -1.0, 2.5, -0.5]), any::<bool>()),
            3..8),
        cut in 2usize..7,
        values in proptest::collection::vec(feature_value(), 40),
    ) {
        let cut = cut.min(terms.len() - 1);
        let sum = |terms: &[(&str, f64, bool)]| {
            terms.iter().fold(None, |acc: Option<Expr>, (name, c, minus)| {
                let t = e(ExprKind::Binary(
                    BinOp::Mul,
                    Box::new(e(ExprKind::Num(*c))),
                    Box::new(e(ExprKind::Name((*name).into()))),
                ));
                let op = if *minus { BinOp::Sub } else { BinOp::Add };
                Some(match acc {
                    None => t,
                    Some(a) => e(ExprKind::Binary(op, Box::new(a), Box::new(t))),
                })
            }).unwrap()
        };
        let x = call("min", vec![sum(&terms[..cut]), sum(&terms)]);
        compiled_matches_reference(field("effort"), &x, &values)?;
        // The longer sum adds at most the shorter one and its own terms (all of its terms
        // without the sharing: `cut` is at least 2).
        let alone = care_terms(&sum(&terms[..cut])) as i64;
        let both = care_terms(&x) as i64;
        prop_assert!(both - alone <= (terms.len() - cut + 1) as i64, "{} after {}", both, alone);
    }
}

/// The terms the care block's sums add with `x` as the baseline's effort rule.
fn care_terms(x: &Expr) -> usize {
    let mut p = baseline().clone();
    p.set(field("effort"), Some(x.clone()));
    CompiledPolicy::new(&p).block(scope("care")).term_count()
}

/// `effort = TEXT`, parsed.
fn effort(text: &str) -> Expr {
    let (stmts, diags) = parser::parse_statements(&format!("effort = {text}"));
    assert!(diags.is_empty(), "{text}: {diags:?}");
    stmts[0].value.clone()
}

#[test]
fn a_sum_is_shared_along_a_chain_and_when_written_again() {
    let (ab, abc, abcd) = (
        "urgency + wait",
        "urgency + wait + complexity",
        "urgency + wait + complexity + tolerance",
    );
    // a + b + c + d after a + b + c after a + b: one term each, not two and three.
    let chain = effort(&format!("min(min({ab}, {abc}), {abcd})"));
    assert_eq!(care_terms(&chain) - care_terms(&effort(ab)), 2 + 2);
    // a + b + c written again after a + b is the first a + b + c: no terms at all.
    let again = effort(&format!("min(min({abc}, {ab}), {abc})"));
    assert_eq!(care_terms(&again) - care_terms(&effort(abc)), 2);
    // a + b + c written as 1 * (a + b) + c first, then as a + b + c: the same node, and
    // a + b + c + d after both adds one term.
    let grouped = format!("1 * ({ab}) + complexity");
    let regrouped = effort(&format!("min(min({grouped}, {abc}), {abcd})"));
    assert_eq!(care_terms(&regrouped) - care_terms(&effort(&grouped)), 2);
    let values: Vec<f64> = (0..40).map(|i| f64::from(i) * 0.37 - 3.0).collect();
    for x in [chain, again, regrouped] {
        compiled_matches_reference(field("effort"), &x, &values).unwrap();
    }
}

/// `x` set as `field` of the baseline policy, compiled, evaluated on `values` one frame at a
/// time and in a batch, gives the reference evaluator's bits, and a finite value.
fn compiled_matches_reference(
    field: FieldId,
    x: &Expr,
    values: &[f64],
) -> Result<(), TestCaseError> {
    let mut p = baseline().clone();
    p.set(field, Some(x.clone()));
    let compiled = CompiledPolicy::new(&p);
    let scope = hospital().field(field).scope_id();
    let block = compiled.block(scope);
    let n = hospital().slot_count(scope);
    let mut feats: Vec<f64> = values[..n].to_vec();
    // Bool features hold 0 or 1.
    for name in names(scope, Ty::Bool) {
        let s = hospital().feature(name).unwrap().slot;
        feats[s] = f64::from(u8::from(feats[s] > 0.0));
    }
    let mut frame = block.frame();
    for (i, v) in feats.iter().enumerate() {
        frame.set(i, *v);
    }
    block.eval(&mut frame);
    let out = block.fields().iter().position(|f| *f == field).unwrap();
    let got = block.output(&frame, out);
    let want = eval_reference(hospital(), x, &feats);
    prop_assert!(got.is_finite());
    prop_assert_eq!(got.to_bits(), want.to_bits(), "{} on {:?}", x, feats);

    // Batch evaluation gives the same bits in every lane, whatever the other lanes hold.
    let lanes = 11;
    let mut batch = block.batch(lanes);
    for lane in 0..lanes {
        for (i, v) in feats.iter().enumerate() {
            // Lane 3 holds this input; the others hold rotated copies of it.
            let w = if lane == 3 { *v } else { feats[(i + lane) % n] };
            batch.set(i, lane, w);
        }
    }
    block.eval_batch(&mut batch);
    prop_assert_eq!(block.batch_output(&batch, out)[3].to_bits(), want.to_bits());
    Ok(())
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "[admin_policy]\nalpha = {}1{}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let out = check_source(&deep);
    assert!(out
        .errors()
        .any(|d| d.code == medisim_dsl::diag::Code::TooDeep));
    let negs = format!("[admin_policy]\nalpha = {}1\n", "-".repeat(100_000));
    assert!(check_source(&negs)
        .errors()
        .any(|d| d.code == medisim_dsl::diag::Code::TooDeep));
    let long = format!("[admin_policy]\nalpha = 1{}\n", " + 1".repeat(100_000));
    assert!(check_source(&long)
        .errors()
        .any(|d| d.code == medisim_dsl::diag::Code::TooLarge
            || d.code == medisim_dsl::diag::Code::TooDeep));
}

#[test]
fn sharing_and_fusion_shrink_the_baseline_care_block() {
    let p = CompiledPolicy::new(baseline());
    // triage_defer repeats triage_accept's score: shared, it costs no second sum.
    let care = p.block(scope("care"));
    let naive_nodes: usize = ["effort", "triage_accept", "triage_defer", "request_bed"]
        .iter()
        .map(|f| baseline().expr(field(f)).size())
        .sum();
    assert!(
        care.instruction_count() * 4 < naive_nodes,
        "{} instructions for {naive_nodes} nodes",
        care.instruction_count()
    );
    // The sums add 15 terms: effort 2, the accept score 6, request_bed's score 5, and the
    // defer score only the accept score and defer_pressure (7 terms without the sharing).
    assert_eq!(care.term_count(), 2 + 6 + 5 + 2);
}
