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
    /// A magnitude (a mean, a ratio, a count per period).
    Level,
    /// One group's value minus another's.
    Difference,
    /// A correlation in [-1, 1].
    Correlation,
    /// Money or a return that may end either side of zero.
    Balance,
}

impl MetricKind {
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

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.name() == name)
    }
}

/// Summaries over replicates, one per metric, stored by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Summaries(BTreeMap<String, Summary>);

impl Summaries {
    pub fn new() -> Self {
        Summaries(BTreeMap::new())
    }

    pub fn insert<M: Metric>(&mut self, m: M, s: Summary) {
        self.0.insert(m.name().to_string(), s);
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
    ($(#[$doc:meta])* $vis:vis enum $ty:ident {
        $($variant:ident => $name:ident : $kind:ident $unit:literal),* $(,)?
    }) => {
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
        }
    };
}
