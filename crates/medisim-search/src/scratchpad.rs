//! The meta-scratchpad (`llm.scratchpad_every`): what earlier edits did, summarised for the
//! LLM's prompt, as OpenEvolve's meta-prompting and ShinkaEvolve's meta-recommendations feed
//! a run's experience back to the model. Every child leaves a note — the fields its edit
//! touched and what came of it: its fitness against its parent's and the safety channels it
//! raised, a screen it failed, or the reason its reply was rejected. Every N iterations the
//! summary is brought up to date from the notes of the iterations before (a function of the
//! run's state, so a resumed run shows the same summaries).

use crate::domain::{Domain, Individual};
use medisim_dsl::Policy;
use std::collections::BTreeMap;

/// Fields listed as helping and as hurting, and rejection reasons listed, at most.
const LISTED: usize = 3;
/// A rejection reason is cut to this many characters.
const REASON_CHARS: usize = 70;

enum Outcome {
    /// Evaluated: fitness minus the parent's, and each safety channel's rise over it.
    Evaluated {
        gain: f64,
        raised: Vec<(&'static str, f64)>,
    },
    ScreenedOut,
    Rejected(String),
}

struct Note {
    iteration: u32,
    fields: Vec<String>,
    outcome: Outcome,
}

/// The run's notes; empty and silent when `every` is 0.
pub struct Notes {
    every: u32,
    notes: Vec<Note>,
}

/// Per field: edits evaluated, edits that beat the parent, their summed gain and channel rises,
/// and edits screened out.
#[derive(Default)]
struct Tally {
    evaluated: u32,
    improved: u32,
    gain: f64,
    raised: BTreeMap<&'static str, f64>,
    screened_out: u32,
}

impl Notes {
    pub fn new(every: u32) -> Self {
        Notes {
            every,
            notes: Vec::new(),
        }
    }

    /// A child evaluated at full horizon against its parent.
    pub fn evaluated<D: Domain>(
        &mut self,
        domain: &D,
        k: u32,
        parent: &Individual,
        child: &Individual,
    ) {
        if self.every == 0 {
            return;
        }
        let mean = |i: &Individual, m: &str| i.eval.summary.by_name(m).map_or(f64::NAN, |s| s.mean);
        let raised = domain
            .safety_metrics()
            .iter()
            .map(|m| (*m, mean(child, m) - mean(parent, m)))
            .collect();
        self.push(
            k,
            &parent.policy,
            &child.policy,
            Outcome::Evaluated {
                gain: child.fitness() - parent.fitness(),
                raised,
            },
        );
    }

    /// A child whose screen fell too far below its parent's.
    pub fn screened_out(&mut self, k: u32, parent: &Policy, child: &Policy) {
        if self.every > 0 {
            self.push(k, parent, child, Outcome::ScreenedOut);
        }
    }

    /// A reply that gave no valid program.
    pub fn rejected(&mut self, k: u32, reason: &str) {
        if self.every > 0 {
            let reason: String = reason.chars().take(REASON_CHARS).collect();
            self.notes.push(Note {
                iteration: k,
                fields: Vec::new(),
                outcome: Outcome::Rejected(reason),
            });
        }
    }

    fn push(&mut self, k: u32, parent: &Policy, child: &Policy, outcome: Outcome) {
        self.notes.push(Note {
            iteration: k,
            fields: crate::domain::fields_changed(parent, child),
            outcome,
        });
    }

    /// The summary iteration `k`'s prompt shows: the notes of iterations up to the last
    /// multiple of `every` before `k`, and no later than `known`, the last iteration whose
    /// child has been considered (a block's start state); `None` when off or before the first.
    pub fn text(&self, k: u32, known: u32) -> Option<String> {
        if self.every == 0 {
            return None;
        }
        let cut = ((k.saturating_sub(1) / self.every) * self.every).min(known);
        let notes: Vec<&Note> = self.notes.iter().filter(|n| n.iteration <= cut).collect();
        if cut == 0 || notes.is_empty() {
            return None;
        }
        let mut fields: BTreeMap<&str, Tally> = BTreeMap::new();
        let mut reasons: BTreeMap<&str, u32> = BTreeMap::new();
        let (mut evaluated, mut improved, mut screened) = (0, 0, 0);
        for n in &notes {
            match &n.outcome {
                Outcome::Rejected(r) => *reasons.entry(r.as_str()).or_default() += 1,
                Outcome::ScreenedOut => screened += 1,
                Outcome::Evaluated { gain, .. } => {
                    evaluated += 1;
                    improved += u32::from(*gain > 0.0);
                }
            }
            for f in &n.fields {
                fields.entry(f.as_str()).or_default().add(&n.outcome);
            }
        }
        let rejected: u32 = reasons.values().sum();
        let mut s = format!(
            "Iterations 1-{cut}: {evaluated} children evaluated, {improved} beat their parent, {screened} screened out, {rejected} replies rejected.\n"
        );
        let mut ranked: Vec<(&str, &Tally)> = fields
            .iter()
            .filter(|(_, t)| t.evaluated > 0)
            .map(|(f, t)| (*f, t))
            .collect();
        ranked.sort_by(|a, b| {
            b.1.mean_gain()
                .total_cmp(&a.1.mean_gain())
                .then(a.0.cmp(b.0))
        });
        let line = |(f, t): &(&str, &Tally)| t.line(f);
        let helped: Vec<String> = ranked
            .iter()
            .filter(|(_, t)| t.improved > 0 && t.mean_gain() > 0.0)
            .take(LISTED)
            .map(line)
            .collect();
        let hurt: Vec<String> = ranked
            .iter()
            .rev()
            .filter(|(_, t)| t.mean_gain() < 0.0)
            .take(LISTED)
            .map(line)
            .collect();
        if !helped.is_empty() {
            s.push_str(&format!("Edits that helped: {}.\n", helped.join("; ")));
        }
        if !hurt.is_empty() {
            s.push_str(&format!("Edits that hurt: {}.\n", hurt.join("; ")));
        }
        let mut common: Vec<(&str, u32)> = reasons.into_iter().collect();
        common.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        if !common.is_empty() {
            let listed: Vec<String> = common
                .iter()
                .take(LISTED)
                .map(|(r, n)| format!("{n}x {r}"))
                .collect();
            s.push_str(&format!("Rejected replies: {}.\n", listed.join("; ")));
        }
        Some(s)
    }
}

impl Tally {
    fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Evaluated { gain, raised } => {
                self.evaluated += 1;
                self.improved += u32::from(*gain > 0.0);
                if gain.is_finite() {
                    self.gain += gain;
                }
                for (m, r) in raised {
                    if r.is_finite() {
                        *self.raised.entry(m).or_default() += r;
                    }
                }
            }
            Outcome::ScreenedOut => self.screened_out += 1,
            Outcome::Rejected(_) => {}
        }
    }

    fn mean_gain(&self) -> f64 {
        self.gain / f64::from(self.evaluated.max(1))
    }

    /// `field 3/5 beat parent, mean +0.0123, raised v_upcoding +0.020`: the field's edits
    /// that beat their parent and their mean fitness change.
    fn line(&self, field: &str) -> String {
        let mut s = format!(
            "{field} {}/{} beat parent, mean {:+.4}",
            self.improved,
            self.evaluated,
            self.mean_gain()
        );
        let worst = self
            .raised
            .iter()
            .map(|(m, r)| (*m, r / f64::from(self.evaluated)))
            .filter(|(_, r)| *r > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((m, r)) = worst {
            s.push_str(&format!(", raised {m} {r:+.3}"));
        }
        if self.screened_out > 0 {
            s.push_str(&format!(", {} screened out", self.screened_out));
        }
        s
    }
}
