//! Channel-level diagnostics: accumulated during a rollout, finished into typed metrics, and
//! summarised across seeds. `docs/metrics.md` defines every metric precisely.

use crate::arrivals::Arrival;
use crate::objective::{mixed_reward, violation_score, welfare_reward, ObjectiveKind};
use crate::records::{PeriodRecord, TeamRecord};
use crate::scenario::Scenario;
use medisim_core::stats::MeanCv;
use medisim_core::{ratio, Pearson};
use serde::{Deserialize, Serialize};

macro_rules! metrics {
    ($( $group:literal : [ $($variant:ident => $name:ident : $kind:ident $unit:literal),* $(,)? ] )*) => {
        medisim_core::metric_enum! {
            /// A Medi-Sim diagnostic, named as in tables, CSV and JSON.
            pub enum Metric {
                $($group: [$($variant => $name : $kind $unit,)*])*
            }
        }

        impl Metric {
            /// The channels and their metrics, for grouped tables.
            pub const GROUPS: &'static [(&'static str, &'static [Metric])] =
                &[$(($group, &[$(Metric::$variant),*])),*];
        }

        /// Every diagnostic of one rollout.
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct RolloutMetrics {
            $($(pub $name: f64,)*)*
        }

        impl RolloutMetrics {
            /// One metric's value.
            pub fn get(&self, m: Metric) -> f64 {
                match m {
                    $($(Metric::$variant => self.$name,)*)*
                }
            }
        }
    };
}

metrics! {
    "coding": [
        UpcodingRate => upcoding_rate: Share "share of arrivals",
        CodedCmiInflation => coded_cmi_inflation: Level "CMI",
    ]
    "selection": [
        RejectionRate => rejection_rate: Share "share of patients",
        RejectionHighCmi => rejection_high_cmi: Share "share of patients",
        RejectionLowCmi => rejection_low_cmi: Share "share of patients",
        CherryPickingGap => cherry_picking_gap: Difference "share of patients",
        AbandonmentRate => abandonment_rate: Share "share of patients",
    ]
    "delay": [
        DeferralRate => deferral_rate: Share "share of decisions",
        DeferralHighCmi => deferral_high_cmi: Share "share of decisions",
        DeferralLowCmi => deferral_low_cmi: Share "share of decisions",
        DeferralGap => deferral_gap: Difference "share of decisions",
        StrategicDelayHighCmi => strategic_delay_high_cmi: Share "share of decisions",
        StrategicDelayLowCmi => strategic_delay_low_cmi: Share "share of decisions",
        StrategicDelayGap => strategic_delay_gap: Difference "share of decisions",
    ]
    "effort": [
        MeanEffort => mean_effort: Amount "effort (0 to 10)",
        EffortPerCmi => effort_per_cmi: Amount "effort per CMI",
        EffortPerHealth => effort_per_health: Amount "effort per health unit",
    ]
    "outcomes": [
        ArrivalRate => arrival_rate: Amount "patients per period",
        MeanHealth => mean_health: Amount "health units",
        MeanHealthGain => mean_health_gain: Level "health units",
        MeanCost => mean_cost: Amount "price units",
        HealthPerCost => health_per_cost: Amount "health per price unit",
        MeanWaiting => mean_waiting: Amount "periods",
        MeanWaitingTreated => mean_waiting_treated: Amount "periods",
        Throughput => throughput: Amount "patients per period",
        Utilization => utilization: Share "share of beds",
        TerminalFunds => terminal_funds: Balance "price units",
        Reputation => reputation: Level "reputation",
    ]
    "measurement": [
        CorrKpiHealth => corr_kpi_health: Correlation "correlation",
        CorrBonusHealth => corr_bonus_health: Correlation "correlation",
        LaggingAcceptedCmi => lagging_accepted_cmi: Amount "CMI",
        LaggingEasyCaseTilt => lagging_easy_case_tilt: Difference "share of decisions",
        CvLoad => cv_load: Amount "coefficient of variation",
        CvAcceptedCmi => cv_accepted_cmi: Amount "coefficient of variation",
        CvOutcome => cv_outcome: Amount "coefficient of variation",
        MeanBonus => mean_bonus: Amount "price units",
        BonusPressure => bonus_pressure: Amount "price units",
    ]
    "provider": [
        DoctorUtility => doctor_utility: Level "utility",
        DoctorMargin => doctor_margin: Level "price units per patient",
    ]
    "objective": [
        ReturnWelfare => return_welfare: Balance "discounted return",
        ReturnProfit => return_profit: Balance "discounted return",
        ReturnMixed => return_mixed: Balance "discounted return",
        DiscountedReturn => discounted_return: Balance "discounted return",
        VUrgentRejection => v_urgent_rejection: Share "share of decisions",
        VInsolvency => v_insolvency: Share "share of periods",
        VUpcoding => v_upcoding: Share "share of arrivals",
        VWaiting => v_waiting: Amount "periods",
        VHighCmiDeferral => v_high_cmi_deferral: Share "share of decisions",
        ViolationScore => violation_score: Amount "score",
        Fitness => fitness: Balance "fitness",
    ]
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
    cv_load: MeanCv,
    cv_cmi: MeanCv,
    cv_outcome: MeanCv,
    bonus: f64,
    bonus_pressure: f64,
    utility: f64,
    margin: f64,
    team_periods: f64,
    /// Team-periods in which the team treated someone: `doctor_margin`'s denominator.
    treating_team_periods: f64,
    capacity: f64,
    g: [f64; 3],
    discount: f64,
    v: [f64; 5],
    cur: PeriodCounts,
    /// This period's cross-sections for the coefficients of variation: every team's load, and
    /// the treating teams' mean CMI and outcome, gathered in the one pass over the teams.
    loads: Vec<f64>,
    treated_cmi: Vec<f64>,
    treated_outcome: Vec<f64>,
}

impl Accumulator {
    pub fn new(s: &Scenario, horizon: u32, keep_trace: bool) -> Self {
        Accumulator {
            objective: s.objective.clone(),
            horizon,
            keep_trace,
            // One row per team and period, reserved at once rather than copied as it grows.
            trace: if keep_trace {
                Vec::with_capacity((horizon as usize).saturating_mul(s.teams))
            } else {
                Vec::new()
            },
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
            cv_load: MeanCv::default(),
            cv_cmi: MeanCv::default(),
            cv_outcome: MeanCv::default(),
            bonus: 0.0,
            bonus_pressure: 0.0,
            utility: 0.0,
            margin: 0.0,
            team_periods: 0.0,
            treating_team_periods: 0.0,
            capacity: 0.0,
            g: [0.0; 3],
            discount: 1.0,
            v: [0.0; 5],
            loads: Vec::with_capacity(s.teams),
            treated_cmi: Vec::with_capacity(s.teams),
            treated_outcome: Vec::with_capacity(s.teams),
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
    /// Account one period; returns its (welfare, profit, mixed) rewards (Eqs. 3, 9).
    pub fn period(&mut self, p: &PeriodRecord, replicate: u64) -> [f64; 3] {
        let o = &self.objective;
        let j = p.teams.len() as f64;
        self.loads.clear();
        self.treated_cmi.clear();
        self.treated_outcome.clear();
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
                self.treating_team_periods += 1.0;
                self.treated_cmi.push(r.cmi_sum / r.treated as f64);
                self.treated_outcome.push(r.outcome_sum / r.treated as f64);
            }
            self.loads.push(r.load);
            self.team_periods += 1.0;
        }
        self.capacity += f64::from(p.total_capacity);
        self.cv_load.add(self.loads.iter().copied());
        self.cv_cmi.add(self.treated_cmi.iter().copied());
        self.cv_outcome.add(self.treated_outcome.iter().copied());

        // Per-period rewards (Eqs. 3, 9) and violations.
        let gain: f64 = p.teams.iter().map(|r| r.health_gain).sum();
        let welfare = welfare_reward(gain / j, p.wbar, p.rejection);
        let profit = p.profit / o.profit_scale;
        let mixed = mixed_reward(p.funds, p.reputation);
        let rewards = [welfare, profit, mixed];
        for (g, r) in self.g.iter_mut().zip(rewards) {
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
        rewards
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
        let violation = violation_score(&vs, &weights);
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
            cv_load: self.cv_load.value(),
            cv_accepted_cmi: self.cv_cmi.value(),
            cv_outcome: self.cv_outcome.value(),
            mean_bonus: ratio(self.bonus, self.team_periods),
            bonus_pressure: ratio(self.bonus_pressure, self.team_periods),
            doctor_utility: ratio(self.utility, self.team_periods),
            doctor_margin: ratio(self.margin, self.treating_team_periods),
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

#[cfg(test)]
mod tests {
    use super::*;
    use medisim_core::Metric as _;

    #[test]
    fn every_metric_has_one_group_and_a_distinct_name() {
        let grouped: Vec<Metric> = Metric::GROUPS
            .iter()
            .flat_map(|(_, ms)| ms.iter().copied())
            .collect();
        assert_eq!(grouped, Metric::ALL);
        let mut names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Metric::ALL.len());
        assert_eq!(
            Metric::from_name("upcoding_rate"),
            Some(Metric::UpcodingRate)
        );
        let m = RolloutMetrics {
            deferral_gap: 0.25,
            ..RolloutMetrics::default()
        };
        assert_eq!(m.get(Metric::DeferralGap), 0.25);
    }
}
