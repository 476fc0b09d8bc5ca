//! The L1 signatures of the paper's Table 2, with the Appendix H defaults (30 seeds, T = 200):
//! directions, not magnitudes. Run on two disjoint seed ranges.

use medisim_dsl::Policy;
use medisim_sim::{baseline, Field};
use medisim_sim::{run_seeds, Metric, ObjectiveKind, RunResult, Scenario};

fn cell(alpha: f64, beta: f64, seeds: std::ops::RangeInclusive<u64>) -> RunResult {
    let mut p: Policy = baseline().clone();
    p.fix(Field::Alpha, alpha);
    p.fix(Field::Beta, beta);
    let config = medisim_sim::run_spec(seeds.collect(), 200, ObjectiveKind::Mixed);
    let trace = false;
    run_seeds(&Scenario::default(), &p, &config, trace).unwrap()
}

struct Regimes {
    low: RunResult,
    profit: RunResult,
    quality: RunResult,
    balanced: RunResult,
}

fn regimes(seeds: std::ops::RangeInclusive<u64>) -> Regimes {
    Regimes {
        low: cell(0.0, 0.0, seeds.clone()),
        profit: cell(0.8, 0.2, seeds.clone()),
        quality: cell(0.2, 0.8, seeds.clone()),
        balanced: cell(0.5, 0.5, seeds),
    }
}

fn assert_table_2_signatures(r: &Regimes) {
    let all = [&r.low, &r.profit, &r.quality, &r.balanced];
    fn others<'a>(
        all: [&'a RunResult; 4],
        x: &'a RunResult,
    ) -> impl Iterator<Item = &'a RunResult> {
        all.into_iter().filter(move |y| !std::ptr::eq(*y, x))
    }
    // Profit-driven: most up-coding and most funds of the four, and cherry-picking.
    for o in others(all, &r.profit) {
        assert!(r.profit.mean(Metric::UpcodingRate) > o.mean(Metric::UpcodingRate));
        assert!(r.profit.mean(Metric::TerminalFunds) > o.mean(Metric::TerminalFunds));
    }
    assert!(
        r.profit.mean(Metric::CherryPickingGap) > 0.0,
        "profit gap {}",
        r.profit.mean(Metric::CherryPickingGap)
    );
    // Selection is strongest where profit dominates (paper: 0.182 > 0.155 > -0.051).
    assert!(r.profit.mean(Metric::CherryPickingGap) > r.balanced.mean(Metric::CherryPickingGap));
    assert!(r.profit.mean(Metric::CherryPickingGap) > r.quality.mean(Metric::CherryPickingGap));
    // A mostly financial provider turns complex cases away; a mixed one parks them (strategic
    // delay needs both motives).
    assert!(r.profit.mean(Metric::RejectionHighCmi) > r.profit.mean(Metric::DeferralHighCmi));
    assert!(r.balanced.mean(Metric::DeferralHighCmi) > r.balanced.mean(Metric::RejectionHighCmi));
    // Quality-driven: most effort, low funds, no cherry-picking.
    for o in others(all, &r.quality) {
        assert!(r.quality.mean(Metric::MeanEffort) > o.mean(Metric::MeanEffort));
    }
    assert!(r.quality.mean(Metric::TerminalFunds) < r.balanced.mean(Metric::TerminalFunds));
    assert!(r.quality.mean(Metric::TerminalFunds) < r.profit.mean(Metric::TerminalFunds));
    assert!(
        r.quality.mean(Metric::CherryPickingGap) <= 0.0,
        "quality gap {}",
        r.quality.mean(Metric::CherryPickingGap)
    );
    // Low incentives ration access: the most rejection.
    for o in others(all, &r.low) {
        assert!(r.low.mean(Metric::RejectionRate) > o.mean(Metric::RejectionRate));
    }
    // Balanced interior: measured KPI anti-aligned with true health; complex cases deferred more.
    assert!(
        r.balanced.mean(Metric::CorrKpiHealth) < 0.0,
        "corr {}",
        r.balanced.mean(Metric::CorrKpiHealth)
    );
    assert!(r.balanced.mean(Metric::DeferralHighCmi) > r.balanced.mean(Metric::DeferralLowCmi));
}

#[test]
fn table_2_signatures_hold_on_seeds_1_to_30() {
    assert_table_2_signatures(&regimes(1..=30));
}

#[test]
fn table_2_signatures_hold_on_seeds_31_to_60() {
    assert_table_2_signatures(&regimes(31..=60));
}

#[test]
fn upcoding_rises_with_alpha_at_every_beta() {
    for beta in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let rates: Vec<f64> = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
            .iter()
            .map(|a| cell(*a, beta, 1..=30).mean(Metric::UpcodingRate))
            .collect();
        assert!(
            rates.windows(2).all(|w| w[1] > w[0]),
            "beta {beta}: {rates:?}"
        );
    }
}
