//! # medisim: the command line
//!
//! Owns argument parsing, file I/O and exit codes; every decision is made in the library
//! crates it calls (today `medisim-dsl`). Exit status: 0 success, 1 the input has problems
//! (a policy does not check, a file is not formatted), 2 usage or I/O errors.

use anyhow::Result;
use clap::{Parser, Subcommand};
use medisim_core::write_atomic;
use medisim_dsl::patch;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Print a line to stdout. A closed pipe (`medisim run | head`) is not an error to report: the
/// command ends quietly (see `main`).
macro_rules! say {
    ($($t:tt)*) => {
        $crate::emit(format_args!($($t)*), true)?
    };
}

/// As [`say!`], without the newline.
macro_rules! say_raw {
    ($($t:tt)*) => {
        $crate::emit(format_args!($($t)*), false)?
    };
}

mod cea;
mod contract;
mod experiments;
mod game;
mod house;
mod panel;
mod progress;
mod run;
mod search;
mod source;
mod sweep;

use source::{read_policy, report};

#[derive(Parser)]
#[command(
    name = "medisim",
    version,
    about = "Healthcare mechanism design under strategic provider response",
    after_help = "Exit status, the same for every command: 0 done; 1 the command ran and its \
                  check failed (check: a policy is invalid; validate: a fact fails; patch: the \
                  edit does not apply; contract: the cross-check disagrees); 2 an input was \
                  refused (a flag, a file, a value outside its range) or the work could not be \
                  done."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check policy files: exit 0 when all are valid, 1 with one diagnostic per problem.
    Check {
        /// Policy files (`.policy`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also print notes (e.g. fields left to the baseline).
        #[arg(long)]
        notes: bool,
    },
    /// Rewrite policy files in canonical layout.
    Fmt {
        /// Policy files, rewritten in place.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only report files that are not formatted (exit 1 if any).
        #[arg(long)]
        check: bool,
    },
    /// Print the canonical hash of each policy (equal for layout-only differences).
    Hash {
        /// Policy files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Apply an edit (SEARCH/REPLACE blocks or a full rewrite) to a policy and check the result.
    Patch {
        /// The policy the edit applies to.
        policy: PathBuf,
        /// File holding the edit, e.g. a model's response.
        edit: PathBuf,
        /// Write the result back to POLICY instead of printing it.
        #[arg(long)]
        in_place: bool,
    },
    /// Print the language schema (fields, features, calls) as Markdown tables.
    Schema,
    /// Run the simulator: a policy in a scenario over a set of seeds.
    Run(run::RunArgs),
    /// L1: the (α, β) incentive phase diagram (CSV and annotated heatmaps).
    L1(experiments::L1Args),
    /// L2: one-at-a-time administrative lever sweeps around three regimes.
    L2(experiments::L2Args),
    /// The nine stylized facts of Table 4; exit 1 if any fails.
    Validate(experiments::ValidateArgs),
    /// Global sensitivity of the nine facts to the constants the project chose: LHS, Morris or
    /// Sobol' over a ±box; resumable through the cell cache.
    Sensitivity(experiments::SensitivityArgs),
    /// Calibrate the chosen constants to target moments (the paper's Table 2 by default) by
    /// the method of simulated moments with Nelder–Mead; resumable through the cell cache.
    Calibrate(experiments::CalibrateArgs),
    /// Sweep any scenario key or policy constant over a grid, a Latin hypercube or a Sobol'
    /// design: seeds × points through the cell cache, tidy CSV and Parquet.
    Sweep(sweep::SweepArgs),
    /// Write the HTML report (runs whatever is not yet cached under --out).
    Report(experiments::ReproduceArgs),
    /// The main job: validate, L1, L2 and the report, with progress bars.
    Reproduce(experiments::ReproduceArgs),
    /// Policy-as-code search (L3): evolve policy programs for an objective.
    Search(Box<search::SearchArgs>),
    /// Print the effective scenario (built-in defaults, or FILE with defaults filled in).
    Scenario {
        /// Scenario TOML file; omitted keys take their defaults.
        file: Option<PathBuf>,
    },
    /// Optimal end-of-life care payment contracts (arXiv 2403.15099): solve a model, the ICP
    /// case study, or check a contract on a simulated cohort.
    Contract(contract::ContractArgs),
    /// Multi-level incentive games (seed 004): equilibria of payer, hospital and physicians.
    Game(game::GameArgs),
    /// Primary-care payment models on a patient panel (seed 002): FFS, capitation, shared risk;
    /// myopic, Q-learning and optimal providers.
    #[command(subcommand)]
    Panel(panel::PanelCommand),
    /// Cost-effectiveness analysis of a PSA file (draw, strategy, cost, effect): incremental
    /// table with dominance and extended dominance, CEAC, CEAF, expected loss, EVPI.
    Cea(cea::CeaArgs),
    /// A local dashboard: every scenario key and the policy as controls, runs with live
    /// progress through the cell cache under --out. Prints the URL; Ctrl-C stops it.
    Serve {
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to listen on: this machine only unless told otherwise.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Directory whose cells/ cache the runs read and fill.
        #[arg(long, default_value = "medisim-out")]
        out: PathBuf,
    },
}

/// Every command and subcommand takes negative numbers as values (`--benchmark -5`), not as
/// unknown flags.
fn negative_numbers(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    names
        .iter()
        .fold(cmd.allow_negative_numbers(true), |cmd, n| {
            cmd.mut_subcommand(n, negative_numbers)
        })
}

/// The flags of subcommand `name` typed on the command line (not clap's defaults), by argument
/// id: what a command checks against the flags it reads, so a flag it would ignore is refused
/// by name. (Argument groups share the matches' ids; only arguments count.)
fn typed_flags(matches: &clap::ArgMatches, name: &str) -> std::collections::BTreeSet<String> {
    let Some(m) = matches.subcommand_matches(name) else {
        return Default::default();
    };
    let cli = <Cli as clap::CommandFactory>::command();
    let Some(command) = cli.find_subcommand(name) else {
        return Default::default();
    };
    command
        .get_arguments()
        .map(|a| a.get_id().as_str())
        .filter(|id| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
        .map(str::to_string)
        .collect()
}

fn main() -> ExitCode {
    let matches = negative_numbers(<Cli as clap::CommandFactory>::command()).get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Check { files, notes } => check(&files, notes),
        Command::Fmt { files, check } => fmt(&files, check),
        Command::Hash { files } => hash(&files),
        Command::Patch {
            policy,
            edit,
            in_place,
        } => patch_cmd(&policy, &edit, in_place),
        Command::Schema => emit(
            format_args!("{}", medisim_sim::hospital().reference_markdown()),
            false,
        )
        .map(|()| true)
        .map_err(anyhow::Error::from),
        Command::Run(args) => run::run(&args),
        Command::L1(a) => experiments::l1(&a),
        Command::L2(a) => experiments::l2(&a),
        Command::Validate(a) => experiments::validate(&a),
        Command::Sensitivity(a) => experiments::sensitivity(&a),
        Command::Calibrate(a) => experiments::calibrate(&a),
        Command::Sweep(a) => sweep::sweep(&a),
        Command::Report(a) => experiments::reproduce(&a, false),
        Command::Reproduce(a) => experiments::reproduce(&a, true),
        Command::Search(a) => search::search(&a),
        Command::Scenario { file } => run::print_scenario(file.as_deref()),
        Command::Contract(a) => {
            let typed = typed_flags(&matches, "contract");
            contract::contract(&a, &typed)
        }
        Command::Game(a) => game::game(&a),
        Command::Panel(c) => panel::panel(&c),
        Command::Cea(a) => cea::cea(&a),
        Command::Serve { port, host, out } => medisim_serve::serve(
            &medisim_serve::Options { host, port, out },
            // A closed stdout loses only the line; the server goes on.
            |at| {
                drop(emit(
                    format_args!("medisim serve: http://{at}/ (Ctrl-C stops it)"),
                    true,
                ))
            },
        )
        .map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        // The reader went away (`| head`): nothing more to say, and nothing went wrong.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let message = medisim_core::input::bounded_message(&format!("{e:#}"));
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Write to stdout, returning the error instead of panicking on a closed pipe.
fn emit(args: std::fmt::Arguments<'_>, newline: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)?;
    if newline {
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Whether an error is a closed output pipe somewhere down its chain.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn check(files: &[PathBuf], notes: bool) -> Result<bool> {
    let mut all_ok = true;
    let mut errors = 0;
    for path in files {
        let name = path.display().to_string();
        let src = match read_policy(path)? {
            Ok(src) => src,
            Err(report) => {
                eprintln!("{report}");
                all_ok = false;
                errors += 1;
                continue;
            }
        };
        let diags =
            medisim_dsl::check_source(medisim_experiments::house::schema_for(&src.text), &src.text)
                .diagnostics;
        let omitted: Vec<&str> = diags
            .iter()
            .filter(|d| d.code == medisim_dsl::diag::Code::OmittedField)
            .filter_map(|d| d.message.split('`').nth(1))
            .collect();
        let file_errors = diags.iter().filter(|d| d.is_error()).count();
        let warned = diags
            .iter()
            .any(|d| d.severity == medisim_dsl::diag::Severity::Warning);
        if file_errors > 0 || warned || notes {
            eprintln!("{}", report(&diags, &src, notes));
        }
        if file_errors > 0 {
            all_ok = false;
            errors += file_errors;
        } else {
            if omitted.is_empty() {
                say!("ok  {name}");
            } else {
                say!("ok  {name}  (baseline rule for: {})", omitted.join(", "));
            }
        }
    }
    if !all_ok {
        eprintln!(
            "{errors} error{} in {} file{}",
            if errors == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
    }
    Ok(all_ok)
}

/// Run `f` on every policy file that reads, reporting the ones that do not; true when every
/// file read and `f` returned true for each.
fn each_policy(
    files: &[PathBuf],
    mut f: impl FnMut(&Path, &source::Source) -> Result<bool>,
) -> Result<bool> {
    let mut all_ok = true;
    for path in files {
        match read_policy(path)? {
            Ok(src) => all_ok &= f(path, &src)?,
            Err(report) => {
                eprintln!("{report}");
                all_ok = false;
            }
        }
    }
    Ok(all_ok)
}

fn fmt(files: &[PathBuf], check_only: bool) -> Result<bool> {
    each_policy(files, |path, src| {
        let name = &src.name;
        Ok(match medisim_dsl::fmt::format_source(&src.text) {
            Ok(formatted) if formatted == src.text => true,
            Ok(_) if check_only => {
                say!("not formatted: {name}");
                false
            }
            Ok(formatted) => {
                write_atomic(path, formatted.as_bytes())?;
                say!("formatted {name}");
                true
            }
            Err(diags) => {
                eprintln!("{}", report(&diags, src, false));
                false
            }
        })
    })
}

fn hash(files: &[PathBuf]) -> Result<bool> {
    each_policy(files, |_, src| {
        Ok(
            match medisim_dsl::load(medisim_experiments::house::schema_for(&src.text), &src.text) {
                Ok(p) => {
                    say!("{}  {}", p.canonical_hash(), src.name);
                    true
                }
                Err(diags) => {
                    eprintln!("{}", report(&diags, src, false));
                    false
                }
            },
        )
    })
}

fn patch_cmd(policy: &Path, edit: &Path, in_place: bool) -> Result<bool> {
    let src = match read_policy(policy)? {
        Ok(src) => src,
        Err(report) => {
            eprintln!("{report}");
            return Ok(false);
        }
    };
    // An edit is a model's reply: bounded like a policy source, and UTF-8.
    let response = match read_policy(edit)? {
        Ok(r) => r.text,
        Err(report) => {
            eprintln!("{report}");
            return Ok(false);
        }
    };
    match patch::edit_and_check(medisim_sim::hospital(), &src.text, &response) {
        Ok((text, _)) => {
            if in_place {
                write_atomic(policy, text.as_bytes())?;
                say!("patched {}", policy.display());
            } else {
                say_raw!("{text}");
            }
            Ok(true)
        }
        Err(patch::EditFailure::Patch(e)) => {
            eprintln!("error: {e}");
            Ok(false)
        }
        Err(patch::EditFailure::Check { text, diagnostics }) => {
            let patched = source::Source {
                name: format!("{} (patched)", policy.display()),
                text,
            };
            eprintln!("{}", report(&diagnostics, &patched, false));
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every option of every command, by path, that has no help text.
    fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            let id = a.get_id().as_str();
            if id == "help" || id == "version" || a.is_hide_set() {
                continue;
            }
            if a.get_help().is_none() && a.get_long_help().is_none() {
                out.push(format!("{path} {id}"));
            }
        }
        for s in cmd.get_subcommands() {
            undocumented(s, &format!("{path} {}", s.get_name()), out);
        }
    }

    #[test]
    fn every_option_of_every_command_says_what_it_is() {
        let mut missing = Vec::new();
        undocumented(&Cli::command(), "medisim", &mut missing);
        assert!(missing.is_empty(), "options without help: {missing:#?}");
        // Planted: an option with no doc comment is found.
        let planted = clap::Command::new("x").arg(clap::Arg::new("bare").long("bare"));
        let mut found = Vec::new();
        undocumented(&planted, "x", &mut found);
        assert_eq!(found, vec!["x bare".to_string()]);
    }
}
