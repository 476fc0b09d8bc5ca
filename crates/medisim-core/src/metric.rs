//! Typed metrics. Each model names its diagnostics as an enum implementing [`Metric`]; results
//! are read by metric (`summaries.mean(M::UpcodingRate)`), so a misspelt name is a compile
//! error, not a NaN at run time. Stored files keep the names, so they stay readable.

use crate::stats::Summary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of quantity a metric is. It fixes how a figure colours it: a difference, a
/// correlation or a balance has a sign that is the finding (a diverging scale around zero); a
/// share or a level is read from small to large (a sequential scale).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// A fraction in [0, 1].
    Share,
    /// A magnitude (a mean, a ratio, a count per period) of either sign.
    Level,
    /// A magnitude that cannot be negative: money paid, a count, a ratio of such.
    Amount,
    /// One group's value minus another's.
    Difference,
    /// A correlation in [-1, 1].
    Correlation,
    /// Money or a return that may end either side of zero.
    Balance,
}

impl MetricKind {
    /// The values a metric of this kind can take, and so its mean: an interval of the mean
    /// is truncated to them ([`Summaries::insert`]).
    pub fn support(self) -> (f64, f64) {
        match self {
            MetricKind::Share => (0.0, 1.0),
            MetricKind::Correlation => (-1.0, 1.0),
            MetricKind::Amount => (0.0, f64::INFINITY),
            MetricKind::Level | MetricKind::Difference | MetricKind::Balance => {
                (f64::NEG_INFINITY, f64::INFINITY)
            }
        }
    }

    /// Whether zero is the meaningful middle of the scale.
    pub fn diverging(self) -> bool {
        matches!(
            self,
            MetricKind::Difference | MetricKind::Correlation | MetricKind::Balance
        )
    }
}

/// A model's diagnostic.
pub trait Metric: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// Every metric, in output order.
    const ALL: &'static [Self];
    /// Its name in tables, CSV and JSON.
    fn name(self) -> &'static str;
    /// Its unit as a figure's axis names it (`periods`, `share of arrivals`, `price units`).
    fn unit(self) -> &'static str;
    /// What kind of quantity it is.
    fn kind(self) -> MetricKind;
    /// The group a results page shows it under (a Medi-Sim channel, the panel's payer, health
    /// outcomes and provider); empty when the model groups nothing.
    fn group(self) -> &'static str {
        ""
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.name() == name)
    }
}

/// Summaries over replicates, one per metric, stored by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Summaries(BTreeMap<String, Summary>);

impl Summaries {
    /// The summaries as a report writes them: a spread that is undefined
    /// ([`Summary::spread_defined`]: one replicate of a stochastic model) becomes NaN, which
    /// JSON writes as `null` — empty, not a zero-width interval.
    pub fn reported(&self, stochastic: bool) -> Summaries {
        let mut out = self.clone();
        for s in out.0.values_mut().filter(|s| !s.spread_defined(stochastic)) {
            s.std = f64::NAN;
            s.ci95 = [f64::NAN; 2];
        }
        out
    }

    pub fn new() -> Self {
        Summaries(BTreeMap::new())
    }

    /// Store `m`'s summary, its 95% interval truncated to the values `m` can take (a share's
    /// to [0, 1], an amount's to [0, ∞)): the Student t interval of a mean near a bound
    /// reached past it (a complication count of 0.03 with an interval down to −0.02).
    /// Truncating to the parameter space keeps the interval's coverage — the true mean lies
    /// in it, so every interval that covered the mean still does — and makes it shorter.
    pub fn insert<M: Metric>(&mut self, m: M, s: Summary) {
        let (name, s) = Self::entry(m, s);
        self.0.insert(name, s);
    }

    /// Every metric's summary at once, truncated as [`Summaries::insert`] truncates: the map is
    /// built from the sorted entries in one pass instead of one descent per metric.
    pub fn from_metrics<M: Metric>(summaries: impl IntoIterator<Item = (M, Summary)>) -> Self {
        Summaries(
            summaries
                .into_iter()
                .map(|(m, s)| Self::entry(m, s))
                .collect(),
        )
    }

    fn entry<M: Metric>(m: M, s: Summary) -> (String, Summary) {
        let (lo, hi) = m.kind().support();
        (m.name().to_string(), s.truncated(lo, hi))
    }

    pub fn get<M: Metric>(&self, m: M) -> Option<&Summary> {
        self.0.get(m.name())
    }

    /// The mean of a metric; NaN when it was not recorded (a file from another model).
    pub fn mean<M: Metric>(&self, m: M) -> f64 {
        self.get(m).map_or(f64::NAN, |s| s.mean)
    }

    /// By name, for metrics a user typed.
    pub fn by_name(&self, name: &str) -> Option<&Summary> {
        self.0.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Summary)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Refuse summaries whose mean is NaN or infinite, naming the metric: a result computed
    /// from values outside a model's domain must not pass for one. (A spread may be undefined,
    /// as for one replicate; a mean never.) The caller adds which input to blame.
    pub fn check_finite(&self) -> Result<(), String> {
        match self.0.iter().find(|(_, s)| !s.mean.is_finite()) {
            None => Ok(()),
            Some((name, s)) => Err(format!(
                "the result's {name} is {}: the parameters are outside what the model can \
                 compute",
                s.mean
            )),
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Declare a model's metric enum and its [`Metric`] implementation from one list, so a metric's
/// name, kind and unit are written once:
///
/// ```
/// medisim_core::metric_enum! {
///     /// A toy model's diagnostics.
///     pub enum Toy {
///         Cost => cost: Level "dollars",
///         Share => share_treated: Share "share of patients",
///     }
/// }
/// use medisim_core::Metric;
/// assert_eq!(Toy::from_name("share_treated"), Some(Toy::Share));
/// assert_eq!(Toy::Cost.unit(), "dollars");
/// ```
#[macro_export]
macro_rules! metric_enum {
    // Grouped: `"group": [ Variant => name: Kind "unit", … ]` blocks (a group may recur).
    ($(#[$doc:meta])* $vis:vis enum $ty:ident {
        $( $group:literal : [ $($variant:ident => $name:ident : $kind:ident $unit:literal),* $(,)? ] )*
    }) => {
        $crate::metric_enum! {
            @enum $(#[$doc])* $vis enum $ty {
                $($($variant => $name : $kind $unit,)*)*
            }
            fn group(self) -> &'static str {
                match self {
                    $($($ty::$variant => $group,)*)*
                }
            }
        }
    };
    ($(#[$doc:meta])* $vis:vis enum $ty:ident {
        $($variant:ident => $name:ident : $kind:ident $unit:literal),* $(,)?
    }) => {
        $crate::metric_enum! {
            @enum $(#[$doc])* $vis enum $ty {
                $($variant => $name : $kind $unit,)*
            }
        }
    };
    (@enum $(#[$doc:meta])* $vis:vis enum $ty:ident {
        $($variant:ident => $name:ident : $kind:ident $unit:literal,)*
    } $($group_fn:item)?) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $ty {
            $($variant,)*
        }

        impl $crate::Metric for $ty {
            const ALL: &'static [$ty] = &[$($ty::$variant),*];
            fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => stringify!($name),)*
                }
            }
            fn unit(self) -> &'static str {
                match self {
                    $($ty::$variant => $unit,)*
                }
            }
            fn kind(self) -> $crate::MetricKind {
                match self {
                    $($ty::$variant => $crate::MetricKind::$kind,)*
                }
            }
            $($group_fn)?
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::stats::summarise;

    crate::metric_enum! {
        enum Toy {
            Rate => rate: Share "share",
            Count => count: Amount "events",
            Gap => gap: Difference "share points",
        }
    }

    /// A rare event over few replicates: the t interval of its mean reaches below zero, which
    /// no share or count can; the stored interval stops at the bound and keeps its other end.
    #[test]
    fn an_interval_stops_at_the_values_its_metric_can_take() {
        let xs = [0.0, 0.0, 0.0, 0.1];
        let raw = summarise(&xs);
        assert!(
            raw.ci95[0] < 0.0,
            "the raw t interval crosses zero: {raw:?}"
        );
        let mut s = super::Summaries::new();
        for m in [Toy::Rate, Toy::Count, Toy::Gap] {
            s.insert(m, raw.clone());
        }
        assert_eq!(s.get(Toy::Rate).unwrap().ci95, [0.0, raw.ci95[1]]);
        assert_eq!(s.get(Toy::Count).unwrap().ci95, [0.0, raw.ci95[1]]);
        // The t half-width stays what a difference of two means combines in quadrature.
        let half = 0.5 * (raw.ci95[1] - raw.ci95[0]);
        assert!((s.get(Toy::Rate).unwrap().half_width() - half).abs() < 1e-15);
        // A difference may be negative: its interval is the t interval.
        assert_eq!(s.get(Toy::Gap).unwrap().ci95, raw.ci95);
        let high = summarise(&[1.0, 1.0, 0.9]);
        s.insert(Toy::Rate, high.clone());
        assert_eq!(s.get(Toy::Rate).unwrap().ci95, [high.ci95[0], 1.0]);
        assert_eq!(s.get(Toy::Rate).unwrap().mean, high.mean);
    }
}
