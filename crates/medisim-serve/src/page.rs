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

/// The policy's other numbers as controls: every field the baseline sets to a constant, besides
/// the levers, with its legal range and meaning from the schema. A control rewrites the
/// field's line in the policy editor, so the run takes them as a policy (`--policy FILE`).
fn policy_number_inputs() -> String {
    let policy = medisim_sim::baseline();
    let schema = medisim_sim::hospital();
    schema
        .field_ids()
        .filter_map(|id| {
            let f = schema.field(id);
            let ExprKind::Num(v) = policy.expr(id).kind else {
                return None;
            };
            if crate::runs::LEVERS.contains(&f.name.as_str()) {
                return None;
            }
            // The bounds a typed value must keep (another field's bound is the language's).
            use medisim_dsl::schema::Range;
            let (lo, hi, integer) = match &f.range {
                Range::Real([lo, hi]) => (*lo, *hi, false),
                Range::Integer([lo, hi]) => (*lo, *hi, true),
                Range::IntegerUpTo { lo, .. } => (*lo, f64::MAX, true),
                Range::Flag => (f64::MIN, f64::MAX, false),
            };
            Some(format!(
                "<label class=\"key\" title=\"{doc}\"><span class=\"name\">{name}</span>\
                 <input type=\"number\" step=\"any\" data-field=\"{name}\" data-lo=\"{lo}\" data-hi=\"{hi}\" data-integer=\"{integer}\" value=\"{v}\">\
                 <span class=\"range\">{range}</span><span class=\"meaning\">{doc}</span></label>",
                name = esc(&f.name),
                doc = esc(&f.doc),
                range = esc(&f.range.to_string()),
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

/// The controls every page that starts work shares, where its body says `{run}`: the horizon,
/// Run, Cancel, the progress bar and the error line.
const RUN_CONTROLS: &str = r##"<label class="key"><span class="name">horizon</span><input name="horizon" type="number" value="200" min="1"><span class="unit">periods</span></label>
<p><button id="run">Run</button> <button id="cancel" disabled>Cancel</button> <progress id="progress" value="0" max="1"></progress> <span id="count"></span></p>
<p id="error"></p>"##;

/// A page of the dashboard: the shared header, style and script around a body and its script.
fn page(title: &str, body: &str, script: &str) -> String {
    let body = body.replace("{run}", RUN_CONTROLS);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>medisim serve — {title}</title>\n\
         <style>\n{STYLE}</style></head><body>\n\
         <header><b>medisim serve</b><nav><a href=\"/\">Medi-Sim run</a><a href=\"/l1\">L1 phase diagram</a><a href=\"/compare\">Paired comparison</a><a href=\"/displacement\">Channel displacement</a><a href=\"/findings\">Findings</a><a href=\"/search\">Search</a><a href=\"/models\">Other models</a></nav>\
         <span>model {}</span></header>\n{body}<script>\n{}{script}</script></body></html>\n",
        esc(&MediSim.version().to_string()),
        COMMON_JS.replace("{groups}", &groups_json()),
    )
}

/// The Medi-Sim page.
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
    let body = MEDISIM_BODY
        .replace("{levers}", &lever_inputs())
        .replace("{policy_numbers}", &policy_number_inputs())
        .replace("{scenario}", &scenario_html)
        .replace("{policy}", &esc(medisim_sim::schema::BASELINE_SOURCE));
    page("Medi-Sim", &body, MEDISIM_JS)
}

/// The paired comparison: two policies on the same seeds, each metric's difference with its
/// paired 95% interval, updated as the seeds come in.
pub fn compare() -> String {
    let policy = esc(medisim_sim::schema::BASELINE_SOURCE);
    page(
        "paired comparison",
        &COMPARE_BODY.replace("{policy}", &policy),
        COMPARE_JS,
    )
}

const COMPARE_BODY: &str = r##"<main>
<section class="panel" id="setting">
<h3>Paired comparison</h3>
<p class="note">Two policies, or two scenarios, on the same seeds: seed s draws the same patients for both (common random numbers), so each metric's difference B − A is the settings', and its interval is the paired one. The table fills in as the seeds come in. A side's scenario changes are lines <code>key = value</code> (any key of the Medi-Sim page's scenario, or α and β).</p>
<label class="key"><span class="name">seeds</span><input name="seeds" value="1..30"><span class="unit">a..b or a,b,c</span></label>
{run}
<h3>A</h3><textarea id="set-a" class="sets" spellcheck="false" placeholder="scenario changes, e.g. arrivals.rate = 10"></textarea>
<textarea id="policy-a" spellcheck="false">{policy}</textarea>
<h3>B</h3><textarea id="set-b" class="sets" spellcheck="false" placeholder="scenario changes, e.g. arrivals.rate = 10"></textarea>
<textarea id="policy-b" spellcheck="false">{policy}</textarea>
</section>
<section class="panel"><h3>B − A</h3><p id="provenance"></p><table id="metrics"></table></section>
</main>
"##;

const COMPARE_JS: &str = r##"const original = $("#policy-a").value;
// A side's scenario changes, `key = value` a line (blank lines and # comments skipped).
function sets(id) {
  const set = {};
  $(id).value.split('\n').forEach((line, i) => {
    const l = line.replace(/#.*/, '').trim();
    if (!l) return;
    const [k, v, extra] = l.split('=').map(x => x.trim());
    if (extra !== undefined || !k || v === undefined || v === '' || !Number.isFinite(Number(v))) throw new Error(`${id.slice(1)}, line ${i + 1}: expected key = number, got "${l}"`);
    set[k] = Number(v);
  });
  return set;
}
function side(id, setId) {
  const p = $(id).value;
  const body = { seeds: $('input[name=seeds]').value, horizon: Number($('input[name=horizon]').value), set: sets(setId) };
  if (p !== original) body.policy = p;
  return body;
}
function partial(s) {
  if (!s.partial) return;
  $("#provenance").textContent = `${s.partial.pairs} seeds so far`;
  $("#metrics").innerHTML = diffTable(s.partial.differences);
}
onProgress = partial;
$("#run").addEventListener('click', () => {
  let body;
  try { body = { a: side('#policy-a', '#set-a'), b: side('#policy-b', '#set-b') }; }
  catch (e) { $("#error").textContent = e.message; return; }
  startJob('/api/compare', body, (r) => {
    $("#provenance").innerHTML = `${r.pairs} seeds, horizon ${r.horizon}; A <code>${text(r.a.policy)}</code>, B <code>${text(r.b.policy)}</code>; ${r.cells_computed} cells computed, ${r.cells_reused} from the cache. Each side: A <code>${text(r.a.command)}</code>, B <code>${text(r.b.command)}</code>`;
    $("#metrics").innerHTML = diffTable(r.differences, r.a.metrics, r.b.metrics);
  });
});
runFromLink();
"##;

/// The channel-displacement view: one lever moved, the same seeds, every channel's change.
pub fn displacement() -> String {
    page("channel displacement", DISPLACEMENT_BODY, DISPLACEMENT_JS)
}

const DISPLACEMENT_BODY: &str = r##"<main>
<section class="panel" id="setting">
<h3>Where the pressure goes</h3>
<p class="note">One lever moved from one value to another, everything else fixed, on the same seeds (common random numbers): every channel's change B − A with its paired 95% interval. Closing one channel (an audit against up-coding) shows where the pressure resurfaces (selection, delay).</p>
<label class="key"><span class="name">lever</span><input name="lever" list="levers" value="audit.base_prob"><span class="unit">a scenario key or a policy field</span></label>
<datalist id="levers"><option value="audit.base_prob"><option value="bonus_pool"><option value="kappa"><option value="total_capacity"><option value="flex_pool"><option value="xi"><option value="wH"><option value="wC"><option value="alpha"><option value="beta"></datalist>
<label class="key"><span class="name">from</span><input name="from" type="number" value="0" step="any"><span class="unit">A</span></label>
<label class="key"><span class="name">to</span><input name="to" type="number" value="0.5" step="any"><span class="unit">B</span></label>
<label class="key"><span class="name">alpha</span><input name="alpha" type="number" value="0.8" min="0" max="1" step="0.05"><span class="unit">profit sensitivity α</span></label>
<label class="key"><span class="name">beta</span><input name="beta" type="number" value="0.2" min="0" max="1" step="0.05"><span class="unit">quality sensitivity β</span></label>
<label class="key"><span class="name">seeds</span><input name="seeds" value="1..30"><span class="unit">a..b or a,b,c</span></label>
{run}
</section>
<section class="panel"><h3>B − A by channel</h3><p id="provenance"></p><table id="metrics"></table></section>
</main>
"##;

const DISPLACEMENT_JS: &str = r##"const value = (n) => $(`input[name=${n}]`).value;
onProgress = (s) => {
  if (!s.partial) return;
  $("#provenance").textContent = `${s.partial.pairs} seeds so far`;
  $("#metrics").innerHTML = diffTable(s.partial.differences, null, null, true);
};
$("#run").addEventListener('click', () => {
  // The regime's α and β, unless one of them is the lever itself.
  const set = { alpha: Number(value('alpha')), beta: Number(value('beta')) };
  delete set[value('lever')];
  startJob('/api/displacement', {
    lever: value('lever'), from: Number(value('from')), to: Number(value('to')),
    base: { set, seeds: value('seeds'), horizon: Number(value('horizon')) },
  }, showShift);
});
function showShift(r) {
  $("#provenance").innerHTML = `<code>${text(r.lever)}</code> ${r.from} → ${r.to}; ${r.pairs} seeds, horizon ${r.horizon}; ${r.cells_computed} cells computed, ${r.cells_reused} from the cache. Both sides: <code>${text(r.command)}</code>`;
  $("#metrics").innerHTML = diffTable(r.differences, r.a.metrics, r.b.metrics, true);
}
runFromLink();
"##;

/// The search page: a run directory under `--out` read while its search runs.
pub fn search() -> String {
    page("search", SEARCH_BODY, SEARCH_JS)
}

const SEARCH_BODY: &str = r##"<main>
<section class="panel" id="setting">
<h3>A search's run directory</h3>
<p class="note">Every run directory under the server's output directory (<code>medisim search --out DIR</code> with DIR inside it, or <code>reproduce</code>'s <code>search/</code>), read from its event log and store while the search runs — refreshed every second until it writes its result.</p>
<h3>Start a search</h3>
<p class="note">A new run directory under the output directory, searched on the built-in scenario with <code>medisim search</code>'s other defaults, and watched below as it runs. Cancel stops it where <code>medisim search --resume</code> continues it.</p>
<label class="key"><span class="name">name</span><input name="name" value="search-1"><span class="unit">a new directory</span></label>
<label class="key"><span class="name">objective</span><select name="objective"><option>mixed</option><option>profit</option><option>welfare</option></select><span class="unit">Eq. 8</span></label>
<label class="key"><span class="name">iterations</span><input name="iterations" type="number" value="200" min="1" max="2000"><span class="unit">1 to 2,000</span></label>
<p><button id="run">Start</button> <button id="cancel" disabled>Cancel</button> <progress id="progress" value="0" max="1"></progress> <span id="count"></span></p>
<p id="error"></p>
<p id="started"></p>
<h3>Watch</h3>
<label class="key"><span class="name">run</span><select id="dir"></select><span class="unit"><button id="reload">list again</button></span></label>
<p id="state"></p>
<p id="view-error"></p>
<h3>Islands</h3><table id="islands"></table>
<h3>Operators</h3><table id="operators"></table>
<h3>MAP-Elites archive</h3><p class="note">Each cell of the search's behaviour grid holds the fittest program found in it so far (training fitness; darker is fitter); click one to open it.</p><table id="archive"></table>
<h3>Models</h3><table id="models"></table>
<h3>Reward-hacking monitor</h3><p id="monitor-state" class="note">Once the search ends: every child that beat its parent on the training seeds, checked with its parent on the validation and held-out seeds.</p><table id="monitor"></table>
<h3>Pareto front</h3><p id="front-state" class="note">A search with --objectives ranks each island by non-dominated front, then crowding; once it ends, its final front is listed here with each objective on the training and the held-out seeds.</p><table id="front"></table>
</section>
<section>
<div class="panel"><h3>Fitness against evaluations</h3><div id="chart"></div>
<p class="note">Dots: each child's training fitness, coloured by island. Line: the incumbent's validation fitness, the warm start's first.</p></div>
<div class="panel"><h3>Lineage</h3><div id="lineage"></div>
<p class="note">Each evaluated child at its iteration and training fitness, joined to its first parent (a child of a library program starts at the left edge); the incumbent's ancestry in black. Click a child to open it beside its parent.</p></div>
<div class="panel"><h3>The incumbent's updates</h3><table id="bests"></table></div>
<div class="panel" id="program"><h3>Program</h3><p id="program-head">Click an update to open its program beside its parent.</p>
<table id="trade"></table>
<div style="display:grid;grid-template-columns:1fr 1fr;gap:0.5em"><pre id="parent-text"></pre><pre id="program-text"></pre></div></div>
</section>
</main>
"##;

const SEARCH_JS: &str = r##"const ISLAND = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#f0e442', '#000000'];
let timer = null, drawn = null, drawnDir = null;
async function ask(url, body) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const v = await r.json();
  if (!r.ok) throw new Error(v.error);
  return v;
}
async function listRuns() {
  const v = await (await fetch('/api/searches')).json();
  const want = new URLSearchParams(location.hash.slice(1)).get('dir');
  $("#dir").innerHTML = v.runs.map(d => `<option${d === want ? ' selected' : ''}>${text(d)}</option>`).join('');
  if (!v.runs.length) $("#state").textContent = 'No run directory under the output directory yet.';
  else show();
}
function chart(v) {
  const w = 640, h = 260, pad = 40;
  const ys = v.children.map(c => c.fitness).concat(v.bests.map(b => b.validation_fitness)).filter(Number.isFinite);
  if (!ys.length) return '';
  const lo = Math.min(...ys), hi = Math.max(...ys), n = Math.max(v.children.length, 1);
  const x = (i) => pad + (w - 2 * pad) * i / n, y = (f) => h - pad - (h - 2 * pad) * (hi > lo ? (f - lo) / (hi - lo) : 0.5);
  const dots = v.children.map((c, i) => !Number.isFinite(c.fitness) ? '' : `<circle class="child" cx="${x(i + 1).toFixed(1)}" cy="${y(c.fitness).toFixed(1)}" r="2.5" fill="${ISLAND[c.island % ISLAND.length]}"><title>${text(c.operator)} · island ${c.island} · ${fmt(c.fitness)}</title></circle>`).join('');
  let path = '';
  v.bests.filter(b => Number.isFinite(b.validation_fitness)).forEach((b, i) => { path += `${i ? 'H' + x(b.evaluations).toFixed(1) + 'V' : 'M' + x(b.evaluations).toFixed(1) + ','}${y(b.validation_fitness).toFixed(1)}`; });
  if (v.bests.length) path += 'H' + x(n).toFixed(1);
  return `<svg width="${w}" height="${h}" role="img"><line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#999"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#999"/>` +
    `<text x="${pad}" y="${h - pad + 16}" font-size="11">0</text><text x="${w - pad}" y="${h - pad + 16}" font-size="11" text-anchor="end">${n} evaluations</text>` +
    `<text x="${pad - 4}" y="${y(hi) + 4}" font-size="11" text-anchor="end">${hi.toFixed(2)}</text><text x="${pad - 4}" y="${y(lo) + 4}" font-size="11" text-anchor="end">${lo.toFixed(2)}</text>` +
    dots + `<path id="best-line" d="${path}" fill="none" stroke="#222" stroke-width="2"/></svg>`;
}
function archive(v) {
  const ax = v.archive_axes;
  if (!ax) return '';
  const at = {};
  for (const e of v.archive) at[e.cell[0] + ',' + e.cell[1]] = e;
  const fs = v.archive.map(e => e.fitness).filter(Number.isFinite), lo = Math.min(...fs), hi = Math.max(...fs);
  const rows = ax[0].cells.map((r, i) => `<tr><th>${text(r)}</th>` + ax[1].cells.map((_, j) => {
    const e = at[i + ',' + j];
    if (!e) return '<td class="empty">—</td>';
    const shade = 0.15 + 0.6 * (hi > lo && Number.isFinite(e.fitness) ? (e.fitness - lo) / (hi - lo) : 1);
    return `<td class="elite" data-cell="${i},${j}" style="background: rgba(0, 114, 178, ${shade.toFixed(2)})"><a href="#" data-hash="${text(e.hash)}">${fmt(e.fitness)}</a></td>`;
  }).join('') + '</tr>');
  return `<tr><th>${text(ax[0].name)} ↓ / ${text(ax[1].name)} →</th>` + ax[1].cells.map(c => `<th>${text(c)}</th>`).join('') + '</tr>' + rows.join('');
}
function lineage(v) {
  const kids = v.children.filter(c => Number.isFinite(c.fitness));
  if (!kids.length) return '';
  const w = 640, h = 260, pad = 40;
  const fs = kids.map(c => c.fitness), lo = Math.min(...fs), hi = Math.max(...fs), last = Math.max(1, ...kids.map(c => c.iteration));
  const x = (k) => pad + (w - 2 * pad) * k / last, y = (f) => h - pad - (h - 2 * pad) * (hi > lo ? (f - lo) / (hi - lo) : 0.5);
  const at = {};
  for (const c of kids) at[c.hash] = c;
  // The incumbent's ancestry among the children, from it back to the library.
  const ancestry = new Set();
  for (let c = v.bests.length ? at[v.bests[v.bests.length - 1].hash] : null; c && !ancestry.has(c.hash); c = at[c.parent]) ancestry.add(c.hash);
  const edges = kids.map(c => {
    const p = at[c.parent], on = ancestry.has(c.hash);
    const [px, py] = p ? [x(p.iteration), y(p.fitness)] : [pad, y(c.fitness)];
    return `<line class="edge${on ? ' ancestry' : ''}" x1="${px.toFixed(1)}" y1="${py.toFixed(1)}" x2="${x(c.iteration).toFixed(1)}" y2="${y(c.fitness).toFixed(1)}" stroke="${on ? '#222' : '#bbb'}" stroke-width="${on ? 2 : 0.7}"/>`;
  }).join('');
  const nodes = kids.map(c => `<circle class="node" data-hash="${text(c.hash)}" cx="${x(c.iteration).toFixed(1)}" cy="${y(c.fitness).toFixed(1)}" r="3" fill="${ISLAND[c.island % ISLAND.length]}"><title>iteration ${c.iteration} · ${text(c.operator)} · ${fmt(c.fitness)}</title></circle>`).join('');
  return `<svg width="${w}" height="${h}" role="img"><line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#999"/>` +
    `<text x="${pad}" y="${h - pad + 16}" font-size="11">library</text><text x="${w - pad}" y="${h - pad + 16}" font-size="11" text-anchor="end">iteration ${last}</text>` +
    `<text x="${pad - 4}" y="${y(hi) + 4}" font-size="11" text-anchor="end">${hi.toFixed(2)}</text><text x="${pad - 4}" y="${y(lo) + 4}" font-size="11" text-anchor="end">${lo.toFixed(2)}</text>` +
    edges + nodes + '</svg>';
}
function tally(rows, name) {
  return `<tr><th>${name}</th><th>children</th><th>best training fitness</th><th>new bests</th></tr>` +
    Object.entries(rows).map(([k, t]) => `<tr><td>${text(k)}</td><td>${t.evaluated}</td><td>${fmt(t.best_fitness)}</td><td>${t.new_bests}</td></tr>`).join('');
}
async function show() {
  clearTimeout(timer);
  const dir = $("#dir").value;
  if (!dir) return;
  let v;
  try { v = await ask('/api/search', { dir }); $("#view-error").textContent = ''; }
  catch (e) { $("#view-error").textContent = e.message; timer = setTimeout(show, 1000); return; }
  // Drawn again only when the directory says something new: a stopped search's page stays
  // still under the pointer.
  const seen = JSON.stringify(v);
  if (seen === drawn && dir === drawnDir) { if (!v.finished) timer = setTimeout(show, 1000); return; }
  drawn = seen; drawnDir = dir;
  const ev = v.events;
  $("#state").textContent = `${v.finished ? 'finished' : 'no result yet (running, or stopped: refreshing every second)'}: ${v.children.length} children evaluated, ${ev.duplicate || 0} duplicates, ${ev.same_behaviour || 0} of the same behaviour, ${ev.screened_out || 0} screened out, ${ev.llm_failure || 0} model failures, ${v.migrations.length} migrations, ${v.programs} programs stored.`;
  $("#chart").innerHTML = chart(v);
  $("#islands").innerHTML = tally(v.islands, 'island');
  $("#operators").innerHTML = tally(v.operators, 'operator');
  $("#archive").innerHTML = archive(v);
  $("#lineage").innerHTML = lineage(v);
  // Throughput: tokens per second of waiting for the model, and the mean wait per call.
  $("#models").innerHTML = '<tr><th>model</th><th>calls</th><th>children</th><th>prompt tokens</th><th>completion tokens</th><th>cost</th><th>s / call</th><th>tokens / s</th></tr>' +
    v.models.map(m => `<tr class="model-use"><td>${text(m.model || '(unnamed)')}</td><td>${m.calls}</td><td>${m.children}</td><td>${m.prompt_tokens}</td><td>${m.completion_tokens}</td>` +
      `<td>${m.cost === null ? '' : m.cost.toFixed(4)}</td><td>${m.calls ? (m.latency_ms / 1000 / m.calls).toFixed(2) : ''}</td><td>${m.latency_ms ? ((m.prompt_tokens + m.completion_tokens) / (m.latency_ms / 1000)).toFixed(0) : ''}</td></tr>`).join('');
  $("#bests").innerHTML = '<tr><th>iteration</th><th>after evaluations</th><th>validation fitness</th><th>program</th></tr>' +
    v.bests.map(b => `<tr class="best" data-hash="${text(b.hash)}"><td>${b.iteration}</td><td>${b.evaluations}</td><td>${fmt(b.validation_fitness)}</td><td><a href="#" data-hash="${text(b.hash)}">${text(b.hash.slice(0, 12))}</a></td></tr>`).join('');
  monitor(v.reward_hacking);
  front(v.pareto_front);
  if (!v.finished) timer = setTimeout(show, 1000);
  if (linked) { openProgram(linked); linked = null; }
}
function monitor(m) {
  if (!m) { $("#monitor").innerHTML = ''; return; }
  const listed = m.flagged_children.length < m.flagged ? ` (the first ${m.flagged_children.length} listed; reward_hacking.csv has all)` : '';
  $("#monitor-state").textContent = `${m.gains_checked} children beat their parent in training; ${m.flagged} flagged: ${m.not_validated} not confirmed on validation seeds, ${m.not_held_out} not on held-out seeds, ${m.raise_a_safety_channel} raising a safety channel (95% interval above 0)${listed}. Fitness changes, child minus parent:`;
  // An undefined fitness (NaN, sent as null) on either side is shown as —, not as a change.
  const d = (c, side) => (c[side + '_child'] === null || c[side + '_parent'] === null) ? '—' : fmt(c[side + '_child'] - c[side + '_parent']);
  $("#monitor").innerHTML = '<tr><th>iteration</th><th>operator</th><th>training</th><th>validation</th><th>held-out</th><th>flags</th><th>program</th></tr>' +
    m.flagged_children.map(c => `<tr class="flagged"><td>${c.iteration}</td><td>${text(c.operator)}</td><td>${d(c, 'training')}</td><td>${d(c, 'validation')}</td><td>${d(c, 'held_out')}</td><td>${text(c.flags)}</td><td><a href="#" data-hash="${text(c.hash)}">${text(c.hash.slice(0, 12))}</a></td></tr>`).join('');
}
function front(f) {
  if (!f) { $("#front").innerHTML = ''; return; }
  $("#front-state").textContent = `${f.points.length} programs on the final front over ${f.objectives.length} objectives (training / held-out seeds):`;
  $("#front").innerHTML = '<tr><th>program</th>' + f.objectives.map(o => `<th>${text(o)}</th>`).join('') + '</tr>' +
    f.points.map(p => `<tr class="front-point"><td><a href="#" data-hash="${text(p.hash)}">${text(p.hash.slice(0, 12))}</a></td>` +
      f.objectives.map(o => `<td>${fmt(p.training[o])} / ${fmt(p.held_out[o])}</td>`).join('') + '</tr>').join('');
}
// A program's link in the updates, the monitor, the front, the archive or the lineage opens it
// beside its parent.
for (const table of ['#bests', '#monitor', '#front', '#archive', '#lineage']) {
  $(table).addEventListener('click', (e) => {
    const a = e.target.closest('a[data-hash], circle[data-hash]');
    if (!a) return;
    e.preventDefault();
    openProgram(a.dataset.hash);
  });
}
// A link may name the program to open: #dir=search&open=HASH
let linked = new URLSearchParams(location.hash.slice(1)).get('open');
async function openProgram(hash) {
  try {
    const p = await ask('/api/search/program', { dir: $("#dir").value, hash });
    $("#program-head").innerHTML = `<code>${text(p.hash.slice(0, 12))}</code> by ${text(p.operator)} at iteration ${p.iteration}; parents ${p.parents.map(x => '<code>' + text(x.slice(0, 12)) + '</code>').join(', ') || 'none (the library)'}` +
      (p.fields_changed ? `; fields changed: <b id="fields-changed">${text(p.fields_changed.join(', ') || 'none')}</b>` : '');
    $("#parent-text").textContent = p.parent_text || '';
    $("#program-text").textContent = p.text;
    $("#trade").innerHTML = p.trade ? '<tr><th>training seeds</th><th>parent</th><th>program</th><th>change</th></tr>' +
      p.trade.map(t => `<tr data-metric="${text(t.metric)}"><td>${text(t.metric)}</td><td>${fmt(t.parent)}</td><td>${fmt(t.child)}</td><td>${t.child === null || t.parent === null ? '—' : fmt(t.child - t.parent)}</td></tr>`).join('') : '';
  } catch (err) { $("#view-error").textContent = err.message; }
}
$("#dir").addEventListener('change', show);
$("#reload").addEventListener('click', listRuns);
UNIT = 'iterations';
$("#run").addEventListener('click', async () => {
  const name = $('input[name=name]').value;
  const id = await startJob('/api/search/start', { name, objective: $('select[name=objective]').value, iterations: Number($('input[name=iterations]').value) }, (r) => {
    $("#started").innerHTML = `Done: the incumbent <code>${text(r.best.slice(0, 12))}</code>, validation fitness ${fmt(r.best_validation)}. The same search: <code>${text(r.command)}</code>`;
  });
  if (id === null) return;
  $("#started").textContent = `Started a search into ${name}.`;
  history.replaceState(null, '', `#dir=${encodeURIComponent(name)}`);
  // The directory is listed once the search has claimed it.
  for (let i = 0; i < 40; i++) {
    const v = await (await fetch('/api/searches')).json();
    if (v.runs.includes(name)) { await listRuns(); return; }
    await new Promise(r => setTimeout(r, 250));
  }
  $("#view-error").textContent = `${name} is not listed yet (the list holds the first 200 run directories by name): open it with "list again" once it appears`;
});
listRuns();
"##;

/// The L1 page: the grid run through the cache, the paper's L1 figures drawn by the
/// experiments' own plots, and a click on any cell opens every metric of that cell.
pub fn l1() -> String {
    page("L1 phase diagram", L1_BODY, L1_JS)
}

const L1_BODY: &str = r##"<main>
<section class="panel" id="setting">
<h3>L1: the (α, β) phase diagram</h3>
<p class="note">The built-in scenario and the baseline policy over an α × β grid, as <code>medisim l1</code> runs it; every cell is cached under the server's output directory.</p>
<label class="key"><span class="name">grid</span><input name="grid" type="number" value="11" min="2" max="101"><span class="unit">points per axis</span></label>
<label class="key"><span class="name">seeds</span><input name="seeds" value="1..30"><span class="unit">a..b or a,b,c</span></label>
{run}
<div id="cell"><h3>Cell</h3><p id="cell-name">Click a cell of any map.</p><table id="metrics"></table></div>
</section>
<section><p id="provenance"></p><div id="figures"></div></section>
</main>
"##;

const L1_JS: &str = r##"let cells = {};
function showGrid(result) {
  cells = result.cells;
  $("#provenance").innerHTML = `${result.cells_computed} cells computed, ${result.cells_reused} from the cache; model ${text(result.model_version)}. The same grid: <code>${text(result.command)}</code>`;
  $("#figures").innerHTML = result.figures.map(f =>
    `<figure id="${text(f.id)}"><figcaption><b>${text(f.title)}</b> ${text(f.caption)}</figcaption>` +
    f.panels.map(p => `<div class="map" data-metric="${text(p[0])}">${p[1]}</div>`).join('') + '</figure>').join('');
  // A link may name the cell to open: #run?grid=11&open=0.6,0.7
  const open = new URLSearchParams(location.hash.slice(5)).get('open');
  if (open) showCell(open);
}
function showCell(key) {
  if (!cells[key]) return;
  const [a, b] = key.split(',');
  $("#cell-name").textContent = `α = ${a}, β = ${b}`;
  $("#metrics").innerHTML = metricsTable(cells[key]);
}
$("#figures").addEventListener('click', (e) => {
  const r = e.target.closest('rect.cell');
  if (r) showCell(`${r.dataset.x},${r.dataset.y}`);
});
$("#run").addEventListener('click', () => startJob('/api/l1', {
  grid: Number($('input[name=grid]').value), seeds: $('input[name=seeds]').value, horizon: Number($('input[name=horizon]').value),
}, showGrid));
runFromLink();
"##;

/// The findings page: the nine facts, the paper against this run and the L2 sweeps.
pub fn findings() -> String {
    page("Findings", FINDINGS_BODY, FINDINGS_JS)
}

const FINDINGS_BODY: &str = r##"<main>
<section class="panel" id="setting">
<h3>The paper's findings</h3>
<p class="note">The nine stylized facts, every claim of the paper's §5 and Appendices E–G against this run, and the L2 lever sweeps: the cells <code>medisim reproduce</code> reads (built-in scenario, baseline policy), each cached under the server's output directory.</p>
<label class="key"><span class="name">grid</span><input name="grid" type="number" value="11" min="2" max="11"><span class="unit">points per axis of L1</span></label>
<label class="key"><span class="name">seeds</span><input name="seeds" value="1..30"><span class="unit">a..b or a,b,c (at least two)</span></label>
{run}
<h3>The nine facts</h3>
<table id="facts"></table>
</section>
<section><p id="provenance"></p><p id="tally"></p><table id="claims"></table><div id="figures"></div></section>
</main>
"##;

const FINDINGS_JS: &str = r##"function showFindings(r) {
  $("#provenance").innerHTML = `${r.cells_computed} cells computed, ${r.cells_reused} from the cache; model ${text(r.model_version)}. The same run: <code>${text(r.command)}</code>`;
  $("#tally").textContent = r.tally;
  $("#claims").innerHTML = '<thead><tr><th>claim</th><th>source</th><th>paper</th><th>ours (95% interval)</th><th>verdict</th></tr></thead><tbody>' +
    r.claims.map(c => `<tr class="${text(c.outcome.replace(' ', '-'))}" id="claim-${text(c.id)}"><td>${text(c.says)}</td><td>${text(c.source)}</td><td>${text(c.paper)}</td><td>${text(c.ours)}</td><td class="outcome">${text(c.outcome)}</td></tr>`).join('') + '</tbody>';
  $("#facts").innerHTML = r.facts.map((f, i) =>
    `<tr class="${f.pass ? 'pass' : 'fail'}"><td>${i + 1}. ${text(f.name)}</td><td class="outcome">${f.pass ? 'PASS' : 'FAIL'}</td></tr>` +
    `<tr><td colspan="2" class="note">${text(f.observed)}<br>${text(f.margins)}</td></tr>`).join('');
  $("#figures").innerHTML = r.figures.map(f =>
    `<figure id="${text(f.id)}"><figcaption><b>${text(f.title)}</b> ${text(f.caption)}</figcaption>` +
    f.panels.map(p => `<div class="map" data-metric="${text(p[0])}">${p[1]}</div>`).join('') + '</figure>').join('');
}
$("#run").addEventListener('click', () => startJob('/api/findings', {
  grid: Number($('input[name=grid]').value), seeds: $('input[name=seeds]').value, horizon: Number($('input[name=horizon]').value),
}, showFindings));
runFromLink();
"##;

const STYLE: &str = r##"body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { background: #24405e; color: #fff; padding: 0.6em 1em; display: flex; gap: 1.5em; align-items: baseline; }
header b { font-size: 1.2em; } header span { opacity: 0.8; margin-left: 1em; }
main { display: grid; grid-template-columns: minmax(22em, 30em) 1fr; gap: 1em; padding: 1em; }
.panel { border: 1px solid #ccc; border-radius: 4px; padding: 0.6em; background: #fafafa; }
label.key, label.lever { display: grid; grid-template-columns: 12em 7em 1fr; gap: 0.3em; align-items: center; margin: 0.2em 0; }
label .meaning { grid-column: 1 / -1; font-size: 0.8em; color: #666; }
label .range, label .unit { font-size: 0.8em; color: #444; }
details summary { cursor: pointer; font-weight: bold; margin-top: 0.4em; }
textarea.sets { height: 3.5em; margin-bottom: 0.3em; }
textarea { width: 100%; height: 22em; font-family: ui-monospace, monospace; font-size: 0.85em; }
textarea.bad { border: 2px solid #c0392b; } textarea.good { border: 2px solid #2e8b57; }
#diagnostics li { font-family: ui-monospace, monospace; font-size: 0.85em; color: #c0392b; }
progress { width: 14em; } #error, #view-error { color: #c0392b; white-space: pre-wrap; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { border-bottom: 1px solid #ddd; padding: 0.2em 0.6em; text-align: right; }
td:first-child, th:first-child { text-align: left; } tr.group td { font-weight: bold; background: #eef; text-align: left; }
code { background: #eee; padding: 0 0.2em; }
header nav a { color: #fff; margin-left: 1.2em; } figure { margin: 0 0 1em 0; }
tr.reproduces td.outcome, tr.pass td.outcome { color: #2e8b57; } tr.differs td.outcome, tr.fail td.outcome { color: #c0392b; }
pre { background: #f4f4f4; padding: 0.4em; font-size: 0.8em; overflow-x: auto; }
td.note { font-size: 0.8em; color: #555; text-align: left; }
#cell { overflow-x: auto; } #cell table { font-size: 0.8em; } #cell td { padding: 0.2em 0.3em; }
figure.trajectory { display: inline-block; margin: 0 0.5em 0.5em 0; } figure.trajectory figcaption { font-size: 0.8em; }
.map { display: inline-block; width: 32%; min-width: 18em; } .map svg { width: 100%; height: auto; } rect.cell { cursor: pointer; }
"##;

/// The script every page shares: the metric table, a job followed by its events, Cancel, and
/// a setting run from the link (`#run?…`).
const COMMON_JS: &str = r##"const GROUPS = {groups};
const $ = (s) => document.querySelector(s);
function text(s) { const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
// A program in an editor checked by the server: the editor's border, the state line
// (#check-state) and each diagnostic at its line and column (#diagnostics).
async function checkSource(area) {
  const v = await (await fetch('/api/check', { method: 'POST', body: area.value })).json();
  area.className = v.ok ? 'good' : 'bad';
  $("#check-state").textContent = v.ok ? `checks: ${v.name} (${(v.hash || '').slice(0, 12)})` : 'does not check';
  $("#diagnostics").innerHTML = (v.diagnostics || []).map(d =>
    `<li data-line="${d.line}" data-column="${d.column}">line ${d.line}, column ${d.column}: ${text(d.severity)}: ${text(d.message)}${d.expected ? ' (' + text(d.expected) + ')' : ''}</li>`).join('');
}
function fmt(x) { return (x === null || x === undefined) ? '' : Number(x).toFixed(4); }
function interval(s) { return s && s.ci95 && s.ci95[0] !== null ? `[${fmt(s.ci95[0])}, ${fmt(s.ci95[1])}]` : ''; }
// A table of every metric by channel: `head` the column names after "metric", `cells(m)` a
// metric's other cells (null leaves the metric out).
function groupedTable(head, cells) {
  const rows = [];
  for (const g of GROUPS) {
    rows.push(`<tr class="group"><td colspan="${head.length + 1}">${text(g.group)}</td></tr>`);
    for (const m of g.metrics) {
      const c = cells(m);
      if (c) rows.push(`<tr data-metric="${m.name}"><td>${text(m.name)}</td>` + c.map(x => `<td>${x}</td>`).join('') + '</tr>');
    }
  }
  return '<tr><th>metric</th>' + head.map(h => `<th>${h}</th>`).join('') + '</tr>' + rows.join('');
}
// Every metric by channel: mean, 95% interval, unit.
function metricsTable(metrics) {
  return groupedTable(['mean', '95% interval', 'unit'], m => {
    const s = metrics[m.name];
    return s ? [fmt(s.mean), interval(s), text(m.unit)] : null;
  });
}
// Paired differences B − A by channel (`d` by metric), with each side's mean once known; with
// `bars`, each change also as a bar relative to the larger side (±100% at the ends), its
// interval as whiskers, so the eye sees which channels move and which way.
function diffTable(d, a, b, bars) {
  const head = ['A', 'B', 'B − A', 'paired 95% interval'].concat(bars ? ['change relative to the larger side'] : []);
  return groupedTable(head, m => {
    const s = d[m.name];
    if (!s) return null;
    const row = [a ? fmt(a[m.name].mean) : '', b ? fmt(b[m.name].mean) : '', fmt(s.mean), interval(s)];
    if (bars) row.push(a && b ? shiftBar(s, a[m.name].mean, b[m.name].mean) : '');
    return row;
  });
}
function shiftBar(s, x, y) {
  const scale = Math.max(Math.abs(x), Math.abs(y));
  if (!(scale > 0) || s.mean === null) return '';
  const w = 160, c = w / 2, at = (v) => c + Math.max(-1, Math.min(1, v / scale)) * c;
  const lo = s.ci95 && s.ci95[0] !== null ? at(s.ci95[0]) : at(s.mean), hi = s.ci95 && s.ci95[1] !== null ? at(s.ci95[1]) : at(s.mean);
  const m = at(s.mean), colour = s.mean >= 0 ? '#0072b2' : '#d55e00';
  return `<svg class="shift" width="${w}" height="14" data-change="${(s.mean / scale).toFixed(4)}"><line x1="${c}" x2="${c}" y1="0" y2="14" stroke="#999"/>` +
    `<rect x="${Math.min(c, m)}" y="3" width="${Math.abs(m - c)}" height="8" fill="${colour}"/>` +
    `<line x1="${lo}" x2="${hi}" y1="7" y2="7" stroke="#222"/></svg>`;
}
// Start a job (POST url with body), follow its events; onEnd gets the final state.
let current = null, source = null;
// What a job's steps are called beside its count.
let UNIT = 'cells';
// A page that shows what a job has found so far sets this.
let onProgress = () => {};
async function startJob(url, body, onEnd) {
  $("#error").textContent = '';
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const v = await r.json();
  if (!r.ok) { $("#error").textContent = v.error; return null; }
  current = v.id; $("#run").disabled = true; $("#cancel").disabled = false;
  source = new EventSource(`/api/runs/${current}/events`);
  const count = (s) => { $("#progress").max = Math.max(s.total, 1); $("#progress").value = s.done; $("#count").textContent = `${s.done} / ${s.total} ${UNIT}`; };
  source.addEventListener('progress', (e) => { const s = JSON.parse(e.data); count(s); onProgress(s); });
  source.addEventListener('end', (e) => {
    const s = JSON.parse(e.data); count(s);
    $("#run").disabled = false; $("#cancel").disabled = true; source.close(); source = null;
    if (s.state === 'done') onEnd(s.result);
    else $("#error").textContent = s.state === 'failed' ? s.error : 'cancelled';
  });
  return current;
}
// (A page that starts no jobs has no Cancel.)
$("#cancel")?.addEventListener('click', () => { if (current) fetch(`/api/runs/${current}/cancel`, { method: 'POST' }); });
// A link may carry a setting to run at once: #run?seeds=1..5&alpha=0.8 (any input's name).
function runFromLink() {
  if (!location.hash.startsWith('#run')) return;
  const q = new URLSearchParams(location.hash.slice(5));
  for (const [k, v] of q) { const i = document.querySelector(`input[name="${CSS.escape(k)}"]`); if (i) { i.value = v; i.dispatchEvent(new Event('input')); } }
  $("#run").click();
}
"##;

const MEDISIM_BODY: &str = r##"<main>
<section class="panel" id="setting">
<h3>Incentives</h3>{levers}
<details><summary>the policy's other numbers</summary><p class="note">Each rewrites its line of the policy below, so a run takes them as a policy; a value outside its legal range is refused here.</p>{policy_numbers}<p id="numbers-note" class="note"></p></details>
<h3>Run</h3>
<label class="key"><span class="name">seeds</span><input name="seeds" value="1..30"><span class="unit">a..b or a,b,c</span></label>
{run}
<h3>Scenario</h3><p class="note">Every numeric key with its unit and legal range; a value outside it is refused, never clipped.</p>
{scenario}
</section>
<section>
<div class="panel"><h3>Policy</h3>
<textarea id="policy" spellcheck="false">{policy}</textarea>
<p id="check-state"></p><ul id="diagnostics"></ul></div>
<div class="panel" id="results"><h3>Results</h3><p id="provenance">No run yet.</p><table id="metrics"></table>
<h3>Over the periods</h3><p id="trajectory-note" class="note"></p><div id="trajectories"></div></div>
</section>
</main>
"##;

const MEDISIM_JS: &str = r##"const baseline = $("#policy").value;
let checkTimer = null;
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
async function check() {
  await checkSource($("#policy"));
}
$("#policy").addEventListener('input', () => { clearTimeout(checkTimer); checkTimer = setTimeout(check, 300); });
// A policy number's control rewrites `field = number` in the editor (the first such line) once
// the number is entered (Enter or leaving the box), not at each key: 2, 20, 200 are not three
// settings.
for (const i of document.querySelectorAll('input[data-field]')) {
  i.addEventListener('change', () => {
    const v = Number(i.value);
    if (i.value === '' || !Number.isFinite(v)) return;
    if (v < Number(i.dataset.lo) || v > Number(i.dataset.hi)) { $("#numbers-note").textContent = `${i.dataset.field} = ${v} is outside its range [${i.dataset.lo}, ${i.dataset.hi}]: not written`; return; }
    if (i.dataset.integer === 'true' && !Number.isInteger(v)) { $("#numbers-note").textContent = `${i.dataset.field} takes a whole number, not ${v}: not written`; return; }
    const field = i.dataset.field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const t = $("#policy"), re = new RegExp(`^(\\s*${field}\\s*=\\s*)[-+0-9.eE]+[ \\t]*$`, 'm');
    if (!re.test(t.value)) { $("#numbers-note").textContent = `the policy has no line \`${i.dataset.field} = number\` to change`; return; }
    $("#numbers-note").textContent = '';
    t.value = t.value.replace(re, `$1${Number(i.value)}`);
    t.dispatchEvent(new Event('input'));
  });
}
// One series over the periods: its mean as a line in its 95% band (a gap where undefined).
function trajectory(s) {
  const w = 310, h = 130, pad = 40, n = s.mean.length;
  const vals = s.low.concat(s.high, s.mean).filter(v => v !== null && Number.isFinite(v));
  if (!vals.length) return '';
  const lo = Math.min(...vals), hi = Math.max(...vals);
  const x = (i) => pad + (w - 2 * pad) * i / Math.max(n - 1, 1), y = (v) => h - pad - (h - 2 * pad) * (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const ok = (i) => [s.mean[i], s.low[i], s.high[i]].every(v => v !== null && Number.isFinite(v));
  let band = '', line = '';
  for (let i = 0; i < n; i++) if (ok(i)) { line += `${line && ok(i - 1) ? 'L' : 'M'}${x(i).toFixed(1)},${y(s.mean[i]).toFixed(1)}`; }
  const up = [], down = [];
  for (let i = 0; i < n; i++) if (ok(i)) { up.push(`${x(i).toFixed(1)},${y(s.high[i]).toFixed(1)}`); down.unshift(`${x(i).toFixed(1)},${y(s.low[i]).toFixed(1)}`); }
  band = up.concat(down).join(' ');
  return `<figure class="trajectory" data-series="${text(s.name)}"><figcaption>${text(s.name)} (${text(s.unit)})</figcaption><svg width="${w}" height="${h}" role="img">` +
    `<polygon points="${band}" fill="#0072b2" fill-opacity="0.2"/><path d="${line}" fill="none" stroke="#0072b2" stroke-width="1.5"/>` +
    `<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#999"/><text x="${pad}" y="${h - pad + 14}" font-size="10">1</text><text x="${w - pad}" y="${h - pad + 14}" font-size="10" text-anchor="end">period ${n}</text>` +
    `<text x="${pad - 3}" y="${y(hi) + 4}" font-size="10" text-anchor="end">${hi.toPrecision(3)}</text><text x="${pad - 3}" y="${y(lo) + 4}" font-size="10" text-anchor="end">${lo.toPrecision(3)}</text></svg></figure>`;
}
function show(result) {
  const t = result.trajectories;
  $("#trajectory-note").textContent = t ? `Each period's mean over the run's first ${t.seeds} seed${t.seeds === 1 ? '' : 's'}, summed over teams, with its 95% interval.` : 'Runs of more than 2,000 periods show their summary only.';
  $("#trajectories").innerHTML = t ? t.series.map(trajectory).join('') : '';
  $("#metrics").innerHTML = metricsTable(result.metrics);
  $("#provenance").innerHTML = `policy <code>${text(result.policy)}</code> (hash <code>${text(result.policy_hash.slice(0, 12))}</code>), seeds ${result.seeds.length}, horizon ${result.horizon}, model ${text(result.model_version)}; ` +
    `${result.cells_computed} cells computed, ${result.cells_reused} from the cache. The same numbers: <code>${text(result.command)}</code>` +
    `<details id="cell-keys"><summary>the cells (one a seed, each keyed by model version, scenario, policy and seed)</summary>${result.cells.map(k => `<code>${text(k)}</code>`).join(' ')}</details>`;
}
$("#run").addEventListener('click', () => startJob('/api/run', request(), show));
check();
runFromLink();
"##;

/// The other models' page: the panel, the contract and the games, each run as `medisim run
/// --model NAME` runs it.
pub fn models() -> String {
    page("other models", MODELS_BODY, MODELS_JS)
}

const MODELS_BODY: &str = r##"<main>
<section class="panel" id="setting">
<h3>Model</h3>
<label class="key"><span class="name">model</span><select id="model"></select></label>
<p id="about" class="note"></p>
<label class="key" id="seeds-row"><span class="name">seeds</span><input name="seeds" placeholder="the model's default"><span class="unit">a..b or a,b,c</span></label>
<p><button id="run">Run</button> <button id="cancel" disabled>Cancel</button> <progress id="progress" value="0" max="1"></progress> <span id="count"></span></p>
<p id="error"></p>
<h3>Sweep one parameter</h3><p class="note">One key over evenly spaced values, the others as set below: <code>medisim sweep --model NAME --set KEY=a:b:n</code>, through the same cache. The contract's <code>pi11</code> (good responders' survival under intensive care) sets survival against the optimal expected payment, its <code>t</code> moves the payment terms along the optimal segment; a game's <code>benchmark</code> moves its equilibrium.</p>
<label class="key"><span class="name">key</span><select id="sweep-key"></select></label>
<label class="key"><span class="name">from</span><input name="sweep-from" type="number" step="any"></label>
<label class="key"><span class="name">to</span><input name="sweep-to" type="number" step="any"></label>
<label class="key"><span class="name">points</span><input name="sweep-points" type="number" value="5" min="2" max="11"><span class="unit">2 to 11</span></label>
<p><button id="sweep">Sweep</button></p>
<div id="panel-files"><h3>Payment program and disease model</h3><p class="note">The panel's payment program (<code>--policy FILE</code>; <code>policies/panel/*.policy</code> are examples), checked as you type, and a Markov disease model's TOML (<code>--disease FILE</code>; <code>crates/medisim-panel/models/diabetic-kidney.toml</code> is one). Empty: the configured payment and the built-in retinopathy model.</p>
<textarea id="program" spellcheck="false" placeholder="a payment program (kind = &quot;panel_payment&quot;)"></textarea>
<p id="check-state"></p><ul id="diagnostics"></ul>
<textarea id="disease" spellcheck="false" placeholder="a disease model's TOML"></textarea></div>
<h3>Parameters</h3><p class="note">Every number of the model's parameters, by the key <code>medisim run --model NAME --set KEY=VALUE</code> takes; the model's own checks refuse a value out of range, naming it.</p>
<div id="parameters"></div>
</section>
<section>
<div class="panel" id="results"><h3>Results</h3><p id="provenance">No run yet.</p><p id="tabs"></p><table id="metrics"></table></div>
<div class="panel" id="sweep-results"><h3>Sweep</h3><p id="sweep-provenance">No sweep yet.</p><div id="sweep-figure"></div></div>
</section>
</main>
"##;

const MODELS_JS: &str = r##"let MODELS = [];
const model = () => MODELS.find(m => m.name === $("#model").value);
async function load() {
  const v = await (await fetch('/api/models')).json();
  MODELS = v.models;
  $("#model").innerHTML = MODELS.map(m => `<option>${text(m.name)}</option>`).join('');
  const want = new URLSearchParams(location.hash.slice(1)).get('model');
  if (want && MODELS.some(m => m.name === want)) $("#model").value = want;
  pick();
}
function pick() {
  const m = model();
  $("#about").textContent = `${m.about} (${m.version}); ${m.stochastic ? 'replicates over seeds, with 95% intervals' : 'deterministic: one run, no seeds'}.`;
  $("#seeds-row").style.display = m.stochastic ? '' : 'none';
  $("#panel-files").style.display = m.name === 'panel' ? '' : 'none';
  const sections = {};
  for (const p of m.parameters) {
    const s = p[0].includes('.') ? p[0].split('.')[0] : 'general';
    (sections[s] = sections[s] || []).push(p);
  }
  $("#parameters").innerHTML = Object.entries(sections).map(([s, ps]) => `<h4>${text(s)}</h4>` +
    ps.map(([k, v, unit, meaning]) => `<label class="key" title="${text(meaning)}"><span class="name">${text(k)}</span><input name="${text(k)}" type="number" step="any" value="${v}" data-default="${v}"><span class="unit">${text(unit)}</span><span class="meaning">${text(meaning)}</span></label>`).join('')).join('');
  $("#tabs").innerHTML = ''; $("#metrics").innerHTML = ''; $("#provenance").textContent = 'No run yet.';
  $("#sweep-key").innerHTML = m.parameters.map(([k]) => `<option>${text(k)}</option>`).join('');
  sweepKey();
  $("#sweep-figure").innerHTML = ''; $("#sweep-provenance").textContent = 'No sweep yet.';
}
// A key's sweep starts around its value: half to one and a half times it (0 to 1 from 0).
function sweepKey() {
  const p = model().parameters.find(([k]) => k === $("#sweep-key").value);
  const v = p ? p[1] : 0;
  $('input[name=sweep-from]').value = v === 0 ? 0 : v / 2;
  $('input[name=sweep-to]').value = v === 0 ? 1 : 1.5 * v;
}
$("#sweep-key").addEventListener('change', sweepKey);
function showSweep(r) {
  const w = r.sweep, f = w.figure;
  $("#sweep-provenance").innerHTML = `${text(r.model)}: ${w.points} values of <code>${text(w.key.join(', '))}</code>, ${w.seeds} seed${w.seeds === 1 ? '' : 's'} each; each metric's mean with its 95% band. The same table: <code>${text(r.command)}</code>`;
  $("#sweep-figure").innerHTML = f ? f.panels.map(([m, svg]) => `<div class="map" data-metric="${text(m)}">${svg}</div>`).join('') : '';
}
$("#sweep").addEventListener('click', () => startJob('/api/model/run', Object.assign(request(), {
  sweep: { key: $("#sweep-key").value, from: Number($('input[name=sweep-from]').value), to: Number($('input[name=sweep-to]').value), points: Number($('input[name=sweep-points]').value) },
}), showSweep));
function request() {
  const set = {};
  for (const i of document.querySelectorAll('#parameters input')) {
    if (i.value !== '' && Number(i.value) !== Number(i.dataset.default)) set[i.name] = Number(i.value);
  }
  const body = { model: $("#model").value, set };
  const seeds = $('input[name=seeds]').value;
  if (model().stochastic && seeds) body.seeds = seeds;
  if (body.model === 'panel') {
    if ($("#program").value.trim()) body.program = $("#program").value;
    if ($("#disease").value.trim()) body.disease = $("#disease").value;
  }
  return body;
}
// The payment program is checked as it is typed, as the Medi-Sim page checks a policy.
let checkTimer = null;
async function checkProgram() {
  if (!$("#program").value.trim()) { $("#check-state").textContent = ''; $("#diagnostics").innerHTML = ''; $("#program").className = ''; return; }
  await checkSource($("#program"));
}
$("#program").addEventListener('input', () => { clearTimeout(checkTimer); checkTimer = setTimeout(checkProgram, 300); });
// The metrics by the model's groups (the panel's payer, health outcomes and provider), each
// group a tab; intervals where the model has replicates.
function show(r) {
  const groups = [...new Set(r.about.map(a => a.group))];
  const rows = {};
  for (const row of r.metrics) rows[row.metric] = row;
  const spread = r.seeds.length > 1;
  $("#tabs").innerHTML = groups.length > 1 ? ['all'].concat(groups).map(g => `<button class="tab" data-group="${text(g)}">${text(g)}</button>`).join(' ') : '';
  $("#metrics").innerHTML = '<tr><th>metric</th><th>mean</th><th>95% interval</th><th>unit</th></tr>' + groups.map(g =>
    `<tr class="group" data-group="${text(g)}"><td colspan="4">${text(g || 'metrics')}</td></tr>` +
    r.about.filter(a => a.group === g && rows[a.name]).map(a => { const x = rows[a.name];
      return `<tr class="metric" data-group="${text(g)}" data-metric="${text(a.name)}"><td>${text(a.name)}</td><td>${fmt(x.mean)}</td><td>${spread ? `[${fmt(x.ci95_low)}, ${fmt(x.ci95_high)}]` : ''}</td><td>${text(a.unit)}</td></tr>`; }).join('')).join('');
  $("#provenance").innerHTML = `${text(r.model)} (${text(r.model_version)}), ${r.seeds.length} seed${r.seeds.length === 1 ? '' : 's'}. The same numbers: <code>${text(r.command)}</code>`;
}
$("#tabs").addEventListener('click', (e) => {
  const b = e.target.closest('button.tab');
  if (!b) return;
  for (const tr of document.querySelectorAll('#metrics tr[data-group]')) tr.style.display = (b.dataset.group === 'all' || tr.dataset.group === b.dataset.group) ? '' : 'none';
});
$("#model").addEventListener('change', pick);
$("#run").addEventListener('click', () => startJob('/api/model/run', request(), show));
load().then(() => { if (location.hash.includes('run=1')) $("#run").click(); });
"##;
