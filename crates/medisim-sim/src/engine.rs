//! One rollout of the Identify–Produce–Settle loop (paper Algorithm A.1).
//!
//! Each period: the admin block of the policy sets the levers; arrivals are drawn and coded
//! (the coding channel); patients register to teams; each team scores its whole queue with the
//! care block in one batch (selection, delay, effort, triage) and capacity is resolved in
//! priority order; then settlement pays reimbursement, runs audits, computes KPIs and the bonus
//! tournament, and updates funds, reputation and fatigue. Every decision rule comes from the
//! policy; this module only computes features, applies hard constraints and keeps accounts.
//! The hot loop allocates nothing after the first periods (buffers grow, then are reused).

use crate::arrivals::{Arrival, ArrivalKernel};
use crate::metrics::{Accumulator, RolloutMetrics};
use crate::objective::ObjectiveKind;
use crate::records::{PeriodRecord, TeamRecord};
use crate::rng::{stream, Purpose};
use crate::scenario::{Care, CodingMode, FlexSteering, Routing, Scenario};
use crate::schema::{AdminFeature as A, AdminLevers, DoctorFeature as D, Field, HospitalProgram};
use medisim_core::power::powf;
use medisim_core::stats::{population_sd, total_order_key};
use medisim_core::{mean, ratio};
use medisim_dsl::compile::{Batch, Block};
use rand::Rng;
use rand_pcg::Pcg64;

/// A patient in the system.
#[derive(Clone, Copy, Debug)]
struct Patient {
    id: u64,
    a: Arrival,
    /// Reported group ĝ.
    coded: usize,
    /// Periods waited so far.
    wait: u32,
    /// This period's clinical priority as an integer ordered as `total_cmp` orders it, set
    /// before the queue is sorted so that a comparison computes nothing.
    priority_key: i64,
    /// What does not change while the patient waits, computed once at registration.
    k: CaseConstants,
}

/// The constants of a case once it is coded and registered to a team (its skill known): the
/// triage features would otherwise recompute them, `pow` and `exp` included, in every period
/// the patient waits. Each is the same expression, in the same order, as where it is used, so
/// results are bit-identical.
#[derive(Clone, Copy, Debug)]
struct CaseConstants {
    /// Clinically indicated effort e⁰(c) = e_base + e_slope · c.
    base: f64,
    /// c + ε: the outcome curve's complexity scale.
    denom: f64,
    /// ∂H/∂e at the indicated effort, the team's skill included.
    dh: f64,
    /// ∂cost/∂e at the indicated effort.
    dc: f64,
    /// Reimbursement of the coded group less the expected audit loss.
    net_revenue: f64,
    /// The counterfactual the quality motive subtracts from the outcome.
    counterfactual: f64,
    /// Health the case keeps untreated: the outcome less this is the health gain.
    untreated: f64,
    /// What the KPI takes off the case's cost: `kpi_cost_adjustment` × its cost at the
    /// indicated effort (0 unless the KPI's cost is risk-adjusted).
    kpi_expected_cost: f64,
}

/// A batch's doctor-feature columns, by slot (`Batch::columns_mut`).
type Columns<'b> = [&'b mut [f64]; D::ALL.len()];

/// What a patient's triage features computed that capacity resolution needs again: when the
/// care block's effort is the one the features assumed, its outcome and cost are reused.
#[derive(Clone, Copy, Debug, Default)]
struct LaneState {
    /// The effort's shift from the indicated one (the `effort_quality_pressure` feature).
    eqp: f64,
    effort: f64,
    outcome: f64,
    effort_cost: f64,
    rank: f64,
}

#[derive(Clone, Debug)]
struct Team {
    queue: Vec<Patient>,
    skill: f64,
    beds: u32,
    fatigue: f64,
    /// Last period's KPI, bonus share and marginal bonus pressure (Eqs. 5, 14, 16).
    kpi: f64,
    bonus_pressure: f64,
    /// Last period's mean outcome, cost and wait of treated patients: the KPI reference.
    ref_health: f64,
    ref_cost: f64,
    ref_wait: f64,
}

/// What one rollout needs: the scenario, the compiled policy, the arrival kernel.
pub struct Rollout<'a> {
    pub scenario: &'a Scenario,
    pub policy: &'a HospitalProgram,
    pub kernel: &'a dyn ArrivalKernel,
}

/// Outputs of one rollout.
pub struct RolloutResult {
    pub metrics: RolloutMetrics,
    /// Per-period, per-team rows, when requested.
    pub trace: Vec<TeamRecord>,
}

/// An outside decision-maker for the administrator's levers (a reinforcement-learning agent,
/// a replayed action sequence): each period it sees the admin features the policy sees and the
/// levers the policy chose, and returns the levers to use; after the period it is told the
/// period's reward under the run's objective. The care teams still answer through the
/// policy's provider rules.
pub trait AdminController {
    fn levers(
        &mut self,
        t: u32,
        features: &[f64; ADMIN_FEATURES],
        policy: AdminLevers,
    ) -> AdminLevers;
    fn reward(&mut self, t: u32, reward: f64);
}

/// How many admin features a controller sees, in the order of `AdminFeature::ALL`
/// (`crate::schema::AdminFeature`).
pub const ADMIN_FEATURES: usize = A::ALL.len();

impl Rollout<'_> {
    /// Run one replicate. `replicate` keys the random streams together with the scenario seed.
    pub fn run(
        &self,
        replicate: u64,
        horizon: u32,
        objective: ObjectiveKind,
        trace: bool,
    ) -> RolloutResult {
        self.run_controlled(replicate, horizon, objective, trace, None)
    }

    /// [`Rollout::run`] with the administrator's levers decided by `controller` when given.
    pub fn run_controlled(
        &self,
        replicate: u64,
        horizon: u32,
        objective: ObjectiveKind,
        trace: bool,
        mut controller: Option<&mut dyn AdminController>,
    ) -> RolloutResult {
        let s = self.scenario;
        let mut rng_p = stream(s.seed, replicate, Purpose::Patients);
        let mut rng_c = stream(s.seed, replicate, Purpose::Coding);
        let mut rng_a = stream(s.seed, replicate, Purpose::Audits);
        let mut rng_t = stream(s.seed, replicate, Purpose::Triage);
        let j_count = s.teams;
        let mut teams: Vec<Team> = (0..j_count)
            .map(|j| Team {
                queue: Vec::new(),
                skill: s.skill(j),
                beds: 0,
                fatigue: 0.0,
                kpi: 0.0,
                bonus_pressure: 0.0,
                ref_health: 0.9,
                ref_cost: s.response.kpi_cost_ref,
                ref_wait: 1.0,
            })
            .collect();
        let mut acc = Accumulator::new(s, horizon, trace);
        let mut admin = self.policy.admin().frame();
        let mut coding: Batch = self.policy.coding().batch(64);
        let mut coding_memo = CodingMemo::new(self.policy.coding(), s.groups());
        let mut care: Batch = self.policy.care().batch(64);
        let mut arrivals: Vec<Arrival> = Vec::new();
        let mut cand_start: Vec<usize> = Vec::new();
        let mut probs: Vec<f64> = Vec::new();
        let mut chosen: Vec<usize> = Vec::new();
        let mut fates: Vec<u8> = Vec::new();
        let mut lanes: Vec<LaneState> = Vec::new();
        let mut team_lanes: Vec<(usize, usize)> = vec![(0, 0); j_count];
        let mut kpis = vec![0.0; j_count];
        let mut shares = vec![0.0; j_count];
        let mut next_id = 0u64;
        let mut period = PeriodRecord::default();

        let mut funds = s.finance.initial_funds;
        let mut reputation = s.finance.initial_reputation;
        let mut last = LastPeriod {
            wbar: 0.0,
            rbar: 0.0,
            utilization: 0.0,
            profit: 0.0,
            total_capacity: 10.0,
            flex_pool: 0.0,
        };
        let levers0 = self.eval_admin(&mut admin, &teams, funds, reputation, &last, 1);
        last.total_capacity = f64::from(levers0.total_capacity);
        // An admin block that reads no feature sets the same levers every period: evaluate it
        // once (a controller still sees the features, so it keeps the per-period path).
        let admin_block = self.policy.admin();
        let constant_levers = controller.is_none()
            && (0..ADMIN_FEATURES).all(|slot| !admin_block.reads_feature(slot));

        for t in 1..=horizon {
            // --- Hospital policy step: the administrator sets this period's levers.
            let mut lv = if constant_levers {
                levers0
            } else {
                self.eval_admin(&mut admin, &teams, funds, reputation, &last, t)
            };
            if let Some(c) = controller.as_deref_mut() {
                let mut features = [0.0; ADMIN_FEATURES];
                for (k, f) in A::ALL.iter().enumerate() {
                    features[k] = admin.get(f.slot());
                }
                lv = c.levers(t, &features, lv);
            }
            allocate_beds(&mut teams, &lv, s.flex_steering);

            // --- Identify: arrivals and coding.
            arrivals.clear();
            self.kernel.sample(t, &mut rng_p, &mut arrivals);
            period.reset(t, &lv);
            period.arrivals = arrivals.len();
            self.code(
                &arrivals,
                &lv,
                &mut coding_memo,
                &mut coding,
                &mut cand_start,
                &mut probs,
                &mut chosen,
                &mut rng_c,
            );

            // --- Routing: register to teams (patient choice; no strategic routing).
            for (a, g) in arrivals.iter().zip(&chosen) {
                let team = match s.routing {
                    Routing::Uniform => rng_p.gen_range(0..j_count),
                    Routing::ShortestQueue => (0..j_count)
                        .min_by_key(|j| teams[*j].queue.len())
                        .unwrap_or(0),
                };
                acc.coded(a, *g, s);
                period.upcoded += usize::from(*g > a.group);
                let k = self.case_constants(a, *g, teams[team].skill);
                teams[team].queue.push(Patient {
                    id: next_id,
                    a: *a,
                    coded: *g,
                    wait: 0,
                    priority_key: 0,
                    k,
                });
                next_id += 1;
            }

            // --- Produce: every team's queue is scored in one batch of the care block (lanes
            // team by team), then each team treats within capacity.
            let lagging_cut = mean(teams.iter().map(|tm| tm.kpi));
            let total: usize = teams.iter().map(|tm| tm.queue.len()).sum();
            ensure_lanes(self.policy.care(), &mut care, total);
            lanes.clear();
            let mut off = 0;
            let mut columns: Columns = care.columns_mut();
            for (j, team) in teams.iter_mut().enumerate() {
                team_lanes[j] = (off, team.queue.len());
                self.triage_features(j, team, &lv, &mut columns, off, &mut lanes, &mut rng_t);
                off += team.queue.len();
            }
            self.policy.care().eval_batch(&mut care);
            let decisions = CareDecisions::of(self.policy, &care);
            for (j, team) in teams.iter_mut().enumerate() {
                let lagging = t > 1 && team.kpi < lagging_cut;
                let (off, n) = team_lanes[j];
                // The record is filled where it is kept: no copy of it a team and period.
                period
                    .teams
                    .push(TeamRecord::new(period.t, j, team.beds, team.queue.len()));
                let rec = period.teams.last_mut().expect("just pushed");
                self.resolve(
                    team,
                    &decisions.lanes(off..off + n),
                    &lanes[off..off + n],
                    &mut fates,
                    &mut rng_a,
                    &mut acc,
                    lagging,
                    rec,
                );
                kpis[j] = rec.kpi_inputs(&lv, s);
            }

            // --- Settle: KPI tournament, bonuses, funds, reputation.
            softmax(&kpis, lv.kappa, &mut shares);
            let mut bonus_total = 0.0;
            for (j, team) in teams.iter_mut().enumerate() {
                let rec = &mut period.teams[j];
                rec.kpi = kpis[j];
                rec.bonus = lv.bonus_pool * shares[j];
                rec.bonus_pressure = lv.bonus_pool * lv.kappa * shares[j] * (1.0 - shares[j]);
                bonus_total += rec.bonus;
                let load_cap = s.care.load_per_bed * f64::from(team.beds);
                let over = (rec.load - load_cap).max(0.0);
                rec.utility = lv.alpha * (rec.revenue - rec.cost - rec.penalties)
                    + lv.beta * s.response.health_value * rec.health_gain
                    + s.response.theta * rec.bonus
                    - s.care.nu * over * over;
                team.fatigue = (1.0 - s.care.fatigue_decay) * team.fatigue
                    + s.care.fatigue_decay * over / load_cap.max(1.0);
                team.kpi = rec.kpi;
                team.bonus_pressure = rec.bonus_pressure;
                if rec.treated > 0 {
                    team.ref_health = rec.outcome_sum / rec.treated as f64;
                    team.ref_cost = (rec.cost - rec.expected_cost) / rec.treated as f64;
                    team.ref_wait = rec.wait_sum / rec.treated as f64;
                }
            }
            let HospitalTotals {
                revenue,
                cost,
                penalties,
                outcome,
                waits,
                treated,
                detected,
                decided,
                rejected,
                used,
            } = HospitalTotals::of(&period.teams);
            let profit = revenue
                - cost
                - penalties
                - bonus_total
                - s.finance.bed_cost * f64::from(lv.total_capacity);
            funds += profit;
            let rej_rate = ratio(rejected as f64, decided as f64);
            let wbar = if treated > 0 {
                waits / treated as f64
            } else {
                last.wbar
            };
            let quality = if treated > 0 {
                outcome / treated as f64
            } else {
                0.5
            };
            let signal = (quality
                - 0.5 * rej_rate
                - 0.05 * wbar
                - s.audit.reputation_hit * ratio(detected as f64, treated as f64))
            .clamp(0.0, 1.0);
            reputation += s.finance.reputation_rate * (signal - reputation);
            last = LastPeriod {
                wbar,
                rbar: rej_rate,
                utilization: ratio(f64::from(used), f64::from(lv.total_capacity)),
                profit,
                total_capacity: f64::from(lv.total_capacity),
                flex_pool: f64::from(lv.flex_pool),
            };
            period.profit = profit;
            period.funds = funds;
            period.reputation = reputation;
            period.wbar = wbar;
            period.rejection = rej_rate;
            let rewards = acc.period(&period, replicate);
            if let Some(c) = controller.as_deref_mut() {
                c.reward(
                    t,
                    match objective {
                        ObjectiveKind::Welfare => rewards[0],
                        ObjectiveKind::Profit => rewards[1],
                        ObjectiveKind::Mixed => rewards[2],
                    },
                );
            }
        }
        let (metrics, trace) = acc.finish(funds, reputation, objective);
        RolloutResult { metrics, trace }
    }

    fn eval_admin(
        &self,
        frame: &mut medisim_dsl::Frame,
        teams: &[Team],
        funds: f64,
        reputation: f64,
        last: &LastPeriod,
        t: u32,
    ) -> AdminLevers {
        let queue_total: usize = teams.iter().map(|tm| tm.queue.len()).sum();
        let queue_max = teams.iter().map(|tm| tm.queue.len()).max().unwrap_or(0);
        frame.set(A::QueueTotal.slot(), queue_total as f64);
        frame.set(A::QueueMax.slot(), queue_max as f64);
        frame.set(A::Wbar.slot(), last.wbar);
        frame.set(A::Rbar.slot(), last.rbar);
        frame.set(A::Utilization.slot(), last.utilization);
        frame.set(A::Funds.slot(), funds);
        frame.set(A::ProfitLast.slot(), last.profit);
        frame.set(A::CurrentTotalCapacity.slot(), last.total_capacity);
        frame.set(A::CurrentFlexPool.slot(), last.flex_pool);
        frame.set(A::Reputation.slot(), reputation);
        frame.set(A::Period.slot(), f64::from(t));
        self.policy.admin_levers(frame)
    }

    /// The coding channel (Eq. 11): score every candidate group of every arrival with the
    /// policy's `candidate_score`, then pick one per patient into `chosen`.
    #[allow(clippy::too_many_arguments)]
    fn code(
        &self,
        arrivals: &[Arrival],
        lv: &AdminLevers,
        memo: &mut CodingMemo,
        batch: &mut Batch,
        cand_start: &mut Vec<usize>,
        probs: &mut Vec<f64>,
        chosen: &mut Vec<usize>,
        rng: &mut Pcg64,
    ) {
        if memo.usable {
            let levers = CodingLevers::of(lv);
            if memo.levers != Some(levers.bits()) {
                self.fill_memo(memo, levers, batch, cand_start);
            }
            let s = self.scenario;
            chosen.clear();
            for a in arrivals {
                let pick = match s.coding.mode {
                    CodingMode::Deterministic => memo.argmax[a.group],
                    CodingMode::Stochastic => {
                        let cum = &memo.cumulative[memo.start[a.group]..memo.start[a.group + 1]];
                        pick_cumulative(cum, rng)
                    }
                };
                chosen.push(a.group + pick);
            }
            return;
        }
        self.score_candidates(arrivals, CodingLevers::of(lv), batch, cand_start);
        let s = self.scenario;
        let scores = self
            .policy
            .coding()
            .batch_output(batch, self.policy.score_out);
        chosen.clear();
        for (i, a) in arrivals.iter().enumerate() {
            let sc = &scores[cand_start[i]..cand_start[i + 1]];
            let pick = match s.coding.mode {
                CodingMode::Deterministic => argmax_first(sc),
                CodingMode::Stochastic => softmax_pick(sc, s.coding.temperature, probs, rng),
            };
            chosen.push(a.group + pick);
        }
    }

    /// The memo's scores for these levers: every group's candidates scored once, as `code`
    /// scores an arrival of that group (its patient features, unread, left at zero).
    fn fill_memo(
        &self,
        memo: &mut CodingMemo,
        levers: CodingLevers,
        batch: &mut Batch,
        cand_start: &mut Vec<usize>,
    ) {
        let s = self.scenario;
        self.score_candidates(&memo.groups, levers, batch, cand_start);
        let scores = self
            .policy
            .coding()
            .batch_output(batch, self.policy.score_out);
        memo.start.clear();
        memo.start.extend_from_slice(cand_start);
        memo.argmax.clear();
        memo.cumulative.clear();
        for g in 0..memo.groups.len() {
            let sc = &scores[cand_start[g]..cand_start[g + 1]];
            match s.coding.mode {
                CodingMode::Deterministic => memo.argmax.push(argmax_first(sc)),
                CodingMode::Stochastic => {
                    softmax_cumulative(sc, s.coding.temperature, &mut memo.cumulative)
                }
            }
        }
        memo.levers = Some(levers.bits());
    }

    /// Every candidate group of every arrival scored by the coding block into `batch`, the
    /// candidates of arrival `i` in lanes `cand_start[i]..cand_start[i + 1]`.
    fn score_candidates(
        &self,
        arrivals: &[Arrival],
        levers: CodingLevers,
        batch: &mut Batch,
        cand_start: &mut Vec<usize>,
    ) {
        let s = self.scenario;
        let m = &s.case_mix;
        let k = s.groups();
        // The coder's expected loss per over-paid unit: the fine, and the repayment if it counts it.
        let coder_loss_rate = s.audit.penalty
            + f64::from(u8::from(s.coding.audit_counts_clawback && s.audit.clawback));
        cand_start.clear();
        let mut lanes = 0;
        for a in arrivals {
            cand_start.push(lanes);
            lanes += (a.group + s.coding.max_upcode).min(k - 1) - a.group + 1;
        }
        cand_start.push(lanes);
        ensure_lanes(self.policy.coding(), batch, lanes);
        let col: Columns = batch.columns_mut();
        for (i, a) in arrivals.iter().enumerate() {
            for (c, lane) in (cand_start[i]..cand_start[i + 1]).enumerate() {
                let g = a.group + c;
                let gain = m.price * (m.weights[g] - m.weights[a.group]);
                let gap = m.cmi[g] - m.cmi[a.group];
                let p_audit = audit_probability(s, gap);
                for (f, v) in patient_coding_features(a) {
                    col[f.slot()][lane] = v;
                }
                col[D::UpcodePressure.slot()][lane] = levers.alpha * s.coding.gamma_code * gain;
                col[D::UpcodeGain.slot()][lane] = gain;
                col[D::AuditPenalty.slot()][lane] = p_audit * coder_loss_rate * gain.max(0.0);
                col[D::EthicsPressure.slot()][lane] = s.coding.r0 * s.coding.eta_eth * gap.max(0.0);
                col[D::CodingGap.slot()][lane] = gap;
            }
        }
        self.policy.coding().eval_batch(batch);
    }

    /// The constants of a case coded `coded` and registered to a team of skill `skill`.
    fn case_constants(&self, a: &Arrival, coded: usize, skill: f64) -> CaseConstants {
        let s = self.scenario;
        let (c, r, m) = (&s.care, &s.response, &s.case_mix);
        let base = c.effort_base + c.effort_slope * a.cmi;
        let denom = a.cmi + c.epsilon;
        let x0 = c.lambda * base / denom;
        let over_payment = m.price * (m.weights[coded] - m.weights[a.group]);
        let gap = m.cmi[coded] - m.cmi[a.group];
        let expected_loss = audit_probability(s, gap)
            * (s.audit.penalty + f64::from(u8::from(s.audit.clawback)))
            * over_payment.max(0.0);
        CaseConstants {
            base,
            denom,
            dh: skill * c.lambda / denom * (-x0).exp(),
            dc: c.omega * c.phi * powf(base, c.phi - 1.0),
            net_revenue: m.price * m.weights[coded] - expected_loss,
            counterfactual: r.quality_counterfactual * c.untreated_health * (1.0 - a.cmi),
            untreated: c.untreated_health * (1.0 - a.cmi),
            kpi_expected_cost: if r.kpi_cost_adjustment > 0.0 {
                r.kpi_cost_adjustment * (c.c_fixed + effort_cost(c, base))
            } else {
                0.0
            },
        }
    }

    /// Team `j`'s triage features, written to the care batch's lanes `off..off + queue length`
    /// in clinical priority order (the queue is sorted here), with what resolution reuses
    /// appended to `lanes`.
    #[allow(clippy::too_many_arguments)]
    fn triage_features(
        &self,
        j: usize,
        team: &mut Team,
        lv: &AdminLevers,
        col: &mut Columns,
        off: usize,
        lanes: &mut Vec<LaneState>,
        rng_t: &mut Pcg64,
    ) {
        let s = self.scenario;
        let c = &s.care;
        let r = &s.response;
        // Clinical priority order: urgency plus waiting, ties by arrival order.
        for p in team.queue.iter_mut() {
            p.priority_key = total_order_key(priority(p));
        }
        team.queue
            .sort_unstable_by(|x, y| (y.priority_key.cmp(&x.priority_key)).then(x.id.cmp(&y.id)));
        let n = team.queue.len();
        let beds = team.beds;
        let load_cap = c.load_per_bed * f64::from(beds);
        let n_ref = f64::from(beds.max(1));
        let bp = team.bonus_pressure;
        // Strategic delay pays its cost relief only to a provider who both minds the cost (α)
        // and values the eventual treatment (β): the harmonic mean 2αβ/(α+β) is zero when either
        // is, equals α on the diagonal and peaks in the mixed interior. A purely financial
        // provider gains nothing by keeping an unprofitable case and turns it away instead.
        let delay_weight = if lv.alpha + lv.beta > 0.0 {
            2.0 * lv.alpha * lv.beta / (lv.alpha + lv.beta)
        } else {
            0.0
        };
        // Capacity signal shared by the team: 1 while it has a bed this period. Whether the
        // bed is really free is settled in capacity resolution (an accepted patient who finds
        // none waits), so a team short of beds queues patients rather than turning them away.
        let free_share = f64::from(u8::from(beds > 0));
        // Effort feels fatigue through the carried-over state only: a period's own load is
        // priced in triage, where the case is taken or not.
        let fatigue_grad = 2.0 * c.nu * team.fatigue;
        // First every case's effort and what it yields, then the features: the `exp` and
        // `pow` calls in a loop of their own overlap one another instead of waiting on the
        // division chains around them (the same expressions, so the same bits). The same pass
        // sums the indicated efforts (`mean`'s fold) and counts the cases carried over.
        let first = lanes.len();
        let (mut base_sum, mut carried) = (0.0, 0usize);
        for p in &team.queue {
            base_sum += p.k.base;
            carried += usize::from(p.wait > 0);
            let k = &p.k;
            let dkpi = (lv.w_h * k.dh - lv.w_c * k.dc / r.kpi_cost_ref) / n_ref;
            let grad = -lv.alpha * k.dc + lv.beta * r.health_value * k.dh + r.theta * bp * dkpi
                - fatigue_grad;
            let eqp = (r.effort_step * grad).clamp(-r.effort_cut * k.base, r.effort_raise);
            let effort = k.base + eqp;
            lanes.push(LaneState {
                eqp,
                effort,
                outcome: treated_outcome(c, team.skill, effort, k.denom),
                effort_cost: effort_cost(c, effort),
                rank: 0.0,
            });
        }
        // Fatigue is priced at the load of a full period: carried-over fatigue plus the other
        // beds filled with the queue's typical case, so it depends on the case, not its rank.
        let typical = if n == 0 { 0.0 } else { base_sum / n as f64 };
        let ahead_load = team.fatigue * load_cap + f64::from(beds.saturating_sub(1)) * typical;
        // A long list costs the team (its waits are its own to answer for): parking one more
        // patient is less attractive the more it already parks (Iversen 1993).
        let list_pressure = r.list_cost * carried as f64 / n_ref;
        let mut incentive_sum = 0.0;
        for ((l, p), lane) in (off..).zip(&team.queue).zip(&mut lanes[first..]) {
            let (a, k) = (&p.a, &p.k);
            let LaneState {
                eqp,
                effort,
                outcome,
                effort_cost,
                ..
            } = *lane;
            // What the quality motive values: the outcome less the weighted counterfactual.
            let valued = outcome - k.counterfactual;
            let cost = c.c_fixed + effort_cost;
            let margin = k.net_revenue - cost;
            let before = (ahead_load - load_cap).max(0.0);
            let after = (ahead_load + effort - load_cap).max(0.0);
            let fatigue_cost = c.nu * (after * after - before * before);
            // KPI effect of treating the case: how it moves the team's averages.
            let dkpi_accept = (lv.w_h * (outcome - team.ref_health)
                - lv.w_c * (cost - k.kpi_expected_cost - team.ref_cost) / r.kpi_cost_ref
                - lv.w_w * (f64::from(p.wait) - team.ref_wait) / r.kpi_wait_ref)
                / n_ref;
            incentive_sum +=
                (lv.alpha * margin + lv.beta * r.health_value * valued) / r.utility_scale;
            col[D::Urgency.slot()][l] = a.urgency;
            col[D::Wait.slot()][l] = f64::from(p.wait);
            col[D::Complexity.slot()][l] = a.cmi;
            col[D::Tolerance.slot()][l] = f64::from(a.tolerance.saturating_sub(p.wait));
            col[D::BaseEffort.slot()][l] = k.base;
            col[D::EffortQualityPressure.slot()][l] = eqp;
            col[D::ClinicalTriageScore.slot()][l] = r.urgency_weight * a.urgency
                + r.wait_weight * (f64::from(p.wait) / f64::from(a.tolerance)).min(1.0);
            col[D::MarginPressure.slot()][l] = lv.alpha * margin / r.utility_scale;
            col[D::QualityPressure.slot()][l] = lv.beta * r.health_value * valued / r.utility_scale;
            col[D::TriageFatiguePressure.slot()][l] = fatigue_cost / r.utility_scale;
            col[D::KpiGamingPressure.slot()][l] = r.theta * bp * dkpi_accept / r.utility_scale;
            // Cost relief; the KPI loopholes (a deferral is neither a rejection nor, if the
            // patient gives up waiting, a costly treated case); health lost by waiting.
            col[D::DeferPressure.slot()][l] = (delay_weight * r.defer_cost_relief * cost
                + r.theta * bp * (lv.w_rej / n_ref + (-dkpi_accept).max(0.0))
                - lv.beta * r.health_value * r.defer_health_loss * a.urgency * valued)
                / r.utility_scale
                - list_pressure;
            col[D::ClinicalBedScore.slot()][l] = 0.5 + 0.5 * a.cmi;
            col[D::BedQualityPressure.slot()][l] =
                lv.beta * r.health_value * outcome / r.utility_scale;
            // The accept score's signals that the team's own rule reads (a rule without the
            // margin ranks its cases without it), each once.
            if r.bed_by_rank > 0.0 {
                lane.rank = RANKED
                    .iter()
                    .filter(|(f, _)| self.policy.care().reads_feature(f.slot()))
                    .map(|(f, sign)| sign * col[f.slot()][l])
                    .sum();
            }
        }
        let care = self.policy.care();
        let team_constant = [
            (D::BedAvailabilitySignal, free_share),
            (D::BedAvailable, f64::from(u8::from(beds > 0))),
            (D::BedCostPressure, lv.alpha * c.c_fixed / r.utility_scale),
            (D::BedFatiguePressure, team.fatigue * 0.1),
            (D::BedThreshold, r.bed_threshold),
            (D::BonusPressure, bp),
            (D::Fatigue, team.fatigue),
        ];
        for (f, v) in team_constant {
            if care.reads_feature(f.slot()) {
                col[f.slot()][off..off + n].fill(v);
            }
        }
        // Thresholds carry the opportunity cost of a bed: a share of the incentive value of the
        // queue's typical case. Under profit pressure the typical case is worth more, so the
        // bar rises for everyone and the least profitable cases fall below it (cream-skimming).
        let opportunity = r.opportunity_share * incentive_sum / n.max(1) as f64;
        // Teams differ in how demanding they are (practice variation), by a fixed share each.
        let team_scale = 1.0 + team_offset(j, s.teams, r.threshold_spread);
        let (tau_acc, tau_def) = (
            r.accept_threshold * team_scale + opportunity,
            r.defer_threshold * team_scale + opportunity,
        );
        if r.bed_by_rank > 0.0 {
            let ranks = &lanes[lanes.len() - n..];
            bed_by_rank(
                ranks,
                beds,
                tau_acc - free_share,
                r.bed_by_rank,
                free_share,
                &mut col[D::BedAvailabilitySignal.slot()][off..off + n],
            );
        }
        // Written whether read or not: the shocks are drawn either way, so the triage stream
        // does not depend on which thresholds a policy reads.
        for (slot, tau) in [
            (D::AcceptThreshold.slot(), tau_acc),
            (D::DeferThreshold.slot(), tau_def),
        ] {
            let column = &mut col[slot][off..off + n];
            if r.triage_noise > 0.0 {
                // Random utility: an independent logistic shock on each comparison (a
                // sequential binary logit), so every branch, the defer one included, is
                // reached with a probability that moves smoothly with the score.
                for v in column.iter_mut() {
                    *v = tau - r.triage_noise * logistic(rng_t);
                }
            } else {
                column.fill(tau);
            }
        }
    }

    /// Capacity resolution for a team in priority order, from the care block's decisions on its
    /// lanes, into its period's record `rec`: settles the treated, counts the rest and moves the
    /// queue on one period.
    #[allow(clippy::too_many_arguments)]
    fn resolve(
        &self,
        team: &mut Team,
        decisions: &CareDecisions,
        lanes: &[LaneState],
        fates: &mut Vec<u8>,
        rng: &mut Pcg64,
        acc: &mut Accumulator,
        lagging: bool,
        rec: &mut TeamRecord,
    ) {
        let s = self.scenario;
        let c = &s.care;
        let m = &s.case_mix;
        let n = team.queue.len();
        let effort_spec = Field::Effort.spec();
        // `fate` 0 stay, 1 treated, 2 rejected.
        let mut free = team.beds;
        fates.clear();
        for (i, (p, lane)) in team.queue.iter().zip(lanes).enumerate() {
            let high = p.a.cmi >= m.high_cmi_threshold;
            let acc_i = decisions.accept[i] != 0.0;
            acc.triage(p.a.cmi, high, acc_i, lagging);
            let fate = if acc_i && free > 0 {
                free -= 1;
                let e = effort_spec.project(decisions.effort[i]);
                let r_bed = decisions.bed[i] != 0.0;
                // The features already evaluated this effort's outcome and cost.
                let same = e.to_bits() == lane.effort.to_bits();
                let outcome = match (r_bed, same) {
                    (false, _) => 0.0,
                    (true, true) => lane.outcome,
                    (true, false) => treated_outcome(c, team.skill, e, p.k.denom),
                };
                let effort_cost = if same {
                    lane.effort_cost
                } else {
                    effort_cost(c, e)
                };
                let gain = outcome - p.k.untreated;
                let cost = c.c_fixed * f64::from(u8::from(r_bed)) + effort_cost;
                let revenue = m.price * m.weights[p.coded];
                let mut penalty = 0.0;
                if p.coded > p.a.group {
                    let gap = m.cmi[p.coded] - m.cmi[p.a.group];
                    if rng.gen::<f64>() < audit_probability(s, gap) {
                        let over = m.price * (m.weights[p.coded] - m.weights[p.a.group]);
                        penalty =
                            s.audit.penalty * over + if s.audit.clawback { over } else { 0.0 };
                        rec.detected += 1;
                    }
                }
                rec.treated += 1;
                rec.load += e;
                rec.revenue += revenue;
                rec.cost += cost;
                rec.expected_cost += p.k.kpi_expected_cost;
                rec.penalties += penalty;
                rec.outcome_sum += outcome;
                rec.health_gain += gain;
                rec.wait_sum += f64::from(p.wait);
                rec.cmi_sum += p.a.cmi;
                acc.treated(p.wait, high);
                1
            } else if acc_i {
                acc.deferred(high, false, false);
                0
            } else if decisions.defer[i] != 0.0 {
                acc.deferred(high, true, free > 0);
                rec.deferred += 1;
                0
            } else {
                rec.rejected += 1;
                acc.rejected(high, p.a.urgency >= s.objective.urgent_threshold, p.wait);
                2
            };
            fates.push(fate);
        }
        rec.decided = n;
        let mut k = 0;
        team.queue.retain(|_| {
            let keep = fates[k] == 0;
            k += 1;
            keep
        });
        // Waiting: everyone left waits one more period; those past their tolerance leave.
        team.queue.retain_mut(|p| {
            p.wait += 1;
            if p.wait > p.a.tolerance {
                acc.abandoned(p.a.cmi >= m.high_cmi_threshold, p.wait);
                rec.abandoned += 1;
                false
            } else {
                true
            }
        });
        rec.queue_after = team.queue.len();
    }
}

/// The care block's raw outputs for a range of lanes.
struct CareDecisions<'b> {
    effort: &'b [f64],
    accept: &'b [f64],
    defer: &'b [f64],
    bed: &'b [f64],
}

impl<'b> CareDecisions<'b> {
    /// Every lane of an evaluated care batch.
    fn of(policy: &HospitalProgram, batch: &'b Batch) -> Self {
        let (care, out) = (policy.care(), policy.care_out);
        CareDecisions {
            effort: care.batch_output(batch, out.effort),
            accept: care.batch_output(batch, out.accept),
            defer: care.batch_output(batch, out.defer),
            bed: care.batch_output(batch, out.bed),
        }
    }

    fn lanes(&self, range: std::ops::Range<usize>) -> CareDecisions<'b> {
        CareDecisions {
            effort: &self.effort[range.clone()],
            accept: &self.accept[range.clone()],
            defer: &self.defer[range.clone()],
            bed: &self.bed[range],
        }
    }
}

/// The hospital's totals of a period's team records, in one pass over them: each sum in team
/// order from −0.0, as `Iterator::sum` adds, so the same bits.
struct HospitalTotals {
    revenue: f64,
    cost: f64,
    penalties: f64,
    outcome: f64,
    waits: f64,
    treated: usize,
    detected: usize,
    decided: usize,
    rejected: usize,
    /// Beds used: the treated, as a bed count.
    used: u32,
}

impl HospitalTotals {
    fn of(teams: &[TeamRecord]) -> Self {
        let mut t = HospitalTotals {
            revenue: -0.0,
            cost: -0.0,
            penalties: -0.0,
            outcome: -0.0,
            waits: -0.0,
            treated: 0,
            detected: 0,
            decided: 0,
            rejected: 0,
            used: 0,
        };
        for r in teams {
            t.revenue += r.revenue;
            t.cost += r.cost;
            t.penalties += r.penalties;
            t.outcome += r.outcome_sum;
            t.waits += r.wait_sum;
            t.treated += r.treated;
            t.detected += r.detected;
            t.decided += r.decided;
            t.rejected += r.rejected;
            t.used += r.treated as u32;
        }
        t
    }
}

struct LastPeriod {
    wbar: f64,
    rbar: f64,
    utilization: f64,
    profit: f64,
    total_capacity: f64,
    flex_pool: f64,
}

/// Health after treatment with effort `e` in a bed (Eq. 12): skill · (1 − exp(−λe / (c + ε))),
/// `denom` being c + ε.
fn treated_outcome(c: &Care, skill: f64, e: f64, denom: f64) -> f64 {
    skill * (1.0 - (-c.lambda * e / denom).exp())
}

/// The effort part of a treatment's cost, ω · e^φ.
fn effort_cost(c: &Care, e: f64) -> f64 {
    c.omega * powf(e, c.phi)
}

/// The signals of the accept score a team ranks its cases by, with their signs.
const RANKED: [(D, f64); 5] = [
    (D::ClinicalTriageScore, 1.0),
    (D::MarginPressure, 1.0),
    (D::QualityPressure, 1.0),
    (D::TriageFatiguePressure, -1.0),
    (D::KpiGamingPressure, 1.0),
];

/// The bed signal when a team ranks its cases for beds: a case that fewer than `beds` of the
/// cases it means to accept (rank ≥ `accept_bar`) outrank (ties: earlier in the queue) keeps the
/// full signal; the others' signal falls by `weight`. The cases that do not fit are then
/// deferred or turned away by the team's own valuation — profit ranks by margin, quality by
/// health gain — rather than waiting for a bed in clinical order.
fn bed_by_rank(
    ranks: &[LaneState],
    beds: u32,
    accept_bar: f64,
    weight: f64,
    signal: f64,
    out: &mut [f64],
) {
    for (i, (me, o)) in ranks.iter().zip(out.iter_mut()).enumerate() {
        let ahead = ranks
            .iter()
            .enumerate()
            .filter(|&(k, x)| {
                x.rank >= accept_bar && (x.rank > me.rank || (x.rank == me.rank && k < i))
            })
            .count();
        let fits = f64::from(u8::from(ahead < beds as usize));
        *o = (1.0 - weight) * signal + weight * fits;
    }
}

/// Team j's threshold offset: evenly spread over [−spread, spread] (0 for a single team).
fn team_offset(j: usize, teams: usize, spread: f64) -> f64 {
    if teams < 2 {
        return 0.0;
    }
    spread * (2.0 * j as f64 / (teams - 1) as f64 - 1.0)
}

/// A standard logistic draw by the inverse CDF; u = 0 (which `gen` can return) is moved to the
/// smallest positive double so the draw stays finite.
fn logistic(rng: &mut Pcg64) -> f64 {
    let u: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
    (u / (1.0 - u)).ln()
}

fn priority(p: &Patient) -> f64 {
    p.a.urgency + 0.1 * f64::from(p.wait)
}

/// Audit-hit function p_audit(Δc) = clip(q + slope · \[Δc\]+, 0, 1).
pub fn audit_probability(s: &Scenario, gap: f64) -> f64 {
    (s.audit.base_prob + s.audit.slope * gap.max(0.0)).clamp(0.0, 1.0)
}

/// The signal steering follows for one team: last period's KPI or the backlog it carries in.
fn steering_signal(t: &Team, steering: FlexSteering) -> f64 {
    match steering {
        FlexSteering::Kpi => t.kpi,
        FlexSteering::QueueLength => t.queue.len() as f64,
    }
}

/// Beds per team: the dedicated part of the capacity split evenly, then the flexible pool by
/// static shares (ξ = 0) or by steering (ξ > 0: weights exp(ξ · standardised signal), the
/// signal last period's KPI or the team's backlog, as `steering` says).
fn allocate_beds(teams: &mut [Team], lv: &AdminLevers, steering: FlexSteering) {
    let j = teams.len();
    let dedicated = lv.total_capacity - lv.flex_pool;
    for (i, t) in teams.iter_mut().enumerate() {
        t.beds = dedicated / j as u32 + u32::from((i as u32) < dedicated % j as u32);
    }
    if lv.flex_pool == 0 {
        return;
    }
    if lv.xi <= 0.0 {
        // Static shares: continue the even split where the dedicated one stopped.
        let start = (dedicated % j as u32) as usize;
        for k in 0..lv.flex_pool as usize {
            teams[(start + k) % j].beds += 1;
        }
        return;
    }
    let signal = |t: &Team| steering_signal(t, steering);
    let m = mean(teams.iter().map(signal));
    let sd = population_sd(teams.iter().map(signal));
    // Fixed-size scratch (at most 64 teams, validated): no allocation in the period loop.
    let mut quota_buf = [0.0f64; 64];
    let quotas = &mut quota_buf[..j];
    let mut total = 0.0;
    for (q, t) in quotas.iter_mut().zip(teams.iter()) {
        *q = (lv.xi * (signal(t) - m) / (sd + 1e-9)).exp();
        total += *q;
    }
    let mut given = 0;
    for (t, q) in teams.iter_mut().zip(quotas.iter_mut()) {
        *q = f64::from(lv.flex_pool) * *q / total;
        t.beds += q.floor() as u32;
        given += q.floor() as u32;
    }
    // Largest remainder, ties to the lower index.
    let mut order_buf = [0usize; 64];
    for (k, o) in order_buf.iter_mut().enumerate().take(j) {
        *o = k;
    }
    let order = &mut order_buf[..j];
    order.sort_unstable_by(|a, b| {
        (quotas[*b] - quotas[*b].floor())
            .total_cmp(&(quotas[*a] - quotas[*a].floor()))
            .then(a.cmp(b))
    });
    for k in 0..(lv.flex_pool - given) as usize {
        teams[order[k % j]].beds += 1;
    }
}

fn ensure_lanes(block: &medisim_dsl::compile::Block, batch: &mut Batch, n: usize) {
    if n > batch.capacity() {
        *batch = block.batch(n.next_power_of_two());
    }
    batch.set_lanes(n);
}

fn softmax(x: &[f64], kappa: f64, out: &mut [f64]) {
    let mx = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut z = 0.0;
    for (o, v) in out.iter_mut().zip(x) {
        *o = (kappa * (v - mx)).exp();
        z += *o;
    }
    for o in out.iter_mut() {
        *o /= z;
    }
}

fn argmax_first(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

fn softmax_pick(scores: &[f64], temperature: f64, probs: &mut Vec<f64>, rng: &mut Pcg64) -> usize {
    probs.clear();
    softmax_cumulative(scores, temperature, probs);
    pick_cumulative(probs, rng)
}

/// Appends the running sums of exp((score − max) / temperature) to `out`.
fn softmax_cumulative(scores: &[f64], temperature: f64, out: &mut Vec<f64>) {
    let mx = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut z = 0.0;
    for s in scores {
        let p = ((s - mx) / temperature).exp();
        z += p;
        out.push(z);
    }
}

/// The first index whose running sum exceeds a uniform share of the total (the last if none).
fn pick_cumulative(cumulative: &[f64], rng: &mut Pcg64) -> usize {
    let z = cumulative[cumulative.len() - 1];
    let u = rng.gen::<f64>() * z;
    cumulative
        .iter()
        .position(|c| u < *c)
        .unwrap_or(cumulative.len() - 1)
}

/// What the coding block's scores can depend on when it reads no patient feature: the true
/// group, the candidate and the period's levers. Then every group's candidates are scored once
/// per change of levers, not once per arrival (the picks and the coding stream are the same).
struct CodingMemo {
    /// The block reads none of the patient's own features.
    usable: bool,
    /// The coding levers the memo was filled for, bit for bit.
    levers: Option<u64>,
    /// One arrival of each true group, its own features zero.
    groups: Vec<Arrival>,
    /// Group g's candidates at `start[g]..start[g + 1]` of `cumulative`.
    start: Vec<usize>,
    cumulative: Vec<f64>,
    argmax: Vec<usize>,
}

impl CodingMemo {
    fn new(block: &Block, groups: usize) -> Self {
        let unread = |(f, _): &(D, f64)| !block.reads_feature(f.slot());
        let of_group = |group| Arrival {
            group,
            cmi: 0.0,
            urgency: 0.0,
            tolerance: 0,
        };
        CodingMemo {
            usable: patient_coding_features(&of_group(0)).iter().all(unread),
            levers: None,
            groups: (0..groups).map(of_group).collect(),
            start: Vec::new(),
            cumulative: Vec::new(),
            argmax: Vec::new(),
        }
    }
}

/// The coding features an arrival's own attributes set (the rest depend only on its true group,
/// the candidate and the levers): one list for `score_candidates` to write and for
/// [`CodingMemo`] to check, so a feature added here can never be missed by the memo.
fn patient_coding_features(a: &Arrival) -> [(D, f64); 4] {
    [
        (D::Urgency, a.urgency),
        (D::Wait, 0.0),
        (D::Complexity, a.cmi),
        (D::Tolerance, f64::from(a.tolerance)),
    ]
}

/// What the coding channel reads of the period's levers. `score_candidates` sees the levers
/// only through this, and the memo is keyed on it, so a lever that comes to enter a coding
/// feature enters the key with it; a change of any other lever (the bonus pool, every period
/// under an adaptive administrator) keeps the memo.
#[derive(Clone, Copy)]
struct CodingLevers {
    alpha: f64,
}

impl CodingLevers {
    fn of(lv: &AdminLevers) -> Self {
        CodingLevers { alpha: lv.alpha }
    }

    /// Bit for bit: −0 and 0 differ.
    fn bits(self) -> u64 {
        self.alpha.to_bits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn teams(kpis: &[f64]) -> Vec<Team> {
        kpis.iter()
            .map(|k| Team {
                queue: Vec::new(),
                skill: 1.0,
                beds: 0,
                fatigue: 0.0,
                kpi: *k,
                bonus_pressure: 0.0,
                ref_health: 0.9,
                ref_cost: 10.0,
                ref_wait: 1.0,
            })
            .collect()
    }

    fn levers(total: u32, flex: u32, xi: f64) -> AdminLevers {
        let mut raw = [0.0; 11];
        raw[Field::TotalCapacity as usize] = f64::from(total);
        raw[Field::FlexPool as usize] = f64::from(flex);
        raw[Field::Xi as usize] = xi;
        AdminLevers::project(&raw)
    }

    #[test]
    fn without_steering_the_flexible_pool_changes_nothing() {
        let mut a = teams(&[0.3, -1.0, 0.1, 2.0, 0.0]);
        let mut b = a.clone();
        allocate_beds(&mut a, &levers(10, 0, 0.0), FlexSteering::Kpi);
        allocate_beds(&mut b, &levers(10, 4, 0.0), FlexSteering::Kpi);
        let beds = |t: &[Team]| t.iter().map(|x| x.beds).collect::<Vec<_>>();
        assert_eq!(beds(&a), vec![2, 2, 2, 2, 2]);
        assert_eq!(beds(&a), beds(&b));
    }

    #[test]
    fn kpi_steering_moves_flexible_beds_to_high_kpi_teams() {
        let mut t = teams(&[0.3, -1.0, 0.1, 2.0, 0.0]);
        allocate_beds(&mut t, &levers(10, 4, 1.5), FlexSteering::Kpi);
        let beds: Vec<u32> = t.iter().map(|x| x.beds).collect();
        assert_eq!(beds.iter().sum::<u32>(), 10);
        assert!(beds[3] >= 3, "{beds:?}");
        assert_eq!(
            beds[1], 1,
            "the lowest-KPI team keeps only its dedicated bed: {beds:?}"
        );
    }

    /// The coding memo scores a group's candidates once instead of once an arrival: a rule
    /// that reads the patient's urgency (by a term that adds nothing) turns it off, and the
    /// two rollouts agree bit for bit, in both coding modes, with α rising every period for 70
    /// periods (the memo refilled each time) and then held (the memo reused).
    #[test]
    fn the_coding_memo_picks_what_scoring_every_arrival_picks() {
        let head = "kind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"t\"\n";
        let rule = "upcode_pressure - audit_penalty - ethics_pressure";
        let program = |score: &str| {
            let src = format!(
                "{head}[admin_policy]\nalpha = min(0.9, 0.2 + 0.01 * period)\n\
                 [doctor_policy]\ncandidate_score = {score}\n"
            );
            HospitalProgram::new(&crate::load(&src).unwrap())
        };
        let memo = program(rule);
        let each = program(&format!("{rule} + 0 * urgency"));
        assert!(CodingMemo::new(memo.coding(), 3).usable);
        assert!(!CodingMemo::new(each.coding(), 3).usable);
        for mode in [CodingMode::Stochastic, CodingMode::Deterministic] {
            let mut s = Scenario::default();
            s.coding.mode = mode;
            let kernel = crate::arrivals::kernel(&s).unwrap();
            let run = |policy: &HospitalProgram| {
                let r = Rollout {
                    scenario: &s,
                    policy,
                    kernel: kernel.as_ref(),
                };
                (1..=4)
                    .map(|rep| r.run(rep, 120, ObjectiveKind::Mixed, false).metrics)
                    .collect::<Vec<_>>()
            };
            let (a, b) = (run(&memo), run(&each));
            assert!(a[0].upcoding_rate > 0.0, "{mode:?}: nothing to pick");
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{mode:?}");
        }
    }

    /// Steered by backlog, the same beds go to the longest queue whatever the KPIs say.
    #[test]
    fn queue_steering_moves_flexible_beds_to_the_longest_queues() {
        let mut t = teams(&[0.3, -1.0, 0.1, 2.0, 0.0]);
        let waiting = Patient {
            id: 0,
            a: Arrival {
                group: 0,
                cmi: 0.1,
                urgency: 0.5,
                tolerance: 3,
            },
            coded: 0,
            wait: 1,
            priority_key: 0,
            k: CaseConstants {
                base: 1.0,
                denom: 0.1,
                dh: 0.0,
                dc: 0.0,
                net_revenue: 0.0,
                counterfactual: 0.0,
                untreated: 0.0,
                kpi_expected_cost: 0.0,
            },
        };
        t[1].queue = vec![waiting; 6];
        t[4].queue = vec![waiting; 1];
        allocate_beds(&mut t, &levers(10, 4, 1.5), FlexSteering::QueueLength);
        let beds: Vec<u32> = t.iter().map(|x| x.beds).collect();
        assert_eq!(beds.iter().sum::<u32>(), 10);
        assert!(beds[1] >= 3, "the longest queue gets the pool: {beds:?}");
        assert_eq!(beds[3], 1, "a high KPI earns nothing here: {beds:?}");
    }

    /// What the host may skip: a feature is read only when some rule uses it.
    #[test]
    fn a_block_reads_exactly_the_features_its_rules_use() {
        let base = HospitalProgram::new(crate::baseline());
        let care = base.care();
        assert!(care.reads_feature(D::ClinicalTriageScore.slot()));
        assert!(care.reads_feature(D::BedAvailable.slot()));
        assert!(!care.reads_feature(D::Urgency.slot()));
        assert!(!care.reads_feature(D::Fatigue.slot()));
        assert!((0..ADMIN_FEATURES).all(|f| !base.admin().reads_feature(f)));
        let src = include_str!("../../../policies/baseline.policy")
            .replace(
                "effort = base_effort + effort_quality_pressure",
                "effort = urgency",
            )
            .replace("alpha = 0.5", "alpha = 0.5 + 0 * funds");
        let edited = HospitalProgram::new(&crate::load(&src).unwrap());
        assert!(edited.care().reads_feature(D::Urgency.slot()));
        assert!(!edited.care().reads_feature(D::BaseEffort.slot()));
        assert!(edited.admin().reads_feature(A::Funds.slot()));
    }

    #[test]
    fn softmax_pick_follows_scores_and_temperature() {
        let mut rng = stream(0, 1, Purpose::Coding);
        let mut probs = Vec::new();
        let n = 20_000;
        let hits = (0..n)
            .filter(|_| softmax_pick(&[0.0, 0.2], 0.2, &mut probs, &mut rng) == 1)
            .count();
        // P(1) = e^1 / (1 + e^1) = 0.731
        assert!((hits as f64 / n as f64 - 0.731).abs() < 0.015);
        assert_eq!(
            argmax_first(&[0.0, 0.0, -1.0]),
            0,
            "ties go to the true group"
        );
    }
}
