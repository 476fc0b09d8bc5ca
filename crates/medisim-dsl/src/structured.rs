//! Edits a server can enforce, for models too small to write a diff: a JSON object of field →
//! expression (served under a JSON schema of the policy's fields) and a GBNF grammar of the
//! language itself, both generated from the schema, so that every reply parses. The checker
//! still decides types, ranges and scopes.

use crate::check::{check_statements, Policy};
use crate::diag::Diagnostic;
use crate::fmt;
use crate::schema::{Schema, Ty};
use std::fmt::Write as _;
use std::sync::Arc;

/// A regular expression of the flat expressions a field may take: terms (a number, a feature
/// its scope may read, `true`/`false`, or a call of such atoms) joined by binary operators.
/// Nested parentheses are beyond a regular expression; the grammar format has them. A server
/// that turns the JSON schema into a grammar (llama.cpp) then admits no `.0.6`, no stray comma
/// and no feature the field cannot read.
pub fn expression_pattern(schema: &Schema, scope: crate::ScopeId) -> String {
    let mut names: Vec<&str> = schema.readable(scope);
    // Longest first, so that no name stops a longer one short.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let atom = format!(
        "(-?[0-9]+([.][0-9]+)?|true|false{})",
        names.iter().map(|n| format!("|{n}")).collect::<String>()
    );
    let calls = schema.calls.join("|");
    let term = format!("(({calls})[(]{atom}(, {atom})*[)]|{atom})");
    format!("^{term}( ([+]|-|[*]|/|>=|<=|>|<|==|!=|and|or) {term})*$")
}

/// The JSON schema of an edit: an object whose keys are field names (each optional, at least
/// one) and whose values are expressions written as strings, each held to
/// [`expression_pattern`] of its field's scope.
pub fn edit_json_schema(schema: &Schema) -> serde_json::Value {
    let mut properties = serde_json::Map::new();
    for f in &schema.fields {
        let kind = match f.ty {
            Ty::Num => "number expression",
            Ty::Bool => "true/false expression",
        };
        properties.insert(
            f.name.clone(),
            serde_json::json!({
                "type": "string",
                "description": format!("{kind} for [{}] {}: {} ({})", f.section, f.name, f.doc, f.range),
                "pattern": expression_pattern(schema, f.scope_id()),
            }),
        );
    }
    serde_json::json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
        "minProperties": 1,
    })
}

/// Why a JSON edit could not be applied.
#[derive(Debug, PartialEq)]
pub enum JsonEditError {
    /// No JSON object in the reply, or not valid JSON.
    NotAnObject(String),
    /// A key that is no field of the schema.
    UnknownField { name: String, known: Vec<String> },
    /// A value that is neither a string nor a number nor a bool.
    NotAnExpression { name: String },
    /// The edited program does not check.
    Check {
        text: String,
        diagnostics: Vec<Diagnostic>,
    },
}

impl std::fmt::Display for JsonEditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonEditError::NotAnObject(why) => {
                write!(
                    f,
                    "the reply holds no JSON object of field → expression: {why}"
                )
            }
            JsonEditError::UnknownField { name, known } => write!(
                f,
                "`{name}` is not a policy field; the fields are: {}",
                known.join(", ")
            ),
            JsonEditError::NotAnExpression { name } => write!(
                f,
                "the value of `{name}` must be an expression written as a string"
            ),
            JsonEditError::Check { text, diagnostics } => {
                let errors: Vec<&Diagnostic> =
                    diagnostics.iter().filter(|d| d.is_error()).collect();
                write!(
                    f,
                    "the edited policy does not check:\n{}",
                    crate::diag::short_all(
                        &errors,
                        "candidate.policy",
                        text,
                        crate::patch::MAX_REPORTED
                    )
                )
            }
        }
    }
}

/// Apply a JSON edit (`{"alpha": "0.6", …}`, possibly inside a fenced block or prose) to
/// `parent`: the named fields take the new expressions, every other field keeps the parent's.
/// Returns the child's text and the checked child.
pub fn apply_json_edit(
    schema: &Arc<Schema>,
    parent: &Policy,
    reply: &str,
) -> Result<(String, Policy), JsonEditError> {
    let (start, end) = match (reply.find('{'), reply.rfind('}')) {
        (Some(a), Some(b)) if a < b => (a, b),
        _ => return Err(JsonEditError::NotAnObject("no `{ … }` in it".into())),
    };
    let value: serde_json::Value = serde_json::from_str(&reply[start..=end])
        .map_err(|e| JsonEditError::NotAnObject(e.to_string()))?;
    let serde_json::Value::Object(edits) = value else {
        return Err(JsonEditError::NotAnObject("not an object".into()));
    };
    let mut new: Vec<(crate::FieldId, String)> = Vec::new();
    for (name, v) in &edits {
        let Some(id) = schema.field_id(name) else {
            return Err(JsonEditError::UnknownField {
                name: name.clone(),
                known: schema.fields.iter().map(|f| f.name.clone()).collect(),
            });
        };
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => return Err(JsonEditError::NotAnExpression { name: name.clone() }),
        };
        new.push((id, text));
    }
    let mut text = String::new();
    for id in schema.field_ids() {
        let name = &schema.field(id).name;
        if let Some((_, e)) = new.iter().find(|(f, _)| *f == id) {
            let _ = writeln!(text, "{name} = {}", e.trim().replace('\n', " "));
        } else if let Some(e) = parent.get(id) {
            let _ = writeln!(text, "{}", fmt::statement(name, e));
        }
    }
    let out = check_statements(schema, &text, &parent.header.name);
    match out.policy {
        Some(p) => Ok((text, p)),
        None => Err(JsonEditError::Check {
            text,
            diagnostics: out.diagnostics,
        }),
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A GBNF grammar (llama.cpp's) of complete programs of this schema: the header, then each
/// section with each of its fields at most once, in canonical order. Expressions are typed as
/// the checker types them: a number field takes arithmetic over numbers, the number features
/// its scope may read and number-valued calls; a bool field takes comparisons of those, bool
/// features, `and`/`or`/`not`. Every string it admits parses and type-checks; ranges and the
/// host's projections are left to the checker and the host.
pub fn policy_grammar(schema: &Schema, name: &str) -> String {
    let mut g = String::new();
    let header = format!(
        "kind = {}\nversion = {}\nname = {}\n",
        quoted(&schema.kind),
        quoted(crate::schema::VERSION),
        quoted(name)
    );
    let _ = write!(g, "root ::= {}", quoted(&header).replace('\n', "\\n"));
    for (s, def) in schema.sections.iter().enumerate() {
        let _ = write!(
            g,
            " {}",
            quoted(&format!("\n[{}]\n", def.name)).replace('\n', "\\n")
        );
        for f in schema
            .field_ids()
            .filter(|f| schema.field(*f).section_index() == s)
        {
            let _ = write!(g, " f-{}?", schema.field(f).name.replace('_', "-"));
        }
    }
    g.push('\n');
    let kind = |t: Ty| match t {
        Ty::Num => "num",
        Ty::Bool => "bool",
    };
    for id in schema.field_ids() {
        let f = schema.field(id);
        let _ = writeln!(
            g,
            "f-{} ::= {} \" = \" {}-{} \"\\n\"",
            f.name.replace('_', "-"),
            quoted(&f.name),
            kind(f.ty),
            schema.scope(f.scope_id()).name
        );
    }
    for scope in schema.scope_ids() {
        let s = &schema.scope(scope).name;
        let readable = schema.readable(scope);
        let features = |t: Ty| -> Vec<String> {
            let mut v: Vec<String> = schema
                .features
                .iter()
                .filter(|f| f.ty == t && readable.contains(&f.name.as_str()))
                .map(|f| quoted(&f.name))
                .collect();
            // Longest first, so a feature that prefixes another cannot cut it short.
            v.sort_by_key(|a| std::cmp::Reverse(a.len()));
            v
        };
        let calls = |ret: Ty| -> Vec<String> {
            schema
                .calls
                .iter()
                .filter_map(|c| crate::schema::Call::from_name(c))
                .map(|c| c.spec())
                .filter(|c| c.ret == ret && !c.params.is_empty())
                .map(|c| {
                    let args: Vec<String> = c
                        .params
                        .iter()
                        .map(|t| format!("{}-{s}", kind(*t)))
                        .collect();
                    let more = if c.variadic {
                        format!(
                            " (\", \" {}-{s})*",
                            kind(*c.params.last().unwrap_or(&Ty::Num))
                        )
                    } else {
                        String::new()
                    };
                    format!("\"{}(\" {}{more} \")\"", c.name, args.join(" \", \" "))
                })
                .collect()
        };
        let alt = |mut base: Vec<String>, extra: Vec<String>| {
            base.extend(extra);
            base.join(" | ")
        };
        let _ = writeln!(g, "num-{s} ::= nterm-{s} (\" \" arith \" \" nterm-{s})*");
        let _ = writeln!(
            g,
            "nterm-{s} ::= {}",
            alt(
                vec![
                    "number".into(),
                    format!("\"-\" nterm-{s}"),
                    format!("\"(\" num-{s} \")\"")
                ],
                [features(Ty::Num), calls(Ty::Num)].concat()
            )
        );
        let _ = writeln!(g, "bool-{s} ::= bterm-{s} (\" \" logic \" \" bterm-{s})*");
        let _ = writeln!(
            g,
            "bterm-{s} ::= {}",
            alt(
                vec![
                    "\"true\"".into(),
                    "\"false\"".into(),
                    format!("\"not \" bterm-{s}"),
                    format!("\"(\" bool-{s} \")\""),
                    format!("num-{s} \" \" compare \" \" num-{s}")
                ],
                [features(Ty::Bool), calls(Ty::Bool)].concat()
            )
        );
    }
    g.push_str(
        "arith ::= \"+\" | \"-\" | \"*\" | \"/\"\n\
         compare ::= \">=\" | \"<=\" | \">\" | \"<\" | \"==\" | \"!=\"\n\
         logic ::= \"and\" | \"or\"\n\
         number ::= [0-9]+ (\".\" [0-9]+)?\n",
    );
    g
}
