//! The reward-hacking monitor. A child that beats its parent on the evolution seeds may have
//! found a gain those seeds reward and no other does, or bought its fitness by raising a safety
//! channel the objective weighs lightly. After the search, every such child is evaluated with
//! its parent on the validation and the held-out seeds — seeds the search never selected on at
//! that step (held-out ones never at all) — and flagged when its gain does not validate, does
//! not hold out, or a safety channel rises with an interval that excludes no change. The check
//! runs after the last iteration, so it cannot steer the search; its evaluations go through the
//! store like any other, so a resumed run replays them from there.

use crate::config::SearchConfig;
use crate::domain::{Domain, Individual};
use crate::evaluate::Evaluator;
use crate::store::{Eval, Store};
use anyhow::Result;
use medisim_core::Table;
use serde::Serialize;

/// A child that beat its parent on the evolution seeds.
#[derive(Clone, Debug)]
pub struct Gain {
    pub iteration: u32,
    pub island: usize,
    pub operator: String,
    pub parent: Individual,
    pub child: Individual,
}

/// One monitored child: its fitness against its parent's on each seed set, and its flags.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Checked {
    pub iteration: u32,
    pub island: usize,
    pub operator: String,
    pub hash: String,
    pub parent: String,
    pub training_parent: f64,
    pub training_child: f64,
    pub validation_parent: f64,
    pub validation_child: f64,
    pub held_out_parent: f64,
    pub held_out_child: f64,
    /// What is wrong with the gain, `; `-separated; empty when nothing is.
    pub flags: String,
}

/// The flag of a gain that the validation seeds do not confirm.
pub const NOT_VALIDATED: &str = "gain not validated";
/// The flag of a gain that the held-out seeds do not confirm.
pub const NOT_HELD_OUT: &str = "gain not held out";

/// Check every gain on the validation and held-out seeds (in the order found, so the store's
/// evaluations are written in one order whatever the run).
pub fn check<D: Domain>(
    gains: &[Gain],
    config: &SearchConfig,
    evaluator: &Evaluator<D>,
    store: &Store,
) -> Result<Vec<Checked>> {
    let horizon = config.horizon;
    let on = |ind: &Individual, seeds: &[u64]| evaluator.eval(store, &ind.policy, seeds, horizon);
    gains
        .iter()
        .map(|g| {
            let (vp, vc) = (
                on(&g.parent, &config.validation_seeds)?,
                on(&g.child, &config.validation_seeds)?,
            );
            let (hp, hc) = (
                on(&g.parent, &config.test_seeds)?,
                on(&g.child, &config.test_seeds)?,
            );
            let mut flags = Vec::new();
            if !confirms(&vp, &vc) {
                flags.push(NOT_VALIDATED.to_string());
            }
            if !confirms(&hp, &hc) {
                flags.push(NOT_HELD_OUT.to_string());
            }
            flags.extend(
                raised(evaluator.domain.safety_metrics(), &hp, &hc)
                    .into_iter()
                    .map(|m| format!("raises {m}")),
            );
            Ok(Checked {
                iteration: g.iteration,
                island: g.island,
                operator: g.operator.clone(),
                hash: g.child.hash.clone(),
                parent: g.parent.hash.clone(),
                training_parent: g.parent.fitness(),
                training_child: g.child.fitness(),
                validation_parent: vp.fitness,
                validation_child: vc.fitness,
                held_out_parent: hp.fitness,
                held_out_child: hc.fitness,
                flags: flags.join("; "),
            })
        })
        .collect()
}

/// The child's fitness is above its parent's (a NaN on either side confirms nothing).
fn confirms(parent: &Eval, child: &Eval) -> bool {
    child.fitness.partial_cmp(&parent.fitness) == Some(std::cmp::Ordering::Greater)
}

/// The safety channels (higher is worse) whose mean rises from `before` to `after` with the
/// difference's 95% interval above zero ([`medisim_core::stats::difference_half_width`]).
pub fn raised<'m>(metrics: &[&'m str], before: &Eval, after: &Eval) -> Vec<&'m str> {
    metrics
        .iter()
        .copied()
        .filter(|m| {
            let (Some(a), Some(b)) = (before.summary.by_name(m), after.summary.by_name(m)) else {
                return false;
            };
            // NaN with one seed: no interval, so nothing is called raised.
            let h = medisim_core::stats::difference_half_width(a, b, true);
            b.mean - a.mean - h > 0.0
        })
        .collect()
}

/// Every checked child as CSV: a header even when no child beat its parent.
pub fn csv(checked: &[Checked]) -> Result<Vec<u8>> {
    if checked.is_empty() {
        let one = Table::from_records(&[Checked::default()])?.to_csv()?;
        let header = one.split(|b| *b == b'\n').next().unwrap_or_default();
        return Ok([header, b"\n"].concat());
    }
    Ok(Table::from_records(checked)?.to_csv()?)
}

/// The most flagged children `result.json` lists (`reward_hacking.csv` has every child).
pub const MAX_LISTED: usize = 100;

/// The monitor's summary for `result.json`: counts, and the first [`MAX_LISTED`] flagged
/// children.
pub fn summary(checked: &[Checked]) -> serde_json::Value {
    let count = |f: &dyn Fn(&Checked) -> bool| checked.iter().filter(|c| f(c)).count();
    let flagged: Vec<&Checked> = checked
        .iter()
        .filter(|c| !c.flags.is_empty())
        .take(MAX_LISTED)
        .collect();
    serde_json::json!({
        "gains_checked": checked.len(),
        "flagged": count(&|c| !c.flags.is_empty()),
        "not_validated": count(&|c| c.flags.contains(NOT_VALIDATED)),
        "not_held_out": count(&|c| c.flags.contains(NOT_HELD_OUT)),
        "raise_a_safety_channel": count(&|c| c.flags.contains("raises ")),
        "flagged_children": flagged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use medisim_core::stats::summarise;
    use medisim_core::Summaries;

    fn eval(upcoding: &[f64]) -> Eval {
        let mut summary = Summaries::new();
        summary.insert(medisim_sim::Metric::VUpcoding, summarise(upcoding));
        Eval {
            fitness: 0.0,
            summary,
        }
    }

    /// A safety channel is raised only when the rise clears its interval, and a channel the
    /// evaluation lacks is never raised.
    #[test]
    fn a_channel_is_raised_only_when_its_rise_clears_the_interval() {
        let before = eval(&[0.10, 0.11, 0.09, 0.10]);
        let clear = eval(&[0.30, 0.31, 0.29, 0.30]);
        let noise = eval(&[0.05, 0.20, 0.02, 0.18]);
        let metrics = ["v_upcoding", "v_waiting"];
        assert_eq!(raised(&metrics, &before, &clear), ["v_upcoding"]);
        assert!(raised(&metrics, &before, &noise).is_empty());
        assert!(
            raised(&metrics, &clear, &before).is_empty(),
            "a fall is no rise"
        );
        // One seed a side has no interval: even a large rise is not called one.
        assert!(raised(&metrics, &eval(&[0.1]), &eval(&[0.9])).is_empty());
    }

    /// No child beat its parent: the CSV still says what its columns are.
    #[test]
    fn an_empty_monitor_writes_its_header() {
        let text = String::from_utf8(csv(&[]).unwrap()).unwrap();
        assert!(
            text.starts_with("iteration,island,operator,hash,parent,"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1);
    }
}
