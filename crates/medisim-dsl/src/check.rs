//! The validator: from a syntax tree to a [`Policy`] that is known to be well-formed, well-typed
//! and within the schema and guardrails, or to one diagnostic per problem.

use crate::ast::*;
use crate::diag::{nearest, Code, Diagnostic};
use crate::parser;
use crate::schema::*;
use crate::span::Span;
use std::sync::OnceLock;

/// The header of a policy file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Header {
    pub kind: String,
    pub version: String,
    pub name: String,
    pub description: Option<String>,
}

/// A checked policy: header plus the expression of every field it assigns.
#[derive(Clone, Debug)]
pub struct Policy {
    pub header: Header,
    fields: [Option<Expr>; 16],
}

impl Policy {
    /// The expression the policy itself assigns to `field`, if any.
    pub fn get(&self, field: Field) -> Option<&Expr> {
        self.fields[field as usize].as_ref()
    }

    /// The expression in force for `field`: the policy's own, or the baseline's if omitted.
    pub fn expr(&self, field: Field) -> &Expr {
        match self.get(field) {
            Some(e) => e,
            None => baseline()
                .get(field)
                .expect("the baseline assigns every field"),
        }
    }

    /// Fields the policy leaves to the baseline.
    pub fn omitted(&self) -> impl Iterator<Item = Field> + '_ {
        Field::ALL.into_iter().filter(|f| self.get(*f).is_none())
    }

    /// Replace (or set) the expression of one field; the caller guarantees it type-checks,
    /// e.g. by re-checking the printed result.
    pub fn set(&mut self, field: Field, expr: Option<Expr>) {
        self.fields[field as usize] = expr;
    }

    /// Replace a numeric field's rule with a constant, e.g. the α and β of an L1 grid cell.
    pub fn fix(&mut self, field: Field, value: f64) {
        debug_assert_eq!(
            field.spec().ty,
            Ty::Num,
            "only numeric fields take a constant"
        );
        let num = Expr::new(ExprKind::Num(value.abs()), Span::default());
        let e = if value < 0.0 {
            Expr::new(ExprKind::Unary(UnOp::Neg, Box::new(num)), Span::default())
        } else {
            num
        };
        self.set(field, Some(e));
    }

    /// Structural equality of everything that affects behaviour (header metadata ignored,
    /// omitted fields resolved against the baseline).
    pub fn same_behaviour(&self, other: &Policy) -> bool {
        Field::ALL
            .into_iter()
            .all(|f| self.expr(f).same(other.expr(f)))
    }
}

/// The text of the shipped baseline policy (the simulator's native rules, paper §3).
pub const BASELINE_SOURCE: &str = include_str!("../../../policies/baseline.policy");

/// The baseline policy, which supplies every field a policy omits.
pub fn baseline() -> &'static Policy {
    static BASELINE: OnceLock<Policy> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let out = check_source(BASELINE_SOURCE);
        let policy = out.policy.unwrap_or_else(|| {
            let msgs: Vec<String> = out
                .diagnostics
                .iter()
                .map(|d| d.short("baseline.policy", BASELINE_SOURCE))
                .collect();
            panic!(
                "the shipped baseline policy must check:\n{}",
                msgs.join("\n")
            )
        });
        assert!(
            policy.omitted().next().is_none(),
            "the baseline must assign every field"
        );
        policy
    })
}

/// Result of checking one source: the policy when there is no error, and every diagnostic
/// (errors, and notes such as omitted fields).
#[derive(Debug)]
pub struct CheckOutput {
    pub policy: Option<Policy>,
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckOutput {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

/// Parse and check a policy source.
pub fn check_source(src: &str) -> CheckOutput {
    let (file, mut diagnostics) = parser::parse_file(src);
    let had_syntax_errors = !diagnostics.is_empty();
    let (policy, more) = check_file(&file);
    diagnostics.extend(more);
    diagnostics.sort_by_key(|d| (d.span.start, d.severity != crate::diag::Severity::Error));
    output(policy, diagnostics, had_syntax_errors)
}

/// The policy counts only when no diagnostic is an error.
fn output(policy: Policy, diagnostics: Vec<Diagnostic>, had_syntax_errors: bool) -> CheckOutput {
    let ok = !had_syntax_errors && !diagnostics.iter().any(Diagnostic::is_error);
    CheckOutput {
        policy: ok.then_some(policy),
        diagnostics,
    }
}

/// Decode bytes as UTF-8, or explain where they stop being UTF-8. On failure the returned
/// string is a lossy decoding whose prefix matches the bytes, for rendering the diagnostic.
#[allow(clippy::result_large_err)] // the error path runs once per bad file
pub fn decode(bytes: &[u8]) -> Result<&str, (String, Diagnostic)> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let lossy = String::from_utf8_lossy(bytes).into_owned();
        let d = Diagnostic::error(
            Code::NotUtf8,
            Span::new(at, at + 1),
            "policy file is not valid UTF-8",
        )
        .with_label("this byte is not part of a UTF-8 character")
        .with_help("save the file as UTF-8");
        (lossy, d)
    })
}

/// Check the statements of a paper listing (no header, no sections): each statement is placed
/// in the section its field belongs to. Used to verify that the listings parse as printed.
pub fn check_statements(src: &str, name: &str) -> CheckOutput {
    let (stmts, mut diagnostics) = parser::parse_statements(src);
    let mut file = File::default();
    for (kind_key, value) in [("kind", KIND), ("version", VERSION), ("name", name)] {
        file.items.push(Item::Header(HeaderEntry {
            key: kind_key.into(),
            key_span: Span::default(),
            value: value.into(),
            value_span: Span::default(),
            span: Span::default(),
        }));
    }
    for section in Section::ALL {
        file.items.push(Item::Section {
            name: section.name().into(),
            name_span: Span::default(),
            span: Span::default(),
        });
        for s in &stmts {
            let belongs = Field::from_name(&s.target).map(|f| f.spec().section);
            if belongs == Some(section) || (belongs.is_none() && section == Section::Admin) {
                file.items.push(Item::Stmt(s.clone()));
            }
        }
    }
    let (policy, more) = check_file(&file);
    diagnostics.extend(more.into_iter().filter(|d| d.is_error()));
    output(policy, diagnostics, false)
}

/// Check a parsed file. Always returns a policy (possibly incomplete) and the diagnostics;
/// the policy is meaningful only if no diagnostic is an error.
pub fn check_file(file: &File) -> (Policy, Vec<Diagnostic>) {
    let mut c = Checker { diags: Vec::new() };
    let mut header_spans: [Option<Span>; 4] = [None; 4];
    let mut header = Header::default();
    let mut description = None;
    // None: still in the header; Some(None): under an unknown section (already reported).
    let mut section: Option<Option<Section>> = None;
    let mut section_spans: [Option<Span>; 2] = [None; 2];
    let mut fields: [Option<Expr>; 16] = Default::default();
    let mut field_spans: [Option<Span>; 16] = [None; 16];

    for item in &file.items {
        match item {
            Item::Header(h) => {
                if section.is_some() {
                    c.err(
                        Diagnostic::error(
                            Code::MisplacedHeader,
                            h.span,
                            format!("header entry `{}` after a section", h.key),
                        )
                        .with_label("header entries must come before the first section"),
                    );
                    continue;
                }
                let Some(idx) = HEADER_KEYS.iter().position(|k| *k == h.key) else {
                    let mut d = Diagnostic::error(
                        Code::UnknownHeader,
                        h.key_span,
                        format!("unknown header key `{}`", h.key),
                    )
                    .with_label("not a header key");
                    d = match nearest(&h.key, HEADER_KEYS) {
                        Some(n) => d.with_help(format!(
                            "did you mean `{n}`? header keys are: {}",
                            HEADER_KEYS.join(", ")
                        )),
                        None => d.with_help(format!("header keys are: {}", HEADER_KEYS.join(", "))),
                    };
                    c.err(d);
                    continue;
                };
                if let Some(first) = header_spans[idx] {
                    c.err(
                        Diagnostic::error(
                            Code::Duplicate,
                            h.key_span,
                            format!("header key `{}` is set twice", h.key),
                        )
                        .with_label("second value")
                        .with_related(first, "first set here"),
                    );
                    continue;
                }
                header_spans[idx] = Some(h.key_span);
                match idx {
                    0 => {
                        if h.value != KIND {
                            c.err(
                                Diagnostic::error(
                                    Code::BadHeader,
                                    h.value_span,
                                    format!("unknown policy kind \"{}\"", h.value),
                                )
                                .with_label(format!("expected \"{KIND}\"")),
                            );
                        }
                        header.kind = h.value.clone();
                    }
                    1 => {
                        if h.value != VERSION {
                            c.err(
                                Diagnostic::error(
                                    Code::BadHeader,
                                    h.value_span,
                                    format!("unsupported language version \"{}\"", h.value),
                                )
                                .with_label(format!("expected \"{VERSION}\"")),
                            );
                        }
                        header.version = h.value.clone();
                    }
                    2 => {
                        if h.value.trim().is_empty() {
                            c.err(
                                Diagnostic::error(
                                    Code::BadHeader,
                                    h.value_span,
                                    "policy name is empty",
                                )
                                .with_label("expected a non-empty name"),
                            );
                        }
                        header.name = h.value.clone();
                    }
                    _ => description = Some(h.value.clone()),
                }
            }
            Item::Section {
                name,
                name_span,
                span,
            } => {
                let Some(s) = Section::from_name(name) else {
                    let names = Section::ALL.map(Section::name);
                    let mut d = Diagnostic::error(
                        Code::UnknownSection,
                        *name_span,
                        format!("unknown section `[{name}]`"),
                    )
                    .with_label("not a section of medisim_dsl_v1");
                    if let Some(n) = nearest(name, names) {
                        d = d.with_help(format!("did you mean `[{n}]`?"));
                    } else {
                        d = d.with_help("the sections are `[admin_policy]` and `[doctor_policy]`");
                    }
                    c.err(d);
                    // Statements under an unknown section are not checked against either section.
                    section = Some(None);
                    continue;
                };
                if let Some(first) = section_spans[s as usize] {
                    c.err(
                        Diagnostic::error(
                            Code::Duplicate,
                            *span,
                            format!("section `[{name}]` appears twice"),
                        )
                        .with_label("second occurrence")
                        .with_related(first, "first occurrence")
                        .with_help("put all of a section's statements under one header"),
                    );
                }
                section_spans[s as usize] = Some(*span);
                section = Some(Some(s));
            }
            Item::Stmt(stmt) => {
                let Some(field) = c.resolve_target(stmt, section) else {
                    continue;
                };
                if let Some(first) = field_spans[field as usize] {
                    c.err(Diagnostic::error(Code::Duplicate, stmt.target_span, format!("field `{}` is assigned twice", stmt.target))
                        .with_label("second assignment")
                        .with_related(first, "first assignment")
                        .with_help("each field is assigned at most once; combine the rules into one expression"));
                    continue;
                }
                field_spans[field as usize] = Some(stmt.target_span);
                if c.check_field(field, &stmt.value) {
                    fields[field as usize] = Some(stmt.value.clone());
                }
            }
        }
    }

    let first_span = file
        .items
        .first()
        .map(|i| Span::new(i.span().start, i.span().start))
        .unwrap_or_default();
    for (idx, key) in HEADER_KEYS.iter().enumerate().take(3) {
        if header_spans[idx].is_none() {
            let example = match idx {
                0 => format!("kind = \"{KIND}\""),
                1 => format!("version = \"{VERSION}\""),
                _ => "name = \"my_policy\"".to_string(),
            };
            c.err(
                Diagnostic::error(
                    Code::MissingHeader,
                    first_span,
                    format!("missing header entry `{key}`"),
                )
                .with_label("the header starts here")
                .with_help(format!("add `{example}` at the top of the file")),
            );
        }
    }
    header.description = description;

    let policy = Policy { header, fields };
    for field in policy.omitted() {
        let spec = field.spec();
        let at = section_spans[spec.section as usize].unwrap_or(first_span);
        let base = baseline_expr_text(field);
        c.diags.push(
            Diagnostic::note(
                Code::OmittedField,
                at,
                format!(
                    "field `{}` is not assigned; it takes the baseline rule",
                    spec.name
                ),
            )
            .with_label(format!("`{}` = {base}", spec.name)),
        );
    }
    (policy, c.diags)
}

/// The baseline's expression for a field, printed (empty while the baseline itself is checked).
fn baseline_expr_text(field: Field) -> String {
    static TEXT: OnceLock<Vec<String>> = OnceLock::new();
    // The baseline assigns every field, so this never recurses into a note about itself.
    let all = TEXT.get_or_init(|| {
        Field::ALL
            .iter()
            .map(|f| baseline().expr(*f).to_string())
            .collect()
    });
    all[field as usize].clone()
}

struct Checker {
    diags: Vec<Diagnostic>,
}

impl Checker {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// The field a statement assigns, or a diagnostic.
    fn resolve_target(&mut self, stmt: &Stmt, section: Option<Option<Section>>) -> Option<Field> {
        let name = stmt.target.as_str();
        let Some(section) = section else {
            let home = Field::from_name(name).map_or(Section::Admin, |f| f.spec().section);
            self.err(
                Diagnostic::error(
                    Code::NoSection,
                    stmt.target_span,
                    format!("`{name}` is assigned before any section"),
                )
                .with_label("statements go inside a section")
                .with_help(format!("put it under `[{}]`", home.name())),
            );
            return None;
        };
        if let Some(field) = Field::from_name(name) {
            let home = field.spec().section;
            match section {
                Some(s) if s == home => return Some(field),
                Some(s) => {
                    self.err(
                        Diagnostic::error(
                            Code::WrongSection,
                            stmt.target_span,
                            format!(
                                "`{name}` is {} field, but this is [{}]",
                                section_word(home),
                                s.name()
                            ),
                        )
                        .with_label(format!("belongs in [{}]", home.name()))
                        .with_help(format!("move this statement under `[{}]`", home.name())),
                    );
                }
                // Unknown section: already reported.
                None => {}
            }
            return None;
        }
        if let Some(f) = feature(name) {
            self.err(
                Diagnostic::error(
                    Code::AssignToFeature,
                    stmt.target_span,
                    format!("cannot assign to feature `{name}`"),
                )
                .with_label("features are read-only inputs computed by the host")
                .with_help(format!(
                    "{name} is {}; a policy may only assign fields",
                    f.spec.scope.describe()
                )),
            );
            return None;
        }
        let candidates: Vec<&str> = match section {
            Some(s) => FIELDS
                .iter()
                .filter(|f| f.section == s)
                .map(|f| f.name)
                .collect(),
            None => FIELDS.iter().map(|f| f.name).collect(),
        };
        let mut d = Diagnostic::error(
            Code::UnknownField,
            stmt.target_span,
            format!("unknown field `{name}`"),
        )
        .with_label("not a field of medisim_dsl_v1");
        d = match nearest(name, candidates.iter().copied()) {
            Some(n) => d.with_help(format!("did you mean `{n}`?")),
            None => d.with_help(format!("fields here are: {}", candidates.join(", "))),
        };
        self.err(d);
        None
    }

    /// Type-check a field's expression; true when it is valid.
    fn check_field(&mut self, field: Field, e: &Expr) -> bool {
        let before = self.diags.len();
        let spec = field.spec();
        if let Some(ty) = self.infer(e, spec.scope) {
            if ty != spec.ty {
                let help = match spec.ty {
                    Ty::Num => "wrap a condition in I(...) to use it as 0 or 1",
                    Ty::Bool => {
                        "compare the score with a threshold, e.g. `score >= accept_threshold`"
                    }
                };
                self.err(
                    Diagnostic::error(
                        Code::Type,
                        e.span,
                        format!(
                            "field `{}` expects a {}, but this expression is a {ty}",
                            spec.name, spec.ty
                        ),
                    )
                    .with_label(format!("this is a {ty}"))
                    .with_help(help),
                );
            }
        }
        self.diags.len() == before
    }

    fn expect(&mut self, e: &Expr, want: Ty, scope: Scope, context: &str) -> bool {
        match self.infer(e, scope) {
            Some(ty) if ty == want => true,
            Some(ty) => {
                let help = match want {
                    Ty::Num => "wrap a condition in I(...) to use it as 0 or 1",
                    Ty::Bool => "compare it to make a condition, e.g. `x > 0`",
                };
                self.err(
                    Diagnostic::error(
                        Code::Type,
                        e.span,
                        format!("{context} needs a {want}, found a {ty}"),
                    )
                    .with_label(format!("this is a {ty}"))
                    .with_help(help),
                );
                false
            }
            None => false,
        }
    }

    /// The type of an expression, or `None` after reporting why it has none.
    fn infer(&mut self, e: &Expr, scope: Scope) -> Option<Ty> {
        match &e.kind {
            ExprKind::Num(_) => Some(Ty::Num),
            ExprKind::Bool(_) => Some(Ty::Bool),
            ExprKind::Name(name) => self.name(name, e.span, scope),
            ExprKind::Unary(UnOp::Neg, inner) => {
                self.expect(inner, Ty::Num, scope, "`-`").then_some(Ty::Num)
            }
            ExprKind::Unary(UnOp::Not, inner) => self
                .expect(inner, Ty::Bool, scope, "`not`")
                .then_some(Ty::Bool),
            ExprKind::Binary(op, a, b) => {
                let want = if op.is_logical() { Ty::Bool } else { Ty::Num };
                let ctx = format!("`{}`", op.symbol());
                let ok_a = self.expect(a, want, scope, &ctx);
                let ok_b = self.expect(b, want, scope, &ctx);
                (ok_a && ok_b).then_some(if op.is_logical() || op.is_comparison() {
                    Ty::Bool
                } else {
                    Ty::Num
                })
            }
            ExprKind::Call {
                name,
                name_span,
                args,
            } => self.call(name, *name_span, args, e.span, scope),
        }
    }

    fn name(&mut self, name: &str, span: Span, scope: Scope) -> Option<Ty> {
        if let Some(f) = feature(name) {
            if f.spec.scope.readable_from(scope) {
                return Some(f.spec.ty);
            }
            let who = match scope {
                Scope::Admin => "an admin expression",
                Scope::Care => {
                    "a care expression (effort, triage_accept, triage_defer, request_bed)"
                }
                Scope::Coding => "candidate_score",
            };
            self.err(
                Diagnostic::error(
                    Code::WrongScope,
                    span,
                    format!(
                        "`{name}` is {} and cannot be read by {who}",
                        f.spec.scope.describe()
                    ),
                )
                .with_label("not readable here")
                .with_help(format!("{who} may read: {}", readable(scope).join(", "))),
            );
            return None;
        }
        if let Some(field) = Field::from_name(name) {
            let mut d = Diagnostic::error(
                Code::ReadField,
                span,
                format!("`{name}` is a field and cannot be read"),
            )
            .with_label("fields are outputs; a policy keeps no state");
            d = match field {
                Field::TotalCapacity => {
                    d.with_help("read last period's value with `current_total_capacity`")
                }
                Field::FlexPool => d.with_help("read last period's value with `current_flex_pool`"),
                _ => d.with_help("repeat the constant or expression instead"),
            };
            self.err(d);
            return None;
        }
        if Call::from_name(name).is_some() {
            self.err(
                Diagnostic::error(
                    Code::BareCall,
                    span,
                    format!("`{name}` is a call and needs arguments"),
                )
                .with_label(format!(
                    "write {}",
                    Call::from_name(name)
                        .map(|c| c.spec().signature)
                        .unwrap_or("")
                )),
            );
            return None;
        }
        let names = readable(scope);
        let mut d = Diagnostic::error(
            Code::UnknownFeature,
            span,
            format!("unknown feature `{name}`"),
        )
        .with_label("not a feature of medisim_dsl_v1");
        d = match nearest(name, names.iter().copied()) {
            Some(n) => d.with_help(format!("did you mean `{n}`?")),
            None => d.with_help(format!("features readable here: {}", names.join(", "))),
        };
        self.err(d);
        None
    }

    fn call(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[Expr],
        span: Span,
        scope: Scope,
    ) -> Option<Ty> {
        let Some(call) = Call::from_name(name) else {
            let names: Vec<&str> = CALLS.iter().map(|c| c.name).collect();
            let mut d = Diagnostic::error(
                Code::UnknownCall,
                name_span,
                format!("unknown function `{name}`"),
            )
            .with_label("not a call of medisim_dsl_v1");
            d = match nearest(name, names.iter().copied()) {
                Some(n) => d.with_help(format!(
                    "did you mean `{n}`? the calls are: {}",
                    names.join(", ")
                )),
                None => d.with_help(format!(
                    "the calls are: {}; user functions are not allowed",
                    names.join(", ")
                )),
            };
            self.err(d);
            // Still check the arguments so their own problems are reported.
            for a in args {
                self.infer(a, scope);
            }
            return None;
        };
        let spec = call.spec();
        let n = spec.params.len();
        let arity_ok = if spec.variadic {
            args.len() >= n
        } else {
            args.len() == n
        };
        if !arity_ok {
            let want = if spec.variadic {
                format!("at least {n}")
            } else {
                n.to_string()
            };
            self.err(
                Diagnostic::error(
                    Code::Arity,
                    span,
                    format!(
                        "`{name}` takes {want} argument{}, found {}",
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
                .with_label(format!("expected {}", spec.signature)),
            );
            return None;
        }
        let mut ok = true;
        for (i, a) in args.iter().enumerate() {
            let want = spec.params[i.min(n - 1)];
            ok &= self.expect(a, want, scope, &format!("argument {} of `{name}`", i + 1));
        }
        ok.then_some(spec.ret)
    }
}

fn section_word(s: Section) -> &'static str {
    match s {
        Section::Admin => "an admin",
        Section::Doctor => "a doctor",
    }
}

/// Names of the features a field in `scope` may read.
pub fn readable(scope: Scope) -> Vec<&'static str> {
    ADMIN_FEATURES
        .iter()
        .chain(DOCTOR_FEATURES)
        .filter(|f| f.scope.readable_from(scope))
        .map(|f| f.name)
        .collect()
}
