//! Parameters by key: the one way every model's parameters are read and set by name.
//!
//! A model's parameters are a serde structure; a key is a dotted path through its tables with
//! `[i]` indices into arrays (`arrivals.rate`, `retinopathy.macular_edema_cost`, `k[0]`,
//! `care.skill[2]`). Setting goes through the structure's own TOML form, so the model's
//! deserialiser (defaults, `deny_unknown_fields`, enums) decides what a value may be; the model
//! then validates ranges. The type rules live here once: an integer may stand for a real, a
//! real may stand for an integer only when it is whole and representable, and any other
//! mismatch is refused with the expected type.

use serde::de::DeserializeOwned;
use serde::Serialize;
/// A parameter's value, as its TOML form holds it.
pub use toml::Value;

/// Why a key could not be read or set.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum KeyError {
    #[error("`{key}` is not a key here; known: {known}")]
    Unknown { key: String, known: String },
    #[error("`{key}` is not a key: write `name`, `section.name` or `name[i]`")]
    Malformed { key: String },
    #[error("`{key}`: index {index} is outside 0..{len}")]
    Index {
        key: String,
        index: usize,
        len: usize,
    },
    #[error("`{key}` takes {expected}, got `{got}`")]
    Type {
        key: String,
        expected: String,
        got: String,
    },
    #[error("`{key}`: {message}")]
    Invalid { key: String, message: String },
}

/// One step of a key: a table entry, then array indices.
struct Step<'a> {
    name: &'a str,
    indices: Vec<usize>,
}

fn steps(key: &str) -> Result<Vec<Step<'_>>, KeyError> {
    let malformed = || KeyError::Malformed { key: key.into() };
    key.split('.')
        .map(|part| {
            let (name, mut rest) = part.find('[').map_or((part, ""), |k| part.split_at(k));
            let mut indices = Vec::new();
            while !rest.is_empty() {
                let close = rest.find(']').ok_or_else(malformed)?;
                let i = rest[1..close].trim().parse().map_err(|_| malformed())?;
                indices.push(i);
                rest = &rest[close + 1..];
            }
            let ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
            ok.then_some(Step { name, indices }).ok_or_else(malformed)
        })
        .collect()
}

fn known(table: &toml::Table) -> String {
    table.keys().cloned().collect::<Vec<_>>().join(", ")
}

/// The slot `key` names inside `root`.
fn slot<'v>(root: &'v mut Value, key: &str) -> Result<&'v mut Value, KeyError> {
    let mut v = root;
    for step in steps(key)? {
        let table = v
            .as_table_mut()
            .ok_or_else(|| KeyError::Malformed { key: key.into() })?;
        let names = known(table);
        v = table.get_mut(step.name).ok_or_else(|| KeyError::Unknown {
            key: key.into(),
            known: names,
        })?;
        for index in step.indices {
            if !v.is_array() {
                // `k[0][0]` on a list of numbers: say what is there, not "index 0 of 0".
                return Err(KeyError::Invalid {
                    key: key.into(),
                    message: format!(
                        "indexes into {}, which is a single value, not a list",
                        value_kind(v)
                    ),
                });
            }
            let len = v.as_array().map_or(0, Vec::len);
            v = v
                .as_array_mut()
                .and_then(|a| a.get_mut(index))
                .ok_or(KeyError::Index {
                    key: key.into(),
                    index,
                    len,
                })?;
        }
    }
    Ok(v)
}

/// What a value is, for messages: "a number `2`", "a flag".
fn value_kind(v: &Value) -> String {
    match v {
        Value::Integer(_) | Value::Float(_) => format!("a number `{v}`"),
        Value::Boolean(_) => format!("a flag `{v}`"),
        Value::String(_) => format!("a text {v}"),
        _ => "a table".to_string(),
    }
}

/// serde's words for a whole number out of an unsigned field ("invalid value: integer `-1`,
/// expected usize") in the user's: the legal range.
fn whole_number_message(message: &str) -> String {
    let unsigned = ["usize", "u64", "u32", "u16", "u8"]
        .iter()
        .find(|t| message.ends_with(&format!("expected {t}")));
    match (message.strip_prefix("invalid value: integer `"), unsigned) {
        (Some(rest), Some(t)) => {
            let got = rest.split('`').next().unwrap_or_default();
            let most = match *t {
                "u8" => u64::from(u8::MAX),
                "u16" => u64::from(u16::MAX),
                "u32" => u64::from(u32::MAX),
                _ => i64::MAX as u64,
            };
            format!("takes a whole number in [0, {most}], got {got}")
        }
        _ => message.to_string(),
    }
}

fn to_value<T: Serialize>(params: &T, key: &str) -> Result<Value, KeyError> {
    toml::Table::try_from(params)
        .map(Value::Table)
        .map_err(|e| KeyError::Invalid {
            key: key.into(),
            message: format!("the parameters cannot be written as TOML: {e}"),
        })
}

/// The value at `key`.
pub fn get<T: Serialize>(params: &T, key: &str) -> Result<Value, KeyError> {
    let mut root = to_value(params, key)?;
    slot(&mut root, key).map(|v| v.clone())
}

/// The number at `key` (an integer read as a real); an error names a key that holds none.
pub fn number<T: Serialize>(params: &T, key: &str) -> Result<f64, KeyError> {
    let v = get(params, key)?;
    v.as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .ok_or_else(|| KeyError::Type {
            key: key.into(),
            expected: "a number".into(),
            got: v.to_string(),
        })
}

/// Every number in `v` with its key (`k[0]`, `retinopathy.macular_edema_cost`), in order; empty
/// when `v` has no TOML form. These are the keys `set` takes.
pub fn numbers<T: Serialize>(v: &T) -> Vec<(String, f64)> {
    fn walk(v: &Value, path: &str, out: &mut Vec<(String, f64)>) {
        match v {
            Value::Float(x) => out.push((path.to_string(), *x)),
            Value::Integer(i) => out.push((path.to_string(), *i as f64)),
            Value::Table(t) => {
                for (k, v) in t {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, &p, out);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = Value::try_from(v) {
        walk(&v, "", &mut out);
    }
    out
}

/// The first number in `v` (parameters, or a result) that is NaN or infinite, with its key:
/// TOML files may write `nan` and `inf`, and a result computed from extreme values can
/// overflow, so readers and writers of every model check through this one walk. `None` when
/// every number is finite (or `v` has no TOML form).
pub fn non_finite<T: Serialize>(v: &T) -> Option<(String, f64)> {
    numbers(v).into_iter().find(|(_, x)| !x.is_finite())
}

/// The largest amount of money, in dollars, any model's parameter may name: a trillion. Larger
/// amounts are no price, and sums of them over a panel or a cohort lose the precision the
/// models' solvers and checks need (a panel fee of 10³⁰⁸ failed inside the solver; a contract
/// cost of 10³⁰⁸ printed payments of ±inf dollars).
pub const MAX_MONEY: f64 = 1e12;

/// The first number in `v` whose magnitude exceeds `limit` (or that is not finite), with its
/// key: a model whose values all live on one scale bounds them all in one walk.
pub fn beyond<T: Serialize>(v: &T, limit: f64) -> Option<(String, f64)> {
    numbers(v)
        .into_iter()
        .find(|(_, x)| !x.is_finite() || x.abs() > limit)
}

/// Which parameter to blame when a model cannot compute a result or a solver gives up: the
/// number in `v` furthest, in orders of magnitude, from its value in `default`, as
/// `` `m1` = 1e15 (default 3)``. `None` when no number differs.
pub fn furthest_from<T: Serialize>(v: &T, default: &T) -> Option<String> {
    let base: std::collections::BTreeMap<String, f64> = numbers(default).into_iter().collect();
    let distance = |x: f64, d: f64| ((x.abs() + 1.0).ln() - (d.abs() + 1.0).ln()).abs();
    numbers(v)
        .into_iter()
        .filter_map(|(k, x)| base.get(&k).filter(|d| **d != x).map(|d| (k, x, *d)))
        .max_by(|a, b| distance(a.1, a.2).total_cmp(&distance(b.1, b.2)))
        .map(|(k, x, d)| {
            format!(
                "`{k}` = {} (default {})",
                crate::text::number(x),
                crate::text::number(d)
            )
        })
}

/// Refuse a result holding a NaN or an infinity, naming `what`, the key and `cause` (what to
/// blame, usually [`culprit`]): nothing undefined passes for a result, in any front end.
pub fn defined<T: Serialize>(result: &T, what: &str, cause: &str) -> Result<(), String> {
    match non_finite(result) {
        None => Ok(()),
        Some((key, x)) => Err(format!(
            "{what}: `{key}` is {x}: the parameters are outside what the model can compute; \
             {cause}"
        )),
    }
}

/// Whom a message blames when a model cannot compute at `v` or its solver gives up: the
/// parameter [`furthest_from`] its default, else advice to move the largest values back.
pub fn culprit<T: Serialize>(v: &T, default: &T) -> String {
    match furthest_from(v, default) {
        Some(k) => format!("the parameter furthest from its default is {k}"),
        None => "bring the largest values towards the defaults".into(),
    }
}

/// Refuse parameters holding a NaN or an infinity, naming the key.
pub fn finite<T: Serialize>(v: &T) -> Result<(), KeyError> {
    match non_finite(v) {
        None => Ok(()),
        Some((key, x)) => Err(KeyError::Invalid {
            key,
            message: format!("{x} is not a finite number"),
        }),
    }
}

/// `new` converted to the type of the slot it replaces, or refused.
fn coerce(key: &str, old: &Value, new: Value) -> Result<Value, KeyError> {
    let refuse = |expected: &str, new: &Value| KeyError::Type {
        key: key.into(),
        expected: expected.into(),
        got: match new {
            Value::Float(x) => crate::text::number(*x),
            other => other.to_string(),
        },
    };
    match (old, new) {
        (Value::Float(_), Value::Integer(i)) => Ok(Value::Float(i as f64)),
        (Value::Float(_), Value::Float(x)) if !x.is_finite() => Err(KeyError::Invalid {
            key: key.into(),
            message: format!("{x} is not a finite number"),
        }),
        // 2^63 is the first whole real that is not an i64.
        (Value::Integer(_), Value::Float(x))
            if x.fract() == 0.0 && x.abs() < 9.223_372_036_854_775e18 =>
        {
            Ok(Value::Integer(x as i64))
        }
        (Value::Integer(_), new @ Value::Float(_)) => Err(refuse("a whole number", &new)),
        (old, new) if std::mem::discriminant(old) == std::mem::discriminant(&new) => Ok(new),
        (old, new) => {
            let kind = old.type_str();
            let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            Err(refuse(&format!("{article} {kind}"), &new))
        }
    }
}

/// `params` with `key` set to `new`, read back through the structure's deserialiser. Range
/// checks are the model's: validate the result.
pub fn set<T: Serialize + DeserializeOwned>(
    params: &T,
    key: &str,
    new: Value,
) -> Result<T, KeyError> {
    let mut root = to_value(params, key)?;
    let at = slot(&mut root, key)?;
    *at = coerce(key, at, new)?;
    root.try_into()
        .map_err(|e: toml::de::Error| KeyError::Invalid {
            key: key.into(),
            message: whole_number_message(e.message()),
        })
}

/// A value written as TOML on a command line: `0.5`, `-5`, `[1, 2]`, `"high"`, `true`.
pub fn literal(text: &str) -> Result<Value, String> {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .ok_or_else(|| {
            // TOML's whole numbers are 64-bit signed: a larger one reads as no value at all.
            if text.trim().parse::<u128>().is_ok() {
                format!(
                    "`{}` is past the largest whole number a setting holds ({})",
                    text.trim(),
                    i64::MAX
                )
            } else {
                format!("`{text}` is not a value (a number, `true`, `[1, 2]`, `\"text\"`)")
            }
        })
}

/// A command line's `KEY=VALUE` (`--set`): the key, trimmed, and the value as a [`literal`].
/// The caller names the argument in its error.
pub fn assignment(text: &str) -> Result<(&str, Value), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| "expected KEY=VALUE".to_string())?;
    let key = key.trim();
    if key.is_empty() {
        return Err("the key before `=` is empty".into());
    }
    literal(value.trim()).map(|v| (key, v))
}

/// Refuse a key named twice: a sweep, a design or a list of experiments would run (or write a
/// column for) the first in vain.
pub fn distinct<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for k in keys {
        if !seen.insert(k) {
            return Err(format!("`{k}` is named twice; name each key once"));
        }
    }
    Ok(())
}

/// Every `KEY=VALUE` of a list of settings, each key once: a key set twice would keep its last
/// value and drop the first without a word. A refusal carries the setting it is about and why.
pub fn assignments(texts: &[String]) -> Result<Vec<(&str, Value)>, (String, String)> {
    let mut out: Vec<(&str, Value)> = Vec::with_capacity(texts.len());
    for text in texts {
        let (key, value) = assignment(text).map_err(|e| (text.clone(), e))?;
        if out.iter().any(|(k, _)| *k == key) {
            return Err((
                text.clone(),
                format!("`{key}` is set twice; set each key once"),
            ));
        }
        out.push((key, value));
    }
    Ok(out)
}

/// Most points a value spec may ask for.
pub const MAX_POINTS: usize = 10_000;

/// The values a sweep gives one key: `lo:hi:n` (n evenly spaced), `lo:hi` (a range for a
/// sampled design) or `v1,v2,…`. Every number finite; a range's start below its end.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueSpec {
    Range { lo: f64, hi: f64, n: Option<usize> },
    List(Vec<f64>),
}

impl ValueSpec {
    pub fn parse(spec: &str) -> Result<ValueSpec, String> {
        let num = |s: &str| {
            let v: f64 = s
                .trim()
                .parse()
                .map_err(|_| format!("`{}` is not a number", s.trim()))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(format!("`{}` is not finite", s.trim()))
            }
        };
        if !spec.contains(':') {
            let values: Vec<f64> = spec.split(',').map(num).collect::<Result<_, _>>()?;
            if values.len() > MAX_POINTS {
                return Err(format!(
                    "the list has {} values; at most {MAX_POINTS}",
                    values.len()
                ));
            }
            // A value twice is a point run twice and drawn twice.
            if let Some((i, v)) = values
                .iter()
                .enumerate()
                .find(|(i, v)| values[..*i].contains(v))
            {
                return Err(format!(
                    "`{}` is listed twice (value {}): list each value once",
                    crate::text::number(*v),
                    i + 1
                ));
            }
            return Ok(ValueSpec::List(values));
        }
        let parts: Vec<&str> = spec.split(':').collect();
        let n = match parts[..] {
            [_, _] => None,
            [_, _, n] => {
                let n: usize = n
                    .trim()
                    .parse()
                    .map_err(|_| format!("the count `{}` is not a whole number", n.trim()))?;
                if !(2..=MAX_POINTS).contains(&n) {
                    return Err(format!("the count must be in 2..={MAX_POINTS}, got {n}"));
                }
                Some(n)
            }
            _ => return Err(format!("`{spec}`: a range is lo:hi or lo:hi:n")),
        };
        let (lo, hi) = (num(parts[0])?, num(parts[1])?);
        if lo >= hi {
            return Err(format!("`{spec}`: the range's start must be below its end"));
        }
        Ok(ValueSpec::Range { lo, hi, n })
    }

    /// The values of a grid: a list as given, `lo:hi:n` as n evenly spaced points. A range
    /// without a count has no grid.
    pub fn grid(&self) -> Option<Vec<f64>> {
        match self {
            ValueSpec::List(v) => Some(v.clone()),
            ValueSpec::Range { lo, hi, n: Some(n) } => Some(
                (0..*n)
                    .map(|i| lo + (hi - lo) * i as f64 / (*n - 1) as f64)
                    .collect(),
            ),
            ValueSpec::Range { n: None, .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Game {
        m1: f64,
        k: Vec<f64>,
        stages: u32,
    }

    #[test]
    fn the_culprit_is_the_number_furthest_from_its_default_in_orders_of_magnitude() {
        let base = Game {
            m1: 3.0,
            k: vec![100.0, 2.0],
            stages: 4,
        };
        let moved = Game {
            m1: 30.0,
            k: vec![100.0, 1e15],
            stages: 5,
        };
        assert_eq!(
            furthest_from(&moved, &base).as_deref(),
            Some("`k[1]` = 1e15 (default 2)")
        );
        assert!(culprit(&moved, &base).contains("`k[1]`"));
        assert_eq!(furthest_from(&base, &base), None);
        assert!(culprit(&base, &base).contains("towards the defaults"));
    }

    #[test]
    fn an_assignment_is_a_key_and_a_literal() {
        assert_eq!(
            assignment(" care.nu = 0.5").unwrap(),
            ("care.nu", Value::Float(0.5))
        );
        assert_eq!(assignment("k[0]=-5").unwrap(), ("k[0]", Value::Integer(-5)));
        assert_eq!(assignment("x").unwrap_err(), "expected KEY=VALUE");
        let twice = ["a=1".to_string(), "b=2".into(), "a=3".into()];
        let (text, why) = assignments(&twice).unwrap_err();
        assert_eq!(text, "a=3");
        assert!(why.contains("`a` is set twice"), "{why}");
        assert_eq!(assignments(&twice[..2]).unwrap().len(), 2);
        assert!(assignment("=1").unwrap_err().contains("empty"));
        assert!(assignment("a=b c").unwrap_err().contains("is not a value"));
        assert!(assignment("seed=18446744073709551615")
            .unwrap_err()
            .contains("past the largest whole number a setting holds (9223372036854775807)"));
    }
    use serde::Deserialize;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        rate: f64,
        skill: Vec<f64>,
        mode: String,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Params {
        seed: u64,
        teams: u32,
        on: bool,
        inner: Inner,
    }

    fn p() -> Params {
        Params {
            seed: 1,
            teams: 5,
            on: false,
            inner: Inner {
                rate: 9.0,
                skill: vec![1.0, 0.9],
                mode: "a".into(),
            },
        }
    }

    #[test]
    fn keys_reach_sections_and_array_entries() {
        let q = set(&p(), "inner.skill[1]", Value::Float(0.5)).unwrap();
        assert_eq!(q.inner.skill, vec![1.0, 0.5]);
        let q = set(&q, "inner.rate", Value::Integer(3)).unwrap();
        assert_eq!(q.inner.rate, 3.0);
        assert_eq!(get(&q, "inner.rate").unwrap(), Value::Float(3.0));
        let q = set(&q, "inner.mode", literal("\"b\"").unwrap()).unwrap();
        assert_eq!(q.inner.mode, "b");
        assert!(set(&q, "on", literal("true").unwrap()).unwrap().on);
    }

    #[test]
    fn whole_numbers_stay_exact() {
        // Through an f64 this seed would become 9007199254740992.
        let q = set(&p(), "seed", literal("9007199254740993").unwrap()).unwrap();
        assert_eq!(q.seed, 9_007_199_254_740_993);
        let q = set(&p(), "teams", Value::Float(7.0)).unwrap();
        assert_eq!(q.teams, 7);
    }

    #[test]
    fn every_bad_setting_is_refused_by_name() {
        let e = |k: &str, v: Value| set(&p(), k, v).unwrap_err().to_string();
        assert_eq!(
            e("inner.rat", Value::Float(1.0)),
            "`inner.rat` is not a key here; known: mode, rate, skill"
        );
        assert!(e("inner.skill[2]", Value::Float(1.0)).contains("index 2 is outside 0..2"));
        // Indexing too deep says what is there; a negative count gives the legal range.
        assert!(e("inner.skill[0][0]", Value::Float(1.0)).contains("a single value, not a list"));
        assert!(e("teams", Value::Integer(-1)).contains("whole number in [0, "));
        assert!(e("teams", Value::Float(2.5)).contains("takes a whole number"));
        assert!(e("inner.rate", literal("\"x\"").unwrap()).contains("takes a float"));
        assert!(e("inner.rate", Value::Float(f64::NAN)).contains("not a finite number"));
        assert!(
            e("teams", Value::Integer(-1)).contains("`teams`"),
            "u32 refuses -1"
        );
        assert!(e("teams", Value::Float(1e300)).contains("whole number"));
        for bad in ["", "a..b", "x[", "x[a]", "x y"] {
            assert!(matches!(
                set(&p(), bad, Value::Float(1.0)),
                Err(KeyError::Malformed { .. })
            ));
        }
        assert!(literal("1 2").is_err());
    }

    #[test]
    fn non_finite_numbers_are_found_by_key() {
        #[derive(serde::Serialize)]
        struct Inner {
            cost: f64,
        }
        #[derive(serde::Serialize)]
        struct P {
            a: f64,
            k: Vec<f64>,
            inner: Inner,
        }
        let ok = P {
            a: 1.0,
            k: vec![1.0, 2.0],
            inner: Inner { cost: 3.0 },
        };
        assert_eq!(super::non_finite(&ok), None);
        let bad = P {
            k: vec![1.0, f64::NAN],
            ..ok
        };
        let (key, x) = super::non_finite(&bad).unwrap();
        assert!(key == "k[1]" && x.is_nan());
        let inf = P {
            a: 1.0,
            k: vec![],
            inner: Inner {
                cost: f64::INFINITY,
            },
        };
        let e = super::finite(&inf).unwrap_err().to_string();
        assert!(e.contains("inner.cost") && e.contains("inf"), "{e}");
    }

    #[test]
    fn value_specs_are_grids_ranges_or_lists() {
        let g = |s: &str| ValueSpec::parse(s).unwrap().grid();
        assert_eq!(g("0:1:3"), Some(vec![0.0, 0.5, 1.0]));
        assert_eq!(g("0.1, 2"), Some(vec![0.1, 2.0]));
        assert_eq!(g("0:1"), None);
        for (bad, says) in [
            ("1:0:3", "below its end"),
            ("0:1:1", "2..=10000"),
            ("0:1:10001", "2..=10000"),
            ("0:1:x", "not a whole number"),
            ("0:1:2:3", "lo:hi or lo:hi:n"),
            ("a,1", "`a` is not a number"),
            ("0:inf:3", "not finite"),
            ("nan", "not finite"),
        ] {
            let e = ValueSpec::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}

/// A parameter's unit and one-line meaning, where a listing or a page shows it. A key with
/// indices (`fees[2]`, `h_b[1][0]`) is documented once, by its name without them.
#[derive(Clone, Copy, Debug)]
pub struct KeyDoc {
    /// The key, as `--set` takes it (without indices).
    pub key: &'static str,
    /// Unit; "-" for a pure number.
    pub unit: &'static str,
    pub meaning: &'static str,
}

/// A [`KeyDoc`] (for tables of them).
pub const fn key_doc(key: &'static str, unit: &'static str, meaning: &'static str) -> KeyDoc {
    KeyDoc { key, unit, meaning }
}

/// The documentation of `key` in `docs`, its indices ignored.
pub fn doc_for<'a>(docs: &'a [KeyDoc], key: &str) -> Option<&'a KeyDoc> {
    let name = key.split('[').next().unwrap_or(key);
    docs.iter().find(|d| d.key == name)
}
