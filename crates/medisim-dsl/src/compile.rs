//! The evaluator: a checked [`Policy`] compiles to one [`Block`] per scope of its schema, each a
//! straight-line register program over one flat value array.
//!
//! A [`Frame`] holds that array: feature slots first (the host writes them by slot index), then
//! the program's constants, then one register per instruction. Evaluating a block is one pass
//! over its instructions: no allocation, no name lookup, no recursion.
//!
//! The compiler folds constants, shares identical subexpressions across the fields of a block
//! (the triage rules repeat the same score), and fuses sums of `constant * operand` terms into a
//! single linear-combination instruction. Every rewrite keeps the evaluation order and the
//! saturating semantics of [`crate::sem`], so compiled results equal [`eval_reference`] bit for
//! bit (a property test checks it).

use crate::ast::{BinOp, Expr, ExprKind, UnOp};
use crate::check::Policy;
use crate::schema::{Call, FieldId, Schema, ScopeId};
use crate::sem;
use std::collections::HashMap;

type Idx = u32;

/// The opcode table: every operation an instruction can perform, with its semantics, written
/// once. The constant folder, the scalar evaluator, the batch evaluator and the reference
/// evaluator all apply these, so they cannot drift apart. `$f` must be a plain function or a
/// non-capturing closure so that the batch loops inline it and vectorise.
macro_rules! opcodes {
    (binary { $($b:ident => $bf:expr,)* } unary { $($u:ident => $uf:expr,)* }) => {
        /// A two-operand operation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        enum BinKind { $($b,)* }

        /// A one-operand operation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        enum UnKind { $($u,)* }

        impl BinKind {
            #[inline(always)]
            fn apply(self, x: f64, y: f64) -> f64 {
                match self { $(BinKind::$b => ($bf)(x, y),)* }
            }

            /// `d[l] = op(a[l], b[l])` for every lane, one loop per opcode.
            #[inline(always)]
            fn apply_lanes(self, d: &mut [f64], a: &[f64], b: &[f64]) {
                match self { $(BinKind::$b => zip2(d, a, b, $bf),)* }
            }
        }

        impl UnKind {
            #[inline(always)]
            fn apply(self, x: f64) -> f64 {
                match self { $(UnKind::$u => ($uf)(x),)* }
            }

            #[inline(always)]
            fn apply_lanes(self, d: &mut [f64], a: &[f64]) {
                match self { $(UnKind::$u => zip1(d, a, $uf),)* }
            }
        }
    };
}

opcodes! {
    binary {
        Add => sem::add,
        Sub => sem::sub,
        Mul => sem::mul,
        Div => sem::div,
        Gt => |x: f64, y: f64| sem::flag(x > y),
        Ge => |x: f64, y: f64| sem::flag(x >= y),
        Lt => |x: f64, y: f64| sem::flag(x < y),
        Le => |x: f64, y: f64| sem::flag(x <= y),
        Eq => |x: f64, y: f64| sem::flag(x == y),
        Ne => |x: f64, y: f64| sem::flag(x != y),
        And => |x: f64, y: f64| sem::flag(sem::truth(x) & sem::truth(y)),
        Or => |x: f64, y: f64| sem::flag(sem::truth(x) | sem::truth(y)),
        Min => sem::min,
        Max => sem::max,
        SoftGt => sem::soft_gt,
    }
    unary {
        Neg => sem::neg,
        Not => |x: f64| sem::flag(!sem::truth(x)),
        Abs => sem::abs,
        Round => sem::round,
    }
}

impl BinKind {
    /// The opcode of a source operator.
    fn of(op: BinOp) -> BinKind {
        match op {
            BinOp::Add => BinKind::Add,
            BinOp::Sub => BinKind::Sub,
            BinOp::Mul => BinKind::Mul,
            BinOp::Div => BinKind::Div,
            BinOp::Gt => BinKind::Gt,
            BinOp::Ge => BinKind::Ge,
            BinOp::Lt => BinKind::Lt,
            BinOp::Le => BinKind::Le,
            BinOp::Eq => BinKind::Eq,
            BinOp::Ne => BinKind::Ne,
            BinOp::And => BinKind::And,
            BinOp::Or => BinKind::Or,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Instr {
    /// `Σ coef_k * v[idx_k]`, terms `start..start+len` of the block's term table, summed left to right.
    Lin {
        dst: Idx,
        start: Idx,
        len: Idx,
    },
    Bin {
        op: BinKind,
        dst: Idx,
        a: Idx,
        b: Idx,
    },
    Un {
        op: UnKind,
        dst: Idx,
        a: Idx,
    },
    Clip {
        dst: Idx,
        x: Idx,
        lo: Idx,
        hi: Idx,
    },
}

/// One scope's fields, compiled.
#[derive(Clone, Debug)]
pub struct Block {
    scope: ScopeId,
    fields: Vec<FieldId>,
    n_features: usize,
    consts: Vec<f64>,
    instrs: Vec<Instr>,
    terms: Vec<(Idx, f64)>,
    outputs: Vec<Idx>,
    /// Which feature slots the block reads: a host skips computing and writing the rest.
    reads: Vec<bool>,
}

/// The value array a [`Block`] evaluates in. Create it once with [`Block::frame`] and reuse it.
#[derive(Clone, Debug)]
pub struct Frame {
    vals: Box<[f64]>,
}

impl Instr {
    fn dst(&self) -> Idx {
        match *self {
            Instr::Lin { dst, .. }
            | Instr::Bin { dst, .. }
            | Instr::Un { dst, .. }
            | Instr::Clip { dst, .. } => dst,
        }
    }
}

impl Frame {
    /// Write feature `slot` (the feature's position in its frame, [`crate::schema::FeatureRef::slot`]).
    #[inline(always)]
    pub fn set(&mut self, slot: usize, value: f64) {
        self.vals[slot] = value;
    }

    #[inline(always)]
    pub fn get(&self, slot: usize) -> f64 {
        self.vals[slot]
    }
}

/// Structure-of-arrays values for evaluating one block on many inputs at once (patients of a
/// team's queue, candidate groups of arriving patients). Value `i` of lane `l` is at
/// `vals[i * cap + l]`. Each instruction then runs as a tight loop over the lanes, so the
/// interpreter's dispatch cost is paid once per batch rather than once per patient, and the loops
/// vectorise. Lanes are independent and see exactly the scalar operations, so batch results are
/// bit-identical to [`Block::eval`].
#[derive(Clone, Debug)]
pub struct Batch {
    cap: usize,
    lanes: usize,
    vals: Vec<f64>,
}

impl Batch {
    /// Number of lanes in use (at most the capacity given to [`Block::batch`]).
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Use the first `n` lanes in the next evaluation.
    pub fn set_lanes(&mut self, n: usize) {
        assert!(n <= self.cap, "batch holds at most {} lanes", self.cap);
        self.lanes = n;
    }

    /// Write feature `slot` of lane `lane`.
    #[inline(always)]
    pub fn set(&mut self, slot: usize, lane: usize, value: f64) {
        self.vals[slot * self.cap + lane] = value;
    }

    /// The lanes in use of the first `N` value columns (the features, for `N` up to the
    /// block's feature count), for a host that writes a lane's features together.
    #[inline]
    pub fn columns_mut<const N: usize>(&mut self) -> [&mut [f64]; N] {
        let lanes = self.lanes;
        let mut columns = self.vals.chunks_exact_mut(self.cap);
        std::array::from_fn(|_| &mut columns.next().expect("a column per feature")[..lanes])
    }

    fn value(&self, i: Idx) -> &[f64] {
        let i = i as usize;
        &self.vals[i * self.cap..i * self.cap + self.lanes]
    }
}

impl Block {
    pub fn scope(&self) -> ScopeId {
        self.scope
    }

    /// The fields this block computes, in output order.
    pub fn fields(&self) -> &[FieldId] {
        &self.fields
    }

    /// Number of instructions (after folding, sharing and fusion).
    pub fn instruction_count(&self) -> usize {
        self.instrs.len()
    }

    /// Number of terms the block's sums add (what sharing saves; a batch adds up to three of a
    /// sum's terms a pass over its lanes).
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// Whether any field of the block reads feature `slot` (after folding: a feature whose
    /// every use was folded away is not read). A host may leave unread features unwritten.
    #[inline]
    pub fn reads_feature(&self, slot: usize) -> bool {
        self.reads.get(slot).copied().unwrap_or(false)
    }

    /// A fresh frame: features zero, constants in place.
    pub fn frame(&self) -> Frame {
        let mut vals =
            vec![0.0; self.n_features + self.consts.len() + self.instrs.len()].into_boxed_slice();
        vals[self.n_features..self.n_features + self.consts.len()].copy_from_slice(&self.consts);
        Frame { vals }
    }

    /// Raw (unprojected) value of output `i` after [`Block::eval`].
    #[inline(always)]
    pub fn output(&self, frame: &Frame, i: usize) -> f64 {
        frame.vals[self.outputs[i] as usize]
    }

    /// A batch of `cap` lanes: features zero, constants broadcast.
    pub fn batch(&self, cap: usize) -> Batch {
        let mut vals = vec![0.0; self.len() * cap];
        for (k, c) in self.consts.iter().enumerate() {
            let i = self.n_features + k;
            vals[i * cap..(i + 1) * cap].fill(*c);
        }
        Batch {
            cap,
            lanes: cap,
            vals,
        }
    }

    /// Raw values of output `i` for every lane, after [`Block::eval_batch`].
    pub fn batch_output<'b>(&self, batch: &'b Batch, i: usize) -> &'b [f64] {
        batch.value(self.outputs[i])
    }

    /// Evaluate every field of the block on every lane of `batch`.
    pub fn eval_batch(&self, batch: &mut Batch) {
        assert_eq!(
            batch.vals.len(),
            self.len() * batch.cap,
            "batch belongs to another block"
        );
        let (cap, n) = (batch.cap, batch.lanes);
        for ins in &self.instrs {
            let dst = ins.dst() as usize;
            // Every instruction reads only values below its own register: split there.
            let (src, rest) = batch.vals.split_at_mut(dst * cap);
            let d = &mut rest[..n];
            let s = |i: Idx| &src[i as usize * cap..i as usize * cap + n];
            match *ins {
                Instr::Lin { start, len, .. } => {
                    let terms = &self.terms[start as usize..(start + len) as usize];
                    let (first, rest_terms) = terms.split_first().expect("non-empty");
                    lin_lanes(d, first, rest_terms, &s);
                    let overflow = d.iter().fold(false, |o, x| o | !x.is_finite());
                    if overflow {
                        // Rare: an overflow in some lane. Redo those lanes with saturation.
                        for (l, x) in d.iter_mut().enumerate() {
                            if !x.is_finite() {
                                let mut acc = sem::mul(first.1, s(first.0)[l]);
                                for &(i, c) in rest_terms {
                                    acc = sem::add(acc, sem::mul(c, s(i)[l]));
                                }
                                *x = acc;
                            }
                        }
                    }
                }
                Instr::Bin { op, a, b, .. } => op.apply_lanes(d, s(a), s(b)),
                Instr::Un { op, a, .. } => op.apply_lanes(d, s(a)),
                Instr::Clip { x, lo, hi, .. } => {
                    for (((o, a), b), c) in d.iter_mut().zip(s(x)).zip(s(lo)).zip(s(hi)) {
                        *o = sem::clip(*a, *b, *c);
                    }
                }
            }
        }
    }

    /// Length of the value array: features, constants, registers.
    fn len(&self) -> usize {
        self.n_features + self.consts.len() + self.instrs.len()
    }

    /// Evaluate every field of the block on the features in `frame`.
    #[inline]
    pub fn eval(&self, frame: &mut Frame) {
        let v = &mut frame.vals[..];
        assert_eq!(v.len(), self.len(), "frame belongs to another block");
        for ins in &self.instrs {
            let (dst, val) = match *ins {
                Instr::Lin { dst, start, len } => (
                    dst,
                    lin(&self.terms[start as usize..(start + len) as usize], v),
                ),
                Instr::Bin { op, dst, a, b } => (dst, op.apply(v[a as usize], v[b as usize])),
                Instr::Un { op, dst, a } => (dst, op.apply(v[a as usize])),
                Instr::Clip { dst, x, lo, hi } => (
                    dst,
                    sem::clip(v[x as usize], v[lo as usize], v[hi as usize]),
                ),
            };
            v[dst as usize] = val;
        }
    }
}

/// A left-to-right sum of `coef * value` terms with saturating semantics. The plain IEEE sum
/// equals the saturating one whenever it is finite (an overflow can never come back to a finite
/// value inside a sum), so the saturating loop runs only after an overflow.
#[inline(always)]
fn lin(terms: &[(Idx, f64)], v: &[f64]) -> f64 {
    let (first, rest) = terms
        .split_first()
        .expect("a linear combination has at least one term");
    let mut acc = first.1 * v[first.0 as usize];
    for &(i, c) in rest {
        acc += c * v[i as usize];
    }
    if acc.is_finite() {
        return acc;
    }
    let mut acc = sem::mul(first.1, v[first.0 as usize]);
    for &(i, c) in rest {
        acc = sem::add(acc, sem::mul(c, v[i as usize]));
    }
    acc
}

/// `d[l] = c₀·v₀[l] + c₁·v₁[l] + …` for every lane, left to right as [`lin`] adds, up to three
/// terms a pass over the lanes: each lane's operations and their order are those of one term a
/// pass, so the bits are; the lanes are loaded and stored a third as often.
#[inline(always)]
fn lin_lanes<'v>(
    d: &mut [f64],
    &(i0, c0): &(Idx, f64),
    rest: &[(Idx, f64)],
    s: &impl Fn(Idx) -> &'v [f64],
) {
    let mut rest = match rest {
        [] => {
            zip1(d, s(i0), |y| c0 * y);
            return;
        }
        [(i1, c1)] => {
            zip2(d, s(i0), s(*i1), |y0, y1| c0 * y0 + c1 * y1);
            return;
        }
        [(i1, c1), (i2, c2), tail @ ..] => {
            for (((x, y0), y1), y2) in d.iter_mut().zip(s(i0)).zip(s(*i1)).zip(s(*i2)) {
                *x = c0 * y0 + c1 * y1 + c2 * y2;
            }
            tail
        }
    };
    loop {
        rest = match rest {
            [] => return,
            [(i1, c1)] => {
                for (x, y1) in d.iter_mut().zip(s(*i1)) {
                    *x += c1 * y1;
                }
                return;
            }
            [(i1, c1), (i2, c2)] => {
                for ((x, y1), y2) in d.iter_mut().zip(s(*i1)).zip(s(*i2)) {
                    *x = *x + c1 * y1 + c2 * y2;
                }
                return;
            }
            [(i1, c1), (i2, c2), (i3, c3), tail @ ..] => {
                for (((x, y1), y2), y3) in d.iter_mut().zip(s(*i1)).zip(s(*i2)).zip(s(*i3)) {
                    *x = *x + c1 * y1 + c2 * y2 + c3 * y3;
                }
                tail
            }
        };
    }
}

/// `d[l] = f(a[l], b[l])` for every lane; generic so that `f` inlines and the loop vectorises.
#[inline(always)]
fn zip2(d: &mut [f64], a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) {
    for ((x, y), z) in d.iter_mut().zip(a).zip(b) {
        *x = f(*y, *z);
    }
}

/// `d[l] = f(a[l])` for every lane.
#[inline(always)]
fn zip1(d: &mut [f64], a: &[f64], f: impl Fn(f64) -> f64) {
    for (x, y) in d.iter_mut().zip(a) {
        *x = f(*y);
    }
}

/// A whole policy, compiled: one block per scope of its schema, in scope order.
#[derive(Clone, Debug)]
pub struct CompiledPolicy {
    blocks: Vec<Block>,
}

impl CompiledPolicy {
    pub fn new(policy: &Policy) -> Self {
        CompiledPolicy {
            blocks: policy
                .schema()
                .scope_ids()
                .map(|s| compile_block(policy, s))
                .collect(),
        }
    }

    pub fn block(&self, scope: ScopeId) -> &Block {
        &self.blocks[scope.index()]
    }
}

impl Block {
    /// The output index of `field` in this block, if the block evaluates it. Hosts resolve
    /// their outputs once, by field, instead of assuming positions.
    pub fn position(&self, field: FieldId) -> Option<usize> {
        self.fields.iter().position(|f| *f == field)
    }
}

/// Which of the first `n_features` values any instruction or output of a block reads.
fn features_read(
    n_features: usize,
    instrs: &[Instr],
    terms: &[(Idx, f64)],
    outputs: &[Idx],
) -> Vec<bool> {
    let mut reads = vec![false; n_features];
    let mut mark = |i: Idx| {
        if let Some(r) = reads.get_mut(i as usize) {
            *r = true;
        }
    };
    for ins in instrs {
        match *ins {
            Instr::Lin { start, len, .. } => terms[start as usize..(start + len) as usize]
                .iter()
                .for_each(|(i, _)| mark(*i)),
            Instr::Bin { a, b, .. } => {
                mark(a);
                mark(b);
            }
            Instr::Un { a, .. } => mark(a),
            Instr::Clip { x, lo, hi, .. } => {
                mark(x);
                mark(lo);
                mark(hi);
            }
        }
    }
    outputs.iter().for_each(|o| mark(*o));
    reads
}

/// Compile the fields of one scope into a block.
pub fn compile_block(policy: &Policy, scope: ScopeId) -> Block {
    let schema = policy.schema();
    let fields: Vec<FieldId> = schema.fields_in_scope(scope).collect();
    let mut b = Builder {
        schema,
        n_features: schema.slot_count(scope),
        consts: Vec::new(),
        const_ids: HashMap::new(),
        nodes: Vec::new(),
        memo: HashMap::new(),
        sums: Vec::new(),
        terms: Vec::new(),
    };
    let outs: Vec<Operand> = fields.iter().map(|f| b.expr(policy.expr(*f))).collect();
    b.finish(scope, fields, outs)
}

/// Where a value lives before final index assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Operand {
    Feature(u32),
    Const(u32),
    Node(u32),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Node {
    Lin(Vec<(Operand, u64)>),
    Bin(BinKind, Operand, Operand),
    Un(UnKind, Operand),
    Clip(Operand, Operand, Operand),
}

struct Builder<'s> {
    schema: &'s Schema,
    n_features: usize,
    consts: Vec<f64>,
    const_ids: HashMap<u64, u32>,
    nodes: Vec<Node>,
    memo: HashMap<Node, u32>,
    /// Every sum's node and its terms as written (before `share_prefix`), longest-prefix
    /// candidates for later sums.
    sums: Vec<(u32, Vec<(Operand, u64)>)>,
    terms: Vec<(Idx, f64)>,
}

impl Builder<'_> {
    fn constant(&mut self, v: f64) -> Operand {
        let next = self.consts.len() as u32;
        let id = *self.const_ids.entry(v.to_bits()).or_insert(next);
        if id == next {
            self.consts.push(v);
        }
        Operand::Const(id)
    }

    fn const_value(&self, o: Operand) -> Option<f64> {
        match o {
            Operand::Const(i) => Some(self.consts[i as usize]),
            _ => None,
        }
    }

    /// Add a node unless an identical one exists (common-subexpression sharing).
    fn node(&mut self, n: Node) -> Operand {
        if let Some(&id) = self.memo.get(&n) {
            return Operand::Node(id);
        }
        let id = self.nodes.len() as u32;
        self.memo.insert(n.clone(), id);
        self.nodes.push(n);
        Operand::Node(id)
    }

    fn expr(&mut self, e: &Expr) -> Operand {
        match &e.kind {
            ExprKind::Num(v) => self.constant(*v),
            ExprKind::Bool(b) => self.constant(sem::flag(*b)),
            ExprKind::Name(n) => {
                let f = self
                    .schema
                    .feature(n)
                    .expect("checked programs read only known features");
                Operand::Feature(f.slot as u32)
            }
            ExprKind::Unary(UnOp::Neg, _) | ExprKind::Binary(BinOp::Add | BinOp::Sub, ..) => {
                let mut terms = Vec::new();
                self.linear_terms(e, &mut terms);
                self.linear(terms)
            }
            ExprKind::Binary(BinOp::Mul, a, b) => {
                let (oa, ob) = (self.expr(a), self.expr(b));
                match (self.const_value(oa), self.const_value(ob)) {
                    (Some(x), Some(y)) => self.constant(sem::mul(x, y)),
                    // `c * x` and `x * c` are the same IEEE product: one linear term.
                    (Some(c), None) => self.linear(vec![(ob, c)]),
                    (None, Some(c)) => self.linear(vec![(oa, c)]),
                    (None, None) => self.binary(BinKind::Mul, oa, ob),
                }
            }
            ExprKind::Binary(op, a, b) => {
                let kind = BinKind::of(*op);
                let (oa, ob) = (self.expr(a), self.expr(b));
                self.binary(kind, oa, ob)
            }
            ExprKind::Unary(UnOp::Not, a) => {
                let oa = self.expr(a);
                self.unary(UnKind::Not, oa)
            }
            ExprKind::Call { name, args, .. } => {
                let call =
                    Call::from_name(name).expect("checked programs call only known functions");
                let ops: Vec<Operand> = args.iter().map(|a| self.expr(a)).collect();
                match call {
                    // A bool is already 0 or 1.
                    Call::I => ops[0],
                    Call::Clip => match (
                        self.const_value(ops[0]),
                        self.const_value(ops[1]),
                        self.const_value(ops[2]),
                    ) {
                        (Some(x), Some(lo), Some(hi)) => self.constant(sem::clip(x, lo, hi)),
                        _ => self.node(Node::Clip(ops[0], ops[1], ops[2])),
                    },
                    Call::Min | Call::Max => {
                        let kind = if call == Call::Min {
                            BinKind::Min
                        } else {
                            BinKind::Max
                        };
                        let mut acc = ops[0];
                        for &o in &ops[1..] {
                            acc = self.binary(kind, acc, o);
                        }
                        acc
                    }
                    Call::Abs => self.unary(UnKind::Abs, ops[0]),
                    Call::Round => self.unary(UnKind::Round, ops[0]),
                    Call::SoftGt => self.binary(BinKind::SoftGt, ops[0], ops[1]),
                    Call::SoftLt => self.binary(BinKind::SoftGt, ops[1], ops[0]),
                }
            }
        }
    }

    /// Flatten the left spine of a `+`/`-` chain into signed terms, in evaluation order.
    fn linear_terms(&mut self, e: &Expr, out: &mut Vec<(Operand, f64)>) {
        match &e.kind {
            ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
                self.linear_terms(a, out);
                let sign = if *op == BinOp::Add { 1.0 } else { -1.0 };
                let t = self.term(b, sign);
                out.push(t);
            }
            _ => {
                let t = self.term(e, 1.0);
                out.push(t);
            }
        }
    }

    /// One signed term: `c * x`, `x * c` and `-x` carry their coefficient; anything else is `±1`.
    fn term(&mut self, e: &Expr, sign: f64) -> (Operand, f64) {
        match &e.kind {
            ExprKind::Unary(UnOp::Neg, inner) => self.term(inner, -sign),
            _ => {
                let o = self.expr(e);
                if let Some(c) = self.const_value(o) {
                    return (self.constant(sign * c), 1.0);
                }
                if let Operand::Node(id) = o {
                    if let Node::Lin(ts) = &self.nodes[id as usize] {
                        // A single product term (from `c * x`) keeps its coefficient.
                        if ts.len() == 1 {
                            let (x, c) = ts[0];
                            return (x, sign * f64::from_bits(c));
                        }
                    }
                }
                (o, sign)
            }
        }
    }

    fn linear(&mut self, terms: Vec<(Operand, f64)>) -> Operand {
        if terms.iter().all(|(o, _)| self.const_value(*o).is_some()) {
            let mut acc = sem::mul(terms[0].1, self.const_value(terms[0].0).unwrap_or(0.0));
            for &(o, c) in &terms[1..] {
                acc = sem::add(acc, sem::mul(c, self.const_value(o).unwrap_or(0.0)));
            }
            return self.constant(acc);
        }
        if terms.len() == 1 && terms[0].1 == 1.0 {
            return terms[0].0;
        }
        let terms: Vec<(Operand, u64)> = terms.into_iter().map(|(o, c)| (o, c.to_bits())).collect();
        let known = self.nodes.len();
        match self.share_prefix(&terms) {
            // No earlier sum begins this one: it is its own key (an equal sum written before,
            // with no prefix then either, is found under it), a candidate once, if it is new
            // and could begin another (a single term cannot).
            None => {
                let sum = self.node(Node::Lin(terms.clone()));
                if let Operand::Node(id) = sum {
                    if id as usize >= known && terms.len() >= 2 {
                        self.sums.push((id, terms));
                    }
                }
                sum
            }
            Some(shared) => {
                // A sum written before is that sum, whatever it was rewritten to.
                let whole = Node::Lin(terms.clone());
                if let Some(&id) = self.memo.get(&whole) {
                    return Operand::Node(id);
                }
                // Not written so: a new candidate, even where its rewritten form is an old node.
                let sum = self.node(Node::Lin(shared));
                if let Operand::Node(id) = sum {
                    self.memo.insert(whole, id);
                    self.sums.push((id, terms));
                }
                sum
            }
        }
    }

    /// `terms` with their longest prefix that an earlier sum adds up replaced by that sum
    /// (coefficient 1), or `None` if no earlier sum begins them: `a + b + c + d` after
    /// `a + b + c` adds one term, not four, whatever the earlier sum was itself rewritten to. A
    /// sum is a left-to-right fold, so its first k partial sums are the prefix's: the same bits,
    /// and on the saturating path too (`sat(1 · p) = p` for the prefix's finite value).
    fn share_prefix(&self, terms: &[(Operand, u64)]) -> Option<Vec<(Operand, u64)>> {
        let (id, p) = self
            .sums
            .iter()
            .filter(|(_, p)| p.len() >= 2 && p.len() < terms.len() && terms.starts_with(p))
            .max_by_key(|(id, p)| (p.len(), std::cmp::Reverse(*id)))?;
        Some(
            std::iter::once((Operand::Node(*id), 1f64.to_bits()))
                .chain(terms[p.len()..].iter().copied())
                .collect(),
        )
    }

    fn binary(&mut self, kind: BinKind, a: Operand, b: Operand) -> Operand {
        if let (Some(x), Some(y)) = (self.const_value(a), self.const_value(b)) {
            let v = kind.apply(x, y);
            return self.constant(v);
        }
        self.node(Node::Bin(kind, a, b))
    }

    fn unary(&mut self, kind: UnKind, a: Operand) -> Operand {
        if let Some(x) = self.const_value(a) {
            let v = kind.apply(x);
            return self.constant(v);
        }
        self.node(Node::Un(kind, a))
    }

    /// Assign final indices: features, then constants, then one register per live node.
    fn finish(mut self, scope: ScopeId, fields: Vec<FieldId>, outs: Vec<Operand>) -> Block {
        // Nodes orphaned by term coefficient extraction are dropped: mark the live ones.
        let mut live = vec![false; self.nodes.len()];
        let mut stack: Vec<u32> = outs
            .iter()
            .filter_map(|o| {
                if let Operand::Node(i) = o {
                    Some(*i)
                } else {
                    None
                }
            })
            .collect();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut live[i as usize], true) {
                continue;
            }
            let mut push = |o: &Operand| {
                if let Operand::Node(j) = o {
                    stack.push(*j);
                }
            };
            match &self.nodes[i as usize] {
                Node::Lin(ts) => ts.iter().for_each(|(o, _)| push(o)),
                Node::Bin(_, a, b) => {
                    push(a);
                    push(b);
                }
                Node::Un(_, a) => push(a),
                Node::Clip(a, b, c) => {
                    push(a);
                    push(b);
                    push(c);
                }
            }
        }
        let base = (self.n_features + self.consts.len()) as u32;
        let mut reg = vec![u32::MAX; self.nodes.len()];
        let mut next = base;
        for (i, l) in live.iter().enumerate() {
            if *l {
                reg[i] = next;
                next += 1;
            }
        }
        let nf = self.n_features as u32;
        let idx = |o: Operand| -> Idx {
            match o {
                Operand::Feature(s) => s,
                Operand::Const(c) => nf + c,
                Operand::Node(n) => reg[n as usize],
            }
        };
        let mut instrs = Vec::new();
        // Nodes were created children-first, so index order is a valid evaluation order.
        for (i, node) in self.nodes.iter().enumerate() {
            if !live[i] {
                continue;
            }
            let dst = reg[i];
            let ins = match node {
                Node::Lin(ts) => {
                    let start = self.terms.len() as Idx;
                    self.terms
                        .extend(ts.iter().map(|(o, c)| (idx(*o), f64::from_bits(*c))));
                    Instr::Lin {
                        dst,
                        start,
                        len: ts.len() as Idx,
                    }
                }
                Node::Bin(k, a, b) => {
                    let (a, b) = (idx(*a), idx(*b));
                    Instr::Bin { op: *k, dst, a, b }
                }
                Node::Un(k, a) => Instr::Un {
                    op: *k,
                    dst,
                    a: idx(*a),
                },
                Node::Clip(x, lo, hi) => Instr::Clip {
                    dst,
                    x: idx(*x),
                    lo: idx(*lo),
                    hi: idx(*hi),
                },
            };
            instrs.push(ins);
        }
        let outputs: Vec<Idx> = outs.into_iter().map(idx).collect();
        let reads = features_read(self.n_features, &instrs, &self.terms, &outputs);
        let block = Block {
            scope,
            fields,
            n_features: self.n_features,
            consts: self.consts,
            instrs,
            terms: self.terms,
            outputs,
            reads,
        };
        for (k, ins) in block.instrs.iter().enumerate() {
            // `eval_batch` splits the value array at each instruction's register.
            assert_eq!(
                ins.dst() as usize,
                base as usize + k,
                "registers follow instruction order"
            );
        }
        block
    }
}

/// Reference tree-walking evaluator: the definition the compiled form must match. `features`
/// is indexed by slot in the expression's scope. Slow; for tests and tooling.
pub fn eval_reference(schema: &Schema, e: &Expr, features: &[f64]) -> f64 {
    let ev = |x: &Expr| eval_reference(schema, x, features);
    match &e.kind {
        ExprKind::Num(v) => *v,
        ExprKind::Bool(b) => sem::flag(*b),
        ExprKind::Name(n) => features[schema.feature(n).expect("checked").slot],
        ExprKind::Unary(UnOp::Neg, a) => UnKind::Neg.apply(ev(a)),
        ExprKind::Unary(UnOp::Not, a) => UnKind::Not.apply(ev(a)),
        ExprKind::Binary(op, a, b) => BinKind::of(*op).apply(ev(a), ev(b)),
        ExprKind::Call { name, args, .. } => {
            let v: Vec<f64> = args.iter().map(ev).collect();
            match Call::from_name(name).expect("checked") {
                Call::I => v[0],
                Call::Clip => sem::clip(v[0], v[1], v[2]),
                Call::Min => v[1..].iter().fold(v[0], |a, b| BinKind::Min.apply(a, *b)),
                Call::Max => v[1..].iter().fold(v[0], |a, b| BinKind::Max.apply(a, *b)),
                Call::Abs => UnKind::Abs.apply(v[0]),
                Call::Round => UnKind::Round.apply(v[0]),
                Call::SoftGt => BinKind::SoftGt.apply(v[0], v[1]),
                // soft_lt(x, y) is soft_gt(y, x), as the compiler emits it.
                Call::SoftLt => BinKind::SoftGt.apply(v[1], v[0]),
            }
        }
    }
}
