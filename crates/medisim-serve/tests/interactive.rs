//! The dashboard driven as a user drives it — keys, clicks, typing — in Chromium over the
//! DevTools protocol: move α, type a policy with an error and see the diagnostic at its line and
//! column, mend it, run and see the channel table with `medisim run`'s numbers, cancel a long
//! run, open an L1 cell by clicking it, and run a paired comparison. Screenshots go to
//! `target/tmp/screenshots` for a person to look at.

mod common;

use common::cdp::{browser, js, open, screenshot, text_of, type_over, wait_until};
use common::{l1_cell, server};
use medisim_sim::Metric;

/// The Medi-Sim page, loaded and its editor's first check done.
fn medisim_page(
    browser: &headless_chrome::Browser,
    base: &str,
) -> std::sync::Arc<headless_chrome::Tab> {
    let tab = open(browser, base);
    wait_until(
        &tab,
        "document.querySelector('#check-state').textContent.startsWith('checks: baseline')",
        "the editor's first check",
    );
    tab
}

/// Every cell of a metric's row in a result table, as the page shows it.
fn row_cells(tab: &headless_chrome::Tab, m: Metric) -> serde_json::Value {
    let name = medisim_core::Metric::name(m);
    js(
        tab,
        &format!("[...document.querySelectorAll('#metrics tr[data-metric=\"{name}\"] td')].map(c => c.textContent)"),
    )
}

/// The row a metric's mean shows in a result table (four decimals, JavaScript's toFixed).
fn row(tab: &headless_chrome::Tab, m: Metric) -> String {
    let name = medisim_core::Metric::name(m);
    text_of(
        tab,
        &format!("#metrics tr[data-metric=\"{name}\"] td:nth-child(2)"),
    )
}

#[test]
fn a_user_moves_alpha_mends_a_policy_runs_it_and_cancels_a_long_run() {
    let Some(browser) = browser("the dashboard's interactive test") else {
        return;
    };
    let (base, _out) = server();
    let tab = medisim_page(&browser, &base);
    let paint = js(
        &tab,
        "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime",
    );
    eprintln!("first contentful paint: {paint} ms");

    // α from 0.5 to 0.8 with the keyboard: six steps of 0.05.
    js(&tab, "document.querySelector('input[name=alpha]').focus()");
    for _ in 0..6 {
        tab.press_key("ArrowRight").unwrap();
    }
    assert_eq!(text_of(&tab, "input[name=alpha] + output"), "0.8");

    // A typo typed at the end of the effort rule: the diagnostic names its line and column.
    let typo = " + effort_typo";
    let before = js(
        &tab,
        "(() => { const t = document.querySelector('#policy'); \
         const i = t.value.indexOf('effort_quality_pressure\\n') + 'effort_quality_pressure'.length; \
         t.focus(); t.setSelectionRange(i, i); return t.value.slice(0, i); })()",
    );
    // The text before the caret, as the page holds it.
    let before = before.as_str().unwrap();
    tab.type_str(typo).unwrap();
    wait_until(
        &tab,
        "document.querySelector('#diagnostics li')",
        "a diagnostic",
    );
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + typo.find('e').unwrap() + 1;
    let shown = js(
        &tab,
        "[...document.querySelectorAll('#diagnostics li')].map(l => [l.dataset.line, l.dataset.column, l.textContent])",
    );
    let error = shown
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d[2].as_str()
                .unwrap()
                .contains("error: unknown feature `effort_typo`")
        })
        .unwrap_or_else(|| panic!("no error names the typo: {shown}"));
    assert_eq!(error[0], line.to_string(), "{shown}");
    assert_eq!(error[1], column.to_string(), "{shown}");
    assert!(!shown.to_string().contains("is not assigned"), "{shown}");
    assert_eq!(text_of(&tab, "#check-state"), "does not check");
    screenshot(&tab, "diagnostic.png");
    // Mended with the backspace key: the policy checks again.
    for _ in 0..typo.len() {
        tab.press_key("Backspace").unwrap();
    }
    wait_until(
        &tab,
        "document.querySelector('#check-state').textContent.startsWith('checks: baseline') \
         && !document.querySelector('#diagnostics li')",
        "the mended policy to check",
    );

    // Run α = 0.8 on five seeds: the table shows the library's (and so `medisim run`'s) numbers.
    type_over(&tab, "input[name=seeds]", "1..5");
    type_over(&tab, "input[name=horizon]", "50");
    tab.find_element("#run").unwrap().click().unwrap();
    wait_until(
        &tab,
        "document.querySelector('#metrics tr[data-metric]')",
        "the result table",
    );
    let mut policy = medisim_sim::baseline().clone();
    policy.fix(medisim_sim::Field::Alpha, 0.8);
    let spec = medisim_sim::run_spec(vec![1, 2, 3, 4, 5], 50, medisim_sim::ObjectiveKind::Mixed);
    let run =
        medisim_sim::run_seeds(&medisim_sim::Scenario::default(), &policy, &spec, false).unwrap();
    for m in [
        Metric::UpcodingRate,
        Metric::RejectionRate,
        Metric::MeanWaiting,
        Metric::TerminalFunds,
    ] {
        assert_eq!(row(&tab, m), format!("{:.4}", run.summary.mean(m)), "{m:?}");
    }
    assert!(text_of(&tab, "#provenance")
        .contains("medisim run --seeds 1..5 --horizon 50 --alpha 0.8 --json"));
    // Each series over the 50 periods, drawn with its band.
    assert_eq!(
        js(
            &tab,
            "document.querySelectorAll('#trajectories figure.trajectory svg path').length"
        ),
        5
    );
    js(
        &tab,
        "document.querySelector('#trajectories').scrollIntoView()",
    );
    screenshot(&tab, "run.png");

    // A long run (ten times the arrivals, set in the scenario's folded arrivals section):
    // progress shows seeds coming in, Cancel stops it before the end.
    tab.find_element("details:has(input[name=\"arrivals.rate\"]) > summary")
        .unwrap()
        .click()
        .unwrap();
    type_over(&tab, "input[name=\"arrivals.rate\"]", "90");
    type_over(&tab, "input[name=seeds]", "1..400");
    type_over(&tab, "input[name=horizon]", "5000");
    tab.find_element("#run").unwrap().click().unwrap();
    wait_until(
        &tab,
        "(([done, total]) => total === '400' && done > 0 && done < 400)(\
         document.querySelector('#count').textContent.split(' / ').map(x => parseInt(x).toString()))",
        "progress part of the way",
    );
    tab.find_element("#cancel").unwrap().click().unwrap();
    wait_until(
        &tab,
        "document.querySelector('#error').textContent === 'cancelled'",
        "the run to be cancelled",
    );
    let done: usize = text_of(&tab, "#count")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(done < 400, "cancelled after {done} of 400 seeds");
}

#[test]
fn a_user_opens_an_l1_cell_by_clicking_it_and_compares_two_policies() {
    let Some(browser) = browser("the dashboard's interactive test") else {
        return;
    };
    let (base, out) = server();
    let tab = open(
        &browser,
        &format!("{base}/l1#run?grid=3&seeds=1..3&horizon=30"),
    );
    let cell = "rect.cell[data-x=\"0.5\"][data-y=\"1\"]";
    wait_until(
        &tab,
        &format!("document.querySelector('{cell}')"),
        "the maps",
    );
    tab.find_element(cell).unwrap().click().unwrap();
    wait_until(
        &tab,
        "document.querySelector('#cell-name').textContent.includes('α = 0.5, β = 1')",
        "the clicked cell to open",
    );
    let (expected, _) = l1_cell(out.path());
    assert_eq!(
        row(&tab, Metric::StrategicDelayGap),
        format!("{:.4}", expected.summary.mean(Metric::StrategicDelayGap))
    );
    screenshot(&tab, "l1-cell.png");

    // B's α typed over the baseline's: the table shows each metric's paired difference.
    let tab = open(&browser, &format!("{base}/compare"));
    type_over(&tab, "input[name=seeds]", "1..4");
    type_over(&tab, "input[name=horizon]", "30");
    js(
        &tab,
        "(() => { const t = document.querySelector('#policy-b'); const i = t.value.indexOf('alpha = 0.5') + 'alpha = 0.'.length; \
         t.focus(); t.setSelectionRange(i, i + 1); })()",
    );
    tab.type_str("8").unwrap();
    tab.find_element("#run").unwrap().click().unwrap();
    wait_until(
        &tab,
        "document.querySelector('#provenance').textContent.startsWith('4 seeds')",
        "the comparison",
    );
    let spec = medisim_sim::run_spec(vec![1, 2, 3, 4], 30, medisim_sim::ObjectiveKind::Mixed);
    let scenario = medisim_sim::Scenario::default();
    let a = medisim_sim::run_seeds(&scenario, medisim_sim::baseline(), &spec, false).unwrap();
    let mut policy = medisim_sim::baseline().clone();
    policy.fix(medisim_sim::Field::Alpha, 0.8);
    let b = medisim_sim::run_seeds(&scenario, &policy, &spec, false).unwrap();
    let m = Metric::UpcodingRate;
    let cells = row_cells(&tab, m);
    let diff = medisim_core::stats::summarise(&common::per_seed_differences(&a, &b, m));
    assert_eq!(cells[1], format!("{:.4}", a.summary.mean(m)), "{cells}");
    assert_eq!(cells[2], format!("{:.4}", b.summary.mean(m)), "{cells}");
    assert_eq!(cells[3], format!("{:.4}", diff.mean), "{cells}");

    // A scenario change typed into B's box: B is now α = 0.8 with more arrivals.
    js(&tab, "document.querySelector('#set-b').focus()");
    tab.type_str("arrivals.rate = 10.5").unwrap();
    tab.find_element("#run").unwrap().click().unwrap();
    wait_until(
        &tab,
        "document.querySelector('#provenance').textContent.includes('--set arrivals.rate=10.5')",
        "the comparison with B's scenario change",
    );
    let busier = medisim_sim::Scenario {
        arrivals: medisim_sim::scenario::Arrivals {
            rate: 10.5,
            ..scenario.arrivals.clone()
        },
        ..scenario.clone()
    };
    let b2 = medisim_sim::run_seeds(&busier, &policy, &spec, false).unwrap();
    let m = Metric::ArrivalRate;
    let cells = row_cells(&tab, m);
    assert_eq!(cells[2], format!("{:.4}", b2.summary.mean(m)), "{cells}");
    assert_ne!(cells[1], cells[2], "B's arrivals differ from A's");
    screenshot(&tab, "compare.png");
}

#[test]
fn a_user_starts_a_search_watches_it_grow_opens_a_child_and_cancels_it() {
    let Some(browser) = browser("the dashboard's interactive test") else {
        return;
    };
    let (base, out) = server();
    let tab = open(&browser, &format!("{base}/search"));
    type_over(&tab, "input[name=name]", "watched");
    type_over(&tab, "input[name=iterations]", "2000");
    tab.find_element("#run").unwrap().click().unwrap();
    // The lineage fills while the search runs: two refreshes, each with more children.
    let nodes = "document.querySelectorAll('#lineage circle.node').length";
    wait_until(
        &tab,
        &format!("{nodes} > 0 && document.querySelector('#state').textContent.startsWith('no result yet')"),
        "the first children",
    );
    let first = js(&tab, nodes).as_u64().unwrap();
    wait_until(&tab, &format!("{nodes} > {first}"), "more children");
    assert!(
        js(
            &tab,
            "document.querySelectorAll('#archive td.elite').length"
        )
        .as_u64()
        .unwrap()
            >= 2,
        "the archive fills"
    );
    // Nothing here depends on how fast the machine searches (a 2,000-iteration search took
    // 6 s on two cores and once ended before a Cancel clicked after the lineage had grown):
    // this search is watched to its end, and the one cancelled below is cancelled at its start.
    wait_until(
        &tab,
        "document.querySelector('#started').textContent.startsWith('Done')",
        "the search to finish",
    );
    let dir = out.path().join("watched");
    assert!(dir.join("result.json").exists());
    let v = medisim_search::monitor::view(&dir).unwrap();
    let all = v.children.len();
    assert!(all as u64 > first, "{all} children");
    // The page polls until its view says finished, and draws once more then: clicking before
    // that last drawing could reach a node it replaces.
    wait_until(
        &tab,
        &format!(
            "{nodes} === {} && document.querySelector('#state').textContent.startsWith('finished')",
            v.children.len()
        ),
        "the page to show every child of the finished search",
    );
    screenshot(&tab, "search.png");
    // A child clicked in the lineage opens beside its parent, with the fields its edit changed.
    let hash = js(
        &tab,
        "document.querySelector('#lineage circle.node:last-of-type').dataset.hash",
    );
    let hash = hash.as_str().unwrap().to_string();
    tab.find_element(&format!("#lineage circle[data-hash=\"{hash}\"]"))
        .unwrap()
        .click()
        .unwrap();
    wait_until(
        &tab,
        &format!(
            "document.querySelector('#program-head').textContent.startsWith('{}')",
            &hash[..12]
        ),
        "the clicked child to open",
    );
    let p = medisim_search::monitor::program(&dir, &hash, &medisim_search::hospital::Hospital)
        .unwrap()
        .unwrap();
    assert_eq!(
        text_of(&tab, "#fields-changed"),
        p.fields_changed.unwrap().join(", ")
    );
    assert_eq!(text_of(&tab, "#program-text"), p.text);
    // The metrics the edit traded, parent against program on the training seeds.
    let fitness = p.trade.unwrap()[0].clone();
    assert_eq!(
        text_of(&tab, "#trade tr[data-metric=\"fitness\"] td:nth-child(3)"),
        format!("{:.4}", fitness.child)
    );
    screenshot(&tab, "search-program.png");
    // Cancel, clicked as soon as the page has the search's job, stops the same search long
    // before its end (fewer children than the finished one's) and leaves no result to read.
    type_over(&tab, "input[name=name]", "stopped");
    tab.find_element("#run").unwrap().click().unwrap();
    wait_until(
        &tab,
        "!document.querySelector('#cancel').disabled",
        "the search's job",
    );
    tab.find_element("#cancel").unwrap().click().unwrap();
    wait_until(
        &tab,
        "document.querySelector('#error').textContent === 'cancelled'",
        "the search to be cancelled",
    );
    let stopped = out.path().join("stopped");
    assert!(!stopped.join("result.json").exists());
    let v = medisim_search::monitor::view(&stopped).unwrap();
    assert!(
        v.children.len() < all,
        "{} of {all} children",
        v.children.len()
    );
}

#[test]
fn a_user_sweeps_a_contract_parameter_and_sees_survival_beside_the_payment() {
    let Some(browser) = browser("the dashboard's interactive test") else {
        return;
    };
    let (base, _out) = server();
    let tab = open(&browser, &format!("{base}/models#model=contract"));
    wait_until(
        &tab,
        "[...document.querySelectorAll('#sweep-key option')].some(o => o.value === 'pi11')",
        "the contract's keys",
    );
    js(
        &tab,
        "(() => { const k = document.querySelector('#sweep-key'); k.value = 'pi11'; k.dispatchEvent(new Event('change')); })()",
    );
    type_over(&tab, "input[name=sweep-from]", "0.76");
    type_over(&tab, "input[name=sweep-to]", "0.95");
    type_over(&tab, "input[name=sweep-points]", "5");
    tab.find_element("#sweep").unwrap().click().unwrap();
    wait_until(
        &tab,
        "document.querySelectorAll('#sweep-figure svg').length > 0",
        "the sweep's figure",
    );
    assert!(text_of(&tab, "#sweep-provenance")
        .contains("medisim sweep --model contract --set pi11=0.76:0.95:5"));
    for metric in ["survival", "expected_payment"] {
        assert_eq!(
            js(&tab, &format!("document.querySelectorAll('#sweep-figure [data-metric=\"{metric}\"] svg').length")),
            1,
            "{metric}"
        );
    }
    screenshot(&tab, "contract-sweep.png");
}

#[test]
fn a_policy_number_typed_in_its_control_rewrites_its_line_within_its_range() {
    let Some(browser) = browser("the dashboard's interactive test") else {
        return;
    };
    let (base, _out) = server();
    let tab = medisim_page(&browser, &base);
    tab.find_element("details:has(input[data-field=\"bonus_pool\"]) > summary")
        .unwrap()
        .click()
        .unwrap();
    type_over(&tab, "input[data-field=bonus_pool]", "15");
    tab.press_key("Enter").unwrap();
    wait_until(
        &tab,
        "/^bonus_pool = 15$/m.test(document.querySelector('#policy').value)",
        "the policy's line rewritten",
    );
    let policy = js(&tab, "document.querySelector('#policy').value");
    let checked = medisim_sim::load(policy.as_str().unwrap()).unwrap();
    let mut expected = medisim_sim::baseline().clone();
    expected.fix(medisim_sim::Field::BonusPool, 15.0);
    assert_eq!(checked.canonical_hash(), expected.canonical_hash());
    // Out of its range [0, 100]: refused with the range, the line left as it was.
    type_over(&tab, "input[data-field=bonus_pool]", "200");
    tab.press_key("Enter").unwrap();
    wait_until(
        &tab,
        "document.querySelector('#numbers-note').textContent.includes('outside its range [0, 100]')",
        "the refusal",
    );
    assert_eq!(js(&tab, "document.querySelector('#policy').value"), policy);
}
