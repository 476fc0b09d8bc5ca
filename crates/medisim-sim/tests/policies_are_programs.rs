//! The simulator has no second copy of the rules: changing the policy program changes the
//! behaviour exactly where the program says.

use medisim_sim::load;
use medisim_sim::{run_seeds, Metric, ObjectiveKind, RunResult, Scenario};

const HEAD: &str = "kind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"t\"\n";

fn run(body: &str) -> RunResult {
    let p = load(&format!("{HEAD}{body}")).unwrap();
    let config = medisim_sim::run_spec((1..=8).collect(), 100, ObjectiveKind::Mixed);
    let trace = false;
    run_seeds(&Scenario::default(), &p, &config, trace).unwrap()
}

#[test]
fn a_coding_veto_in_the_program_removes_upcoding() {
    let free = run("[admin_policy]\nalpha = 1.0\n");
    let vetoed = run("[admin_policy]\nalpha = 1.0\n[doctor_policy]\ncandidate_score = upcode_pressure - audit_penalty - ethics_pressure - 100 * I(coding_gap > 0)\n");
    assert!(free.mean(Metric::UpcodingRate) > 0.2);
    assert_eq!(vetoed.mean(Metric::UpcodingRate), 0.0);
}

#[test]
fn a_program_that_never_accepts_treats_nobody() {
    let r = run("[doctor_policy]\ntriage_accept = false\ntriage_defer = false\n");
    assert_eq!(r.mean(Metric::Throughput), 0.0);
    assert_eq!(r.mean(Metric::RejectionRate), 1.0);
}

#[test]
fn a_program_without_bed_requests_produces_no_health() {
    let r = run("[doctor_policy]\nrequest_bed = false\n");
    assert!(r.mean(Metric::Throughput) > 5.0);
    assert_eq!(r.mean(Metric::MeanHealth), 0.0);
}

#[test]
fn admin_capacity_rules_are_projected_and_used() {
    // 3.7 beds rounds to 4; far fewer patients can be treated than with 10.
    let small = run("[admin_policy]\ntotal_capacity = 3.7\n");
    let big = run("[admin_policy]\ntotal_capacity = 10\n");
    assert!(small.mean(Metric::Throughput) <= 4.0 + 1e-9);
    assert!(small.mean(Metric::MeanWaiting) > big.mean(Metric::MeanWaiting));
}

#[test]
fn more_effort_costs_more() {
    let lean = run("[doctor_policy]\neffort = base_effort * 0.8\n");
    let rich = run("[doctor_policy]\neffort = base_effort * 1.3\n");
    assert!(rich.mean(Metric::MeanEffort) > lean.mean(Metric::MeanEffort));
    assert!(rich.mean(Metric::MeanCost) > lean.mean(Metric::MeanCost));
    assert!(rich.mean(Metric::MeanHealth) > lean.mean(Metric::MeanHealth));
}
