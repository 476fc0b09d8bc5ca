//! `medisim panel`: primary-care payment models on a patient panel (seed 002) — one
//! configuration, a sweep of one term, or the paper's experiments E1–E6.

use anyhow::{bail, Context, Result};
use medisim_core::input::read_settings;
use medisim_core::params::culprit;
use medisim_core::text::name_of;
use medisim_core::{write_atomic, Metric as _};
use medisim_panel::disease::{DiseaseModel, MarkovFile};
use medisim_panel::experiments::{experiment, experiment_ids, sweep, Sweep, Vary};
use medisim_panel::sim::{run, PanelResult};
use medisim_panel::{Basis, PanelConfig, PanelMetric, PanelScenario, ProviderKind};
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum PanelCommand {
    /// Simulate one configuration and print every metric with its 95% interval.
    Run(RunArgs),
    /// Vary one key over values: `--vary reward-rate=0:1:11` (lo:hi:n) or `=0.1,0.5`; several
    /// keys, sampled designs and shards: `medisim sweep --model panel`.
    Sweep(SweepArgs),
    /// The paper's experiments E1–E6: tables as CSV and figures as SVG in --out.
    Experiments(ExperimentArgs),
    /// Probabilistic sensitivity analysis of a disease file under each payment arm, the provider
    /// re-optimising in every draw: the PSA, its incremental table, CEAC, CEAF and EVPI.
    Psa(PsaArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PaymentKind {
    /// Fee-for-service.
    Ffs,
    /// Fee-for-service with shared risk.
    FfsSr,
    /// Global capitation.
    Gc,
    /// Global capitation with shared risk.
    GcSr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderName {
    /// Maximises this year's profit (a MILP over visit intensities).
    Myopic,
    /// Learns visit intensities by Q-learning.
    Qlearning,
    /// Plans over the years by value iteration.
    Optimal,
}

/// The configuration every panel command starts from.
#[derive(clap::Args, Clone)]
pub struct Setting {
    /// The panel's parameters as TOML (every key defaulted: 10 patients, 15 years, 40 runs,
    /// FFS, margin 40%), as `--params` of `run`/`sweep --model panel` (`--config` is its old
    /// spelling).
    #[arg(long, alias = "config", value_name = "FILE")]
    params: Option<PathBuf>,
    /// A Markov disease model read wholly from TOML (default: the built-in retinopathy model).
    #[arg(long)]
    disease: Option<PathBuf>,
    /// The payment model.
    #[arg(long, value_enum)]
    payment: Option<PaymentKind>,
    /// A payment program (`policies/panel/*.policy`, checked against the panel's payment
    /// schema) in force of the payment keys' basis, capitation and shared-risk terms; a field
    /// it omits follows the keys (`policies/panel/configured.policy`).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Shared risk: the provider's share of savings below the reference cost.
    #[arg(long)]
    reward_rate: Option<f64>,
    /// Shared risk: the provider's share of costs above the reference cost.
    #[arg(long)]
    penalty_rate: Option<f64>,
    /// The panel's reference cost per year (shared risk).
    #[arg(long)]
    reference: Option<f64>,
    /// The provider's margin: its cost is (1 − margin) × fees.
    #[arg(long)]
    margin: Option<f64>,
    /// Which provider decides the visits.
    #[arg(long, value_enum)]
    provider: Option<ProviderName>,
    /// Discount γ of the qlearning and optimal providers.
    #[arg(long)]
    gamma: Option<f64>,
    /// Appointment slots per year (the myopic provider's capacity).
    #[arg(long)]
    capacity: Option<f64>,
    /// Patients on the panel.
    #[arg(long, value_parser = whole_number)]
    patients: Option<u64>,
    /// Years simulated.
    #[arg(long, value_parser = whole_number)]
    years: Option<u64>,
    /// Independent runs (replicates).
    #[arg(long, value_parser = whole_number)]
    runs: Option<u64>,
    /// Random seed; runs draw from streams keyed by (seed, run).
    #[arg(long, value_parser = whole_number)]
    seed: Option<u64>,
    /// Set any configuration key after the flags above: KEY=VALUE, a flag's name or a dotted
    /// config path (`retinopathy.macular_edema_cost=5000`; repeatable), checked like the file.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

/// A whole number a TOML integer can hold (0 ..= 2^63 − 1), refused with that range otherwise.
fn whole_number(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .ok()
        .filter(|x| i64::try_from(*x).is_ok())
        .ok_or_else(|| format!("`{s}` is not a whole number in 0..={}", i64::MAX))
}

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    setting: Setting,
    /// The runs by their seeds, as every model's `--seeds` (`0..39` is `--runs 40`; run r draws
    /// from the stream (seed, r)); default: 0..runs-1.
    #[arg(long, conflicts_with = "runs")]
    seeds: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct SweepArgs {
    #[command(flatten)]
    setting: Setting,
    /// KEY=lo:hi:n or KEY=v1,v2,… (keys: reward-rate, penalty-rate, shared-rate, reference,
    /// margin, gamma, capacity, patients, years, runs, seed, premium, or a dotted config path).
    #[arg(long)]
    vary: String,
    /// Write the tidy table (one row per value × metric) as CSV here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct PsaArgs {
    #[command(flatten)]
    setting: Setting,
    /// Parameter draws of the PSA (each its own stream, keyed by the seed and the draw).
    #[arg(long, default_value_t = 200)]
    draws: usize,
    /// The payment arms compared (comma-separated: ffs, gc, ffs-sr, gc-sr; the shared-risk
    /// arms at --reward-rate/--penalty-rate and --reference).
    #[arg(long, default_value = "ffs,gc")]
    arms: String,
    /// A payment program as one more arm, named by its header (repeatable; `--arms ""` for
    /// programs alone).
    #[arg(long, value_name = "FILE")]
    arm_policy: Vec<PathBuf>,
    /// Willingness to pay per QALY: lo:hi:n or v1,v2,… (dollars, ≥ 0).
    #[arg(long, default_value = "0:100000:21")]
    wtp: String,
    /// Write psa.csv (draw, strategy, cost, effect), parameters.csv (each draw's parameter
    /// values and provider responses, for `medisim cea --evppi`), the incremental table and the
    /// curves here, and cache each draw (a killed PSA resumes).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ExperimentArgs {
    #[command(flatten)]
    setting: Setting,
    /// Only these experiments (comma-separated: E1,…,E6).
    #[arg(long)]
    only: Option<String>,
    /// Write each experiment's CSV and SVG here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// The disease model and configuration a setting names.
fn load(s: &Setting) -> Result<(Box<dyn DiseaseModel>, PanelConfig)> {
    let scenario = load_scenario(s)?;
    Ok((scenario.disease_model()?, scenario.config))
}

/// The panel's scenario a setting names: the configuration, and the Markov file if one is
/// given (else the retinopathy model is built from the configuration, point by point).
fn load_scenario(s: &Setting) -> Result<PanelScenario> {
    let mut cfg = match &s.params {
        Some(p) => {
            let text = read_settings(p, "a panel configuration")?;
            PanelConfig::from_toml(&text, &p.display().to_string())?
        }
        None => PanelConfig::default(),
    };
    if let Some(kind) = s.payment {
        cfg.payment.basis = match kind {
            PaymentKind::Ffs | PaymentKind::FfsSr => Basis::Ffs,
            PaymentKind::Gc | PaymentKind::GcSr => Basis::Gc,
        };
        if matches!(kind, PaymentKind::Ffs | PaymentKind::Gc) {
            if s.reward_rate.is_some() || s.penalty_rate.is_some() {
                bail!("--payment {} has no shared risk: use ffs-sr or gc-sr with --reward-rate/--penalty-rate", clap::ValueEnum::to_possible_value(&kind).map_or(String::new(), |v| v.get_name().to_string()));
            }
            cfg.payment.reward_rate = 0.0;
            cfg.payment.penalty_rate = 0.0;
        }
    }
    if let Some(p) = s.provider {
        cfg.provider.kind = match p {
            ProviderName::Myopic => ProviderKind::Myopic,
            ProviderName::Qlearning => ProviderKind::Qlearning,
            ProviderName::Optimal => ProviderKind::Optimal,
        };
    }
    use medisim_core::params::Value::{Float, Integer};
    // Whole numbers go through as integers: a seed above 2^53 would not survive an f64.
    let whole = |x: Option<u64>| x.map(|x| Integer(x as i64));
    let numbers = [
        ("reward-rate", s.reward_rate.map(Float)),
        ("penalty-rate", s.penalty_rate.map(Float)),
        ("reference", s.reference.map(Float)),
        ("margin", s.margin.map(Float)),
        ("gamma", s.gamma.map(Float)),
        ("capacity", s.capacity.map(Float)),
        ("patients", whole(s.patients)),
        ("years", whole(s.years)),
        ("runs", whole(s.runs)),
        ("seed", whole(s.seed)),
    ];
    for (key, v) in numbers {
        if let Some(v) = v {
            cfg = cfg.set(key, v)?;
        }
    }
    let sets = medisim_core::params::assignments(&s.sets)
        .map_err(|(text, e)| anyhow::anyhow!("--set {text}: {e}"))?;
    for (key, value) in sets {
        cfg = cfg.set(key, value)?;
    }
    let disease = match &s.disease {
        Some(p) => {
            let text = read_settings(p, "a disease model")?;
            Some(MarkovFile::from_toml(&text, &p.display().to_string())?)
        }
        None => None,
    };
    if let Some(path) = &s.policy {
        let src = match crate::source::read_policy(path)? {
            Ok(src) => src,
            Err(report) => bail!("{report}"),
        };
        cfg.program = Some(medisim_experiments::house::payment_program(
            &medisim_experiments::house::Text {
                text: src.text,
                origin: src.name,
            },
        )?);
    }
    let scenario = PanelScenario {
        config: cfg,
        disease,
    };
    scenario.validate()?;
    scenario.check_read()?;
    Ok(scenario)
}

pub fn panel(c: &PanelCommand) -> Result<bool> {
    match c {
        PanelCommand::Run(a) => {
            let (d, mut cfg) = load(&a.setting)?;
            let r = match &a.seeds {
                None => run(d.as_ref(), &cfg)?,
                Some(text) => {
                    if cfg.runs != PanelConfig::default().runs {
                        bail!("--seeds names the runs; `runs` given too would be ignored: drop it");
                    }
                    let seeds =
                        medisim_core::spec::parse_seeds(text).map_err(anyhow::Error::msg)?;
                    cfg.runs = seeds.len();
                    medisim_panel::sim::run_replicates(d.as_ref(), &cfg, &seeds)?
                }
            };
            r.metrics
                .check_finite()
                .map_err(|e| anyhow::anyhow!("{e}; {}", culprit(&cfg, &PanelConfig::default())))?;
            if a.json {
                say!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "model_version": medisim_panel::MODEL_VERSION,
                        "config": cfg, "result": r,
                        // The payment program in force, by name and canonical hash (null: the
                        // payment keys).
                        "policy": cfg.program.as_ref().map(|p| serde_json::json!({
                            "name": p.policy().header.name, "hash": p.hash().to_string(),
                        })),
                    }))?
                );
            } else {
                print_result(&cfg, &r)?;
            }
            Ok(true)
        }
        PanelCommand::Sweep(a) => {
            let scenario = load_scenario(&a.setting)?;
            let vary = Vary::parse(&scenario.config, &a.vary).map_err(anyhow::Error::msg)?;
            let points = match &a.out {
                None => sweep(&scenario, &vary.key, &vary.values)?,
                Some(out) => resumable_sweep(&scenario, &vary.key, &vary.values, out)?,
            };
            let s = vary
                .sweep(&scenario.config, points)
                .map_err(anyhow::Error::msg)?;
            finish(&s, a.out.as_deref(), a.json, false)
        }
        PanelCommand::Psa(a) => psa(a),
        PanelCommand::Experiments(a) => {
            let (d, cfg) = load(&a.setting)?;
            // One writer per --out (two runs would interleave their files); a killed run's
            // lock is taken over, and the experiments are deterministic: rerun, same bytes.
            let _lock = match &a.out {
                Some(out) => Some(medisim_core::RunDir::create(out)?.lock()?),
                None => None,
            };
            let only: Option<Vec<String>> = a
                .only
                .as_ref()
                .map(|list| list.split(',').map(str::to_string).collect());
            let ids = experiment_ids(&cfg, only.as_deref())?;
            let mut all = Vec::new();
            for id in &ids {
                let s = experiment(d.as_ref(), &cfg, id)?;
                if !a.json {
                    finish(&s, a.out.as_deref(), false, true)?;
                } else if let Some(out) = &a.out {
                    write_outputs(&s, out, true)?;
                }
                all.push(s);
            }
            if a.json {
                say!("{}", serde_json::to_string_pretty(&all)?);
            }
            Ok(true)
        }
    }
}

/// `panel psa`: the draws (each cached whole under `--out`), the PSA table, its analysis.
fn psa(a: &PsaArgs) -> Result<bool> {
    use medisim_panel::psa::{self, Arm};
    if a.setting.payment.is_some() {
        bail!("--payment: the arms (--arms) set the payment, one per strategy; drop it");
    }
    let scenario = load_scenario(&a.setting)?;
    let Some(file) = &scenario.disease else {
        bail!(
            "a PSA samples a disease file's [psa] table: give --disease FILE \
             (crates/medisim-panel/models/diabetic-kidney.toml has one)"
        );
    };
    let programs = a
        .arm_policy
        .iter()
        .map(|p| {
            let text = medisim_core::input::read_text(
                p,
                medisim_dsl::schema::MAX_SOURCE_BYTES as u64,
                "a payment program",
            )?;
            medisim_experiments::house::payment_program(&medisim_experiments::house::Text {
                text,
                origin: p.display().to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let arms = Arm::with_programs(&a.arms, programs).map_err(|e| anyhow::anyhow!("--arms: {e}"))?;
    let wtp = medisim_core::cea::wtp_grid(&a.wtp).map_err(|e| anyhow::anyhow!("--wtp {e}"))?;
    let cfg = &scenario.config;
    psa::check(file, cfg, &arms, a.draws)?;
    let _lock = match &a.out {
        Some(dir) => Some(medisim_core::RunDir::create(dir)?.lock()?),
        None => None,
    };
    let setting = {
        use medisim_core::Model as _;
        let names: Vec<String> = arms.iter().map(Arm::key).collect();
        format!(
            "{}\narms {}",
            medisim_panel::Panel.scenario_key(&scenario),
            names.join(",")
        )
    };
    let draws = psa::run_draws(a.draws, |d| {
        let inputs = format!("{setting}\nruns {}\ndraw {d}", cfg.runs);
        let version = medisim_panel::MODEL_VERSION;
        medisim_experiments::cells::cached(
            a.out.as_deref(),
            version,
            "panel psa draw",
            &inputs,
            || Ok(psa::draw_rows(file, cfg, &arms, d)?),
        )
        .map(|(rows, _)| rows)
    })?;
    let rows: Vec<&psa::PsaRow> = draws.iter().flat_map(|d| &d.rows).collect();
    let analysis = psa::analysis(&arms, &draws).map_err(anyhow::Error::msg)?;
    if let Some(dir) = &a.out {
        medisim_core::Table::from_records(&rows)?.write(&dir.join("psa"))?;
        psa::parameter_table(&draws).write(&dir.join("parameters"))?;
    }
    crate::cea::report(&analysis, &wtp, a.out.as_deref(), a.json, None)
}

/// A sweep into `--out`: one writer at a time (the directory's lock), each point's result
/// cached whole in `out/cells` under a key of the model version and the point's full setting,
/// so a killed sweep run again recomputes only the points it had not finished, and its files
/// are byte-identical to an uninterrupted run's.
fn resumable_sweep(
    scenario: &PanelScenario,
    key: &str,
    values: &[f64],
    out: &Path,
) -> Result<Vec<(f64, PanelResult)>> {
    use medisim_core::Model as _;
    let dir = medisim_core::RunDir::create(out)?;
    let _lock = dir.lock()?;
    medisim_panel::experiments::sweep_with(scenario, key, values, |point| {
        let setting = format!(
            "{}\n{}",
            serde_json::to_string(&point.config)?,
            medisim_panel::Panel.scenario_key(point)
        );
        let version = medisim_panel::MODEL_VERSION;
        let (result, _) =
            medisim_experiments::cells::cached(Some(out), version, "panel run", &setting, || {
                let d = point.disease_model()?;
                Ok(run(d.as_ref(), &point.config)?)
            })?;
        Ok::<_, anyhow::Error>(result)
    })
}

/// The metrics a summary line shows, in order.
const SHOWN: [PanelMetric; 12] = [
    PanelMetric::TotalCost,
    PanelMetric::Fees,
    PanelMetric::ComplicationsCost,
    PanelMetric::SharedRiskTransfer,
    PanelMetric::ProviderRevenue,
    PanelMetric::ProviderCost,
    PanelMetric::ProviderProfit,
    PanelMetric::PayerRevenue,
    PanelMetric::MedicalLossRatio,
    PanelMetric::Complications,
    PanelMetric::MaxIntensityShare,
    PanelMetric::MinIntensityShare,
];

fn print_result(cfg: &PanelConfig, r: &PanelResult) -> Result<()> {
    let p = &cfg.payment;
    say!(
        "{} patients × {} years, {} runs, {} ({}, reward {}, penalty {}, reference {}), margin {}, provider {}{}",
        cfg.patients,
        cfg.years,
        cfg.runs,
        r.disease,
        name_of(&p.basis),
        p.reward_rate,
        p.penalty_rate,
        p.reference,
        p.margin,
        name_of(&cfg.provider.kind),
        if cfg.provider.kind == ProviderKind::Myopic {
            String::new()
        } else {
            format!(" γ {}", cfg.provider.gamma)
        }
    );
    say!(
        "  {:<22} {:>12} {:>25}",
        "metric (over the horizon)",
        "mean",
        "95% interval"
    );
    for m in SHOWN {
        let Some(s) = r.metrics.get(m) else {
            continue;
        };
        if s.spread_defined(true) {
            say!(
                "  {:<22} {:>12.2} {:>12.2} … {:<12.2}",
                m.name(),
                s.mean,
                s.ci95[0],
                s.ci95[1]
            );
        } else {
            // One run has no spread to estimate: no interval, not a zero-width one.
            say!(
                "  {:<22} {:>12.2} {:>25}",
                m.name(),
                s.mean,
                "(n = 1: no interval)"
            );
        }
    }
    say!("  policy (treatment by state):");
    for (state, t) in &r.policy {
        say!("    {state:<26} {t}");
    }
    if let Some(t) = &r.training {
        say!(
            "  Q-learning: {} training runs, {}",
            t.training_runs,
            if t.converged {
                "converged"
            } else {
                "not converged (max_runs reached)"
            }
        );
    }
    Ok(())
}

fn write_outputs(s: &Sweep, out: &Path, figures: bool) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let name = s.id.to_lowercase();
    write_atomic(&out.join(format!("{name}.csv")), &s.table().to_csv()?)?;
    if figures && s.id != "E6" {
        let f = medisim_experiments::panel::figure(&medisim_experiments::panel::Curves::of(s));
        for (panel, svg) in &f.panels {
            write_atomic(&out.join(format!("{name}-{panel}.svg")), svg.as_bytes())?;
        }
    }
    Ok(())
}

fn finish(s: &Sweep, out: Option<&Path>, json: bool, figures: bool) -> Result<bool> {
    if let Some(out) = out {
        write_outputs(s, out, figures)?;
    }
    if json {
        say!("{}", serde_json::to_string_pretty(s)?);
        return Ok(true);
    }
    say!("{} — {}", s.id, s.title);
    if s.id == "E6" {
        say!(
            "  {:<26} {:>10} {:>10} {:>10} {:>10}",
            "metric (K$)",
            "paper γ=0",
            "ours γ=0",
            "paper γ=.5",
            "ours γ=.5"
        );
        for r in medisim_experiments::panel::table_1(&medisim_experiments::panel::Curves::of(s)) {
            say!(
                "  {:<26} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
                r.metric,
                r.paper_myopic,
                r.ours_myopic,
                r.paper_lookahead,
                r.ours_lookahead
            );
        }
        for ser in &s.series {
            say!(
                "  {}: No Retinopathy → {}",
                ser.name,
                ser.points[0]
                    .1
                    .policy
                    .get("No Retinopathy")
                    .map_or("-", |s| s)
            );
        }
    } else {
        say!(
            "  {:<20} {:>8} {:>12} {:>12} {:>12} {:>12} {:>8} {:>8}",
            "series",
            s.key,
            "total_cost",
            "fees",
            "compl_cost",
            "profit",
            "max_int",
            "min_int"
        );
        for ser in &s.series {
            for (x, r) in &ser.points {
                say!(
                    "  {:<20} {:>8.3} {:>12.0} {:>12.0} {:>12.0} {:>12.0} {:>8.2} {:>8.2}",
                    ser.name,
                    x,
                    r.mean(PanelMetric::TotalCost),
                    r.mean(PanelMetric::Fees),
                    r.mean(PanelMetric::ComplicationsCost),
                    r.mean(PanelMetric::ProviderProfit),
                    r.mean(PanelMetric::MaxIntensityShare),
                    r.mean(PanelMetric::MinIntensityShare)
                );
            }
        }
    }
    if let Some(out) = out {
        say!("  wrote {}/{}.csv", out.display(), s.id.to_lowercase());
    }
    Ok(true)
}
