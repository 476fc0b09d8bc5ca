//! The nine external stylized facts of Table 4: each an explicit intervention and a directional
//! check on the simulator's response. Directions, not magnitudes.

use crate::cells::{Cell, CellSpec};
use crate::l1;
use crate::l2::{self, Lever, REGIMES};
use medisim_dsl::Policy;
use medisim_sim::{Metric, Scenario};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Fact {
    pub name: &'static str,
    pub anchor: &'static str,
    pub intervention: &'static str,
    pub expected: &'static str,
    pub observed: String,
    pub pass: bool,
}

/// Every cell the nine facts need, labelled by `id` (shared with L1/L2 through the cache).
pub fn specs(s: &Scenario, p: &Policy, seeds: &[u64], horizon: u32) -> Vec<CellSpec> {
    let mut v = vec![
        l1::cell(s, p, 0.2, 0.2, seeds, horizon).label("id", "l1_a0.2_b0.2"),
        l1::cell(s, p, 0.8, 0.2, seeds, horizon).label("id", "profit"),
        l1::cell(s, p, 0.2, 0.8, seeds, horizon).label("id", "quality"),
        l1::cell(s, p, 0.5, 0.5, seeds, horizon).label("id", "balanced"),
    ];
    for r in REGIMES {
        for (lever, value) in [
            (Lever::Audit, 0.0),
            (Lever::Audit, 0.5),
            (Lever::Capacity, 6.0),
            (Lever::Capacity, 16.0),
        ] {
            v.push(
                l2::cell(s, p, lever, value, r, seeds, horizon)
                    .label("id", format!("{}_{}_{}", lever.name(), value, r.0)),
            );
        }
        for lever in [Lever::Flex, Lever::FlexNoSteering] {
            for value in [0.0, 4.0] {
                v.push(
                    l2::cell(s, p, lever, value, r, seeds, horizon)
                        .label("id", format!("{}_{}_{}", lever.name(), value, r.0)),
                );
            }
        }
    }
    let balanced = REGIMES[2];
    for value in [0.0, 15.0] {
        v.push(
            l2::cell(s, p, Lever::BonusPool, value, balanced, seeds, horizon)
                .label("id", format!("bonus_pool_{value}")),
        );
    }
    v
}

/// Evaluate the nine facts on finished cells (from [`specs`]).
pub fn evaluate(cells: &[Cell]) -> Vec<Fact> {
    let get = |id: &str| {
        cells
            .iter()
            .find(|c| c.label("id") == id)
            .unwrap_or_else(|| panic!("validation cell {id} missing"))
    };
    let m = |id: &str, metric: Metric| get(id).mean(metric);
    let (lo, profit, quality, balanced) = ("l1_a0.2_b0.2", "profit", "quality", "balanced");
    let mut facts = Vec::new();

    let (u0, u1, f0, f1) = (
        m(lo, Metric::UpcodingRate),
        m(profit, Metric::UpcodingRate),
        m(lo, Metric::TerminalFunds),
        m(profit, Metric::TerminalFunds),
    );
    facts.push(Fact {
        name: "Diagnosis-based payment creates coding rent",
        anchor: "Dafny (2005); Kronick and Welch (2014)",
        intervention: "raise profit sensitivity α 0.2 → 0.8 at β = 0.2",
        expected: "up-coding rises; funds rise",
        observed: format!("up-coding {u0:.3} → {u1:.3}; funds {f0:.1} → {f1:.1}"),
        pass: u1 > u0 && f1 > f0,
    });

    let (i0, i1) = (
        m(lo, Metric::CodedCmiInflation),
        m(profit, Metric::CodedCmiInflation),
    );
    facts.push(Fact {
        name: "Risk-adjusted reimbursement raises coded complexity",
        anchor: "Kronick and Welch (2014); Geruso and Layton (2020)",
        intervention:
            "strengthen the value of the coded group: α 0.2 → 0.8 at β = 0.2 (same patients)",
        expected: "coded complexity rises relative to true complexity",
        observed: format!("coded-minus-true CMI {i0:.4} → {i1:.4}"),
        pass: i1 > i0 && i0 >= 0.0,
    });

    let (g, d) = (
        m(profit, Metric::CherryPickingGap),
        m(profit, Metric::DeferralGap),
    );
    facts.push(Fact {
        name: "Profit incentives shift case mix",
        anchor: "Silverman and Skinner (2004); Ellis (1998); Ma (1994)",
        intervention: "profit-driven regime (α, β) = (0.8, 0.2)",
        expected:
            "high-CMI patients face worse access: more rejection and more deferral than low-CMI",
        observed: format!("rejection gap {g:+.3}; deferral gap {d:+.3}"),
        pass: g > 0.0 && d > 0.0,
    });

    let at = |q: f64, r: &str, metric: Metric| m(&format!("audit_{q}_{r}"), metric);
    let up = |q: f64, r: &str| at(q, r, Metric::UpcodingRate);
    // Each regime carries its selection in its own access channel: profit-driven providers turn
    // complex patients away, balanced ones park them (docs/model.md), so the substitution is read
    // from the profit rejection gap and the balanced deferral gap.
    let (cp0, cp1) = (
        at(0.0, "profit-driven", Metric::CherryPickingGap),
        at(0.5, "profit-driven", Metric::CherryPickingGap),
    );
    let (dg0, dg1) = (
        at(0.0, "balanced", Metric::DeferralGap),
        at(0.5, "balanced", Metric::DeferralGap),
    );
    facts.push(Fact {
        name: "Audit suppresses coding but shifts pressure elsewhere",
        anchor: "Kuhn and Siciliani (2008)",
        intervention: "audit probability q 0 → 0.5 (slope 0), L2 settings",
        expected: "up-coding falls; selection of complex patients rises once the billing channel closes",
        observed: format!(
            "profit up-coding {:.3} → {:.3}; balanced up-coding {:.3} → {:.3}; profit rejection gap {cp0:+.3} → {cp1:+.3}; balanced deferral gap {dg0:+.3} → {dg1:+.3}",
            up(0.0, "profit-driven"),
            up(0.5, "profit-driven"),
            up(0.0, "balanced"),
            up(0.5, "balanced"),
        ),
        pass: up(0.5, "profit-driven") < up(0.0, "profit-driven")
            && up(0.5, "balanced") < up(0.0, "balanced")
            && cp1 > cp0
            && dg1 > dg0,
    });

    let (c, sd) = (
        m(balanced, Metric::CorrKpiHealth),
        m(balanced, Metric::StrategicDelayGap),
    );
    facts.push(Fact {
        name: "Measured performance targets induce gaming",
        anchor: "Bevan and Hood (2006); Propper et al. (2010); Campbell (1979); Manheim and Garrabrant (2018)",
        intervention: "balanced interior (0.5, 0.5) with a KPI tournament",
        expected: "measured KPI decouples from true health; complex cases are delayed",
        observed: format!("corr(KPI, health) {c:+.3}; strategic-delay gap {sd:+.3}"),
        pass: c < 0.0 && sd > 0.0,
    });

    let (b0, b15) = (
        m("bonus_pool_0", Metric::CorrKpiHealth),
        m("bonus_pool_15", Metric::CorrKpiHealth),
    );
    facts.push(Fact {
        name: "Stronger pay-for-performance can worsen true alignment when the proxy is misaligned",
        anchor: "Holmstrom and Milgrom (1991); Baker (1992); Eijkenaar et al. (2013); Van Herck et al. (2010)",
        intervention: "bonus pool 0 → 15, balanced regime",
        expected: "KPI–health alignment worsens",
        observed: format!("corr(KPI, health) {b0:+.3} → {b15:+.3}"),
        pass: b15 < b0,
    });

    let (uq, up_, gq, gp, eq, ep, fq, fp) = (
        m(quality, Metric::UpcodingRate),
        m(profit, Metric::UpcodingRate),
        m(quality, Metric::CherryPickingGap),
        m(profit, Metric::CherryPickingGap),
        m(quality, Metric::MeanEffort),
        m(profit, Metric::MeanEffort),
        m(quality, Metric::TerminalFunds),
        m(profit, Metric::TerminalFunds),
    );
    facts.push(Fact {
        name: "Quality incentives suppress coding and selection but raise effort and budget pressure",
        anchor: "Ma (1994); Ellis (1998); Eggleston (2005)",
        intervention: "quality-driven (0.2, 0.8) against profit-driven (0.8, 0.2)",
        expected: "less up-coding and cream-skimming; more effort; weaker solvency",
        observed: format!("up-coding {uq:.3} vs {up_:.3}; rejection gap {gq:+.3} vs {gp:+.3}; effort {eq:.3} vs {ep:.3}; funds {fq:.1} vs {fp:.1}"),
        pass: uq < up_ && gq <= 0.0 && gq < gp && eq > ep && fq < fp,
    });

    let waits: Vec<(f64, f64)> = REGIMES
        .iter()
        .map(|r| {
            (
                m(&format!("capacity_6_{}", r.0), Metric::MeanWaiting),
                m(&format!("capacity_16_{}", r.0), Metric::MeanWaiting),
            )
        })
        .collect();
    facts.push(Fact {
        name: "Total capacity expansion reduces waiting",
        anchor: "Green (2002, 2006)",
        intervention: "total capacity 6 → 16, three regimes",
        expected: "mean waiting falls in every regime",
        observed: REGIMES
            .iter()
            .zip(&waits)
            .map(|(r, (a, b))| format!("{} {a:.3} → {b:.3}", r.0))
            .collect::<Vec<_>>()
            .join("; "),
        pass: waits.iter().all(|(a, b)| b < a),
    });

    let w = |lever: &str, v: f64| m(&format!("{lever}_{v}_balanced"), Metric::MeanWaiting);
    let (s0, s4, n0, n4) = (
        w("flex", 0.0),
        w("flex", 4.0),
        w("flex_no_steering", 0.0),
        w("flex_no_steering", 4.0),
    );
    facts.push(Fact {
        name: "Flexible capacity helps only under an appropriate allocation rule",
        anchor: "Bekker et al. (2017)",
        intervention:
            "flexible pool 0 → 4, KPI-steered (ξ = 1) against steering off (ξ = 0), balanced",
        expected: "with KPI steering waiting rises; with steering off it does not",
        observed: format!("steered {s0:.3} → {s4:.3}; steering off {n0:.3} → {n4:.3}"),
        pass: s4 > s0 && n4 <= n0 + 0.02 * n0.max(0.1) && (s4 - s0) > (n4 - n0),
    });
    facts
}

/// The facts as a plain-text table.
pub fn table(facts: &[Fact]) -> String {
    let mut s = String::new();
    for (i, f) in facts.iter().enumerate() {
        s.push_str(&format!(
            "{} {}. {}\n     anchor:       {}\n     intervention: {}\n     expected:     {}\n     observed:     {}\n",
            if f.pass { "PASS" } else { "FAIL" },
            i + 1,
            f.name,
            f.anchor,
            f.intervention,
            f.expected,
            f.observed
        ));
    }
    let passed = facts.iter().filter(|f| f.pass).count();
    s.push_str(&format!(
        "{passed} of {} stylized facts pass\n",
        facts.len()
    ));
    s
}
