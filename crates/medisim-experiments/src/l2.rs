//! L2: one-at-a-time administrative lever sweeps around three regimes (paper §5.2, Appendices
//! F–G, Table 3, Figures 3, 9, 10). L2 baseline: the L1 defaults with KPI steering on (ξ = 1)
//! and the audit baseline q = 0.10.

use crate::cells::{tidy_table, Cell, CellSpec};
use crate::plots::{lines_with_bands, Series};
use crate::Figure;
use anyhow::Result;
use medisim_core::Metric as _;
use medisim_core::{write_atomic, Table};
use medisim_dsl::Policy;
use medisim_sim::scenario::FlexSteering;
use medisim_sim::Field;
use medisim_sim::{Metric, Scenario};
use std::path::Path;

/// The three representative regimes (Table 3).
pub const REGIMES: [(&str, f64, f64); 3] = [
    ("profit-driven", 0.8, 0.2),
    ("quality-driven", 0.2, 0.8),
    ("balanced", 0.5, 0.5),
];

/// The L2 levers of Table 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lever {
    Audit,
    BonusPool,
    Kappa,
    Capacity,
    HealthCostRatio,
    Flex,
    FlexNoSteering,
    /// The flexible pool steered by the teams' backlogs instead of their KPI (ξ = 1,
    /// `flex_steering = "queue_length"`): the rule Appendix G says would help.
    FlexQueueSteering,
}

impl Lever {
    pub const ALL: [Lever; 8] = [
        Lever::Audit,
        Lever::BonusPool,
        Lever::Kappa,
        Lever::Capacity,
        Lever::HealthCostRatio,
        Lever::Flex,
        Lever::FlexNoSteering,
        Lever::FlexQueueSteering,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Lever::Audit => "audit",
            Lever::BonusPool => "bonus_pool",
            Lever::Kappa => "kappa",
            Lever::Capacity => "capacity",
            Lever::HealthCostRatio => "health_cost_ratio",
            Lever::Flex => "flex",
            Lever::FlexNoSteering => "flex_no_steering",
            Lever::FlexQueueSteering => "flex_queue_steering",
        }
    }

    pub fn parse(s: &str) -> Option<Vec<Lever>> {
        if s == "all" {
            return Some(Lever::ALL.to_vec());
        }
        Lever::ALL.iter().find(|l| l.name() == s).map(|l| vec![*l])
    }

    /// The sweep grid of Table 3.
    pub fn values(self) -> &'static [f64] {
        match self {
            Lever::Audit => &[0.0, 0.05, 0.10, 0.20, 0.35, 0.50],
            Lever::BonusPool => &[0.0, 2.5, 5.0, 7.5, 10.0, 15.0],
            Lever::Kappa => &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            Lever::Capacity => &[6.0, 8.0, 10.0, 12.0, 14.0, 16.0],
            Lever::HealthCostRatio => &[0.5, 1.0, 2.0, 3.333, 4.0, 5.0],
            Lever::Flex | Lever::FlexNoSteering | Lever::FlexQueueSteering => &[0.0, 2.0, 4.0],
        }
    }

    /// The L2 baseline value (the dashed line in the figures).
    pub fn baseline(self) -> f64 {
        match self {
            Lever::Audit => 0.10,
            Lever::BonusPool => 5.0,
            Lever::Kappa => 2.0,
            Lever::Capacity => 10.0,
            Lever::HealthCostRatio => 1.0 / 0.3,
            Lever::Flex | Lever::FlexNoSteering | Lever::FlexQueueSteering => 0.0,
        }
    }

    pub fn x_desc(self) -> &'static str {
        match self {
            Lever::Audit => "audit probability q (slope 0)",
            Lever::BonusPool => "bonus pool B_pool (price units / period)",
            Lever::Kappa => "softmax sharpness κ",
            Lever::Capacity => "total capacity B_tot (beds)",
            Lever::HealthCostRatio => "KPI weight ratio wH / wC (wH + wC = 1.3)",
            Lever::Flex => "flexible pool B_flex (beds; KPI steering, ξ = 1)",
            Lever::FlexNoSteering => "flexible pool B_flex (beds; steering off, ξ = 0)",
            Lever::FlexQueueSteering => "flexible pool B_flex (beds; queue-length steering, ξ = 1)",
        }
    }

    /// Apply the lever at `value` to an L2-baseline cell.
    fn apply(self, spec: CellSpec, value: f64) -> CellSpec {
        match self {
            Lever::Audit => {
                let mut spec = spec;
                spec.scenario.audit.base_prob = value;
                spec.scenario.audit.slope = 0.0;
                spec
            }
            Lever::BonusPool => spec.fix(Field::BonusPool, value),
            Lever::Kappa => spec.fix(Field::Kappa, value),
            Lever::Capacity => spec.fix(Field::TotalCapacity, value),
            Lever::HealthCostRatio => {
                let w_c = 1.3 / (1.0 + value);
                spec.fix(Field::WH, 1.3 - w_c).fix(Field::WC, w_c)
            }
            Lever::Flex => spec.fix(Field::FlexPool, value),
            Lever::FlexNoSteering => spec.fix(Field::FlexPool, value).fix(Field::Xi, 0.0),
            Lever::FlexQueueSteering => {
                let mut spec = spec.fix(Field::FlexPool, value);
                spec.scenario.flex_steering = FlexSteering::QueueLength;
                spec
            }
        }
    }
}

/// One L2 cell: a regime, one lever at one value, everything else at the L2 baseline.
pub fn cell(
    scenario: &Scenario,
    policy: &Policy,
    lever: Lever,
    value: f64,
    regime: (&str, f64, f64),
    seeds: &[u64],
    horizon: u32,
) -> CellSpec {
    let base = CellSpec::new(scenario.clone(), policy.clone(), seeds.to_vec(), horizon)
        .fix(Field::Alpha, regime.1)
        .fix(Field::Beta, regime.2)
        .fix(Field::Xi, 1.0)
        .label("lever", lever.name())
        .label("value", value)
        .label("regime", regime.0);
    lever.apply(base, value)
}

pub fn specs(
    levers: &[Lever],
    scenario: &Scenario,
    policy: &Policy,
    seeds: &[u64],
    horizon: u32,
) -> Vec<CellSpec> {
    let mut out = Vec::new();
    for lever in levers {
        for v in lever.values() {
            for r in REGIMES {
                out.push(cell(scenario, policy, *lever, *v, r, seeds, horizon));
            }
        }
    }
    out
}

/// Metrics shown for every lever.
pub const PANELS: [(Metric, &str); 8] = [
    (Metric::UpcodingRate, "up-coding rate"),
    (Metric::CherryPickingGap, "cherry-picking gap"),
    (Metric::StrategicDelayGap, "strategic-delay gap"),
    (Metric::CorrKpiHealth, "corr(KPI, health)"),
    (Metric::MeanWaiting, "mean waiting"),
    (Metric::MeanEffort, "mean effort"),
    (Metric::TerminalFunds, "terminal funds"),
    (Metric::RejectionRate, "rejection rate"),
];

pub fn figures(cells: &[Cell], levers: &[Lever]) -> Vec<Figure> {
    levers
        .iter()
        .map(|lever| {
            let panels = PANELS
                .iter()
                .map(|(metric, title)| {
                    let series: Vec<Series> = REGIMES
                        .iter()
                        .map(|(regime, _, _)| {
                            let pts = lever
                                .values()
                                .iter()
                                .filter_map(|v| {
                                    let c = cells.iter().find(|c| c.label("lever") == lever.name() && c.label("regime") == *regime && c.label("value").parse::<f64>().ok() == Some(*v))?;
                                    let s = c.summary.get(*metric)?;
                                    Some((*v, s.mean, s.ci95[0], s.ci95[1]))
                                })
                                .collect();
                            (regime.to_string(), pts)
                        })
                        .collect();
                    {
                        let unit = crate::plots::metric_scale(*metric).0;
                        let title = if unit.is_empty() { title.to_string() } else { format!("{title} ({unit})") };
                        (metric.name().to_string(), lines_with_bands(&title, lever.x_desc(), &series, Some(lever.baseline())))
                    }
                })
                .collect();
            Figure {
                id: format!("l2_{}", lever.name()),
                title: format!("L2 — {}", lever.x_desc()),
                caption: "Means over seeds with 95% bands, for the three regimes; the dashed line marks the L2 baseline.".into(),
                panels,
            }
        })
        .collect()
}

/// The tidy table of the L2 cells: one row per cell × metric, labelled by [`lever`, `value`, `regime`].
pub fn table(cells: &[Cell]) -> Result<Table> {
    tidy_table(cells, &["lever", "value", "regime"], Metric::ALL, true)
}

/// Write `l2.csv` and `l2/<lever>_<metric>.svg`.
pub fn write(out: &Path, cells: &[Cell], levers: &[Lever]) -> Result<Vec<Figure>> {
    write_atomic(&out.join("l2.csv"), &table(cells)?.to_csv()?)?;
    let figs = figures(cells, levers);
    let dir = out.join("l2");
    std::fs::create_dir_all(&dir)?;
    for f in &figs {
        f.write(&dir)?;
    }
    Ok(figs)
}
