//! The self-contained HTML report: a summary screen (what ran, the facts with their margins,
//! the headline findings, the paper against this run), the validation table, the L1, L2 and L3
//! sections, the other models' sections, and provenance.
//! Figures are inline SVG, so the page opens offline and nothing is fetched.

use crate::validate::Fact;
use crate::Figure;
use serde::Serialize;

/// Where a report's numbers came from.
#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    pub medisim_version: String,
    pub git_commit: String,
    pub date: String,
    pub command_line: String,
    /// Medi-Sim's behaviour version (the cells, the figures, the facts).
    pub model_version: String,
    /// The behaviour version of every model whose section the report holds.
    pub model_versions: String,
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

use medisim_core::text::html_escape as esc;

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
    /// The summary screen's findings, a sentence each, with this run's numbers.
    pub headlines: Vec<String>,
    /// The paper's claims about L1 and L2, each with this run's verdict.
    pub claims: Vec<crate::claims::Verdict>,
    /// The scenario the experiments ran in, shown under provenance.
    pub scenario_toml: String,
    pub l1: Vec<Figure>,
    pub l2: Vec<Figure>,
    /// Ready HTML: built from the search run under OUT/search.
    pub l3: String,
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
        headlines,
        claims,
        scenario_toml,
        l1,
        l2,
        l3,
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
    // The summary screen: what ran, each fact as a verdict and its margin, the findings.
    let fact_chips: String = facts
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let margin = if f.min_margin.is_finite() {
                format!("{:.1}", f.min_margin)
            } else {
                "exact".into()
            };
            format!(
                "<li class=\"{}\" title=\"{}\"><b>{}</b> {} <small>margin {margin}</small></li>",
                if f.pass { "pass" } else { "fail" },
                esc(&f.margins),
                i + 1,
                esc(f.name)
            )
        })
        .collect();
    let headline_items: String = headlines
        .iter()
        .map(|h| format!("<li>{}</li>", esc(h)))
        .collect();
    let claim_rows: String = claims
        .iter()
        .map(|c| {
            format!(
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"outcome\">{}</td></tr>",
                c.outcome.text().replace(' ', "-"),
                esc(&c.says),
                esc(&c.source),
                esc(&c.paper),
                esc(&c.ours),
                c.outcome.text()
            )
        })
        .collect();
    let n_claims = claims.len();
    let claim_rule = esc(&crate::claims::Rule::REPORT.text());
    let claim_tally = crate::claims::tally_text(claims);
    let setting = format!(
        "policy <code>{}</code> ({}), scenario {}, seeds {}, T = {} periods, L1 grid {} × {}; model {}, commit {}, {}",
        esc(&p.policy_name),
        esc(&p.policy_hash),
        esc(&p.scenario_hash),
        esc(&p.seeds),
        p.horizon,
        p.l1_grid,
        p.l1_grid,
        esc(&p.model_versions),
        esc(&p.git_commit),
        esc(&p.date)
    );
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
tr.reproduces .outcome {{ background: #d9f2d9; }} tr.direction-only .outcome {{ background: #fbf0c8; }} tr.differs .outcome {{ background: #f8d0d0; }} tr.not-run .outcome {{ color: #777; }}
.panels {{ display: flex; flex-wrap: wrap; gap: 8px; }} .panel svg {{ display: block; }}
.caption {{ color: #555; font-size: 0.9em; }} .summary {{ font-size: 1.1em; }}
nav a {{ margin-right: 1em; }}
#summary {{ display: grid; grid-template-columns: minmax(320px, 1fr) minmax(420px, 1.4fr); gap: 1em 2em; background: #fafafa; border: 1px solid #e5e5e5; padding: 1em 1.2em; }}
#summary h3 {{ margin: 0.2em 0 0.4em; font-size: 1em; }}
ul.facts {{ list-style: none; padding: 0; margin: 0; columns: 1; }} ul.facts li {{ padding: 0.15em 0.4em; margin: 0.1em 0; border-left: 4px solid #999; }}
ul.facts li.pass {{ border-color: #2e8b57; }} ul.facts li.fail {{ border-color: #c0392b; background: #fdeaea; }}
ul.headlines li {{ margin: 0.35em 0; }} .setting {{ grid-column: 1 / -1; color: #444; font-size: 0.9em; }}
pre.program, pre.scenario {{ background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }}
.hover rect:hover {{ stroke: #000; stroke-width: 1.5; }}
</style></head><body>
<h1>Medi-Sim reproduction report</h1>
<p class="summary">Healthcare mechanisms under strategic provider response (arXiv 2605.30680), reproduced with medisim. <b>{passed} of {n} stylized facts pass.</b></p>
<section id="summary">
<p class="setting">Ran: {setting}.</p>
<div><h3>The nine stylized facts (margin: the smallest distance of an interval from its threshold, in half-widths)</h3><ul class="facts">{fact_chips}</ul></div>
<div><h3>Headline findings</h3><ul class="headlines">{headline_items}</ul>
<h3>The paper against this run, claim by claim</h3><p class="tally">{n_claims} claims of §5, Table 2, Appendices E–G and Table 4 (<code>targets/paper-claims.toml</code>): {claim_tally}. {claim_rule}</p><table id="paper-vs-ours"><thead><tr><th>claim</th><th>source</th><th>paper</th><th>ours (95% interval)</th><th>verdict</th></tr></thead><tbody>{claim_rows}</tbody></table></div>
</section>
<nav><a href="#validation">Validation</a><a href="#l1">L1 phase diagram</a><a href="#l2">L2 lever sweeps</a><a href="#l3">L3 policy search</a><a href="#contracts">Payment contracts</a><a href="#games">Multi-level games</a><a href="#panel">Primary-care panel</a><a href="#sensitivity">Sensitivity</a><a href="#calibration">Calibration</a><a href="#provenance">Provenance</a></nav>
<h2 id="validation">Validation: nine stylized facts (Table 4)</h2>
<table id="facts"><thead><tr><th>#</th><th>fact</th><th>anchor</th><th>intervention</th><th>expected signature</th><th>observed</th><th>margins (95% interval, threshold)</th><th>verdict</th></tr></thead><tbody>
{rows}</tbody></table>
<h2 id="l1">L1: incentive phase diagram</h2>
{l1_html}
<h2 id="l2">L2: administrative lever sweeps</h2>
{l2_html}
<h2 id="l3">L3: policy-as-code search</h2>
{l3}
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
<details><summary>The scenario the experiments ran in</summary><pre class="scenario">{scenario}</pre></details>
</body></html>
"##,
        n = facts.len(),
        scenario = esc(scenario_toml)
    )
}
