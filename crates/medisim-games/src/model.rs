//! The three games as [`Model`]s, so `run`, `sweep`, shards and Ray serve them as they serve
//! Medi-Sim. A game is deterministic: its equilibrium is a function of its parameters, so it
//! runs once per setting whatever the seeds, each metric an exact value. The scenario is the
//! game's parameters, set key by key through [`GameParams::with`] (validated, refused by name).
//! The contract is solved as the dissertation solves it: with the shared-savings incentive,
//! the hospital choosing its shares (`medisim game … --share/--no-incentive` for the others).

use crate::aco::{AcoGame, Investment};
use crate::chronic::{ChronicCareGame, ChronicOutcome};
use crate::mssp::MsspGame;
use crate::{GameParams, MODEL_VERSION};
use medisim_core::{Metric, Model, ModelVersion, NoSettings, RunSpec, Summaries, Summary};

medisim_core::metric_enum! {
    /// The CT-scanner game's subgame-perfect equilibrium (dissertation ch. 3).
    pub enum CtScannerMetric {
        "equilibrium": [
            Invests => invests: Share "1 when H buys the scanner",
            ShareM => share_m: Share "share of savings to P",
            CtRate => ct_rate: Share "share of patients scanned",
        ]
        "payoffs": [
            Savings => savings: Balance "payoff units",
            UtilityH => utility_h: Balance "payoff units",
            UtilityP => utility_p: Balance "payoff units",
            InvestThresholdK1 => invest_threshold_k1: Balance "payoff units",
        ]
    }
}

medisim_core::metric_enum! {
    /// The imaging game's equilibrium (dissertation ch. 4).
    pub enum ImagingMetric {
        "equilibrium": [
            Invests => invests: Share "1 when H invests",
            Alpha => alpha: Share "share of incentive to P",
            Beta => beta: Share "share of incentive to R",
            ThetaP => theta_p: Share "P's effort",
            ThetaR => theta_r: Share "R's effort",
        ]
        "payoffs": [
            Billings => billings: Level "dollars",
            Incentive => incentive: Balance "dollars",
            Health => health: Level "health units",
            UtilityH => utility_h: Balance "dollars",
            UtilityP => utility_p: Balance "dollars",
            UtilityR => utility_r: Balance "dollars",
        ]
    }
}

medisim_core::metric_enum! {
    /// The chronic-care stochastic game's pure equilibria (dissertation ch. 5).
    pub enum ChronicCareMetric {
        "equilibria": [
            FirstBestCount => first_best_count: Level "equilibria",
            UnrestrictedCount => unrestricted_count: Level "equilibria",
        ]
        "payoffs": [
            ValuePa => value_pa: Balance "discounted value",
            ValuePcp => value_pcp: Balance "discounted value",
        ]
        "certificate": [
            CertificateGap => certificate_gap: Balance "discounted value",
            CertificatePsi => certificate_psi: Balance "discounted value",
        ]
    }
}

/// The three games by the names every front end takes — `medisim game NAME`, `--model NAME`,
/// Python's `game(NAME)` — written once here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GameName {
    CtScanner,
    Imaging,
    ChronicCare,
}

impl GameName {
    pub const ALL: [GameName; 3] = [
        GameName::CtScanner,
        GameName::Imaging,
        GameName::ChronicCare,
    ];

    /// The name a user types.
    pub const fn name(self) -> &'static str {
        match self {
            GameName::CtScanner => "ct-scanner",
            GameName::Imaging => "imaging",
            GameName::ChronicCare => "chronic-care",
        }
    }

    /// Older spellings still accepted (the dissertation's chapter shorthands).
    pub const fn aliases(self) -> &'static [&'static str] {
        match self {
            GameName::CtScanner => &["aco"],
            GameName::Imaging => &["mssp"],
            GameName::ChronicCare => &[],
        }
    }

    /// One line on what the game is.
    pub const fn about(self) -> &'static str {
        match self {
            GameName::CtScanner => {
                "the CT-scanner game: payer → hospital → physicians under ACO shared savings \
                 (seed 004, ch. 3)"
            }
            GameName::Imaging => {
                "the imaging game: CMS → ACO hospital → physician and radiologist (ch. 4)"
            }
            GameName::ChronicCare => {
                "the patient ↔ primary-care physician stochastic game of chronic care (ch. 5)"
            }
        }
    }

    /// The game a name or an alias names.
    pub fn from_name(name: &str) -> Option<GameName> {
        GameName::ALL
            .into_iter()
            .find(|g| g.name() == name || g.aliases().contains(&name))
    }

    /// The names, for a message listing them: `ct-scanner, imaging, chronic-care`.
    pub fn list() -> String {
        GameName::ALL.map(GameName::name).join(", ")
    }
}

/// Chapter 3: payer → hospital → physicians, a CT scanner under ACO shared savings.
#[derive(Clone, Copy, Debug, Default)]
pub struct CtScanner;
/// Chapter 4: CMS → ACO hospital → primary-care physician and radiologist.
#[derive(Clone, Copy, Debug, Default)]
pub struct Imaging;
/// Chapter 5: the patient ↔ primary-care physician stochastic game of chronic care.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChronicCare;

/// One exact value per metric, in the metric order.
fn exact<M: Metric>(values: impl IntoIterator<Item = (M, f64)>) -> Result<Summaries, String> {
    let mut out = Summaries::new();
    for (m, v) in values {
        if !v.is_finite() {
            return Err(format!(
                "the equilibrium's {} is {v}: the parameters are outside what the game can \
                 compute",
                m.name()
            ));
        }
        out.insert(m, Summary::exact(v, 1));
    }
    Ok(out)
}

/// The canonical text of a game's parameters.
fn key_of<G: GameParams>(g: &G) -> String {
    toml::to_string(g).unwrap_or_default()
}

/// Set one key of a game's parameters, validated (`{value:?}` keeps every bit of the f64).
fn set_param<G: GameParams>(g: &G, key: &str, value: f64) -> Result<(G, ()), String> {
    g.with(key, &format!("{value:?}"))
        .map(|g| (g, ()))
        .map_err(|e| e.to_string())
}

fn invests(i: Investment) -> f64 {
    f64::from(u8::from(i == Investment::Invest))
}

/// What the three games share: no policy, no settings, one deterministic solve.
macro_rules! game_model {
    ($model:ty, $params:ty, $metric:ty, $docs:expr, $solve:expr) => {
        impl Model for $model {
            type Scenario = $params;
            type Policy = ();
            type Settings = NoSettings;
            type Metric = $metric;

            fn version(&self) -> ModelVersion {
                MODEL_VERSION
            }

            fn key_docs(&self) -> &'static [medisim_core::params::KeyDoc] {
                $docs
            }

            fn scenario_key(&self, g: &$params) -> String {
                format!("{}\n{}", stringify!($model), key_of(g))
            }

            fn policy_key(&self, _: &()) -> String {
                String::new()
            }

            fn set(
                &self,
                g: &$params,
                _: &(),
                key: &str,
                value: f64,
            ) -> Result<($params, ()), String> {
                set_param(g, key, value)
            }

            fn value(&self, g: &$params, _: &(), key: &str) -> Result<f64, String> {
                medisim_core::params::number(g, key).map_err(|e| format!("game parameter {e}"))
            }

            fn stochastic(&self) -> bool {
                false
            }

            fn work(&self, g: &$params, _: &RunSpec<NoSettings>) -> Option<medisim_core::Work> {
                g.work()
            }

            fn run(
                &self,
                g: &$params,
                _: &(),
                spec: &RunSpec<NoSettings>,
            ) -> Result<Summaries, String> {
                spec.validate()?;
                g.check().map_err(|e| e.to_string())?;
                let solve: fn(&$params) -> Result<Summaries, String> = $solve;
                solve(g).map_err(|e| {
                    let cause = medisim_core::params::culprit(g, &<$params>::default());
                    format!("{e}; {cause}")
                })
            }
        }
    };
}

game_model!(
    CtScanner,
    AcoGame,
    CtScannerMetric,
    crate::aco::KEY_DOCS,
    |g| {
        use CtScannerMetric as M;
        let eq = g.equilibrium(true, true);
        let (inv, sq) = (
            g.best_share(Investment::Invest),
            g.best_share(Investment::StatusQuo),
        );
        // k1 enters H's payoff additively, so the boundary is where the branches' payoffs cross.
        let threshold = sq.hospital - (inv.hospital - g.k[0]);
        exact([
            (M::Invests, invests(eq.investment)),
            (M::ShareM, eq.share),
            (M::CtRate, eq.ct_rate),
            (M::Savings, eq.savings),
            (M::UtilityH, eq.hospital),
            (M::UtilityP, eq.physician),
            (M::InvestThresholdK1, threshold),
        ])
    }
);

game_model!(
    Imaging,
    MsspGame,
    ImagingMetric,
    crate::mssp::KEY_DOCS,
    |g| {
        use ImagingMetric as M;
        let eq = g.equilibrium(true);
        exact([
            (M::Invests, invests(eq.investment)),
            (M::Alpha, eq.alpha),
            (M::Beta, eq.beta),
            (M::ThetaP, eq.theta_p),
            (M::ThetaR, eq.theta_r),
            (M::Billings, eq.billings),
            (M::Incentive, eq.incentive),
            (M::Health, eq.health),
            (M::UtilityH, eq.u_h),
            (M::UtilityP, eq.u_p),
            (M::UtilityR, eq.u_r),
        ])
    }
);

game_model!(
    ChronicCare,
    ChronicCareGame,
    ChronicCareMetric,
    crate::chronic::KEY_DOCS,
    |g| {
        use ChronicCareMetric as M;
        let s = g.solve()?;
        // The values of the equilibrium the dissertation reads: the first first-best, else the
        // second best, else the first unrestricted one.
        let shown: Option<&ChronicOutcome> = s
            .first_best
            .first()
            .or(s.second_best.as_ref())
            .or(s.unrestricted.first());
        let mut out = exact([
            (M::FirstBestCount, s.first_best.len() as f64),
            (M::UnrestrictedCount, s.unrestricted.len() as f64),
        ])?;
        // With no equilibrium at all the values are undefined: left out, not reported as numbers.
        if let Some(o) = shown {
            out.insert(M::ValuePa, Summary::exact(o.value_pa, 1));
            out.insert(M::ValuePcp, Summary::exact(o.value_pcp, 1));
            // The equilibrium's certificate: the largest one-shot gain of a deviation and the
            // NLP-1 value, over both players (0 at an exact equilibrium).
            let c = &o.certificate;
            out.insert(M::CertificateGap, Summary::exact(c.gap[0].max(c.gap[1]), 1));
            out.insert(M::CertificatePsi, Summary::exact(c.psi[0].max(c.psi[1]), 1));
        }
        Ok(out)
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn once<M: Model<Settings = NoSettings, Policy = ()>>(m: &M, s: &M::Scenario) -> Summaries {
        m.run(s, &(), &RunSpec::new(vec![1], NoSettings {}))
            .unwrap()
    }

    /// Each game's model reports its equilibrium as the game's own solver finds it, a key is
    /// set by name (and refused out of range), and the seeds change nothing.
    #[test]
    fn the_games_run_as_models() {
        let g = AcoGame::default();
        let eq = g.equilibrium(true, true);
        let r = once(&CtScanner, &g);
        assert_eq!(r.mean(CtScannerMetric::CtRate), eq.ct_rate);
        assert_eq!(r.len(), CtScannerMetric::ALL.len());
        let (h, ()) = CtScanner.set(&g, &(), "benchmark", 30.0).unwrap();
        assert_eq!(h.benchmark, 30.0);
        assert_ne!(CtScanner.scenario_key(&h), CtScanner.scenario_key(&g));
        assert!(CtScanner
            .set(&g, &(), "mu", 2.0)
            .unwrap_err()
            .contains("`mu`"));
        assert!(CtScanner
            .set(&g, &(), "bogus", 1.0)
            .unwrap_err()
            .contains("bogus"));
        let two = CtScanner
            .run(&g, &(), &RunSpec::new(vec![5, 6], NoSettings {}))
            .unwrap();
        assert_eq!(two, r);
        assert!(!CtScanner.stochastic());

        let m = MsspGame::default();
        let r = once(&Imaging, &m);
        assert_eq!(r.mean(ImagingMetric::Alpha), m.equilibrium(true).alpha);

        let c = ChronicCareGame::default();
        let r = once(&ChronicCare, &c);
        let s = c.solve().unwrap();
        assert_eq!(
            r.mean(ChronicCareMetric::UnrestrictedCount),
            s.unrestricted.len() as f64
        );
        // The two game models' keys differ even where their texts could agree.
        assert_ne!(CtScanner.scenario_key(&g), Imaging.scenario_key(&m));
    }
}
