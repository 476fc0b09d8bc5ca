//! Payment rules as policies: the shipped payment programs (`policies/panel/`) reproduce the
//! payment keys bit for bit at every point of E1–E6, a program that says something else moves
//! what the provider answers, and the exact providers refuse the asymmetric shared risk a
//! program writes as they refuse it in the keys.

use medisim_panel::disease::Retinopathy;
use medisim_panel::experiments::{plan, EXPERIMENTS};
use medisim_panel::program::PaymentProgram;
use medisim_panel::sim::run;
use medisim_panel::{Basis, PanelConfig, PanelMetric, ProviderKind};

fn program(file: &str) -> PaymentProgram {
    let path = format!("{}/../../policies/panel/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    PaymentProgram::load(&text).unwrap_or_else(|d| panic!("{file}: {d:?}"))
}

/// Every summary, bit for bit, and the chosen treatments.
fn fingerprint(cfg: &PanelConfig) -> String {
    let d = Retinopathy::new(cfg.retinopathy.clone()).unwrap();
    let r = run(&d, cfg).unwrap();
    let mut text = String::new();
    for (name, s) in r.metrics.iter() {
        text += &format!("{name} {:?} {:?} {:?}\n", s.mean, s.ci95[0], s.ci95[1]);
    }
    text + &format!("{:?}", r.policy)
}

fn small() -> PanelConfig {
    let mut c = PanelConfig {
        runs: 3,
        ..Default::default()
    };
    // Q-learning (E5, E6) trains on fewer runs: the test compares paths, not converged policies.
    c.provider.qlearning.max_runs = 200;
    c
}

#[test]
fn the_shipped_programs_reproduce_every_experiment_point_exactly() {
    let (ffs, gc, configured) = (
        program("fee-for-service.policy"),
        program("capitation.policy"),
        program("configured.policy"),
    );
    let mut points = 0;
    for id in EXPERIMENTS {
        for (_, series) in plan(&small(), id).unwrap().series {
            for (_, cfg) in series {
                let keys = fingerprint(&cfg);
                let by_basis = match cfg.payment.basis {
                    Basis::Ffs => ffs.clone(),
                    Basis::Gc => gc.clone(),
                };
                for p in [by_basis, configured.clone()] {
                    let with = PanelConfig {
                        program: Some(p.clone()),
                        ..cfg.clone()
                    };
                    assert_eq!(
                        keys,
                        fingerprint(&with),
                        "{id} under {}",
                        p.policy().header.name
                    );
                }
                points += 1;
            }
        }
    }
    assert_eq!(points, 66, "E1–E6 have 66 settings");
    // The comparison sees a cent: a fee-for-service program that pays one more cent per visit
    // is told apart at E1's first point.
    let cent = PaymentProgram::load(
        "kind = \"panel_payment\"\nversion = \"medisim_dsl_v1\"\nname = \"cent\"\n\
         [payment_policy]\nfee_payment = list_fee + 0.01\ncapitation = 0\n",
    )
    .unwrap();
    let first = plan(&small(), "E1").unwrap().series[0].1[0].1.clone();
    let moved = PanelConfig {
        program: Some(cent),
        ..first.clone()
    };
    assert_ne!(fingerprint(&first), fingerprint(&moved));
}

#[test]
fn a_program_moves_what_the_provider_answers() {
    let base = PanelConfig {
        runs: 10,
        ..Default::default()
    };
    let blended = PanelConfig {
        program: Some(program("blended.policy")),
        ..base.clone()
    };
    let d = Retinopathy::new(base.retinopathy.clone()).unwrap();
    // The resolution is the program's arithmetic: half the fee plus half the schedule.
    let pay = blended.contract(&d).unwrap();
    let fee = medisim_panel::disease::DiseaseModel::treatments(&d)[1].fee;
    assert_eq!(
        pay.prevention(2, 1, fee),
        0.5 * fee + 0.5 * base.payment.capitation[2]
    );
    assert_eq!((pay.reward_rate, pay.penalty_rate), (0.5, 0.5));
    let mean = |c: &PanelConfig, m| run(&d, c).unwrap().mean(m);
    // Half the fee per visit: the payer's fees fall, and shared risk now pays a transfer.
    assert!(mean(&blended, PanelMetric::Fees) < mean(&base, PanelMetric::Fees));
    assert_ne!(mean(&blended, PanelMetric::SharedRiskTransfer), 0.0);
    assert_eq!(mean(&base, PanelMetric::SharedRiskTransfer), 0.0);
}

#[test]
fn the_exact_providers_refuse_a_programs_asymmetric_shared_risk() {
    let text = "kind = \"panel_payment\"\nversion = \"medisim_dsl_v1\"\nname = \"asymmetric\"\n\
                [payment_policy]\nreward_rate = 0.5\npenalty_rate = 0.2\n";
    let mut cfg = PanelConfig {
        program: Some(PaymentProgram::load(text).unwrap()),
        ..Default::default()
    };
    cfg.provider.kind = ProviderKind::Optimal;
    cfg.provider.gamma = 0.5;
    let d = Retinopathy::new(cfg.retinopathy.clone()).unwrap();
    let e = run(&d, &cfg).unwrap_err().to_string();
    assert!(
        e.contains("reward rate equals the penalty rate") && e.contains("0.5"),
        "{e}"
    );
    // The myopic MILP takes it: the program's terms stay linear in the provider's choices.
    cfg.provider.kind = ProviderKind::Myopic;
    cfg.provider.gamma = 0.0;
    assert!(run(&d, &cfg).is_ok());
}

#[test]
fn a_program_reading_what_it_may_not_is_refused_at_its_line_and_column() {
    let text = "kind = \"panel_payment\"\nversion = \"medisim_dsl_v1\"\nname = \"x\"\n\
                [payment_policy]\nreward_rate = list_fee / 1000\n";
    let diags = PaymentProgram::load(text).unwrap_err();
    let d = &diags[0];
    assert!(d.message.contains("list_fee"), "{}", d.message);
    let (line, _) = medisim_dsl::span::line_col(text, d.span.start);
    assert_eq!(line, 5);
}
