//! An outside controller of the administrator's levers: passing the policy's own levers
//! through changes nothing, and the per-period rewards it is told add up, discounted, to the
//! run's discounted return.

use medisim_sim::arrivals::kernel;
use medisim_sim::engine::{AdminController, Rollout, ADMIN_FEATURES};
use medisim_sim::schema::{AdminLevers, HospitalProgram};
use medisim_sim::{baseline, ObjectiveKind, Scenario};

struct Replay {
    /// Override α and the capacity (None: keep the policy's).
    alpha: Option<f64>,
    capacity: Option<u32>,
    rewards: Vec<f64>,
    seen: usize,
}

impl AdminController for Replay {
    fn levers(
        &mut self,
        t: u32,
        features: &[f64; ADMIN_FEATURES],
        mut policy: AdminLevers,
    ) -> AdminLevers {
        // The last feature is the period.
        assert_eq!(features[ADMIN_FEATURES - 1], f64::from(t));
        self.seen += 1;
        if let Some(a) = self.alpha {
            policy.alpha = a;
        }
        if let Some(c) = self.capacity {
            policy.total_capacity = c;
        }
        policy
    }
    fn reward(&mut self, _t: u32, reward: f64) {
        self.rewards.push(reward);
    }
}

#[test]
fn a_pass_through_controller_changes_nothing_and_rewards_sum_to_the_return() {
    let s = Scenario::default();
    let program = HospitalProgram::new(baseline());
    let k = kernel(&s).unwrap();
    let r = Rollout {
        scenario: &s,
        policy: &program,
        kernel: k.as_ref(),
    };
    for objective in [
        ObjectiveKind::Mixed,
        ObjectiveKind::Welfare,
        ObjectiveKind::Profit,
    ] {
        let plain = r.run(3, 60, objective, false);
        let mut c = Replay {
            alpha: None,
            capacity: None,
            rewards: Vec::new(),
            seen: 0,
        };
        let same = r.run_controlled(3, 60, objective, false, Some(&mut c));
        assert_eq!(
            format!("{:?}", plain.metrics),
            format!("{:?}", same.metrics)
        );
        assert_eq!(c.seen, 60);
        let g = s.objective.discount;
        let ret: f64 = c
            .rewards
            .iter()
            .enumerate()
            .map(|(t, x)| g.powi(t as i32) * x)
            .sum();
        assert!(
            (ret - same.metrics.discounted_return).abs() < 1e-9 * ret.abs().max(1.0),
            "{objective:?}"
        );
    }
    // Different levers, different hospital.
    let mut c = Replay {
        alpha: Some(0.9),
        capacity: Some(14),
        rewards: Vec::new(),
        seen: 0,
    };
    let other = r.run_controlled(3, 60, ObjectiveKind::Mixed, false, Some(&mut c));
    let plain = r.run(3, 60, ObjectiveKind::Mixed, false);
    assert_ne!(
        format!("{:?}", plain.metrics),
        format!("{:?}", other.metrics)
    );
}
