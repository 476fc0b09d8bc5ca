//! Hostile inputs, second pass (issue 26): the games, the panel, the contracts and the generic
//! commands. Each test is one class of fault the adversarial pass found, and fails when the
//! shared mechanism that answers it is switched off.

mod common;

use common::{kill_mid_run, medisim, text};

/// `args` exits 2 and its error says every one of `want`.
fn refused(args: &[&str], want: &[&str]) {
    let out = medisim(args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    for w in want {
        assert!(err.contains(w), "{args:?}: `{w}` not in: {err}");
    }
    assert!(out.stdout.is_empty(), "{args:?} printed a result");
}

/// Nothing NaN or infinite is reported as success. Extreme but finite parameters once pushed
/// the games, the panel and the contracts outside what they compute (NaN or ±inf printed with
/// exit 0); each is now refused at the input, naming the key and its legal range. (What still
/// comes out undefined is refused naming the result's key: `experiments::finite_result`, and
/// `Summaries::check_finite` in the generic path, each with a unit test.)
#[test]
fn values_that_made_a_result_undefined_are_refused_with_their_range() {
    refused(
        &["game", "imaging", "--set", "lambda_p=1e308"],
        &["`lambda_p`", "1e308 is outside [-1e6, 1e6]"],
    );
    refused(
        &["game", "ct-scanner", "--set", "benefit=[-1e308,0,1e308]"],
        &["`benefit[0]`", "[-1e6, 1e6]"],
    );
    refused(
        &["game", "ct-scanner", "--set", "benefit=[0,1e-320,2e-320]"],
        &["`benefit`", "≥ 1e-6", "[0, 1e-320, 2e-320]"],
    );
    refused(
        &[
            "panel",
            "run",
            "--set",
            "retinopathy.macular_edema_cost=1e308",
        ],
        &["Macular Edema", "1e308 is outside [0, 1e12] dollars"],
    );
    refused(
        &["contract", "--provider", "free", "--p11", "1e308"],
        &["`p11`", "[-1e6, 1e6)"],
    );
    refused(
        &["run", "--model", "imaging", "--set", "lambda_p=1e308"],
        &["`lambda_p`", "[-1e6, 1e6]"],
    );
}

/// TOML may write `nan` and `inf`: every model's parameter file refuses them by key, and a
/// Markov model refuses a state or treatment named twice.
#[test]
fn parameter_files_with_nan_inf_or_duplicate_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let g = file("g.toml", "mu = nan\n");
    refused(&["game", "ct-scanner", "--params", &g], &["`mu`", "NaN"]);
    let p = file("p.toml", "premium = inf\n");
    refused(&["panel", "run", "--params", &p], &["premium", "inf"]);
    let c = file("c.toml", "gamma = nan\n");
    refused(
        &["run", "--model", "contract", "--params", &c],
        &["gamma", "NaN"],
    );
    let twice = "name = \"m\"\nstates = [\"a\", \"a\"]\ninitial = \"a\"\n\
                 [[treatments]]\nname = \"t\"\nfee = 1.0\nvisits = 1.0\n\
                 transitions = [[1.0, 0.0], [0.0, 1.0]]\n";
    let m = file("m.toml", twice);
    refused(&["panel", "run", "--disease", &m], &["`a` is named twice"]);
    refused(&["panel", "run", "--set", "premium=0"], &["premium", "> 0"]);
}

/// A key named twice would write two columns of one name, the first false: refused in a
/// sweep, a sensitivity design and a calibration.
#[test]
fn a_key_named_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    refused(
        &[
            "sweep",
            "--set",
            "arrivals.rate=1:2:2",
            "--set",
            "arrivals.rate=3:4:2",
        ],
        &["`arrivals.rate` is named twice"],
    );
    refused(
        &[
            "sensitivity",
            "--keys",
            "care.nu,care.nu",
            "--points",
            "2",
            "--out",
            out,
        ],
        &["`care.nu` is named twice"],
    );
    refused(
        &["calibrate", "--keys", "care.nu,care.nu", "--out", out],
        &["`care.nu` is named twice"],
    );
    refused(
        &[
            "sweep",
            "--model",
            "panel",
            "--set",
            "margin=0.1,0.2",
            "--set",
            "margin=0.3,0.4",
        ],
        &["`margin` is named twice"],
    );
}

/// A generated Slurm script never carries a line break from an argument (it would run the
/// rest as a command, or end the heredoc).
#[test]
fn a_slurm_script_refuses_an_argument_with_a_line_break() {
    refused(
        &["l1", "--emit-slurm", "2", "--out", "run\nrm -rf ~"],
        &["line break"],
    );
    refused(
        &["l1", "--emit-slurm", "2", "--out", "a\nEOF\nb"],
        &["line break"],
    );
    let ok = medisim(&["l1", "--emit-slurm", "2", "--out", "my run's dir"]);
    assert!(ok.status.success());
    assert!(text(&ok.stdout).contains(r"'my run'\''s dir'"));
}

/// A swept retinopathy key changes the model at every point (the disease model was built
/// once, before the sweep, so every point had the first point's costs).
#[test]
fn a_panel_sweep_rebuilds_the_disease_model_at_every_point() {
    let out = medisim(&[
        "panel",
        "sweep",
        "--vary",
        "retinopathy.macular_edema_cost=0:20000:3",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = v.to_string();
    assert!(!text.contains("NaN"));
    let costs: Vec<f64> = v["series"][0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1]["complications_cost"]["mean"].as_f64().unwrap())
        .collect();
    assert_eq!(
        costs[0], 0.0,
        "no edema cost, no complication cost: {costs:?}"
    );
    assert!(costs[0] < costs[1] && costs[1] < costs[2], "{costs:?}");
}

/// The total work of a command is bounded before anything is allocated, with the estimate in
/// the message: each flag in its range, together too much; a best response that cannot settle
/// (payoffs too large to compare) ends instead of looping.
#[test]
fn runaway_work_is_refused_with_its_estimate() {
    let start = std::time::Instant::now();
    refused(
        &[
            "panel",
            "run",
            "--patients",
            "100000",
            "--years",
            "1000",
            "--runs",
            "1000000",
        ],
        &[
            "patients × years × runs",
            "100000000000000 patient-years",
            "at most 100000000",
        ],
    );
    refused(
        &["game", "chronic-care", "--set", "m1=1e20"],
        &["`m1`", "1e20 is outside [-1e6, 1e6]"],
    );
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}

/// A Markov file with more states than the provider's tables can hold is refused by count,
/// before any table is built (1,500 states used 809 MB).
#[test]
fn a_markov_file_past_the_state_bound_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1500;
    let states: Vec<String> = (0..n).map(|i| format!("\"s{i}\"")).collect();
    let body = format!(
        "name = \"big\"\nstates = [{}]\ninitial = \"s0\"\ntreatments = []\n",
        states.join(", ")
    );
    let p = dir.path().join("big.toml");
    std::fs::write(&p, body).unwrap();
    refused(
        &["panel", "run", "--disease", p.to_str().unwrap()],
        &["states", "1500 of them; at most 256"],
    );
}

/// Solver failures are named by the input that caused them: a capacity too small for the
/// panel, money past any price, a payment or a risk aversion past what the cross-check can
/// resolve, a covariate that overflows the Cox fit. Each was a solver's own words ("Infeasible",
/// "DualInfeasible", a microlp assertion) or a wrong culprit ("a covariate is constant").
#[test]
fn solver_failures_name_the_input_that_caused_them() {
    refused(
        &["panel", "run", "--capacity", "5"],
        &["`capacity`", "20 needed"],
    );
    refused(
        &[
            "panel",
            "run",
            "--set",
            "retinopathy.fees[0]=1e308",
            "--reward-rate",
            "0.3",
            "--penalty-rate",
            "0.1",
        ],
        &["MM-0/SMT-0) fee", "1e308 is outside [0, 1e12]"],
    );
    refused(
        &["contract", "--provider", "free", "--p11", "1e300"],
        &["`p11`", "[-1e6, 1e6)"],
    );
    refused(
        &[
            "contract",
            "--provider",
            "risk-averse",
            "--utility",
            "cara:1e-300",
        ],
        &["r = 1e-300", "[0.001, 1)"],
    );
    refused(
        &["contract", "--gamma", "1e-12"],
        &["`gamma`", "[0.001, 0.999]"],
    );
    let dir = tempfile::tempdir().unwrap();
    let cohort = dir.path().join("cohort.csv");
    let mut rows = String::from("propensity,expenditure,death,los,z1\n");
    for i in 0..40 {
        let z = if i == 7 {
            "1e308".to_string()
        } else {
            format!("{}", i % 5)
        };
        rows.push_str(&format!("0.5,{},{},30,{z}\n", i % 2, 10 + i));
    }
    std::fs::write(&cohort, rows).unwrap();
    refused(
        &["contract", "estimate", "--data", cohort.to_str().unwrap()],
        &["line 9, column `z1`", "1e308", "standardise"],
    );
}

/// Costs up to the money bound solve: the myopic provider's shared-risk program is solved one
/// side of the reference at a time, where a single big-M program lost its precision (a fee of
/// 10⁹ over 1,000 patients was "unbounded", 10¹² "infeasible").
#[test]
fn large_costs_within_range_still_solve() {
    for fee in ["1e9", "1e12"] {
        let out = medisim(&[
            "panel",
            "run",
            "--set",
            &format!("retinopathy.fees[0]={fee}"),
            "--reward-rate",
            "0.3",
            "--penalty-rate",
            "0.1",
            "--patients",
            "1000",
            "--runs",
            "2",
        ]);
        assert!(out.status.success(), "fee {fee}: {}", text(&out.stderr));
    }
}

/// A panel sweep killed mid-run, run again, writes the files an uninterrupted run writes: each
/// finished point is a cell in `--out`, the killed run's lock is taken over, and a second
/// sweep into the directory while one runs is refused rather than interleaved.
#[test]
fn a_killed_panel_sweep_resumes_to_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let (straight, killed) = (dir.path().join("straight"), dir.path().join("killed"));
    let args = |out: &std::path::Path| -> Vec<String> {
        let spec = "panel sweep --vary margin=0:0.4:5 --patients 1000 --runs 1000 --out";
        let mut a: Vec<String> = spec.split(' ').map(String::from).collect();
        a.push(out.display().to_string());
        a
    };
    let run = |out: &std::path::Path| {
        let a = args(out);
        let o = medisim(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(o.status.success(), "{}", text(&o.stderr));
    };
    run(&straight);
    kill_mid_run(&args(&killed), 400);
    run(&killed);
    let files = |d: &std::path::Path| {
        let mut names: Vec<_> = std::fs::read_dir(d.join("cells"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    assert_eq!(files(&killed), files(&straight));
    assert_eq!(
        std::fs::read(killed.join("sweep.csv")).unwrap(),
        std::fs::read(straight.join("sweep.csv")).unwrap()
    );
    assert!(!killed.join(".lock").exists(), "the lock is released");
}

/// The games' tables killed mid-run and run again write what an uninterrupted run writes
/// (every file is written whole, the run is deterministic, the killed run's lock is taken
/// over), and a second run into the directory while one writes is refused.
#[test]
fn killed_game_tables_rerun_to_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let (straight, killed) = (dir.path().join("straight"), dir.path().join("killed"));
    let args = |out: &std::path::Path| -> Vec<String> {
        let mut a: Vec<String> = "game chronic-care --table all --out"
            .split(' ')
            .map(String::from)
            .collect();
        a.push(out.display().to_string());
        a
    };
    let run =
        |out: &std::path::Path| medisim(&args(out).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run(&straight).status.success());
    kill_mid_run(&args(&killed), 300);
    assert!(run(&killed).status.success());
    let listing = |d: &std::path::Path| {
        let mut v: Vec<(std::ffi::OsString, Vec<u8>)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap()))
            .collect();
        v.sort();
        v
    };
    assert!(listing(&killed) == listing(&straight), "the files differ");
}

/// The classes a second adversarial pass found after the first fixes, each refused before the
/// work or the allocation it would have started: a sweep of a million points × seeds (an abort
/// asking for 21 GB), a cohort of two million covariate columns (32 TB), Q-learning's training
/// left out of the work bound, a panel sweep's total, an array longer than its field read as
/// its first elements, a contract cost past any price, a chronic-care game past seven stages.
#[test]
fn work_and_shape_past_the_bounds_are_refused_before_they_start() {
    let start = std::time::Instant::now();
    refused(
        &[
            "sweep",
            "--model",
            "panel",
            "--set",
            "margin=0:0.9:1000",
            "--set",
            "premium=1:1000:1000",
        ],
        &["1000000 points × 40 seeds = 40000000 cells; at most 50000"],
    );
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, body: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let covariates: Vec<String> = (0..100_000).map(|i| format!("z{i}")).collect();
    let wide = file(
        "wide.csv",
        format!(
            "propensity,expenditure,death,los,{}\n0.5,1,10,30,{}\n",
            covariates.join(","),
            vec!["1"; 100_000].join(",")
        ),
    );
    refused(
        &["contract", "estimate", "--data", &wide],
        &["100004 columns; at most 64 covariates"],
    );
    let dup = file(
        "dup.csv",
        "propensity,expenditure,death,los,z1,z1\n0.5,1,10,30,1,2\n".into(),
    );
    refused(
        &["contract", "estimate", "--data", &dup],
        &["column 6 is named `z1` like an earlier one"],
    );
    refused(
        &[
            "panel",
            "run",
            "--patients",
            "100000",
            "--years",
            "1000",
            "--runs",
            "1",
            "--provider",
            "qlearning",
            "--gamma",
            "0.9",
        ],
        &["(runs + qlearning.max_runs)", "(1 + 50000)"],
    );
    refused(
        &[
            "panel",
            "run",
            "--provider",
            "qlearning",
            "--gamma",
            "0.9",
            "--set",
            "provider.qlearning.max_runs=999999999999",
        ],
        &["max_runs in 1..=10000000"],
    );
    refused(
        &[
            "panel",
            "sweep",
            "--vary",
            "margin=0:0.9:10000",
            "--patients",
            "100000",
            "--years",
            "1000",
            "--runs",
            "1",
        ],
        &[
            "the sweep's 10000 points",
            "at most 100000000 in one command",
        ],
    );
    let long = file("k.toml", "k = [1, 2, 3]\n".into());
    refused(
        &["game", "ct-scanner", "--params", &long],
        &["`k` has 3 elements; it takes 2"],
    );
    let fees = file("p.toml", "[retinopathy]\nfees = [1, 2, 3, 4, 5]\n".into());
    refused(
        &["panel", "run", "--params", &fees],
        &["`retinopathy.fees` has 5 elements; it takes 4"],
    );
    refused(
        &["contract", "--cost", "1e308"],
        &["--cost must be in [0.01, 1e12] dollars, got 1e308"],
    );
    let row = |n: usize| format!("[{}]", vec!["0.125"; n].join(", "));
    let stages = 8;
    let rows = vec![row(stages + 1); stages].join(", ");
    let cc = file(
        "cc.toml",
        format!(
            "h_po = [{rows}]\nh_b = [{rows}]\nh_nb = [{rows}]\nh_hs = {}\nutility = {}\n",
            row(stages + 1),
            row(stages + 1)
        ),
    );
    refused(
        &["game", "chronic-care", "--params", &cc],
        &["has 8 chronic stages", "1..=7"],
    );
    // A value a table overwrites with its own grid was ignored silently.
    refused(
        &["game", "chronic-care", "--table", "5.2", "--set", "m1=-1e6"],
        &["table 5.2 sets `m1` itself"],
    );
    // Every table: the keys it sweeps, and the contract flags of one solve.
    refused(
        &["game", "imaging", "--table", "4.4", "--benchmark", "3000"],
        &["table 4.4 sets `benchmark` itself"],
    );
    refused(
        &["game", "chronic-care", "--table", "5.4", "--set", "n1=0.3"],
        &["table 5.4 sets `n1` itself"],
    );
    refused(
        &["game", "ct-scanner", "--table", "3.4", "--share", "0.5"],
        &["--share and --no-incentive apply to one solve"],
    );
    refused(
        &["game", "imaging", "--table", "4.2", "--no-incentive"],
        &["--share and --no-incentive apply to one solve"],
    );
    // Chapter 5's tables on another stage count printed 3-stage columns (mislabelled data).
    let fifth = format!("[{}]", ["0.2"; 5].join(", "));
    let rows4 = vec![fifth.clone(); 4].join(", ");
    let cc4 = file(
        "cc4.toml",
        format!(
            "h_po = [{rows4}]\nh_b = [{rows4}]\nh_nb = [{rows4}]\nh_hs = {fifth}\n\
             utility = [1.0, 0.9, 0.8, 0.7, 0.6]\n"
        ),
    );
    refused(
        &["game", "chronic-care", "--params", &cc4, "--table", "5.4"],
        &["defined on the dissertation's 3 chronic stages", "have 4"],
    );
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}

/// A value the model would ignore, or one that leaves a result undefined, is refused by name:
/// `p11` swept under the non-negative provider wrote identical rows; one patient printed each
/// interval as `[x, x]`; a discount a hair below 1 failed in the LP as "Infeasible".
#[test]
fn values_a_model_ignores_or_cannot_resolve_are_refused() {
    let ignored = ["`p11` picks a member of the free model", "`nonnegative`"];
    refused(
        &["sweep", "--model", "contract", "--set", "p11=0:1:3"],
        &ignored,
    );
    refused(&["contract", "--p11", "0.5"], &ignored);
    refused(
        &["contract", "simulate", "--patients", "1"],
        &[
            "--patients must be in [2, 10000000]",
            "an interval needs two",
        ],
    );
    refused(
        &[
            "game",
            "chronic-care",
            "--set",
            "discount=0.9999999999999999",
        ],
        &["`discount`", "(0, 0.9999]"],
    );
}

/// A settings file's values are counted before the TOML parser holds them: a 16 MB disease
/// file of two-number rows peaked at 1.45 GB while it was parsed.
#[test]
fn a_settings_file_with_too_many_values_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rows.toml");
    let rows = "[0.5, 0.5],\n".repeat(400_000);
    let body = format!(
        "name = \"big\"\nstates = [\"a\", \"b\"]\ninitial = \"a\"\n[[treatments]]\n\
         name = \"t\"\nfee = 1.0\nvisits = 1.0\ntransitions = [{rows}]\n"
    );
    std::fs::write(&p, body).unwrap();
    let start = std::time::Instant::now();
    refused(
        &["panel", "run", "--disease", p.to_str().unwrap()],
        &["rows.toml", "a settings file holds at most 1048576"],
    );
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}

/// Estimates that break the paper's assumptions are refused as the same values typed are
/// (exit 2, not 1), after the estimates are shown; a failed Cox fit names its cause.
#[test]
fn estimates_that_break_an_assumption_exit_2_and_cox_failures_name_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    let cohort = |name: &str, row: &dyn Fn(usize) -> String| {
        let mut text = String::from("propensity,expenditure,death,los,z1,z2\n");
        for i in 0..60 {
            text.push_str(&row(i));
        }
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let z = |i: usize| ((i * 7) % 11) as f64 / 11.0;
    // Everyone dies before discharge: π̂ = 0 in every cell.
    let dead = cohort("dead.csv", &|i| {
        format!("0.5,{},{},30,{},{}\n", i % 2, 1 + i % 9, z(i), z(i + 3))
    });
    let out = medisim(&["contract", "estimate", "--data", &dead]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot price a contract") && err.contains("[0.001, 0.999]"));
    assert!(
        text(&out.stdout).contains("Algorithm 1"),
        "the estimates are shown"
    );
    let collinear = cohort("collinear.csv", &|i| {
        let death = if i % 3 == 0 { 5 } else { 50 };
        format!("0.5,{},{death},30,{},{}\n", i % 2, z(i), 2.0 * z(i) + 1.0)
    });
    refused(
        &["contract", "estimate", "--data", &collinear],
        &["cannot be fitted", "collinear"],
    );
}

/// A third adversarial pass: an empty key list reached the optimiser with no dimension and
/// panicked (exit 101); a trailing comma was dropped in silence; a seed listed twice counted
/// one replicate twice (a zero-width interval from `5,5,5`); the generic sweep skipped the
/// panel's patient-year bound (each cell in range, 2 × 10¹⁰ patient-years in all).
#[test]
fn empty_keys_repeated_seeds_and_a_sweep_past_the_work_bound_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o").display().to_string();
    for keys in ["", ",", "arrivals.rate,"] {
        refused(
            &[
                "calibrate",
                "--keys",
                keys,
                "--iterations",
                "1",
                "--seeds",
                "1",
                "--horizon",
                "1",
                "--out",
                &out,
            ],
            &["--keys", "is empty; name each key"],
        );
    }
    refused(
        &[
            "sensitivity",
            "--model",
            "medisim",
            "--keys",
            "",
            "--out",
            &out,
        ],
        &["key 1 of 1 is empty"],
    );
    refused(
        &["run", "--seeds", "5,5,5", "--horizon", "5"],
        &["seed 5 is listed twice"],
    );
    refused(
        &["panel", "run", "--seeds", "2,3,2"],
        &["seed 2 is listed twice"],
    );
    let start = std::time::Instant::now();
    refused(
        &[
            "sweep",
            "--model",
            "panel",
            "--set",
            "patients=100000,99999",
            "--set",
            "years=1000",
            "--seeds",
            "0..99",
            "--out",
            &out,
        ],
        &[
            "200 cells ask for 19999900000 patient-years",
            "at most 100000000",
        ],
    );
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}

/// Every command's error is bounded for the terminal, whichever check quoted the input: a
/// 5 MB unknown key in a game's parameter file printed a 5 MB message.
#[test]
fn an_error_quoting_a_huge_input_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("key.toml");
    std::fs::write(&p, format!("{} = 1\n", "k".repeat(5_000_000))).unwrap();
    let out = medisim(&["game", "imaging", "--params", p.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", &err[..err.len().min(300)]);
    assert!(err.len() < 4_000, "{} bytes of diagnostics", err.len());
    assert!(err.contains("characters cut]"), "{err}");
}

/// The panel's solvers are bounded in work, deterministically: the myopic provider's
/// branch and bound by nodes × variables (a shared-risk reference near the panel's cost ran
/// for minutes, or aborted at 2 GB), the optimal provider's value iteration by sweeps ×
/// states² × treatments (γ near 1 ran on unbounded). Each refusal names the key that set it.
#[test]
fn the_panel_solvers_are_bounded_and_name_the_key_that_made_them_hard() {
    let start = std::time::Instant::now();
    refused(
        &[
            "panel",
            "run",
            "--payment",
            "ffs-sr",
            "--reward-rate",
            "0.5",
            "--penalty-rate",
            "0.5",
            "--reference",
            "100000",
            "--patients",
            "100",
        ],
        &[
            "`reference`",
            "not proven best within 166666 branch-and-bound nodes",
        ],
    );
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
    // A model of 120 states in a chain, every treatment alike: γ = 0.9999 needs about 2.5
    // × 10⁵ sweeps of 120² × 4, past the bound.
    let dir = tempfile::tempdir().unwrap();
    let n = 120;
    let states: Vec<String> = (0..n).map(|i| format!("\"s{i}\"")).collect();
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let mut r = vec!["0".to_string(); n];
            r[(i + 1) % n] = "1".into();
            format!("[{}]", r.join(","))
        })
        .collect();
    let mut body = format!(
        "name = \"chain\"\nstates = [{}]\ninitial = \"s0\"\n",
        states.join(",")
    );
    for t in 0..4 {
        body += &format!(
            "[[treatments]]\nname = \"t{t}\"\nfee = {}.0\nvisits = 1.0\ntransitions = [{}]\n",
            100 + t,
            rows.join(",")
        );
    }
    let p = dir.path().join("chain.toml");
    std::fs::write(&p, body).unwrap();
    let start = std::time::Instant::now();
    refused(
        &[
            "panel",
            "run",
            "--disease",
            p.to_str().unwrap(),
            "--provider",
            "optimal",
            "--gamma",
            "0.9999",
            "--runs",
            "1",
        ],
        &[
            "`gamma`",
            "did not converge within",
            "120-state × 4-treatment",
        ],
    );
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}

/// A game whose one solve is expensive states its work, and a sweep of it is bounded in
/// total: twenty 7-stage chronic-care solves (8.5 s each) started at once.
#[test]
fn a_game_sweep_past_its_work_bound_is_refused() {
    let h = 7;
    let matrix = |stay: f64| -> String {
        let rows: Vec<String> = (0..h)
            .map(|i| {
                let mut r = vec![0.0; h + 1];
                r[i] = stay;
                r[i + 1] = 1.0 - stay;
                format!("{r:?}")
            })
            .collect();
        format!("[{}]", rows.join(", "))
    };
    let mut hs = vec![0.0; h + 1];
    hs[h - 1] = 0.2;
    hs[h] = 0.8;
    let utility: Vec<f64> = (0..=h).map(|i| 1.0 - 0.1 * i as f64).collect();
    let body = format!(
        "h_b = {}\nh_nb = {}\nh_po = {}\nh_hs = {hs:?}\nutility = {utility:?}\n",
        matrix(0.9),
        matrix(0.8),
        matrix(0.95)
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cc7.toml");
    std::fs::write(&p, body).unwrap();
    let out = dir.path().join("o").display().to_string();
    let start = std::time::Instant::now();
    refused(
        &[
            "sweep",
            "--model",
            "chronic-care",
            "--params",
            p.to_str().unwrap(),
            "--set",
            "m1=0:1",
            "--design",
            "lhs:20",
            "--out",
            &out,
        ],
        &[
            "20 cells ask for 327680 strategy profiles",
            "at most 262144",
        ],
    );
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}

/// A flag the contract action does not read is refused by name, with what it reads: each was
/// ignored with exit 0 (`contract icp --provider free --p11 5` printed the ICP case study
/// unchanged; `contract estimate` priced the non-negative model whatever `--provider` said).
#[test]
fn a_contract_flag_the_action_does_not_read_is_refused() {
    refused(
        &["contract", "icp", "--provider", "free", "--p11", "5"],
        &[
            "--p11 is not read by `contract icp`",
            "it reads --cost, --json",
        ],
    );
    refused(
        &["contract", "generate", "--gamma", "0.9"],
        &["--gamma is not read by `contract generate`"],
    );
    refused(
        &[
            "contract",
            "estimate",
            "--data",
            "x.csv",
            "--provider",
            "free",
        ],
        &["--provider is not read by `contract estimate`"],
    );
    refused(
        &["contract", "--patients", "5"],
        &["--patients is not read by `contract` (the model's solve)"],
    );
    refused(
        &["contract", "simulate", "--data", "x.csv"],
        &["--data is not read by `contract simulate`"],
    );
}

/// A panel key the setting does not read is refused where input enters: the myopic provider's
/// capacity under the optimal provider, capitation under fee-for-service, Q-learning's
/// settings under the myopic provider, and `runs` beside `--seeds` were each ignored (exit 0).
#[test]
fn a_panel_key_the_setting_does_not_read_is_refused() {
    refused(
        &["panel", "run", "--provider", "optimal", "--capacity", "25"],
        &["`capacity`", "the myopic provider's appointment constraint"],
    );
    refused(
        &["panel", "run", "--set", "payment.capitation=[1,2,3,4,5,6]"],
        &["`capitation`", "payment gc or gc-sr"],
    );
    refused(
        &["panel", "run", "--set", "provider.qlearning.epsilon=0.3"],
        &["`qlearning`", "the Q-learning provider's settings"],
    );
    refused(
        &["panel", "run", "--seeds", "0..3", "--set", "runs=3"],
        &["`runs` given too would be ignored"],
    );
    refused(
        &[
            "sweep",
            "--model",
            "panel",
            "--set",
            "capacity=10,20",
            "--set",
            "provider.qlearning.epsilon=0.3",
        ],
        &["`qlearning`"],
    );
    // What the experiments and a sweep set themselves, and a flag beside `--set` of its key.
    refused(
        &["panel", "experiments", "--only", "E1", "--payment", "gc"],
        &["the experiments set the payment themselves"],
    );
    refused(
        &["panel", "experiments", "--only", "E1,e1"],
        &["`E1` is named twice"],
    );
    refused(
        &[
            "panel",
            "sweep",
            "--vary",
            "margin=0.1,0.2",
            "--margin",
            "0.3",
        ],
        &["--vary margin sets `margin` at every point", "(0.3)"],
    );
    refused(
        &["game", "ct-scanner", "--share", "0.5", "--set", "share=0.3"],
        &["--set share would be ignored", "--share, given too"],
    );
    refused(
        &["game", "ct-scanner", "--set", "share=0.3"],
        &["H chooses the share unless --share fixes it"],
    );
    refused(
        &[
            "game",
            "imaging",
            "--benchmark",
            "5",
            "--set",
            "benchmark=7",
        ],
        &["--set benchmark would be ignored"],
    );
}

/// Fourth pass: what a command would ignore, drop or report without meaning is refused or said.
#[test]
fn ignored_dropped_and_meaningless_inputs_are_refused() {
    // A key set twice kept its last value.
    refused(
        &[
            "run", "--set", "teams=3", "--set", "teams=4", "--seeds", "1..2",
        ],
        &["`teams` is set twice"],
    );
    refused(
        &[
            "run", "--model", "contract", "--set", "pi00=0.3", "--set", "pi00=0.4",
        ],
        &["`pi00` is set twice"],
    );
    // A deterministic model runs once: seeds, Medi-Sim's objective and a grid's design seed
    // changed nothing.
    refused(
        &["run", "--model", "ct-scanner", "--seeds", "1..3"],
        &["deterministic", "--seeds"],
    );
    refused(
        &[
            "sweep",
            "--model",
            "contract",
            "--set",
            "gamma=0.3,0.4",
            "--seeds",
            "1..5",
        ],
        &["deterministic"],
    );
    refused(
        &["run", "--model", "contract", "--objective", "welfare"],
        &["--objective belongs to Medi-Sim"],
    );
    refused(
        &[
            "sweep",
            "--model",
            "contract",
            "--set",
            "gamma=0.3,0.4",
            "--design-seed",
            "7",
        ],
        &["--design-seed", "a grid or a one-way design draws nothing"],
    );
    // A key the arrival kernel does not read.
    refused(
        &["run", "--set", "arrivals.dispersion=5", "--seeds", "1..2"],
        &["arrivals.dispersion", "kernel `poisson`"],
    );
    // One seed has no interval: the facts cannot be checked on it.
    refused(
        &["validate", "--seeds", "3", "--horizon", "30"],
        &["at least two seeds"],
    );
    // A name where --set gives numbers.
    refused(
        &["run", "--model", "contract", "--set", "provider=\"free\""],
        &["`provider` takes a name", "--params"],
    );
}

/// A policy constant outside its field's range is clipped by the host, and said: `check` and
/// `run` print the warning with its place.
#[test]
fn a_policy_constant_the_host_clips_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.policy");
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies/baseline.policy"
    ))
    .unwrap();
    std::fs::write(&p, base.replace("alpha = 0.5", "alpha = 5")).unwrap();
    let p = p.display().to_string();
    for args in [
        vec!["check", p.as_str()],
        vec!["run", "--policy", &p, "--seeds", "1..2", "--horizon", "5"],
    ] {
        let out = medisim(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("warning[out-of-range]") && err.contains("a.policy:12:9"),
            "{args:?}: {err}"
        );
    }
}

/// A simulated cohort's intervals stay where the quantity can be: survival in [0, 1], a payment
/// between the contract's least and largest (two patients gave [-5.85, 6.85]).
#[test]
fn a_small_cohort_s_intervals_stay_in_the_support() {
    let out = medisim(&["contract", "simulate", "--patients", "2", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let payments = v["solution"]["payments"].as_array().unwrap();
    let least = payments
        .iter()
        .map(|x| x.as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    for c in v["cohorts"].as_array().unwrap() {
        let [lo, hi] =
            [&c["survival"]["ci95"][0], &c["survival"]["ci95"][1]].map(|x| x.as_f64().unwrap());
        assert!(
            (0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi),
            "{c}"
        );
        assert!(c["payment"]["ci95"][0].as_f64().unwrap() >= least, "{c}");
    }
}

/// A refusal names where the value came from: a cohort without controls names its file and
/// the missing arm; a sensitivity box end that breaks an assumption names the box, not a
/// `--set` the user never typed.
#[test]
fn refusals_name_the_file_or_the_design_behind_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = medisim(&["contract", "generate", "--patients", "60"]);
    let csv = text(&out.stdout);
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    let treated: Vec<&str> = lines.filter(|l| l.split(',').nth(1) == Some("1")).collect();
    let f = dir.path().join("treated.csv");
    std::fs::write(&f, format!("{header}\n{}\n", treated.join("\n"))).unwrap();
    let f = f.display().to_string();
    refused(
        &["contract", "estimate", "--data", &f],
        &["treated.csv", "no control patient"],
    );
    refused(
        &[
            "sensitivity",
            "--model",
            "contract",
            "--keys",
            "gamma,pi01",
            "--points",
            "4",
        ],
        &["the ±0.2 box around `pi01`", "choose a smaller --box"],
    );
}
