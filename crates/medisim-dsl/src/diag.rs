//! Diagnostics: what went wrong, where, and what was expected.
//!
//! A [`Diagnostic`] is plain data (severity, code, message, span, label, help). Rendering to the
//! underlined, `file:line:column` form goes through miette's graphical handler, so the CLI and
//! the snapshot tests show exactly the same text.

use crate::span::{line_col, Span};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, )*) => {
        /// The stable code of a diagnostic, printed as `error[code]`. The documented list in
        /// `docs/dsl.md` is checked against [`Code::ALL`] by a test.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }
        }
    };
}

codes! {
    /// The tokens do not form a statement, section header or expression.
    Syntax = "syntax",
    /// A character or token the language does not have.
    BadToken = "bad-token",
    /// A number literal that does not read as a finite number.
    BadNumber = "bad-number",
    /// A guardrail on size: the file, or one statement's expression.
    TooLarge = "too-large",
    /// A guardrail on nesting depth.
    TooDeep = "too-deep",
    /// The file is not UTF-8.
    NotUtf8 = "not-utf8",
    /// A line that is neither an assignment, a section header nor a header key.
    NotAStatement = "not-a-statement",
    UnknownHeader = "unknown-header",
    BadHeader = "bad-header",
    MissingHeader = "missing-header",
    MisplacedHeader = "misplaced-header",
    UnknownSection = "unknown-section",
    NoSection = "no-section",
    WrongSection = "wrong-section",
    UnknownField = "unknown-field",
    Duplicate = "duplicate",
    AssignToFeature = "assign-to-feature",
    ReadField = "read-field",
    UnknownFeature = "unknown-feature",
    WrongScope = "wrong-scope",
    BareCall = "bare-call",
    UnknownCall = "unknown-call",
    Arity = "arity",
    Type = "type",
    /// A note: a field the policy leaves out takes the baseline's rule.
    OmittedField = "omitted-field",
    /// A warning: a constant outside its field's legal range, which the host will clip.
    OutOfRange = "out-of-range",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One problem (or note) about a policy source.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable short code, e.g. `unknown-feature`.
    pub code: Code,
    pub message: String,
    pub span: Span,
    /// Text under the underline: what was expected or found there.
    pub label: String,
    pub help: Option<String>,
    /// Secondary locations, e.g. the first assignment of a duplicated field.
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
            related: Vec::new(),
        }
    }

    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    pub fn note(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(code, span, message)
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column: severity[code]: message`, the one-line form.
    pub fn short(&self, file: &str, src: &str) -> String {
        let (line, col) = line_col(src, self.span.start);
        format!(
            "{file}:{line}:{col}: {}[{}]: {}",
            self.severity, self.code, self.message
        )
    }

    /// The full report: the one-line form, then the source line underlined (no colour).
    pub fn render(&self, file: &str, src: &str) -> String {
        self.render_with(file, src, false)
    }

    /// As [`Diagnostic::render`], with ANSI colour when `color` is set. A source line longer
    /// than [`MAX_LINE_CHARS`] is shown as a window around the problem, so a report stays a
    /// few lines long however long the line (and the renderer never sees a huge column).
    pub fn render_with(&self, file: &str, src: &str, color: bool) -> String {
        use miette::{GraphicalReportHandler, GraphicalTheme};
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let clip = Clipped::new(src, self.span.start);
        let mut handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_links(false);
        if clip.clipped {
            // The shown column is not the real one; the first line of the report has the
            // real `file:line:column`.
            handler = handler.without_primary_span_start();
        }
        let shown = Diagnostic {
            span: clip.span(self.span),
            related: self
                .related
                .iter()
                .map(|(s, l)| (clip.span(*s), l.clone()))
                .collect(),
            ..self.clone()
        };
        let report = Report {
            diag: &shown,
            source: miette::NamedSource::new(file, clip.text),
        };
        let mut out = self.short(file, src);
        out.push('\n');
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &report);
        out
    }
}

/// Most characters of one source line a report shows.
pub const MAX_LINE_CHARS: usize = 160;
/// Most diagnostics a list of them renders; the rest are counted.
pub const MAX_RENDERED: usize = 20;

/// Render the first [`MAX_RENDERED`] of `diags` in full and count the rest, so a file of a
/// hundred thousand bad tokens gives a screenful, not gigabytes.
pub fn render_all(diags: &[&Diagnostic], file: &str, src: &str, color: bool) -> String {
    let mut out: Vec<String> = diags
        .iter()
        .take(MAX_RENDERED)
        .map(|d| d.render_with(file, src, color))
        .collect();
    if diags.len() > MAX_RENDERED {
        out.push(format!(
            "... and {} more in {file} (the first {MAX_RENDERED} are shown)",
            diags.len() - MAX_RENDERED
        ));
    }
    out.join("\n")
}

/// The one-line form of the first `max` diagnostics, and a count of the rest.
pub fn short_all(diags: &[&Diagnostic], file: &str, src: &str, max: usize) -> String {
    let mut out: Vec<String> = diags.iter().take(max).map(|d| d.short(file, src)).collect();
    if diags.len() > max {
        out.push(format!("... and {} more", diags.len() - max));
    }
    out.join("\n")
}

/// The source as a report shows it: every line longer than [`MAX_LINE_CHARS`] cut to a window
/// (around the primary span on its line, else the line's start), and a map from offsets in the
/// real source to offsets in the shown one. Line structure is kept, so line numbers agree.
struct Clipped {
    text: String,
    /// Whether any line was cut.
    clipped: bool,
    /// (line start, line end, window start, window end, shown line start, prefix bytes)
    lines: Vec<(usize, usize, usize, usize, usize, usize)>,
}

const ELLIPSIS: &str = "…";

impl Clipped {
    fn new(src: &str, focus: usize) -> Clipped {
        let mut text = String::with_capacity(src.len().min(1 << 16));
        let mut lines = Vec::new();
        let mut start = 0;
        loop {
            let end = src[start..].find('\n').map_or(src.len(), |i| start + i);
            let line = &src[start..end];
            let shown_start = text.len();
            if line.chars().count() <= MAX_LINE_CHARS {
                text.push_str(line);
                lines.push((start, end, start, end, shown_start, 0));
            } else {
                let centre = if (start..=end).contains(&focus) {
                    focus
                } else {
                    start
                };
                // Byte window of about MAX_LINE_CHARS around the focus (exact for ASCII).
                let ws = floor_boundary(
                    src,
                    centre.saturating_sub(MAX_LINE_CHARS / 2).max(start),
                    start,
                );
                let we = floor_boundary(src, (ws + MAX_LINE_CHARS).min(end), ws);
                let prefix = if ws > start { ELLIPSIS } else { "" };
                text.push_str(prefix);
                text.push_str(&src[ws..we]);
                if we < end {
                    text.push_str(ELLIPSIS);
                }
                lines.push((start, end, ws, we, shown_start, prefix.len()));
            }
            if end >= src.len() {
                break;
            }
            text.push('\n');
            start = end + 1;
        }
        let clipped = lines.iter().any(|l| l.2 != l.0 || l.3 != l.1);
        Clipped {
            text,
            clipped,
            lines,
        }
    }

    /// Where a real offset is shown (clamped into its line's window).
    fn offset(&self, at: usize) -> usize {
        let i = self
            .lines
            .partition_point(|l| l.1 < at)
            .min(self.lines.len() - 1);
        let (_, _, ws, we, shown, prefix) = self.lines[i];
        shown + prefix + at.clamp(ws, we) - ws
    }

    fn span(&self, s: Span) -> Span {
        let a = self.offset(s.start);
        Span::new(a, self.offset(s.end).max(a))
    }
}

/// The largest char boundary at or below `i`, but not below `lo`.
fn floor_boundary(s: &str, mut i: usize, lo: usize) -> usize {
    i = i.min(s.len());
    while i > lo && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Adapter from [`Diagnostic`] to miette's protocol, used only for rendering.
struct Report<'a> {
    diag: &'a Diagnostic,
    source: miette::NamedSource<String>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.diag.fmt(f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let primary = miette::LabeledSpan::new_primary_with_span(
            (!self.diag.label.is_empty()).then(|| self.diag.label.clone()),
            (self.diag.span.start, self.diag.span.len()),
        );
        let related =
            self.diag.related.iter().map(|(s, l)| {
                miette::LabeledSpan::new_with_span(Some(l.clone()), (s.start, s.len()))
            });
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

/// The valid name closest to `name`, if any is close enough to be a likely typo.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score >= 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
