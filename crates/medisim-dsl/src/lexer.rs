//! Tokens of `medisim_dsl_v1`. Newlines are tokens: the parser decides where a line break ends
//! a statement and where it continues an expression. Comments are kept aside for the formatter.

use crate::diag::{Code, Diagnostic};
use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tok {
    Ident,
    Number(f64),
    Str,
    Plus,
    Minus,
    Star,
    Slash,
    Gt,
    Ge,
    Lt,
    Le,
    EqEq,
    Ne,
    Assign,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Semi,
    And,
    Or,
    Not,
    True,
    False,
    Newline,
    Eof,
}

impl Tok {
    /// Whether the token can only continue an expression, so a line starting with it continues
    /// the statement above (the paper's listings break lines before binary operators).
    pub fn is_binary_op(self) -> bool {
        use Tok::*;
        matches!(
            self,
            Plus | Minus | Star | Slash | Gt | Ge | Lt | Le | EqEq | Ne | And | Or
        )
    }

    pub fn describe(self) -> &'static str {
        use Tok::*;
        match self {
            Ident => "a name",
            Number(_) => "a number",
            Str => "a string",
            Plus => "`+`",
            Minus => "`-`",
            Star => "`*`",
            Slash => "`/`",
            Gt => "`>`",
            Ge => "`>=`",
            Lt => "`<`",
            Le => "`<=`",
            EqEq => "`==`",
            Ne => "`!=`",
            Assign => "`=`",
            LParen => "`(`",
            RParen => "`)`",
            LBracket => "`[`",
            RBracket => "`]`",
            Comma => "`,`",
            Semi => "`;`",
            And => "`and`",
            Or => "`or`",
            Not => "`not`",
            True => "`true`",
            False => "`false`",
            Newline => "end of line",
            Eof => "end of file",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// A `#` comment, without its newline.
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub span: Span,
    pub text: String,
}

pub struct Lexed {
    pub tokens: Vec<Token>,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn lex(src: &str) -> Lexed {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut comments = Vec::new();
    let mut diagnostics = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let single = |tok| (tok, 1usize);
        let (tok, len) = match c {
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'\n' => single(Tok::Newline),
            b'#' => {
                let end = src[i..].find('\n').map_or(src.len(), |n| i + n);
                let text = src[i..end].trim_end_matches('\r').to_string();
                comments.push(Comment {
                    span: Span::new(i, i + text.len()),
                    text,
                });
                i = end;
                continue;
            }
            b'+' => single(Tok::Plus),
            b'-' => single(Tok::Minus),
            b'*' => single(Tok::Star),
            b'/' => single(Tok::Slash),
            b'(' => single(Tok::LParen),
            b')' => single(Tok::RParen),
            b'[' => single(Tok::LBracket),
            b']' => single(Tok::RBracket),
            b',' => single(Tok::Comma),
            b';' => single(Tok::Semi),
            b'>' | b'<' | b'=' | b'!' => {
                let eq = bytes.get(i + 1) == Some(&b'=');
                match (c, eq) {
                    (b'>', true) => (Tok::Ge, 2),
                    (b'>', false) => (Tok::Gt, 1),
                    (b'<', true) => (Tok::Le, 2),
                    (b'<', false) => (Tok::Lt, 1),
                    (b'=', true) => (Tok::EqEq, 2),
                    (b'=', false) => (Tok::Assign, 1),
                    (_, true) => (Tok::Ne, 2),
                    _ => {
                        diagnostics.push(
                            Diagnostic::error(
                                Code::BadToken,
                                Span::new(i, i + 1),
                                "unexpected `!`",
                            )
                            .with_label("not an operator")
                            .with_help("use `not` for negation and `!=` for inequality"),
                        );
                        i += 1;
                        continue;
                    }
                }
            }
            b'"' => match lex_string(src, i) {
                Ok(end) => (Tok::Str, end - i),
                Err(end) => {
                    diagnostics.push(
                        Diagnostic::error(Code::BadToken, Span::new(i, end), "unterminated string")
                            .with_label("this string has no closing `\"` on its line"),
                    );
                    i = end;
                    continue;
                }
            },
            b'0'..=b'9' | b'.' => {
                let end = scan_number(bytes, i);
                let text = &src[i..end];
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => (Tok::Number(v), end - i),
                    _ => {
                        diagnostics.push(
                            Diagnostic::error(
                                Code::BadNumber,
                                Span::new(i, end),
                                format!("`{text}` is not a valid number"),
                            )
                            .with_label("expected a finite decimal number such as 0.5, 12 or 1e-3"),
                        );
                        // Keep a token so the parser does not report a second, confusing error.
                        (Tok::Number(0.0), end - i)
                    }
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = i + bytes[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                let tok = match &src[i..end] {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "true" => Tok::True,
                    "false" => Tok::False,
                    _ => Tok::Ident,
                };
                (tok, end - i)
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                // The logical operators of other languages, `&&` `||` `!`, are words here.
                let word = match ch {
                    '&' => Some("and"),
                    '|' => Some("or"),
                    '!' => Some("not"),
                    _ => None,
                };
                let len = match (ch, bytes.get(i + 1)) {
                    ('&', Some(b'&')) | ('|', Some(b'|')) => 2,
                    _ => ch.len_utf8(),
                };
                let mut d = Diagnostic::error(
                    Code::BadToken,
                    Span::new(i, i + len),
                    if len == 2 {
                        format!("unexpected `{}`", &src[i..i + 2])
                    } else {
                        format!("unexpected character `{}`", ch.escape_default())
                    },
                )
                .with_label("not part of the language");
                let recovered = match (word, len) {
                    (Some("and"), 2) => Some(Tok::And),
                    (Some("or"), 2) => Some(Tok::Or),
                    (Some("not"), _) => Some(Tok::Not),
                    _ => None,
                };
                if let Some(w) = word {
                    d = d.with_help(format!(
                        "the logical operators are the words `and`, `or` and `not`: write `{w}` here"
                    ));
                }
                diagnostics.push(d);
                match recovered {
                    // Read as the operator it stands for, so the rest of the line parses and
                    // the one mistake gets one diagnostic.
                    Some(t) => (t, len),
                    None => {
                        i += len;
                        continue;
                    }
                }
            }
        };
        tokens.push(Token {
            tok,
            span: Span::new(start, start + len),
        });
        i += len;
    }
    tokens.push(Token {
        tok: Tok::Eof,
        span: Span::new(src.len(), src.len()),
    });
    Lexed {
        tokens,
        comments,
        diagnostics,
    }
}

/// End of a string starting at `start` (the opening quote), or the end of its line if it is not
/// closed there. Backslash escapes the next character.
fn lex_string(src: &str, start: usize) -> Result<usize, usize> {
    let bytes = src.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Ok(i + 1),
            b'\n' => return Err(i),
            b'\\' if i + 1 < bytes.len() && bytes[i + 1] != b'\n' => i += 2,
            _ => i += 1,
        }
    }
    Err(bytes.len())
}

/// Decode the contents of a string token (quotes stripped, `\"`, `\\`, `\n`, `\t` unescaped).
pub fn unescape(raw: &str) -> String {
    let inner = &raw[1..raw.len().saturating_sub(1).max(1)];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Quote a string for a header value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn scan_number(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    let digits = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    digits(&mut i);
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        digits(&mut i);
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        let mut j = i + 1;
        if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        if j < bytes.len() && bytes[j].is_ascii_digit() {
            i = j;
            digits(&mut i);
        }
    }
    // Swallow trailing identifier characters so `1.2.3` or `3abc` is one bad number, not two tokens.
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
    {
        i += 1;
    }
    i
}
