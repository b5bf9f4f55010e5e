(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("data").textContent);
  const years = data.years, oe = data.override_end;
  const councils = data.councils.slice();
  // Rank by risk: probability, then median deficit, then code (as summary.md ranks).
  councils.slice().sort((a, b) => (b.p - a.p) || (b.deficit_p50 - a.deficit_p50) || (a.la_code < b.la_code ? -1 : 1))
    .forEach((c, i) => { c.rank = i + 1; });
  const state = { sort: "rank", dir: "asc", q: "", council: null };
  const tbody = document.querySelector("#table tbody");
  const fmtM = v => (v < 0 ? "-" : "") + "\u00a3" + (Math.abs(v) / 1e6).toFixed(1) + "m";
  const fmtP = (p, se) => (100 * p).toFixed(1) + "% \u00b1 " + (100 * se).toFixed(1);
  function cell(c, key) {
    switch (key) {
      case "p": return fmtP(c.p, c.p_se);
      case "deficit_p50": case "deficit_p95": case "reserves": case "shortfall": return fmtM(c[key]);
      case "sv": return c.sv ? "yes" : "";
      default: return String(c[key]);
    }
  }
  function compare(a, b) {
    const k = state.sort, x = a[k], y = b[k];
    let r = (typeof x === "string") ? x.localeCompare(y) : (x - y);
    if (r === 0) r = a.rank - b.rank;
    return state.dir === "asc" ? r : -r;
  }
  function render() {
    const q = state.q.trim().toLowerCase();
    const rows = councils.filter(c => !q || c.la_name.toLowerCase().includes(q) || c.la_code === q).sort(compare);
    const frag = document.createDocumentFragment();
    for (const c of rows) {
      const tr = document.createElement("tr");
      tr.dataset.code = c.la_code;
      if (c.la_code === state.council) tr.className = "selected";
      for (const th of document.querySelectorAll("#table th")) {
        const td = document.createElement("td");
        const key = th.dataset.key;
        if (key === "la_name" || key === "la_code") td.className = "text";
        td.textContent = cell(c, key);
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
    document.getElementById("count").textContent = rows.length + " of " + councils.length + " councils";
    for (const th of document.querySelectorAll("#table th")) {
      th.className = th.dataset.key === state.sort ? "sorted " + state.dir : "";
    }
  }
  function sortBy(key) {
    if (state.sort === key) state.dir = state.dir === "asc" ? "desc" : "asc";
    else { state.sort = key; state.dir = (key === "la_name" || key === "la_code" || key === "rank") ? "asc" : "desc"; }
    render();
  }
  const NS = "http://www.w3.org/2000/svg";
  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function niceStep(range) {
    const raw = range / 6, p = Math.pow(10, Math.floor(Math.log10(raw)));
    const m = raw / p;
    return p * (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10);
  }
  function chart(c) {
    const W = 760, H = 400, L = 70, R = 40, T = 20, B = 76;
    const svg = el("svg", { viewBox: "0 0 " + W + " " + H, width: "100%", role: "img",
      "aria-label": c.la_name + " cumulative deficit fan chart" });
    const d = c.deficit;
    let lo = 0, hi = 0;
    d.forEach(b => { lo = Math.min(lo, b[0]); hi = Math.max(hi, b[4]); });
    c.reserves_by_year.forEach(v => { lo = Math.min(lo, v); hi = Math.max(hi, v); });
    const pad = (hi - lo || 1) * 0.08; hi += pad; if (lo < 0) lo -= pad;
    const unit = Math.max(Math.abs(hi), Math.abs(lo)) >= 1e9 ? 1e9 : 1e6, uname = unit === 1e9 ? "bn" : "m";
    const x = i => L + (W - L - R) * (d.length > 1 ? i / (d.length - 1) : 0.5);
    const y = v => T + (H - T - B) * (hi - v) / (hi - lo);
    const step = niceStep((hi - lo) / unit) * unit;
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
      const a = Math.abs(v) < step / 1e6 ? 0 : v;
      svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e4e4e4" }));
      svg.appendChild(el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 12 },
        (a < 0 ? "-" : "") + "\u00a3" + (Math.abs(a) / unit).toFixed(step / unit < 1 ? 1 : 0) + uname));
    }
    years.forEach((fy, i) => {
      if (i % 2 === oe % 2 || i === years.length - 1)
        svg.appendChild(el("text", { x: x(i), y: H - B + 18, "text-anchor": "middle", "font-size": 12 }, fy));
    });
    svg.appendChild(el("text", { x: (L + W - R) / 2, y: H - B + 38, "text-anchor": "middle", "font-size": 12, fill: "#555" },
      "financial year (balance at 31 March)" + (lo < 0 ? "; below \u00a30 = surplus" : "")));
    const poly = (a, b, op) => {
      const pts = d.map((q, i) => x(i) + "," + y(q[b])).concat(d.map((q, i) => [i, q]).reverse().map(([i, q]) => x(i) + "," + y(q[a])));
      svg.appendChild(el("polygon", { points: pts.join(" "), fill: "#1f77b4", "fill-opacity": op, class: "band" }));
    };
    poly(0, 4, 0.18); poly(1, 3, 0.38);
    svg.appendChild(el("polyline", { points: d.map((q, i) => x(i) + "," + y(q[2])).join(" "), fill: "none", stroke: "#1f77b4", "stroke-width": 3, class: "median" }));
    svg.appendChild(el("polyline", { points: c.reserves_by_year.map((v, i) => x(i) + "," + y(v)).join(" "), fill: "none", stroke: "#c8372d", "stroke-width": 2, "stroke-dasharray": "8 5" }));
    svg.appendChild(el("line", { x1: x(oe), x2: x(oe), y1: T, y2: H - B, stroke: "#5a5a5a", "stroke-dasharray": "6 4" }));
    svg.appendChild(el("text", { x: x(oe) + 5, y: T + 12, "font-size": 12, fill: "#5a5a5a" }, "override ends"));
    const legend = [["#1f77b4", 0.18, "90% band"], ["#1f77b4", 0.38, "50% band"], ["#1f77b4", 1, "median deficit"], ["#c8372d", 1, "usable reserves (median)"]];
    legend.forEach(([col, op, label], i) => {
      const lx = L + i * 160;
      svg.appendChild(el("rect", { x: lx, y: H - 18, width: 14, height: 10, fill: col, "fill-opacity": op }));
      svg.appendChild(el("text", { x: lx + 20, y: H - 9, "font-size": 12 }, label));
    });
    svg.appendChild(el("line", { x1: L, x2: L, y1: T, y2: H - B, stroke: "#333" }));
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(Math.max(lo, 0)), y2: y(Math.max(lo, 0)), stroke: "#333" }));
    return svg;
  }
  function select(code) {
    const c = councils.find(k => k.la_code === code);
    if (!c) return;
    state.council = code;
    const box = document.getElementById("detail");
    box.hidden = false;
    document.getElementById("council-name").textContent = c.la_name + " (" + c.la_code + ")" + (c.sv ? ", safety-valve council" : "");
    document.getElementById("council-chart").replaceChildren(chart(c));
    const rows = [
      ["rank by risk", c.rank + " of " + councils.length],
      ["P(deficit > reserves) at " + years[oe], fmtP(c.p, c.p_se)],
      ["deficit at " + years[oe] + ": median (90% band)", fmtM(c.deficit_p50) + " (" + fmtM(c.deficit_p05) + " to " + fmtM(c.deficit_p95) + ")"],
      ["usable reserves (median)", fmtM(c.reserves)],
      ["expected shortfall (mean of deficit above reserves)", fmtM(c.shortfall)],
      ["deficit / reserves (median)", c.ratio.toFixed(2)],
      ["EHCPs at the January census of " + years[oe] + " (median)", Math.round(c.ehcps_by_year[oe]).toLocaleString("en-GB")],
    ];
    const t = document.getElementById("council-numbers");
    t.replaceChildren(...rows.map(([k, v]) => { const tr = document.createElement("tr"); const a = document.createElement("td"); a.textContent = k; const b = document.createElement("td"); b.textContent = v; tr.append(a, b); return tr; }));
    render();
  }
  document.querySelectorAll("#table th").forEach(th => {
    th.addEventListener("click", () => sortBy(th.dataset.key));
    th.addEventListener("keydown", e => { if (e.key === "Enter") sortBy(th.dataset.key); });
  });
  tbody.addEventListener("click", e => { const tr = e.target.closest("tr"); if (tr) { select(tr.dataset.code); document.getElementById("detail").scrollIntoView({ block: "nearest" }); } });
  const search = document.getElementById("search");
  search.addEventListener("input", () => { state.q = search.value; render(); });
  // State from the address: #sort=KEY&dir=asc|desc&q=TEXT&council=CODE
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.get("sort")) { state.sort = h.get("sort"); state.dir = h.get("dir") === "desc" ? "desc" : "asc"; }
  if (h.get("q")) { state.q = h.get("q"); search.value = state.q; }
  render();
  if (h.get("council")) select(h.get("council"));
})();
