//! The golden panel: two short runs whose every summary and chosen treatment are pinned, bit
//! for bit, in `tests/snapshots/`. It fails on any change to the panel's behaviour; when the
//! change is intended, bump `MODEL_VERSION` in `src/lib.rs`, add a `CHANGELOG.md` entry marked
//! **model-breaking** and renew the snapshot (`INSTA_UPDATE=always cargo test -p medisim-panel
//! --test golden`). The version is part of the snapshot.

use medisim_panel::disease::{DiseaseModel, MarkovFile, Retinopathy, KIDNEY_MODEL};
use medisim_panel::sim::run;
use medisim_panel::{Basis, PanelConfig, ProviderKind, MODEL_VERSION};
use std::fmt::Write;

fn summary(label: &str, cfg: &PanelConfig) -> String {
    let d = Retinopathy::new(cfg.retinopathy.clone()).unwrap();
    summary_of(label, cfg, &d)
}

fn summary_of(label: &str, cfg: &PanelConfig, d: &dyn DiseaseModel) -> String {
    let r = run(d, cfg).unwrap();
    let mut text = format!(
        "model {MODEL_VERSION}; {label}; seed {}, {} runs\n",
        cfg.seed, cfg.runs
    );
    for (name, s) in r.metrics.iter() {
        // `{:?}` prints the shortest text that reads back to the same bits.
        writeln!(
            text,
            "{name:<24} mean {:?} ci [{:?}, {:?}]",
            s.mean, s.ci95[0], s.ci95[1]
        )
        .unwrap();
    }
    for (state, treatment) in &r.policy {
        writeln!(text, "policy {state}: {treatment}").unwrap();
    }
    text
}

#[test]
fn myopic_provider_under_fee_for_service() {
    let cfg = PanelConfig {
        runs: 8,
        ..PanelConfig::default()
    };
    insta::assert_snapshot!(summary("myopic, FFS", &cfg));
}

#[test]
fn planning_provider_under_capitation_with_shared_risk() {
    let mut cfg = PanelConfig {
        runs: 8,
        ..PanelConfig::default()
    };
    cfg.payment.basis = Basis::Gc;
    cfg.payment.reward_rate = 0.5;
    cfg.payment.penalty_rate = 0.5;
    cfg.provider.kind = ProviderKind::Optimal;
    insta::assert_snapshot!(summary("optimal, GC with shared risk 0.5/0.5", &cfg));
}

/// The file-driven kidney model, with death: the dead are neither treated nor billed.
#[test]
fn myopic_provider_on_the_kidney_model() {
    let d = MarkovFile::from_toml(KIDNEY_MODEL, "diabetic-kidney.toml").unwrap();
    let cfg = PanelConfig {
        runs: 8,
        ..PanelConfig::default()
    };
    insta::assert_snapshot!(summary_of("myopic, FFS, diabetic kidney", &cfg, &d));
}
