//! The canonical printer behind `medisim fmt`.
//!
//! Layout rules, chosen to read like the paper's listings:
//! - one statement per line, `field = expression`; a line longer than [`WIDTH`] breaks before a
//!   binary operator (or after a comma), filling lines greedily; continuation lines are indented
//!   by four spaces;
//! - parentheses are minimal, except that a comparison inside `and`/`or`, an `and` inside `or`,
//!   a compound operand of a comparison, and a compound operand of `not` are always
//!   parenthesised (the listings' style: `(score + bonus) >= threshold`);
//! - numbers print in their shortest exact form (`0.20` becomes `0.2`);
//! - comments are kept: a comment at the end of a line stays there, any other comment is placed
//!   on its own line before the next item; a comment inside a broken expression moves above
//!   its statement;
//! - a blank line precedes each section (and the comments directly above it); other blank lines
//!   are kept, at most one in a row.
//!
//! Printing never changes the program: parsing the output gives the same tree.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::lexer::escape;
use crate::parser::parse_file;
use std::borrow::Cow;

/// Target line width.
pub const WIDTH: usize = 88;
const INDENT: &str = "    ";

/// Shortest text that parses back to exactly `v`.
pub fn number(v: f64) -> String {
    // Debug formatting is the shortest round-trip form and keeps a decimal point or exponent.
    let mut s = format!("{v:?}");
    if s.ends_with(".0") {
        s.truncate(s.len() - 2);
    }
    s
}

/// The expression on one line.
/// An expression displays as the printer prints it (here, so the tree need not know the printer).
impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&expr_to_string(self))
    }
}

pub fn expr_to_string(e: &Expr) -> String {
    let mut pieces = Vec::new();
    pieces_of(e, Ctx::Top, 0, &mut pieces);
    let mut out = String::new();
    for p in &pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Break(_) => out.push(' '),
        }
    }
    out
}

/// Pieces borrow the expression's names and the operators' static text: printing is on the
/// search's path (every child is printed and hashed), so a piece allocates only for a number.
enum Piece<'e> {
    Text(Cow<'e, str>),
    /// A space, or a line break when the line is full. The rank orders break points: the
    /// shallowest and loosest-binding one on an overfull line is taken.
    Break(u32),
}

fn text(t: &'static str) -> Piece<'static> {
    Piece::Text(Cow::Borrowed(t))
}

#[derive(Clone, Copy)]
enum Ctx {
    Top,
    Operand { parent: BinOp, right: bool },
    Neg,
    Not,
}

fn needs_parens(e: &Expr, ctx: Ctx) -> bool {
    match (&e.kind, ctx) {
        (_, Ctx::Top) => false,
        (ExprKind::Binary(op, ..), Ctx::Operand { parent, right }) => {
            let (p, q) = (op.precedence(), parent.precedence());
            p < q
                || (p == q && (right || op.is_comparison()))
                || (parent.is_logical()
                    && (op.is_comparison() || (*op == BinOp::And && parent == BinOp::Or)))
                || (parent.is_comparison() && !op.is_comparison())
        }
        (ExprKind::Unary(UnOp::Not, _), Ctx::Operand { parent, .. }) => {
            NOT_PRECEDENCE < parent.precedence() || parent.is_logical()
        }
        (ExprKind::Binary(..), Ctx::Neg) => true,
        (ExprKind::Unary(UnOp::Not, _), Ctx::Neg) => true,
        (ExprKind::Binary(..) | ExprKind::Unary(..), Ctx::Not) => true,
        _ => false,
    }
}

fn pieces_of<'e>(e: &'e Expr, ctx: Ctx, depth: u32, out: &mut Vec<Piece<'e>>) {
    let paren = needs_parens(e, ctx);
    let depth = depth + u32::from(paren);
    if paren {
        out.push(text("("));
    }
    match &e.kind {
        ExprKind::Num(v) => out.push(Piece::Text(Cow::Owned(number(*v)))),
        ExprKind::Bool(b) => out.push(text(if *b { "true" } else { "false" })),
        ExprKind::Name(n) => out.push(Piece::Text(Cow::Borrowed(n))),
        ExprKind::Unary(UnOp::Neg, a) => {
            out.push(text("-"));
            pieces_of(a, Ctx::Neg, depth, out);
        }
        ExprKind::Unary(UnOp::Not, a) => {
            out.push(text("not "));
            pieces_of(a, Ctx::Not, depth, out);
        }
        ExprKind::Binary(op, a, b) => {
            pieces_of(
                a,
                Ctx::Operand {
                    parent: *op,
                    right: false,
                },
                depth,
                out,
            );
            out.push(Piece::Break(depth * 10 + u32::from(op.precedence())));
            out.push(text(op.symbol()));
            out.push(text(" "));
            pieces_of(
                b,
                Ctx::Operand {
                    parent: *op,
                    right: true,
                },
                depth,
                out,
            );
        }
        ExprKind::Call { name, args, .. } => {
            out.push(Piece::Text(Cow::Borrowed(name)));
            out.push(text("("));
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push(text(","));
                    out.push(Piece::Break((depth + 1) * 10));
                }
                pieces_of(a, Ctx::Top, depth + 1, out);
            }
            out.push(text(")"));
        }
    }
    if paren {
        out.push(text(")"));
    }
}

/// `target = expression`, broken over lines when longer than [`WIDTH`].
pub fn statement(target: &str, value: &Expr) -> String {
    let mut pieces = Vec::with_capacity(64);
    pieces.extend([Piece::Text(Cow::Borrowed(target)), text(" = ")]);
    pieces_of(value, Ctx::Top, 0, &mut pieces);
    fill(&pieces)
}

/// Line filling: when a word would overflow the line, break at the best-ranked break point on
/// that line (shallowest, loosest-binding; the rightmost among equals).
fn fill(pieces: &[Piece]) -> String {
    // Unbreakable words, as byte ranges of one buffer with their width in characters and the
    // rank of the break point before each.
    // Sized up front: every statement of every program the search writes passes here.
    let mut text = String::with_capacity(256);
    let mut words: Vec<Word> = Vec::with_capacity(pieces.len() + 1);
    words.push(Word::default());
    for p in pieces {
        match p {
            Piece::Text(t) => {
                text.push_str(t);
                let w = words.last_mut().expect("non-empty");
                w.end = text.len();
                w.chars += t.chars().count();
            }
            Piece::Break(rank) => words.push(Word {
                start: text.len(),
                end: text.len(),
                chars: 0,
                rank: Some(*rank),
            }),
        }
    }
    // ends[i]: the characters of words[..i] plus one space after each, so the width of
    // words[a..=b] joined by spaces is ends[b + 1] − ends[a] − 1.
    let mut ends = Vec::with_capacity(words.len() + 1);
    ends.push(0usize);
    for w in &words {
        ends.push(ends.last().expect("non-empty") + w.chars + 1);
    }
    let width = |a: usize, b: usize| ends[b + 1] - ends[a] - 1;
    let mut line_starts = Vec::with_capacity(8);
    line_starts.push(0usize);
    let mut start = 0;
    for i in 1..words.len() {
        let indent = if start == 0 { 0 } else { INDENT.len() };
        if indent + width(start, i) <= WIDTH {
            continue;
        }
        let best = (start + 1..=i)
            .filter_map(|j| words[j].rank.map(|r| (r, j)))
            .min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        if let Some((_, j)) = best {
            line_starts.push(j);
            start = j;
        }
    }
    line_starts.push(words.len());
    let mut out = String::with_capacity(text.len() + words.len() + 8);
    for (k, w) in line_starts.windows(2).enumerate() {
        if k > 0 {
            out.push('\n');
            out.push_str(INDENT);
        }
        for (m, word) in words[w[0]..w[1]].iter().enumerate() {
            if m > 0 {
                out.push(' ');
            }
            out.push_str(&text[word.start..word.end]);
        }
    }
    out
}

/// One unbreakable word of [`fill`]: where it lies in the text, its width, the rank of the
/// break point before it (none for the first).
#[derive(Default)]
struct Word {
    start: usize,
    end: usize,
    chars: usize,
    rank: Option<u32>,
}

/// Format a policy source. Only syntax errors prevent formatting.
pub fn format_source(src: &str) -> Result<String, Vec<Diagnostic>> {
    let (file, diags) = parse_file(src);
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(format_file(&file, src))
}

/// Format a parsed file; `src` is the text it was parsed from (for comment and blank-line positions).
pub fn format_file(file: &File, src: &str) -> String {
    let line_of = |offset: usize| src[..offset.min(src.len())].matches('\n').count();

    enum Entry<'a> {
        Item(&'a Item, Vec<&'a str>),
        Comment(&'a str),
    }
    // (entry, first line, last line)
    let mut entries: Vec<(Entry, usize, usize)> = Vec::new();
    let mut comments = file.comments.iter().peekable();
    for (k, item) in file.items.iter().enumerate() {
        let span = item.span();
        let (first, last) = (line_of(span.start), line_of(span.end));
        // Comments before the end of this item that are not trailing on its last line lead it.
        while let Some(c) = comments.peek() {
            if c.span.start < span.end && line_of(c.span.start) != last || c.span.start < span.start
            {
                entries.push((
                    Entry::Comment(&c.text),
                    line_of(c.span.start),
                    line_of(c.span.start),
                ));
                comments.next();
            } else {
                break;
            }
        }
        let mut trailing = Vec::new();
        let next_start = file.items.get(k + 1).map_or(usize::MAX, |n| n.span().start);
        while let Some(c) = comments.peek() {
            if line_of(c.span.start) == last && c.span.start < next_start {
                trailing.push(c.text.as_str());
                comments.next();
            } else {
                break;
            }
        }
        entries.push((Entry::Item(item, trailing), first, last));
    }
    for c in comments {
        let l = line_of(c.span.start);
        entries.push((Entry::Comment(&c.text), l, l));
    }

    // Which entries get a blank line above them.
    let n = entries.len();
    let mut blank = vec![false; n];
    for i in 1..n {
        let (prev_last, first) = (entries[i - 1].2, entries[i].1);
        if first > prev_last + 1 && src_has_blank(src, prev_last, first) {
            blank[i] = true;
        }
        if let (Entry::Item(Item::Section { .. }, _), _, _) = &entries[i] {
            // Blank line above the section, or above the comments glued to it.
            let mut j = i;
            while j > 0 && matches!(entries[j - 1].0, Entry::Comment(_)) && !blank[j] {
                j -= 1;
            }
            if j > 0 {
                blank[j] = true;
            }
        }
    }

    let mut out = String::new();
    for (i, (entry, _, _)) in entries.iter().enumerate() {
        if blank[i] {
            out.push('\n');
        }
        match entry {
            Entry::Comment(text) => out.push_str(text.trim_end()),
            Entry::Item(item, trailing) => {
                match item {
                    Item::Header(h) => {
                        out.push_str(&format!("{} = {}", h.key, escape(&h.value)));
                    }
                    Item::Section { name, .. } => out.push_str(&format!("[{name}]")),
                    Item::Stmt(s) => out.push_str(&statement(&s.target, &s.value)),
                }
                for t in trailing {
                    out.push_str("  ");
                    out.push_str(t.trim_end());
                }
            }
        }
        out.push('\n');
    }
    out
}

/// Whether the source has an empty line strictly between lines `a` and `b` (0-based).
fn src_has_blank(src: &str, a: usize, b: usize) -> bool {
    src.split('\n')
        .skip(a + 1)
        .take(b.saturating_sub(a + 1))
        .any(|l| l.trim().is_empty())
}

/// Print a checked policy in canonical layout, fields in schema order (comments are not kept).
pub fn policy_to_string(p: &crate::check::Policy) -> String {
    let schema = p.schema();
    let h = &p.header;
    let mut out = format!(
        "kind = {}\nversion = {}\nname = {}\n",
        escape(&h.kind),
        escape(&h.version),
        escape(&h.name)
    );
    out.reserve(2048);
    if let Some(d) = &h.description {
        out.push_str("description = ");
        out.push_str(&escape(d));
        out.push('\n');
    }
    for (section, def) in schema.sections.iter().enumerate() {
        out.push_str("\n[");
        out.push_str(&def.name);
        out.push_str("]\n");
        for f in schema
            .field_ids()
            .filter(|f| schema.field(*f).section_index() == section)
        {
            if let Some(e) = p.get(f) {
                out.push_str(&statement(&schema.field(f).name, e));
                out.push('\n');
            }
        }
    }
    out
}
