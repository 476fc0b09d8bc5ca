//! The syntax tree of a policy file, with spans for diagnostics.
//!
//! Parentheses leave no node: `(a)` and `a` are the same tree, so layout never changes meaning
//! or the canonical hash. Equality of trees ignores spans ([`Expr::same`]).

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    And,
    Or,
}

impl BinOp {
    /// Binding strength: higher binds tighter. `or` < `and` < `not` (4) < comparisons < `+ -` < `* /`.
    pub fn precedence(self) -> u8 {
        use BinOp::*;
        match self {
            Or => 1,
            And => 2,
            Gt | Ge | Lt | Le | Eq | Ne => 4,
            Add | Sub => 5,
            Mul | Div => 6,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }

    pub fn is_logical(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or)
    }

    pub fn symbol(self) -> &'static str {
        use BinOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Gt => ">",
            Ge => ">=",
            Lt => "<",
            Le => "<=",
            Eq => "==",
            Ne => "!=",
            And => "and",
            Or => "or",
        }
    }
}

/// Precedence of `not`, between `and` and the comparisons (as in Python).
pub const NOT_PRECEDENCE: u8 = 3;
/// Precedence of unary minus, above `* /`.
pub const NEG_PRECEDENCE: u8 = 7;

#[derive(Clone, Debug)]
pub enum ExprKind {
    Num(f64),
    Bool(bool),
    Name(String),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// Structural equality, ignoring spans. Numbers compare by bit pattern.
    pub fn same(&self, other: &Expr) -> bool {
        use ExprKind::*;
        match (&self.kind, &other.kind) {
            (Num(a), Num(b)) => a.to_bits() == b.to_bits(),
            (Bool(a), Bool(b)) => a == b,
            (Name(a), Name(b)) => a == b,
            (Unary(o1, a), Unary(o2, b)) => o1 == o2 && a.same(b),
            (Binary(o1, a1, b1), Binary(o2, a2, b2)) => o1 == o2 && a1.same(a2) && b1.same(b2),
            (
                Call {
                    name: n1, args: a1, ..
                },
                Call {
                    name: n2, args: a2, ..
                },
            ) => n1 == n2 && a1.len() == a2.len() && a1.iter().zip(a2).all(|(x, y)| x.same(y)),
            _ => false,
        }
    }

    /// Number of nodes in the tree.
    pub fn size(&self) -> usize {
        match &self.kind {
            ExprKind::Num(_) | ExprKind::Bool(_) | ExprKind::Name(_) => 1,
            ExprKind::Unary(_, e) => 1 + e.size(),
            ExprKind::Binary(_, a, b) => 1 + a.size() + b.size(),
            ExprKind::Call { args, .. } => 1 + args.iter().map(Expr::size).sum::<usize>(),
        }
    }

    /// Calls `f` on every node, parents before children.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Unary(_, e) => e.walk(f),
            ExprKind::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|a| a.walk(f)),
            _ => {}
        }
    }
}

/// `target = value`.
#[derive(Clone, Debug)]
pub struct Stmt {
    pub target: String,
    pub target_span: Span,
    pub value: Expr,
    pub span: Span,
}

/// `key = "value"` before the first section.
#[derive(Clone, Debug)]
pub struct HeaderEntry {
    pub key: String,
    pub key_span: Span,
    pub value: String,
    pub value_span: Span,
    pub span: Span,
}

/// One top-level item, in source order.
#[derive(Clone, Debug)]
pub enum Item {
    Header(HeaderEntry),
    /// `[name]`
    Section {
        name: String,
        name_span: Span,
        span: Span,
    },
    Stmt(Stmt),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Header(h) => h.span,
            Item::Section { span, .. } => *span,
            Item::Stmt(s) => s.span,
        }
    }
}

/// A parsed policy file: its items in order and its comments.
#[derive(Clone, Debug, Default)]
pub struct File {
    pub items: Vec<Item>,
    pub comments: Vec<crate::lexer::Comment>,
}
