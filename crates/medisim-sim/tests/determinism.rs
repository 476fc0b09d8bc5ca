//! Same scenario, policy and seeds give bit-identical results whatever the thread count; the
//! patient stream depends only on (scenario seed, replicate), not on the policy.

use medisim_core::Metric as _;
use medisim_sim::{baseline, load};
use medisim_sim::{run_seeds, Metric, ObjectiveKind, RunResult, Scenario};

fn run_with_threads(threads: usize, policy: &medisim_dsl::Policy) -> RunResult {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let config = medisim_sim::run_spec((1..=12).collect(), 120, ObjectiveKind::Mixed);
    let trace = true;
    pool.install(|| run_seeds(&Scenario::default(), policy, &config, trace).unwrap())
}

fn bits(r: &RunResult) -> Vec<u64> {
    r.per_seed
        .iter()
        .flat_map(|m| Metric::ALL.iter().map(|k| m.get(*k)))
        .map(f64::to_bits)
        .collect()
}

#[test]
fn results_are_bit_identical_for_1_2_and_4_threads() {
    let p = baseline();
    let one = run_with_threads(1, p);
    let two = run_with_threads(2, p);
    let four = run_with_threads(4, p);
    assert_eq!(bits(&one), bits(&two));
    assert_eq!(bits(&one), bits(&four));
    assert_eq!(one.trace, four.trace);
    assert_eq!(
        serde_json::to_string(&one.summary).unwrap(),
        serde_json::to_string(&four.summary).unwrap()
    );
}

#[test]
fn replicates_differ_and_policies_see_the_same_patients() {
    let base = run_with_threads(2, baseline());
    assert_ne!(
        base.per_seed[0].terminal_funds,
        base.per_seed[1].terminal_funds
    );
    let greedy = load(include_str!(
        "../../../policies/library/greedy_profit.policy"
    ))
    .unwrap();
    let other = run_with_threads(2, &greedy);
    for (a, b) in base.per_seed.iter().zip(&other.per_seed) {
        assert_eq!(
            a.arrival_rate, b.arrival_rate,
            "arrivals do not depend on the policy"
        );
        assert_ne!(a.terminal_funds, b.terminal_funds);
    }
}

#[test]
fn a_different_scenario_seed_gives_a_different_stream() {
    let s = Scenario {
        seed: 99,
        ..Scenario::default()
    };
    let config = medisim_sim::run_spec(vec![1], 50, ObjectiveKind::Mixed);
    let trace = false;
    let a = run_seeds(&Scenario::default(), baseline(), &config, trace).unwrap();
    let b = run_seeds(&s, baseline(), &config, trace).unwrap();
    assert_ne!(
        a.per_seed[0].arrival_rate.to_bits(),
        b.per_seed[0].arrival_rate.to_bits()
    );
}
