// ragd browser interface: renders a saved `ragd eval` report.json (a table,
// a bar chart of the runs' metrics, and the alpha sweep curve when the
// report has one). The SVG is drawn by hand; every label is a text node.
'use strict';

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const METRICS = [
    ['ndcg_at_10', 'nDCG@10'],
    ['map', 'MAP'],
    ['recall_at_100', 'R@100'],
    ['p_at_10', 'P@10'],
    ['mrr_at_10', 'MRR@10'],
  ];
  const COLORS = ['#2b6cb0', '#dd6b20', '#2f855a', '#c53030', '#6b46c1', '#975a16', '#b83280', '#4a5568'];

  function s(tag, attrs, ...children) {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    for (const c of children) if (c !== null && c !== undefined) n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return n;
  }

  const num = (x) => (typeof x === 'number' && isFinite(x) ? x : null);
  const f4 = (x) => (num(x) === null ? '—' : x.toFixed(4));

  function runLabel(r) {
    let l = String(r.mode || 'run');
    if (r.fusion === 'convex' && !/alpha|α/.test(l)) l += ' (α=' + r.alpha + ')';
    if (r.rerank && !/rerank/.test(l)) l += ' +rerank';
    if (r.split) l += ' [' + r.split + ']';
    return l;
  }

  function validate(rep) {
    if (!rep || typeof rep !== 'object' || Array.isArray(rep)) throw new Error('the file is not a JSON object');
    if (!Array.isArray(rep.runs)) throw new Error('no "runs" array: is this a report.json written by ragd eval?');
    for (const [i, r] of rep.runs.entries()) {
      if (!r || typeof r !== 'object') throw new Error('runs[' + i + '] is not an object');
    }
  }

  function table(runs) {
    const { el } = window.ragdUI;
    const best = {};
    for (const [k] of METRICS) best[k] = Math.max(...runs.map((r) => num(r[k]) ?? -Infinity));
    const head = el('tr', {}, el('th', { scope: 'col', text: 'run' }),
      ...METRICS.map(([, label]) => el('th', { scope: 'col', text: label })),
      el('th', { scope: 'col', text: 'p50 ms' }), el('th', { scope: 'col', text: 'p99 ms' }));
    const rows = runs.map((r) => el('tr', {},
      el('th', { scope: 'row', text: runLabel(r) }),
      ...METRICS.map(([k]) => el('td', { class: num(r[k]) !== null && r[k] === best[k] ? 'best' : '', text: f4(r[k]) })),
      el('td', { text: num(r.latency_p50_ms) === null ? '—' : r.latency_p50_ms.toFixed(2) }),
      el('td', { text: num(r.latency_p99_ms) === null ? '—' : r.latency_p99_ms.toFixed(2) })));
    return el('div', { class: 'table-wrap' },
      el('table', { class: 'eval-table' }, el('caption', { class: 'visually-hidden', text: 'Mean metrics per run (best in bold)' }),
        el('thead', {}, head), el('tbody', {}, ...rows)));
  }

  function legend(labels) {
    const { el } = window.ragdUI;
    return el('ul', { class: 'legend' }, ...labels.map((l, i) => {
      const sw = el('span', { class: 'sw', 'aria-hidden': 'true' });
      sw.style.background = COLORS[i % COLORS.length];
      return el('li', {}, sw, l);
    }));
  }

  // axis returns a y axis with round ticks covering [0, v]: about five
  // steps of 1, 2, 2.5 or 5 times a power of ten.
  function axis(v) {
    if (!(v > 0)) v = 1;
    const raw = v / 5;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw - 1e-12);
    const n = Math.ceil(v / step - 1e-9);
    let digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    if (Math.abs(step / Math.pow(10, Math.floor(Math.log10(step))) - 2.5) < 1e-9) digits++;
    const ticks = [];
    for (let i = 0; i <= n; i++) ticks.push(i * step);
    return { max: n * step, ticks, label: (t) => t.toFixed(digits) };
  }

  function yGrid(svg, ax, y, L, R, W) {
    for (const v of ax.ticks) {
      svg.append(s('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }),
        s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, ax.label(v)));
    }
  }

  let chartSeq = 0;

  function barChart(runs) {
    const W = 760, H = 300, L = 46, R = 12, T = 16, B = 36;
    const vals = runs.flatMap((r) => METRICS.map(([k]) => num(r[k]) ?? 0));
    const ax = axis(Math.max(...vals, 0));
    const ymax = ax.max;
    const id = 'chart-' + (++chartSeq);
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': id + '-t ' + id + '-d' },
      s('title', { id: id + '-t' }, 'Mean metrics per run'),
      s('desc', { id: id + '-d' }, runs.map((r) => runLabel(r) + ': ' + METRICS.map(([k, l]) => l + ' ' + f4(r[k])).join(', ')).join('; ')));
    const y = (v) => T + (H - T - B) * (1 - v / ymax);
    yGrid(svg, ax, y, L, R, W);
    const gw = (W - L - R) / METRICS.length;
    const bw = Math.max(3, Math.min(28, (gw * 0.8) / Math.max(1, runs.length)));
    METRICS.forEach(([k, label], gi) => {
      const gx = L + gi * gw + (gw - bw * runs.length) / 2;
      runs.forEach((r, ri) => {
        const v = num(r[k]) ?? 0;
        svg.append(s('rect', { x: gx + ri * bw, y: y(v), width: bw - 1, height: Math.max(0, y(0) - y(v)), fill: COLORS[ri % COLORS.length] },
          s('title', {}, runLabel(r) + ' ' + label + ' ' + f4(r[k]))));
      });
      svg.append(s('text', { x: L + gi * gw + gw / 2, y: H - B + 18, 'text-anchor': 'middle' }, label));
    });
    svg.append(s('line', { class: 'axis', x1: L, x2: W - R, y1: y(0), y2: y(0) }),
      s('line', { class: 'axis', x1: L, x2: L, y1: T, y2: y(0) }));
    return svg;
  }

  function sweepChart(sw) {
    const pts = (sw.points || []).filter((p) => num(p.alpha) !== null).sort((a, b) => a.alpha - b.alpha);
    if (pts.length === 0) return null;
    const series = [
      ['dev_ndcg_at_10', 'dev nDCG@10'],
      ['test_ndcg_at_10', 'test nDCG@10'],
      ['dev_map', 'dev MAP'],
      ['test_map', 'test MAP'],
    ].filter(([k]) => pts.some((p) => num(p[k]) !== null));
    const W = 760, H = 300, L = 46, R = 12, T = 16, B = 40;
    const ax = axis(Math.max(0, ...pts.flatMap((p) => series.map(([k]) => num(p[k]) ?? 0))));
    const ymax = ax.max;
    const xmin = Math.min(0, pts[0].alpha), xmax = Math.max(1, pts[pts.length - 1].alpha);
    const x = (a) => L + ((W - L - R) * (a - xmin)) / (xmax - xmin || 1);
    const y = (v) => T + (H - T - B) * (1 - v / ymax);
    const id = 'chart-' + (++chartSeq);
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': id + '-t ' + id + '-d' },
      s('title', { id: id + '-t' }, 'Alpha sweep (convex fusion)'),
      s('desc', { id: id + '-d' }, 'best alpha ' + sw.best_alpha + '; ' +
        pts.map((p) => 'alpha ' + p.alpha + ': ' + series.map(([k, l]) => l + ' ' + f4(p[k])).join(', ')).join('; ')));
    yGrid(svg, ax, y, L, R, W);
    for (let i = 0; i <= 10; i++) {
      const a = xmin + ((xmax - xmin) * i) / 10;
      svg.append(s('text', { x: x(a), y: H - B + 16, 'text-anchor': 'middle' }, a.toFixed(1)));
    }
    svg.append(s('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle' }, 'alpha (0 = keyword only, 1 = vector only)'));
    if (num(sw.best_alpha) !== null) {
      svg.append(s('line', { x1: x(sw.best_alpha), x2: x(sw.best_alpha), y1: T, y2: y(0), stroke: '#888', 'stroke-dasharray': '4 4' }),
        s('text', { x: x(sw.best_alpha) + 4, y: T + 10 }, 'best α=' + sw.best_alpha));
    }
    series.forEach(([k, label], si) => {
      const color = COLORS[si % COLORS.length];
      const ps = pts.filter((p) => num(p[k]) !== null);
      svg.append(s('polyline', { fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-dasharray': k.startsWith('test') ? '6 3' : '',
        points: ps.map((p) => x(p.alpha).toFixed(1) + ',' + y(p[k]).toFixed(1)).join(' ') }));
      for (const p of ps) {
        svg.append(s('circle', { cx: x(p.alpha), cy: y(p[k]), r: 3, fill: color }, s('title', {}, label + ' at α=' + p.alpha + ': ' + f4(p[k]))));
      }
    });
    svg.append(s('line', { class: 'axis', x1: L, x2: W - R, y1: y(0), y2: y(0) }),
      s('line', { class: 'axis', x1: L, x2: L, y1: T, y2: y(0) }));
    return { svg, labels: series.map(([, l]) => l) };
  }

  function render(rep) {
    const { el } = window.ragdUI;
    const out = document.getElementById('eval-out');
    const runs = rep.runs;
    const parts = [
      el('h3', { text: 'Dataset: ' + (rep.dataset || 'unnamed') }),
      el('p', { class: 'meta', text: (rep.queries ?? '?') + ' judged queries · ' + runs.length + (runs.length === 1 ? ' run' : ' runs') }),
    ];
    if (runs.length) {
      parts.push(table(runs), el('h3', { text: 'Metrics by run' }), legend(runs.map(runLabel)), barChart(runs));
    } else {
      parts.push(el('p', { text: 'The report has no runs.' }));
    }
    if (rep.sweep && typeof rep.sweep === 'object') {
      const c = sweepChart(rep.sweep);
      parts.push(el('h3', { text: 'Alpha sweep' + (rep.sweep.spec ? ' (' + rep.sweep.spec + ')' : '') }),
        el('p', { class: 'meta', text: 'best alpha ' + rep.sweep.best_alpha + ', chosen on ' + (rep.sweep.dev_queries ?? '?') +
          ' dev queries; ' + (rep.sweep.test_queries ?? '?') + ' test queries' }));
      if (c) parts.push(legend(c.labels), c.svg);
    }
    out.replaceChildren(...parts);
  }

  function init() {
    const input = document.getElementById('eval-file');
    const box = document.getElementById('eval-error');
    input.addEventListener('change', () => {
      const f = input.files && input.files[0];
      window.ragdUI.clearError(box);
      if (!f) return;
      const r = new FileReader();
      r.onload = () => {
        try {
          const rep = JSON.parse(r.result);
          validate(rep);
          render(rep);
        } catch (e) {
          document.getElementById('eval-out').replaceChildren();
          window.ragdUI.showError(box, new Error(f.name + ': ' + e.message));
        }
      };
      r.onerror = () => window.ragdUI.showError(box, new Error('cannot read ' + f.name));
      r.readAsText(f);
    });
  }

  window.ragdEval = { render, validate };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
