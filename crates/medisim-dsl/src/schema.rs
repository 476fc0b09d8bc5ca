//! The schema of a policy language instance, as data: the fields a policy may assign, the
//! features each field may read, their types and legal ranges, the sections and scopes, the
//! calls allowed, and the baseline rule of every field.
//!
//! The language knows nothing about hospitals: a host hands it a [`Schema`] (as cedar-policy's
//! validator is handed its schema), usually read from a TOML file with [`Schema::from_toml`] and
//! completed with the host's baseline policy by `Schema::with_baseline` (in [`crate::check`],
//! which checks it). Medi-Sim's schema is
//! `policies/hospital.schema.toml`; the checker, compiler, printer and hash all read the schema
//! they are given. The schema is closed: a policy cannot add a field, a feature or a call
//! (paper, Listing 5). The host computes every feature and enforces every field's range
//! ([`FieldDef::project`]).

use crate::ast::Expr;
use serde::Deserialize;
use std::fmt;

/// The two value types of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
pub enum Ty {
    #[serde(rename = "number")]
    Num,
    #[serde(rename = "bool")]
    Bool,
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ty::Num => "number",
            Ty::Bool => "bool",
        })
    }
}

/// A field's legal range, enforced by the host after evaluation.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Range {
    /// Clipped to `[lo, hi]`.
    Real([f64; 2]),
    /// Rounded half away from zero, then clipped to `[lo, hi]`.
    Integer([f64; 2]),
    /// Rounded and at least `lo`; the host also bounds it by the projected value of the field
    /// named `bound` (e.g. a flexible pool by the total capacity).
    IntegerUpTo { lo: f64, bound: String },
    /// A bool: any non-zero value is true.
    Flag,
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Range::Real([lo, hi]) => write!(f, "real in [{lo}, {hi}]"),
            Range::Integer([lo, hi]) => write!(f, "integer in [{lo}, {hi}]"),
            Range::IntegerUpTo { lo, bound } => write!(f, "integer in [{lo}, {bound}]"),
            Range::Flag => f.write_str("true / false"),
        }
    }
}

/// A field's index in its schema, which is also its canonical position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u16);

impl FieldId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// A scope's index in its schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeId(pub u8);

impl ScopeId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// A section of a policy file, e.g. `[admin_policy]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionDef {
    /// As written in a file, without brackets.
    pub name: String,
    /// "an admin": how messages speak of its fields.
    pub article: String,
}

/// A value array the host fills: feature slots are positions in one frame.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameDef {
    pub name: String,
    /// Heading of its feature table in the language reference.
    pub heading: String,
    /// A paragraph under the heading, if any.
    #[serde(default)]
    pub intro: String,
}

/// Where a field is evaluated, which decides the frame it reads and the features it may read.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeDef {
    pub name: String,
    /// Shown in the fields table ("Care").
    pub title: String,
    pub frame: String,
    /// How messages speak of an expression evaluated here ("a care expression (...)").
    pub reader: String,
    #[serde(skip)]
    frame_index: usize,
}

/// Who may read a feature.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupDef {
    pub name: String,
    pub frame: String,
    /// Scope names.
    pub readable_by: Vec<String>,
    /// "a coding feature (candidate_score)"
    pub description: String,
    /// Shown in the "readable by" column of the reference.
    pub label: String,
    #[serde(skip)]
    readers: Vec<ScopeId>,
    #[serde(skip)]
    frame_index: usize,
}

/// One assignable field.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub name: String,
    pub section: String,
    pub scope: String,
    #[serde(rename = "type")]
    pub ty: Ty,
    pub range: Range,
    pub doc: String,
    /// Help for a policy that tries to read this field ("read last period's value with ...").
    #[serde(default)]
    pub read_hint: Option<String>,
    #[serde(skip)]
    section_index: usize,
    #[serde(skip)]
    scope_id: Option<ScopeId>,
}

impl FieldDef {
    pub fn section_index(&self) -> usize {
        self.section_index
    }

    pub fn scope_id(&self) -> ScopeId {
        self.scope_id.unwrap_or(ScopeId(0))
    }

    /// Clip or round a raw program output into the field's legal range. An
    /// [`Range::IntegerUpTo`] field is bounded below only; its host applies the upper bound.
    #[inline]
    pub fn project(&self, raw: f64) -> f64 {
        match &self.range {
            Range::Real([lo, hi]) => raw.clamp(*lo, *hi),
            Range::Integer([lo, hi]) => raw.round().clamp(*lo, *hi),
            Range::IntegerUpTo { lo, .. } => raw.round().max(*lo),
            Range::Flag => f64::from(u8::from(raw != 0.0)),
        }
    }
}

/// One host-computed feature.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureDef {
    pub name: String,
    pub group: String,
    #[serde(rename = "type")]
    pub ty: Ty,
    /// Human-readable range, as the host guarantees it.
    pub range: String,
    pub doc: String,
    #[serde(skip)]
    group_index: usize,
    #[serde(skip)]
    slot: usize,
}

/// A feature looked up by name.
#[derive(Clone, Copy, Debug)]
pub struct FeatureRef<'a> {
    pub def: &'a FeatureDef,
    pub group: &'a GroupDef,
    /// Slot index in the feature's frame.
    pub slot: usize,
}

impl FeatureRef<'_> {
    pub fn readable_from(&self, scope: ScopeId) -> bool {
        self.group.readers.contains(&scope)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("schema: {0}")]
    Parse(String),
    #[error("schema: {0}")]
    Invalid(String),
    #[error("schema baseline policy does not check:\n{0}")]
    Baseline(String),
}

/// A whole schema. Build it with [`Schema::from_toml`], complete it with
/// `Schema::with_baseline` (in [`crate::check`], which checks it), and share it (`Arc`): every
/// checked policy holds its schema.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// The policy `kind` a file of this schema declares.
    pub kind: String,
    pub sections: Vec<SectionDef>,
    pub frames: Vec<FrameDef>,
    pub scopes: Vec<ScopeDef>,
    pub groups: Vec<GroupDef>,
    pub fields: Vec<FieldDef>,
    pub features: Vec<FeatureDef>,
    /// The calls a policy may use (default: every built-in call).
    #[serde(default = "all_calls")]
    pub calls: Vec<String>,
    #[serde(skip)]
    frame_sizes: Vec<usize>,
    #[serde(skip)]
    pub(crate) baseline: Vec<Expr>,
}

fn all_calls() -> Vec<String> {
    CALLS.iter().map(|c| c.name.to_string()).collect()
}

impl Schema {
    /// Read and validate a schema: every name unique, every reference resolved.
    pub fn from_toml(text: &str) -> Result<Schema, SchemaError> {
        let mut s: Schema = toml::from_str(text).map_err(|e| SchemaError::Parse(e.to_string()))?;
        s.resolve()?;
        Ok(s)
    }

    fn resolve(&mut self) -> Result<(), SchemaError> {
        let bad = |m: String| Err(SchemaError::Invalid(m));
        let find = |names: Vec<&str>, name: &str, what: &str| -> Result<usize, SchemaError> {
            names
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| SchemaError::Invalid(format!("unknown {what} `{name}`")))
        };
        let frames: Vec<&str> = self.frames.iter().map(|f| f.name.as_str()).collect();
        for sc in &mut self.scopes {
            sc.frame_index = find(frames.clone(), &sc.frame, "frame")?;
        }
        if self.scopes.len() > usize::from(u8::MAX) || self.fields.len() > usize::from(u16::MAX) {
            return bad("too many scopes or fields".into());
        }
        let scopes: Vec<String> = self.scopes.iter().map(|s| s.name.clone()).collect();
        for g in &mut self.groups {
            g.frame_index = find(frames.clone(), &g.frame, "frame")?;
            g.readers = Vec::new();
            for r in &g.readable_by {
                let i = find(scopes.iter().map(String::as_str).collect(), r, "scope")?;
                if self.scopes[i].frame_index != g.frame_index {
                    return bad(format!(
                        "group `{}` lives in frame `{}` but scope `{r}` reads another frame",
                        g.name, g.frame
                    ));
                }
                g.readers.push(ScopeId(i as u8));
            }
        }
        let sections: Vec<&str> = self.sections.iter().map(|s| s.name.as_str()).collect();
        for f in &mut self.fields {
            f.section_index = find(sections.clone(), &f.section, "section")?;
            let i = find(
                scopes.iter().map(String::as_str).collect(),
                &f.scope,
                "scope",
            )?;
            f.scope_id = Some(ScopeId(i as u8));
        }
        let groups: Vec<&str> = self.groups.iter().map(|g| g.name.as_str()).collect();
        self.frame_sizes = vec![0; self.frames.len()];
        for feat in &mut self.features {
            feat.group_index = find(groups.clone(), &feat.group, "feature group")?;
            let frame = self.groups[feat.group_index].frame_index;
            feat.slot = self.frame_sizes[frame];
            self.frame_sizes[frame] += 1;
        }
        for c in &self.calls {
            if Call::from_name(c).is_none() {
                return bad(format!("unknown call `{c}`"));
            }
        }
        let mut names: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        names.extend(self.features.iter().map(|f| f.name.as_str()));
        names.extend(self.calls.iter().map(String::as_str));
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        if names.len() != n {
            return bad("a name is used twice among fields, features and calls".into());
        }
        Ok(())
    }

    /// The baseline's rule for a field (`None` while the baseline itself is being checked).
    pub fn baseline_expr(&self, field: FieldId) -> Option<&Expr> {
        self.baseline.get(field.index())
    }

    pub fn field(&self, id: FieldId) -> &FieldDef {
        &self.fields[id.index()]
    }

    pub fn field_id(&self, name: &str) -> Option<FieldId> {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .map(|i| FieldId(i as u16))
    }

    /// Every field, in canonical order.
    pub fn field_ids(&self) -> impl Iterator<Item = FieldId> + '_ {
        (0..self.fields.len()).map(|i| FieldId(i as u16))
    }

    /// The fields evaluated together in one scope, in canonical order.
    pub fn fields_in_scope(&self, scope: ScopeId) -> impl Iterator<Item = FieldId> + '_ {
        self.field_ids()
            .filter(move |f| self.field(*f).scope_id() == scope)
    }

    pub fn scope(&self, id: ScopeId) -> &ScopeDef {
        &self.scopes[id.index()]
    }

    pub fn scope_id(&self, name: &str) -> Option<ScopeId> {
        self.scopes
            .iter()
            .position(|s| s.name == name)
            .map(|i| ScopeId(i as u8))
    }

    pub fn scope_ids(&self) -> impl Iterator<Item = ScopeId> {
        (0..self.scopes.len()).map(|i| ScopeId(i as u8))
    }

    pub fn section_index(&self, name: &str) -> Option<usize> {
        self.sections.iter().position(|s| s.name == name)
    }

    /// Look a feature up by name.
    pub fn feature(&self, name: &str) -> Option<FeatureRef<'_>> {
        self.features
            .iter()
            .find(|f| f.name == name)
            .map(|def| self.feature_ref(def))
    }

    fn feature_ref<'a>(&'a self, def: &'a FeatureDef) -> FeatureRef<'a> {
        FeatureRef {
            def,
            group: &self.groups[def.group_index],
            slot: def.slot,
        }
    }

    /// The features of one frame, in slot order.
    pub fn frame_features(&self, frame: usize) -> impl Iterator<Item = FeatureRef<'_>> {
        self.features
            .iter()
            .filter(move |f| self.groups[f.group_index].frame_index == frame)
            .map(|def| self.feature_ref(def))
    }

    /// Number of feature slots in the frame a scope reads.
    pub fn slot_count(&self, scope: ScopeId) -> usize {
        self.frame_sizes[self.scope(scope).frame_index]
    }

    /// Names of the features a field in `scope` may read.
    pub fn readable(&self, scope: ScopeId) -> Vec<&str> {
        self.features
            .iter()
            .filter(|f| self.groups[f.group_index].readers.contains(&scope))
            .map(|f| f.name.as_str())
            .collect()
    }

    /// A call this schema allows, by name.
    pub fn call(&self, name: &str) -> Option<Call> {
        self.calls
            .iter()
            .any(|c| c == name)
            .then(|| Call::from_name(name))
            .flatten()
    }

    /// The language reference as Markdown tables: every field with its type, legal range and
    /// meaning, every feature with who may read it, and every call. `medisim schema` prints
    /// it, `docs/dsl.md` embeds it verbatim (a test keeps the two in step), and the LLM
    /// operator's prompt carries it.
    pub fn reference_markdown(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "### Fields\n\n| field | section | evaluated | type | legal range (host clips or projects) | meaning |\n|---|---|---|---|---|---|");
        for f in &self.fields {
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {} | {} |",
                f.name,
                f.section,
                self.scope(f.scope_id()).title,
                f.ty,
                f.range,
                f.doc
            );
        }
        for (i, frame) in self.frames.iter().enumerate() {
            // A "readable by" column only where the frame's features have several readers.
            let groups = self.groups.iter().filter(|g| g.frame_index == i).count();
            let _ = write!(s, "\n### {}\n\n", frame.heading);
            if !frame.intro.is_empty() {
                let _ = write!(s, "{}\n\n", frame.intro);
            }
            if groups > 1 {
                let _ = writeln!(
                    s,
                    "| feature | readable by | type | range | meaning |\n|---|---|---|---|---|"
                );
            } else {
                let _ = writeln!(s, "| feature | type | range | meaning |\n|---|---|---|---|");
            }
            for f in self.frame_features(i) {
                let d = f.def;
                if groups > 1 {
                    let _ = writeln!(
                        s,
                        "| `{}` | {} | {} | {} | {} |",
                        d.name, f.group.label, d.ty, d.range, d.doc
                    );
                } else {
                    let _ = writeln!(s, "| `{}` | {} | {} | {} |", d.name, d.ty, d.range, d.doc);
                }
            }
        }
        let _ = writeln!(s, "\n### Calls\n\n| call | meaning |\n|---|---|");
        for c in CALLS.iter().filter(|c| self.call(c.name).is_some()) {
            let _ = writeln!(s, "| `{}` | {} |", c.signature, c.doc);
        }
        s
    }

    /// The reference in brief, for a small model's prompt: each section's fields with their
    /// range (a bool field as `bool`), each frame's features and the calls by name only.
    pub fn reference_compact(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let mut sections: Vec<&str> = Vec::new();
        for f in &self.fields {
            if !sections.contains(&f.section.as_str()) {
                sections.push(&f.section);
            }
        }
        for section in sections {
            let fields: Vec<String> = self
                .fields
                .iter()
                .filter(|f| f.section == section)
                .map(|f| match f.ty {
                    Ty::Bool => format!("{} (bool)", f.name),
                    Ty::Num => format!("{} ({})", f.name, f.range),
                })
                .collect();
            let _ = writeln!(s, "[{section}] fields: {}", fields.join(", "));
        }
        for (i, frame) in self.frames.iter().enumerate() {
            let names: Vec<&str> = self
                .frame_features(i)
                .map(|f| f.def.name.as_str())
                .collect();
            let _ = writeln!(s, "{}: {}", frame.heading, names.join(", "));
        }
        let calls: Vec<&str> = CALLS
            .iter()
            .filter(|c| self.call(c.name).is_some())
            .map(|c| c.name)
            .collect();
        let _ = writeln!(s, "Calls: {}", calls.join(", "));
        s
    }
}

/// The built-in calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    I,
    Clip,
    Min,
    Max,
    Abs,
    Round,
    SoftGt,
    SoftLt,
}

/// Static description of one call.
#[derive(Clone, Copy, Debug)]
pub struct CallSpec {
    pub call: Call,
    pub name: &'static str,
    /// Argument types; a variadic call repeats the last one.
    pub params: &'static [Ty],
    pub variadic: bool,
    pub ret: Ty,
    pub signature: &'static str,
    pub doc: &'static str,
}

/// Temperature of `soft_gt` / `soft_lt`: `soft_gt(x, y) = 1 / (1 + exp(-(x - y) / SOFT_TEMPERATURE))`.
pub const SOFT_TEMPERATURE: f64 = 0.1;

pub const CALLS: [CallSpec; 8] = [
    CallSpec {
        call: Call::I,
        name: "I",
        params: &[Ty::Bool],
        variadic: false,
        ret: Ty::Num,
        signature: "I(b: bool) -> number",
        doc: "indicator: 1 if b is true, else 0",
    },
    CallSpec {
        call: Call::Clip,
        name: "clip",
        params: &[Ty::Num, Ty::Num, Ty::Num],
        variadic: false,
        ret: Ty::Num,
        signature: "clip(x, lo, hi) -> number",
        doc: "min(max(x, lo), hi); if lo > hi the result is hi",
    },
    CallSpec {
        call: Call::Min,
        name: "min",
        params: &[Ty::Num, Ty::Num],
        variadic: true,
        ret: Ty::Num,
        signature: "min(x, y, ...) -> number",
        doc: "smallest of two or more numbers",
    },
    CallSpec {
        call: Call::Max,
        name: "max",
        params: &[Ty::Num, Ty::Num],
        variadic: true,
        ret: Ty::Num,
        signature: "max(x, y, ...) -> number",
        doc: "largest of two or more numbers",
    },
    CallSpec {
        call: Call::Abs,
        name: "abs",
        params: &[Ty::Num],
        variadic: false,
        ret: Ty::Num,
        signature: "abs(x) -> number",
        doc: "absolute value",
    },
    CallSpec {
        call: Call::Round,
        name: "round",
        params: &[Ty::Num],
        variadic: false,
        ret: Ty::Num,
        signature: "round(x) -> number",
        doc: "nearest integer, halves away from zero (round(2.5) = 3, round(-2.5) = -3)",
    },
    CallSpec {
        call: Call::SoftGt,
        name: "soft_gt",
        params: &[Ty::Num, Ty::Num],
        variadic: false,
        ret: Ty::Num,
        signature: "soft_gt(x, y) -> number",
        doc: "smooth x > y: logistic((x - y) / 0.1), in [0, 1]; 0.5 when x = y",
    },
    CallSpec {
        call: Call::SoftLt,
        name: "soft_lt",
        params: &[Ty::Num, Ty::Num],
        variadic: false,
        ret: Ty::Num,
        signature: "soft_lt(x, y) -> number",
        doc: "smooth x < y: soft_gt(y, x)",
    },
];

impl Call {
    pub fn spec(self) -> &'static CallSpec {
        CALLS
            .iter()
            .find(|c| c.call == self)
            .expect("every call has a spec")
    }

    pub fn from_name(name: &str) -> Option<Call> {
        CALLS.iter().find(|c| c.name == name).map(|c| c.call)
    }
}

/// Header keys and the values the schema accepts.
pub const HEADER_KEYS: [&str; 4] = ["kind", "version", "name", "description"];
/// The version tag of this schema.
pub const VERSION: &str = "medisim_dsl_v1";

/// Guardrail: most expression nodes in one statement.
pub const MAX_NODES: usize = 400;
/// Guardrail: deepest nesting of parentheses, calls and unary operators in one statement.
pub const MAX_NESTING: usize = 32;
/// Guardrail: largest policy source accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 256 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"
kind = "mini_policy"
[[sections]]
name = "rules"
article = "a"
[[frames]]
name = "f"
heading = "Features"
[[scopes]]
name = "s"
title = "S"
frame = "f"
reader = "a rule"
[[groups]]
name = "g"
frame = "f"
readable_by = ["s"]
description = "a feature"
label = "s"
[[fields]]
name = "x"
section = "rules"
scope = "s"
type = "number"
range = { real = [0.0, 1.0] }
doc = "an output"
[[features]]
name = "u"
group = "g"
type = "number"
range = "any"
doc = "an input"
"#;

    #[test]
    fn a_schema_is_data_and_resolves_its_names() {
        let s = Schema::from_toml(MINI).unwrap();
        let x = s.field_id("x").unwrap();
        assert_eq!(s.field(x).project(3.0), 1.0);
        assert_eq!(s.feature("u").unwrap().slot, 0);
        assert_eq!(s.readable(ScopeId(0)), vec!["u"]);
        let s = s.with_baseline("kind = \"mini_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"b\"\n[rules]\nx = u\n").unwrap();
        assert!(s.baseline_expr(x).is_some());
    }

    #[test]
    fn bad_schemas_name_the_problem() {
        let e = Schema::from_toml(&MINI.replace("group = \"g\"", "group = \"h\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown feature group `h`"), "{e}");
        let e = Schema::from_toml(&MINI.replace("name = \"u\"", "name = \"x\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("twice"), "{e}");
        let e = Schema::from_toml(MINI)
            .unwrap()
            .with_baseline(
                "kind = \"mini_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"b\"\n[rules]\n",
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("leaves out `x`"), "{e}");
    }
}
