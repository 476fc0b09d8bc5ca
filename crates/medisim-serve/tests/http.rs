//! The dashboard's server on loopback, driven over HTTP: the page's controls, the editor's
//! check, a run equal to `medisim run`'s numbers and answered from the cache when repeated,
//! progress as server-sent events, cancel, and every limit refused with its message.

mod common;

use common::{assert_paired, l1_cell, server, short_search};
use medisim_serve::runs::{MAX_RUNNING, MAX_SEED_PERIODS};
use serde_json::{json, Value};
use std::io::Read;
use std::time::{Duration, Instant};

/// (status, JSON body) of a POST, whatever the status.
fn post(url: &str, body: &str) -> (u16, Value) {
    let answer = match ureq::post(url)
        .set("content-type", "application/json")
        .send_string(body)
    {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = answer.status();
    let text = answer.into_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn get(url: &str) -> Value {
    ureq::get(url).call().unwrap().into_json().unwrap()
}

fn start(base: &str, request: Value) -> u64 {
    let (status, v) = post(&format!("{base}/api/run"), &request.to_string());
    assert_eq!(status, 202, "{v}");
    v["id"].as_u64().unwrap()
}

/// Each request is answered 400 with an error that says what it is paired with.
fn refused(url: &str, cases: &[(Value, &str)]) {
    for (request, says) in cases {
        let (status, v) = post(url, &request.to_string());
        assert_eq!(status, 400, "{request}: {v}");
        assert!(
            v["error"].as_str().unwrap().contains(says),
            "{request}: {v}"
        );
    }
}

/// Start work at `path` with `body` and wait for it to end done; its final state.
fn done(base: &str, path: &str, body: Value) -> Value {
    let (status, v) = post(&format!("{base}{path}"), &body.to_string());
    assert_eq!(status, 202, "{v}");
    let v = finish(base, v["id"].as_u64().unwrap());
    assert_eq!(v["state"], "done", "{v}");
    v
}

/// Poll a run until it is no longer running.
fn finish(base: &str, id: u64) -> Value {
    let t = Instant::now();
    loop {
        let v = get(&format!("{base}/api/runs/{id}"));
        if v["state"] != "running" {
            return v;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "run {id} did not end"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_page_shows_every_numeric_key_with_its_unit_range_and_meaning() {
    let (base, _out) = server();
    let html = ureq::get(&base).call().unwrap().into_string().unwrap();
    assert!(
        html.contains("name=\"arrivals.rate\" value=\"9\""),
        "the key with its value"
    );
    assert!(html.contains("patients / period") && html.contains("(0, 500]"));
    assert!(html.contains("mean arrivals per period"), "its meaning");
    assert!(html.contains("type=\"range\" min=\"0\" max=\"1\" step=\"0.05\" name=\"alpha\""));
    // The editor starts with the baseline policy; no script or style is fetched from anywhere.
    assert!(html.contains("kind = &quot;hospital_policy&quot;"));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
}

#[test]
fn the_editor_check_gives_each_diagnostic_at_its_line_and_column() {
    let (base, _out) = server();
    let good = medisim_sim::schema::BASELINE_SOURCE;
    let (status, v) = post(&format!("{base}/api/check"), good);
    assert_eq!((status, v["ok"].clone()), (200, json!(true)), "{v}");
    // The baseline's effort rule with a misspelt feature: the error is where the name is.
    let bad = good.replacen(
        "effort = base_effort + effort_quality_pressure",
        "effort = base_effort + effort_qualty_pressure",
        1,
    );
    assert_ne!(bad, good);
    let at = bad.find("effort_qualty_pressure").unwrap();
    let line = bad[..at].lines().count() + usize::from(bad[..at].ends_with('\n'));
    let column = at - bad[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    let (_, v) = post(&format!("{base}/api/check"), &bad);
    assert_eq!(v["ok"], json!(false));
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["severity"] == "error")
        .expect("an error");
    assert_eq!(
        (d["line"].clone(), d["column"].clone()),
        (json!(line), json!(column)),
        "{d}"
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("effort_qualty_pressure"),
        "{d}"
    );
}

#[test]
fn a_run_equals_medisim_run_and_a_repeat_is_read_from_the_cache() {
    let (base, out) = server();
    let request =
        json!({"seeds": "1..4", "horizon": 40, "set": {"alpha": 0.8, "arrivals.rate": 8}});
    let v = finish(&base, start(&base, request.clone()));
    assert_eq!(v["state"], "done", "{v}");
    let r = &v["result"];
    // What `medisim run --seeds 1..4 --horizon 40 --alpha 0.8 --set arrivals.rate=8 --json`
    // prints as its metrics (the command computes exactly this).
    assert_eq!(
        r["command"],
        "medisim run --seeds 1..4 --horizon 40 --alpha 0.8 --set arrivals.rate=8 --json"
    );
    let scenario = medisim_sim::Scenario::default()
        .with_value("arrivals.rate", 8.0)
        .unwrap();
    let mut policy = medisim_sim::baseline().clone();
    policy.fix(medisim_sim::Field::Alpha, 0.8);
    let spec = medisim_sim::run_spec(vec![1, 2, 3, 4], 40, medisim_sim::ObjectiveKind::Mixed);
    let cli = medisim_sim::run_seeds(&scenario, &policy, &spec, false).unwrap();
    assert_eq!(
        r["metrics"],
        serde_json::to_value(cli.summary.reported(true)).unwrap()
    );
    // The trajectories come from the periods' own records: the treated series averaged over
    // the periods is the run's throughput, which the simulator's accumulator counts apart.
    let t = &r["trajectories"];
    assert_eq!(
        (t["seeds"].clone(), t["periods"].clone()),
        (json!(4), json!(40))
    );
    let treated = t["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "treated")
        .unwrap();
    let per_period: Vec<f64> = treated["mean"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let throughput = per_period.iter().sum::<f64>() / per_period.len() as f64;
    assert!(
        (throughput - cli.mean(medisim_sim::Metric::Throughput)).abs() < 1e-9,
        "{throughput} against {}",
        cli.mean(medisim_sim::Metric::Throughput)
    );
    assert_eq!(
        (r["cells_computed"].clone(), r["cells_reused"].clone()),
        (json!(4), json!(0))
    );
    assert_eq!(
        std::fs::read_dir(out.path().join("cells")).unwrap().count(),
        4
    );
    // The same setting again: every seed from the cache, the same numbers.
    let again = finish(&base, start(&base, request));
    assert_eq!(again["result"]["metrics"], r["metrics"]);
    assert_eq!(
        (
            again["result"]["cells_computed"].clone(),
            again["result"]["cells_reused"].clone()
        ),
        (json!(0), json!(4))
    );
}

#[test]
fn progress_streams_as_events_and_a_cancelled_run_stops() {
    let (base, _out) = server();
    // About a million seed-periods: long enough to watch and to cancel.
    let id = start(&base, json!({"seeds": "1..1000", "horizon": 1000}));
    let t = Instant::now();
    while get(&format!("{base}/api/runs/{id}"))["done"].as_u64() == Some(0) {
        assert!(t.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(10));
    }
    let (status, _) = post(&format!("{base}/api/runs/{id}/cancel"), "");
    assert_eq!(status, 202);
    let v = finish(&base, id);
    assert_eq!(v["state"], "cancelled", "{v}");
    assert!(v["done"].as_u64().unwrap() < 1000, "{v}");
    // A short run's event stream: progress while it runs, then its end, and it closes.
    let id = start(&base, json!({"seeds": "1..40", "horizon": 100}));
    let mut text = String::new();
    ureq::get(&format!("{base}/api/runs/{id}/events"))
        .call()
        .unwrap()
        .into_reader()
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.contains("event: end"), "{text}");
    let end = text.rsplit("data: ").next().unwrap();
    let end: Value = serde_json::from_str(end.trim()).unwrap();
    assert_eq!(
        (end["state"].clone(), end["done"].clone()),
        (json!("done"), json!(40))
    );
}

#[test]
fn every_limit_is_refused_with_its_message() {
    let (base, _out) = server();
    let run = format!("{base}/api/run");
    refused(
        &run,
        &[
            (
                json!({"set": {"arrivals.rat": 8}}),
                "`arrivals.rat`: is not a scenario key",
            ),
            (
                json!({"set": {"arrivals.rate": -1}}),
                "must be in (0, 500], got -1",
            ),
            (json!({"set": {"kappa": 3}}), "`kappa` is a policy field"),
            (json!({"sed": 1}), "unknown field `sed`"),
            (
                json!({"seeds": "1..5000", "horizon": 1000}),
                &format!("at most {MAX_SEED_PERIODS}"),
            ),
            (json!({"seeds": "1..0"}), "seed"),
            (
                json!({"policy": "policy \"x\"\n"}),
                "the policy does not check: line 1, column 1",
            ),
        ],
    );
    // Work starts only from a JSON request (another site's page cannot send one unasked).
    let plain = ureq::post(&run).send_string("{}").unwrap_err();
    let plain = plain.into_response().unwrap();
    assert_eq!(plain.status(), 400);
    assert!(plain
        .into_string()
        .unwrap()
        .contains("content-type: application/json"));
    let (status, _) = post(&run, &"x".repeat(medisim_serve::MAX_BODY + 1));
    assert_eq!(status, 413);
    assert_eq!(
        ureq::get(&format!("{base}/api/runs/99"))
            .call()
            .unwrap_err()
            .into_response()
            .unwrap()
            .status(),
        404
    );
    // Two long runs going: a third is refused until one ends.
    let long = json!({"seeds": "1..1000", "horizon": 1000});
    let ids: Vec<u64> = (0..MAX_RUNNING)
        .map(|_| start(&base, long.clone()))
        .collect();
    let (status, v) = post(&run, &long.to_string());
    assert_eq!(status, 429, "{v}");
    assert!(v["error"].as_str().unwrap().contains("cancel"), "{v}");
    for id in &ids {
        post(&format!("{base}/api/runs/{id}/cancel"), "");
        finish(&base, *id);
    }
    start(&base, json!({"seeds": "1..2", "horizon": 10}));
}

#[test]
fn the_l1_grid_runs_through_the_cache_and_every_cell_is_there_to_open() {
    let (base, out) = server();
    let v = done(
        &base,
        "/api/l1",
        json!({"grid": 3, "seeds": "1..3", "horizon": 30}),
    );
    let r = &v["result"];
    assert_eq!(
        r["command"],
        "medisim l1 --grid 3 --seeds 1..3 --horizon 30"
    );
    assert_eq!(r["cells"].as_object().unwrap().len(), 9);
    // The same cells `medisim l1` computes (read back from the cache the run filled).
    let (cell, stats) = l1_cell(out.path());
    assert_eq!(stats, (0, 9));
    assert_eq!(
        r["cells"]["0.5,1"],
        serde_json::to_value(cell.summary.reported(true)).unwrap()
    );
    // Every map's cells carry their coordinates, so a click opens the cell.
    let panel = r["figures"][0]["panels"][0][1].as_str().unwrap();
    assert!(
        panel.contains("<rect class=\"cell\" data-x=\"0.5\" data-y=\"1\""),
        "{panel}"
    );
    // The grid's limits.
    refused(
        &format!("{base}/api/l1"),
        &[
            (json!({"grid": 1}), "2 to 11 points"),
            (json!({"grid": 12}), "2 to 11 points"),
            (json!({"grid": 11, "seeds": "1..100"}), "seed-periods"),
            (json!({"grids": 3}), "unknown field `grids`"),
        ],
    );
}

/// Many clients at once: every page and check answered, and of a burst of long runs exactly the
/// allowed number started, the rest refused with 429 — none lost, none hung.
#[test]
fn under_many_concurrent_requests_every_one_is_answered_and_over_limit_runs_are_refused() {
    let (base, _out) = server();
    let clients = 16;
    let per_client = 25;
    let answered: Vec<Vec<u16>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let base = base.clone();
                s.spawn(move || {
                    (0..per_client)
                        .map(|i| {
                            if (c + i) % 2 == 0 {
                                ureq::get(&base).call().unwrap().status()
                            } else {
                                post(
                                    &format!("{base}/api/check"),
                                    medisim_sim::schema::BASELINE_SOURCE,
                                )
                                .0
                            }
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<u16> = answered.into_iter().flatten().collect();
    assert_eq!(all.len(), clients * per_client);
    assert!(all.iter().all(|s| *s == 200), "{all:?}");
    // A burst of long runs from every client at once.
    let long = json!({"seeds": "1..1000", "horizon": 1000}).to_string();
    let statuses: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| s.spawn(|| post(&format!("{base}/api/run"), &long)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let started: Vec<u64> = statuses
        .iter()
        .filter(|(s, _)| *s == 202)
        .map(|(_, v)| v["id"].as_u64().unwrap())
        .collect();
    assert_eq!(started.len(), MAX_RUNNING, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|(s, _)| *s == 429).count(),
        clients - MAX_RUNNING
    );
    for id in started {
        post(&format!("{base}/api/runs/{id}/cancel"), "");
        assert_eq!(finish(&base, id)["state"], "cancelled");
    }
}

#[test]
fn a_paired_comparison_gives_each_metrics_paired_difference_and_shows_it_as_seeds_come_in() {
    let (base, _out) = server();
    let url = format!("{base}/api/compare");
    let side = |alpha: f64| json!({"seeds": "1..6", "horizon": 40, "set": {"alpha": alpha}});
    let v = done(
        &base,
        "/api/compare",
        json!({"a": side(0.2), "b": side(0.8)}),
    );
    let r = &v["result"];
    // What `medisim run` gives each side, and the per-seed differences of the two runs.
    let spec = medisim_sim::run_spec((1..=6).collect(), 40, medisim_sim::ObjectiveKind::Mixed);
    let run = |alpha| {
        let mut p = medisim_sim::baseline().clone();
        p.fix(medisim_sim::Field::Alpha, alpha);
        medisim_sim::run_seeds(&medisim_sim::Scenario::default(), &p, &spec, false).unwrap()
    };
    let (a, b) = (run(0.2), run(0.8));
    assert_paired(r, &a, &b, medisim_sim::Metric::UpcodingRate);
    assert!(
        r["differences"]["upcoding_rate"]["ci95"][0]
            .as_f64()
            .unwrap()
            > 0.0
    );
    // Different seeds are not a paired comparison.
    let other = json!({"seeds": "2..7", "horizon": 40});
    let (status, v) = post(&url, &json!({"a": side(0.2), "b": other}).to_string());
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("same seeds"), "{v}");
    // A long comparison shows its differences so far while it runs.
    let long = json!({"seeds": "1..400", "horizon": 1000});
    let (_, v) = post(&url, &json!({"a": long, "b": long}).to_string());
    let id = v["id"].as_u64().unwrap();
    let t = Instant::now();
    let seen = loop {
        let s = get(&format!("{base}/api/runs/{id}"));
        if s["partial"]["pairs"].as_u64().unwrap_or(0) > 0 || s["state"] != "running" {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(seen["state"], "running", "{seen}");
    // Two identical settings on common random numbers differ by exactly nothing.
    assert_eq!(
        seen["partial"]["differences"]["upcoding_rate"]["mean"],
        json!(0.0)
    );
    post(&format!("{base}/api/runs/{id}/cancel"), "");
    assert_eq!(finish(&base, id)["state"], "cancelled");
}

#[test]
fn the_findings_are_the_reports_facts_and_claims_from_the_same_cells() {
    use medisim_core::progress::Hidden;
    use medisim_experiments::{cells::run_cells, claims, l1, l2};
    let (base, out) = server();
    let v = done(
        &base,
        "/api/findings",
        json!({"grid": 3, "seeds": "1..3", "horizon": 30}),
    );
    let r = &v["result"];
    assert_eq!(
        r["command"],
        "medisim reproduce --no-search --grid 3 --seeds 1..3 --horizon 30"
    );
    // What `medisim reproduce` computes from the same cells, read back from the cache.
    let o = medisim_experiments::Options {
        seeds: vec![1, 2, 3],
        horizon: 30,
        grid: 3,
        ..medisim_experiments::Options::paper()
    };
    let (facts, stats) = medisim_experiments::validate(&o, Some(out.path()), &Hidden).unwrap();
    assert_eq!(stats.computed, 0);
    assert_eq!(r["facts"], serde_json::to_value(&facts).unwrap());
    let l1_specs = l1::specs(&o.scenario, &o.policy, &l1::grid(3), &o.seeds, o.horizon);
    let l2_specs = l2::specs(&o.levers, &o.scenario, &o.policy, &o.seeds, o.horizon);
    let (l1_cells, s1) = run_cells(&l1_specs, Some(out.path()), &Hidden).unwrap();
    let (l2_cells, s2) = run_cells(&l2_specs, Some(out.path()), &Hidden).unwrap();
    assert_eq!((s1.computed, s2.computed), (0, 0));
    let verdicts = claims::verdicts(
        &claims::paper(),
        &claims::Run {
            l1: &l1_cells,
            l2: &l2_cells,
        },
        &claims::Rule::REPORT,
    );
    assert_eq!(r["tally"], claims::tally_text(&verdicts));
    let shown = r["claims"].as_array().unwrap();
    assert_eq!(shown.len(), verdicts.len());
    for (s, v) in shown.iter().zip(&verdicts) {
        assert_eq!(s["id"], v.id);
        assert_eq!(s["ours"], v.ours);
        assert_eq!(s["outcome"], v.outcome.text());
    }
    // One figure per lever, drawn (nothing written under --out but cells).
    assert_eq!(r["figures"].as_array().unwrap().len(), o.levers.len());
    assert!(!out.path().join("l2.csv").exists());
    // The findings' limits: intervals need two seeds, the work is bounded.
    refused(
        &format!("{base}/api/findings"),
        &[
            (json!({"seeds": "1"}), "at least two"),
            (json!({"grid": 11, "seeds": "1..100"}), "seed-periods"),
        ],
    );
    // The paper's own setting fits: facts, 11 × 11 grid and sweeps at 30 seeds.
    let paper = medisim_serve::runs::GridRequest::default();
    assert!(paper.findings().is_ok(), "{:?}", paper.findings().err());
}

#[test]
fn moving_one_lever_gives_every_channels_paired_change_and_the_sweep_that_makes_both_sides() {
    let (base, _out) = server();
    let url = format!("{base}/api/displacement");
    // An administrator's lever (a policy field) at the balanced cell.
    let request = json!({"lever": "bonus_pool", "from": 0, "to": 15,
        "base": {"set": {"alpha": 0.5, "beta": 0.5}, "seeds": "1..4", "horizon": 40}});
    let v = done(&base, "/api/displacement", request);
    let r = &v["result"];
    assert_eq!(
        r["command"],
        "medisim sweep --set bonus_pool=0,15 --set alpha=0.5 --set beta=0.5 --seeds 1..4 --horizon 40"
    );
    let spec = medisim_sim::run_spec((1..=4).collect(), 40, medisim_sim::ObjectiveKind::Mixed);
    let run = |pool: f64| {
        let mut p = medisim_sim::baseline().clone();
        p.fix(medisim_sim::Field::Alpha, 0.5);
        p.fix(medisim_sim::Field::Beta, 0.5);
        p.fix(medisim_sim::Field::BonusPool, pool);
        medisim_sim::run_seeds(&medisim_sim::Scenario::default(), &p, &spec, false).unwrap()
    };
    let (a, b) = (run(0.0), run(15.0));
    assert_paired(r, &a, &b, medisim_sim::Metric::StrategicDelayGap);
    assert_eq!(
        (r["lever"].clone(), r["from"].clone(), r["to"].clone()),
        (json!("bonus_pool"), json!(0.0), json!(15.0))
    );
    // Each side's `medisim run` line would miss the lever: only the sweep is given.
    assert!(r["a"].get("command").is_none() && r["b"].get("command").is_none());
    // α itself as the lever, the regime's β kept.
    let request = json!({"lever": "alpha", "from": 0.2, "to": 0.8,
        "base": {"set": {"beta": 0.2}, "seeds": "1..3", "horizon": 30}});
    let v = done(&base, "/api/displacement", request);
    assert!(
        v["result"]["differences"]["upcoding_rate"]["mean"]
            .as_f64()
            .unwrap()
            > 0.0,
        "{v}"
    );
    refused(
        &url,
        &[
            (json!({"lever": "nope", "from": 0, "to": 1}), "`nope`"),
            (
                json!({"lever": "audit.base_prob", "from": 0, "to": 2}),
                "must be in [0, 1], got 2",
            ),
            (
                json!({"lever": "alpha", "from": 0, "to": 1, "base": {"set": {"alpha": 0.5}}}),
                "is the lever",
            ),
            (
                json!({"lever": "alpha", "from": 0, "to": 1, "base": {"seeds": "1..5000", "horizon": 1000}}),
                "seed-periods",
            ),
            (json!({"from": 0, "to": 1}), "missing field `lever`"),
        ],
    );
}

#[test]
fn a_searchs_run_directory_is_read_from_under_the_output_directory_only() {
    let (base, out) = server();
    let dir = out.path().join("runs/s1");
    let o = short_search(&dir);
    assert_eq!(
        get(&format!("{base}/api/searches")),
        json!({"runs": ["runs/s1"]})
    );
    let (status, v) = post(
        &format!("{base}/api/search"),
        &json!({"dir": "runs/s1"}).to_string(),
    );
    assert_eq!(status, 200, "{v}");
    let direct = medisim_search::monitor::view(&dir).unwrap();
    assert_eq!(v, serde_json::to_value(&direct).unwrap());
    assert_eq!(
        v["bests"].as_array().unwrap().last().unwrap()["hash"],
        json!(o.best.hash)
    );
    // The finished search's reward-hacking monitor, as the search found it.
    let flagged = o.reward_hacking.iter().filter(|c| !c.flags.is_empty());
    assert_eq!(v["reward_hacking"]["gains_checked"], o.reward_hacking.len());
    assert_eq!(
        v["reward_hacking"]["flagged_children"],
        serde_json::to_value(flagged.collect::<Vec<_>>()).unwrap()
    );
    let (status, p) = post(
        &format!("{base}/api/search/program"),
        &json!({"dir": "runs/s1", "hash": o.best.hash}).to_string(),
    );
    assert_eq!(status, 200, "{p}");
    assert_eq!(
        medisim_sim::load(p["text"].as_str().unwrap())
            .unwrap()
            .canonical_hash(),
        o.best.policy.canonical_hash()
    );
    // Outside the output directory, or not a run: refused, naming why.
    std::os::unix::fs::symlink("/tmp", out.path().join("away")).unwrap();
    let linked = out.path().join("runs/linked");
    std::fs::create_dir_all(&linked).unwrap();
    std::os::unix::fs::symlink(dir.join("search.sqlite"), linked.join("search.sqlite")).unwrap();
    refused(
        &format!("{base}/api/search"),
        &[
            (json!({"dir": "../x"}), "without `..`"),
            (json!({"dir": "/etc"}), "without `..`"),
            (json!({"dir": ""}), "without `..`"),
            (json!({"dir": "away"}), "outside the output directory"),
            (json!({"dir": "runs/linked"}), "is a link"),
            (json!({"dir": "cells"}), "not a search's run directory"),
            (json!({"dir": "runs"}), "not a search's run directory"),
            (
                json!({"dir": "runs/s1", "path": "x"}),
                "unknown field `path`",
            ),
        ],
    );
    refused(
        &format!("{base}/api/search/program"),
        &[
            (json!({"dir": "runs/s1", "hash": "nope"}), "no program nope"),
            (json!({"dir": "runs/s1"}), "names a `hash`"),
        ],
    );
}

/// A search started from the page runs as `medisim search` runs it, into a new directory the
/// page can watch; Cancel stops it where `--resume` continues; bad requests are refused.
#[test]
fn a_search_started_from_the_page_is_the_command_lines_and_stops_on_cancel() {
    let (base, out) = server();
    let v = done(
        &base,
        "/api/search/start",
        json!({"name": "s1", "objective": "profit", "iterations": 30}),
    );
    let c = medisim_search::SearchConfig {
        objective: medisim_sim::ObjectiveKind::Profit,
        iterations: 30,
        ..medisim_search::SearchConfig::default()
    };
    let own = tempfile::tempdir().unwrap();
    let pb = medisim_core::progress::Hidden;
    let o = medisim_search::run_search(
        &c,
        &medisim_sim::Scenario::default(),
        own.path(),
        false,
        None,
        &pb,
    )
    .unwrap();
    assert_eq!(v["result"]["best"], json!(o.best.hash), "{v}");
    assert_eq!(
        v["result"]["command"],
        "medisim search --objective profit --iterations 30 --out OUT/s1"
    );
    let watched = medisim_search::monitor::view(&out.path().join("s1")).unwrap();
    assert!(watched.finished);
    assert_eq!(watched.archive, o.archive);

    // Cancelled at once: it stops early, with no result (`search_runs` shows a cancelled search
    // resuming to the whole one).
    let (status, started) = post(
        &format!("{base}/api/search/start"),
        &json!({"name": "s2", "iterations": 2000}).to_string(),
    );
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_u64().unwrap();
    post(&format!("{base}/api/runs/{id}/cancel"), "");
    assert_eq!(finish(&base, id)["state"], "cancelled");
    assert!(!out.path().join("s2/result.json").exists());

    refused(
        &format!("{base}/api/search/start"),
        &[
            (json!({"name": "s1"}), "`s1` exists"),
            (json!({"name": "../x"}), "1 to 64 letters"),
            (json!({"name": "a/b"}), "1 to 64 letters"),
            (json!({"name": ""}), "1 to 64 letters"),
            (json!({"name": "cells"}), "1 to 64 letters"),
            (json!({"name": "s3", "iterations": 0}), "outside [1, 2000]"),
            (
                json!({"name": "s3", "iterations": 2001}),
                "outside [1, 2000]",
            ),
            (json!({"name": "s3", "objective": "fame"}), "objective"),
            (
                json!({"name": "s3", "islands": 9}),
                "unknown field `islands`",
            ),
        ],
    );
}

/// One parameter of another model swept from the page is `medisim sweep --model`'s sweep (the
/// contract's `t` over [0, 1]: its payment terms along the optimal segment); bad sweeps are
/// refused.
#[test]
fn a_parameter_swept_from_the_page_is_medisim_sweeps_table() {
    use medisim_experiments::house::{self, Inputs, SweepRequest};
    let (base, _out) = server();
    let r = done(
        &base,
        "/api/model/run",
        json!({"model": "contract", "sweep": {"key": "t", "from": 0, "to": 1, "points": 5}}),
    )["result"]
        .clone();
    let request = SweepRequest {
        sets: vec!["t=0:1:5".into()],
        design: medisim_experiments::sweep::SweepDesign::Grid,
        design_seed: 1,
        metrics: Vec::new(),
        replicates: false,
    };
    let hidden = medisim_core::progress::Hidden;
    let own = house::sweep_of(
        &medisim_experiments::house::hosted::Contract,
        &Inputs::default(),
        &request,
        None,
        &hidden,
    )
    .unwrap();
    assert_eq!(r["sweep"]["tidy"], own.tidy.to_json().unwrap());
    assert_eq!(r["sweep"]["points"], 5);
    assert_eq!(r["command"], "medisim sweep --model contract --set t=0:1:5");
    let panels = r["sweep"]["figure"]["panels"].as_array().unwrap();
    assert!(panels
        .iter()
        .all(|p| p[1].as_str().unwrap().starts_with("<svg")));
    refused(
        &format!("{base}/api/model/run"),
        &[
            (
                json!({"model": "contract", "sweep": {"key": "t", "from": 0, "to": 1, "points": 1}}),
                "2 to 11 points",
            ),
            (
                json!({"model": "contract", "sweep": {"key": "t", "from": 0, "to": 1, "points": 12}}),
                "2 to 11 points",
            ),
            (
                json!({"model": "contract", "sweep": {"key": "t", "from": 1, "to": 1, "points": 3}}),
                "two different finite values",
            ),
            (
                json!({"model": "contract", "set": {"t": 0.5}, "sweep": {"key": "t", "from": 0, "to": 1, "points": 3}}),
                "both set and swept",
            ),
            (
                json!({"model": "contract", "sweep": {"key": "nope", "from": 0, "to": 1, "points": 3}}),
                "nope",
            ),
            (
                json!({"model": "contract", "sweep": {"key": "t", "from": 0, "to": 2, "points": 3}}),
                "t=2",
            ),
        ],
    );
}

/// The panel with a payment program and a disease model given as text is `medisim run --model
/// panel --policy FILE --disease FILE`; a program that does not check is refused at its line.
#[test]
fn the_panel_runs_a_payment_program_and_a_disease_model_given_on_the_page() {
    use medisim_experiments::house::{self, Inputs, Text};
    let (base, _out) = server();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let program = std::fs::read_to_string(root.join("policies/panel/capitation.policy")).unwrap();
    let disease =
        std::fs::read_to_string(root.join("crates/medisim-panel/models/diabetic-kidney.toml"))
            .unwrap();
    let r = done(
        &base,
        "/api/model/run",
        json!({"model": "panel", "seeds": "0..3", "program": program, "disease": disease}),
    )["result"]
        .clone();
    let inputs = Inputs {
        seeds: Some(vec![0, 1, 2, 3]),
        program: Some(Text {
            text: program.clone(),
            origin: "program.policy".into(),
        }),
        disease: Some(Text {
            text: disease.clone(),
            origin: "disease.toml".into(),
        }),
        ..Inputs::default()
    };
    let own = house::run_in(
        &medisim_experiments::house::hosted::Panel,
        &inputs,
        None,
        &medisim_core::progress::Hidden,
    )
    .unwrap();
    assert_eq!(r["metrics"], own.table.to_json().unwrap());
    assert_eq!(
        r["command"],
        "medisim run --model panel --seeds 0..3 --policy program.policy --disease disease.toml"
    );
    // Without them the panel runs otherwise: the texts were read.
    let plain = done(
        &base,
        "/api/model/run",
        json!({"model": "panel", "seeds": "0..3"}),
    )["result"]
        .clone();
    assert_ne!(plain["metrics"], r["metrics"]);
    let broken = program.replace("scheduled_capitation", "scheduled_capitatoin");
    let line = broken
        .lines()
        .position(|l| l.contains("scheduled_capitatoin"))
        .unwrap()
        + 1;
    refused(
        &format!("{base}/api/model/run"),
        &[
            (
                json!({"model": "panel", "program": broken}),
                &format!("program.policy:{line}:"),
            ),
            (json!({"model": "contract", "program": program}), "--policy"),
            (
                json!({"model": "panel", "disease": "states = 3"}),
                "disease.toml",
            ),
        ],
    );
}

/// Every page is whole in itself: no script, style, image or link that would fetch from
/// anywhere but this server (the "no request leaves the machine").
#[test]
fn no_page_asks_anything_of_another_machine() {
    let (base, _out) = server();
    for path in [
        "/",
        "/l1",
        "/compare",
        "/displacement",
        "/findings",
        "/search",
        "/models",
    ] {
        let html = ureq::get(&format!("{base}{path}"))
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        assert!(html.len() > 1000, "{path}");
        for outside in [
            "http://",
            "https://",
            "src=\"//",
            "href=\"//",
            "url(//",
            "<script src",
            "@import",
        ] {
            assert!(!html.contains(outside), "{path} holds `{outside}`");
        }
    }
}

/// The other models run as `medisim run --model NAME` runs them: the same metrics for the same
/// settings, grouped as the model groups them, every bad request refused with its reason.
#[test]
fn the_other_models_run_as_medisim_run_model_runs_them() {
    use medisim_experiments::house::{self, Inputs};
    let (base, _out) = server();
    let catalogue = get(&format!("{base}/api/models"));
    let names: Vec<&str> = catalogue["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["panel", "contract", "ct-scanner", "imaging", "chronic-care"]
    );
    // Every parameter the page offers can be set, to its own value at least, and shows its
    // unit and meaning; no model documents a key it does not have.
    for m in catalogue["models"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let params = m["parameters"].as_array().unwrap();
        for p in params {
            assert!(
                !p[2].as_str().unwrap().is_empty() && !p[3].as_str().unwrap().is_empty(),
                "{name}: {p} has no unit or meaning"
            );
        }
        let docs = medisim_experiments::with_model!(name, |m| Ok::<_, anyhow::Error>(
            medisim_core::Model::key_docs(m)
        ))
        .unwrap();
        for d in docs {
            let offered = params.iter().any(|p| {
                let k = p[0].as_str().unwrap();
                k.split('[').next() == Some(d.key)
            });
            let readable =
                medisim_experiments::with_model!(name, |m| house::setting(m, &Inputs::default())
                    .and_then(|base| {
                        medisim_core::Model::value(m, &base.scenario, &base.policy, d.key)
                            .map_err(anyhow::Error::msg)
                    }))
                .is_ok();
            assert!(
                offered || readable,
                "{name} documents `{}`, not a key of it",
                d.key
            );
        }
        for p in params {
            let inputs = Inputs {
                sets: vec![format!("{}={}", p[0].as_str().unwrap(), p[1])],
                ..Inputs::default()
            };
            medisim_experiments::with_model!(name, |m| house::setting(m, &inputs).map(|_| ()))
                .unwrap_or_else(|e| panic!("{name} {p}: {e}"));
        }
    }
    let panel = &catalogue["models"][0];
    let groups: std::collections::BTreeSet<&str> = panel["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["group"].as_str().unwrap())
        .collect();
    assert_eq!(
        groups.into_iter().collect::<Vec<_>>(),
        ["health outcomes", "payer", "provider"]
    );
    let margin = panel["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .find(|k| k.ends_with("margin"))
        .unwrap_or_else(|| panic!("{}", panel["parameters"]))
        .to_string();
    // A stochastic model with a parameter moved and its seeds; a deterministic one as it is.
    for (model, set, seeds) in [
        ("panel", vec![(margin.clone(), 0.25)], Some("0..4")),
        ("contract", vec![], None),
    ] {
        let body = json!({
            "model": model,
            "set": set.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "seeds": seeds,
        });
        let r = done(&base, "/api/model/run", body)["result"].clone();
        let inputs = Inputs {
            seeds: seeds.map(|s| medisim_core::spec::parse_seeds(s).unwrap()),
            sets: set.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            ..Inputs::default()
        };
        let library =
            medisim_experiments::with_model!(model, |m| house::run_of(m, &inputs)).unwrap();
        assert_eq!(r["metrics"], library.table.to_json().unwrap(), "{model}");
        assert_eq!(r["model_version"], library.model_version);
        let mut command = format!("medisim run --model {model}");
        for (k, v) in &set {
            command.push_str(&format!(" --set {k}={v}"));
        }
        if let Some(s) = seeds {
            command.push_str(&format!(" --seeds {s}"));
        }
        assert_eq!(r["command"], command);
    }
    refused(
        &format!("{base}/api/model/run"),
        &[
            (json!({"model": "medisim"}), "not one of this page's models"),
            (json!({"model": "panel", "set": {"nope": 1}}), "`nope`"),
            (
                json!({"model": "contract", "seeds": "1..3"}),
                "deterministic",
            ),
            (
                json!({"model": "panel", "set": {"patients": 100000}, "seeds": "0..9999"}),
                "patient-years",
            ),
            (json!({"model": "panel", "what": 1}), "unknown field `what`"),
            (
                json!({"model": "panel", "set": {" payment.margin": 0.3}}),
                "is not a key",
            ),
            (
                json!({"model": "panel", "set": {"payment.margin=0.3": 0.3}}),
                "is not a key",
            ),
        ],
    );
}
