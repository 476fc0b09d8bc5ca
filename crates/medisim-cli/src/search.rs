//! `medisim search`.

use crate::progress::Bar;
use crate::run::{load_scenario, parse_seeds};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use medisim_core::text::name_of;
use medisim_search::config::{OperatorKind, Searched};
use medisim_search::{ablation, benchmark};
use medisim_search::{run_search, SearchConfig};
use medisim_sim::ObjectiveKind;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("repeated").args(["ablation", "benchmark"])))]
pub struct SearchArgs {
    /// Whose programs: medisim (hospital policies, the default) or panel (the panel's payment
    /// programs, for the net monetary benefit at --wtp).
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// panel: the configuration as TOML (every key defaults).
    #[arg(long, value_name = "FILE")]
    params: Option<PathBuf>,
    /// panel: a Markov disease model as TOML (default: the built-in retinopathy model).
    #[arg(long, value_name = "FILE")]
    disease: Option<PathBuf>,
    /// panel: willingness to pay per QALY, dollars [config default: 50000].
    #[arg(long)]
    wtp: Option<f64>,
    /// panel: simulated panels per search seed [config default: 100].
    #[arg(long)]
    panel_runs: Option<u64>,
    /// welfare, profit or mixed.
    #[arg(long)]
    objective: Option<ObjectiveKind>,
    /// Directory of warm-start policies (default: the shipped nine-policy library).
    #[arg(long)]
    library: Option<PathBuf>,
    /// Search iterations, each one child per island [config default: 200].
    #[arg(long)]
    iterations: Option<u32>,
    /// Islands evolving apart between migrations [config default: 3].
    #[arg(long)]
    islands: Option<usize>,
    /// Most individuals an island keeps [config default: 30].
    #[arg(long)]
    population: Option<usize>,
    /// Individuals that move to the next island at each migration [config default: 2].
    #[arg(long)]
    migration: Option<usize>,
    /// offline, llm or both.
    #[arg(long)]
    operator: Option<OperatorKind>,
    /// Run directory (SQLite store, events, results).
    #[arg(long, default_value = "search-out")]
    out: PathBuf,
    /// Continue the interrupted run in this directory.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// TOML file with any search setting; flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Scenario TOML (default: built-in; coding is argmax during search).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Seed splits, e.g. `101,202,303`.
    #[arg(long)]
    evolution_seeds: Option<String>,
    /// Seeds that choose the best program among the finalists [config default:
    /// 404,505,606,707,808].
    #[arg(long)]
    validation_seeds: Option<String>,
    /// Held-out seeds of the final table, never seen by the search [config default:
    /// 909,1001,1103,1207,1301].
    #[arg(long)]
    test_seeds: Option<String>,
    /// Periods per evaluation rollout [config default: 200].
    #[arg(long)]
    horizon: Option<u32>,
    /// Seed of the search's own random choices [config default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// OpenAI-compatible server for the llm operator [config default:
    /// http://127.0.0.1:8000/v1].
    #[arg(long)]
    llm_base_url: Option<String>,
    /// The model to ask; give it several times (NAME or NAME:WEIGHT) to let a UCB1 bandit
    /// choose among them by the quality of their children.
    #[arg(long)]
    llm_model: Vec<medisim_search::config::ModelChoice>,
    /// Stop calling the LLM once the recorded calls cost this much (prices per million
    /// tokens: `llm.price_in`/`price_out`, or each `[[llm.models]]` entry's, in the config).
    #[arg(long)]
    llm_max_cost: Option<f64>,
    /// Also skip children that behave like an evaluated program on the screen seeds.
    #[arg(long)]
    novelty_by_behaviour: bool,
    /// What the model answers with: diff (SEARCH/REPLACE or a full program), rewrite (a full
    /// program), json (field → expression under a JSON schema the server enforces) or grammar
    /// (a full program under a GBNF grammar of the language).
    #[arg(long)]
    llm_edit_format: Option<medisim_search::config::EditFormat>,
    /// Sampling temperature of each model call [config default: 0.4].
    #[arg(long)]
    llm_temperature: Option<f64>,
    /// Most tokens one answer may hold [config default: 2048].
    #[arg(long)]
    llm_max_tokens: Option<u32>,
    /// Seconds to wait for one answer [config default: 60].
    #[arg(long)]
    llm_timeout: Option<f64>,
    /// Sampling seed sent to the server, where it honours one [config default: none].
    #[arg(long)]
    llm_seed: Option<u64>,
    /// Offline operators without domain priors: uniform field choice, no coding-gap idiom.
    #[arg(long)]
    no_offline_priors: bool,
    /// Multi-objective selection inside each island (non-dominated fronts, then crowding),
    /// comma-separated: max:METRIC or min:METRIC, the fitness or a safety channel by name, or
    /// `safety` (the fitness against each safety channel). The front goes to result.json.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    objectives: Vec<String>,
    /// LLM requests in flight at once; the replies are applied in iteration order, so the run
    /// stays replayable [config default: 1].
    #[arg(long, value_name = "K")]
    llm_concurrency: Option<u32>,
    /// Every N iterations, bring the prompt's summary of what earlier edits did up to date
    /// (fields touched, how often they beat the parent, what they raised; rejected replies)
    /// [config default: 0, no summary].
    #[arg(long, value_name = "N")]
    llm_scratchpad_every: Option<u32>,
    /// The short prompt for small models: the language reference in brief, the parent alone,
    /// the last rejected reply.
    #[arg(long)]
    llm_compact_prompt: bool,
    /// The warm-start ablation of Appendix J.1: search from the neutral template alone and from
    /// the full library (OUT/neutral/seed-K, OUT/full/seed-K) and compare them on the held-out
    /// seeds.
    #[arg(long)]
    ablation: bool,
    /// The search benchmark: each arm (--arms) over --replicates consecutive search seeds
    /// (OUT/ARM/seed-K); each run's incumbents on the held-out seeds against the children
    /// evaluated, curves with 95% intervals and the evaluations to a common target
    /// (benchmark.csv, benchmark-curve.csv).
    #[arg(long)]
    benchmark: bool,
    /// Benchmark only: the arms, comma-separated: offline, random, neutral, pareto, llm [default:
    /// offline,random,neutral,pareto].
    #[arg(long, value_delimiter = ',', requires = "benchmark")]
    arms: Vec<String>,
    /// Ablation or benchmark: repeat each search for this many consecutive search seeds from
    /// --seed [default: 1 for the ablation, 6 for the benchmark].
    #[arg(long, requires = "repeated")]
    replicates: Option<u32>,
}

/// A bar for one of several searches (an ablation's, a benchmark's), named by its `label`.
fn labelled_bar(label: &str, iterations: u64) -> Box<dyn medisim_core::progress::Progress> {
    let pb = bar(u32::try_from(iterations).unwrap_or(u32::MAX));
    pb.set_prefix(label.to_string());
    Box::new(pb)
}

fn bar(iterations: u32) -> Bar {
    let pb = ProgressBar::new(u64::from(iterations));
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix} search [{bar:40}] {pos}/{len} iterations  {msg}  ~{eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Bar(pb)
}

pub fn search(a: &SearchArgs) -> Result<bool> {
    let (out, resume, c) = settings(a)?;
    match c.model {
        Searched::Medisim => hospital_search(a, &out, resume, &c),
        Searched::Panel => panel_search(a, &out, resume, &c),
    }
}

/// The run directory, whether the run resumes, and its settings: the directory's own when it
/// resumes, else the config file's with the flags over them.
fn settings(a: &SearchArgs) -> Result<(PathBuf, bool, SearchConfig)> {
    let (out, resume) = match &a.resume {
        Some(dir) => (dir.clone(), true),
        None => (a.out.clone(), false),
    };
    for (flag, given, plan) in [
        ("--ablation", a.ablation, ablation::PLAN_FILE),
        ("--benchmark", a.benchmark, benchmark::PLAN_FILE),
    ] {
        if resume && !given && out.join(plan).exists() {
            anyhow::bail!(
                "{} holds {}; resume it with {flag} --resume {}",
                out.display(),
                &flag[2..],
                out.display()
            );
        }
    }
    // A resumed run keeps its world and objective: the panel's, given again, would be ignored.
    if resume {
        let given = [
            ("--model", a.model.is_some()),
            ("--params", a.params.is_some()),
            ("--disease", a.disease.is_some()),
            ("--wtp", a.wtp.is_some()),
            ("--panel-runs", a.panel_runs.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
            anyhow::bail!(
                "{flag} with --resume: a run resumes with the settings and the world it started \
                 with (its config.toml and scenario.toml); drop {flag}"
            );
        }
    }
    // A search and an ablation both keep their settings and world at the top of OUT.
    let mut c = if resume {
        let settings = out.join("config.toml");
        if !settings.exists() {
            anyhow::bail!(
                "{} holds no search to resume (no config.toml: it stopped before it began); \
                 start it again without --resume",
                out.display()
            );
        }
        SearchConfig::load(&settings)?
    } else {
        match &a.config {
            Some(p) => SearchConfig::load(p)?,
            None => SearchConfig::default(),
        }
    };
    if !resume {
        match a.model.as_deref() {
            None => {}
            Some("medisim") => c.model = Searched::Medisim,
            Some("panel") => c.model = Searched::Panel,
            Some(m) => anyhow::bail!(
                "--model {m}: search evolves the programs of medisim (hospital policies) or \
                 panel (payment programs)"
            ),
        }
        if let Some(v) = a.wtp {
            c.panel.wtp = v;
        }
        if let Some(v) = a.panel_runs {
            c.panel.runs = v;
        }
        if let Some(v) = a.objective {
            c.objective = v;
        }
        if let Some(v) = &a.library {
            c.library = v.display().to_string();
        }
        if let Some(v) = a.iterations {
            c.iterations = v;
        }
        if let Some(v) = a.islands {
            c.islands = v;
        }
        if let Some(v) = a.population {
            c.population = v;
        }
        if let Some(v) = a.migration {
            c.migration = v;
        }
        if let Some(v) = a.operator {
            c.operator = v;
        }
        if let Some(v) = &a.evolution_seeds {
            c.evolution_seeds = parse_seeds(v)?;
        }
        if let Some(v) = &a.validation_seeds {
            c.validation_seeds = parse_seeds(v)?;
        }
        if let Some(v) = &a.test_seeds {
            c.test_seeds = parse_seeds(v)?;
        }
        if let Some(v) = a.horizon {
            c.horizon = v;
        }
        if let Some(v) = a.seed {
            c.seed = v;
        }
        if let Some(v) = &a.llm_base_url {
            c.llm.base_url = v.clone();
        }
        match a.llm_model.as_slice() {
            [] => {}
            [one] => c.llm.model = one.name.clone(),
            many => {
                c.llm.model = many[0].name.clone();
                c.llm.models = many.to_vec();
            }
        }
        if a.llm_max_cost.is_some() {
            c.llm.max_cost = a.llm_max_cost;
        }
        if a.novelty_by_behaviour {
            c.novelty_by_behaviour = true;
        }
        if let Some(v) = a.llm_edit_format {
            c.llm.edit_format = v;
        }
        if let Some(v) = a.llm_temperature {
            c.llm.temperature = v;
        }
        if let Some(v) = a.llm_max_tokens {
            c.llm.max_tokens = v;
        }
        if let Some(v) = a.llm_timeout {
            c.llm.timeout_s = v;
        }
        if a.llm_seed.is_some() {
            c.llm.seed = a.llm_seed;
        }
        if a.no_offline_priors {
            c.offline_priors = false;
        }
        if !a.objectives.is_empty() {
            c.objectives = a.objectives.clone();
        }
        if let Some(k) = a.llm_concurrency {
            c.llm.concurrency = k;
        }
        if let Some(n) = a.llm_scratchpad_every {
            c.llm.scratchpad_every = n;
        }
        if a.llm_compact_prompt {
            c.llm.compact_prompt = true;
        }
        refuse_foreign(a, c.model)?;
        c.validate()?;
    }
    Ok((out, resume, c))
}

/// Flags of the other model's search are refused by name, not ignored.
fn refuse_foreign(a: &SearchArgs, model: Searched) -> Result<()> {
    let (panel_flags, medisim_flags) = (
        [
            ("--params", a.params.is_some()),
            ("--disease", a.disease.is_some()),
            ("--wtp", a.wtp.is_some()),
            ("--panel-runs", a.panel_runs.is_some()),
        ],
        [
            ("--scenario", a.scenario.is_some()),
            ("--objective", a.objective.is_some()),
            ("--horizon", a.horizon.is_some()),
            ("--ablation", a.ablation),
            ("--benchmark", a.benchmark),
        ],
    );
    let (foreign, model): (&[(&str, bool)], _) = match model {
        Searched::Medisim => (&panel_flags, "a panel search (--model panel)"),
        Searched::Panel => (&medisim_flags, "Medi-Sim's search"),
    };
    if let Some((flag, _)) = foreign.iter().find(|(_, given)| *given) {
        anyhow::bail!("{flag} belongs to {model}");
    }
    Ok(())
}

/// Medi-Sim's search (L3), or its warm-start ablation.
fn hospital_search(a: &SearchArgs, out: &Path, resume: bool, c: &SearchConfig) -> Result<bool> {
    let (out, c) = (out.to_path_buf(), c.clone());
    let scenario = if resume {
        // A run resumes in the world it started in (older runs without the file: built-in).
        let saved = out.join(medisim_search::search::SCENARIO_FILE);
        load_scenario(saved.exists().then_some(saved.as_path()))?
    } else {
        load_scenario(a.scenario.as_deref())?
    };
    if a.ablation {
        let replicates = if resume {
            ablation::load_plan(&out)?.replicates
        } else {
            a.replicates.unwrap_or(1)
        };
        let runs = ablation::run_ablation(&c, &scenario, &out, replicates, resume, &labelled_bar)?;
        say!(
            "warm-start ablation (held-out fitness, {} objective, search seeds {}..={}):",
            name_of(&c.objective),
            c.seed,
            c.seed + u64::from(replicates) - 1
        );
        say_raw!("{}", ablation::table_text(&runs));
        say!("results in {}", out.join("ablation.csv").display());
        return Ok(true);
    }
    if a.benchmark {
        let plan = if resume {
            benchmark::load_plan(&out)?
        } else {
            let arms: Vec<String> = if a.arms.is_empty() {
                benchmark::DEFAULT_ARMS.map(String::from).to_vec()
            } else {
                a.arms.clone()
            };
            benchmark::BenchmarkPlan::new(a.replicates.unwrap_or(6), &arms)?
        };
        let b = benchmark::run_benchmark(&c, &scenario, &out, &plan, resume, &labelled_bar)?;
        say!(
            "search benchmark (held-out fitness, {} objective, search seeds {}..={}):",
            name_of(&c.objective),
            c.seed,
            c.seed + u64::from(plan.replicates) - 1
        );
        say_raw!("{}", benchmark::table_text(&b));
        say!(
            "results in {} and {}",
            out.join("benchmark.csv").display(),
            out.join("benchmark-curve.csv").display()
        );
        return Ok(true);
    }
    let pb = bar(c.iterations);
    let o = run_search(&c, &scenario, &out, resume, None, &pb)?;
    pb.0.finish();
    write_trace(&out, &name_of(&c.objective), &o)?;
    say!("held-out seeds {:?}:", c.test_seeds);
    say_raw!("{}", medisim_search::table_text(&o.table));
    say!("{}", rerun_hint(&out, &c.test_seeds));
    tell(&out, &o)?;
    Ok(true)
}

/// The panel's payment-program search: the world from --params and --disease (or the run
/// directory's when it resumes).
fn panel_search(a: &SearchArgs, out: &Path, resume: bool, c: &SearchConfig) -> Result<bool> {
    use medisim_panel::model::{Panel, PanelScenario};
    use medisim_search::domain::Domain as _;
    use medisim_search::panel::PanelPayer;
    let scenario = if resume {
        let saved = out.join(medisim_search::search::SCENARIO_FILE);
        let text = medisim_core::input::read_settings(&saved, "a panel scenario")?;
        PanelScenario::from_toml(&text, &saved.display().to_string())?
    } else {
        let args = crate::house::ModelArgs {
            model: "panel".into(),
            params: a.params.clone(),
            disease: a.disease.clone(),
        };
        let inputs = args.inputs(medisim_experiments::Options::paper(), None, &[])?;
        let s = medisim_experiments::house::setting(&Panel, &inputs)?.scenario;
        s.check_read()?;
        s
    };
    let domain = PanelPayer::new(c, &scenario)?;
    let pb = bar(c.iterations);
    let place = medisim_search::search::Place {
        out,
        resume,
        stop_after: None,
    };
    let o = medisim_search::search::search(
        &domain,
        c,
        &scenario,
        place,
        &pb,
        &medisim_search::evaluate::Local,
    )?;
    pb.0.finish();
    write_trace(out, &domain.objective_name(c), &o)?;
    say!(
        "held-out seeds {:?} ({} panels each; per patient, at {} per QALY):",
        c.test_seeds,
        c.panel.runs,
        medisim_core::text::number(c.panel.wtp)
    );
    say_raw!("{}", domain.table_text(&o.table));
    say!(
        "the searched program is {}: `medisim run --model panel --policy {}` (with the same \
         --params and --disease) runs it on the configuration's runs",
        out.join("best.policy").display(),
        out.join("best.policy").display()
    );
    tell(out, &o)?;
    Ok(true)
}

/// What every search prints after its table: the running-best updates, the model calls, what
/// was not evaluated and what it cost.
fn tell(out: &Path, o: &medisim_search::search::SearchOutcome) -> Result<()> {
    say!("running-best updates: {}", o.updates.len());
    for u in &o.updates {
        say!(
            "  iteration {:>4} {:<28} validation {:.4}  changed: {}",
            u.iteration,
            u.operator,
            u.validation_fitness,
            u.fields_changed.join(", ")
        );
    }
    for u in &o.llm_usage {
        say!(
            "LLM {}: {} calls, {} checked children, {} + {} tokens, cost {:.4}",
            if u.model.is_empty() {
                "(unrecorded)"
            } else {
                &u.model
            },
            u.calls,
            u.children,
            u.prompt_tokens,
            u.completion_tokens,
            u.cost
        );
    }
    if o.duplicates + o.same_behaviour > 0 {
        say!(
            "not evaluated: {} children repeated a program's hash, {} its behaviour",
            o.duplicates,
            o.same_behaviour
        );
    }
    say!(
        "{} rollouts simulated in {:.1} s of {:.1} s total; results in {}",
        o.rollouts,
        o.sim_seconds,
        o.total_seconds,
        out.display()
    );
    Ok(())
}

/// Figures 11 and 18: the running-best trace beside the trace.csv it is drawn from.
fn write_trace(
    out: &Path,
    objective: &str,
    o: &medisim_search::search::SearchOutcome,
) -> Result<()> {
    let points: Vec<(f64, Option<f64>, f64)> = o
        .trace
        .iter()
        .map(|p| {
            (
                f64::from(p.iteration),
                p.child_fitness,
                p.running_best_validation,
            )
        })
        .collect();
    let title = format!("running best, {objective} objective");
    medisim_core::write_atomic(
        &out.join("trace.svg"),
        medisim_experiments::plots::running_best(&title, &points).as_bytes(),
    )?;
    Ok(())
}

/// The report's L3 section needs a search run: make the default one (offline operators, mixed
/// objective) in `dir` unless a finished one is there; an interrupted one resumes.
pub fn ensure_l3(dir: &Path, scenario: &medisim_sim::Scenario) -> Result<()> {
    if dir.join("result.json").exists() {
        return Ok(());
    }
    let resume = dir.join("config.toml").exists();
    let c = if resume {
        SearchConfig::load(&dir.join("config.toml"))?
    } else {
        SearchConfig::default()
    };
    let pb = bar(c.iterations);
    pb.set_prefix("L3");
    let o = run_search(&c, scenario, dir, resume, None, &pb)?;
    pb.0.finish_and_clear();
    write_trace(dir, &name_of(&c.objective), &o)
}

/// The search codes by argmax (paper Appendix C) where `medisim run` codes by softmax, as L1 and
/// L2 do: say so beside the table, with the command that reproduces its rows.
fn rerun_hint(out: &std::path::Path, seeds: &[u64]) -> String {
    let seeds = seeds
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "(coding by argmax, as the search evaluates (Appendix C); `medisim run` codes by softmax \
         unless told: `medisim run --scenario {dir}/scenario.toml --set 'coding.mode=\"deterministic\"' \
         --seeds {seeds} --policy {dir}/best.policy` gives the searched row)",
        dir = out.display()
    )
}
