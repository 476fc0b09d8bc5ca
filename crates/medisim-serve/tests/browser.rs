//! The dashboard in a real headless browser: the page loads, its script checks the baseline
//! policy, runs the setting a link carries (`#run?…`), follows the run's events and fills the
//! channel table with the numbers `medisim run` gives for the same inputs.

mod common;

use common::{l1_cell, server, short_search};

#[test]
fn a_linked_setting_runs_in_the_browser_and_shows_medisim_runs_numbers() {
    let Some(browser) = medisim_core::browser::headless_or_skip("the dashboard's browser test")
    else {
        return;
    };
    let (base, _out) = server();
    let dom = medisim_core::browser::dump_dom(
        &browser,
        &format!("{base}/#run?seeds=1..5&horizon=50&alpha=0.8"),
        10_000,
    );
    assert!(dom.contains("checks: baseline"), "the editor's check ran");
    let scenario = medisim_sim::Scenario::default();
    let mut policy = medisim_sim::baseline().clone();
    policy.fix(medisim_sim::Field::Alpha, 0.8);
    let spec = medisim_sim::run_spec(vec![1, 2, 3, 4, 5], 50, medisim_sim::ObjectiveKind::Mixed);
    let run = medisim_sim::run_seeds(&scenario, &policy, &spec, false).unwrap();
    // Every metric's row shows the run's mean to four decimals (JavaScript's toFixed).
    for m in [
        medisim_sim::Metric::UpcodingRate,
        medisim_sim::Metric::RejectionRate,
        medisim_sim::Metric::MeanWaiting,
        medisim_sim::Metric::TerminalFunds,
    ] {
        let name = medisim_core::Metric::name(m);
        let row = format!(
            "data-metric=\"{name}\"><td>{name}</td><td>{:.4}</td>",
            run.summary.mean(m)
        );
        assert!(dom.contains(&row), "{row} in\n{dom}");
    }
    assert!(dom.contains("medisim run --seeds 1..5 --horizon 50 --alpha 0.8 --json"));
}

#[test]
fn the_l1_page_draws_the_maps_and_opens_a_linked_cell() {
    let Some(browser) = medisim_core::browser::headless_or_skip("the L1 page's browser test")
    else {
        return;
    };
    let (base, out) = server();
    let dom = medisim_core::browser::dump_dom(
        &browser,
        &format!("{base}/l1#run?grid=3&seeds=1..3&horizon=30&open=0.5,1"),
        10_000,
    );
    // Every L1 figure of maps, each map's nine cells clickable.
    assert_eq!(
        dom.matches("<figure id=\"fig").count(),
        medisim_experiments::l1::FIGURES.len(),
        "{dom}"
    );
    assert!(dom.matches("<rect class=\"cell\" data-x=").count() >= 9 * 6);
    assert!(dom.contains("α = 0.5, β = 1"), "the linked cell opened");
    let (cell, _) = l1_cell(out.path());
    let m = medisim_sim::Metric::StrategicDelayGap;
    let row = format!(
        "data-metric=\"strategic_delay_gap\"><td>strategic_delay_gap</td><td>{:.4}</td>",
        cell.summary.mean(m)
    );
    assert!(dom.contains(&row), "{row}");
}

#[test]
fn the_comparison_page_runs_two_settings_on_common_random_numbers() {
    let Some(browser) = medisim_core::browser::headless_or_skip("the comparison page's test")
    else {
        return;
    };
    let (base, _out) = server();
    let dom = medisim_core::browser::dump_dom(
        &browser,
        &format!("{base}/compare#run?seeds=1..4&horizon=30"),
        10_000,
    );
    // The same policy on both sides: every difference is exactly zero, with its interval.
    let row = "data-metric=\"upcoding_rate\"><td>upcoding_rate</td>";
    let at = dom.find(row).unwrap_or_else(|| panic!("{dom}"));
    let cells: Vec<&str> = dom[at..].split("<td>").skip(2).take(4).collect();
    assert_eq!(cells[0], cells[1], "A and B alike");
    assert!(cells[2].starts_with("0.0000</td>"), "{cells:?}");
    assert!(dom.contains("4 seeds, horizon 30"), "the end of the run");
}

#[test]
fn the_findings_page_shows_every_fact_and_every_claim_with_its_verdict() {
    let Some(browser) = medisim_core::browser::headless_or_skip("the findings page's test") else {
        return;
    };
    let (base, _out) = server();
    let dom = medisim_core::browser::dump_dom(
        &browser,
        &format!("{base}/findings#run?grid=3&seeds=1..3&horizon=30"),
        15_000,
    );
    // Nine facts, each with its verdict; every claim of the paper in a row of its outcome.
    assert_eq!(
        dom.matches("<td class=\"outcome\">PASS</td>").count()
            + dom.matches("<td class=\"outcome\">FAIL</td>").count(),
        9,
        "{dom}"
    );
    let claims = medisim_experiments::claims::paper().len();
    let rows = ["reproduces", "direction-only", "differs", "not-run"]
        .iter()
        .map(|c| {
            dom.matches(&format!("<tr class=\"{c}\" id=\"claim-"))
                .count()
        })
        .sum::<usize>();
    assert_eq!(rows, claims, "{dom}");
    assert!(dom.contains("medisim reproduce --no-search --grid 3 --seeds 1..3 --horizon 30"));
}

#[test]
fn the_displacement_page_shows_where_an_audit_moves_the_pressure() {
    let Some(browser) = medisim_core::browser::headless_or_skip("the displacement page's test")
    else {
        return;
    };
    let (base, _out) = server();
    let dom = medisim_core::browser::dump_dom(
        &browser,
        &format!("{base}/displacement#run?lever=audit.base_prob&from=0&to=0.5&alpha=0.8&beta=0.2&seeds=1..5&horizon=60"),
        15_000,
    );
    // Every metric's change is drawn; the audit's own channel (up-coding) shrinks.
    let bars = dom.matches("<svg class=\"shift\"").count();
    assert!(bars >= 20, "{bars} bars in\n{dom}");
    let row = "data-metric=\"upcoding_rate\"";
    let at = dom.find(row).unwrap_or_else(|| panic!("{dom}"));
    let change = &dom[at..][dom[at..].find("data-change=\"").unwrap() + 13..];
    assert!(change.starts_with('-'), "{}", &change[..20]);
    assert!(dom.contains("medisim sweep --set audit.base_prob=0,0.5"));
    // α itself as the lever: the page leaves it out of the regime, and up-coding grows.
    let dom = medisim_core::browser::dump_dom(
        &browser,
        &format!("{base}/displacement#run?lever=alpha&from=0.2&to=0.8&seeds=1..4&horizon=40"),
        15_000,
    );
    let at = dom.find(row).unwrap_or_else(|| panic!("{dom}"));
    let change = &dom[at..][dom[at..].find("data-change=\"").unwrap() + 13..];
    assert!(
        !change.starts_with('-') && !change.starts_with("0.0000"),
        "{}",
        &change[..20]
    );
}

#[test]
fn the_search_page_draws_every_child_and_opens_a_linked_update_beside_its_parent() {
    let Some(browser) = medisim_core::browser::headless_or_skip("the search page's test") else {
        return;
    };
    let (base, out) = server();
    let dir = out.path().join("search");
    short_search(&dir);
    let v = medisim_search::monitor::view(&dir).unwrap();
    let best = v.bests.last().unwrap().hash.clone();
    let dom = medisim_core::browser::dump_dom(
        &browser,
        &format!("{base}/search#dir=search&open={best}"),
        10_000,
    );
    // Drawn elements, not the script's template of them.
    let drawn = |tag: &str| dom.matches(tag).count() - dom.matches(&format!("{tag}${{")).count();
    assert_eq!(
        drawn("<circle class=\"child\" cx=\""),
        v.children.len(),
        "{dom}"
    );
    assert!(dom.contains("id=\"best-line\""));
    assert!(dom.contains(&format!(
        "finished: {} children evaluated",
        v.children.len()
    )));
    assert_eq!(drawn("<tr class=\"best\" data-hash=\""), v.bests.len());
    let flagged = v.reward_hacking.as_ref().unwrap()["flagged_children"]
        .as_array()
        .unwrap()
        .len();
    assert!(flagged > 0, "the short search flags a child");
    assert_eq!(drawn("<tr class=\"flagged\"><td>"), flagged, "{dom}");
    // The linked update opened beside its parent, with the fields its edit changed.
    let p = medisim_search::monitor::program(&dir, &best, &medisim_search::hospital::Hospital)
        .unwrap()
        .unwrap();
    let changed = p.fields_changed.unwrap().join(", ");
    assert!(
        dom.contains(&format!("<b id=\"fields-changed\">{changed}</b>")),
        "{changed} in\n{dom}"
    );
}

#[test]
fn the_other_models_page_runs_the_panel_and_groups_its_metrics_as_tabs() {
    let Some(browser) = medisim_core::browser::headless_or_skip("the models page's test") else {
        return;
    };
    let (base, _out) = server();
    let dom = medisim_core::browser::dump_dom(
        &browser,
        &format!("{base}/models#model=panel&run=1"),
        10_000,
    );
    let drawn = |tag: &str| dom.matches(tag).count() - dom.matches(&format!("{tag}${{")).count();
    let metrics = medisim_serve::models::catalogue().unwrap()[0].metrics.len();
    assert_eq!(
        drawn("<tr class=\"metric\" data-group=\""),
        metrics,
        "{dom}"
    );
    for tab in ["all", "payer", "health outcomes", "provider"] {
        assert!(
            dom.contains(&format!("data-group=\"{tab}\">{tab}</button>")),
            "{tab}: {dom}"
        );
    }
    assert!(
        dom.contains("The same numbers: <code>medisim run --model panel</code>"),
        "{dom}"
    );
}
