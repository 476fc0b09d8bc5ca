"""The Python package against the command line: same inputs, same numbers, bit for bit."""

import json
import os
import pathlib
import subprocess

import pytest

import medisim

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cli():
    """The command line built by `cargo build` / `cargo test` (MEDISIM_BIN overrides)."""
    env = os.environ.get("MEDISIM_BIN")
    if env:
        return env
    for profile in ("release", "debug"):
        p = ROOT / "target" / profile / "medisim"
        if p.exists():
            return str(p)
    pytest.skip("no medisim binary: run `cargo build` first")


def test_check_returns_a_policy_or_diagnostics_in_the_clis_words():
    p = medisim.check(ROOT / "policies" / "baseline.policy")
    assert isinstance(p, medisim.Policy) and p.name == "baseline"
    assert len(p.hash()) >= 12 and "alpha" in p.format()
    bad = "kind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"x\"\n[admin_policy]\nalpha = wbarr\n"
    diags = medisim.check(bad)
    assert isinstance(diags, list) and diags
    d = [x for x in diags if x.severity == "error"][0]
    assert d.code == "unknown-feature" and d.line == 5 and d.column >= 9
    path = ROOT / "target" / "py-bad.policy"
    path.write_text(bad)
    out = subprocess.run([cli(), "check", str(path)], capture_output=True, text=True)
    assert out.returncode == 1
    assert d.message in out.stdout + out.stderr


def test_a_scenario_reads_every_key_and_refuses_bad_ones_by_name():
    s = medisim.Scenario.default()
    assert s["response.accept_threshold"] == 1.1
    assert s.response.accept_threshold == 1.1 and s.care.lambda_ == 0.5 and s.teams == 5
    with pytest.raises(AttributeError, match="care.nope"):
        s.care.nope
    assert "care.lambda" in s.keys()
    t = s.with_(care__lambda=0.6)
    assert t["care.lambda"] == 0.6 and s["care.lambda"] == 0.5
    with pytest.raises(ValueError, match="care.nope"):
        s.with_(care__nope=1.0)
    with pytest.raises(ValueError, match="care.untreated_health"):
        s.with_(**{"care.untreated_health": 1.5})
    with pytest.raises(KeyError):
        s["nope"]


def test_run_gives_one_row_per_seed_and_the_clis_summary_bit_for_bit():
    df = medisim.run(seeds=range(1, 4), horizon=40)
    assert list(df["seed"]) == [1, 2, 3]
    assert "upcoding_rate" in df.columns and len(df) == 3
    ours = medisim.summary(seeds=range(1, 4), horizon=40)
    out = subprocess.run(
        [cli(), "run", "--seeds", "1..3", "--horizon", "40", "--json"],
        capture_output=True, text=True, check=True,
    )
    theirs = json.loads(out.stdout)["metrics"]
    assert set(ours) == set(theirs)
    for name, s in theirs.items():
        assert ours[name]["mean"] == s["mean"], name
        assert ours[name]["ci95"] == s["ci95"], name
    # The per-seed rows are the runs of each seed alone: their mean is the summary's mean.
    for name in ("upcoding_rate", "mean_waiting", "terminal_funds"):
        assert abs(df[name].mean() - ours[name]["mean"]) <= 1e-9 * max(1.0, abs(ours[name]["mean"]))


def test_a_policy_and_a_scenario_go_through_run():
    p = medisim.check(ROOT / "policies" / "baseline.policy")
    s = medisim.Scenario.default().with_(**{"arrivals.rate": 7.0})
    a = medisim.summary(policy=p, scenario=s, seeds=[1, 2], horizon=30)
    b = medisim.summary(seeds=[1, 2], horizon=30)
    assert a["arrival_rate"]["mean"] < b["arrival_rate"]["mean"]
    with pytest.raises(ValueError, match="objective"):
        medisim.run(seeds=[1], horizon=10, objective="greed")


def test_validate_and_l1_return_tables():
    facts = medisim.validate(seeds=range(1, 3), horizon=40)
    assert len(facts) == 9 and "margins" in facts.columns
    grid = medisim.l1(grid=2, seeds=[1], horizon=20)
    assert set(grid["alpha"]) == {0.0, 1.0}
    with pytest.raises(ValueError, match="grid"):
        medisim.l1(grid=1)


def test_a_sweep_is_the_clis_sweep_as_a_table(tmp_path):
    df = medisim.sweep("admin_policy.alpha=0:1:3", "care.nu=0.05,0.2", seeds=range(1, 4),
                       horizon=30, metrics=["upcoding_rate"])
    assert len(df) == 6 and {"admin_policy.alpha", "care.nu", "mean", "ci95_low"} <= set(df.columns)
    subprocess.run(
        [cli(), "sweep", "--set", "admin_policy.alpha=0:1:3", "--set", "care.nu=0.05,0.2",
         "--seeds", "1..3", "--horizon", "30", "--metric", "upcoding_rate",
         "--out", str(tmp_path)],
        capture_output=True, text=True, check=True,
    )
    import csv
    with open(tmp_path / "sweep.csv") as f:
        theirs = [float(r["mean"]) for r in csv.DictReader(f)]
    assert list(df["mean"]) == theirs
    reps = medisim.sweep("admin_policy.alpha=0.5", seeds=[1, 2], horizon=20, replicates=True,
                         metrics=["fitness"])
    assert list(reps["seed"]) == [1, 2]
    with pytest.raises(ValueError, match="legal|must be"):
        medisim.sweep("admin_policy.alpha=3", seeds=[1], horizon=5)


def test_every_model_runs_and_sweeps_through_one_call(tmp_path):
    panel = medisim.run(model="panel", seeds=range(0, 6), params={"margin": 0.3})
    direct = medisim.panel(params={"margin": 0.3, "runs": 6})
    row = {r["metric"]: r for r in _records(panel)}
    assert row["provider_profit"]["mean"] == direct["result"]["provider_profit"]["mean"]
    df = medisim.sweep("gamma=0.2:0.6:3", model="contract", metrics=["expected_payment"])
    assert [round(x, 9) for x in df["mean"]] == [0.2, 0.4, 0.6]
    df = medisim.sweep("benchmark=30,40", model="ct-scanner", params="mu = 0.4",
                       metrics=["ct_rate"])
    assert len(df) == 2 and list(df["benchmark"]) == [30.0, 40.0]
    with pytest.raises(ValueError, match="the models are"):
        medisim.run(model="hospital")
    with pytest.raises(ValueError, match="belong to Medi-Sim"):
        medisim.sweep("margin=0,0.1", model="panel", scenario=medisim.Scenario.default())


def _records(df):
    return df.to_dict("records") if hasattr(df, "to_dict") else df


def test_the_other_models_are_one_call_each():
    eq = medisim.game("ct-scanner", benchmark=29.0)
    assert eq["investment"] == "invest" and eq["share_m"] == 1.0
    with pytest.raises(ValueError, match="`muu`"):
        medisim.game("ct-scanner", muu=0.5)
    chronic = medisim.game("chronic-care")
    assert chronic["first_best"] or chronic["second_best"]
    r = medisim.panel("runs = 5\n[payment]\nreward_rate = 0.5\npenalty_rate = 0.5\n")
    assert r["result"]["policy"]["No Retinopathy"] == "MM-0/SMT-0"
    with pytest.raises(ValueError, match="rewrd"):
        medisim.panel("[payment]\nrewrd = 1\n")
    # Keys set as the command line's --set: the cost of a complication reaches the model.
    cost = lambda c: medisim.panel(  # noqa: E731
        "runs = 5\n", params={"retinopathy.macular_edema_cost": c}
    )["result"]["complications_cost"]["mean"]
    assert cost(1000) < cost(100000)
    with pytest.raises(ValueError, match="margin"):
        medisim.panel(params={"margin": 2})
    by_index = medisim.game("imaging", params={"k[0]": 0.5})
    assert by_index == medisim.game("imaging", k__0=0.5)


def test_the_readme_cell_runs():
    # The README's five lines.
    df = medisim.run(seeds=range(1, 6), horizon=50)
    d = df.describe()
    assert "mean_waiting" in d.columns


def test_shards_filled_from_python_assemble_what_the_cli_writes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for k in (1, 2, 3):
        json.loads(medisim._native.fill_shard("l1", k, 3, str(a), [1, 2], 30, 3))
    stats = json.loads(medisim._native.assemble("l1", str(a), [1, 2], 30, 3))
    assert stats["computed"] == 0 and stats["reused"] == 9
    subprocess.run(
        [cli(), "l1", "--grid", "3", "--seeds", "1..2", "--horizon", "30", "--out", str(b)],
        check=True, capture_output=True,
    )
    assert (a / "l1.csv").read_bytes() == (b / "l1.csv").read_bytes()


def test_ray_tasks_fill_the_cache_and_match_one_process(tmp_path):
    ray = pytest.importorskip("ray")
    import medisim.ray as mray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        r = mray.map_cells("l1", out=tmp_path / "ray", shards=4, seeds=[1, 2], horizon=30, grid=3)
        # Without shared storage: the cells come back through the object store.
        r2 = mray.map_cells("l1", out=tmp_path / "ray2", shards=3, seeds=[1, 2], horizon=30,
                            grid=3, shared_storage=False)
        sets = ("margin=0.1,0.4", "retinopathy.macular_edema_cost=4000,6000")
        kw = dict(model="panel", seeds=range(0, 4), metrics=["total_cost"])
        swept = mray.map_sweep(*sets, out=tmp_path / "sweep", shards=2, shared_storage=False, **kw)
    finally:
        ray.shutdown()
    assert r["assembled"]["computed"] == 0 and r2["assembled"]["computed"] == 0
    assert sum(s["computed"] for s in r["shards"]) == 9
    assert (tmp_path / "ray2" / "l1.csv").read_bytes() == (tmp_path / "ray" / "l1.csv").read_bytes()
    assert list(swept["mean"]) == list(medisim.sweep(*sets, **kw)["mean"])
    assert len(list((tmp_path / "sweep" / "cells").iterdir())) == 16
    b = tmp_path / "one"
    subprocess.run(
        [cli(), "l1", "--grid", "3", "--seeds", "1..2", "--horizon", "30", "--out", str(b)],
        check=True, capture_output=True,
    )
    assert (tmp_path / "ray" / "l1.csv").read_bytes() == (b / "l1.csv").read_bytes()


def test_the_package_names_its_version_and_reaches_gym_from_import_medisim():
    assert medisim.__version__ not in ("", "unknown")
    assert all(hasattr(medisim, name) for name in medisim.__all__ if name != "gym")
    gym = pytest.importorskip("gymnasium")
    assert medisim.gym.HospitalEnv is not None
    env = gym.make("medisim/Hospital-v0", horizon=5, objective="mixed")
    obs, _ = env.reset(seed=1)
    assert len(obs) > 0


def test_the_gym_environment_passes_the_checker_and_returns_the_simulators_return():
    gym = pytest.importorskip("gymnasium")
    from gymnasium.utils.env_checker import check_env

    import medisim.gym as mgym

    env = mgym.HospitalEnv(horizon=30, objective="mixed")
    check_env(env, skip_render_check=True)
    env.action_space.seed(7)
    obs, _ = env.reset(seed=3)
    assert obs.shape == env.observation_space.shape
    s = medisim.Scenario.default()
    gamma = s["objective.discount"]
    total, t, done, info, actions, rewards = 0.0, 0, False, {}, [], []
    while not done:
        a = env.action_space.sample()
        obs, r, done, truncated, info = env.step(a)
        actions.append(a)
        rewards.append(r)
        total += gamma**t * r
        t += 1
    assert t == 30 and not truncated
    assert abs(total - info["discounted_return"]) <= 1e-9 * max(1.0, abs(total))
    # The same seed and actions replay the same episode.
    env.reset(seed=3)
    again = [env.step(a)[1] for a in actions]
    assert again == rewards
    with pytest.raises(ValueError, match="alpha"):
        env.reset(seed=1)
        env.step([2.0] + [0.0] * 10)


def test_l2_search_and_contracts_are_one_call_each(tmp_path):
    sweep = medisim.l2("audit", seeds=[1], horizon=20)
    assert set(sweep["lever"]) == {"audit"} and "regime" in sweep.columns
    with pytest.raises(ValueError, match="lever"):
        medisim.l2("nope")
    r = medisim.search(tmp_path / "s", objective="mixed", seed=0)
    methods = list(r.table["method"])
    assert "searched" in methods and "greedy_profit" in methods
    assert isinstance(r.best, medisim.Policy)
    written = medisim.check(tmp_path / "s" / "best.policy")
    assert isinstance(written, medisim.Policy)
    # The run directory's copy renames the header; the rules are the same.
    body = lambda text: [l for l in text.splitlines() if not l.startswith(("name =", "description ="))]
    assert body(written.format()) == body(r.best.format())
    c = medisim.contract()
    assert c["agree"] and len(c["payments"]) == 4
    with pytest.raises(ValueError, match="pi00"):
        medisim.contract(pi00=1.5)


def test_contract_takes_every_model_setting_the_command_line_takes():
    icp = medisim.contract()
    assert icp == medisim.contract(pi00=0.51, pi01=0.75, pi10=0.66, pi11=0.85, gamma=0.44)
    sqrt = medisim.contract("risk-averse")
    log1p = medisim.contract("risk-averse", utility="log1p")
    assert sqrt["payments"] != log1p["payments"]
    wrong = medisim.contract("misclassified", w0=0.1, w1=0.1)
    assert wrong != medisim.contract("misclassified")
    with pytest.raises(ValueError, match="free, nonnegative, misclassified, risk-averse"):
        medisim.contract("bogus")
    # The same member as `medisim contract` picks with the same flags.
    cli = subprocess.run(
        [os.environ.get("MEDISIM_BIN", "medisim"), "contract", "--model", "free",
         "--p11", "0.2", "--json"],
        capture_output=True, text=True, check=True,
    )
    assert json.loads(cli.stdout)["payments"] == medisim.contract("free", p11=0.2)["payments"]


def test_every_model_has_a_parameter_object_like_the_scenario(tmp_path):
    """medisim.Params is to the panel, the games and the contracts what Scenario is to
    Medi-Sim: keys by name, checked on every change, accepted by run and sweep."""
    p = medisim.Params("panel")
    assert p == medisim.Params.default("panel") and "payment.margin" in p.keys()
    # Set by the name `--set` takes (a flag's name or a dotted path), read by the dotted path.
    q = p.with_(margin=0.3, retinopathy__macular_edema_cost=5000)
    assert q["payment.margin"] == 0.3 and q["retinopathy.macular_edema_cost"] == 5000
    assert p["payment.margin"] != 0.3, "with_ returns a copy"
    with pytest.raises(ValueError, match="margin"):
        p.with_(margin=7)
    with pytest.raises(KeyError, match="nope"):
        p["nope"]
    # run takes the object as it takes the same values by key, and as the CLI takes the file.
    by_object = medisim.run(model="panel", params=q, seeds=[0, 1])
    by_key = medisim.run(
        model="panel",
        params={"margin": 0.3, "retinopathy.macular_edema_cost": 5000},
        seeds=[0, 1],
    )
    assert by_object.equals(by_key)
    f = tmp_path / "panel.toml"
    f.write_text(q.to_toml())
    assert medisim.Params.from_toml("panel", f) == q
    g = medisim.Params("imaging").with_(k__0=2.5)
    assert g["k"][0] == 2.5
    assert medisim.Params("contract").with_(gamma=0.3)["gamma"] == 0.3
    with pytest.raises(ValueError, match="medisim.Scenario"):
        medisim.Params("medisim")


def test_the_experiments_take_the_command_lines_policy_and_scenario(tmp_path):
    """validate, l1 and l2 take --policy and --scenario as the command line does."""
    world = medisim.Scenario.default().with_(care__nu=0.2)
    base = medisim.l1(grid=2, seeds=[1, 2], horizon=20)
    moved = medisim.l1(grid=2, seeds=[1, 2], horizon=20, scenario=world)
    assert not base["mean"].equals(moved["mean"])
    f = tmp_path / "world.toml"
    f.write_text(world.to_toml())
    out = tmp_path / "cli"
    subprocess.run(
        [os.environ.get("MEDISIM_BIN", "medisim"), "l1", "--grid", "2", "--seeds", "1..2",
         "--horizon", "20", "--scenario", str(f), "--out", str(out)],
        capture_output=True, text=True, check=True,
    )
    import pandas as pd
    cli = pd.read_csv(out / "l1.csv")
    mean = lambda df: df[df["metric"] == "upcoding_rate"]["mean"].round(12).tolist()
    assert sorted(mean(cli)) == sorted(mean(moved))
    facts = medisim.validate(seeds=[1, 2], horizon=30, policy="policies/baseline.policy")
    assert len(facts) == 9
    assert set(medisim.l2("flex_queue_steering", seeds=[1, 2], horizon=20, scenario=world)["lever"]) == {
        "flex_queue_steering"
    }


def test_the_panel_experiments_are_the_command_lines():
    """panel_experiments gives `medisim panel experiments --json`, and refuses what they set."""
    ours = medisim.panel_experiments(only=["e1"], params={"runs": 3})
    cli = json.loads(_cli_json("panel", "experiments", "--only", "E1", "--runs", "3", "--json"))
    assert ours == cli and ours[0]["id"] == "E1"
    with pytest.raises(ValueError, match="set the payment themselves"):
        medisim.panel_experiments(only=["E1"], params={"payment.basis": "gc"})
    with pytest.raises(ValueError, match="named twice"):
        medisim.panel_experiments(only=["E1", "e1"])


def test_panel_sweep_and_game_tables_are_the_command_lines():
    """panel_sweep gives `panel sweep --json`, game_tables `game --table --json`, and both
    refuse what the command line refuses."""
    ours = medisim.panel_sweep("margin=0.2,0.4", params={"runs": 3})
    cli = json.loads(_cli_json("panel", "sweep", "--vary", "margin=0.2,0.4", "--runs", "3",
                               "--json"))
    assert ours == cli and [p[0] for p in ours["series"][0]["points"]] == [0.2, 0.4]
    with pytest.raises(ValueError, match="sets `margin` at every point"):
        medisim.panel_sweep("margin=0.2,0.4", params={"margin": 0.3})
    tables = medisim.game_tables("ct-scanner", params={"k[0]": 1.5})
    assert tables == json.loads(
        _cli_json("game", "ct-scanner", "--table", "all", "--set", "k[0]=1.5", "--json")
    )
    assert [t["id"] for t in tables] == ["table-3.3", "table-3.4", "table-3.5"]
    assert medisim.game_tables("imaging", "4.2")[0]["id"] == "table-4.2"
    with pytest.raises(ValueError, match="sets `benchmark` itself"):
        medisim.game_tables("imaging", "4.4", params={"benchmark": 3000})
    with pytest.raises(ValueError, match="belongs to `medisim game ct-scanner`"):
        medisim.game_tables("imaging", "3.3")


def _cli_json(*args):
    out = subprocess.run(
        [os.environ.get("MEDISIM_BIN", "medisim"), *args], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_every_contract_action_is_the_command_lines(tmp_path):
    """icp, simulate, estimate and generate give what `medisim contract ACTION` gives."""
    assert medisim.contract(action="icp") == json.loads(_cli_json("contract", "icp", "--json"))
    sim = medisim.contract("free", p11=0.2, action="simulate", patients=500, seed=3)
    assert sim == json.loads(
        _cli_json("contract", "simulate", "--provider", "free", "--p11", "0.2",
                  "--patients", "500", "--seed", "3", "--json")
    )
    assert [c["policy"] for c in sim["cohorts"]] == ["best_response", "all_high", "all_low"]
    made = medisim.contract(action="generate", patients=800, seed=4)
    assert made["csv"] == _cli_json("contract", "generate", "--patients", "800", "--seed", "4")
    assert 0 < made["truth"]["gamma"] < 1
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(made["csv"])
    est = medisim.contract(action="estimate", data=cohort)
    assert est == json.loads(_cli_json("contract", "estimate", "--data", str(cohort), "--json"))
    assert est["contract"]["agree"] and est["estimate"]["matched_pairs"] > 0
    # What an action would ignore is refused by name, as on the command line.
    with pytest.raises(ValueError, match="`pi00` is not read by contract"):
        medisim.contract(action="icp", pi00=0.5)
    with pytest.raises(ValueError, match="`patients` is not read"):
        medisim.contract(patients=10)
    with pytest.raises(ValueError, match="needs data"):
        medisim.contract(action="estimate")
    with pytest.raises(ValueError, match="patients must be in \\[2"):
        medisim.contract(action="simulate", patients=1)
    with pytest.raises(ValueError, match="unknown contract action `solve`"):
        medisim.contract(action="solve")


def test_long_calls_report_progress_and_stop_at_ctrl_c():
    import _thread
    import threading
    import time

    medisim.l1(grid=2, seeds=[1, 2], horizon=20)
    done, total = medisim._native.progress()
    assert total == 4 and done == 4
    # Ctrl-C (simulated) during a call that takes seconds returns at once. A process started
    # in the background of a non-interactive shell inherits SIGINT ignored, and then
    # interrupt_main does nothing: install Python's own handler for the test, as an
    # interactive session has it.
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Timer(0.3, _thread.interrupt_main).start()
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            medisim.l1(grid=11, seeds=range(1, 61), horizon=400)
        assert time.monotonic() - start < 2.0
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_trace_has_a_row_per_seed_period_and_team_and_matches_the_cli(tmp_path):
    t = medisim.trace(seeds=[1, 2], horizon=10)
    teams = medisim.Scenario.default()["teams"]
    assert len(t) == 2 * 10 * teams
    assert set(t["period"]) == set(range(1, 11))
    path = tmp_path / "trace.csv"
    subprocess.run(
        [cli(), "run", "--seeds", "1,2", "--horizon", "10", "--trace", str(path)],
        check=True, capture_output=True,
    )
    import csv

    rows = list(csv.DictReader(path.open()))
    assert len(rows) == len(t)
    for col in ("period", "team", "treated"):
        assert [float(r[col]) for r in rows] == [float(x) for x in t[col]], col


def test_a_search_evaluated_by_ray_tasks_follows_the_local_search(tmp_path):
    ray = pytest.importorskip("ray")
    import medisim.ray as mray

    local = medisim.search(tmp_path / "local", objective="mixed", seed=1, iterations=40)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = mray.search(tmp_path / "ray", objective="mixed", seed=1, iterations=40)
    finally:
        ray.shutdown()
    assert remote.best.hash() == local.best.hash()
    assert remote.table.to_dict() == local.table.to_dict()


def test_shards_returned_through_the_object_store_assemble_the_straight_sweep(tmp_path):
    """What a Ray task does without shared storage, without Ray: each shard filled on its own
    node's disk and returned as files, written by the driver, then assembled from the cache."""
    from medisim import _sweep_shard
    from medisim.ray import _shard_files, _write_cells

    sets = ("margin=0.1,0.4", "retinopathy.macular_edema_cost=4000,6000")
    kw = dict(model="panel", seeds=range(0, 4), metrics=["total_cost", "provider_profit"])
    out = tmp_path / "out"
    for k in (1, 2):
        r = _shard_files(lambda o: _sweep_shard(sets, k, 2, o, **kw), None)
        assert r["stats"]["total"] == 16
        _write_cells(str(out), r["cells"])
    cells = sorted((out / "cells").iterdir())
    assert len(cells) == 16
    stamps = [c.stat().st_mtime_ns for c in cells]
    assembled = medisim.sweep(*sets, out=out, **kw)
    assert [c.stat().st_mtime_ns for c in cells] == stamps, "the assembly computed nothing"
    straight = medisim.sweep(*sets, **kw)
    assert list(assembled["mean"]) == list(straight["mean"]) and len(straight) == 8
    with pytest.raises(ValueError, match="named"):
        _write_cells(str(out), {"../evil.json": b"{}"})


def _agrees_with_heormodel(psa_csv, icer, curves, wtp):
    """Our incremental table and curves against heormodel's on the PSA in `psa_csv`: statuses
    exactly, ICERs, CEAC, CEAF, expected loss and EVPI to 1e-9 (relative)."""
    pytest.importorskip("heormodel")
    from heormodel.cea import icer_table, ceac, ceaf, expected_loss
    from heormodel.models import Outcomes
    from heormodel.voi import evpi
    import numpy as np
    import pandas as pd
    back = pd.read_csv(psa_csv)
    order = list(dict.fromkeys(back["strategy"]))
    outcomes = Outcomes.from_wide(
        back.pivot(index="draw", columns="strategy", values="cost")[order],
        back.pivot(index="draw", columns="strategy", values="effect")[order],
    )
    theirs = icer_table(outcomes)
    icer = icer.set_index("strategy")
    assert list(icer.index) == list(theirs.index)
    assert icer["status"].tolist() == theirs["status"].tolist()
    np.testing.assert_allclose(icer["icer"].astype(float), theirs["icer"], rtol=1e-9)
    wide = lambda col: curves.pivot(index="wtp", columns="strategy", values=col)[order]
    np.testing.assert_allclose(wide("acceptability"), ceac(outcomes, wtp), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(wide("expected_loss"), expected_loss(outcomes, wtp), rtol=1e-9, atol=1e-9)
    f = ceaf(outcomes, wtp)
    opt = curves[curves["optimal"]].set_index("wtp")
    assert opt["strategy"].tolist() == f["intervention"].tolist()
    np.testing.assert_allclose(opt["acceptability"], f["prob"], rtol=1e-9)
    np.testing.assert_allclose(opt["evpi"], evpi(outcomes, wtp), rtol=1e-9, atol=1e-9)
    return set(icer["status"])


def test_cost_effectiveness_analysis_agrees_with_heormodel(tmp_path):
    """`medisim cea` on a PSA matrix gives heormodel's ICER statuses exactly and its CEAC, CEAF,
    expected loss and EVPI to 1e-9 (relative); Python's `cea` gives the same."""
    pytest.importorskip("heormodel")
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(20261203)
    means = {"A": (0, 0.0), "B": (1000, 0.1), "C": (1500, 0.5), "D": (3000, 0.45), "E": (4000, 0.8)}
    draws = 400
    cost = pd.DataFrame({s: c + rng.normal(0, 300, draws) for s, (c, _) in means.items()})
    effect = pd.DataFrame({s: e + rng.normal(0, 0.1, draws) for s, (_, e) in means.items()})
    rows = [(d, s, cost[s][d], effect[s][d]) for d in range(draws) for s in means]
    psa = tmp_path / "psa.csv"
    pd.DataFrame(rows, columns=["draw", "strategy", "cost", "effect"]).to_csv(psa, index=False)
    wtp = np.linspace(0, 20000, 41)
    ours = json.loads(_cli_json("cea", "--psa", str(psa), "--wtp", "0:20000:41", "--json"))
    icer, curves = pd.DataFrame(ours["icer"]), pd.DataFrame(ours["curves"])
    assert _agrees_with_heormodel(psa, icer, curves, wtp) == {"ND", "D", "ED"}
    py = medisim.cea(psa, wtp="0:20000:41")
    assert py.icer["status"].tolist() == icer["status"].tolist()
    back = pd.read_csv(psa)
    assert medisim.cea(back, wtp=list(wtp)).curves["evpi"].tolist() == curves["evpi"].tolist()


def test_the_panel_psa_agrees_with_heormodel_and_python(tmp_path):
    """The PSA `medisim panel psa` writes (the kidney model, four payment arms, the provider
    re-optimising in each draw) analysed by heormodel gives our statuses and curves; Python's
    `panel_psa` gives the same rows."""
    pytest.importorskip("heormodel")
    import numpy as np
    import pandas as pd
    kidney = ROOT / "crates/medisim-panel/models/diabetic-kidney.toml"
    args = ["--disease", str(kidney), "--draws", "60", "--runs", "20", "--arms",
            "ffs,gc,ffs-sr,gc-sr", "--reward-rate", "0.5", "--penalty-rate", "0.5",
            "--reference", "3000", "--wtp", "0:100000:11"]
    out = tmp_path / "psa"
    _cli_json("panel", "psa", *args, "--out", str(out))
    icer, curves = pd.read_csv(out / "icer.csv"), pd.read_csv(out / "curves.csv")
    statuses = _agrees_with_heormodel(out / "psa.csv", icer, curves, np.linspace(0, 100000, 11))
    assert "ND" in statuses and len(icer) == 4
    py = medisim.panel_psa(kidney, draws=60, arms=["ffs", "gc", "ffs-sr", "gc-sr"],
                           wtp="0:100000:11",
                           params={"runs": 20, "reward-rate": 0.5, "penalty-rate": 0.5,
                                   "reference": 3000})
    cli = pd.read_csv(out / "psa.csv")
    assert py.psa["cost"].tolist() == cli["cost"].tolist()
    assert py.analysis.icer["status"].tolist() == icer["status"].tolist()


def test_evppi_agrees_with_heormodel(tmp_path):
    """`medisim cea --parameters --evppi` gives heormodel's spline-regression EVPPI (Strong,
    Oakley and Brennan 2014) for one parameter and for a group."""
    pytest.importorskip("heormodel")
    pytest.importorskip("sklearn")
    from heormodel.models import Outcomes
    from heormodel.voi import evppi
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(7)
    n = 600
    draws = pd.DataFrame({"u": rng.beta(20, 15, n), "c": rng.gamma(16, 500, n),
                          "noise": rng.normal(0, 1, n)}, index=pd.RangeIndex(n, name="draw"))
    cost = pd.DataFrame({"A": np.full(n, 1000.0), "B": draws["c"] + rng.normal(0, 200, n)})
    effect = pd.DataFrame({"A": np.full(n, 0.5), "B": draws["u"] + rng.normal(0, 0.02, n)})
    rows = [(d, s, cost[s][d], effect[s][d]) for d in range(n) for s in ("A", "B")]
    psa, params = tmp_path / "psa.csv", tmp_path / "params.csv"
    pd.DataFrame(rows, columns=["draw", "strategy", "cost", "effect"]).to_csv(psa, index=False)
    draws.to_csv(params)
    ours = json.loads(_cli_json("cea", "--psa", str(psa), "--parameters", str(params),
                                "--evppi", "u", "--evppi", "u,c", "--wtp", "20000,70000",
                                "--json"))
    back = pd.read_csv(psa)
    outcomes = Outcomes.from_wide(
        back.pivot(index="draw", columns="strategy", values="cost")[["A", "B"]].rename_axis("iteration"),
        back.pivot(index="draw", columns="strategy", values="effect")[["A", "B"]].rename_axis("iteration"),
    )
    x = pd.read_csv(params).set_index("draw").rename_axis("iteration")
    got = {(r["parameters"], r["wtp"]): r["evppi"] for r in ours["evppi"]}
    for group, cols in [("u", ["u"]), ("u,c", ["u", "c"])]:
        for w in (20000.0, 70000.0):
            theirs = evppi(outcomes, x, cols, w)
            assert got[(group, w)] == pytest.approx(theirs, rel=1e-9, abs=1e-9), (group, w)
    assert got[("u,c", 20000.0)] > 0


def test_a_payment_program_is_the_panels_policy():
    """The panel's policy is a payment program: the shipped fee-for-service program answers as
    the payment keys do, the blended one moves the fees, and a hospital program is refused."""
    programs = ROOT / "policies" / "panel"
    keys = medisim.run(model="panel", seeds=range(4))
    ffs = medisim.run(model="panel", seeds=range(4), policy=programs / "fee-for-service.policy")
    blended = medisim.run(model="panel", seeds=range(4), policy=programs / "blended.policy")
    fees = lambda t: t.loc[t["metric"] == "fees", "mean"].iloc[0]
    assert fees(keys) == fees(ffs)
    assert fees(blended) < fees(keys)
    with pytest.raises(ValueError, match="unknown policy kind"):
        medisim.run(model="panel", seeds=range(2), policy=ROOT / "policies" / "baseline.policy")


def test_a_payment_search_is_the_same_call_with_model_panel(tmp_path):
    """``search(model="panel")`` evolves payment programs for the net monetary benefit; its
    best program checks as a payment program and runs as the panel's policy; Medi-Sim's
    arguments are refused for it, and the panel's for Medi-Sim's."""
    r = medisim.search(tmp_path / "p", iterations=6, model="panel", wtp=20000, panel_runs=4)
    methods = list(r.table["method"])
    assert methods[:2] == ["searched", "best_warm_start"] and "capitation" in methods
    assert "net_monetary_benefit" in r.table.columns
    best = r.table.set_index("method")["net_monetary_benefit"]
    assert best["searched"] >= best["best_warm_start"]
    assert isinstance(r.best, medisim.Policy)
    medisim.run(model="panel", seeds=range(2), policy=r.best)
    with pytest.raises(ValueError, match="objective belongs to Medi-Sim"):
        medisim.search(tmp_path / "q", objective="profit", model="panel")
    with pytest.raises(ValueError, match="wtp belongs to the panel"):
        medisim.search(tmp_path / "r", wtp=1.0)


def test_payment_programs_are_psa_arms():
    """``panel_psa(programs=...)`` adds payment programs as arms named by their headers; the
    shipped fee-for-service program's rows are the ``ffs`` arm's, draw for draw."""
    kidney = ROOT / "crates/medisim-panel/models/diabetic-kidney.toml"
    programs = ROOT / "policies" / "panel"
    r = medisim.panel_psa(kidney, draws=4, arms=["ffs"], wtp="50000", params={"runs": 5},
                          programs=[programs / "fee-for-service.policy",
                                    (programs / "blended.policy").read_text()])
    psa = r.psa.pivot(index="draw", columns="strategy", values="cost")
    assert list(psa.columns.sort_values()) == ["blended", "fee-for-service", "ffs"]
    assert psa["ffs"].tolist() == psa["fee-for-service"].tolist()
    assert psa["ffs"].tolist() != psa["blended"].tolist()


def test_a_one_way_design_moves_one_key_at_a_time():
    """``sweep(design="oneway")``: the base point, then each key alone over its values."""
    t = medisim.sweep("margin=0.3,0.5", "outcomes.discount_costs=0,0.05", model="panel",
                      design="oneway", seeds=range(5), metrics=["discounted_cost"])
    pairs = list(zip(t["margin"], t["outcomes.discount_costs"]))
    assert pairs == [(0.4, 0.03), (0.3, 0.03), (0.5, 0.03), (0.4, 0.0), (0.4, 0.05)]
    assert t["mean"].iloc[3] > t["mean"].iloc[0] > t["mean"].iloc[4]
