//! Parameter estimation from patient data (the paper's Algorithm 1): 1:1 propensity matching,
//! a Cox proportional-hazards fit per arm, the responder score D(Z) = (β1 − β0)·Z, and the π̂
//! and γ̂ that feed the contract. Also a generator of synthetic cohorts whose true π and γ are
//! known, since patient data (MIMIC-IV) cannot be shipped.
//!
//! No well-kept Rust crate fits a Cox model, so the partial likelihood (Breslow ties) and its
//! Newton iteration are written here, with nalgebra for the linear algebra, and tested against
//! the generating coefficients and against Python's `lifelines`.

use crate::params::Params;
use medisim_core::input::{csv_fields_refusal, csv_record_line, csv_refusal};
use medisim_core::stats::total_order_key;
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;
use std::cmp::Reverse;

/// A patient's covariates: up to four held inline (no allocation a patient), more on the heap.
pub type Covariates = smallvec::SmallVec<[f64; 4]>;

/// One patient: covariates Z, propensity score, expenditure (treatment) indicator, time to death
/// (days) and length of stay (days). A patient dies in hospital when `death < los`.
#[derive(Clone, Debug, PartialEq)]
pub struct Patient {
    pub z: Covariates,
    pub propensity: f64,
    pub expenditure: bool,
    pub death: f64,
    pub los: f64,
}

impl Patient {
    /// Survival to discharge: the outcome Q (the paper's f(t) = 1(t ≥ los)).
    pub fn survived(&self) -> bool {
        self.death >= self.los
    }
}

/// A Cox fit: coefficients, their standard errors, and the log partial likelihood.
#[derive(Clone, Debug, Serialize)]
pub struct CoxFit {
    pub beta: Vec<f64>,
    pub se: Vec<f64>,
    pub log_likelihood: f64,
    pub iterations: usize,
}

/// A Cox fit's data in risk-set order (latest time first: the risk set of a time is everyone
/// seen so far), the covariates row after row in one slice, so each Newton step walks memory
/// straight through.
struct RiskOrder {
    time: Vec<f64>,
    event: Vec<bool>,
    x: Vec<f64>,
}

impl RiskOrder {
    /// The rows taken in `order`; each row's first `p` covariates.
    fn new<R: AsRef<[f64]>>(
        time: &[f64],
        event: &[bool],
        x: &[R],
        order: &[usize],
        p: usize,
    ) -> Self {
        RiskOrder {
            time: order.iter().map(|&i| time[i]).collect(),
            event: order.iter().map(|&i| event[i]).collect(),
            x: order
                .iter()
                .flat_map(|&i| &x[i].as_ref()[..p])
                .copied()
                .collect(),
        }
    }
}

/// Log partial likelihood (Breslow ties), its gradient and Hessian at `beta`.
///
/// Called once per Newton step over every row: it allocates nothing per row and works on
/// slices (the sums column-major, as nalgebra keeps a matrix), each element by the same
/// operations in the same order as nalgebra's vector and outer-product expressions
/// ([`nalgebra_dot`] included), so the fit is bit for bit what they gave.
fn partial_likelihood(data: &RiskOrder, beta: &DVector<f64>) -> (f64, DVector<f64>, DMatrix<f64>) {
    // A few covariates is the common case: with their count known to the compiler the row's
    // loops unroll and lose their bounds checks (the same operations, so the same bits).
    match beta.len() {
        1 => likelihood_of::<1>(data, beta),
        2 => likelihood_of::<2>(data, beta),
        3 => likelihood_of::<3>(data, beta),
        4 => likelihood_of::<4>(data, beta),
        _ => likelihood_of::<0>(data, beta),
    }
}

/// [`partial_likelihood`] for `P` covariates (`P = 0`: as many as `beta` has).
fn likelihood_of<const P: usize>(
    data: &RiskOrder,
    beta: &DVector<f64>,
) -> (f64, DVector<f64>, DMatrix<f64>) {
    let p = if P == 0 { beta.len() } else { P };
    let beta = beta.as_slice();
    let (mut s0, mut s1, mut s2) = (0.0, vec![0.0; p], vec![0.0; p * p]);
    let (mut ll, mut grad, mut hess) = (0.0, vec![0.0; p], vec![0.0; p * p]);
    let (mut xsum, mut mean) = (vec![0.0; p], vec![0.0; p]);
    let n = data.time.len();
    let mut k = 0;
    while k < n {
        // All patients tied at this time join the risk set before its events count.
        let t = data.time[k];
        let mut j = k;
        let mut d = 0.0;
        xsum.fill(0.0);
        while j < n && data.time[j] == t {
            let xi = &data.x[j * p..][..p];
            let eta = nalgebra_dot(xi, beta);
            let w = eta.exp();
            s0 += w;
            let (s1, s2) = (&mut s1[..p], &mut s2[..p * p]);
            for a in 0..p {
                let wa = w * xi[a];
                s1[a] += wa;
                for b in 0..p {
                    s2[a + b * p] += wa * xi[b];
                }
            }
            if data.event[j] {
                d += 1.0;
                ll += eta;
                for (sum, xa) in xsum.iter_mut().zip(xi) {
                    *sum += xa;
                }
            }
            j += 1;
        }
        if d > 0.0 {
            for (m, s) in mean.iter_mut().zip(&s1) {
                *m = s / s0;
            }
            ll -= d * s0.ln();
            for a in 0..p {
                grad[a] += xsum[a] - d * mean[a];
                for b in 0..p {
                    hess[a + b * p] -= d * (s2[a + b * p] / s0 - mean[a] * mean[b]);
                }
            }
        }
        k = j;
    }
    (ll, DVector::from_vec(grad), DMatrix::from_vec(p, p, hess))
}

/// `a · b` summed exactly as nalgebra 0.33 sums a dynamic vector's dot product: eight
/// running sums over blocks of eight, folded pairwise into the result, then the tail in order.
fn nalgebra_dot(a: &[f64], b: &[f64]) -> f64 {
    let mut res = 0.0;
    let mut acc = [0.0; 8];
    let mut i = 0;
    while a.len() - i >= 8 {
        for (k, s) in acc.iter_mut().enumerate() {
            *s += a[i + k] * b[i + k];
        }
        i += 8;
    }
    res += acc[0] + acc[4];
    res += acc[1] + acc[5];
    res += acc[2] + acc[6];
    res += acc[3] + acc[7];
    for k in i..a.len() {
        res += a[k] * b[k];
    }
    res
}

/// Fit a Cox model by Newton's method with step halving. `None` when the information matrix
/// is singular (a covariate constant within the arm, or no events).
pub fn cox_fit<R: AsRef<[f64]>>(time: &[f64], event: &[bool], x: &[R]) -> Option<CoxFit> {
    let p = x.first()?.as_ref().len();
    // Latest time first, ties in input order (what a stable sort by time gives), as one
    // integer key per row.
    let mut keyed: Vec<(Reverse<i64>, usize)> = time
        .iter()
        .enumerate()
        .map(|(i, t)| (Reverse(total_order_key(*t)), i))
        .collect();
    keyed.sort_unstable();
    let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    let data = RiskOrder::new(time, event, x, &order, p);
    let likelihood = |beta: &DVector<f64>| partial_likelihood(&data, beta);
    let mut beta = DVector::zeros(p);
    let (mut ll, mut grad, mut hess) = likelihood(&beta);
    for it in 1..=100 {
        let info = -&hess;
        let step = info.clone().cholesky()?.solve(&grad);
        let mut scale = 1.0;
        loop {
            let trial = &beta + scale * &step;
            let (l2, g2, h2) = likelihood(&trial);
            if l2 >= ll - 1e-12 || scale < 1e-8 {
                let done = (scale * &step).amax() < 1e-10;
                beta = trial;
                (ll, grad, hess) = (l2, g2, h2);
                if done {
                    let cov = (-&hess).try_inverse()?;
                    let se = (0..p).map(|k| cov[(k, k)].max(0.0).sqrt()).collect();
                    return Some(CoxFit {
                        beta: beta.iter().copied().collect(),
                        se,
                        log_likelihood: ll,
                        iterations: it,
                    });
                }
                break;
            }
            scale /= 2.0;
        }
    }
    None
}

/// Why [`cox_fit`] found no fit for these data: the first of no deaths, a constant covariate,
/// covariates linearly dependent on one another, or (what is left) a likelihood with no
/// maximum, as when a covariate separates the deaths from the survivors.
fn cox_failure<R: AsRef<[f64]>>(event: &[bool], x: &[R]) -> String {
    if !event.contains(&true) {
        return "no patient of the arm died in hospital".into();
    }
    let (n, p) = (x.len(), x.first().map_or(0, |r| r.as_ref().len()));
    let mean: Vec<f64> = (0..p)
        .map(|k| x.iter().map(|r| r.as_ref()[k]).sum::<f64>() / n as f64)
        .collect();
    let centred = DMatrix::from_fn(n, p, |i, k| x[i].as_ref()[k] - mean[k]);
    let gram = centred.transpose() * &centred;
    if let Some(k) = (0..p).find(|&k| gram[(k, k)] <= 1e-12 * n as f64) {
        let (lo, hi) = x
            .iter()
            .map(|r| r.as_ref()[k])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |a, v| {
                (a.0.min(v), a.1.max(v))
            });
        if hi > lo {
            return format!(
                "covariate {} varies only by {:e} within the arm, too little to fit: \
                 standardise it",
                k + 1,
                hi - lo
            );
        }
        return format!("covariate {} is constant within the arm", k + 1);
    }
    // Correlations, so the rank test does not depend on each covariate's scale.
    let scale = DMatrix::from_fn(p, p, |a, b| (gram[(a, a)] * gram[(b, b)]).sqrt());
    let correlation = gram.component_div(&scale);
    if correlation.symmetric_eigenvalues().min() < 1e-9 {
        return "its covariates are linearly dependent (collinear) within the arm: drop or \
                combine the redundant ones"
            .into();
    }
    "the partial likelihood has no maximum (a covariate, or a combination, separates the \
     deaths from the survivors)"
        .into()
}

/// 1:1 nearest-neighbour matching on the propensity score, without replacement: each treated
/// patient, in input order, takes the unmatched control with the closest score (ties to the
/// earlier control). Returns the matched (treated, control) index pairs.
///
/// The nearest free control on each side is found through next-free pointers (a union–find
/// with path halving), so runs of taken controls — long when propensities tie — are skipped
/// in near-constant time instead of walked: O(n log n) in all, where the walk was quadratic.
pub fn match_one_to_one(patients: &[Patient]) -> Vec<(usize, usize)> {
    // Controls by score, ties by index, sorted as integer keys.
    let mut keyed: Vec<(i64, usize)> = (0..patients.len())
        .filter(|i| !patients[*i].expenditure)
        .map(|i| (total_order_key(patients[i].propensity), i))
        .collect();
    keyed.sort_unstable();
    let controls: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    let n = controls.len();
    let mut free = FreeControls::new(n);
    let mut pairs = Vec::new();
    for (i, t) in patients.iter().enumerate().filter(|(_, p)| p.expenditure) {
        let at = controls.partition_point(|c| patients[*c].propensity < t.propensity);
        let dist = |k: usize| (patients[controls[k]].propensity - t.propensity).abs();
        let best = match (free.below(at), free.at_or_above(at)) {
            (Some(l), Some(r)) => Some(if dist(l) <= dist(r) { l } else { r }),
            (l, r) => l.or(r),
        };
        let Some(k) = best else { break };
        free.take(k);
        pairs.push((i, controls[k]));
    }
    pairs
}

/// Which of `n` sorted controls are still free: `up[k]` leads to the first free index ≥ k
/// (`n` when none), `down[j]` to the `j` whose control `j − 1` is the last free one below `j`
/// (`0` when none). Taking a control links it past itself on both sides.
struct FreeControls {
    up: Vec<usize>,
    down: Vec<usize>,
}

impl FreeControls {
    fn new(n: usize) -> Self {
        FreeControls {
            up: (0..=n).collect(),
            down: (0..=n).collect(),
        }
    }

    fn root(links: &mut [usize], mut x: usize) -> usize {
        while links[x] != x {
            links[x] = links[links[x]];
            x = links[x];
        }
        x
    }

    fn at_or_above(&mut self, at: usize) -> Option<usize> {
        let k = Self::root(&mut self.up, at);
        (k + 1 < self.up.len()).then_some(k)
    }

    fn below(&mut self, at: usize) -> Option<usize> {
        Self::root(&mut self.down, at).checked_sub(1)
    }

    fn take(&mut self, k: usize) {
        self.up[k] = k + 1;
        self.down[k + 1] = k;
    }
}

/// What Algorithm 1 returns, and how it got there.
#[derive(Clone, Debug, Serialize)]
pub struct Estimate {
    pub params: Params,
    /// Patients in each (responder status r, expenditure e) cell: [n00, n01, n10, n11].
    pub counts: [usize; 4],
    pub matched_pairs: usize,
    /// Cox fits in the control (low expenditure) and treated (high expenditure) arms.
    pub control: CoxFit,
    pub treated: CoxFit,
}

#[derive(Debug, thiserror::Error)]
pub enum EstimateError {
    #[error("{0}")]
    Data(String),
    #[error("the Cox model of the {arm} arm cannot be fitted: {why}")]
    Cox { arm: &'static str, why: String },
    #[error("cell (r = {r}, e = {e}) of the matched cohort is empty: π̂ cannot be estimated")]
    EmptyCell { r: usize, e: usize },
}

/// Algorithm 1 on a cohort. Responder status is `D(Z) > 0` with D = (β1 − β0)·Z, as the paper
/// prints it (a positive score is a good responder; docs/contracts.md).
pub fn estimate(patients: &[Patient]) -> Result<Estimate, EstimateError> {
    let p = patients.first().map_or(0, |x| x.z.len());
    if p == 0 || patients.iter().any(|x| x.z.len() != p) {
        return Err(EstimateError::Data(
            "every patient needs the same, non-empty list of covariates".into(),
        ));
    }
    let treated = patients.iter().filter(|x| x.expenditure).count();
    let why = match (treated, patients.len() - treated) {
        (0, _) => Some("the cohort has no treated patient (expenditure 1)"),
        (_, 0) => Some("the cohort has no control patient (expenditure 0) to match the treated to"),
        _ => None,
    };
    if let Some(why) = why {
        return Err(EstimateError::Data(format!(
            "{why}: Algorithm 1 matches each treated patient to a control"
        )));
    }
    let pairs = match_one_to_one(patients);
    if pairs.is_empty() {
        return Err(EstimateError::Data(
            "no treated patient could be matched".into(),
        ));
    }
    let arm = |pick: fn(&(usize, usize)) -> usize| -> Vec<&Patient> {
        pairs.iter().map(|pr| &patients[pick(pr)]).collect()
    };
    let fit = |group: &[&Patient], name: &'static str| {
        let time: Vec<f64> = group.iter().map(|x| x.death.min(x.los)).collect();
        let event: Vec<bool> = group.iter().map(|x| !x.survived()).collect();
        let z: Vec<&[f64]> = group.iter().map(|x| x.z.as_slice()).collect();
        cox_fit(&time, &event, &z).ok_or_else(|| EstimateError::Cox {
            arm: name,
            why: cox_failure(&event, &z),
        })
    };
    let (treated_group, control_group) = (arm(|p| p.0), arm(|p| p.1));
    let treated = fit(&treated_group, "treated")?;
    let control = fit(&control_group, "control")?;
    let diff: Vec<f64> = treated
        .beta
        .iter()
        .zip(&control.beta)
        .map(|(a, b)| a - b)
        .collect();
    let (mut counts, mut survived) = ([0usize; 4], [0usize; 4]);
    for x in treated_group.iter().chain(&control_group) {
        let score: f64 = x.z.iter().zip(&diff).map(|(z, d)| z * d).sum();
        let cell = 2 * usize::from(score > 0.0) + usize::from(x.expenditure);
        counts[cell] += 1;
        survived[cell] += usize::from(x.survived());
    }
    for (cell, n) in counts.iter().enumerate() {
        if *n == 0 {
            return Err(EstimateError::EmptyCell {
                r: cell / 2,
                e: cell % 2,
            });
        }
    }
    let rate = |cell: usize| survived[cell] as f64 / counts[cell] as f64;
    let n: usize = counts.iter().sum();
    Ok(Estimate {
        params: Params {
            pi00: rate(0),
            pi01: rate(1),
            pi10: rate(2),
            pi11: rate(3),
            gamma: (counts[2] + counts[3]) as f64 / n as f64,
        },
        counts,
        matched_pairs: pairs.len(),
        control,
        treated,
    })
}

/// A synthetic cohort's generating process. Covariates Z ~ N(0, I); death times exponential
/// with hazard `h0_e · exp(β_e · Z)` in arm e (each arm its own baseline, as Algorithm 1's two
/// Cox models allow); stay `los` days; treatment assigned with a propensity that depends only on
/// a separate noise variable (so matching is exercised but the arms' covariates stay
/// exchangeable and the true π is well defined). The defaults satisfy Assumptions 1 and 2
/// under the paper's reading of the responder score (D(Z) > 0 is a good responder): good
/// responders have the better prognosis in both arms, and everyone gains from treatment.
#[derive(Clone, Debug)]
pub struct Synthetic {
    pub beta_control: Vec<f64>,
    pub beta_treated: Vec<f64>,
    pub baseline_control: f64,
    pub baseline_treated: f64,
    pub los: f64,
    /// Share treated.
    pub treated_share: f64,
}

impl Default for Synthetic {
    fn default() -> Self {
        Synthetic {
            beta_control: vec![0.8, 0.8, 0.3],
            beta_treated: vec![0.5, 0.3, 0.3],
            baseline_control: 0.03,
            baseline_treated: 0.015,
            los: 30.0,
            treated_share: 0.3,
        }
    }
}

impl Synthetic {
    fn baseline(&self, treated: bool) -> f64 {
        if treated {
            self.baseline_treated
        } else {
            self.baseline_control
        }
    }

    /// Whether covariates `z` make a good responder: D*(Z) = (β1 − β0)·Z > 0.
    fn good(&self, z: &[f64]) -> bool {
        z.iter()
            .zip(self.beta_treated.iter().zip(&self.beta_control))
            .map(|(z, (t, c))| z * (t - c))
            .sum::<f64>()
            > 0.0
    }

    /// Probability of surviving the stay in arm `treated` with covariates `z`.
    fn survival(&self, z: &[f64], treated: bool) -> f64 {
        let beta = if treated {
            &self.beta_treated
        } else {
            &self.beta_control
        };
        let lp: f64 = z.iter().zip(beta).map(|(a, b)| a * b).sum();
        (-self.baseline(treated) * self.los * lp.exp()).exp()
    }

    fn covariates(&self, rng: &mut rand_pcg::Pcg64) -> Covariates {
        (0..self.beta_control.len())
            .map(|_| StandardNormal.sample(rng))
            .collect()
    }

    /// A cohort of `n` patients from the named streams of `seed`.
    pub fn cohort(&self, n: usize, seed: u64) -> Vec<Patient> {
        let mut rng = medisim_core::rng::stream(seed, 0, 1);
        (0..n)
            .map(|_| {
                let z = self.covariates(&mut rng);
                let noise: f64 = StandardNormal.sample(&mut rng);
                let odds = self.treated_share / (1.0 - self.treated_share) * (0.5 * noise).exp();
                let propensity = odds / (1.0 + odds);
                let expenditure = rng.gen::<f64>() < propensity;
                let beta = if expenditure {
                    &self.beta_treated
                } else {
                    &self.beta_control
                };
                let lp: f64 = z.iter().zip(beta).map(|(a, b)| a * b).sum();
                let u: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
                let death = -u.ln() / (self.baseline(expenditure) * lp.exp());
                Patient {
                    z,
                    propensity,
                    expenditure,
                    death,
                    los: self.los,
                }
            })
            .collect()
    }

    /// The true π and γ, by averaging exact survival probabilities over `draws` covariate
    /// vectors (no outcome noise: the error is the covariates' Monte Carlo error only).
    pub fn truth(&self, draws: usize, seed: u64) -> Params {
        let mut rng = medisim_core::rng::stream(seed, 1, 2);
        let (mut sum, mut count) = ([0.0f64; 4], [0usize; 2]);
        for _ in 0..draws {
            let z = self.covariates(&mut rng);
            let s = usize::from(self.good(&z));
            count[s] += 1;
            sum[2 * s] += self.survival(&z, false);
            sum[2 * s + 1] += self.survival(&z, true);
        }
        Params {
            pi00: sum[0] / count[0] as f64,
            pi01: sum[1] / count[0] as f64,
            pi10: sum[2] / count[1] as f64,
            pi11: sum[3] / count[1] as f64,
            gamma: count[1] as f64 / draws as f64,
        }
    }
}

/// The columns a cohort file must have; every other column is a covariate.
pub const REQUIRED_COLUMNS: [&str; 4] = ["propensity", "expenditure", "death", "los"];
/// Largest cohort file read.
pub const MAX_ROWS: usize = 1_000_000;

/// The most covariate columns a cohort may have (a 10,000-column file took 3.1 GB and 14 s to be
/// refused by the fit; 2,000,000 columns asked for 32 TB).
pub const MAX_COVARIATES: usize = 64;

/// The most rows × covariates² a cohort may have: the Cox fit's information matrix sums a
/// covariates × covariates outer product per row at every Newton step (a million rows of three
/// covariates, 9·10⁶, fit in about two seconds).
pub const MAX_COX_WORK: usize = 100_000_000;

/// Largest covariate magnitude read. The Cox fit sums `exp(β·z)·z·zᵀ` over a risk set, which
/// overflows long before `z` reaches the largest float (a covariate of 1e308 was reported as
/// "constant within the arm"); clinical covariates — ages, scores, laboratory values — and
/// standardised ones sit far below this.
pub const MAX_COVARIATE: f64 = 1e6;

/// A cell's number as `str::parse::<f64>` reads it after `str::trim`. The quick path parses the
/// bytes less ASCII spaces with fast-float2, which accepts a subset of what std accepts and
/// rounds correctly, as std does, so both give the same bits (test
/// `the_quick_number_reader_is_stds`); whatever it refuses goes through the full trim and std.
fn read_number(cell: &[u8]) -> Option<f64> {
    fast_float2::parse(cell.trim_ascii())
        .ok()
        .or_else(|| std::str::from_utf8(cell).ok()?.trim().parse().ok())
}

/// A cohort's CSV records. A plain text — no quote, no carriage return but in a CRLF line
/// end, what a numeric cohort file is — goes to simd-csv, which finds the separators sixteen
/// bytes at a time and there reads exactly what the csv crate reads (test
/// `plain_text_reads_as_the_csv_crate_reads_it`); any other text to the csv crate, whose quoting
/// and lone-CR line ends simd-csv does not share.
enum Records<'t> {
    /// The reader, its record, the text, and the byte the current record was read from.
    Plain(
        simd_csv::Reader<&'t [u8]>,
        simd_csv::ByteRecord,
        &'t [u8],
        u64,
    ),
    Full(csv::Reader<&'t [u8]>, csv::ByteRecord, &'t [u8]),
}

impl<'t> Records<'t> {
    fn new(text: &'t str, plain: bool) -> Self {
        let bytes = text.as_bytes();
        if plain {
            // The whole text in one buffer: no record is split across two fills.
            let reader = simd_csv::ReaderBuilder::new()
                .buffer_capacity(bytes.len().max(1))
                .from_reader(bytes);
            Records::Plain(reader, simd_csv::ByteRecord::new(), bytes, 0)
        } else {
            Records::Full(
                csv::Reader::from_reader(bytes),
                csv::ByteRecord::new(),
                bytes,
            )
        }
    }

    /// Whether `text` is plain (see [`Records`]).
    fn is_plain(text: &str) -> bool {
        let bytes = text.as_bytes();
        memchr::memchr(b'"', bytes).is_none()
            && memchr::memchr_iter(b'\r', bytes).all(|i| bytes.get(i + 1) == Some(&b'\n'))
    }

    fn header(&mut self) -> Result<Vec<String>, String> {
        let names = |h: &mut dyn Iterator<Item = &[u8]>| {
            h.map(|h| String::from_utf8_lossy(h).into_owned()).collect()
        };
        match self {
            Records::Plain(r, ..) => Ok(names(
                &mut r.byte_headers().map_err(|e| e.to_string())?.iter(),
            )),
            Records::Full(r, ..) => Ok(names(
                &mut r.byte_headers().map_err(|e| e.to_string())?.iter(),
            )),
        }
    }

    /// The next record into the one buffer each reader reuses; `false` at the end. A record
    /// the reader refuses is reported with its line where the reader knows it.
    fn next(&mut self) -> Result<bool, (String, Option<u64>)> {
        match self {
            Records::Plain(r, rec, text, start) => {
                *start = r.position();
                let from = *start;
                r.read_byte_record(rec).map_err(|e| {
                    let why = match e.kind() {
                        simd_csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => csv_fields_refusal(*len as u64, *expected_len as u64),
                        _ => e.to_string(),
                    };
                    (why, Some(csv_record_line(text, from)))
                })
            }
            Records::Full(r, rec, text) => r.read_byte_record(rec).map_err(|e| {
                // Byte records: a refusal is a field count, never a cell.
                (
                    csv_refusal(&e, |_| None),
                    e.position().map(|p| csv_record_line(text, p.byte())),
                )
            }),
        }
    }

    /// The line the current record begins on, counting from 1 as an editor does: blank lines
    /// and a quoted cell's line breaks included.
    fn line(&self) -> u64 {
        match self {
            Records::Plain(.., text, start) => csv_record_line(text, *start),
            Records::Full(_, rec, text) => rec
                .position()
                .map_or(0, |p| csv_record_line(text, p.byte())),
        }
    }

    /// Cell `i` of the current record (empty past its end).
    fn cell(&self, i: usize) -> &[u8] {
        let cell = match self {
            Records::Plain(_, rec, ..) => rec.get(i),
            Records::Full(_, rec, _) => rec.get(i),
        };
        cell.unwrap_or(b"")
    }
}

/// Read a cohort CSV: `propensity` in [0, 1], `expenditure` 0 or 1, `death` and `los` positive
/// days, and one or more numeric covariate columns. Every bad cell is named by line and column.
pub fn read_cohort(text: &str, origin: &str) -> Result<Vec<Patient>, EstimateError> {
    read_cohort_by(Records::new(text, Records::is_plain(text)), origin)
}

fn read_cohort_by(mut records: Records<'_>, origin: &str) -> Result<Vec<Patient>, EstimateError> {
    let bad = |m: String| EstimateError::Data(format!("{origin}: {m}"));
    let header = records
        .header()
        .map_err(|e| bad(format!("unreadable header: {e}")))?;
    let col = |name: &str| {
        header.iter().position(|h| h.trim() == name).ok_or_else(|| {
            bad(format!(
                "missing column `{name}` (need {})",
                REQUIRED_COLUMNS.join(", ")
            ))
        })
    };
    let idx = [
        col("propensity")?,
        col("expenditure")?,
        col("death")?,
        col("los")?,
    ];
    if header.len() > MAX_COVARIATES + REQUIRED_COLUMNS.len() {
        return Err(bad(format!(
            "{} columns; at most {MAX_COVARIATES} covariates besides {}",
            header.len(),
            REQUIRED_COLUMNS.join(", ")
        )));
    }
    let names: Vec<&str> = header.iter().map(|h| h.trim()).collect();
    if let Some((k, name)) = names
        .iter()
        .enumerate()
        .find(|(k, n)| names[..*k].contains(n))
    {
        return Err(bad(format!(
            "column {} is named `{}` like an earlier one: name each column once",
            k + 1,
            medisim_core::input::excerpt(name)
        )));
    }
    let covariates: Vec<usize> = (0..header.len()).filter(|i| !idx.contains(i)).collect();
    if covariates.is_empty() {
        return Err(bad("no covariate columns".into()));
    }

    let mut out = Vec::new();
    // One record read into again and again; a patient's covariates sit inline: a row costs no
    // allocation.
    for row in 0.. {
        // A refusal without a position (none, from a text in memory) is placed as a file
        // without blank lines would place it, as `csv_line` does.
        let read = records
            .next()
            .map_err(|(e, line)| bad(format!("line {}: {e}", line.unwrap_or(row as u64 + 2))))?;
        if !read {
            break;
        }
        // Only a refused row needs its line: counted then, not on every row.
        let line = || records.line();
        if row >= MAX_ROWS {
            return Err(bad(format!("more than {MAX_ROWS} rows")));
        }
        let num = |i: usize| -> Result<f64, EstimateError> {
            let cell = records.cell(i);
            match read_number(cell) {
                Some(v) if v.is_finite() => Ok(v),
                _ => Err(bad(format!(
                    "line {}, column `{}`: `{}` is not a finite number",
                    line(),
                    medisim_core::input::excerpt(&header[i]),
                    medisim_core::input::excerpt(String::from_utf8_lossy(cell).trim())
                ))),
            }
        };
        let (ps, e, death, los) = (num(idx[0])?, num(idx[1])?, num(idx[2])?, num(idx[3])?);
        if !(0.0..=1.0).contains(&ps) {
            return Err(bad(format!(
                "line {}: propensity must be in [0, 1], got {ps}",
                line()
            )));
        }
        if e != 0.0 && e != 1.0 {
            return Err(bad(format!(
                "line {}: expenditure must be 0 or 1, got {e}",
                line()
            )));
        }
        if !(death > 0.0 && los > 0.0) {
            return Err(bad(format!(
                "line {}: death and los must be positive days",
                line()
            )));
        }
        let covariate = |i: usize| {
            let v = num(i)?;
            if v.abs() > MAX_COVARIATE {
                return Err(bad(format!(
                    "line {}, column `{}`: covariate {} is outside [-{MAX_COVARIATE:e}, \
                     {MAX_COVARIATE:e}] (standardise it)",
                    line(),
                    &header[i],
                    medisim_core::text::number(v)
                )));
            }
            Ok(v)
        };
        let z = covariates
            .iter()
            .map(|i| covariate(*i))
            .collect::<Result<_, _>>()?;
        out.push(Patient {
            z,
            propensity: ps,
            expenditure: e == 1.0,
            death,
            los,
        });
    }
    if out.is_empty() {
        return Err(bad("no patients".into()));
    }
    let work = out.len() * covariates.len() * covariates.len();
    if work > MAX_COX_WORK {
        return Err(bad(format!(
            "{} rows × {} covariates² = {work}; the Cox fit's work per Newton step grows as \
             rows × covariates², at most {MAX_COX_WORK}",
            out.len(),
            covariates.len()
        )));
    }
    Ok(out)
}

/// Write a cohort as CSV (the format [`read_cohort`] reads).
pub fn write_cohort(patients: &[Patient]) -> String {
    let p = patients.first().map_or(0, |x| x.z.len());
    let mut s = String::from("propensity,expenditure,death,los");
    for k in 1..=p {
        s.push_str(&format!(",z{k}"));
    }
    s.push('\n');
    for x in patients {
        s.push_str(&format!(
            "{:?},{},{:?},{:?}",
            x.propensity,
            u8::from(x.expenditure),
            x.death,
            x.los
        ));
        for v in &x.z {
            s.push_str(&format!(",{v:?}"));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cox_recovers_the_generating_coefficients() {
        let g = Synthetic::default();
        let cohort = g.cohort(6000, 11);
        let arm: Vec<&Patient> = cohort.iter().filter(|p| !p.expenditure).collect();
        let time: Vec<f64> = arm.iter().map(|x| x.death.min(x.los)).collect();
        let event: Vec<bool> = arm.iter().map(|x| !x.survived()).collect();
        let z: Vec<Vec<f64>> = arm.iter().map(|x| x.z.to_vec()).collect();
        let fit = cox_fit(&time, &event, &z).unwrap();
        for (k, b) in g.beta_control.iter().enumerate() {
            assert!(
                (fit.beta[k] - b).abs() < 4.0 * fit.se[k],
                "β{k}: {} ± {} vs {b}",
                fit.beta[k],
                fit.se[k]
            );
        }
    }

    #[test]
    fn algorithm_1_recovers_the_true_pi_and_gamma() {
        let g = Synthetic::default();
        let truth = g.truth(400_000, 5);
        for seed in [21, 22, 23] {
            let e = estimate(&g.cohort(30_000, seed)).unwrap();
            let est = [e.params.pi00, e.params.pi01, e.params.pi10, e.params.pi11];
            let tru = [truth.pi00, truth.pi01, truth.pi10, truth.pi11];
            for k in 0..4 {
                let se = (tru[k] * (1.0 - tru[k]) / e.counts[k] as f64).sqrt();
                assert!(
                    (est[k] - tru[k]).abs() < 4.0 * se + 0.01,
                    "seed {seed} π{k}: {} vs {} (se {se})",
                    est[k],
                    tru[k]
                );
            }
            assert!(
                (e.params.gamma - truth.gamma).abs() < 0.02,
                "γ {} vs {}",
                e.params.gamma,
                truth.gamma
            );
        }
    }

    #[test]
    fn a_failed_cox_fit_names_its_cause() {
        // Ten patients; deaths at odd indices; two covariates built per case.
        let time: Vec<f64> = (1..=10).map(f64::from).collect();
        let died: Vec<bool> = (0..10).map(|i| i % 2 == 1).collect();
        let noise = |i: usize| ((i * 7) % 10) as f64 / 10.0;
        let rows = |f: &dyn Fn(usize) -> [f64; 2]| -> Vec<Vec<f64>> {
            (0..10).map(|i| f(i).to_vec()).collect()
        };
        let why = |event: &[bool], x: &[Vec<f64>]| {
            assert!(cox_fit(&time, event, x).is_none());
            cox_failure(event, x)
        };
        let healthy = rows(&|i| [noise(i), (i % 3) as f64]);
        assert!(
            cox_fit(&time, &died, &healthy).is_some(),
            "the control case fits"
        );
        assert!(why(&[false; 10], &healthy).contains("no patient"));
        let constant = rows(&|i| [noise(i), 2.0]);
        assert!(why(&died, &constant).contains("covariate 2 is constant"));
        let tiny = rows(&|i| [noise(i), 1e-300 * noise(i + 3)]);
        assert!(why(&died, &tiny).contains("covariate 2 varies only by"));
        let collinear = rows(&|i| [noise(i), 3.0 * noise(i) + 1.0]);
        assert!(why(&died, &collinear).contains("collinear"));
        let separating = rows(&|i| [if died[i] { 1.0 } else { -1.0 }, noise(i)]);
        assert!(why(&died, &separating).contains("separates"));
    }

    /// The dot product is nalgebra's, bit for bit, at every length up to three blocks of
    /// eight (random values over many scales).
    #[test]
    fn the_dot_product_sums_as_nalgebra_does() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(29);
        for len in 1..=25 {
            for _ in 0..200 {
                let mut draw = || rng.gen_range(-1.0..1.0) * 10f64.powi(rng.gen_range(-8..8));
                let a: Vec<f64> = (0..len).map(|_| draw()).collect();
                let b: Vec<f64> = (0..len).map(|_| draw()).collect();
                let reference = DVector::from_vec(a.clone()).dot(&DVector::from_vec(b.clone()));
                assert_eq!(
                    nalgebra_dot(&a, &b).to_bits(),
                    reference.to_bits(),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    /// The likelihood as it was written before the rows were laid out in risk-set order (each
    /// patient reached through the order, a row a vector, the outer product row-major).
    fn partial_likelihood_by_index(
        time: &[f64],
        event: &[bool],
        x: &[Vec<f64>],
        order: &[usize],
        beta: &DVector<f64>,
    ) -> (f64, DVector<f64>, DMatrix<f64>) {
        let p = beta.len();
        let (mut s0, mut s1, mut s2) = (0.0, vec![0.0; p], vec![0.0; p * p]);
        let (mut ll, mut grad, mut hess) = (0.0, vec![0.0; p], vec![0.0; p * p]);
        let mut k = 0;
        while k < order.len() {
            let t = time[order[k]];
            let (mut j, mut d, mut xsum) = (k, 0.0, vec![0.0; p]);
            while j < order.len() && time[order[j]] == t {
                let xi = &x[order[j]][..p];
                let eta = nalgebra_dot(xi, beta.as_slice());
                let w = eta.exp();
                s0 += w;
                for a in 0..p {
                    let wa = w * xi[a];
                    s1[a] += wa;
                    for b in 0..p {
                        s2[a + b * p] += wa * xi[b];
                    }
                }
                if event[order[j]] {
                    d += 1.0;
                    ll += eta;
                    for a in 0..p {
                        xsum[a] += xi[a];
                    }
                }
                j += 1;
            }
            if d > 0.0 {
                let mean: Vec<f64> = s1.iter().map(|s| s / s0).collect();
                ll -= d * s0.ln();
                for a in 0..p {
                    grad[a] += xsum[a] - d * mean[a];
                    for b in 0..p {
                        hess[a + b * p] -= d * (s2[a + b * p] / s0 - mean[a] * mean[b]);
                    }
                }
            }
            k = j;
        }
        (ll, DVector::from_vec(grad), DMatrix::from_vec(p, p, hess))
    }

    /// Laying the rows out in risk-set order changed no bit: likelihood, gradient and Hessian
    /// equal the indexed walk's on random cohorts with ties, one to five covariates.
    #[test]
    fn the_likelihood_in_risk_set_order_is_the_indexed_one_bit_for_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(41);
        for _ in 0..300 {
            let (n, p) = (rng.gen_range(1..80), rng.gen_range(1..6));
            let time: Vec<f64> = (0..n).map(|_| f64::from(rng.gen_range(1..20u8))).collect();
            let event: Vec<bool> = (0..n).map(|_| rng.gen_bool(0.6)).collect();
            let x: Vec<Vec<f64>> = (0..n)
                .map(|_| (0..p).map(|_| rng.gen_range(-3.0..3.0)).collect())
                .collect();
            let beta = DVector::from_fn(p, |_, _| rng.gen_range(-1.0..1.0));
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|a, b| time[*b].total_cmp(&time[*a]));
            let data = RiskOrder::new(&time, &event, &x, &order, p);
            let (l1, g1, h1) = partial_likelihood(&data, &beta);
            let (l2, g2, h2) = partial_likelihood_by_index(&time, &event, &x, &order, &beta);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(l1.to_bits(), l2.to_bits());
            assert_eq!(bits(g1.as_slice()), bits(g2.as_slice()));
            assert_eq!(bits(h1.as_slice()), bits(h2.as_slice()));
        }
    }

    /// The quick number reader reads exactly what `str::trim` then `str::parse::<f64>` read,
    /// bit for bit, and refuses what they refuse: on the hostile numbers, every number of a
    /// generated cohort, and 200,000 random strings over the characters a number is made of.
    #[test]
    fn the_quick_number_reader_is_stds() {
        use rand::{Rng, SeedableRng};
        let std_read = |s: &str| s.trim().parse::<f64>().ok();
        let same = |s: &str| {
            let (quick, slow) = (read_number(s.as_bytes()), std_read(s));
            assert_eq!(quick.map(f64::to_bits), slow.map(f64::to_bits), "`{s}`");
        };
        let cohort = write_cohort(&Synthetic::default().cohort(500, 3));
        let cells = cohort.lines().skip(1).flat_map(|l| l.split(','));
        for cell in medisim_core::fuzz::HOSTILE_NUMBERS
            .iter()
            .copied()
            .chain(cells)
        {
            same(cell);
            same(&format!(" {cell}\t"));
            same(&format!("\u{a0}{cell}"));
        }
        let alphabet: Vec<char> = "0123456789012345.eE+-_ xinfatyINFATYNn\u{a0}"
            .chars()
            .collect();
        let mut rng = rand_pcg::Pcg64::seed_from_u64(29);
        for _ in 0..200_000 {
            let len = rng.gen_range(0..12);
            let s: String = (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect();
            same(&s);
        }
    }

    /// Both readers on one text: `Ok` with the same patients, or both refusing it.
    fn both_readers(text: &str) -> (Result<Vec<Patient>, String>, Result<Vec<Patient>, String>) {
        let by = |plain| read_cohort_by(Records::new(text, plain), "t").map_err(|e| e.to_string());
        (by(true), by(false))
    }

    /// On a plain text simd-csv reads what the csv crate reads: blank lines, CRLF, a missing
    /// final newline, a byte-order mark, empty and padded cells, short and long rows; texts
    /// with a quote or a lone carriage return are not plain and go to the csv crate.
    #[test]
    fn plain_text_reads_as_the_csv_crate_reads_it() {
        let head = "propensity,expenditure,death,los,z1";
        let bodies = [
            "0.25,1,3.5,4,-1.5\n0.5,0,2,4,1\n",
            "0.25,1,3.5,4,-1.5\r\n0.5,0,2,4,1\r\n",
            "\n0.25,1,3.5,4,-1.5\n\n\n0.5,0,2,4,1\n\n",
            "0.25,1,3.5,4,-1.5\n0.5,0,2,4,1",
            "0.25,1,3.5,4,-1.5\n0.5,0,2,4\n",
            "0.25,1,3.5,4,-1.5,7\n",
            "0.25,1,3.5,4,\n",
            " 0.25 ,1,3.5,4,-1.5\n",
            "",
        ];
        for body in bodies {
            for text in [
                format!("{head}\n{body}"),
                format!("\u{feff}{head}\r\n{body}"),
            ] {
                assert!(Records::is_plain(&text));
                let (plain, full) = both_readers(&text);
                assert_eq!(
                    plain.is_ok(),
                    full.is_ok(),
                    "{text:?}: {plain:?} against {full:?}"
                );
                if let (Ok(a), Ok(b)) = (plain, full) {
                    assert_eq!(a, b, "{text:?}");
                }
            }
        }
        let (quoted, lone_cr) = (
            format!("{head}\n\"0.25\",1,3.5,4,-1.5\n"),
            format!("{head}\r0.25,1,3.5,4,-1.5\r"),
        );
        assert!(!Records::is_plain(&quoted) && !Records::is_plain(&lone_cr));
        assert_eq!(read_cohort(&quoted, "q").unwrap().len(), 1);
        assert_eq!(read_cohort(&lone_cr, "r").unwrap().len(), 1);
        let short = format!("{head}\n0.25,1,3.5,4,-1.5\n0.5,0,2,4\n");
        let err = read_cohort(&short, "s").unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("4 fields"), "{err}");
    }

    /// A refused row is named by the line an editor shows it on, blank lines and a quoted
    /// cell's line breaks counted, by both readers and whatever the line ends.
    #[test]
    fn a_refused_row_is_named_by_its_line_after_blank_lines() {
        let head = "propensity,expenditure,death,los,z1";
        let rows = [
            ("0.5,0,2,4,oops", "line 5, column `z1`"),
            ("2,0,2,4,1", "line 5: propensity"),
            ("0.5,0,2,4", "line 5: 4 fields where the header has 5"),
        ];
        // The readers' own line counts leave out blank lines: not repeated in the message.
        let check = |text: &str, err: String| {
            assert!(!err.contains("line: "), "{text:?}: {err}");
            err
        };
        for (bad, says) in rows {
            for end in ["\n", "\r\n", "\r"] {
                for last in [end, ""] {
                    let text = [head, "0.25,1,3.5,4,-1.5", "", "", bad].join(end) + last;
                    let (plain, full) = both_readers(&text);
                    // simd-csv reads a lone CR otherwise: such a text is never plain.
                    let errs = if end == "\r" {
                        assert!(!Records::is_plain(&text));
                        vec![full.unwrap_err()]
                    } else {
                        vec![plain.unwrap_err(), full.unwrap_err()]
                    };
                    for err in errs {
                        let err = check(&text, err);
                        assert!(err.contains(says), "{text:?}: {err}");
                    }
                }
            }
            // A quoted header cell across two lines moves every row down one.
            let text = format!("{head},\"z\n2\"\n0.25,1,3.5,4,-1.5,0\n\n{bad},0\n");
            assert!(!Records::is_plain(&text));
            let err = check(&text, read_cohort(&text, "q").unwrap_err().to_string());
            let says = says.replace(
                "4 fields where the header has 5",
                "5 fields where the header has 6",
            );
            assert!(err.contains(&says), "{text:?}: {err}");
        }
    }

    proptest::proptest! {
        /// The same on byte edits of a real cohort (edits that make it not plain skipped).
        #[test]
        fn plain_edits_read_alike_by_both_readers(
            edits in proptest::collection::vec((proptest::prelude::any::<usize>(), 0u8..4,
                proptest::prelude::any::<u8>()), 0..8),
        ) {
            let text = write_cohort(&Synthetic::default().cohort(60, 5));
            let bytes = medisim_core::fuzz::mutate(text.as_bytes(), &edits);
            let text = String::from_utf8_lossy(&bytes);
            proptest::prop_assume!(Records::is_plain(&text));
            let (plain, full) = both_readers(&text);
            // The same patients, or the same refusal, line and words.
            proptest::prop_assert_eq!(plain, full);
        }
    }

    /// Cells padded with any whitespace `str::trim` removes read as the bare numbers do (ASCII
    /// spaces take the quick path; a no-break space or vertical tab the full trim).
    #[test]
    fn padded_cells_read_as_their_numbers() {
        let bare = "propensity,expenditure,death,los,z1\n0.25,1,3.5,4,-1.5\n";
        let padded =
            "propensity,expenditure,death,los,z1\n 0.25\t,\u{a0}1,\u{b}3.5, 4 ,-1.5\u{2003}\n";
        let (a, b) = (
            read_cohort(bare, "a").unwrap(),
            read_cohort(padded, "b").unwrap(),
        );
        assert_eq!(a[0].z, b[0].z);
        assert_eq!(
            (a[0].propensity, a[0].death, a[0].los),
            (b[0].propensity, b[0].death, b[0].los)
        );
        let err = read_cohort(
            "propensity,expenditure,death,los,z1\n0.25,1,3.5,4, x\u{a0}\n",
            "c",
        );
        assert!(format!("{:?}", err.unwrap_err()).contains("`x` is not a finite number"));
    }

    #[test]
    fn ties_follow_breslow() {
        // Two events tied at t = 1 with one covariate: the Breslow log partial likelihood at
        // β = 0 is −2 ln 3 (three at risk), and its gradient is Σ x_events − 2 · mean x.
        let time = [1.0, 1.0, 2.0];
        let event = [true, true, false];
        let x = vec![vec![1.0], vec![0.0], vec![2.0]];
        let data = RiskOrder::new(&time, &event, &x, &[2, 0, 1], 1);
        let (ll, g, _) = partial_likelihood(&data, &DVector::zeros(1));
        assert!((ll + 2.0 * 3f64.ln()).abs() < 1e-12);
        assert!((g[0] - (1.0 - 2.0 * 1.0)).abs() < 1e-12);
    }

    /// The walk the pointers replaced: quadratic on ties, but plainly right.
    fn match_by_walking(patients: &[Patient]) -> Vec<(usize, usize)> {
        let mut controls: Vec<usize> = (0..patients.len())
            .filter(|i| !patients[*i].expenditure)
            .collect();
        controls.sort_by(|a, b| {
            let (x, y) = (patients[*a].propensity, patients[*b].propensity);
            x.total_cmp(&y).then(a.cmp(b))
        });
        let mut taken = vec![false; controls.len()];
        let mut pairs = Vec::new();
        for (i, t) in patients.iter().enumerate().filter(|(_, p)| p.expenditure) {
            let at = controls.partition_point(|c| patients[*c].propensity < t.propensity);
            let (mut lo, mut hi) = (at, at);
            while lo > 0 && taken[lo - 1] {
                lo -= 1;
            }
            while hi < controls.len() && taken[hi] {
                hi += 1;
            }
            let dist = |k: usize| (patients[controls[k]].propensity - t.propensity).abs();
            let best = match (
                (lo > 0).then(|| lo - 1),
                (hi < controls.len()).then_some(hi),
            ) {
                (Some(l), Some(r)) => Some(if dist(l) <= dist(r) { l } else { r }),
                (l, r) => l.or(r),
            };
            let Some(k) = best else { break };
            taken[k] = true;
            pairs.push((i, controls[k]));
        }
        pairs
    }

    #[test]
    fn next_free_pointers_match_exactly_as_the_walk_did() {
        use rand::SeedableRng;
        let mut rng = rand_pcg::Pcg64::seed_from_u64(26);
        for case in 0..300 {
            let n = rng.gen_range(1..60);
            // Few distinct scores, so runs of ties and of taken controls are long.
            let levels = rng.gen_range(1..6);
            let cohort: Vec<Patient> = (0..n)
                .map(|_| Patient {
                    z: smallvec::smallvec![0.0],
                    propensity: rng.gen_range(0..levels) as f64 / levels as f64,
                    expenditure: rng.gen_bool(0.5),
                    death: 1.0,
                    los: 1.0,
                })
                .collect();
            assert_eq!(
                match_one_to_one(&cohort),
                match_by_walking(&cohort),
                "case {case}"
            );
        }
    }

    #[test]
    fn matching_pairs_each_treated_with_its_nearest_free_control() {
        let mk = |ps: f64, t: bool| Patient {
            z: smallvec::smallvec![0.0],
            propensity: ps,
            expenditure: t,
            death: 100.0,
            los: 30.0,
        };
        let cohort = vec![
            mk(0.5, true),
            mk(0.52, false),
            mk(0.49, false),
            mk(0.51, true),
            mk(0.9, false),
        ];
        assert_eq!(match_one_to_one(&cohort), vec![(0, 2), (3, 1)]);
    }
}
