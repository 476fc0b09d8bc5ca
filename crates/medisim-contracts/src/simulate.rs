//! Monte Carlo check of a contract: simulate a cohort — responder status S ~ Bern(γ), the
//! provider's action, survival draws — and report realised survival, payment per patient and
//! provider utility with 95% intervals, beside the values the model predicts.

use crate::params::{Params, Payments};
use medisim_core::{summarise, Summary};
use rand::Rng;
use serde::Serialize;

/// How the provider acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The provider's best response to the contract. A tie goes to the designed action E = S
    /// (the principal-agent convention: at the optimum the good responder's constraint binds).
    BestResponse,
    /// High expenditure for everyone (the paper's Fig. 2 comparison).
    AllHigh,
    /// Low expenditure for everyone.
    AllLow,
}

impl Policy {
    pub const ALL: [Policy; 3] = [Policy::BestResponse, Policy::AllHigh, Policy::AllLow];

    /// The expenditure for responder status `s` under `contract`.
    pub fn action(self, p: &Params, contract: &Payments, s: usize) -> usize {
        match self {
            Policy::AllHigh => 1,
            Policy::AllLow => 0,
            Policy::BestResponse => {
                let u = |e: usize| {
                    let pi = survival(p, s, e);
                    (1.0 - pi) * contract[e] + pi * contract[2 + e] - e as f64
                };
                let (u0, u1) = (u(0), u(1));
                if u1 > u0 + 1e-12 {
                    1
                } else if u0 > u1 + 1e-12 {
                    0
                } else {
                    s
                }
            }
        }
    }
}

fn survival(p: &Params, s: usize, e: usize) -> f64 {
    match (s, e) {
        (0, 0) => p.pi00,
        (0, _) => p.pi01,
        (_, 0) => p.pi10,
        _ => p.pi11,
    }
}

/// What a cohort shows, and what the model predicts for it.
#[derive(Clone, Debug, Serialize)]
pub struct Cohort {
    pub policy: Policy,
    pub patients: usize,
    pub survival: Summary,
    pub payment: Summary,
    pub provider_utility: Summary,
    /// The exact expectations of the three, under the same policy.
    pub expected: [f64; 3],
}

impl Cohort {
    /// Whether every expectation lies inside its 95% interval.
    pub fn covers_expectations(&self) -> bool {
        [&self.survival, &self.payment, &self.provider_utility]
            .iter()
            .zip(self.expected)
            .all(|(s, e)| s.ci95[0] <= e && e <= s.ci95[1])
    }
}

/// Stream purposes of the cohort simulation.
const STATUS: u8 = 1;
const OUTCOME: u8 = 2;

/// Simulate `patients` patients under `contract` and `policy`, from the named streams of
/// (`seed`, replicate 0): the same seed gives the same cohort for every contract and policy.
pub fn simulate(
    p: &Params,
    contract: &Payments,
    policy: Policy,
    patients: usize,
    seed: u64,
) -> Cohort {
    let mut status = medisim_core::rng::stream(seed, 0, STATUS);
    let mut outcome = medisim_core::rng::stream(seed, 0, OUTCOME);
    let (mut surv, mut pay, mut util) = (
        Vec::with_capacity(patients),
        Vec::with_capacity(patients),
        Vec::with_capacity(patients),
    );
    for _ in 0..patients {
        let s = usize::from(status.gen::<f64>() < p.gamma);
        let e = policy.action(p, contract, s);
        let q = usize::from(outcome.gen::<f64>() < survival(p, s, e));
        let payment = contract[2 * q + e];
        surv.push(q as f64);
        pay.push(payment);
        util.push(payment - e as f64);
    }
    let mut expected = [0.0; 3];
    for (s, weight) in [(0, 1.0 - p.gamma), (1, p.gamma)] {
        let e = policy.action(p, contract, s);
        let pi = survival(p, s, e);
        let payment = (1.0 - pi) * contract[e] + pi * contract[2 + e];
        expected[0] += weight * pi;
        expected[1] += weight * payment;
        expected[2] += weight * (payment - e as f64);
    }
    // Each mean lies where its draws can: survival in [0, 1], a payment between the contract's
    // least and largest, the provider's utility that less the cost of high expenditure (F = 1).
    let least = contract.iter().copied().fold(f64::INFINITY, f64::min);
    let most = contract.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Cohort {
        policy,
        patients,
        survival: summarise(&surv).truncated(0.0, 1.0),
        payment: summarise(&pay).truncated(least, most),
        provider_utility: summarise(&util).truncated(least - 1.0, most),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{segment, solve, Model};

    #[test]
    fn the_icp_contract_reproduces_our_fig_2_recomputation() {
        let p = Params::ICP;
        let c = solve(Model::NonNegative { t: 0.0 }, &p).unwrap().payments;
        let by = |policy| simulate(&p, &c, policy, 200_000, 7);
        let best = by(Policy::BestResponse);
        assert!(best.covers_expectations(), "{best:?}");
        assert!((best.expected[0] - 0.6596).abs() < 1e-9 && (best.expected[1] - 0.44).abs() < 1e-9);
        let high = by(Policy::AllHigh);
        assert!((high.expected[0] - 0.794).abs() < 1e-9);
        assert!((high.expected[1] - 0.794 / 0.85).abs() < 1e-9);
        let low = by(Policy::AllLow);
        assert!((low.expected[0] - 0.576).abs() < 1e-9 && low.expected[1] == 0.0);
        assert!(high.covers_expectations() && low.covers_expectations());
        // The best response is E = S: the contract does what it was designed for.
        assert_eq!(Policy::BestResponse.action(&p, &segment(&p, 0.0), 0), 0);
        assert_eq!(Policy::BestResponse.action(&p, &segment(&p, 0.0), 1), 1);
    }

    #[test]
    fn the_same_seed_gives_the_same_cohort() {
        let p = Params::ICP;
        let c = segment(&p, 0.0);
        let a = simulate(&p, &c, Policy::BestResponse, 1000, 3);
        let b = simulate(&p, &c, Policy::BestResponse, 1000, 3);
        assert_eq!(a.payment.mean.to_bits(), b.payment.mean.to_bits());
    }
}
