//! Channel-level diagnostics: accumulated during a rollout, finished into named metrics, and
//! summarised across seeds. `docs/metrics.md` defines every metric precisely.

use crate::arrivals::Arrival;
use crate::engine::{mean, ratio};
use crate::scenario::Scenario;
use medisim_dsl::AdminLevers;
use serde::{Deserialize, Serialize};

/// The social objective a return is computed for (paper Eq. 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveKind {
    Welfare,
    Profit,
    Mixed,
}

impl std::str::FromStr for ObjectiveKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "welfare" => Ok(ObjectiveKind::Welfare),
            "profit" => Ok(ObjectiveKind::Profit),
            "mixed" => Ok(ObjectiveKind::Mixed),
            other => Err(format!(
                "unknown objective `{other}`: expected welfare, profit or mixed"
            )),
        }
    }
}

macro_rules! metrics {
    ($( $group:literal : [ $($name:ident),* $(,)? ] )*) => {
        /// Metric names, in output order.
        pub const METRIC_NAMES: &[&str] = &[$($(stringify!($name)),*),*];
        /// The channel each metric belongs to, for grouped tables.
        pub const METRIC_GROUPS: &[(&str, &[&str])] = &[$(($group, &[$(stringify!($name)),*])),*];

        /// Every diagnostic of one rollout.
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct RolloutMetrics {
            $($(pub $name: f64,)*)*
        }

        impl RolloutMetrics {
            /// Values in [`METRIC_NAMES`] order.
            pub fn values(&self) -> Vec<f64> {
                vec![$($(self.$name),*),*]
            }

            pub fn get(&self, name: &str) -> Option<f64> {
                match name {
                    $($(stringify!($name) => Some(self.$name),)*)*
                    _ => None,
                }
            }
        }
    };
}

metrics! {
    "coding": [upcoding_rate, coded_cmi_inflation]
    "selection": [rejection_rate, rejection_high_cmi, rejection_low_cmi, cherry_picking_gap, abandonment_rate]
    "delay": [deferral_rate, deferral_high_cmi, deferral_low_cmi, deferral_gap, strategic_delay_high_cmi, strategic_delay_low_cmi, strategic_delay_gap]
    "effort": [mean_effort, effort_per_cmi, effort_per_health]
    "outcomes": [arrival_rate, mean_health, mean_health_gain, mean_cost, health_per_cost, mean_waiting, mean_waiting_treated, throughput, utilization, terminal_funds, reputation]
    "measurement": [corr_kpi_health, corr_bonus_health, lagging_accepted_cmi, lagging_easy_case_tilt, cv_load, cv_accepted_cmi, cv_outcome, mean_bonus, bonus_pressure]
    "provider": [doctor_utility, doctor_margin]
    "objective": [return_welfare, return_profit, return_mixed, discounted_return, v_urgent_rejection, v_insolvency, v_upcoding, v_waiting, v_high_cmi_deferral, violation_score, fitness]
}

/// One team in one period.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TeamRecord {
    pub replicate: u64,
    pub period: u32,
    pub team: usize,
    pub beds: u32,
    pub queue_before: usize,
    pub decided: usize,
    pub treated: usize,
    pub rejected: usize,
    pub deferred: usize,
    pub abandoned: usize,
    pub queue_after: usize,
    pub detected: usize,
    pub load: f64,
    pub revenue: f64,
    pub cost: f64,
    pub penalties: f64,
    pub outcome_sum: f64,
    pub health_gain: f64,
    pub wait_sum: f64,
    pub cmi_sum: f64,
    pub kpi: f64,
    pub bonus: f64,
    pub bonus_pressure: f64,
    pub utility: f64,
}

impl TeamRecord {
    pub fn new(period: u32, team: usize, beds: u32, queue: usize) -> Self {
        TeamRecord {
            period,
            team,
            beds,
            queue_before: queue,
            ..TeamRecord::default()
        }
    }

    /// Measured performance (Eq. 5): mean outcome, mean wait and mean cost of the team's treated
    /// patients (cost normalised by `response.kpi_cost_ref`), and its rejection rate. A team
    /// that treated nobody has no outcome, cost or waiting to average and is scored on its
    /// rejections alone.
    pub fn kpi_inputs(&self, lv: &AdminLevers, s: &Scenario) -> f64 {
        let n = self.treated as f64;
        let (h, c, w) = if self.treated > 0 {
            (
                self.outcome_sum / n,
                self.cost / n / s.response.kpi_cost_ref,
                self.wait_sum / n,
            )
        } else {
            (0.0, 0.0, 0.0)
        };
        let rej = ratio(self.rejected as f64, self.decided as f64);
        lv.w_h * h - lv.w_w * w - lv.w_rej * rej - lv.w_c * c
    }
}

/// One period of the hospital.
#[derive(Clone, Debug, Default)]
pub struct PeriodRecord {
    pub t: u32,
    pub alpha: f64,
    pub beta: f64,
    pub total_capacity: u32,
    pub arrivals: usize,
    pub upcoded: usize,
    pub teams: Vec<TeamRecord>,
    pub profit: f64,
    pub funds: f64,
    pub reputation: f64,
    pub wbar: f64,
    pub rejection: f64,
}

impl PeriodRecord {
    pub fn reset(&mut self, t: u32, lv: &AdminLevers) {
        self.t = t;
        self.alpha = lv.alpha;
        self.beta = lv.beta;
        self.total_capacity = lv.total_capacity;
        self.arrivals = 0;
        self.upcoded = 0;
        self.teams.clear();
    }
}

/// Running sums for a Pearson correlation.
#[derive(Clone, Copy, Debug, Default)]
struct Pearson {
    n: f64,
    x: f64,
    y: f64,
    xx: f64,
    yy: f64,
    xy: f64,
}

impl Pearson {
    fn add(&mut self, x: f64, y: f64) {
        self.n += 1.0;
        self.x += x;
        self.y += y;
        self.xx += x * x;
        self.yy += y * y;
        self.xy += x * y;
    }

    fn value(&self) -> f64 {
        let cov = self.xy - self.x * self.y / self.n;
        let vx = self.xx - self.x * self.x / self.n;
        let vy = self.yy - self.y * self.y / self.n;
        // No pairs, one pair, or no variance: undefined, reported as 0 (docs/metrics.md). The
        // negated test also catches the NaN of an empty accumulator.
        if !(self.n >= 2.0 && vx > 1e-12 && vy > 1e-12) {
            0.0
        } else {
            cov / (vx * vy).sqrt()
        }
    }
}

/// Counts by complexity class: index 0 low-CMI, 1 high-CMI.
type ByClass = [f64; 2];

#[derive(Clone, Debug, Default)]
struct PeriodCounts {
    decided: ByClass,
    voluntary: ByClass,
    urgent_rejected: f64,
}

/// Accumulates one rollout's diagnostics.
pub struct Accumulator {
    objective: crate::scenario::Objective,
    horizon: u32,
    keep_trace: bool,
    trace: Vec<TeamRecord>,
    arrivals: f64,
    upcoded: f64,
    inflation: f64,
    decided: ByClass,
    voluntary: ByClass,
    strategic: ByClass,
    treated: ByClass,
    rejected: ByClass,
    abandoned: ByClass,
    effort: f64,
    cmi_treated: f64,
    outcome: f64,
    gain: f64,
    cost: f64,
    wait: f64,
    /// Waits of every patient who left (treated, rejected or abandoned).
    wait_left: f64,
    kpi_health: Pearson,
    bonus_health: Pearson,
    lag_accepted_cmi: f64,
    lag_accepted: f64,
    lag_decided: ByClass,
    lag_accept: ByClass,
    cv_load: (f64, f64),
    cv_cmi: (f64, f64),
    cv_outcome: (f64, f64),
    bonus: f64,
    bonus_pressure: f64,
    utility: f64,
    margin: f64,
    team_periods: f64,
    capacity: f64,
    g: [f64; 3],
    discount: f64,
    v: [f64; 5],
    cur: PeriodCounts,
}

impl Accumulator {
    pub fn new(s: &Scenario, horizon: u32, keep_trace: bool) -> Self {
        Accumulator {
            objective: s.objective.clone(),
            horizon,
            keep_trace,
            trace: Vec::new(),
            arrivals: 0.0,
            upcoded: 0.0,
            inflation: 0.0,
            decided: [0.0; 2],
            voluntary: [0.0; 2],
            strategic: [0.0; 2],
            treated: [0.0; 2],
            rejected: [0.0; 2],
            abandoned: [0.0; 2],
            effort: 0.0,
            cmi_treated: 0.0,
            outcome: 0.0,
            gain: 0.0,
            cost: 0.0,
            wait: 0.0,
            wait_left: 0.0,
            kpi_health: Pearson::default(),
            bonus_health: Pearson::default(),
            lag_accepted_cmi: 0.0,
            lag_accepted: 0.0,
            lag_decided: [0.0; 2],
            lag_accept: [0.0; 2],
            cv_load: (0.0, 0.0),
            cv_cmi: (0.0, 0.0),
            cv_outcome: (0.0, 0.0),
            bonus: 0.0,
            bonus_pressure: 0.0,
            utility: 0.0,
            margin: 0.0,
            team_periods: 0.0,
            capacity: 0.0,
            g: [0.0; 3],
            discount: 1.0,
            v: [0.0; 5],
            cur: PeriodCounts::default(),
        }
    }

    pub fn coded(&mut self, a: &Arrival, coded: usize, s: &Scenario) {
        self.arrivals += 1.0;
        self.upcoded += f64::from(u8::from(coded > a.group));
        self.inflation += s.case_mix.cmi[coded] - s.case_mix.cmi[a.group];
    }

    /// One triage decision (before capacity resolution).
    pub fn triage(&mut self, cmi: f64, high: bool, accepted: bool, lagging: bool) {
        let k = usize::from(high);
        self.decided[k] += 1.0;
        self.cur.decided[k] += 1.0;
        if lagging {
            self.lag_decided[k] += 1.0;
            if accepted {
                self.lag_accept[k] += 1.0;
                self.lag_accepted += 1.0;
                self.lag_accepted_cmi += cmi;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    /// One treated patient; the team record carries its effort, outcome, cost and revenue.
    pub fn treated(&mut self, wait: u32, high: bool) {
        self.treated[usize::from(high)] += 1.0;
        self.wait_left += f64::from(wait);
    }

    /// A patient kept in the queue: `voluntary` by triage_defer (not for lack of a bed), and
    /// `strategic` if a bed was still free when the decision was made.
    pub fn deferred(&mut self, high: bool, voluntary: bool, strategic: bool) {
        let k = usize::from(high);
        if voluntary {
            self.voluntary[k] += 1.0;
            self.cur.voluntary[k] += 1.0;
        }
        if strategic {
            self.strategic[k] += 1.0;
        }
    }

    pub fn rejected(&mut self, high: bool, urgent: bool, wait: u32) {
        self.rejected[usize::from(high)] += 1.0;
        self.wait_left += f64::from(wait);
        self.cur.urgent_rejected += f64::from(u8::from(urgent));
    }

    pub fn abandoned(&mut self, high: bool, wait: u32) {
        self.abandoned[usize::from(high)] += 1.0;
        self.wait_left += f64::from(wait);
    }

    /// Close a period: team-level diagnostics, rewards and violations.
    pub fn period(&mut self, p: &PeriodRecord, replicate: u64) {
        let o = &self.objective;
        let j = p.teams.len() as f64;
        for r in &p.teams {
            // Rollout totals are the sums of the team records.
            self.effort += r.load;
            self.cmi_treated += r.cmi_sum;
            self.outcome += r.outcome_sum;
            self.gain += r.health_gain;
            self.cost += r.cost;
            self.wait += r.wait_sum;
            // The cross-team panel of measured versus true performance: teams that treated
            // someone (an idle team's KPI has no health term to compare).
            if r.treated > 0 {
                self.kpi_health.add(r.kpi, r.health_gain);
                self.bonus_health.add(r.bonus, r.health_gain);
            }
            self.bonus += r.bonus;
            self.bonus_pressure += r.bonus_pressure;
            self.utility += r.utility;
            if r.treated > 0 {
                self.margin += (r.revenue - r.cost) / r.treated as f64;
            }
            self.team_periods += 1.0;
        }
        self.capacity += f64::from(p.total_capacity);
        cv(&mut self.cv_load, p.teams.iter().map(|r| r.load));
        cv(
            &mut self.cv_cmi,
            p.teams
                .iter()
                .filter(|r| r.treated > 0)
                .map(|r| r.cmi_sum / r.treated as f64),
        );
        cv(
            &mut self.cv_outcome,
            p.teams
                .iter()
                .filter(|r| r.treated > 0)
                .map(|r| r.outcome_sum / r.treated as f64),
        );

        // Per-period rewards (Eqs. 3, 9) and violations.
        let gain: f64 = p.teams.iter().map(|r| r.health_gain).sum();
        let welfare = gain / j - 0.1 * p.wbar - 0.5 * p.rejection;
        let profit = p.profit / o.profit_scale;
        let mixed = 0.5 * p.funds.max(1.0).ln() / 10.0 + 0.5 * p.reputation;
        for (g, r) in self.g.iter_mut().zip([welfare, profit, mixed]) {
            *g += self.discount * r;
        }
        self.discount *= o.discount;
        let decided: f64 = self.cur.decided.iter().sum();
        let v = [
            ratio(self.cur.urgent_rejected, decided),
            f64::from(u8::from(p.funds < 0.0)),
            ratio(p.upcoded as f64, p.arrivals as f64),
            (p.wbar - o.waiting_limit).max(0.0),
            (ratio(self.cur.voluntary[1], self.cur.decided[1]) - o.deferral_limit).max(0.0),
        ];
        for (acc, x) in self.v.iter_mut().zip(v) {
            *acc += x;
        }
        self.cur = PeriodCounts::default();
        if self.keep_trace {
            self.trace.extend(p.teams.iter().cloned().map(|mut r| {
                r.replicate = replicate;
                r
            }));
        }
    }

    /// Final metrics. `objective` picks which return is `discounted_return`.
    pub fn finish(
        self,
        funds: f64,
        reputation: f64,
        objective: ObjectiveKind,
    ) -> (RolloutMetrics, Vec<TeamRecord>) {
        let o = &self.objective;
        let t = f64::from(self.horizon);
        let treated = self.treated[0] + self.treated[1];
        let left = |k: usize| self.treated[k] + self.rejected[k] + self.abandoned[k];
        let rej = |k: usize| ratio(self.rejected[k], left(k));
        let def = |k: usize| ratio(self.voluntary[k], self.decided[k]);
        let strat = |k: usize| ratio(self.strategic[k], self.decided[k]);
        let all_left = left(0) + left(1);
        let decided = self.decided[0] + self.decided[1];
        let vs: Vec<f64> = self.v.iter().map(|x| x / t).collect();
        let weights = [
            o.w_urgent_rejection,
            o.w_insolvency,
            o.w_upcoding,
            o.w_waiting,
            o.w_high_cmi_deferral,
        ];
        let violation: f64 = vs.iter().zip(weights).map(|(v, w)| v * w).sum();
        let ret = match objective {
            ObjectiveKind::Welfare => self.g[0],
            ObjectiveKind::Profit => self.g[1],
            ObjectiveKind::Mixed => self.g[2],
        };
        let m = RolloutMetrics {
            upcoding_rate: ratio(self.upcoded, self.arrivals),
            coded_cmi_inflation: ratio(self.inflation, self.arrivals),
            rejection_rate: ratio(self.rejected[0] + self.rejected[1], all_left),
            rejection_high_cmi: rej(1),
            rejection_low_cmi: rej(0),
            cherry_picking_gap: rej(1) - rej(0),
            abandonment_rate: ratio(self.abandoned[0] + self.abandoned[1], all_left),
            deferral_rate: ratio(self.voluntary[0] + self.voluntary[1], decided),
            deferral_high_cmi: def(1),
            deferral_low_cmi: def(0),
            deferral_gap: def(1) - def(0),
            strategic_delay_high_cmi: strat(1),
            strategic_delay_low_cmi: strat(0),
            strategic_delay_gap: strat(1) - strat(0),
            mean_effort: ratio(self.effort, treated),
            effort_per_cmi: ratio(self.effort, self.cmi_treated),
            effort_per_health: ratio(self.effort, self.outcome),
            arrival_rate: self.arrivals / t,
            mean_health: ratio(self.outcome, treated),
            mean_health_gain: ratio(self.gain, treated),
            mean_cost: ratio(self.cost, treated),
            health_per_cost: ratio(self.outcome, self.cost),
            mean_waiting: ratio(self.wait_left, all_left),
            mean_waiting_treated: ratio(self.wait, treated),
            throughput: treated / t,
            utilization: ratio(treated, self.capacity),
            terminal_funds: funds,
            reputation,
            corr_kpi_health: self.kpi_health.value(),
            corr_bonus_health: self.bonus_health.value(),
            lagging_accepted_cmi: ratio(self.lag_accepted_cmi, self.lag_accepted),
            lagging_easy_case_tilt: ratio(self.lag_accept[0], self.lag_decided[0])
                - ratio(self.lag_accept[1], self.lag_decided[1]),
            cv_load: ratio(self.cv_load.0, self.cv_load.1),
            cv_accepted_cmi: ratio(self.cv_cmi.0, self.cv_cmi.1),
            cv_outcome: ratio(self.cv_outcome.0, self.cv_outcome.1),
            mean_bonus: ratio(self.bonus, self.team_periods),
            bonus_pressure: ratio(self.bonus_pressure, self.team_periods),
            doctor_utility: ratio(self.utility, self.team_periods),
            doctor_margin: ratio(self.margin, self.team_periods),
            return_welfare: self.g[0],
            return_profit: self.g[1],
            return_mixed: self.g[2],
            discounted_return: ret,
            v_urgent_rejection: vs[0],
            v_insolvency: vs[1],
            v_upcoding: vs[2],
            v_waiting: vs[3],
            v_high_cmi_deferral: vs[4],
            violation_score: violation,
            fitness: ret - o.lambda_unsafe * violation,
        };
        (m, self.trace)
    }
}

/// Add one period's cross-team coefficient of variation (population sd / |mean|) of `xs`;
/// skipped when fewer than two teams report or the mean is zero.
fn cv<I: Iterator<Item = f64> + Clone>(acc: &mut (f64, f64), xs: I) {
    let n = xs.clone().count();
    if n < 2 {
        return;
    }
    let m = mean(xs.clone());
    if m.abs() > 1e-12 {
        let sd = (xs.map(|x| (x - m).powi(2)).sum::<f64>() / n as f64).sqrt();
        acc.0 += sd / m.abs();
        acc.1 += 1.0;
    }
}

/// A metric summarised over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    #[serde(deserialize_with = "null_is_nan")]
    pub mean: f64,
    #[serde(deserialize_with = "null_is_nan")]
    pub std: f64,
    /// 95% confidence interval of the mean (Student t).
    #[serde(deserialize_with = "null_is_nan_pair")]
    pub ci95: [f64; 2],
    pub n: usize,
}

// JSON has no NaN: serde_json writes a non-finite number as null. Reading null back as NaN lets
// every stored summary (cell caches, search stores) round-trip whatever it holds.
fn null_is_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn null_is_nan_pair<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
    let [a, b] = <[Option<f64>; 2]>::deserialize(d)?;
    Ok([a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN)])
}

/// Two-sided 97.5% Student-t quantiles for 1..=30 degrees of freedom; 1.96 beyond.
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

pub fn summarise(xs: &[f64]) -> Summary {
    let n = xs.len();
    let m = mean(xs.iter().copied());
    let var = if n > 1 {
        xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    let sd = var.sqrt();
    let t = if n >= 2 {
        T975.get(n - 2).copied().unwrap_or(1.96)
    } else {
        0.0
    };
    let half = if n >= 2 {
        t * sd / (n as f64).sqrt()
    } else {
        0.0
    };
    Summary {
        mean: m,
        std: sd,
        ci95: [m - half, m + half],
        n,
    }
}

/// Eq. 8 over a seed set: mean return − λ_unsafe · mean V − λ_var · Var_s(return).
pub fn fitness(returns: &[f64], violations: &[f64], o: &crate::scenario::Objective) -> f64 {
    let n = returns.len() as f64;
    let mg = mean(returns.iter().copied());
    let var = if returns.len() > 1 {
        returns.iter().map(|g| (g - mg).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    mg - o.lambda_unsafe * mean(violations.iter().copied()) - o.lambda_var * var
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undefined_correlation_is_zero() {
        assert_eq!(Pearson::default().value(), 0.0);
        let mut one = Pearson::default();
        one.add(1.0, 2.0);
        assert_eq!(one.value(), 0.0);
        let mut flat = Pearson::default();
        for x in [1.0, 2.0, 3.0] {
            flat.add(x, 5.0);
        }
        assert_eq!(flat.value(), 0.0);
        let mut line = Pearson::default();
        for x in [1.0, 2.0, 3.0] {
            line.add(x, -2.0 * x);
        }
        assert!((line.value() + 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_summary_holding_nan_round_trips_through_json() {
        let s = Summary {
            mean: f64::NAN,
            std: 0.5,
            ci95: [f64::NAN, 1.0],
            n: 3,
        };
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains("null"), "{text}");
        let back: Summary = serde_json::from_str(&text).unwrap();
        assert!(back.mean.is_nan() && back.ci95[0].is_nan());
        assert_eq!((back.std, back.ci95[1], back.n), (0.5, 1.0, 3));
    }
}
