//! Finished cells survive an interruption; the report is self-contained and renders.

use medisim_core::progress::Hidden;
use medisim_experiments::{l1, reproduce, Options};
use std::path::Path;
use std::process::Command;

fn tiny() -> Options {
    Options {
        seeds: (1..=3).collect(),
        horizon: 40,
        grid: 3,
        ..Options::paper()
    }
}

fn cell_files(out: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(out.join("cells"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn a_rerun_reuses_finished_cells_and_recomputes_only_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, first) = l1(&tiny(), dir.path(), &Hidden).unwrap();
    assert_eq!((first.computed, first.reused), (9, 0));
    let files = cell_files(dir.path());
    assert_eq!(files.len(), 9);
    assert!(
        files.iter().all(|f| f.extension().unwrap() == "json"),
        "no temporary files left: {files:?}"
    );
    let csv1 = std::fs::read_to_string(dir.path().join("l1.csv")).unwrap();
    // Simulate a run killed before two cells finished.
    std::fs::remove_file(&files[0]).unwrap();
    std::fs::write(&files[1], b"{ truncated").unwrap();
    let (_, _, second) = l1(&tiny(), dir.path(), &Hidden).unwrap();
    assert_eq!((second.computed, second.reused), (2, 7));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("l1.csv")).unwrap(),
        csv1,
        "resumed results equal a clean run"
    );
}

#[test]
fn the_report_is_self_contained_and_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let o = Options {
        seeds: (1..=4).collect(),
        horizon: 60,
        grid: 3,
        ..Options::paper()
    };
    let r = reproduce(&o, dir.path(), |_| Box::new(Hidden)).unwrap();
    let html = std::fs::read_to_string(&r.report).unwrap();
    let svgs = html.matches("<svg").count();
    // 5 L1 figures (35 panels), 8 L2 figures (one per lever) of 8 panels, the contracts
    // section's 4 figures (1 + 4 + 1 + 2 panels), the games section's 3 (1 + 4 + 9) and the
    // panel section's 5 of 3 panels and its PSA (CEAC and CE plane).
    assert_eq!(
        svgs,
        35 + 8 * 8 + 8 + 14 + 15 + 2,
        "figures embedded inline"
    );
    for id in [
        "games_ct_phase",
        "panel_e1",
        "panel_e5",
        "panel_psa",
        "panel-table-1",
        "games_chronic_visits",
        "games_chronic_physician",
        "table-3.4",
        "table-4.4",
        "table-5.2",
        "table-5.4",
        "contracts_gamma",
        "contracts_pi",
        "contracts_free_family",
        "contracts_monte_carlo",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert_eq!(
        html.matches("<tr class=\"pass\"").count() + html.matches("<tr class=\"fail\"").count(),
        9
    );
    // The summary screen comes first: the setting, nine facts with margins, three findings
    // with this run's numbers, the paper-versus-ours table.
    let summary = html.find("id=\"summary\"").expect("summary screen");
    assert!(summary < html.find("id=\"facts\"").unwrap());
    assert_eq!(html.matches("<ul class=\"facts\">").count(), 1);
    assert_eq!(
        html.matches("<li class=\"pass\"").count() + html.matches("<li class=\"fail\"").count(),
        9
    );
    let headlines = &html[html.find("<ul class=\"headlines\">").unwrap()..];
    let headlines = &headlines[..headlines.find("</ul>").unwrap()];
    assert_eq!(headlines.matches("<li>").count(), 3, "{headlines}");
    assert!(headlines.contains("(L1)") && headlines.contains("(L2)"));
    let table = &html[html.find("id=\"paper-vs-ours\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    // Every claim of the corpus has a row; a 3-point grid has not the cells of (0.8, 0.2), so
    // Table 2's profit-driven row is "not run", while the L2 sweeps ran whole.
    let claims = medisim_experiments::claims::paper();
    assert_eq!(table.matches("<tr class=").count(), claims.len());
    assert!(table.contains("<tr class=\"not-run\"><td>profit-driven (0.8, 0.2)"));
    let csv = std::fs::read_to_string(dir.path().join("claims.csv")).unwrap();
    assert_eq!(csv.lines().count(), claims.len() + 1);
    for line in csv.lines().filter(|l| l.starts_with("l2-")) {
        assert!(!line.ends_with(",not run"), "{line}");
    }
    // Every L1 heatmap cell carries its value and interval on hover; every map a colour bar.
    assert_eq!(
        html.matches("<rect class=\"cell\"").count(),
        35 * 9 + 4 * 21 * 9 + 9 * 121
    );
    // (A cell whose every seed gives the same value, such as a rate of exactly 0, has none.)
    assert!(html.matches("95% interval [").count() > 35 * 9 / 2);
    assert!(html.contains("α (financial weight)") && html.contains("β (quality weight)"));
    // Provenance: the commit, the date, the command line and the scenario itself.
    for key in ["git_commit", "date", "command_line", "model_version"] {
        assert!(html.contains(&format!("<th>{key}</th>")), "{key}");
    }
    // Every model whose section the report holds is named with its version.
    for model in [
        "medisim-sim/",
        "medisim-panel/",
        "medisim-games/",
        "medisim-contracts/",
    ] {
        assert!(html.contains(model), "{model} in the provenance");
    }
    assert!(html.contains("<pre class=\"scenario\">") && html.contains("[arrivals]"));
    assert!(
        html.contains("No search run"),
        "the L3 section says how to add it"
    );
    assert!(
        !html.contains("http://")
            || html.matches("http://").count()
                == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "nothing is fetched"
    );
    let Some(browser) = medisim_core::browser::headless_or_skip("the rendering half of this test")
    else {
        return;
    };
    let url = format!("file://{}", r.report.display());
    let dom = medisim_core::browser::dump_dom(&browser, &url, 5000);
    assert_eq!(
        dom.matches("<svg").count(),
        svgs,
        "the browser parsed every figure"
    );
    assert!(dom.contains("id=\"facts\"") && dom.matches("class=\"verdict\"").count() == 9);
    let shot = dir.path().join("shot.png");
    let out = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1400,2400",
            &format!("--screenshot={}", shot.display()),
            &url,
        ])
        .output()
        .unwrap();
    assert!(shot.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // A blank page compresses to a few kilobytes; rendered heatmaps and tables do not.
    assert!(png.len() > 60_000, "screenshot is {} bytes", png.len());
}
