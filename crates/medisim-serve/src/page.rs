//! The Medi-Sim page: every numeric scenario key and the policy's α and β as controls with their
//! unit, legal range and meaning (from the scenario's own documentation and range tables, so a
//! new key appears here without a change), a policy editor checked as it is typed, Run with live
//! progress and Cancel, and the result by channel with 95% intervals and the command that
//! reproduces it.

use medisim_core::text::html_escape as esc;
use medisim_core::Model;
use medisim_dsl::ast::ExprKind;
use medisim_sim::scenario::{range_of, KeyRange};
use medisim_sim::scenario_docs::KEY_DOCS;
use medisim_sim::{Field, MediSim, Metric, Scenario};

/// One control: a key the run request may `set`.
struct Control {
    key: &'static str,
    unit: &'static str,
    meaning: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    range: String,
}

/// What a lever of [`crate::runs::LEVERS`] is, in a line.
fn lever_meaning(key: &str) -> &'static str {
    match key {
        "alpha" => "α: the teams' financial weight (Eq. 2)",
        "beta" => "β: the teams' quality weight (Eq. 2)",
        _ => "",
    }
}

fn controls() -> Vec<Control> {
    let scenario = Scenario::default();
    KEY_DOCS
        .iter()
        .filter_map(|d| {
            let r: &KeyRange = range_of(d.key)?;
            // Lists (case-mix shares, a schedule) are edited in a scenario file, not here.
            if r.max_len > 0 {
                return None;
            }
            Some(Control {
                key: d.key,
                unit: d.unit,
                meaning: d.meaning,
                value: scenario.value(d.key).ok()?,
                lo: r.lo,
                hi: r.hi,
                range: r.to_string(),
            })
        })
        .collect()
}

/// The section a key is grouped under (its prefix, as in `medisim scenario` and docs/model.md).
fn section(key: &str) -> &str {
    key.split_once('.').map_or("general", |(s, _)| s)
}

fn number_input(c: &Control) -> String {
    format!(
        "<label class=\"key\" title=\"{meaning}\"><span class=\"name\">{key}</span>\
         <input type=\"number\" step=\"any\" name=\"{key}\" value=\"{value}\" data-default=\"{value}\" min=\"{lo}\" max=\"{hi}\">\
         <span class=\"unit\">{unit}</span><span class=\"range\">{range}</span><span class=\"meaning\">{meaning}</span></label>",
        key = esc(c.key),
        value = c.value,
        lo = c.lo,
        hi = c.hi,
        unit = esc(c.unit),
        range = esc(&c.range),
        meaning = esc(c.meaning),
    )
}

fn lever_inputs() -> String {
    let policy = medisim_sim::baseline();
    crate::runs::LEVERS
        .iter()
        .filter_map(|key| {
            let field = Field::ALL.into_iter().find(|f| f.name() == *key)?;
            // The baseline's constant; a lever the baseline computes by a rule has no slider.
            let ExprKind::Num(v) = policy.expr(field).kind else {
                return None;
            };
            let meaning = lever_meaning(key);
            Some(format!(
                "<label class=\"lever\"><span class=\"name\">{key}</span>\
                 <input type=\"range\" min=\"0\" max=\"1\" step=\"0.05\" name=\"{key}\" value=\"{v}\" data-default=\"{v}\">\
                 <output>{v}</output><span class=\"meaning\">{}</span></label>",
                esc(meaning)
            ))
        })
        .collect()
}

/// The metric groups (channel → metric names) for the result table.
fn groups_json() -> String {
    let groups: Vec<serde_json::Value> = Metric::GROUPS
        .iter()
        .map(|(g, ms)| {
            serde_json::json!({
                "group": g,
                "metrics": ms.iter().map(|m| serde_json::json!({"name": medisim_core::Metric::name(*m), "unit": medisim_core::Metric::unit(*m)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::Value::Array(groups).to_string()
}

/// The page.
pub fn medisim() -> String {
    let mut sections: Vec<(&str, Vec<String>)> = Vec::new();
    for c in controls() {
        let s = section(c.key);
        match sections.iter_mut().find(|(name, _)| *name == s) {
            Some((_, items)) => items.push(number_input(&c)),
            None => sections.push((s, vec![number_input(&c)])),
        }
    }
    let scenario_html: String = sections
        .iter()
        .map(|(name, items)| {
            format!(
                "<details><summary>{}</summary>{}</details>",
                esc(name),
                items.concat()
            )
        })
        .collect();
    PAGE.replace("{levers}", &lever_inputs())
        .replace("{scenario}", &scenario_html)
        .replace("{policy}", &esc(medisim_sim::schema::BASELINE_SOURCE))
        .replace("{groups}", &groups_json())
        .replace("{model_version}", &esc(&MediSim.version().to_string()))
}

const PAGE: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medisim serve — Medi-Sim</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { background: #24405e; color: #fff; padding: 0.6em 1em; }
header b { font-size: 1.2em; } header span { opacity: 0.8; margin-left: 1em; }
main { display: grid; grid-template-columns: minmax(22em, 30em) 1fr; gap: 1em; padding: 1em; }
.panel { border: 1px solid #ccc; border-radius: 4px; padding: 0.6em; background: #fafafa; }
label.key, label.lever { display: grid; grid-template-columns: 12em 7em 1fr; gap: 0.3em; align-items: center; margin: 0.2em 0; }
label .meaning { grid-column: 1 / -1; font-size: 0.8em; color: #666; }
label .range, label .unit { font-size: 0.8em; color: #444; }
details summary { cursor: pointer; font-weight: bold; margin-top: 0.4em; }
textarea { width: 100%; height: 22em; font-family: ui-monospace, monospace; font-size: 0.85em; }
textarea.bad { border: 2px solid #c0392b; } textarea.good { border: 2px solid #2e8b57; }
#diagnostics li { font-family: ui-monospace, monospace; font-size: 0.85em; color: #c0392b; }
progress { width: 20em; } #error { color: #c0392b; white-space: pre-wrap; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { border-bottom: 1px solid #ddd; padding: 0.2em 0.6em; text-align: right; }
td:first-child, th:first-child { text-align: left; } tr.group td { font-weight: bold; background: #eef; text-align: left; }
code { background: #eee; padding: 0 0.2em; }
</style></head><body>
<header><b>medisim serve</b><span>Medi-Sim · model {model_version}</span></header>
<main>
<section class="panel" id="setting">
<h3>Incentives</h3>{levers}
<h3>Run</h3>
<label class="key"><span class="name">seeds</span><input name="seeds" value="1..30"><span class="unit">a..b or a,b,c</span></label>
<label class="key"><span class="name">horizon</span><input name="horizon" type="number" value="200" min="1"><span class="unit">periods</span></label>
<p><button id="run">Run</button> <button id="cancel" disabled>Cancel</button> <progress id="progress" value="0" max="1"></progress> <span id="count"></span></p>
<p id="error"></p>
<h3>Scenario</h3><p class="note">Every numeric key with its unit and legal range; a value outside it is refused, never clipped.</p>
{scenario}
</section>
<section>
<div class="panel"><h3>Policy</h3>
<textarea id="policy" spellcheck="false">{policy}</textarea>
<p id="check-state"></p><ul id="diagnostics"></ul></div>
<div class="panel" id="results"><h3>Results</h3><p id="provenance">No run yet.</p><table id="metrics"></table></div>
</section>
</main>
<script>
const GROUPS = {groups};
const $ = (s) => document.querySelector(s);
let current = null, source = null, checkTimer = null, policyOk = true;
const baseline = $("#policy").value;
for (const r of document.querySelectorAll('input[type=range]')) {
  r.addEventListener('input', () => { r.nextElementSibling.textContent = r.value; });
}
function request() {
  const set = {};
  for (const i of document.querySelectorAll('#setting input[data-default]')) {
    if (i.value !== '' && Number(i.value) !== Number(i.dataset.default)) set[i.name] = Number(i.value);
  }
  const body = { set, seeds: $('input[name=seeds]').value, horizon: Number($('input[name=horizon]').value) };
  const p = $("#policy").value;
  if (p !== baseline) body.policy = p;
  return body;
}
function text(s) { const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
async function check() {
  const r = await fetch('/api/check', { method: 'POST', body: $("#policy").value });
  const v = await r.json();
  policyOk = v.ok;
  $("#policy").className = v.ok ? 'good' : 'bad';
  $("#check-state").textContent = v.ok ? `checks: ${v.name} (${(v.hash || '').slice(0, 12)})` : 'does not check';
  $("#diagnostics").innerHTML = (v.diagnostics || []).map(d =>
    `<li data-line="${d.line}" data-column="${d.column}">line ${d.line}, column ${d.column}: ${text(d.severity)}: ${text(d.message)}${d.expected ? ' (' + text(d.expected) + ')' : ''}</li>`).join('');
}
$("#policy").addEventListener('input', () => { clearTimeout(checkTimer); checkTimer = setTimeout(check, 300); });
function fmt(x) { return (x === null || x === undefined) ? '' : Number(x).toFixed(4); }
function show(result) {
  const rows = [];
  for (const g of GROUPS) {
    rows.push(`<tr class="group"><td colspan="4">${text(g.group)}</td></tr>`);
    for (const m of g.metrics) {
      const s = result.metrics[m.name];
      if (!s) continue;
      const ci = s.ci95 ? `[${fmt(s.ci95[0])}, ${fmt(s.ci95[1])}]` : '';
      rows.push(`<tr data-metric="${m.name}"><td>${text(m.name)}</td><td>${fmt(s.mean)}</td><td>${ci}</td><td>${text(m.unit)}</td></tr>`);
    }
  }
  $("#metrics").innerHTML = '<tr><th>metric</th><th>mean</th><th>95% interval</th><th>unit</th></tr>' + rows.join('');
  $("#provenance").innerHTML = `policy <code>${text(result.policy)}</code>, seeds ${result.seeds.length}, horizon ${result.horizon}, model ${text(result.model_version)}; ` +
    `${result.cells_computed} cells computed, ${result.cells_reused} from the cache. The same numbers: <code>${text(result.command)}</code>`;
}
function end(state) {
  $("#run").disabled = false; $("#cancel").disabled = true;
  if (source) { source.close(); source = null; }
  if (state.state === 'done') show(state.result);
  else if (state.state === 'failed') $("#error").textContent = state.error;
  else if (state.state === 'cancelled') $("#error").textContent = 'cancelled';
}
$("#run").addEventListener('click', async () => {
  $("#error").textContent = '';
  const r = await fetch('/api/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request()) });
  const v = await r.json();
  if (!r.ok) { $("#error").textContent = v.error; return; }
  current = v.id; $("#run").disabled = true; $("#cancel").disabled = false;
  source = new EventSource(`/api/runs/${current}/events`);
  source.addEventListener('progress', (e) => {
    const s = JSON.parse(e.data); $("#progress").max = Math.max(s.total, 1); $("#progress").value = s.done; $("#count").textContent = `${s.done} / ${s.total} seeds`;
  });
  source.addEventListener('end', (e) => { const s = JSON.parse(e.data); $("#progress").value = s.done; $("#count").textContent = `${s.done} / ${s.total} seeds`; end(s); });
});
$("#cancel").addEventListener('click', () => { if (current) fetch(`/api/runs/${current}/cancel`, { method: 'POST' }); });
check();
// A link may carry a setting to run at once: #run?seeds=1..5&horizon=50&alpha=0.8 (any input's name).
if (location.hash.startsWith('#run')) {
  const q = new URLSearchParams(location.hash.slice(5));
  for (const [k, v] of q) { const i = document.querySelector(`#setting input[name="${CSS.escape(k)}"]`); if (i) { i.value = v; i.dispatchEvent(new Event('input')); } }
  $("#run").click();
}
</script></body></html>
"##;
