//! The report's first screen: the headline findings in a sentence each, computed from the
//! cells this report ran (so a custom setting gets its own numbers, and a sentence's verb
//! follows the sign of what was measured; the paper's claims are [`crate::claims`]); and the
//! L3 section, read from the search run the report's directory holds.

use crate::cells::Cell;
use medisim_sim::Metric;
use std::path::Path;

fn l2_mean(cells: &[Cell], lever: &str, regime: &str, value: f64, m: Metric) -> Option<f64> {
    cells
        .iter()
        .find(|c| {
            c.label("lever") == lever
                && c.label("regime") == regime
                && c.label("value").parse::<f64>().ok() == Some(value)
        })
        .map(|c| c.mean(m))
}

fn l1_mean(cells: &[Cell], alpha: f64, beta: f64, m: Metric) -> Option<f64> {
    cells
        .iter()
        .find(|c| {
            c.label("alpha").parse::<f64>().ok() == Some(alpha)
                && c.label("beta").parse::<f64>().ok() == Some(beta)
        })
        .map(|c| c.mean(m))
}

/// "rises" / "falls" / "stays", by the sign of the change (2% of the larger value is a tie).
fn moves(a: f64, b: f64) -> &'static str {
    let tol = 0.02 * a.abs().max(b.abs()).max(1e-9);
    if b > a + tol {
        "rises"
    } else if b < a - tol {
        "falls"
    } else {
        "stays level"
    }
}

/// The three headline findings, each one sentence with this run's numbers.
pub fn headlines(l1: &[Cell], l2: &[Cell]) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(a), Some(b)) = (
        l1_mean(l1, 0.0, 0.0, Metric::UpcodingRate),
        l1_mean(l1, 1.0, 0.0, Metric::UpcodingRate),
    ) {
        out.push(format!(
            "Coding follows the money: with no quality weight (β = 0), up-coding {} from {a:.3} at α = 0 to {b:.3} at α = 1 (L1).",
            moves(a, b)
        ));
    }
    let audit = |m| {
        (
            l2_mean(l2, "audit", "profit-driven", 0.0, m),
            l2_mean(l2, "audit", "profit-driven", 0.5, m),
        )
    };
    if let ((Some(u0), Some(u1)), (Some(c0), Some(c1))) =
        (audit(Metric::UpcodingRate), audit(Metric::CherryPickingGap))
    {
        out.push(format!(
            "Closing one channel opens another: audits at q = 0.5 take profit-driven up-coding from {u0:.3} to {u1:.3}, while its cherry-picking gap {} from {c0:.3} to {c1:.3} (L2).",
            moves(c0, c1)
        ));
    }
    if let (Some(w0), Some(w1), Some(n1)) = (
        l2_mean(l2, "flex", "balanced", 0.0, Metric::MeanWaiting),
        l2_mean(l2, "flex", "balanced", 4.0, Metric::MeanWaiting),
        l2_mean(l2, "flex_no_steering", "balanced", 4.0, Metric::MeanWaiting),
    ) {
        out.push(format!(
            "Measured performance steers beds: with four flexible beds allocated by KPI, balanced waiting {} from {w0:.2} to {w1:.2} periods; without steering it is {n1:.2} (L2).",
            moves(w0, w1)
        ));
    }
    out
}

use medisim_core::text::html_escape as esc;

/// The row order and labels of the L3 table (the paper's Table 1 columns).
const L3_COLUMNS: [(&str, &str); 7] = [
    ("fitness", "fitness (Eq. 8)"),
    ("return_mixed", "mixed return"),
    ("mean_waiting", "waiting (periods)"),
    ("rejection_rate", "rejection"),
    ("upcoding_rate", "up-coding"),
    ("terminal_funds", "funds (price units)"),
    ("violation_score", "violation V"),
];

/// The L3 section from a search run directory (`result.json`, `trace.svg`, `updates.json`,
/// `best.policy`, `config.toml`), and its headline; says how to make it when there is none.
pub fn l3_section(dir: &Path) -> (Option<String>, String) {
    let Some(result) = std::fs::read(dir.join("result.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    else {
        return (
            None,
            format!(
                "<p class=\"caption\">No search run in {}: <code>medisim search --objective mixed --out DIR/search</code> adds this section (<code>medisim reproduce</code> runs it when it is absent).</p>",
                esc(&dir.display().to_string())
            ),
        );
    };
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap_or_default();
    let objective = config
        .lines()
        .find_map(|l| l.strip_prefix("objective = "))
        .unwrap_or("?")
        .trim_matches('"')
        .to_string();
    let methods = [
        "searched",
        "best_warm_start",
        "fixed",
        "greedy_profit",
        "greedy_quality",
    ];
    let get = |m: &str, k: &str| result.get(m)?.get(k)?.as_f64();
    let head: String = L3_COLUMNS
        .iter()
        .map(|(_, label)| format!("<th>{label}</th>"))
        .collect();
    let rows: String = methods
        .iter()
        .filter(|m| result.get(**m).is_some())
        .map(|m| {
            let cells: String = L3_COLUMNS
                .iter()
                .map(|(k, _)| {
                    get(m, k).map_or("<td>—</td>".into(), |v| {
                        let d = if *k == "terminal_funds" { 1 } else { 3 };
                        format!("<td>{v:.d$}</td>")
                    })
                })
                .collect();
            format!("<tr><td>{}</td>{cells}</tr>", m.replace('_', " "))
        })
        .collect();
    let updates: Vec<serde_json::Value> = std::fs::read(dir.join("updates.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let update_rows: String = updates
        .iter()
        .map(|u| {
            let num = |k: &str, side: &str| {
                u.get(side)
                    .and_then(|s| s.get(k))
                    .and_then(|v| v.as_f64())
                    .map_or("—".into(), |v| format!("{v:.3}"))
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{} → {}</td><td>{} → {}</td></tr>",
                u.get("iteration").and_then(|v| v.as_u64()).unwrap_or(0),
                esc(u.get("operator").and_then(|v| v.as_str()).unwrap_or("")),
                esc(&u
                    .get("fields_changed")
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default()),
                u.get("validation_fitness")
                    .and_then(|v| v.as_f64())
                    .map_or("—".into(), |v| format!("{v:.4}")),
                num("upcoding_rate", "before"),
                num("upcoding_rate", "after"),
                num("rejection_rate", "before"),
                num("rejection_rate", "after"),
                num("mean_waiting", "before"),
                num("mean_waiting", "after"),
            )
        })
        .collect();
    // The LLM calls per model, when the search asked any.
    let usage_rows: String = result
        .get("llm_usage")
        .and_then(|u| u.as_array())
        .map(|rows| {
            rows.iter()
                .map(|u| {
                    let n = |k: &str| u.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
                    format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td></tr>",
                        esc(u.get("model").and_then(|v| v.as_str()).unwrap_or("")),
                        n("calls"),
                        n("children"),
                        n("prompt_tokens"),
                        n("completion_tokens"),
                        n("cost")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let usage = if usage_rows.is_empty() {
        String::new()
    } else {
        format!("<section class=\"table\" id=\"l3-llm\"><h3>LLM calls by model</h3><table><thead><tr><th>model</th><th>calls</th><th>checked children</th><th>prompt tokens</th><th>completion tokens</th><th>cost</th></tr></thead><tbody>{usage_rows}</tbody></table></section>")
    };
    let monitor = reward_hacking_section(&result) + &front_section(&result);
    let trace = std::fs::read_to_string(dir.join("trace.svg")).unwrap_or_default();
    let best = std::fs::read_to_string(dir.join("best.policy")).unwrap_or_default();
    let headline = match (
        get("searched", "fitness"),
        get("best_warm_start", "fitness"),
        get("searched", "upcoding_rate"),
        get("fixed", "upcoding_rate"),
    ) {
        (Some(s), Some(w), Some(us), Some(uf)) => Some(format!(
            "Search {}: on held-out seeds the {objective}-objective search scores {s:.3} against the best warm start's {w:.3}, with up-coding {us:.3} against the fixed heuristic's {uf:.3} (L3).",
            if s > w { "finds a better rule" } else { "finds no better rule" }
        )),
        _ => None,
    };
    let html = format!(
        "<p class=\"caption\">Policy-as-code search on the {objective} objective (run directory {}): the searched program against the baselines on held-out seeds (the paper's Table 1; coding by argmax as the search evaluates, Appendix C, where L1 and L2 code by softmax), the running-best trace (Figures 11, 18), each running-best update with what it changed (Table 5), and the best program.</p>
<section class=\"table\" id=\"l3-table\"><h3>Searched policy versus baselines, held-out seeds</h3><table><thead><tr><th>method</th>{head}</tr></thead><tbody>{rows}</tbody></table></section>
<section class=\"figure\" id=\"l3-trace\"><h3>Running best</h3><p class=\"caption\">Grey: each evaluated child's screen fitness; line: the running best on validation seeds; dashes: updates.</p><div class=\"panels\"><div class=\"panel\">{trace}</div></div></section>
<section class=\"table\" id=\"l3-updates\"><h3>Running-best updates</h3><table><thead><tr><th>iteration</th><th>operator</th><th>fields changed</th><th>validation fitness</th><th>up-coding</th><th>rejection</th><th>waiting</th></tr></thead><tbody>{update_rows}</tbody></table></section>
{monitor}{usage}<section id=\"l3-best\"><h3>The best program</h3><pre class=\"program\">{}</pre></section>",
        esc(&dir.display().to_string()),
        esc(&best)
    );
    (headline, html)
}

/// A multi-objective search's final front, from `result.json` (nothing for a scalar search).
fn front_section(result: &serde_json::Value) -> String {
    let Some(f) = result.get("pareto_front") else {
        return String::new();
    };
    let names: Vec<&str> = f
        .get("objectives")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let points = f
        .get("points")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    let head: String = names
        .iter()
        .map(|n| format!("<th>{}</th>", esc(n)))
        .collect();
    let rows: String = points
        .iter()
        .map(|p| {
            let v = |side: &str, n: &str| {
                p.get(side)
                    .and_then(|s| s.get(n))
                    .and_then(|v| v.as_f64())
                    .unwrap_or(f64::NAN)
            };
            let cells: String = names
                .iter()
                .map(|n| format!("<td>{:.4} / {:.4}</td>", v("training", n), v("held_out", n)))
                .collect();
            let hash = p.get("hash").and_then(|v| v.as_str()).unwrap_or("");
            format!(
                "<tr><td>{}</td>{cells}</tr>",
                esc(&hash[..hash.len().min(12)])
            )
        })
        .collect();
    format!(
        "<section class=\"table\" id=\"l3-front\"><h3>Pareto front</h3><p class=\"caption\">The {} programs on the final islands' non-dominated front (selection by front, then crowding, on {} objectives); each objective on the training / held-out seeds.</p><table><thead><tr><th>program</th>{head}</tr></thead><tbody>{rows}</tbody></table></section>",
        points.len(),
        names.len()
    )
}

/// The reward-hacking monitor's counts and flagged children, from `result.json` (nothing for
/// a run made before the monitor).
fn reward_hacking_section(result: &serde_json::Value) -> String {
    let Some(m) = result.get("reward_hacking") else {
        return String::new();
    };
    let n = |k: &str| m.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let rows: String = m
        .get("flagged_children")
        .and_then(|v| v.as_array())
        .map(|rows| {
            rows.iter()
                .map(|c| {
                    let f = |k: &str| c.get(k).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
                    let delta = |side: &str| {
                        format!("{:+.4}", f(&format!("{side}_child")) - f(&format!("{side}_parent")))
                    };
                    format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        c.get("iteration").and_then(|v| v.as_u64()).unwrap_or(0),
                        esc(c.get("operator").and_then(|v| v.as_str()).unwrap_or("")),
                        delta("training"),
                        delta("validation"),
                        delta("held_out"),
                        esc(c.get("flags").and_then(|v| v.as_str()).unwrap_or("")),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "<section class=\"table\" id=\"l3-monitor\"><h3>Reward-hacking monitor</h3><p class=\"caption\">Every child that beat its parent on the evolution seeds ({} of them), checked with its parent after the search on the validation and held-out seeds: {} flagged — {} gains not confirmed on validation, {} not on held-out seeds, {} raising a safety channel (the difference's 95% interval above 0). Fitness changes, child minus parent:</p><table><thead><tr><th>iteration</th><th>operator</th><th>training</th><th>validation</th><th>held-out</th><th>flags</th></tr></thead><tbody>{rows}</tbody></table></section>",
        n("gains_checked"),
        n("flagged"),
        n("not_validated"),
        n("not_held_out"),
        n("raise_a_safety_channel"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use medisim_core::{Summaries, Summary};
    use std::collections::BTreeMap;

    fn cell(labels: &[(&str, &str)], values: &[(Metric, f64)]) -> Cell {
        let mut s = Summaries::new();
        for (m, v) in values {
            s.insert(*m, Summary::exact(*v, 1));
        }
        Cell {
            key: String::new(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            summary: s,
        }
    }

    /// The sentences carry the cells' numbers, and their verbs follow the measured sign.
    #[test]
    fn headlines_say_what_the_cells_show() {
        let l1 = vec![
            cell(
                &[("alpha", "0"), ("beta", "0")],
                &[(Metric::UpcodingRate, 0.01)],
            ),
            cell(
                &[("alpha", "1"), ("beta", "0")],
                &[(Metric::UpcodingRate, 0.65)],
            ),
        ];
        let audit = |v: &str, up: f64, cp: f64| {
            cell(
                &[
                    ("lever", "audit"),
                    ("regime", "profit-driven"),
                    ("value", v),
                ],
                &[(Metric::UpcodingRate, up), (Metric::CherryPickingGap, cp)],
            )
        };
        let l2 = vec![audit("0", 0.8, 0.3), audit("0.5", 0.3, 0.1)];
        let h = headlines(&l1, &l2);
        assert_eq!(h.len(), 2, "no flex cells, no third sentence: {h:?}");
        assert!(
            h[0].contains("rises from 0.010 at α = 0 to 0.650"),
            "{}",
            h[0]
        );
        assert!(
            h[1].contains("cherry-picking gap falls from 0.300 to 0.100"),
            "{}",
            h[1]
        );
    }

    #[test]
    fn a_directory_without_a_search_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let (headline, html) = l3_section(dir.path());
        assert!(headline.is_none());
        assert!(html.contains("medisim search --objective mixed"));
        std::fs::write(
            dir.path().join("result.json"),
            r#"{"searched": {"fitness": 2.0, "upcoding_rate": 0.0}, "best_warm_start": {"fitness": 1.0}, "fixed": {"upcoding_rate": 0.1}, "llm_usage": [{"model": "m", "calls": 3, "children": 2, "prompt_tokens": 10, "completion_tokens": 5, "cost": 0.5}]}"#,
        )
        .unwrap();
        let (headline, html) = l3_section(dir.path());
        assert!(headline.unwrap().contains("finds a better rule"));
        assert!(
            html.contains("id=\"l3-llm\"") && html.contains("<td>m</td><td>3</td><td>2</td>"),
            "{html}"
        );
        assert!(
            !html.contains("l3-monitor"),
            "a run before the monitor has none"
        );
        std::fs::write(
            dir.path().join("result.json"),
            r#"{"reward_hacking": {"gains_checked": 4, "flagged": 1, "not_validated": 0, "not_held_out": 1, "raise_a_safety_channel": 1, "flagged_children": [{"iteration": 7, "operator": "offline:recombine", "training_parent": 1.0, "training_child": 1.5, "validation_parent": 1.0, "validation_child": 1.25, "held_out_parent": 1.0, "held_out_child": 0.75, "flags": "gain not held out; raises v_upcoding"}]}}"#,
        )
        .unwrap();
        let (_, html) = l3_section(dir.path());
        assert!(
            html.contains("(4 of them), checked")
                && html.contains("<td>7</td><td>offline:recombine</td><td>+0.5000</td><td>+0.2500</td><td>-0.2500</td><td>gain not held out; raises v_upcoding</td>"),
            "{html}"
        );
    }
}
