//! Per-period records: what one team did in one period, and what the hospital did. The engine
//! fills them; the metrics accumulator and the trace read them. Their own module, so that the
//! engine and the metrics both depend on the records and never on each other.

use crate::scenario::Scenario;
use crate::schema::AdminLevers;
use medisim_core::ratio;
use serde::Serialize;

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
    /// The KPI's expected cost of the cases treated (`response.kpi_cost_adjustment` times each
    /// case's cost at its indicated effort): not a column of the trace.
    #[serde(skip)]
    pub expected_cost: f64,
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
    /// patients (cost and wait normalised by `response.kpi_cost_ref` and `response.kpi_wait_ref`), and its rejection rate. A team
    /// that treated nobody has no outcome, cost or waiting to average and is scored on its
    /// rejections alone.
    pub fn kpi_inputs(&self, lv: &AdminLevers, s: &Scenario) -> f64 {
        let n = self.treated as f64;
        let (h, c, w) = if self.treated > 0 {
            (
                self.outcome_sum / n,
                (self.cost - self.expected_cost) / n / s.response.kpi_cost_ref,
                self.wait_sum / n / s.response.kpi_wait_ref,
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
