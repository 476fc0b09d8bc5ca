//! The validator: from a syntax tree to a [`Policy`] that is known to be well-formed, well-typed
//! and within the schema and guardrails, or to one diagnostic per problem.

use crate::ast::*;
use crate::diag::{nearest, Code, Diagnostic};
use crate::parser;
use crate::schema::*;
use crate::span::Span;
use std::sync::{Arc, OnceLock};

/// The header of a policy file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Header {
    pub kind: String,
    pub version: String,
    pub name: String,
    pub description: Option<String>,
}

/// A checked policy: header plus the expression of every field it assigns, and the schema it
/// was checked against (which supplies the baseline rule of every omitted field).
#[derive(Clone, Debug)]
pub struct Policy {
    pub header: Header,
    schema: Arc<Schema>,
    fields: Vec<Option<Expr>>,
    /// The canonical hash once taken (the search asks for it several times per program);
    /// emptied by every change of a field.
    /// (Its bytes: the hash module reads this one, not the other way round.)
    canonical: std::sync::OnceLock<[u8; 32]>,
}

impl Policy {
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    pub(crate) fn canonical_cache(&self) -> &std::sync::OnceLock<[u8; 32]> {
        &self.canonical
    }

    /// The expression the policy itself assigns to `field`, if any.
    pub fn get(&self, field: impl Into<FieldId>) -> Option<&Expr> {
        self.fields[field.into().index()].as_ref()
    }

    /// The expression in force for `field`: the policy's own, or the baseline's if omitted.
    pub fn expr(&self, field: impl Into<FieldId>) -> &Expr {
        let field = field.into();
        match self.get(field) {
            Some(e) => e,
            // Only a schema still being completed lacks a baseline, and a policy checked
            // against it is the baseline itself, which assigns every field.
            None => self.schema.baseline_expr(field).unwrap_or_else(|| zero()),
        }
    }

    /// Fields the policy leaves to the baseline.
    pub fn omitted(&self) -> impl Iterator<Item = FieldId> + '_ {
        self.schema.field_ids().filter(|f| self.get(*f).is_none())
    }

    /// Replace (or set) the expression of one field; the caller guarantees it type-checks,
    /// e.g. by re-checking the printed result.
    pub fn set(&mut self, field: impl Into<FieldId>, expr: Option<Expr>) {
        self.fields[field.into().index()] = expr;
        self.canonical = std::sync::OnceLock::new();
    }

    /// Replace a numeric field's rule with a constant, e.g. the α and β of an L1 grid cell.
    pub fn fix(&mut self, field: impl Into<FieldId>, value: f64) {
        let field = field.into();
        debug_assert_eq!(
            self.schema.field(field).ty,
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
        self.schema.fields.len() == other.schema.fields.len()
            && self
                .schema
                .field_ids()
                .all(|f| self.expr(f).same(other.expr(f)))
    }
}

fn zero() -> &'static Expr {
    static ZERO: OnceLock<Expr> = OnceLock::new();
    ZERO.get_or_init(|| Expr::new(ExprKind::Num(0.0), Span::default()))
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

/// Parse and check a policy source against `schema`.
pub fn check_source(schema: &Arc<Schema>, src: &str) -> CheckOutput {
    let (file, mut diagnostics) = parser::parse_file(src);
    let had_syntax_errors = !diagnostics.is_empty();
    let (policy, more) = check_file(schema, &file);
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
pub fn check_statements(schema: &Arc<Schema>, src: &str, name: &str) -> CheckOutput {
    let (stmts, mut diagnostics) = parser::parse_statements(src);
    let mut file = File::default();
    for (kind_key, value) in [
        ("kind", schema.kind.as_str()),
        ("version", VERSION),
        ("name", name),
    ] {
        file.items.push(Item::Header(HeaderEntry {
            key: kind_key.into(),
            key_span: Span::default(),
            value: value.into(),
            value_span: Span::default(),
            span: Span::default(),
        }));
    }
    for (section, def) in schema.sections.iter().enumerate() {
        file.items.push(Item::Section {
            name: def.name.clone(),
            name_span: Span::default(),
            span: Span::default(),
        });
        for s in &stmts {
            let belongs = schema
                .field_id(&s.target)
                .map(|f| schema.field(f).section_index());
            // A statement of no field goes under the first section, where it is reported.
            if belongs == Some(section) || (belongs.is_none() && section == 0) {
                file.items.push(Item::Stmt(s.clone()));
            }
        }
    }
    let (policy, more) = check_file(schema, &file);
    diagnostics.extend(more.into_iter().filter(|d| d.is_error()));
    output(policy, diagnostics, false)
}

/// Check a parsed file. Always returns a policy (possibly incomplete) and the diagnostics;
/// the policy is meaningful only if no diagnostic is an error.
pub fn check_file(schema: &Arc<Schema>, file: &File) -> (Policy, Vec<Diagnostic>) {
    let mut c = Checker {
        schema,
        diags: Vec::new(),
    };
    let mut header_spans: [Option<Span>; 4] = [None; 4];
    let mut header = Header::default();
    let mut description = None;
    // None: still in the header; Some(None): under an unknown section (already reported).
    let mut section: Option<Option<usize>> = None;
    let mut section_spans: Vec<Option<Span>> = vec![None; schema.sections.len()];
    let mut fields: Vec<Option<Expr>> = vec![None; schema.fields.len()];
    let mut field_spans: Vec<Option<Span>> = vec![None; schema.fields.len()];
    let kind = schema.kind.as_str();

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
                        if h.value != kind {
                            c.err(
                                Diagnostic::error(
                                    Code::BadHeader,
                                    h.value_span,
                                    format!("unknown policy kind \"{}\"", h.value),
                                )
                                .with_label(format!("expected \"{kind}\"")),
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
                let Some(s) = schema.section_index(name) else {
                    let names: Vec<&str> =
                        schema.sections.iter().map(|s| s.name.as_str()).collect();
                    let mut d = Diagnostic::error(
                        Code::UnknownSection,
                        *name_span,
                        format!("unknown section `[{name}]`"),
                    )
                    .with_label("not a section of medisim_dsl_v1");
                    if let Some(n) = nearest(name, names.iter().copied()) {
                        d = d.with_help(format!("did you mean `[{n}]`?"));
                    } else {
                        let list: Vec<String> = names.iter().map(|n| format!("`[{n}]`")).collect();
                        d = d.with_help(format!("the sections are {}", list.join(" and ")));
                    }
                    c.err(d);
                    // Statements under an unknown section are not checked against either section.
                    section = Some(None);
                    continue;
                };
                if let Some(first) = section_spans[s] {
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
                section_spans[s] = Some(*span);
                section = Some(Some(s));
            }
            Item::Stmt(stmt) => {
                let Some(field) = c.resolve_target(stmt, section) else {
                    continue;
                };
                if let Some(first) = field_spans[field.index()] {
                    c.err(Diagnostic::error(Code::Duplicate, stmt.target_span, format!("field `{}` is assigned twice", stmt.target))
                        .with_label("second assignment")
                        .with_related(first, "first assignment")
                        .with_help("each field is assigned at most once; combine the rules into one expression"));
                    continue;
                }
                field_spans[field.index()] = Some(stmt.target_span);
                if c.check_field(field, &stmt.value) {
                    fields[field.index()] = Some(stmt.value.clone());
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
                0 => format!("kind = \"{kind}\""),
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

    let policy = Policy {
        header,
        schema: schema.clone(),
        fields,
        canonical: std::sync::OnceLock::new(),
    };
    // A field whose assignment has an error is not in force either, but the error already says
    // why: no second note that it is "not assigned".
    for field in policy
        .omitted()
        .filter(|f| field_spans[f.index()].is_none())
    {
        let spec = schema.field(field);
        let at = section_spans[spec.section_index()].unwrap_or(first_span);
        let base = schema
            .baseline_expr(field)
            .map(Expr::to_string)
            .unwrap_or_default();
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

/// The value of a literal number, negated or not; `None` for anything computed.
fn constant(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Num(v) => Some(*v),
        ExprKind::Unary(UnOp::Neg, inner) => constant(inner).map(|v| -v),
        _ => None,
    }
}

struct Checker<'s> {
    schema: &'s Schema,
    diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// The field a statement assigns, or a diagnostic.
    fn resolve_target(&mut self, stmt: &Stmt, section: Option<Option<usize>>) -> Option<FieldId> {
        let schema = self.schema;
        let name = stmt.target.as_str();
        let Some(section) = section else {
            let home = schema
                .field_id(name)
                .map_or(0, |f| schema.field(f).section_index());
            let home = schema.sections[home].name.as_str();
            self.err(
                Diagnostic::error(
                    Code::NoSection,
                    stmt.target_span,
                    format!("`{name}` is assigned before any section"),
                )
                .with_label("statements go inside a section")
                .with_help(format!("put it under `[{home}]`")),
            );
            return None;
        };
        if let Some(field) = schema.field_id(name) {
            let home = schema.field(field).section_index();
            match section {
                Some(s) if s == home => return Some(field),
                Some(s) => {
                    self.err(
                        Diagnostic::error(
                            Code::WrongSection,
                            stmt.target_span,
                            format!(
                                "`{name}` is {} field, but this is [{}]",
                                schema.sections[home].article, schema.sections[s].name
                            ),
                        )
                        .with_label(format!("belongs in [{}]", schema.sections[home].name))
                        .with_help(format!(
                            "move this statement under `[{}]`",
                            schema.sections[home].name
                        )),
                    );
                }
                // Unknown section: already reported.
                None => {}
            }
            return None;
        }
        if let Some(f) = schema.feature(name) {
            self.err(
                Diagnostic::error(
                    Code::AssignToFeature,
                    stmt.target_span,
                    format!("cannot assign to feature `{name}`"),
                )
                .with_label("features are read-only inputs computed by the host")
                .with_help(format!(
                    "{name} is {}; a policy may only assign fields",
                    f.group.description
                )),
            );
            return None;
        }
        let candidates: Vec<&str> = match section {
            Some(s) => schema
                .fields
                .iter()
                .filter(|f| f.section_index() == s)
                .map(|f| f.name.as_str())
                .collect(),
            None => schema.fields.iter().map(|f| f.name.as_str()).collect(),
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
    fn check_field(&mut self, field: FieldId, e: &Expr) -> bool {
        let before = self.diags.len();
        let spec = self.schema.field(field);
        if let Some(ty) = self.infer(e, spec.scope_id()) {
            if ty != spec.ty {
                let help = match spec.ty {
                    Ty::Num => "wrap a condition in I(...) to use it as 0 or 1",
                    Ty::Bool => "compare a score with a threshold, e.g. `score >= threshold`",
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
        let ok = self.diags.len() == before;
        if ok {
            self.warn_if_clipped(spec, e);
        }
        ok
    }

    /// A constant the host would clip into its field's range is almost always a slip (a
    /// computed value is clipped by design, paper §4): say so where it is written.
    fn warn_if_clipped(&mut self, spec: &FieldDef, e: &Expr) {
        let Some(v) = constant(e) else { return };
        let outside = match &spec.range {
            Range::Real([lo, hi]) | Range::Integer([lo, hi]) => v < *lo || v > *hi,
            Range::IntegerUpTo { lo, .. } => v < *lo,
            Range::Flag => false,
        };
        if !outside {
            return;
        }
        let projected = spec.project(v);
        self.err(
            Diagnostic::warning(
                Code::OutOfRange,
                e.span,
                format!(
                    "`{} = {e}` is outside the field's legal range ({}): the host uses {projected}",
                    spec.name, spec.range
                ),
            )
            .with_label(format!("clipped to {projected}"))
            .with_help(format!("write a value in the range, e.g. {projected}")),
        );
    }

    fn expect(&mut self, e: &Expr, want: Ty, scope: ScopeId, context: &str) -> bool {
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
    fn infer(&mut self, e: &Expr, scope: ScopeId) -> Option<Ty> {
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

    fn name(&mut self, name: &str, span: Span, scope: ScopeId) -> Option<Ty> {
        let schema = self.schema;
        if let Some(f) = schema.feature(name) {
            if f.readable_from(scope) {
                return Some(f.def.ty);
            }
            let who = schema.scope(scope).reader.as_str();
            self.err(
                Diagnostic::error(
                    Code::WrongScope,
                    span,
                    format!(
                        "`{name}` is {} and cannot be read by {who}",
                        f.group.description
                    ),
                )
                .with_label("not readable here")
                .with_help(format!(
                    "{who} may read: {}",
                    schema.readable(scope).join(", ")
                )),
            );
            return None;
        }
        if let Some(field) = schema.field_id(name) {
            let hint = schema.field(field).read_hint.as_deref();
            let d = Diagnostic::error(
                Code::ReadField,
                span,
                format!("`{name}` is a field and cannot be read"),
            )
            .with_label("fields are outputs; a policy keeps no state")
            .with_help(hint.unwrap_or("repeat the constant or expression instead"));
            self.err(d);
            return None;
        }
        if let Some(call) = schema.call(name) {
            self.err(
                Diagnostic::error(
                    Code::BareCall,
                    span,
                    format!("`{name}` is a call and needs arguments"),
                )
                .with_label(format!("write {}", call.spec().signature)),
            );
            return None;
        }
        let names = schema.readable(scope);
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
        scope: ScopeId,
    ) -> Option<Ty> {
        let Some(call) = self.schema.call(name) else {
            let names: Vec<&str> = self.schema.calls.iter().map(String::as_str).collect();
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

impl Schema {
    /// A host's shipped schema and baseline, compiled into its binary: both are tested with the
    /// host, so a failure here is a build defect and panics, naming the `host`.
    pub fn shipped(schema: &str, baseline: &str, host: &str) -> Arc<Schema> {
        Schema::from_toml(schema)
            .and_then(|s| s.with_baseline(baseline))
            .unwrap_or_else(|e| panic!("the shipped {host} schema is broken: {e}"))
    }

    /// Complete the schema with its baseline policy, which must check against it and assign
    /// every field: the baseline supplies the rule of every field a policy omits.
    pub fn with_baseline(mut self, src: &str) -> Result<Arc<Schema>, SchemaError> {
        self.baseline = Vec::new();
        let open = Arc::new(self.clone());
        let out = check_source(&open, src);
        let Some(policy) = out.policy else {
            let msgs: Vec<String> = out
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.short("baseline.policy", src))
                .collect();
            return Err(SchemaError::Baseline(msgs.join("\n")));
        };
        let mut exprs = Vec::with_capacity(self.fields.len());
        for id in self.field_ids() {
            match policy.get(id) {
                Some(e) => exprs.push(e.clone()),
                None => {
                    return Err(SchemaError::Baseline(format!(
                        "the baseline must assign every field; it leaves out `{}`",
                        self.field(id).name
                    )))
                }
            }
        }
        self.baseline = exprs;
        Ok(Arc::new(self))
    }
}
