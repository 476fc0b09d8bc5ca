//! Sweeps as N independent jobs: `--shard K/N` fills one shared cell cache, a plain run
//! assembles it byte for byte as an unsharded run would, and `--emit-slurm` writes a driver
//! that does exactly that when Slurm runs it (checked here with a stand-in `sbatch`).

mod common;

use common::{medisim, succeeds, text};
use std::path::Path;

const L1: [&str; 7] = ["l1", "--grid", "3", "--seeds", "1..2", "--horizon", "30"];

fn with_out<'a>(base: &[&'a str], out: &'a str) -> Vec<&'a str> {
    let mut v = base.to_vec();
    v.extend(["--out", out]);
    v
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = walk(dir)
        .into_iter()
        .filter(|p| !p.starts_with(dir.join("cells")) && !p.ends_with(".lock"))
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_union_of_shards_assembles_what_one_run_computes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (da, db) = (
        a.path().display().to_string(),
        b.path().display().to_string(),
    );
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let mut args = with_out(&L1, &da);
        args.extend(["--shard", &shard]);
        let out = text(&succeeds(&args).stdout);
        assert!(out.contains(&format!("shard {k}/3")), "{out}");
    }
    assert!(
        !a.path().join("l1.csv").exists(),
        "a shard assembles nothing"
    );
    let out = text(&succeeds(&with_out(&L1, &da)).stdout);
    assert!(out.contains("0 cells computed, 9 reused"), "{out}");
    succeeds(&with_out(&L1, &db));
    assert_eq!(files(a.path()), files(b.path()));
    // validate shards the same way.
    let v = ["validate", "--seeds", "1..2", "--horizon", "30"];
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let mut args = with_out(&v, &da);
        args.extend(["--shard", &shard]);
        succeeds(&args);
    }
    // (With 2 seeds and 30 periods some facts may fail their intervals: the verdict is not the
    // point here, the assembly from the shards' cells is.)
    let out = text(&medisim(&with_out(&v, &da)).stdout);
    assert!(out.contains("stylized facts pass"), "{out}");
    for bad in ["0/2", "3/2", "two"] {
        let mut args = with_out(&L1, &da);
        args.extend(["--shard", bad]);
        let e = medisim(&args);
        assert!(
            !e.status.success() && text(&e.stderr).contains("K/N"),
            "{bad}"
        );
    }
}

/// A stand-in for Slurm's `sbatch`: runs the job script from stdin at once, once per array
/// task, in order; prints a job id for `--parsable`.
const FAKE_SBATCH: &str = r#"#!/bin/bash
script=$(cat)
tasks=""
for a in "$@"; do
  case "$a" in --array=*) r=${a#--array=}; tasks=$(seq ${r%-*} ${r#*-});; esac
done
if [ -n "$tasks" ]; then
  for t in $tasks; do SLURM_ARRAY_TASK_ID=$t bash -c "$script" >> "$SBATCH_LOG" 2>&1 || exit 1; done
else
  bash -c "$script" >> "$SBATCH_LOG" 2>&1 || exit 1
fi
echo 4242
"#;

/// Write `script` as a driver and run it with the stand-in `sbatch` and the binary under test
/// on PATH, in `cwd`; the driver's success and the jobs' log.
fn run_driver(script: &str, cwd: &Path) -> (bool, String) {
    let bin = tempfile::tempdir().unwrap();
    let sbatch = bin.path().join("sbatch");
    std::fs::write(&sbatch, FAKE_SBATCH).unwrap();
    std::fs::set_permissions(&sbatch, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // `medisim` on PATH: the binary under test.
    let exe = Path::new(env!("CARGO_BIN_EXE_medisim"));
    std::os::unix::fs::symlink(exe, bin.path().join("medisim")).unwrap();
    let driver = bin.path().join("job.sh");
    std::fs::write(&driver, script).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let log = bin.path().join("log");
    let status = std::process::Command::new("bash")
        .arg(&driver)
        .current_dir(cwd)
        .env("PATH", path)
        .env("SBATCH_LOG", &log)
        .status()
        .unwrap();
    (
        status.success(),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

#[test]
fn the_slurm_driver_runs_every_shard_then_assembles() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (da, db) = (
        a.path().display().to_string(),
        b.path().display().to_string(),
    );
    let mut args = with_out(&L1, &da);
    args.extend(["--emit-slurm", "3"]);
    let script = text(&succeeds(&args).stdout);
    assert!(
        script.contains("--shard \"${SLURM_ARRAY_TASK_ID}/3\""),
        "{script}"
    );
    let (ok, log) = run_driver(&script, a.path());
    assert!(ok, "{log}");
    assert!(
        log.contains("shard 3/3") && log.contains("0 cells computed, 9 reused"),
        "{log}"
    );
    succeeds(&with_out(&L1, &db));
    assert_eq!(files(a.path()), files(b.path()));
}

/// An output path holding everything a shell reads specially — quotes, `$(…)`, backticks,
/// `;`, globs, spaces, a leading dash — is passed through the generated driver as data: the
/// jobs write into that very directory and nothing in it runs. (A line break is refused
/// outright: `hostile_models::a_slurm_script_refuses_an_argument_with_a_line_break`.)
#[test]
fn a_hostile_output_path_runs_nothing_in_the_slurm_driver() {
    let work = tempfile::tempdir().unwrap();
    let hostile = "-it's $(touch pwned1) `touch pwned2`; touch pwned3 * \\ \"q\" ${HOME}";
    let out = work.path().join(hostile);
    let o = out.display().to_string();
    let mut args = with_out(&L1, &o);
    args.extend(["--emit-slurm", "2"]);
    let script = text(&succeeds(&args).stdout);
    let (ok, log) = run_driver(&script, work.path());
    assert!(ok, "{log}\n{script}");
    for p in ["pwned1", "pwned2", "pwned3"] {
        assert!(!work.path().join(p).exists(), "{p} ran:\n{script}");
    }
    assert!(out.join("l1.csv").exists(), "{log}");
    let straight = tempfile::tempdir().unwrap();
    succeeds(&with_out(&L1, &straight.path().display().to_string()));
    assert_eq!(files(&out), files(straight.path()));
}

/// `reproduce --shard` fills every cell the report reads — Medi-Sim's and the panel's — so the
/// assembling run computes only the two sections cached whole (the games', the contracts').
#[test]
fn reproduce_shards_fill_the_panel_cells_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let args = [
        "reproduce",
        "--seeds",
        "1..2",
        "--horizon",
        "30",
        "--grid",
        "3",
        "--no-search",
        "--out",
        &out,
    ];
    for shard in ["1/2", "2/2"] {
        let mut a = args.to_vec();
        a.extend(["--shard", shard]);
        succeeds(&a);
    }
    // Exit 1 is a fact failing at this tiny setting; the report is written either way.
    let run = medisim(&args);
    assert!(
        matches!(run.status.code(), Some(0 | 1)),
        "{}",
        text(&run.stderr)
    );
    let assembled = text(&run.stdout);
    assert!(assembled.contains("2 cells computed"), "{assembled}");
}
