//! The self-contained HTML report: provenance, the validation table, the L1 and L2 figures,
//! and the payment-contracts section.
//! Figures are inline SVG, so the page opens offline and nothing is fetched.

use crate::validate::Fact;
use crate::Figure;
use serde::Serialize;

/// Where a report's numbers came from.
#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    pub medisim_version: String,
    pub model_version: String,
    pub scenario_hash: String,
    pub policy_name: String,
    pub policy_hash: String,
    pub seeds: String,
    pub horizon: u32,
    pub l1_grid: usize,
    pub wall_time_s: f64,
    pub cells_computed: usize,
    pub cells_reused: usize,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn figure_html(f: &Figure) -> String {
    let panels: String = f
        .panels
        .iter()
        .map(|(metric, svg)| {
            format!(
                "<div class=\"panel\" data-metric=\"{}\">{svg}</div>",
                esc(metric)
            )
        })
        .collect();
    format!(
        "<section class=\"figure\" id=\"{}\"><h3>{}</h3><p class=\"caption\">{}</p><div class=\"panels\">{panels}</div></section>\n",
        esc(&f.id),
        esc(&f.title),
        esc(&f.caption)
    )
}

/// A recomputed table with its note.
fn table_html(t: &medisim_games::tables::Table) -> String {
    let head: String = t
        .columns
        .iter()
        .map(|c| format!("<th>{}</th>", esc(c)))
        .collect();
    let rows: String = t
        .rows
        .iter()
        .map(|r| {
            let cells: String = r.iter().map(|c| format!("<td>{}</td>", esc(c))).collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    format!(
        "<section class=\"table\" id=\"{}\"><h3>{}</h3><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table><p class=\"caption\">{}</p></section>\n",
        esc(&t.id),
        esc(&format!("{} — {}", t.id.replace("table-", "Table "), t.title)),
        esc(&t.note)
    )
}

/// Every section of the report after the facts.
pub struct Sections {
    pub l1: Vec<Figure>,
    pub l2: Vec<Figure>,
    pub contracts: Vec<Figure>,
    pub games: crate::games::GamesSection,
    pub panel: crate::panel::PanelSection,
    /// Ready HTML: built from what `medisim sensitivity` left in the directory.
    pub sensitivity: String,
    /// Ready HTML: built from what `medisim calibrate` left in the directory.
    pub calibration: String,
}

pub fn html(p: &Provenance, facts: &[Fact], sections: &Sections) -> String {
    let Sections {
        l1,
        l2,
        contracts,
        games,
        panel,
        sensitivity,
        calibration,
    } = sections;
    let passed = facts.iter().filter(|f| f.pass).count();
    let rows: String = facts
        .iter()
        .enumerate()
        .map(|(i, f)| {
            format!(
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} <br><small>smallest margin {:.1} half-widths</small></td><td class=\"verdict\">{}</td></tr>\n",
                if f.pass { "pass" } else { "fail" },
                i + 1,
                esc(f.name),
                esc(f.anchor),
                esc(f.intervention),
                esc(f.expected),
                esc(&f.observed),
                esc(&f.margins),
                f.min_margin,
                if f.pass { "PASS" } else { "FAIL" }
            )
        })
        .collect();
    let prov = serde_json::to_value(p).unwrap_or_default();
    let prov_rows: String = prov
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    format!(
                        "<tr><th>{}</th><td>{}</td></tr>",
                        esc(k),
                        esc(v.to_string().trim_matches('"'))
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let l1_html: String = l1.iter().map(figure_html).collect();
    let l2_html: String = l2.iter().map(figure_html).collect();
    let contracts_html: String = contracts.iter().map(figure_html).collect();
    let panel_rows: String = panel
        .table_1
        .iter()
        .map(|r| {
            format!(
                "<tr><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td></tr>",
                esc(&r.metric),
                r.paper_myopic,
                r.ours_myopic,
                r.paper_lookahead,
                r.ours_lookahead
            )
        })
        .collect();
    let panel_html: String = format!(
        "<section class=\"table\" id=\"panel-table-1\"><h3>Table 1 — myopic against lookahead at reward = penalty = 0.5, margin 40%</h3><table><thead><tr><th>metric</th><th>paper, myopic</th><th>ours, myopic</th><th>paper, lookahead γ = 0.5</th><th>ours, lookahead</th></tr></thead><tbody>{panel_rows}</tbody></table><p class=\"caption\">Ours: Q-learning providers, 40 runs of 10 patients over 15 years, reference $10,000 a year (docs/panel.md).</p></section>\n"
    ) + &panel.figures.iter().map(figure_html).collect::<String>();
    let games_html: String = games.tables.iter().map(table_html).collect::<String>()
        + &games.figures.iter().map(figure_html).collect::<String>();
    format!(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Medi-Sim reproduction report</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1400px; padding: 1.5em; color: #222; }}
h1 {{ margin-bottom: 0.2em; }} h2 {{ border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }}
table {{ border-collapse: collapse; font-size: 0.85em; }} td, th {{ border: 1px solid #ddd; padding: 0.35em 0.5em; vertical-align: top; text-align: left; }}
tr.pass .verdict {{ background: #d9f2d9; font-weight: bold; }} tr.fail .verdict {{ background: #f8d0d0; font-weight: bold; }}
.panels {{ display: flex; flex-wrap: wrap; gap: 8px; }} .panel svg {{ display: block; }}
.caption {{ color: #555; font-size: 0.9em; }} .summary {{ font-size: 1.1em; }}
nav a {{ margin-right: 1em; }}
</style></head><body>
<h1>Medi-Sim reproduction report</h1>
<p class="summary">Healthcare mechanisms under strategic provider response (arXiv 2605.30680), reproduced with medisim. <b>{passed} of {n} stylized facts pass.</b></p>
<nav><a href="#validation">Validation</a><a href="#l1">L1 phase diagram</a><a href="#l2">L2 lever sweeps</a><a href="#contracts">Payment contracts</a><a href="#games">Multi-level games</a><a href="#panel">Primary-care panel</a><a href="#sensitivity">Sensitivity</a><a href="#calibration">Calibration</a><a href="#provenance">Provenance</a></nav>
<h2 id="validation">Validation: nine stylized facts (Table 4)</h2>
<table id="facts"><thead><tr><th>#</th><th>fact</th><th>anchor</th><th>intervention</th><th>expected signature</th><th>observed</th><th>margins (95% interval, threshold)</th><th>verdict</th></tr></thead><tbody>
{rows}</tbody></table>
<h2 id="l1">L1: incentive phase diagram</h2>
{l1_html}
<h2 id="l2">L2: administrative lever sweeps</h2>
{l2_html}
<h2 id="contracts">Payment contracts for end-of-life care (arXiv 2403.15099)</h2>
<p class="caption">The principal-agent models of seed 003, each solved in closed form and cross-checked by a numeric solver (docs/contracts.md).</p>
{contracts_html}
<h2 id="games">Multi-level incentive games (Zhang, seed 004)</h2>
<p class="caption">Chapters 3–5 recomputed: payer → hospital → physicians (CT scanner), CMS → ACO → PCP and radiologist (imaging), and the patient ↔ PCP stochastic game of chronic care. Each table stands beside the dissertation's printed numbers (docs/games.md says where and why they differ).</p>
{games_html}
<h2 id="panel">Primary-care payment models on a patient panel (Bigus et al., seed 002)</h2>
<p class="caption">The experiments E1–E5 as sweeps of one contract term, and E6 (Table 1). The retinopathy model's rates, fees and costs are ours, chosen from the literature (docs/panel.md); the findings are directional.</p>
{panel_html}
<h2 id="sensitivity">Sensitivity of the nine facts</h2>
{sensitivity}
<h2 id="calibration">Calibration to the paper's Table 2</h2>
{calibration}
<h2 id="provenance">Provenance</h2>
<table id="provenance-table">{prov_rows}</table>
</body></html>
"##,
        n = facts.len()
    )
}
