//! Structured edits on the hospital schema: a JSON object of field → expression, and the
//! grammar of whole programs.

mod common;

use common::{baseline, hospital};
use medisim_dsl::fmt;
use medisim_dsl::structured::{apply_json_edit, edit_json_schema, policy_grammar, JsonEditError};

#[test]
fn a_json_edit_changes_the_named_fields_and_keeps_the_rest() {
    let (schema, parent) = (hospital(), baseline());
    let js = edit_json_schema(schema);
    assert_eq!(
        js["properties"].as_object().unwrap().len(),
        schema.fields.len()
    );
    let reply = "Here you go:\n```json\n{\"alpha\": \"0.6\", \"wC\": 0.2}\n```";
    let (text, child) = apply_json_edit(schema, parent, reply).unwrap();
    assert!(
        text.contains("alpha = 0.6") && text.contains("wC = 0.2"),
        "{text}"
    );
    for id in schema.field_ids() {
        if !["alpha", "wC"].contains(&schema.field(id).name.as_str()) {
            assert_eq!(
                child.get(id).map(fmt::expr_to_string),
                parent.get(id).map(fmt::expr_to_string),
                "{}",
                schema.field(id).name
            );
        }
    }
    let e = apply_json_edit(schema, parent, "{\"margin_penalty\": \"1\"}").unwrap_err();
    assert!(
        e.to_string()
            .contains("`margin_penalty` is not a policy field"),
        "{e}"
    );
    let e = apply_json_edit(schema, parent, "no json here").unwrap_err();
    assert!(matches!(e, JsonEditError::NotAnObject(_)));
    let e = apply_json_edit(schema, parent, "{\"alpha\": \"1 +\"}").unwrap_err();
    assert!(e.to_string().contains("does not check"), "{e}");
    let e = apply_json_edit(schema, parent, "{\"alpha\": [1]}").unwrap_err();
    assert!(matches!(e, JsonEditError::NotAnExpression { .. }));
    // A field read from the wrong scope is the checker's to refuse, with its reason.
    let e = apply_json_edit(schema, parent, "{\"alpha\": \"upcode_pressure\"}").unwrap_err();
    assert!(e.to_string().contains("upcode_pressure"), "{e}");
}

#[test]
fn the_grammar_names_every_field_once_and_every_scope() {
    let schema = hospital();
    let g = policy_grammar(schema, "child");
    for f in &schema.fields {
        let rule = format!("f-{} ::= ", f.name.replace('_', "-"));
        assert_eq!(g.matches(&rule).count(), 1, "{rule}\n{g}");
        assert!(g.contains(&format!(" f-{}?", f.name.replace('_', "-"))));
    }
    for s in schema.scope_ids() {
        let name = &schema.scope(s).name;
        assert!(
            g.contains(&format!("num-{name} ::= ")) && g.contains(&format!("bool-{name} ::= "))
        );
    }
    // Typed as the checker types: a number field takes a number expression, and I() turns a
    // bool into a number.
    assert!(g.contains("f-alpha ::= \"alpha\" \" = \" num-admin"), "{g}");
    assert!(g.contains("\"I(\" bool-"), "{g}");
}

/// The pattern admits what a small model should write and refuses what one did write.
#[test]
fn the_expression_pattern_admits_flat_expressions_of_readable_features_only() {
    let schema = hospital();
    let admin = schema.scope_id("admin").unwrap();
    let p = medisim_dsl::structured::expression_pattern(schema, admin);
    assert!(p.starts_with('^') && p.ends_with('$'));
    assert!(p.contains("|wbar") || p.contains("wbar|"), "{p}");
    assert!(
        !p.contains("upcode_pressure"),
        "a care feature is not readable by admin"
    );
    let re = regex::Regex::new(&p).unwrap();
    for good in [
        "0.6",
        "-2",
        "0.35 + 0.2 * wbar",
        "clip(wbar, 0, 1)",
        "max(0.1, rbar) * 2",
    ] {
        assert!(re.is_match(good), "{good}");
    }
    for bad in [
        ".0.6",
        ", upcode_pressure - audit_penalty",
        "upcode_pressure",
        "0.6,",
        "",
    ] {
        assert!(!re.is_match(bad), "{bad}");
    }
}
