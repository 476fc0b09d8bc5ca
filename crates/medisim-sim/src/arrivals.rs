//! Identify, first half: who arrives. Arrival kernels sit behind one trait (paper Appendix L):
//! any kernel that is sampled before provider actions leaves the IPS loop and the channel
//! definitions intact.

use crate::scenario::{CaseMix, Kernel, Scenario};
use medisim_core::input::csv_refusal;
use rand::distributions::{Distribution, Uniform, WeightedIndex};
use rand::Rng;
use rand_distr::{Gamma, Normal, Poisson};
use rand_pcg::Pcg64;
use std::path::Path;
use std::sync::Arc;

/// One patient, as generated; the simulator adds coding and waiting state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrival {
    /// True macro-DRG group g*.
    pub group: usize,
    /// True complexity CMI* in [0, 1].
    pub cmi: f64,
    pub urgency: f64,
    /// Periods of waiting the patient tolerates before leaving.
    pub tolerance: u32,
}

/// A source of arrivals.
pub trait ArrivalKernel: Send + Sync {
    /// Append the arrivals of period `t` (1-based) to `out`.
    fn sample(&self, t: u32, rng: &mut Pcg64, out: &mut Vec<Arrival>);
    fn name(&self) -> &'static str;
}

/// Draws patient attributes from the case mix.
#[derive(Clone, Debug)]
pub struct CaseMixSampler {
    groups: WeightedIndex<f64>,
    mix: CaseMix,
    noise: Normal<f64>,
    /// The complexity spread's uniform on [−spread, spread], built once: `gen_range` on an
    /// inclusive float range builds exactly this sampler on every call.
    spread: Option<Uniform<f64>>,
}

impl CaseMixSampler {
    pub fn new(mix: &CaseMix) -> Self {
        CaseMixSampler {
            groups: WeightedIndex::new(&mix.shares).expect("validated shares"),
            mix: mix.clone(),
            noise: Normal::new(0.0, mix.urgency_noise).expect("validated noise"),
            spread: (mix.cmi_spread > 0.0)
                .then(|| Uniform::new_inclusive(-mix.cmi_spread, mix.cmi_spread)),
        }
    }

    pub fn draw(&self, rng: &mut Pcg64) -> Arrival {
        let m = &self.mix;
        let group = self.groups.sample(rng);
        let spread = self.spread.map_or(0.0, |u| u.sample(rng));
        let cmi = (m.cmi[group] + spread).clamp(0.0, 1.0);
        let urgency =
            (m.urgency_base + m.urgency_slope * cmi + self.noise.sample(rng)).clamp(0.0, 1.0);
        // Urgent patients tolerate less waiting.
        let extra = f64::from(rng.gen_range(0..=m.tolerance_range)) * (1.0 - 0.5 * urgency);
        let tolerance = m.tolerance_min + round_non_negative(extra);
        Arrival {
            group,
            cmi,
            urgency,
            tolerance,
        }
    }
}

/// `x.round() as u32` for 0 ≤ x < 2³²: the whole part by truncation, plus one from a
/// fractional part of one half or more (halves away from zero, as `round`). The fraction
/// x − ⌊x⌋ is exact, so this equals `round`, without its libm call.
fn round_non_negative(x: f64) -> u32 {
    debug_assert!((0.0..4_294_967_296.0).contains(&x));
    let whole = x as u32;
    whole + u32::from(x - f64::from(whole) >= 0.5)
}

/// Homogeneous Poisson (Eq. 10).
pub struct PoissonKernel {
    pub count: Poisson<f64>,
    pub sampler: CaseMixSampler,
}

impl ArrivalKernel for PoissonKernel {
    fn sample(&self, _t: u32, rng: &mut Pcg64, out: &mut Vec<Arrival>) {
        let n = self.count.sample(rng) as usize;
        out.extend((0..n).map(|_| self.sampler.draw(rng)));
    }
    fn name(&self) -> &'static str {
        "poisson"
    }
}

/// Non-homogeneous Poisson from a cyclic rate schedule.
pub struct ScheduleKernel {
    pub rates: Vec<f64>,
    pub sampler: CaseMixSampler,
}

impl ArrivalKernel for ScheduleKernel {
    fn sample(&self, t: u32, rng: &mut Pcg64, out: &mut Vec<Arrival>) {
        let rate = self.rates[(t as usize - 1) % self.rates.len()];
        let n = if rate > 0.0 {
            Poisson::new(rate).expect("positive rate").sample(rng) as usize
        } else {
            0
        };
        out.extend((0..n).map(|_| self.sampler.draw(rng)));
    }
    fn name(&self) -> &'static str {
        "schedule"
    }
}

/// Over-dispersed counts: a gamma-Poisson mixture, i.e. negative binomial with the given mean
/// and size `r` (variance mean + mean² / r).
pub struct NegativeBinomialKernel {
    pub intensity: Gamma<f64>,
    pub sampler: CaseMixSampler,
}

impl ArrivalKernel for NegativeBinomialKernel {
    fn sample(&self, _t: u32, rng: &mut Pcg64, out: &mut Vec<Arrival>) {
        let lambda = self.intensity.sample(rng);
        let n = if lambda > 0.0 {
            Poisson::new(lambda).expect("positive").sample(rng) as usize
        } else {
            0
        };
        out.extend((0..n).map(|_| self.sampler.draw(rng)));
    }
    fn name(&self) -> &'static str {
        "negative_binomial"
    }
}

/// Longest replay, in periods (its memory is one list per period).
pub const MAX_REPLAY_PERIODS: u32 = 100_000;
/// Most arrivals in one replay file.
pub const MAX_REPLAY_ROWS: usize = 1_000_000;
/// Largest replay file: a million rows of 128 bytes, about twice a row of five numbers written
/// at full precision.
pub const MAX_REPLAY_BYTES: u64 = MAX_REPLAY_ROWS as u64 * 128;
/// Most arrivals in one replayed period (ten times the scenario's largest rate).
pub const MAX_REPLAY_PER_PERIOD: usize = 10 * crate::scenario::MAX_RATE as usize;

/// Replay of a recorded stream: CSV with columns `period,group,cmi,urgency,tolerance`
/// (period 1-based, group 0-based). Periods past the last recorded one cycle back to period 1.
pub struct ReplayKernel {
    by_period: Arc<Vec<Vec<Arrival>>>,
}

impl ReplayKernel {
    pub fn from_csv(path: &Path, groups: usize) -> Result<Self, String> {
        let text = medisim_core::input::read_text(path, MAX_REPLAY_BYTES, "replay file")
            .map_err(|e| e.to_string())?;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        #[derive(serde::Deserialize)]
        struct Row {
            period: u32,
            group: usize,
            cmi: f64,
            urgency: f64,
            tolerance: u32,
        }
        let at = |line: u64| format!("{}: line {line}", path.display());
        let headers = reader
            .headers()
            .map_err(|e| format!("{}: unreadable header: {e}", path.display()))?
            .clone();
        let mut record = csv::StringRecord::new();
        let mut by_period: Vec<Vec<Arrival>> = Vec::new();
        for i in 0.. {
            // Where the reader begins this row: its line, counted only for a refused row.
            let from = reader.position().byte();
            let line = || medisim_core::input::csv_record_line(text.as_bytes(), from);
            let refused =
                |e: csv::Error| format!("{}: {}", at(line()), csv_refusal(&e, |i| headers.get(i)));
            if !reader.read_record(&mut record).map_err(refused)? {
                break;
            }
            let r: Row = record.deserialize(Some(&headers)).map_err(refused)?;
            if r.period == 0
                || r.period > MAX_REPLAY_PERIODS
                || r.group >= groups
                || !(0.0..=1.0).contains(&r.cmi)
                || !(0.0..=1.0).contains(&r.urgency)
                || r.tolerance == 0
                || r.tolerance > 1000
            {
                return Err(format!(
                    "{}: need period in [1, {MAX_REPLAY_PERIODS}], group in [0, {}], \
                     cmi and urgency in [0, 1], tolerance in [1, 1000]",
                    at(line()),
                    groups - 1
                ));
            }
            if i >= MAX_REPLAY_ROWS {
                return Err(format!(
                    "{}: more than {MAX_REPLAY_ROWS} rows; a replay holds at most that many arrivals",
                    path.display()
                ));
            }
            let p = r.period as usize;
            if by_period.len() < p {
                by_period.resize(p, Vec::new());
            }
            if by_period[p - 1].len() >= MAX_REPLAY_PER_PERIOD {
                return Err(format!(
                    "{}: period {p} has more than {MAX_REPLAY_PER_PERIOD} arrivals",
                    at(line())
                ));
            }
            by_period[p - 1].push(Arrival {
                group: r.group,
                cmi: r.cmi,
                urgency: r.urgency,
                tolerance: r.tolerance,
            });
        }
        if by_period.is_empty() {
            return Err(format!("{}: no arrivals", path.display()));
        }
        Ok(ReplayKernel {
            by_period: Arc::new(by_period),
        })
    }
}

impl ArrivalKernel for ReplayKernel {
    fn sample(&self, t: u32, _rng: &mut Pcg64, out: &mut Vec<Arrival>) {
        out.extend_from_slice(&self.by_period[(t as usize - 1) % self.by_period.len()]);
    }
    fn name(&self) -> &'static str {
        "replay"
    }
}

/// Build the scenario's kernel (validated scenarios only).
pub fn kernel(s: &Scenario) -> Result<Arc<dyn ArrivalKernel>, String> {
    let a = &s.arrivals;
    let sampler = CaseMixSampler::new(&s.case_mix);
    Ok(match a.kernel {
        Kernel::Poisson => Arc::new(PoissonKernel {
            count: Poisson::new(a.rate).map_err(|e| e.to_string())?,
            sampler,
        }),
        Kernel::Schedule => Arc::new(ScheduleKernel {
            rates: a.schedule.clone(),
            sampler,
        }),
        Kernel::NegativeBinomial => Arc::new(NegativeBinomialKernel {
            intensity: Gamma::new(a.dispersion, a.rate / a.dispersion)
                .map_err(|e| e.to_string())?,
            sampler,
        }),
        Kernel::Replay => Arc::new(ReplayKernel::from_csv(
            Path::new(&a.replay_file),
            s.groups(),
        )?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};

    #[test]
    fn rounding_a_tolerance_is_round_bit_for_bit() {
        let mut rng = stream(5, 0, Purpose::Patients);
        for k in 0..200_000u32 {
            let x = f64::from(k % 40) * rng.gen::<f64>();
            assert_eq!(round_non_negative(x), x.round() as u32, "{x}");
        }
        for x in [0.0, 0.5, 1.5, 2.5, 0.49999999999999994, 4_294_967_295.4] {
            assert_eq!(round_non_negative(x), x.round() as u32, "{x}");
        }
    }

    fn counts(s: &Scenario, periods: u32) -> Vec<usize> {
        let k = kernel(s).unwrap();
        let mut rng = stream(0, 1, Purpose::Patients);
        let mut out = Vec::new();
        (1..=periods)
            .map(|t| {
                out.clear();
                k.sample(t, &mut rng, &mut out);
                out.len()
            })
            .collect()
    }

    fn mean_var(v: &[usize]) -> (f64, f64) {
        let n = v.len() as f64;
        let m = v.iter().sum::<usize>() as f64 / n;
        (
            m,
            v.iter().map(|x| (*x as f64 - m).powi(2)).sum::<f64>() / (n - 1.0),
        )
    }

    #[test]
    fn poisson_counts_have_the_configured_mean_and_equal_variance() {
        let (m, v) = mean_var(&counts(&Scenario::default(), 4000));
        assert!((m - 9.0).abs() < 0.2, "{m}");
        assert!((v / m - 1.0).abs() < 0.1, "{v}");
    }

    #[test]
    fn negative_binomial_is_over_dispersed() {
        let mut s = Scenario::default();
        s.arrivals.kernel = Kernel::NegativeBinomial;
        let (m, v) = mean_var(&counts(&s, 4000));
        assert!((m - 9.0).abs() < 0.3, "{m}");
        // variance = 9 + 81 / 4 = 29.25
        assert!(v > 22.0 && v < 37.0, "{v}");
    }

    #[test]
    fn schedule_follows_its_rates() {
        let mut s = Scenario::default();
        s.arrivals.kernel = Kernel::Schedule;
        s.arrivals.schedule = vec![2.0, 20.0];
        let c = counts(&s, 2000);
        let odd: Vec<usize> = c.iter().step_by(2).copied().collect();
        let even: Vec<usize> = c.iter().skip(1).step_by(2).copied().collect();
        assert!((mean_var(&odd).0 - 2.0).abs() < 0.3 && (mean_var(&even).0 - 20.0).abs() < 0.6);
    }

    #[test]
    fn replay_reproduces_the_file_and_reports_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(
            &p,
            "period,group,cmi,urgency,tolerance\n1,0,0.1,0.3,4\n1,5,0.9,0.8,2\n3,2,0.4,0.5,5\n",
        )
        .unwrap();
        let k = ReplayKernel::from_csv(&p, 6).unwrap();
        let mut rng = stream(0, 1, Purpose::Patients);
        let mut out = Vec::new();
        let per: Vec<usize> = (1..=4)
            .map(|t| {
                out.clear();
                k.sample(t, &mut rng, &mut out);
                out.len()
            })
            .collect();
        assert_eq!(per, vec![2, 0, 1, 2]);
        std::fs::write(&p, "period,group,cmi,urgency,tolerance\n1,9,0.1,0.3,4\n").unwrap();
        let e = ReplayKernel::from_csv(&p, 6).err().unwrap();
        assert!(e.contains("a.csv: line 2"), "{e}");
        // A blank line before the row moves it down one line.
        std::fs::write(
            &p,
            "period,group,cmi,urgency,tolerance\n\n1,0,0.1,0.3,4\n1,9,0.1,0.3,4\n",
        )
        .unwrap();
        let e = ReplayKernel::from_csv(&p, 6).err().unwrap();
        assert!(e.contains("a.csv: line 4"), "{e}");
        std::fs::write(&p, "period,group,cmi,urgency,tolerance\n\n1,0,0.1,0.3\n").unwrap();
        let e = ReplayKernel::from_csv(&p, 6).err().unwrap();
        assert!(
            e.contains("a.csv: line 3: 4 fields where the header has 5"),
            "{e}"
        );
        // Old Mac line ends (a lone CR) count as line ends.
        std::fs::write(
            &p,
            "period,group,cmi,urgency,tolerance\r\r1,0,0.1,0.3,4\r1,9,0.1,0.3,4\r",
        )
        .unwrap();
        let e = ReplayKernel::from_csv(&p, 6).err().unwrap();
        assert!(e.contains("a.csv: line 4"), "{e}");
        // A cell that is not a number is named by its column, as the user counts it.
        std::fs::write(&p, "period,group,cmi,urgency,tolerance\n1,0,abc,0.3,4\n").unwrap();
        let e = ReplayKernel::from_csv(&p, 6).err().unwrap();
        assert!(e.contains("a.csv: line 2: column `cmi`: "), "{e}");
    }

    #[test]
    fn a_replay_cannot_ask_for_unbounded_memory() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        std::fs::write(
            &p,
            "period,group,cmi,urgency,tolerance\n4294967295,0,0.1,0.3,4\n",
        )
        .unwrap();
        let start = std::time::Instant::now();
        let e = ReplayKernel::from_csv(&p, 6).err().unwrap();
        assert!(e.contains("line 2") && e.contains("[1, 100000]"), "{e}");
        assert!(start.elapsed().as_secs() < 5);
        let crowded: String = std::iter::once("period,group,cmi,urgency,tolerance\n".to_string())
            .chain((0..=MAX_REPLAY_PER_PERIOD).map(|_| "1,0,0.1,0.3,4\n".to_string()))
            .collect();
        std::fs::write(&p, crowded).unwrap();
        let e = ReplayKernel::from_csv(&p, 6).err().unwrap();
        assert!(e.contains("period 1 has more than 5000"), "{e}");
    }
}
