//! Recursive-descent parser from tokens to [`ast::File`](crate::ast::File).
//!
//! Line breaks: inside parentheses a newline is whitespace; at the top level it ends the
//! statement unless the next line starts with a binary operator or the line ends with one.
//! A line of the form `name = …` or `[section]` always starts a new item, which lets the parser
//! report an unclosed `(` where it happened and carry on with the next statement.
//!
//! The parser enforces the size guardrails ([`MAX_NODES`], [`MAX_NESTING`]) while it reads, so
//! no input can make any later tree walk recurse deeply.

use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::lexer::{self, Tok, Token};
use crate::schema::{MAX_NESTING, MAX_NODES, MAX_SOURCE_BYTES};
use crate::span::Span;

/// Parse a whole policy file. Diagnostics are syntax errors only; see [`crate::check`].
pub fn parse_file(src: &str) -> (File, Vec<Diagnostic>) {
    if src.len() > MAX_SOURCE_BYTES {
        let d = Diagnostic::error(
            Code::TooLarge,
            Span::new(0, 0),
            format!(
                "policy source is {} bytes; the limit is {MAX_SOURCE_BYTES}",
                src.len()
            ),
        );
        return (File::default(), vec![d]);
    }
    let lexed = lexer::lex(src);
    let mut p = Parser {
        src,
        next: past_newlines(&lexed.tokens),
        toks: lexed.tokens,
        pos: 0,
        depth: 0,
        nesting: 0,
        nodes: 0,
        diags: lexed.diagnostics,
    };
    let mut items = Vec::new();
    loop {
        p.skip_separators();
        if p.peek() == Tok::Eof {
            break;
        }
        match p.item() {
            Ok(item) => items.push(item),
            Err(()) => p.recover(),
        }
    }
    (
        File {
            items,
            comments: lexed.comments,
        },
        p.diags,
    )
}

/// For each token, the first token at or after it that is not a newline (the token list ends
/// with `Eof`, which is not one).
fn past_newlines(toks: &[Token]) -> Vec<usize> {
    let mut next = vec![0; toks.len()];
    let mut after = toks.len().saturating_sub(1);
    for i in (0..toks.len()).rev() {
        if toks[i].tok != Tok::Newline {
            after = i;
        }
        next[i] = after;
    }
    next
}

/// Parse a bare list of statements, as the paper's listings print them (no header, no
/// sections). Any header entry or section is an error.
pub fn parse_statements(src: &str) -> (Vec<Stmt>, Vec<Diagnostic>) {
    let (file, mut diags) = parse_file(src);
    let mut stmts = Vec::new();
    for item in file.items {
        match item {
            Item::Stmt(s) => stmts.push(s),
            other => diags.push(
                Diagnostic::error(
                    Code::NotAStatement,
                    other.span(),
                    "expected a field assignment",
                )
                .with_label("a statement list holds only `field = expression` lines"),
            ),
        }
    }
    (stmts, diags)
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    /// For each token, the index of the first token at or after it that is not a newline:
    /// every newline question is answered in constant time, so parsing is linear in the
    /// input however many line breaks it holds.
    next: Vec<usize>,
    pos: usize,
    /// Open parentheses: newlines inside them are whitespace.
    depth: usize,
    /// Current nesting of parentheses, calls and unary operators (guardrail).
    nesting: usize,
    /// Nodes built in the current statement (guardrail).
    nodes: usize,
    diags: Vec<Diagnostic>,
}

type PResult<T> = Result<T, ()>;

impl<'s> Parser<'s> {
    /// Whether the newline at `i` is followed by something that can only start a new item.
    fn newline_starts_item(&self, i: usize) -> bool {
        let j = self.next[i];
        match self.toks[j].tok {
            Tok::LBracket | Tok::Eof => true,
            Tok::Ident => self.toks[j + 1].tok == Tok::Assign,
            _ => false,
        }
    }

    fn peek_index(&self) -> usize {
        let i = self.pos;
        if self.depth > 0 && self.toks[i].tok == Tok::Newline && !self.newline_starts_item(i) {
            self.next[i]
        } else {
            i
        }
    }

    fn peek(&self) -> Tok {
        self.toks[self.peek_index()].tok
    }

    fn peek_token(&self) -> Token {
        self.toks[self.peek_index()]
    }

    fn bump(&mut self) -> Token {
        let i = self.peek_index();
        let t = self.toks[i];
        if t.tok != Tok::Eof {
            self.pos = i + 1;
        }
        match t.tok {
            Tok::LParen => self.depth += 1,
            Tok::RParen => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        t
    }

    fn text(&self, span: Span) -> &'s str {
        &self.src[span.start..span.end]
    }

    /// Skip line breaks inside an expression, but never into a line that starts a new item.
    fn skip_newlines(&mut self) {
        if self.toks[self.pos].tok == Tok::Newline && !self.newline_starts_item(self.pos) {
            self.pos = self.next[self.pos];
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.toks[self.pos].tok, Tok::Newline | Tok::Semi) {
            self.pos += 1;
        }
    }

    /// If the next token (possibly on the next line) is one of `ops`, consume it.
    fn continue_with(&mut self, ops: &[Tok]) -> Option<Token> {
        let j = self.next[self.peek_index()];
        let t = self.toks[j];
        if ops.contains(&t.tok) {
            self.pos = j + 1;
            self.skip_newlines();
            Some(t)
        } else {
            None
        }
    }

    fn error<T>(&mut self, d: Diagnostic) -> PResult<T> {
        self.diags.push(d);
        Err(())
    }

    /// How a found token is named in a message: a name is quoted, anything else described.
    fn found(&self, t: Token) -> String {
        if t.tok == Tok::Ident {
            format!("`{}`", self.text(t.span))
        } else {
            t.tok.describe().to_string()
        }
    }

    fn unexpected<T>(&mut self, expected: &str) -> PResult<T> {
        let t = self.peek_token();
        let found = self.found(t);
        let d = Diagnostic::error(
            Code::Syntax,
            t.span,
            format!("expected {expected}, found {found}"),
        )
        .with_label(format!("expected {expected}"));
        self.error(d)
    }

    /// Skip to the start of the next item after an error.
    fn recover(&mut self) {
        self.depth = 0;
        self.nesting = 0;
        loop {
            match self.toks[self.pos].tok {
                Tok::Eof => return,
                Tok::Newline | Tok::Semi
                    if self.newline_starts_item(self.pos + 1)
                        || self.toks[self.pos + 1].tok == Tok::Eof =>
                {
                    self.pos += 1;
                    return;
                }
                _ => self.pos += 1,
            }
        }
    }

    fn item(&mut self) -> PResult<Item> {
        self.nodes = 0;
        self.nesting = 0;
        self.depth = 0;
        let start = self.peek_token();
        match start.tok {
            Tok::LBracket => {
                self.bump();
                let name_tok = self.peek_token();
                if name_tok.tok != Tok::Ident {
                    return self.unexpected("a section name, e.g. `[rules]`");
                }
                self.bump();
                if self.peek() != Tok::RBracket {
                    return self.unexpected("`]`");
                }
                let close = self.bump();
                self.end_of_item()?;
                Ok(Item::Section {
                    name: self.text(name_tok.span).to_string(),
                    name_span: name_tok.span,
                    span: start.span.to(close.span),
                })
            }
            Tok::Ident => {
                self.bump();
                if self.peek() != Tok::Assign {
                    let t = self.peek_token();
                    let name = self.text(start.span);
                    let mut d = Diagnostic::error(
                        Code::Syntax,
                        t.span,
                        format!("expected `=` after `{name}`, found {}", t.tok.describe()),
                    )
                    .with_label("expected `=`");
                    if t.tok == Tok::EqEq {
                        d = d.with_help("assignment is a single `=`; `==` compares");
                    }
                    return self.error(d);
                }
                self.bump();
                self.skip_newlines();
                let vt = self.peek_token();
                if vt.tok == Tok::Str {
                    self.bump();
                    self.end_of_item()?;
                    let raw = self.text(vt.span);
                    return Ok(Item::Header(HeaderEntry {
                        key: self.text(start.span).to_string(),
                        key_span: start.span,
                        value: lexer::unescape(raw),
                        value_span: vt.span,
                        span: start.span.to(vt.span),
                    }));
                }
                let value = self.expr()?;
                self.end_of_item()?;
                let span = start.span.to(value.span);
                Ok(Item::Stmt(Stmt {
                    target: self.text(start.span).to_string(),
                    target_span: start.span,
                    value,
                    span,
                }))
            }
            _ => {
                let found = start.tok.describe();
                let d = Diagnostic::error(
                    Code::Syntax,
                    start.span,
                    format!("expected a statement, found {found}"),
                )
                .with_label("expected `field = expression`, `key = \"value\"` or `[section]`");
                let d = if start.tok.is_binary_op() {
                    d.with_help("a line may start with an operator only to continue the expression above it")
                } else {
                    d
                };
                self.error(d)
            }
        }
    }

    fn end_of_item(&mut self) -> PResult<()> {
        match self.peek() {
            Tok::Newline | Tok::Semi | Tok::Eof => Ok(()),
            Tok::RParen => {
                let t = self.peek_token();
                self.error(
                    Diagnostic::error(Code::Syntax, t.span, "unmatched `)`")
                        .with_label("no `(` is open here"),
                )
            }
            _ => {
                let t = self.peek_token();
                let found = self.found(t);
                // `if c then a else b` reads as a name `if` followed by more: say what to
                // write instead.
                let text = |t: &Token| self.src.get(t.span.start..t.span.end).unwrap_or("");
                let previous = self.pos.checked_sub(1).map(|k| self.toks[k]);
                let conditional = ["if", "then", "else"].contains(&text(&t))
                    || previous.is_some_and(|p| {
                        p.tok == Tok::Ident && ["if", "then", "else"].contains(&text(&p))
                    });
                let help = if conditional {
                    "the language has no if/then/else: write the choice as arithmetic, e.g. `0.4 + 0.2 * I(x > 2)` (I(...) is 1 when the condition holds, else 0), and bound a result with `clip(x, lo, hi)`"
                } else {
                    "is an operator missing between two operands?"
                };
                let d = Diagnostic::error(
                    Code::Syntax,
                    t.span,
                    format!("expected end of statement, found {found}"),
                )
                .with_label("expected a new line or `;` here")
                .with_help(help);
                self.error(d)
            }
        }
    }

    fn node(&mut self, kind: ExprKind, span: Span) -> PResult<Expr> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            let d = Diagnostic::error(
                Code::TooLarge,
                span,
                format!("expression has more than {MAX_NODES} nodes"),
            )
            .with_label("the expression reaches the size limit here")
            .with_help("split the rule into simpler terms; the guardrails bound program size");
            return self.error(d);
        }
        Ok(Expr::new(kind, span))
    }

    fn enter(&mut self, span: Span) -> PResult<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            let d = Diagnostic::error(
                Code::TooDeep,
                span,
                format!("expression nests more than {MAX_NESTING} levels deep"),
            )
            .with_label("nesting limit reached here")
            .with_help("the guardrails bound nesting depth; flatten the expression");
            return self.error(d);
        }
        Ok(())
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.or()
    }

    fn binary_loop(
        &mut self,
        ops: &[(Tok, BinOp)],
        next: fn(&mut Self) -> PResult<Expr>,
    ) -> PResult<Expr> {
        let mut lhs = next(self)?;
        let toks: Vec<Tok> = ops.iter().map(|o| o.0).collect();
        while let Some(t) = self.continue_with(&toks) {
            let op = ops
                .iter()
                .find(|o| o.0 == t.tok)
                .map(|o| o.1)
                .expect("matched above");
            let rhs = next(self)?;
            let span = lhs.span.to(rhs.span);
            lhs = self.node(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span)?;
        }
        Ok(lhs)
    }

    fn or(&mut self) -> PResult<Expr> {
        self.binary_loop(&[(Tok::Or, BinOp::Or)], Self::and)
    }

    fn and(&mut self) -> PResult<Expr> {
        self.binary_loop(&[(Tok::And, BinOp::And)], Self::not)
    }

    fn not(&mut self) -> PResult<Expr> {
        if self.peek() == Tok::Not {
            let t = self.bump();
            self.skip_newlines();
            self.enter(t.span)?;
            let inner = self.not()?;
            self.nesting -= 1;
            let span = t.span.to(inner.span);
            return self.node(ExprKind::Unary(UnOp::Not, Box::new(inner)), span);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<Expr> {
        const OPS: [(Tok, BinOp); 6] = [
            (Tok::Gt, BinOp::Gt),
            (Tok::Ge, BinOp::Ge),
            (Tok::Lt, BinOp::Lt),
            (Tok::Le, BinOp::Le),
            (Tok::EqEq, BinOp::Eq),
            (Tok::Ne, BinOp::Ne),
        ];
        let toks = OPS.map(|o| o.0);
        let lhs = self.additive()?;
        let Some(t) = self.continue_with(&toks) else {
            return Ok(lhs);
        };
        let op = OPS
            .iter()
            .find(|o| o.0 == t.tok)
            .map(|o| o.1)
            .expect("matched above");
        let rhs = self.additive()?;
        if let Some(t2) = self.continue_with(&toks) {
            let d = Diagnostic::error(Code::Syntax, t2.span, "comparisons cannot be chained")
                .with_label("second comparison")
                .with_related(t.span, "first comparison")
                .with_help("combine them with `and`, e.g. `(a < b) and (b < c)`");
            return self.error(d);
        }
        let span = lhs.span.to(rhs.span);
        self.node(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span)
    }

    fn additive(&mut self) -> PResult<Expr> {
        self.binary_loop(
            &[(Tok::Plus, BinOp::Add), (Tok::Minus, BinOp::Sub)],
            Self::multiplicative,
        )
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        self.binary_loop(
            &[(Tok::Star, BinOp::Mul), (Tok::Slash, BinOp::Div)],
            Self::unary,
        )
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.peek() == Tok::Minus {
            let t = self.bump();
            self.skip_newlines();
            self.enter(t.span)?;
            let inner = self.unary()?;
            self.nesting -= 1;
            let span = t.span.to(inner.span);
            return self.node(ExprKind::Unary(UnOp::Neg, Box::new(inner)), span);
        }
        if self.peek() == Tok::Not {
            let t = self.peek_token();
            let d = Diagnostic::error(Code::Syntax, t.span, "`not` needs parentheses here")
                .with_label("`not` binds more loosely than comparisons and arithmetic")
                .with_help("write `(not x)`");
            return self.error(d);
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek_token();
        match t.tok {
            Tok::Number(v) => {
                self.bump();
                self.node(ExprKind::Num(v), t.span)
            }
            Tok::True | Tok::False => {
                self.bump();
                self.node(ExprKind::Bool(t.tok == Tok::True), t.span)
            }
            Tok::Ident => {
                self.bump();
                let name = self.text(t.span).to_string();
                if self.peek() == Tok::LParen {
                    return self.call(name, t.span);
                }
                self.node(ExprKind::Name(name), t.span)
            }
            Tok::LParen => {
                self.bump();
                self.enter(t.span)?;
                let inner = self.expr()?;
                self.close_paren(t.span)?;
                self.nesting -= 1;
                Ok(inner)
            }
            Tok::Str => {
                let d = Diagnostic::error(
                    Code::Syntax,
                    t.span,
                    "a string cannot appear in an expression",
                )
                .with_label("strings are only header values (kind, version, name, description)");
                self.error(d)
            }
            _ => self.unexpected("an expression (a number, a feature, a call or `(`)"),
        }
    }

    fn close_paren(&mut self, open: Span) -> PResult<()> {
        if self.peek() == Tok::RParen {
            self.bump();
            return Ok(());
        }
        let t = self.peek_token();
        let found = self.found(t);
        let d = Diagnostic::error(Code::Syntax, t.span, format!("expected `)`, found {found}"))
            .with_label("expected `)` or an operator")
            .with_related(open, "unclosed `(` opened here");
        self.error(d)
    }

    fn call(&mut self, name: String, name_span: Span) -> PResult<Expr> {
        let open = self.bump();
        self.enter(open.span)?;
        let mut args = Vec::new();
        if self.peek() != Tok::RParen {
            loop {
                args.push(self.expr()?);
                if self.peek() == Tok::Comma {
                    self.bump();
                    continue;
                }
                break;
            }
        }
        let end = self.peek_token().span;
        self.close_paren(open.span)?;
        self.nesting -= 1;
        self.node(
            ExprKind::Call {
                name,
                name_span,
                args,
            },
            name_span.to(end),
        )
    }
}
