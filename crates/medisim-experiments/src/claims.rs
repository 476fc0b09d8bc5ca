//! The paper's claims about L1 and L2 against this run, claim by claim. The claims are data
//! (`targets/paper-claims.toml`): each names a metric, the cells of the L1 grid or the L2 sweeps
//! that test it and the paper's number or direction; [`verdicts`] gives each a verdict from the
//! run's own cells, so a changed model or setting gets its own table. docs/experiments.md defines
//! the verdicts ("The paper against this run, claim by claim").

use crate::cells::Cell;
use crate::l2::{Lever, REGIMES};
use anyhow::{bail, Result};
use medisim_core::{Metric as _, MetricKind, Summary};
use medisim_sim::Metric;
use serde::{Deserialize, Serialize};

/// The built-in corpus.
pub const PAPER_CLAIMS: &str = include_str!("../../../targets/paper-claims.toml");

/// The most claims a corpus may hold.
pub const MAX_CLAIMS: usize = 1_000;

/// How a verdict is judged: the tie, the magnitude band and the place tolerance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    /// A value counts as "about zero" (and a change as "level") within this many units of a
    /// share, a difference or a correlation, and for other metrics within this fraction of the
    /// paper's value.
    pub tie: f64,
    /// The magnitude band: ours within this fraction of the paper's value (plus the tie) either
    /// way.
    pub band: f64,
    /// An extremum of the L1 grid is where the paper puts it when it is at most this far in α
    /// and in β.
    pub place: f64,
}

impl Rule {
    /// The rule the report uses. The tie, 0.01, is about the widest 95% half-width of a
    /// 30-seed share in these experiments; half the paper's value either way is the band in
    /// which two numbers are called the same magnitude (a factor-of-two band would call 0.454
    /// and 0.226, profit up-coding, the same); two grid steps for a place, because neighbouring
    /// cells differ by less than their intervals, so the cell holding a 30-seed maximum is known
    /// only to a cell or two. `tests/claims.rs` reports the tally over a box around it.
    pub const REPORT: Rule = Rule {
        tie: 0.01,
        band: 0.5,
        place: 0.2,
    };

    /// The rule in a sentence.
    pub fn text(&self) -> String {
        format!(
            "A claim reproduces when its direction holds with its 95% interval and this run's \
             value is within {:.0}% of the paper's either way (plus {} of a share, a difference \
             or a correlation, {:.0}% of the value otherwise); an extremum must lie within {} of \
             the paper's cell in α and β (docs/experiments.md).",
            self.band * 100.0,
            self.tie,
            self.tie * 100.0,
            self.place
        )
    }

    /// How far from the paper's value still counts as the same: the tie in the metric's own
    /// units for shares, differences and correlations, else that fraction of `scale`.
    fn tie(&self, metric: Metric, scale: f64) -> f64 {
        match metric.kind() {
            MetricKind::Share | MetricKind::Difference | MetricKind::Correlation => self.tie,
            _ => self.tie * scale.abs(),
        }
    }

    /// Ours is within the band of the paper's value (plus the tie).
    fn in_band(&self, metric: Metric, ours: f64, paper: f64) -> bool {
        (ours - paper).abs() <= self.band * paper.abs() + self.tie(metric, paper)
    }

    /// The sign the paper gives a value, if it is not about zero.
    fn sign(&self, metric: Metric, paper: f64) -> Option<bool> {
        (paper.abs() > self.tie(metric, paper)).then_some(paper > 0.0)
    }
}

/// One record of the corpus as written.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Record {
    id: String,
    source: String,
    says: String,
    kind: String,
    metric: String,
    at: Option<String>,
    from: Option<String>,
    to: Option<String>,
    than: Option<String>,
    over: Option<String>,
    paper: Option<f64>,
    paper_from: Option<f64>,
    paper_to: Option<f64>,
    paper_than: Option<f64>,
    paper_at: Option<String>,
    expect: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    claim: Vec<Record>,
}

/// Which values of one L1 axis a selector takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Span {
    All,
    Range(f64, f64),
}

impl Span {
    fn holds(self, x: f64) -> bool {
        match self {
            Span::All => true,
            Span::Range(lo, hi) => x >= lo - 1e-9 && x <= hi + 1e-9,
        }
    }

    fn single(self) -> bool {
        matches!(self, Span::Range(lo, hi) if lo == hi)
    }
}

/// The cells a claim reads: one cell, or a region whose cells' mean it reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Cells {
    L1 {
        alpha: Span,
        beta: Span,
    },
    L2 {
        lever: Lever,
        regime: String,
        value: Option<f64>,
    },
}

/// What the paper says a number or a direction is.
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// The metric at `at` is `paper`, or has the sign `positive`.
    Level {
        at: Cells,
        paper: Option<f64>,
        positive: bool,
    },
    /// From `from` to `to` it goes `paper` (from, to), or rises (`rises`).
    Change {
        from: Cells,
        to: Cells,
        paper: Option<(f64, f64)>,
        rises: bool,
    },
    /// At `at` it is above its value at `than`; `paper` the two values if printed.
    Above {
        at: Cells,
        than: Cells,
        paper: Option<(f64, f64)>,
    },
    /// Its largest (`max`) or least value over a region is `paper`, at `place`.
    Extreme {
        max: bool,
        over: Cells,
        paper: Option<f64>,
        place: Option<Place>,
    },
    /// It rises with α at every β of the region.
    Monotone { over: Cells },
}

/// Where the paper puts an extremum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Place {
    /// An L1 cell (α, β).
    At(f64, f64),
    /// Not at either end of an L2 sweep.
    Interior,
}

/// One claim of the paper.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub id: String,
    pub source: String,
    pub says: String,
    pub metric: Metric,
    pub test: Test,
}

/// Read a corpus: every claim checked, an error naming the claim and what is wrong with it.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Claim>> {
    let corpus: Corpus = medisim_core::input::from_toml(text)
        .map_err(|at| anyhow::anyhow!("claims file {origin}: {at}"))?;
    if corpus.claim.len() > MAX_CLAIMS {
        bail!(
            "claims file {origin}: {} claims; at most {MAX_CLAIMS}",
            corpus.claim.len()
        );
    }
    let mut claims: Vec<Claim> = Vec::with_capacity(corpus.claim.len());
    for (i, r) in corpus.claim.into_iter().enumerate() {
        let name = format!("claims file {origin}: claim {} (`{}`)", i + 1, r.id);
        if claims.iter().any(|c| c.id == r.id) {
            bail!("{name}: the id is used by an earlier claim");
        }
        claims.push(claim(r).map_err(|e| anyhow::anyhow!("{name}: {e}"))?);
    }
    Ok(claims)
}

/// The built-in corpus, read once.
pub fn paper() -> Vec<Claim> {
    parse(PAPER_CLAIMS, "targets/paper-claims.toml").expect("the built-in claims read")
}

fn claim(r: Record) -> Result<Claim> {
    let metric = Metric::from_name(&r.metric)
        .ok_or_else(|| anyhow::anyhow!("names no metric `{}` (see docs/metrics.md)", r.metric))?;
    for (key, v) in [
        ("paper", r.paper),
        ("paper_from", r.paper_from),
        ("paper_to", r.paper_to),
        ("paper_than", r.paper_than),
    ] {
        if v.is_some_and(|v| !(-1e12..=1e12).contains(&v)) {
            bail!("`{key}` is outside [-1e12, 1e12]");
        }
    }
    let test = test(&r)?;
    Ok(Claim {
        id: r.id,
        source: r.source,
        says: r.says,
        metric,
        test,
    })
}

/// The keys each kind takes besides id, source, says, kind and metric.
const KEYS: &[(&str, &[&str])] = &[
    ("level", &["at", "paper", "expect"]),
    (
        "change",
        &["from", "to", "paper_from", "paper_to", "expect"],
    ),
    ("above", &["at", "than", "paper", "paper_than"]),
    ("max", &["over", "paper", "paper_at"]),
    ("min", &["over", "paper", "paper_at"]),
    ("monotone", &["over", "expect"]),
];

fn test(r: &Record) -> Result<Test> {
    let Some((_, allowed)) = KEYS.iter().find(|(k, _)| *k == r.kind) else {
        bail!(
            "kind `{}` is none of {}",
            r.kind,
            KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
        );
    };
    let given = [
        ("at", r.at.is_some()),
        ("from", r.from.is_some()),
        ("to", r.to.is_some()),
        ("than", r.than.is_some()),
        ("over", r.over.is_some()),
        ("paper", r.paper.is_some()),
        ("paper_from", r.paper_from.is_some()),
        ("paper_to", r.paper_to.is_some()),
        ("paper_than", r.paper_than.is_some()),
        ("paper_at", r.paper_at.is_some()),
        ("expect", r.expect.is_some()),
    ];
    if let Some((key, _)) = given.iter().find(|(k, g)| *g && !allowed.contains(k)) {
        bail!("kind `{}` takes no `{key}`", r.kind);
    }
    let cells = |key: &str, v: &Option<String>| -> Result<Cells> {
        let v = v
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("kind `{}` needs `{key}`", r.kind))?;
        selector(v).map_err(|e| anyhow::anyhow!("`{key}` {e}"))
    };
    let single = |key: &str, c: Cells| -> Result<Cells> {
        if is_region(&c) {
            bail!("`{key}` names a region; this kind compares single cells");
        }
        Ok(c)
    };
    Ok(match r.kind.as_str() {
        "level" => Test::Level {
            at: cells("at", &r.at)?,
            paper: r.paper,
            positive: either_number_or(r.paper.is_some(), &r.expect, "positive", "negative")?,
        },
        "change" => {
            let paper = pair(r.paper_from, r.paper_to, "paper_from", "paper_to")?;
            Test::Change {
                from: cells("from", &r.from)?,
                to: cells("to", &r.to)?,
                paper,
                rises: either_number_or(paper.is_some(), &r.expect, "rises", "falls")?,
            }
        }
        "above" => Test::Above {
            at: single("at", cells("at", &r.at)?)?,
            than: single("than", cells("than", &r.than)?)?,
            paper: pair(r.paper, r.paper_than, "paper", "paper_than")?,
        },
        "max" | "min" => {
            let over = cells("over", &r.over)?;
            let place = r.paper_at.as_deref().map(place).transpose()?;
            match (place, &over) {
                (Some(Place::Interior), Cells::L1 { .. }) => {
                    bail!("`paper_at = \"interior\"` is for an L2 sweep")
                }
                (Some(Place::At(..)), Cells::L2 { .. }) => {
                    bail!("`paper_at` names an L1 cell but `over` is an L2 sweep")
                }
                _ => {}
            }
            if r.paper.is_none() && place.is_none() {
                bail!("kind `{}` needs `paper`, `paper_at` or both", r.kind);
            }
            Test::Extreme {
                max: r.kind == "max",
                over,
                paper: r.paper,
                place,
            }
        }
        _ => {
            let over = cells("over", &r.over)?;
            if !matches!(over, Cells::L1 { .. }) || r.expect.as_deref() != Some("rises") {
                bail!("kind `monotone` reads an L1 region and `expect = \"rises\"`");
            }
            Test::Monotone { over }
        }
    })
}

/// A claim with a number may not also say a direction; one without must: `yes` or `no`.
fn either_number_or(number: bool, expect: &Option<String>, yes: &str, no: &str) -> Result<bool> {
    match (number, expect.as_deref()) {
        (true, None) => Ok(false),
        (true, Some(_)) => bail!("give the paper's number or `expect`, not both"),
        (false, Some(e)) if e == yes => Ok(true),
        (false, Some(e)) if e == no => Ok(false),
        (false, Some(e)) => bail!("`expect` is `{yes}` or `{no}`, not `{e}`"),
        (false, None) => bail!("needs the paper's number or `expect = \"{yes}\"` / `\"{no}\"`"),
    }
}

fn pair(a: Option<f64>, b: Option<f64>, ka: &str, kb: &str) -> Result<Option<(f64, f64)>> {
    match (a, b) {
        (Some(a), Some(b)) => Ok(Some((a, b))),
        (None, None) => Ok(None),
        _ => bail!("`{ka}` and `{kb}` go together"),
    }
}

fn place(s: &str) -> Result<Place> {
    if s == "interior" {
        return Ok(Place::Interior);
    }
    let xs: Vec<&str> = s.split_whitespace().collect();
    match xs.as_slice() {
        [a, b] => Ok(Place::At(number(a)?, number(b)?)),
        _ => bail!("`paper_at` is \"A B\" (an L1 cell) or \"interior\", not `{s}`"),
    }
}

fn number(s: &str) -> Result<f64> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1e6).contains(&x) => Ok(x),
        _ => bail!("`{s}` is not a number in [0, 1e6]"),
    }
}

fn span(s: &str) -> Result<Span> {
    if s == "*" {
        return Ok(Span::All);
    }
    let (lo, hi) = match s.split_once("..") {
        Some((lo, hi)) => (number(lo)?, number(hi)?),
        None => (number(s)?, number(s)?),
    };
    if lo > hi {
        bail!("range `{s}` runs backwards");
    }
    Ok(Span::Range(lo, hi))
}

/// `l1 A B` or `l2 LEVER REGIME VALUE` (docs at the top of the corpus).
fn selector(s: &str) -> Result<Cells> {
    let words: Vec<&str> = s.split_whitespace().collect();
    match words.as_slice() {
        ["l1", a, b] => Ok(Cells::L1 {
            alpha: span(a)?,
            beta: span(b)?,
        }),
        ["l2", lever, regime, value] => {
            let lever = Lever::ALL
                .into_iter()
                .find(|l| l.name() == *lever)
                .ok_or_else(|| anyhow::anyhow!("`{s}`: no L2 lever `{lever}`"))?;
            if !REGIMES.iter().any(|(r, ..)| r == regime) {
                bail!(
                    "`{s}`: no regime `{regime}` (one of {})",
                    REGIMES.iter().map(|r| r.0).collect::<Vec<_>>().join(", ")
                );
            }
            let value = match *value {
                "*" => None,
                v => Some(number(v)?),
            };
            Ok(Cells::L2 {
                lever,
                regime: regime.to_string(),
                value,
            })
        }
        _ => bail!("`{s}` is neither `l1 A B` nor `l2 LEVER REGIME VALUE`"),
    }
}

fn is_region(c: &Cells) -> bool {
    match c {
        Cells::L1 { alpha, beta } => !(alpha.single() && beta.single()),
        Cells::L2 { value, .. } => value.is_none(),
    }
}

/// What a claim's cells say: a mean and the half-width of its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Estimate {
    value: f64,
    half: f64,
}

impl Estimate {
    fn of(s: &Summary) -> Estimate {
        Estimate {
            value: s.mean,
            // One seed has no interval: NaN fails every directional test.
            half: if s.spread_defined(true) {
                s.half_width()
            } else {
                f64::NAN
            },
        }
    }

    /// `b − a`, the half-widths in quadrature: conservative, as the cells share seeds.
    fn minus(b: Estimate, a: Estimate) -> Estimate {
        Estimate {
            value: b.value - a.value,
            half: a.half.hypot(b.half),
        }
    }

    /// The interval lies above 0 (`positive`) or below it.
    fn clears_zero(self, positive: bool) -> bool {
        if positive {
            self.value - self.half > 0.0
        } else {
            self.value + self.half < 0.0
        }
    }
}

/// The L1 and L2 cells of one run, with their coordinates.
pub struct Run<'a> {
    pub l1: &'a [Cell],
    pub l2: &'a [Cell],
}

/// A selected cell: its summary and where it is (α, β for L1; the lever's value for L2).
struct Found<'a> {
    summary: Option<&'a Summary>,
    at: (f64, f64),
}

impl<'a> Found<'a> {
    fn of(c: &'a Cell, metric: Metric, at: (f64, f64)) -> Found<'a> {
        Found {
            summary: c.summary.get(metric),
            at,
        }
    }
}

fn label(c: &Cell, k: &str) -> f64 {
    c.label(k).parse().unwrap_or(f64::NAN)
}

impl Run<'_> {
    fn select(&self, cells: &Cells, metric: Metric) -> Vec<Found<'_>> {
        let mut found: Vec<Found<'_>> = match cells {
            Cells::L1 { alpha, beta } => self
                .l1
                .iter()
                .map(|c| (c, (label(c, "alpha"), label(c, "beta"))))
                .filter(|(_, (a, b))| alpha.holds(*a) && beta.holds(*b))
                .map(|(c, at)| Found::of(c, metric, at))
                .collect(),
            Cells::L2 {
                lever,
                regime,
                value,
            } => self
                .l2
                .iter()
                .filter(|c| c.label("lever") == lever.name() && c.label("regime") == regime)
                .map(|c| (c, label(c, "value")))
                .filter(|(_, v)| value.is_none_or(|x| (v - x).abs() < 1e-9))
                .map(|(c, v)| Found::of(c, metric, (v, 0.0)))
                .collect(),
        };
        found.sort_by(|x, y| x.at.partial_cmp(&y.at).unwrap_or(std::cmp::Ordering::Equal));
        found
    }

    /// The mean over a selection, with the mean of its half-widths: the half-width of a mean
    /// of perfectly correlated cells, an upper bound (they share seeds). `None`: not run.
    fn estimate(&self, cells: &Cells, metric: Metric) -> Option<Estimate> {
        let found = self.select(cells, metric);
        let estimates: Vec<Estimate> = found
            .iter()
            .map(|f| f.summary.map(Estimate::of))
            .collect::<Option<_>>()?;
        if estimates.is_empty() {
            return None;
        }
        let n = estimates.len() as f64;
        Some(Estimate {
            value: estimates.iter().map(|e| e.value).sum::<f64>() / n,
            half: estimates.iter().map(|e| e.half).sum::<f64>() / n,
        })
    }
}

/// A claim's outcome on this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The direction holds with its interval, and the magnitude is in the band (or the claim
    /// states a direction only).
    Reproduces,
    /// The direction holds; the magnitude is outside the band.
    DirectionOnly,
    /// The direction does not hold.
    Differs,
    /// The run has not got the cells (a smaller grid, levers left out).
    NotRun,
}

impl Outcome {
    pub fn text(self) -> &'static str {
        match self {
            Outcome::Reproduces => "reproduces",
            Outcome::DirectionOnly => "direction only",
            Outcome::Differs => "differs",
            Outcome::NotRun => "not run",
        }
    }
}

/// A claim with what this run says of it.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub id: String,
    pub source: String,
    pub says: String,
    pub metric: &'static str,
    pub paper: String,
    pub ours: String,
    /// The direction holds (`None`: not run).
    pub direction: Option<bool>,
    /// The magnitude is in the band (`None`: the claim states no number, or not run).
    pub magnitude: Option<bool>,
    pub outcome: Outcome,
}

/// Every claim's verdict on this run under `rule` ([`Rule::REPORT`] in the report).
pub fn verdicts(claims: &[Claim], run: &Run, rule: &Rule) -> Vec<Verdict> {
    claims.iter().map(|c| verdict(c, run, rule)).collect()
}

fn verdict(c: &Claim, run: &Run, rule: &Rule) -> Verdict {
    let judged = match &c.test {
        Test::Level {
            at,
            paper,
            positive,
        } => level(run, rule, c.metric, at, *paper, *positive),
        Test::Change {
            from,
            to,
            paper,
            rises,
        } => change(run, rule, c.metric, from, to, *paper, *rises),
        Test::Above { at, than, paper } => above(run, rule, c.metric, at, than, *paper),
        Test::Extreme {
            max,
            over,
            paper,
            place,
        } => extreme(run, rule, c.metric, *max, over, *paper, *place),
        Test::Monotone { over } => monotone(run, c.metric, over),
    };
    let (paper, ours, direction, magnitude) = match judged {
        Some(j) => (j.paper, j.ours, Some(j.direction && j.defined), j.magnitude),
        None => (paper_text(&c.test), "not run".to_string(), None, None),
    };
    let outcome = match (direction, magnitude) {
        (None, _) => Outcome::NotRun,
        (Some(false), _) => Outcome::Differs,
        (Some(true), Some(false)) => Outcome::DirectionOnly,
        (Some(true), _) => Outcome::Reproduces,
    };
    Verdict {
        id: c.id.clone(),
        source: c.source.clone(),
        says: c.says.clone(),
        metric: c.metric.name(),
        paper,
        ours,
        direction,
        magnitude,
        outcome,
    }
}

struct Judged {
    paper: String,
    ours: String,
    direction: bool,
    magnitude: Option<bool>,
    /// Every interval the direction read is defined (a cell of one seed has none): without
    /// them no direction is shown, whatever the means say.
    defined: bool,
}

fn num(x: f64) -> String {
    let a = x.abs();
    let d = if a >= 100.0 {
        1
    } else if a >= 10.0 {
        2
    } else {
        3
    };
    // + 0.0 turns a −0 into 0.
    format!("{:.d$}", x + 0.0)
}

fn with_interval(e: Estimate) -> String {
    if e.half.is_finite() {
        format!(
            "{} [{}, {}]",
            num(e.value),
            num(e.value - e.half),
            num(e.value + e.half)
        )
    } else {
        format!("{} (no interval)", num(e.value))
    }
}

fn paper_text(t: &Test) -> String {
    match t {
        Test::Level { paper: Some(p), .. } | Test::Extreme { paper: Some(p), .. } => num(*p),
        Test::Level { positive, .. } => (if *positive { "> 0" } else { "< 0" }).into(),
        Test::Change {
            paper: Some((a, b)),
            ..
        }
        | Test::Above {
            paper: Some((a, b)),
            ..
        } => format!("{} → {}", num(*a), num(*b)),
        Test::Change { rises, .. } => (if *rises { "rises" } else { "falls" }).into(),
        Test::Above { .. } => "above".into(),
        Test::Extreme { place, .. } => match place {
            Some(Place::At(a, b)) => format!("at ({a}, {b})"),
            _ => "interior".into(),
        },
        Test::Monotone { .. } => "rises with α at every β".into(),
    }
}

fn level(
    run: &Run,
    rule: &Rule,
    m: Metric,
    at: &Cells,
    paper: Option<f64>,
    positive: bool,
) -> Option<Judged> {
    let e = run.estimate(at, m)?;
    let (direction, magnitude) = match paper {
        Some(p) => (
            rule.sign(m, p).is_none_or(|s| e.clears_zero(s)),
            Some(rule.in_band(m, e.value, p)),
        ),
        None => (e.clears_zero(positive), None),
    };
    Some(Judged {
        paper: paper_text(&Test::Level {
            at: at.clone(),
            paper,
            positive,
        }),
        ours: with_interval(e),
        direction,
        magnitude,
        defined: e.half.is_finite(),
    })
}

fn change(
    run: &Run,
    rule: &Rule,
    m: Metric,
    from: &Cells,
    to: &Cells,
    paper: Option<(f64, f64)>,
    rises: bool,
) -> Option<Judged> {
    let (a, b) = (run.estimate(from, m)?, run.estimate(to, m)?);
    let d = Estimate::minus(b, a);
    let (direction, magnitude) = match paper {
        Some((pa, pb)) => {
            let (dp, t) = (pb - pa, rule.tie(m, pa.abs().max(pb.abs())));
            let direction = if dp.abs() <= t {
                d.value.abs() <= t
            } else {
                d.clears_zero(dp > 0.0)
            };
            let magnitude = rule.in_band(m, a.value, pa)
                && rule.in_band(m, b.value, pb)
                && (d.value - dp).abs() <= rule.band * dp.abs() + t;
            (direction, Some(magnitude))
        }
        None => (d.clears_zero(rises), None),
    };
    Some(Judged {
        paper: paper_text(&Test::Change {
            from: from.clone(),
            to: to.clone(),
            paper,
            rises,
        }),
        ours: format!(
            "{} → {} (change {})",
            num(a.value),
            num(b.value),
            with_interval(d)
        ),
        direction,
        magnitude,
        defined: d.half.is_finite(),
    })
}

fn above(
    run: &Run,
    rule: &Rule,
    m: Metric,
    at: &Cells,
    than: &Cells,
    paper: Option<(f64, f64)>,
) -> Option<Judged> {
    let (a, b) = (run.estimate(at, m)?, run.estimate(than, m)?);
    let d = Estimate::minus(a, b);
    Some(Judged {
        paper: paper_text(&Test::Above {
            at: at.clone(),
            than: than.clone(),
            paper,
        }),
        ours: format!(
            "{} vs {} (difference {})",
            num(a.value),
            num(b.value),
            with_interval(d)
        ),
        direction: d.clears_zero(true),
        defined: d.half.is_finite(),
        magnitude: paper
            .map(|(pa, pb)| rule.in_band(m, a.value, pa) && rule.in_band(m, b.value, pb)),
    })
}

fn extreme(
    run: &Run,
    rule: &Rule,
    m: Metric,
    max: bool,
    over: &Cells,
    paper: Option<f64>,
    place: Option<Place>,
) -> Option<Judged> {
    let found = run.select(over, m);
    let estimates: Vec<(Estimate, (f64, f64))> = found
        .iter()
        .map(|f| f.summary.map(|s| (Estimate::of(s), f.at)))
        .collect::<Option<_>>()?;
    let key = |e: &Estimate| if max { e.value } else { -e.value };
    let (best, at) = *estimates
        .iter()
        .max_by(|x, y| key(&x.0).total_cmp(&key(&y.0)))?;
    let signed = paper
        .and_then(|p| rule.sign(m, p))
        .is_none_or(|s| best.clears_zero(s));
    let direction = match place {
        // The paper's cell must be one of the run's (a coarser grid cannot place it), and the
        // extreme must have the paper's sign as well as its place.
        Some(Place::At(a, b)) => {
            let near = |x: f64, y: f64| (x - a).abs() <= 1e-9 && (y - b).abs() <= 1e-9;
            if !estimates.iter().any(|(_, (x, y))| near(*x, *y)) {
                return None;
            }
            signed && (at.0 - a).abs() <= rule.place + 1e-9 && (at.1 - b).abs() <= rule.place + 1e-9
        }
        // Interior: the extreme clears both ends of the sweep with its interval.
        Some(Place::Interior) => {
            let ends = [estimates.first()?, estimates.last()?];
            ends.iter()
                .all(|(e, x)| *x != at && Estimate::minus(best, *e).clears_zero(max))
        }
        None => signed,
    };
    let place_text = match over {
        Cells::L1 { .. } => format!("({}, {})", at.0, at.1),
        Cells::L2 { .. } => format!("value {}", at.0),
    };
    Some(Judged {
        paper: match (paper, place) {
            (Some(p), Some(Place::At(a, b))) => format!("{} at ({a}, {b})", num(p)),
            (Some(p), _) => num(p),
            (None, _) => paper_text(&Test::Extreme {
                max,
                over: over.clone(),
                paper,
                place,
            }),
        },
        ours: format!("{} at {place_text}", with_interval(best)),
        direction,
        defined: estimates.iter().all(|(e, _)| e.half.is_finite()),
        magnitude: paper.map(|p| rule.in_band(m, best.value, p)),
    })
}

fn monotone(run: &Run, m: Metric, over: &Cells) -> Option<Judged> {
    let found = run.select(over, m);
    let cells: Vec<(Estimate, (f64, f64))> = found
        .iter()
        .map(|f| f.summary.map(|s| (Estimate::of(s), f.at)))
        .collect::<Option<_>>()?;
    if cells.is_empty() {
        return None;
    }
    // Sorted by (α, β): pair each cell with the next α at the same β.
    let mut falls = Vec::new();
    let mut steps = 0;
    for (e, (a, b)) in &cells {
        let next = cells
            .iter()
            .filter(|(_, (a2, b2))| b2 == b && a2 > a)
            .min_by(|x, y| x.1 .0.total_cmp(&y.1 .0));
        if let Some((e2, (a2, _))) = next {
            steps += 1;
            if Estimate::minus(*e2, *e).clears_zero(false) {
                falls.push(format!("({a}→{a2}, {b})"));
            }
        }
    }
    // …and from the least α to the largest it rises, with its interval, at every β.
    let mut betas: Vec<f64> = cells.iter().map(|(_, (_, b))| *b).collect();
    betas.sort_by(f64::total_cmp);
    betas.dedup();
    let mut flat = Vec::new();
    for b in betas {
        let at_b: Vec<&(Estimate, (f64, f64))> =
            cells.iter().filter(|(_, (_, b2))| *b2 == b).collect();
        let first = at_b.iter().min_by(|x, y| x.1 .0.total_cmp(&y.1 .0));
        let last = at_b.iter().max_by(|x, y| x.1 .0.total_cmp(&y.1 .0));
        if let (Some(first), Some(last)) = (first, last) {
            if !Estimate::minus(last.0, first.0).clears_zero(true) {
                flat.push(format!("β = {b}"));
            }
        }
    }
    Some(Judged {
        paper: "rises with α at every β".into(),
        ours: match (falls.is_empty(), flat.is_empty()) {
            (true, true) => format!("no significant fall in {steps} steps; rises at every β"),
            (false, _) => format!(
                "falls at {} of {steps} steps: {}",
                falls.len(),
                falls.join(", ")
            ),
            (true, false) => format!("does not rise at {}", flat.join(", ")),
        },
        direction: steps > 0 && falls.is_empty() && flat.is_empty(),
        defined: cells.iter().all(|(e, _)| e.half.is_finite()),
        magnitude: None,
    })
}

/// The verdicts as a table (`OUT/claims.csv`): a direction or magnitude not judged is empty.
pub fn table(verdicts: &[Verdict]) -> Result<medisim_core::Table> {
    #[derive(Serialize)]
    struct Row<'a> {
        id: &'a str,
        source: &'a str,
        says: &'a str,
        metric: &'a str,
        paper: &'a str,
        ours: &'a str,
        direction: &'a str,
        magnitude: &'a str,
        verdict: &'a str,
    }
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "holds",
        Some(false) => "fails",
        None => "",
    };
    let rows: Vec<Row> = verdicts
        .iter()
        .map(|v| Row {
            id: &v.id,
            source: &v.source,
            says: &v.says,
            metric: v.metric,
            paper: &v.paper,
            ours: &v.ours,
            direction: yes_no(v.direction),
            magnitude: yes_no(v.magnitude),
            verdict: v.outcome.text(),
        })
        .collect();
    Ok(medisim_core::Table::from_records(&rows)?)
}

/// How many verdicts have each outcome, in [`Outcome`] order.
pub fn tally(verdicts: &[Verdict]) -> [(Outcome, usize); 4] {
    [
        Outcome::Reproduces,
        Outcome::DirectionOnly,
        Outcome::Differs,
        Outcome::NotRun,
    ]
    .map(|o| (o, verdicts.iter().filter(|v| v.outcome == o).count()))
}

/// The tally in words: "27 reproduce, 30 in direction only, 22 differ, 0 not run".
pub fn tally_text(verdicts: &[Verdict]) -> String {
    let [r, d, x, n] = tally(verdicts).map(|(_, n)| n);
    format!("{r} reproduce, {d} in direction only, {x} differ, {n} not run")
}

#[cfg(test)]
mod tests {
    use super::*;
    use medisim_core::Summaries;
    use std::collections::BTreeMap;

    /// A cell of 30 seeds whose metric has this mean and 95% half-width.
    fn cell(labels: &[(&str, String)], m: Metric, mean: f64, half: f64) -> Cell {
        let std = half * 30f64.sqrt() / medisim_core::stats::t975(29);
        let mut summary = Summaries::default();
        summary.insert(
            m,
            Summary {
                mean,
                std,
                ci95: [mean - half, mean + half],
                n: 30,
            },
        );
        Cell {
            key: String::new(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
            summary,
        }
    }

    fn l1(a: f64, b: f64, m: Metric, mean: f64, half: f64) -> Cell {
        cell(
            &[("alpha", a.to_string()), ("beta", b.to_string())],
            m,
            mean,
            half,
        )
    }

    fn l2(lever: &str, regime: &str, v: f64, m: Metric, mean: f64, half: f64) -> Cell {
        cell(
            &[
                ("lever", lever.into()),
                ("regime", regime.into()),
                ("value", v.to_string()),
            ],
            m,
            mean,
            half,
        )
    }

    fn one(toml: &str) -> Claim {
        let mut c = parse(
            &format!("[[claim]]\nid = \"x\"\nsource = \"s\"\nsays = \"s\"\n{toml}"),
            "t",
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
        c.remove(0)
    }

    fn outcome(claim: &Claim, l1: &[Cell], l2: &[Cell]) -> Outcome {
        verdict(claim, &Run { l1, l2 }, &Rule::REPORT).outcome
    }

    #[test]
    fn the_paper_corpus_reads_and_every_claim_has_cells_in_a_full_run() {
        let claims = paper();
        assert!(claims.len() >= 50, "{} claims", claims.len());
        // A run with every L1 cell of the 11-point grid and every L2 cell: nothing is "not run".
        let grid = crate::l1::grid(11);
        let mut l1_cells = Vec::new();
        let mut l2_cells = Vec::new();
        for m in Metric::ALL {
            for a in &grid {
                for b in &grid {
                    l1_cells.push(l1(*a, *b, *m, 0.5, 0.01));
                }
            }
            for lever in Lever::ALL {
                for (regime, ..) in REGIMES {
                    for v in lever.values() {
                        l2_cells.push(l2(lever.name(), regime, *v, *m, 0.5, 0.01));
                    }
                }
            }
        }
        // One cell per coordinate holding every metric.
        let merge = |cells: Vec<Cell>| {
            let mut by: BTreeMap<Vec<(String, String)>, Cell> = BTreeMap::new();
            for c in cells {
                let k: Vec<_> = c.labels.clone().into_iter().collect();
                match by.get_mut(&k) {
                    Some(d) => {
                        for (name, s) in c.summary.iter() {
                            let m = Metric::from_name(name).unwrap();
                            d.summary.insert(m, s.clone());
                        }
                    }
                    None => {
                        by.insert(k, c);
                    }
                }
            }
            by.into_values().collect::<Vec<_>>()
        };
        let (l1_cells, l2_cells) = (merge(l1_cells), merge(l2_cells));
        let run = Run {
            l1: &l1_cells,
            l2: &l2_cells,
        };
        for v in verdicts(&claims, &run, &Rule::REPORT) {
            assert_ne!(v.outcome, Outcome::NotRun, "{}", v.id);
        }
        // …and a run without the L2 sweeps has them "not run".
        let bare = verdicts(
            &claims,
            &Run {
                l1: &l1_cells,
                l2: &[],
            },
            &Rule::REPORT,
        );
        assert!(bare.iter().any(|v| v.outcome == Outcome::NotRun));
    }

    #[test]
    fn a_bad_claim_is_refused_naming_it_and_what_is_wrong() {
        let head = "[[claim]]\nid = \"c1\"\nsource = \"s\"\nsays = \"s\"\n";
        for (body, says) in [
            ("kind = \"level\"\nmetric = \"upcoding_rate\"\nat = \"l1 0 0\"\npaper = 0.1\nwhere = 1\n", "unknown field `where`"),
            ("kind = \"level\"\nmetric = \"upcodes\"\nat = \"l1 0 0\"\npaper = 0.1\n", "no metric `upcodes`"),
            ("kind = \"peak\"\nmetric = \"upcoding_rate\"\n", "kind `peak` is none of"),
            ("kind = \"level\"\nmetric = \"upcoding_rate\"\nfrom = \"l1 0 0\"\npaper = 0.1\n", "takes no `from`"),
            ("kind = \"level\"\nmetric = \"upcoding_rate\"\npaper = 0.1\n", "needs `at`"),
            ("kind = \"level\"\nmetric = \"upcoding_rate\"\nat = \"l2 audits balanced 0\"\npaper = 0.1\n", "no L2 lever `audits`"),
            ("kind = \"level\"\nmetric = \"upcoding_rate\"\nat = \"l2 audit greedy 0\"\npaper = 0.1\n", "no regime `greedy`"),
            ("kind = \"level\"\nmetric = \"upcoding_rate\"\nat = \"l1 0.5..0.2 0\"\npaper = 0.1\n", "runs backwards"),
            ("kind = \"level\"\nmetric = \"upcoding_rate\"\nat = \"l1 0 0\"\npaper = 0.1\nexpect = \"positive\"\n", "not both"),
            ("kind = \"level\"\nmetric = \"upcoding_rate\"\nat = \"l1 0 0\"\npaper = 1e300\n", "outside [-1e12, 1e12]"),
            ("kind = \"above\"\nmetric = \"upcoding_rate\"\nat = \"l1 * 0\"\nthan = \"l1 0 0\"\n", "names a region"),
            ("kind = \"max\"\nmetric = \"upcoding_rate\"\nover = \"l1 * *\"\npaper_at = \"interior\"\n", "for an L2 sweep"),
            ("kind = \"change\"\nmetric = \"upcoding_rate\"\nfrom = \"l1 0 0\"\nto = \"l1 1 0\"\npaper_from = 0.1\n", "go together"),
        ] {
            let e = format!("{:#}", parse(&format!("{head}{body}"), "f.toml").unwrap_err());
            assert!(e.contains(says), "{e}");
            assert!(e.contains("f.toml"), "{e}");
        }
        // A syntax or type error gives its line and column.
        let e = format!(
            "{:#}",
            parse(&format!("{head}kind = 3\n"), "f.toml").unwrap_err()
        );
        assert!(e.contains("line 5, column 8"), "{e}");
        let twice = format!("{head}kind = \"monotone\"\nmetric = \"upcoding_rate\"\nover = \"l1 * *\"\nexpect = \"rises\"\n");
        let e = format!(
            "{:#}",
            parse(&format!("{twice}{twice}"), "f.toml").unwrap_err()
        );
        assert!(
            e.contains("claim 2 (`c1`)") && e.contains("used by an earlier claim"),
            "{e}"
        );
    }

    #[test]
    fn a_level_reproduces_inside_its_band_and_differs_on_the_wrong_side_of_zero() {
        let m = Metric::CherryPickingGap;
        let c = one("kind = \"level\"\nmetric = \"cherry_picking_gap\"\nat = \"l1 0.5 0.5\"\npaper = 0.155\n");
        let at = |mean, half| outcome(&c, &[l1(0.5, 0.5, m, mean, half)], &[]);
        assert_eq!(at(0.136, 0.01), Outcome::Reproduces);
        // Outside half the paper's value plus the tie (0.01) either way.
        assert_eq!(at(0.05, 0.01), Outcome::DirectionOnly);
        assert_eq!(at(0.26, 0.01), Outcome::DirectionOnly);
        // An interval that reaches zero does not show the sign; the wrong sign differs.
        assert_eq!(at(0.12, 0.13), Outcome::Differs);
        assert_eq!(at(-0.07, 0.01), Outcome::Differs);
        assert_eq!(
            outcome(&c, &[l1(0.4, 0.5, m, 0.15, 0.01)], &[]),
            Outcome::NotRun
        );
        // About zero: the band decides (0.000 against 0.002).
        let z = one("kind = \"level\"\nmetric = \"rejection_low_cmi\"\nat = \"l1 0.5 0.5\"\npaper = 0.002\n");
        let m = Metric::RejectionLowCmi;
        assert_eq!(
            outcome(&z, &[l1(0.5, 0.5, m, 0.0, 0.0)], &[]),
            Outcome::Reproduces
        );
        assert_eq!(
            outcome(&z, &[l1(0.5, 0.5, m, 0.085, 0.01)], &[]),
            Outcome::DirectionOnly
        );
        // A region's mean, with the mean of its half-widths.
        let r = one("kind = \"level\"\nmetric = \"deferral_gap\"\nat = \"l1 0.5..1.0 *\"\nexpect = \"positive\"\n");
        let m = Metric::DeferralGap;
        let cells = [
            l1(0.5, 0.0, m, 0.05, 0.02),
            l1(1.0, 1.0, m, 0.03, 0.02),
            l1(0.0, 0.0, m, -9.0, 0.0),
        ];
        assert_eq!(outcome(&r, &cells, &[]), Outcome::Reproduces);
        let cells = [l1(0.5, 0.0, m, 0.03, 0.02), l1(1.0, 1.0, m, -0.01, 0.02)];
        assert_eq!(outcome(&r, &cells, &[]), Outcome::Differs);
    }

    #[test]
    fn a_change_needs_its_direction_with_its_interval_and_both_ends_in_the_band() {
        let m = Metric::UpcodingRate;
        let c = one("kind = \"change\"\nmetric = \"upcoding_rate\"\nfrom = \"l2 audit balanced 0\"\nto = \"l2 audit balanced 0.5\"\npaper_from = 0.636\npaper_to = 0.001\n");
        let run = |a, b| {
            outcome(
                &c,
                &[],
                &[
                    l2("audit", "balanced", 0.0, m, a, 0.01),
                    l2("audit", "balanced", 0.5, m, b, 0.01),
                ],
            )
        };
        assert_eq!(run(0.5, 0.008), Outcome::Reproduces);
        // The change is in the band but the end is not: 0.048 where the paper has 0.001.
        assert_eq!(run(0.5, 0.048), Outcome::DirectionOnly);
        assert_eq!(run(0.5, 0.6), Outcome::Differs);
        // A level claim (1.88 → 1.88) holds only when ours stays within the tie.
        let flat = one("kind = \"change\"\nmetric = \"mean_waiting\"\nfrom = \"l2 flex_no_steering balanced 0\"\nto = \"l2 flex_no_steering balanced 4\"\npaper_from = 1.88\npaper_to = 1.88\n");
        let m = Metric::MeanWaiting;
        let run = |a, b| {
            outcome(
                &flat,
                &[],
                &[
                    l2("flex_no_steering", "balanced", 0.0, m, a, 0.05),
                    l2("flex_no_steering", "balanced", 4.0, m, b, 0.05),
                ],
            )
        };
        assert_eq!(run(1.23, 1.23), Outcome::Reproduces);
        assert_eq!(run(1.23, 1.40), Outcome::Differs);
        // Without numbers: the direction alone.
        let d = one("kind = \"change\"\nmetric = \"terminal_funds\"\nfrom = \"l1 * 0\"\nto = \"l1 * 1\"\nexpect = \"falls\"\n");
        let m = Metric::TerminalFunds;
        let cells = |b1| [l1(0.0, 0.0, m, 100.0, 5.0), l1(0.0, 1.0, m, b1, 5.0)];
        assert_eq!(outcome(&d, &cells(50.0), &[]), Outcome::Reproduces);
        assert_eq!(outcome(&d, &cells(95.0), &[]), Outcome::Differs);
    }

    #[test]
    fn an_extreme_is_placed_within_two_grid_steps_and_an_interior_one_clears_both_ends() {
        let m = Metric::StrategicDelayGap;
        let c = one("kind = \"max\"\nmetric = \"strategic_delay_gap\"\nover = \"l1 * *\"\npaper = 0.29\npaper_at = \"0.6 0.7\"\n");
        let grid = |peak: (f64, f64), v| {
            let mut cells = vec![l1(0.0, 0.0, m, 0.0, 0.01), l1(1.0, 1.0, m, 0.05, 0.01)];
            if peak != (0.6, 0.7) {
                cells.push(l1(0.6, 0.7, m, 0.02, 0.01));
            }
            cells.push(l1(peak.0, peak.1, m, v, 0.02));
            cells
        };
        assert_eq!(
            outcome(&c, &grid((0.8, 0.5), 0.30), &[]),
            Outcome::Reproduces
        );
        assert_eq!(
            outcome(&c, &grid((0.6, 0.7), 0.60), &[]),
            Outcome::DirectionOnly
        );
        assert_eq!(outcome(&c, &grid((1.0, 0.3), 0.30), &[]), Outcome::Differs);
        // A run without the paper's cell cannot place the extreme: not run.
        let coarse = [l1(0.0, 0.0, m, 0.0, 0.01), l1(0.5, 0.5, m, 0.3, 0.01)];
        assert_eq!(outcome(&c, &coarse, &[]), Outcome::NotRun);
        // A least value in the right place with the wrong sign differs.
        let inv = one("kind = \"min\"\nmetric = \"cherry_picking_gap\"\nover = \"l1 * *\"\npaper = -0.20\npaper_at = \"0.0 0.5\"\n");
        let m = Metric::CherryPickingGap;
        let map = |least| [l1(0.0, 0.5, m, least, 0.01), l1(1.0, 0.0, m, 0.6, 0.01)];
        assert_eq!(outcome(&inv, &map(-0.15), &[]), Outcome::Reproduces);
        assert_eq!(outcome(&inv, &map(0.05), &[]), Outcome::Differs);
        let k = one("kind = \"max\"\nmetric = \"bonus_pressure\"\nover = \"l2 kappa balanced *\"\npaper_at = \"interior\"\n");
        let m = Metric::BonusPressure;
        let sweep = |mid| {
            [0.0, 1.0, 2.0, 3.0].map(|v| {
                l2(
                    "kappa",
                    "balanced",
                    v,
                    m,
                    if v == 2.0 { mid } else { v * 0.1 },
                    0.05,
                )
            })
        };
        assert_eq!(outcome(&k, &[], &sweep(1.0)), Outcome::Reproduces);
        // The middle's lead over the last end is inside the intervals: not shown interior.
        assert_eq!(outcome(&k, &[], &sweep(0.35)), Outcome::Differs);
    }

    #[test]
    fn monotone_fails_on_one_significant_fall() {
        let m = Metric::UpcodingRate;
        let c = one("kind = \"monotone\"\nmetric = \"upcoding_rate\"\nover = \"l1 * *\"\nexpect = \"rises\"\n");
        let mut cells: Vec<Cell> = [0.0, 0.5, 1.0]
            .iter()
            .flat_map(|a| [0.0, 1.0].map(|b| l1(*a, b, m, *a, 0.01)))
            .collect();
        assert_eq!(outcome(&c, &cells, &[]), Outcome::Reproduces);
        // A fall within the noise is no fall; one that clears it is.
        cells.push(l1(0.7, 1.0, m, 0.49, 0.01));
        assert_eq!(outcome(&c, &cells, &[]), Outcome::Reproduces);
        cells.push(l1(0.8, 1.0, m, 0.3, 0.01));
        assert_eq!(outcome(&c, &cells, &[]), Outcome::Differs);
        // No fall anywhere but flat at one β: it does not rise there.
        let flat: Vec<Cell> = [0.0, 0.5, 1.0]
            .iter()
            .flat_map(|a| [0.0, 1.0].map(|b| l1(*a, b, m, if b == 0.0 { 0.2 } else { *a }, 0.01)))
            .collect();
        assert_eq!(outcome(&c, &flat, &[]), Outcome::Differs);
    }

    #[test]
    fn above_needs_the_difference_to_clear_zero_and_its_numbers_in_the_band() {
        let m = Metric::UpcodingRate;
        let c = one("kind = \"above\"\nmetric = \"upcoding_rate\"\nat = \"l1 0.8 0.2\"\nthan = \"l1 0.5 0.5\"\npaper = 0.226\npaper_than = 0.080\n");
        let run = |a, b| {
            outcome(
                &c,
                &[l1(0.8, 0.2, m, a, 0.01), l1(0.5, 0.5, m, b, 0.01)],
                &[],
            )
        };
        assert_eq!(run(0.25, 0.09), Outcome::Reproduces);
        assert_eq!(run(0.45, 0.17), Outcome::DirectionOnly);
        assert_eq!(run(0.10, 0.09), Outcome::Differs);
    }

    #[test]
    fn one_seed_has_no_interval_so_no_direction() {
        let m = Metric::CherryPickingGap;
        let c = one("kind = \"level\"\nmetric = \"cherry_picking_gap\"\nat = \"l1 0.5 0.5\"\npaper = 0.155\n");
        let mut cell = l1(0.5, 0.5, m, 0.155, 0.01);
        let mut s = cell.summary.get(m).unwrap().clone();
        s.n = 1;
        cell.summary.insert(m, s);
        assert_eq!(outcome(&c, &[cell.clone()], &[]), Outcome::Differs);
        // Nor does a claim about zero, or that a value stays level, pass on means alone.
        let z = one(
            "kind = \"level\"\nmetric = \"cherry_picking_gap\"\nat = \"l1 0.5 0.5\"\npaper = 0.0\n",
        );
        assert_eq!(outcome(&z, &[cell.clone()], &[]), Outcome::Differs);
        let mut other = cell.clone();
        other.labels.insert("alpha".into(), "0.6".into());
        let level = one("kind = \"change\"\nmetric = \"cherry_picking_gap\"\nfrom = \"l1 0.5 0.5\"\nto = \"l1 0.6 0.5\"\npaper_from = 0.155\npaper_to = 0.155\n");
        assert_eq!(outcome(&level, &[cell, other], &[]), Outcome::Differs);
    }
}
