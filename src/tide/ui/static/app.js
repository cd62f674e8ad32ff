// tide ui: renders each page from the read-only JSON API. Text from the repository is only ever set as
// text (never as HTML). Charts are Vega-Lite, drawn by the vendored vega-embed.
"use strict";

const main = document.getElementById("main");

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

async function get(url) {
  const resp = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.error || resp.statusText);
  return body;
}

function fmt(v) {
  if (v === null || v === undefined) return "-";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(+v.toPrecision(6));
  return String(v);
}
const short = (sha) => (sha || "").slice(0, 8);
function size(n) {
  if (n === null || n === undefined) return "-";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + u[i];
}
function outcome(o) { return h("span", { class: "outcome-" + o, "data-outcome": o }, o); }

function table(headers, rows, attrs) {
  return h("table", attrs || {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => (c instanceof Node && c.tagName === "TD") ? c : h("td", {}, c))))));
}
function num(v, attrs) { return h("td", Object.assign({ class: "num" }, attrs || {}), fmt(v)); }

function embed(el, spec) {
  return vegaEmbed(el, spec, { actions: false, renderer: "svg" });
}

// the main branch's commits, oldest first (the runs API appends experiments after them)
function mainRows(r) { return r.rows.filter((x) => !x.experiment); }
const lastSha = (rows, back) => rows.length > back ? rows[rows.length - 1 - back].sha : null;

function commitOptions(rows, selected) {
  return rows.slice().reverse().map((r) => h("option", { value: r.sha, selected: r.sha === selected },
    `${short(r.sha)} ${r.date || ""} ${r.experiment ? "experiment " + r.experiment : r.subject || ""}`.slice(0, 90)));
}

// --- Overview -------------------------------------------------------------------------------------------------
async function overview() {
  const [o, runs] = await Promise.all([get("/api/overview"), get("/api/runs")]);
  const out = [h("h1", {}, "Overview")];
  if (o.settings_error) out.push(h("p", { class: "error" }, "tide.yaml: " + o.settings_error));
  if (!o.models.length) out.push(h("p", { class: "muted" }, "No registered model yet (tide model register)."));
  for (const m of o.models) {
    const card = h("div", { class: "card model", "data-model": m.name },
      h("h2", {}, m.name),
      h("p", {}, `In ${m.stage}: `, h("strong", { "data-testid": "production", "data-model": m.name },
        m.production || "nothing"), m.since ? ` since ${m.since}` : "",
        m.production_commit ? ` (commit ${short(m.production_commit)})` : ""));
    if (m.promoted_on.length) {
      card.append(h("h3", {}, "Promoted on"), table(["metric", "role", "candidate", "production then", "improvement", "interval", "passed"],
        m.promoted_on.map((x) => [x.metric, x.role, num(x.candidate), num(x.production), num(x.improvement),
          x.interval ? `[${fmt(x.interval.low)}, ${fmt(x.interval.high)}] (${Math.round(x.interval.confidence * 100)}%)` : "-",
          x.passed ? "yes" : "no"])));
    }
    const l = m.last_retrain;
    if (l) card.append(...[h("h3", {}, "Last retrain"), h("p", { "data-testid": "last-retrain" },
      `${l.version} registered ${l.when} at ${short(l.commit)}: `, outcome(l.outcome)),
      l.reasons.length ? h("ul", {}, l.reasons.map((r) => h("li", {}, r))) : null,
      l.pr_url ? h("p", { "data-testid": "last-retrain-pr" }, "Pull request and report: ",
        /^https?:\/\//.test(l.pr_url) ? h("a", { href: l.pr_url, rel: "noreferrer" }, l.pr_url) : h("code", {}, l.pr_url)) : null,
    ].filter((x) => x));  // append() would write a null as the text "null"
    out.push(card);
  }
  const last = mainRows(runs)[mainRows(runs).length - 1];
  if (last) {
    const rows = [];
    for (const [file, flat] of Object.entries(last.metrics))
      for (const [k, v] of Object.entries(flat)) rows.push([file, k, num(v, { "data-metric": `${file}:${k}` })]);
    out.push(h("h2", {}, `Metrics on ${runs.base} (${short(last.sha)}, ${last.date})`),
      rows.length ? table(["file", "metric", "value"], rows, { id: "head-metrics" }) : h("p", { class: "muted" }, "No metrics."));
  }
  const runners = h("div", { id: "runners" }, h("p", { class: "muted" }, "Asking…"));
  out.push(h("h2", {}, "Runners alive now"), runners);
  main.replaceChildren(...out);
  showRunners(runners, 0);
}

// the server answers at once with what each provider said last; while a first answer is out, ask again
async function showRunners(box, tries) {
  let r;
  try { r = await get("/api/runners"); } catch (e) { box.replaceChildren(h("p", { class: "error" }, e.message)); return; }
  if (!box.isConnected) return;
  const where = (p) => p.kind + (p.region ? ` (${p.region})` : "");
  const asked = h("p", { class: "muted", id: "runner-providers" }, "Asked: ", ...r.providers.map((p) =>
    h("span", {
      class: "provider" + (p.error ? " error" : p.pending ? " muted" : ""), "data-provider": p.kind,
      "data-state": p.error ? "error" : p.pending ? "pending" : "ok", title: p.error || (p.pending ? "asking…" :
        `answered ${p.age} s ago`),
    }, (p.error ? "⚠ " : "") + where(p) + " ")));
  const body = r.machines.length ?
    table(["name", "state", "cloud", "region", "type", "id"], r.machines.map((x) => [x.name, x.state, x.cloud,
      x.region || "", x.type || "", x.id]), { id: "runner-table" }) :
    h("p", { class: "muted" }, r.pending ? "Asking…" : "No runner alive.");
  box.replaceChildren(...(r.error ? [h("p", { class: "error" }, r.error)] : []), body, asked);
  if (r.pending && tries < 40) setTimeout(() => showRunners(box, tries + 1), 500);
  else box.setAttribute("data-done", "1");
}

// --- Metric trends --------------------------------------------------------------------------------------------
async function trends() {
  const t = await get("/api/trends");
  if (!t.keys.length) { main.replaceChildren(h("h1", {}, "Metric trends"), h("p", { class: "muted" }, "No numeric metrics on " + t.base + ".")); return; }
  const pick = h("select", { id: "metric" }, t.keys.map((k) => h("option", { value: k }, k)));
  const range = h("select", { id: "range" }, [["all", "all history"], ["365", "last 365 days"], ["90", "last 90 days"], ["30", "last 30 days"]]
    .map(([v, l]) => h("option", { value: v }, l)));
  const chart = h("div", { id: "trend-chart" });
  const note = h("p", { class: "muted" });
  async function draw() {
    const key = pick.value;
    const newest = Math.max(...t.points.map((p) => p.time), ...t.marks.map((m) => m.time));
    const from = range.value === "all" ? 0 : newest - Number(range.value) * 86400;
    const line = t.points.filter((p) => key in p.metrics && p.time >= from)
      .map((p) => ({ t: p.time * 1000, value: p.metrics[key], commit: short(p.sha), subject: p.subject, series: t.base }));
    const marks = t.marks.filter((m) => key in m.metrics && m.time >= from)
      .map((m) => ({ t: m.time * 1000, value: m.metrics[key], version: m.version, outcome: m.outcome, commit: short(m.sha) }));
    const prod = Object.values(t.production).filter((p) => key in p.metrics).map((p) => ({ value: p.metrics[key], version: p.version }));
    const layers = [
      { data: { values: line }, mark: { type: "line", point: true },
        encoding: { x: { field: "t", type: "temporal", title: "commit time" }, y: { field: "value", type: "quantitative", title: key, scale: { zero: false } },
          tooltip: [{ field: "commit" }, { field: "subject" }, { field: "value" }] } },
    ];
    if (marks.length) layers.push({ data: { values: marks }, mark: { type: "point", size: 120, filled: true, shape: "diamond" },
      encoding: { x: { field: "t", type: "temporal" }, y: { field: "value", type: "quantitative" },
        color: { field: "outcome", type: "nominal", scale: { domain: ["promoted", "rejected", "registered", "deploy-failed", "forced"],
          range: ["#137333", "#b3261e", "#8a6d00", "#e37400", "#1a73e8"] } },
        tooltip: [{ field: "version" }, { field: "outcome" }, { field: "commit" }, { field: "value" }] } });
    if (prod.length) layers.push({ data: { values: prod }, mark: { type: "rule", strokeDash: [6, 4], color: "#12324f" },
      encoding: { y: { field: "value", type: "quantitative" }, tooltip: [{ field: "version", title: "production" }, { field: "value" }] } });
    note.textContent = `${line.length} commit(s) on ${t.base}; ${marks.length} version(s) decided by the gate` +
      (prod.length ? `; dashed line: production (${prod.map((p) => p.version).join(", ")})` : "");
    await embed(chart, { $schema: "https://vega.github.io/schema/vega-lite/v6.json", width: 760, height: 320, layer: layers });
  }
  pick.addEventListener("change", draw); range.addEventListener("change", draw);
  main.replaceChildren(h("h1", {}, "Metric trends"), h("div", { class: "controls" }, h("label", {}, "metric ", pick), h("label", {}, "range ", range)), chart, note,
    h("h2", {}, "Gate decisions"), table(["version", "outcome", "registered", "commit", "metrics"],
      t.marks.map((m) => [m.version, outcome(m.outcome), m.date, short(m.sha),
        Object.entries(m.metrics).map(([k, v]) => `${k}=${fmt(v)}`).join("  ")]), { id: "decisions" }));
  await draw();
}

// --- Registry -------------------------------------------------------------------------------------------------
async function registry() {
  const r = await get("/api/registry");
  const out = [h("h1", {}, "Registry")];
  if (!r.models.length) out.push(h("p", { class: "muted" }, "No registry tags yet."));
  for (const m of r.models) {
    out.push(h("h2", {}, m.name + (m.deprecated ? " (deprecated)" : "")),
      h("p", {}, "latest ", h("strong", { "data-testid": "latest", "data-model": m.name }, m.latest || "-"), "; stages: ",
        Object.entries(m.stages).map(([s, v]) => `${s}=${v}`).join(", ") || "none"));
    out.push(table(["version", "commit", "registered", "stages now", "gate outcome", "evidence"],
      m.versions.slice().reverse().map((v) => [h("td", { "data-version": v.version }, v.version), short(v.commit), v.registered,
        h("td", { "data-stages": v.version }, v.stages.join(", ")), outcome(v.outcome), evidence(v.record)]), { class: "versions", "data-model": m.name }));
    out.push(h("details", {}, h("summary", {}, "history (tags)"), table(["time", "event", "version", "stage", "commit", "tag"],
      m.history.map((e) => [e.timestamp, e.event, e.version, e.stage, e.commit, e.ref]))));
  }
  main.replaceChildren(...out);
}

function evidence(rec) {
  if (!rec) return h("span", { class: "muted" }, "no record");
  const d = h("details", {}, h("summary", {}, (rec.reasons || []).join("; ") || rec.outcome || "record"));
  if (rec.metrics && rec.metrics.length) d.append(table(["metric", "role", "candidate", "production", "improvement", "interval", "passed"],
    rec.metrics.map((x) => [x.metric, x.role, num(x.candidate), num(x.production), num(x.improvement),
      x.interval ? `[${fmt(x.interval.low)}, ${fmt(x.interval.high)}] ${Math.round(x.interval.confidence * 100)}% of ${x.interval.rows} rows` : "-",
      x.passed ? "yes" : "no"])));
  d.append(h("p", { class: "muted" }, `compared with ${rec.production || "nothing"}; model ${(rec.model_hash || "-").slice(0, 12)}, data ${(rec.data_hash || "-").slice(0, 12)}, ` +
    `evaluation ${(rec.eval_hash || "-").slice(0, 12)}; ${rec.time || ""}${rec.forced ? "; forced" : ""}` +
    (rec.deploy ? `; deploy (${rec.deploy.kind}): ${rec.deploy.ok ? "ok" : "FAILED"} ${rec.deploy.detail}` : "")));
  return d;
}

// --- Runs -----------------------------------------------------------------------------------------------------
async function runs() {
  const r = await get("/api/runs");
  const cols = [];
  for (const row of r.rows) {
    for (const kind of ["params", "metrics"]) for (const [file, flat] of Object.entries(row[kind]))
      for (const k of Object.keys(flat)) { const id = `${kind}|${file}|${k}`; if (!cols.includes(id)) cols.push(id); }
  }
  const value = (row, id) => { const [kind, file, k] = id.split("|"); return (row[kind][file] || {})[k]; };
  let sortBy = "date", asc = false;
  const filter = h("input", { id: "filter", placeholder: "filter: commit, subject or value", size: 40 });
  const selA = h("select", { id: "cmp-a" }, commitOptions(r.rows, lastSha(mainRows(r), 1)));
  const selB = h("select", { id: "cmp-b" }, commitOptions(r.rows, lastSha(mainRows(r), 0)));
  const result = h("div", { id: "compare" });
  const holder = h("div", {});
  function render() {
    const q = filter.value.toLowerCase();
    let rows = r.rows.filter((row) => !q || [row.sha, row.subject, ...cols.map((c) => fmt(value(row, c)))].join(" ").toLowerCase().includes(q));
    const key = (row) => sortBy === "date" ? row.time : value(row, sortBy);
    rows = rows.slice().sort((x, y) => { const a = key(x), b = key(y);
      if (a === b) return 0; if (a === undefined || a === null) return 1; if (b === undefined || b === null) return -1;
      return (a < b ? -1 : 1) * (asc ? 1 : -1); });
    const head = [h("th", { class: "sortable", "data-col": "date", onclick: () => sortClick("date") }, "date"), h("th", {}, "commit"), h("th", {}, "subject"),
      ...cols.map((c) => { const [kind, file, k] = c.split("|");
        return h("th", { class: "sortable " + kind, "data-col": c, title: `${kind} from ${file}`, onclick: () => sortClick(c) }, k + (sortBy === c ? (asc ? " ▲" : " ▼") : "")); })];
    holder.replaceChildren(h("table", { id: "runs" }, h("thead", {}, h("tr", {}, head)),
      h("tbody", {}, rows.map((row) => h("tr", { "data-sha": row.sha, "data-experiment": row.experiment || null, class: row.experiment ? "exp" : null },
        h("td", {}, row.date), h("td", {}, h("code", {}, short(row.sha))),
        h("td", {}, row.experiment ? `experiment ${row.experiment} (baseline ${short(row.baseline)})` : row.subject),
        cols.map((c) => num(value(row, c), { "data-col": c })))))));
  }
  function sortClick(c) { if (sortBy === c) asc = !asc; else { sortBy = c; asc = false; } render(); }
  filter.addEventListener("input", render);
  async function compare() {
    result.replaceChildren(h("p", { class: "muted" }, "Comparing…"));
    try {
      const c = await get(`/api/compare?a=${encodeURIComponent(selA.value)}&b=${encodeURIComponent(selB.value)}`);
      const plotsHref = `/plots?rev=${encodeURIComponent(c.b.sha)}&other=${encodeURIComponent(c.a.sha)}`;
      result.replaceChildren(h("h2", {}, `${short(c.a.sha)} → ${short(c.b.sha)}`),
        h("p", {}, h("a", { href: plotsHref, id: "compare-plots" }, "plots of both, overlaid")), diffTable("Metrics", c.metrics, "metrics-diff"),
        diffTable("Params", c.params, "params-diff"), dataDiff(c.data),
        h("h3", {}, "Files changed in git"), c.files.length ? table(["status", "path"], c.files.map((x) => [x.status, x.path]), { id: "files-changed" }) : h("p", { class: "muted" }, "none"));
    } catch (e) { result.replaceChildren(h("p", { class: "error" }, e.message)); }
  }
  main.replaceChildren(h("h1", {}, `Runs on ${r.base} and experiments`), h("div", { class: "controls" }, filter),
    holder, h("h2", {}, "Compare two commits"), h("div", { class: "controls" }, h("label", {}, "A ", selA), h("label", {}, "B ", selB),
      h("button", { id: "compare-btn", onclick: compare }, "Compare")), result);
  render();
  // a link /runs?a=REV&b=REV (a PR's base and head, say) opens with that comparison
  const q = new URLSearchParams(location.search);
  if (q.get("a") && q.get("b")) {
    for (const [sel, rev] of [[selA, q.get("a")], [selB, q.get("b")]]) {
      if (![...sel.options].some((o) => o.value === rev)) sel.append(h("option", { value: rev }, rev));
      sel.value = rev;
    }
    await compare();
  }
}

function diffTable(title, d, id) {
  const rows = [];
  for (const [file, keys] of Object.entries(d)) for (const [k, e] of Object.entries(keys)) {
    const cls = e.diff > 0 ? "num diff-pos" : e.diff < 0 ? "num diff-neg" : "num";
    rows.push([file, k, num(e.old), num(e.new), h("td", { class: cls }, e.diff === undefined ? "-" : (e.diff > 0 ? "+" : "") + fmt(e.diff))]);
  }
  return h("div", {}, h("h3", {}, title), rows.length ? table(["file", "key", "A", "B", "change"], rows, { id }) : h("p", { class: "muted", id }, "no change"));
}

function dataDiff(d) {
  const rows = [];
  for (const kind of ["added", "deleted", "modified", "renamed"]) for (const e of d[kind] || [])
    rows.push([kind, typeof e.path === "object" ? `${e.path.old} → ${e.path.new}` : e.path,
      typeof e.hash === "object" && e.hash ? `${(e.hash.old || "-").slice(0, 12)} → ${(e.hash.new || "-").slice(0, 12)}` : (e.hash || "-").slice(0, 12)]);
  return h("div", {}, h("h3", {}, "Data (tracked outputs)"), rows.length ? table(["change", "path", "hash"], rows, { class: "data-diff" }) : h("p", { class: "muted data-diff" }, "no change"));
}

// --- Data -----------------------------------------------------------------------------------------------------
async function data() {
  const [d, r] = await Promise.all([get("/api/data"), get("/api/runs")]);
  const out = [h("h1", {}, `Data on ${d.base}`)];
  const sizes = [];
  for (const [path, hist] of Object.entries(d.outs)) for (const v of hist) if (v.size !== null) sizes.push({ t: v.time * 1000, size: v.size, path });
  const chart = h("div", { id: "size-chart" });
  if (sizes.length) out.push(h("h2", {}, "Sizes over time"), chart);
  const remoteCells = [];
  for (const [path, hist] of Object.entries(d.outs)) {
    out.push(h("h2", {}, path), table(["since", "commit", "size", "files", "hash", "cache", ...d.remotes.map((x) => "remote " + x)],
      hist.slice().reverse().map((v) => [v.date, short(v.sha), num(size(v.size), { "data-size": v.size }), num(v.nfiles), h("code", {}, (v.md5 || "-").slice(0, 12)),
        v.in_cache ? "yes" : "no", ...d.remotes.map((name) => { const c = h("td", { "data-remote": name, "data-oid": v.md5 || "" }, "…"); remoteCells.push(c); return c; })]),
      { class: "out-versions", "data-path": path }));
  }
  if (!Object.keys(d.outs).length) out.push(h("p", { class: "muted" }, "No tracked outputs."));
  const selA = h("select", { id: "data-a" }, commitOptions(r.rows, lastSha(mainRows(r), 1)));
  const selB = h("select", { id: "data-b" }, commitOptions(r.rows, lastSha(mainRows(r), 0)));
  const res = h("div", { id: "data-diff" });
  out.push(h("h2", {}, "What changed between two revisions"), h("div", { class: "controls" }, h("label", {}, "A ", selA), h("label", {}, "B ", selB),
    h("button", { id: "data-diff-btn", onclick: async () => {
      try { res.replaceChildren(dataDiff(await get(`/api/data/diff?a=${encodeURIComponent(selA.value)}&b=${encodeURIComponent(selB.value)}`))); }
      catch (e) { res.replaceChildren(h("p", { class: "error" }, e.message)); } } }, "Compare")), res);
  main.replaceChildren(...out);
  if (sizes.length) await embed(chart, { $schema: "https://vega.github.io/schema/vega-lite/v6.json", width: 700, height: 220, data: { values: sizes },
    mark: { type: "line", point: true, interpolate: "step-after" },
    encoding: { x: { field: "t", type: "temporal", title: "commit time" }, y: { field: "size", type: "quantitative", title: "bytes" }, color: { field: "path", type: "nominal" } } });
  for (const name of d.remotes) {
    get(`/api/data/where?remote=${encodeURIComponent(name)}`).then((w) => {
      const have = new Set(w.present);
      for (const c of remoteCells) if (c.dataset.remote === name) c.textContent = c.dataset.oid ? (have.has(c.dataset.oid) ? "yes" : "no") : "-";
    }, (e) => { for (const c of remoteCells) if (c.dataset.remote === name) { c.textContent = "?"; c.title = e.message; } });
  }
}

// --- Plots ----------------------------------------------------------------------------------------------------
async function plots() {
  const r = await get("/api/runs");
  if (!mainRows(r).length) { main.replaceChildren(h("h1", {}, "Plots"), h("p", { class: "muted" }, `No commits on ${r.base} yet.`)); return; }
  const q0 = new URLSearchParams(location.search);  // /plots?rev=REV&other=REV (linked from a comparison)
  const head = q0.get("rev") || lastSha(mainRows(r), 0);
  const sel = h("select", { id: "plots-rev" }, commitOptions(r.rows, head));
  const other = h("select", { id: "plots-other" }, h("option", { value: "" }, "(none)"), commitOptions(r.rows, q0.get("other")));
  for (const [s, rev] of [[sel, head], [other, q0.get("other")]]) {
    if (rev && ![...s.options].some((o) => o.value === rev)) s.append(h("option", { value: rev }, rev));
    if (rev) s.value = rev;
  }
  const holder = h("div", { id: "plots" });
  async function draw() {
    holder.replaceChildren(h("p", { class: "muted" }, "Rendering…"));
    const q = [sel.value, other.value].filter((x) => x).map((x) => "rev=" + encodeURIComponent(x)).join("&");
    try {
      const p = await get("/api/plots" + (q ? "?" + q : ""));
      const boxes = [];
      if (!p.plots.length) boxes.push(h("p", { class: "muted" }, "No plots defined in dvc.yaml."));
      for (const e of p.errors || []) boxes.push(h("p", { class: "error" }, `${e.name} at ${short(e.rev)}: ${e.msg}`));
      const todo = [];
      for (const pl of p.plots) {
        const box = h("div", { class: "plot", "data-plot": pl.id }, h("h3", {}, pl.id));
        if (pl.kind === "image") for (const im of pl.images) box.append(h("figure", {}, h("img", { src: im.src, alt: pl.id }), h("figcaption", {}, short(im.rev))));
        else { const el = h("div", {}); box.append(el); todo.push([el, pl.spec]); }
        boxes.push(box);
      }
      holder.replaceChildren(...boxes);
      for (const [el, spec] of todo) await embed(el, spec);
    } catch (e) { holder.replaceChildren(h("p", { class: "error" }, e.message)); }
  }
  sel.addEventListener("change", draw); other.addEventListener("change", draw);
  main.replaceChildren(h("h1", {}, "Plots"), h("div", { class: "controls" }, h("label", {}, "revision ", sel), h("label", {}, "compare with ", other)), holder);
  await draw();
}

const ROUTES = { "": overview, trends, registry, runs, data, plots };
(async () => {
  const page = location.pathname.replace(/^\/+|\/+$/g, "");
  for (const a of document.querySelectorAll("nav a")) if (a.dataset.page === page) a.classList.add("active");
  try {
    await (ROUTES[page] || overview)();
  } catch (e) {
    main.replaceChildren(h("h1", {}, "Error"), h("p", { class: "error", id: "page-error" }, e.message));
  }
  document.body.setAttribute("data-ready", "1");
})();
