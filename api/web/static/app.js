// ragd browser interface: the shared helpers, search, ask (streamed, with
// citations) and the document viewer; index.js has the Index page. Plain script, no build step. Text that comes from the server
// or from files is only ever inserted as text nodes (textContent,
// createTextNode), never parsed as HTML.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const KEY_STORE = 'ragd.apiKey';
  const INDEX_STORE = 'ragd.index';
  const DOCS_PAGE = 25;

  const state = {
    index: '',
    indexes: [],
    askHits: [],
    cites: new Map(), // n -> citation from the done event
    askText: '',
    askAbort: null,
    docsAfter: '',
    docsStack: [],
    docsNext: '',
    dialogOpener: null,
  };

  // el builds an element: attrs are properties or attributes; children are
  // nodes or strings (strings become text nodes).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k in node && typeof v !== 'string') node[k] = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  // ---- API ----------------------------------------------------------------

  class ApiError extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;
      this.status = status;
    }
  }

  function authHeaders(extra) {
    const h = Object.assign({}, extra);
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) h.Authorization = 'Bearer ' + key;
    return h;
  }

  async function errorFrom(resp) {
    let code = 'http_' + resp.status;
    let msg = resp.statusText || 'request failed';
    try {
      const text = await resp.text();
      try {
        const j = JSON.parse(text);
        if (j && j.error && typeof j.error === 'object') {
          code = j.error.code || code;
          msg = j.error.message || msg;
        } else if (j && typeof j.message === 'string') {
          msg = j.message;
        }
      } catch {
        if (text.trim()) msg = text.trim().slice(0, 500);
      }
    } catch { /* keep the status text */ }
    return new ApiError(code, msg, resp.status);
  }

  async function api(method, path, body, signal) {
    const opts = { method, headers: authHeaders(body !== undefined ? { 'Content-Type': 'application/json' } : {}), signal };
    if (body !== undefined) opts.body = JSON.stringify(body);
    let resp;
    try {
      resp = await fetch(path, opts);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError('network', 'cannot reach the server: ' + e.message, 0);
    }
    if (!resp.ok) throw await errorFrom(resp);
    if (resp.status === 204) return null;
    return resp.json();
  }

  const ix = (name) => '/v1/indexes/' + encodeURIComponent(name);
  const docPath = (name, id) => ix(name) + '/documents/' + encodeURIComponent(id);

  function showError(box, err) {
    box.hidden = false;
    const label = err instanceof ApiError
      ? 'Error' + (err.status ? ' ' + err.status : '') + (err.code ? ' (' + err.code + ')' : '') + ':'
      : 'Error:';
    box.replaceChildren(el('strong', { text: label }), ' ' + (err.message || String(err)));
  }
  function clearError(box) {
    box.hidden = true;
    box.replaceChildren();
  }

  function fmtNum(n) {
    return typeof n === 'number' ? n.toLocaleString('en-US') : '—';
  }
  function fmtScore(x) {
    if (typeof x !== 'number' || !isFinite(x)) return '—';
    return Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(4);
  }
  function fmtBytes(n) {
    if (typeof n !== 'number') return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
  }

  // indexView refreshes the Index page (index.js provides it).
  function indexView() {
    if (window.ragdUI.loadIndexView) window.ragdUI.loadIndexView();
  }

  // ---- views ----------------------------------------------------------------

  const VIEWS = ['search', 'ask', 'index', 'eval'];

  function route() {
    const want = location.hash.replace(/^#/, '');
    const view = VIEWS.includes(want) ? want : 'search';
    for (const v of VIEWS) $('view-' + v).hidden = v !== view;
    for (const a of document.querySelectorAll('.tabs a')) {
      if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (view === 'index') indexView();
    return view;
  }

  // ---- indexes --------------------------------------------------------------

  async function loadIndexes(select) {
    const sel = $('index-select');
    clearError($('global-error'));
    try {
      const res = await api('GET', '/v1/indexes');
      state.indexes = res.indexes || [];
    } catch (e) {
      showError($('global-error'), e);
      state.indexes = [];
    }
    const want = select || state.index || sessionStorage.getItem(INDEX_STORE) || '';
    sel.replaceChildren();
    if (state.indexes.length === 0) {
      sel.append(el('option', { value: '', text: 'no indexes yet' }));
    }
    for (const info of state.indexes) {
      const docs = info.stats ? info.stats.documents : 0;
      sel.append(el('option', { value: info.name, text: info.name + ' (' + fmtNum(docs) + ' docs)' }));
    }
    const names = state.indexes.map((i) => i.name);
    setIndex(names.includes(want) ? want : (names[0] || ''));
  }

  function setIndex(name) {
    const changed = name !== state.index;
    state.index = name;
    $('index-select').value = name;
    if (name) sessionStorage.setItem(INDEX_STORE, name);
    if (changed) {
      state.docsAfter = '';
      state.docsStack = [];
      if (!$('view-index').hidden) indexView();
    }
  }

  function needIndex(box) {
    if (state.index) return true;
    showError(box, new Error('pick an index first (or create one on the Index page)'));
    return false;
  }

  // ---- highlighting -----------------------------------------------------------

  const STOP = new Set(('a an and are as at be but by do does for from has have how i if in into is it its ' +
    'me my no not of on or so that the their then there these this to was we what when where which who why ' +
    'will with you your').split(' '));

  function queryTerms(q) {
    const words = (q.toLowerCase().match(/[\p{L}\p{N}]+/gu) || []).filter((w) => w.length > 1 && !STOP.has(w));
    return [...new Set(words)];
  }

  function termRegex(terms) {
    if (terms.length === 0) return null;
    const alts = terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).sort((a, b) => b.length - a.length);
    // A term matches at a word start and takes the rest of the word, so
    // "read" marks "reading" (a rough stand-in for the index's stemming).
    return new RegExp('(?<![\\p{L}\\p{N}])(?:' + alts.join('|') + ')[\\p{L}\\p{N}]*', 'giu');
  }

  // highlight returns a fragment of text nodes with <mark> around matches.
  function highlight(text, re) {
    const frag = document.createDocumentFragment();
    if (!re) {
      frag.append(text);
      return frag;
    }
    let last = 0;
    for (const m of text.matchAll(re)) {
      if (m.index > last) frag.append(text.slice(last, m.index));
      frag.append(el('mark', { text: m[0] }));
      last = m.index + m[0].length;
    }
    if (last < text.length) frag.append(text.slice(last));
    return frag;
  }

  // ---- search -----------------------------------------------------------------

  function radioValue(name) {
    const r = document.querySelector('input[name="' + name + '"]:checked');
    return r ? r.value : '';
  }

  function syncFusion() {
    const mode = radioValue('mode');
    const fusionOn = mode === 'hybrid' || mode === '';
    for (const r of document.querySelectorAll('input[name="fusion"]')) r.disabled = !fusionOn;
    $('alpha').disabled = !fusionOn || radioValue('fusion') !== 'convex';
    $('alpha-out').value = Number($('alpha').value).toFixed(2);
  }

  async function runSearch(ev) {
    ev.preventDefault();
    const box = $('search-error');
    clearError(box);
    if (!needIndex(box)) return;
    const query = $('search-q').value.trim();
    if (!query) return;
    const body = {
      query,
      top_k: Math.max(1, parseInt($('search-k').value, 10) || 10),
      mode: radioValue('mode'),
      fusion: radioValue('fusion'),
      explain: true,
      rerank: $('rerank').checked,
    };
    if (body.fusion === 'convex') body.alpha = Number($('alpha').value);
    const status = $('search-status');
    status.textContent = 'Searching…';
    $('search-go').disabled = true;
    try {
      const res = await api('POST', ix(state.index) + '/search', body);
      renderHits($('hits'), res.hits || [], query);
      const n = (res.hits || []).length;
      status.textContent = n + (n === 1 ? ' hit' : ' hits') + ' in ' + (res.took_ms ?? '?') + ' ms';
    } catch (e) {
      status.textContent = '';
      $('hits').replaceChildren();
      showError(box, e);
    } finally {
      $('search-go').disabled = false;
    }
  }

  function explainTable(x) {
    const row = (label, rs) => el('tr', {},
      el('th', { scope: 'row', text: label }),
      el('td', { text: rs ? fmtScore(rs.score) : '—' }),
      el('td', { text: rs && rs.rank ? String(rs.rank) : '—' }));
    return el('table', {},
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'stage' }), el('th', { scope: 'col', text: 'score' }),
        el('th', { scope: 'col', text: 'rank' }))),
      el('tbody', {},
        row('bm25', x.bm25),
        row('vector', x.vector),
        row('fused', { score: x.fused }),
        x.rerank !== undefined && x.rerank !== null ? row('rerank', { score: x.rerank }) : null));
  }

  function renderHits(list, hits, query) {
    const re = termRegex(queryTerms(query));
    list.replaceChildren();
    if (hits.length === 0) {
      list.append(el('li', { class: 'hit', text: 'No hits.' }));
      return;
    }
    hits.forEach((h, i) => {
      const title = h.title || h.doc_id;
      const open = (e) => openDocument(h.doc_id, { chunkId: h.chunk_id, start: h.start, end: h.end, query }, e.currentTarget);
      const item = el('li', { class: 'hit' },
        el('div', { class: 'hit-head' },
          el('h3', { class: 'hit-title' }, (i + 1) + '. ', highlight(title, re)),
          el('span', { class: 'score', text: 'score ' + fmtScore(h.score) })),
        el('div', { class: 'src' }, h.doc_id + (h.source && h.source !== h.doc_id ? ' · ' + h.source : '') +
          ' · bytes ' + h.start + '–' + h.end),
        h.headings && h.headings.length ? el('div', { class: 'crumbs', text: h.headings.join(' › ') }) : null,
        el('p', { class: 'snippet' }, highlight(h.text || '', re)),
        el('div', { class: 'hit-actions' },
          el('button', { type: 'button', class: 'linkish', onclick: open, text: 'Show in document',
            'aria-label': 'Show hit ' + (i + 1) + ' in its document' }),
          h.explain ? el('details', { class: 'explain' },
            el('summary', { text: 'Why this hit' }), explainTable(h.explain)) : null));
      list.append(item);
    });
  }

  // ---- ask (SSE over fetch) ---------------------------------------------------

  const CITE_RE = /\[(\d+(?:\s*[-–,;]\s*\d+)*)\]/g;

  function citeNumbers(inner) {
    const out = [];
    for (const part of inner.split(/\s*[,;]\s*/)) {
      const r = part.split(/\s*[-–]\s*/).map((x) => parseInt(x, 10));
      if (r.length === 2 && r[1] >= r[0] && r[1] - r[0] < 50) {
        for (let n = r[0]; n <= r[1]; n++) out.push(n);
      } else if (!isNaN(r[0])) out.push(r[0]);
    }
    return out;
  }

  function citeTarget(n) {
    const c = state.cites.get(n);
    if (c) return { docId: c.doc_id, chunkId: c.chunk_id, start: c.start, end: c.end, title: c.title || c.doc_id, source: c.source };
    const h = state.askHits[n - 1];
    if (h) return { docId: h.doc_id, chunkId: h.chunk_id, start: h.start, end: h.end, title: h.title || h.doc_id, source: h.source };
    return null;
  }

  function citeLink(n) {
    const t = citeTarget(n);
    if (!t) return document.createTextNode(String(n));
    return el('a', {
      class: 'cite', href: '#ask', 'data-n': String(n), text: String(n),
      'aria-label': 'Source ' + n + ': ' + t.title,
      onclick: (e) => {
        e.preventDefault();
        openDocument(t.docId, { chunkId: t.chunkId, start: t.start, end: t.end, query: $('ask-q').value }, e.currentTarget);
      },
    });
  }

  function answerFragment(text) {
    const frag = document.createDocumentFragment();
    let last = 0;
    for (const m of text.matchAll(CITE_RE)) {
      if (m.index > last) frag.append(text.slice(last, m.index));
      frag.append('[');
      citeNumbers(m[1]).forEach((n, i) => {
        if (i > 0) frag.append(', ');
        frag.append(citeLink(n));
      });
      frag.append(']');
      last = m.index + m[0].length;
    }
    if (last < text.length) frag.append(text.slice(last));
    return frag;
  }

  let renderPending = false;
  function renderAnswer() {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(() => {
      renderPending = false;
      renderAnswerNow();
    });
  }

  // renderAnswerNow draws the answer at once: the end of a stream must not
  // leave it to the next frame, or "Done." can show beside an empty answer.
  function renderAnswerNow() {
    $('answer').replaceChildren(answerFragment(state.askText));
  }

  function renderSources(final) {
    const list = $('sources');
    list.replaceChildren();
    const items = [];
    if (final && state.cites.size > 0) {
      for (const [n] of [...state.cites.entries()].sort((a, b) => a[0] - b[0])) items.push(n);
    } else {
      state.askHits.forEach((_, i) => items.push(i + 1));
    }
    for (const n of items) {
      const t = citeTarget(n);
      if (!t) continue;
      list.append(el('li', { value: n },
        el('button', {
          type: 'button', class: 'linkish', text: t.title,
          onclick: (e) => openDocument(t.docId, { chunkId: t.chunkId, start: t.start, end: t.end, query: $('ask-q').value }, e.currentTarget),
        }),
        el('span', { class: 'meta', text: ' ' + t.docId + (t.source && t.source !== t.docId ? ' · ' + t.source : '') })));
    }
  }

  // parseSSE splits a buffer into complete events; it returns the events
  // and the unconsumed rest.
  function parseSSE(buf) {
    const events = [];
    buf = buf.replace(/\r\n?/g, '\n');
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') name = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length) events.push({ name, data: data.join('\n') });
    }
    return { events, rest: buf };
  }

  function handleAskEvent(ev) {
    let payload;
    try {
      payload = JSON.parse(ev.data);
    } catch {
      return;
    }
    switch (ev.name) {
      case 'retrieval':
        state.askHits = payload.hits || [];
        $('ask-status').textContent = 'Retrieved ' + state.askHits.length + ' passages; generating…';
        renderSources(false);
        break;
      case 'token':
        state.askText += payload.delta || '';
        renderAnswer();
        break;
      case 'done': {
        state.cites = new Map((payload.citations || []).map((c) => [c.n, c]));
        renderAnswerNow();
        renderSources(true);
        const gen = payload.generator || {};
        const parts = [];
        if (gen.id) parts.push('generator ' + gen.id);
        if (payload.finish_reason) parts.push('finish: ' + payload.finish_reason);
        if (payload.usage) parts.push((payload.usage.prompt_tokens ?? '?') + ' prompt / ' + (payload.usage.completion_tokens ?? '?') + ' completion tokens');
        if (payload.dropped) parts.push(payload.dropped + ' passages dropped to fit the context');
        $('answer-meta').textContent = parts.join(' · ');
        $('ask-status').textContent = 'Done.';
        break;
      }
      case 'error':
        showError($('ask-error'), new ApiError(payload.code || 'generation', payload.message || 'the answer failed', 0));
        break;
    }
  }

  async function runAsk(ev) {
    ev.preventDefault();
    const box = $('ask-error');
    clearError(box);
    if (!needIndex(box)) return;
    const query = $('ask-q').value.trim();
    if (!query) return;
    if (state.askAbort) state.askAbort.abort();
    const ctrl = new AbortController();
    state.askAbort = ctrl;
    state.askHits = [];
    state.cites = new Map();
    state.askText = '';
    $('answer').replaceChildren();
    $('answer-meta').textContent = '';
    $('sources').replaceChildren();
    $('answer').setAttribute('aria-busy', 'true');
    $('ask-status').textContent = 'Retrieving…';
    $('ask-go').disabled = true;
    $('ask-stop').disabled = false;
    const body = { query, top_k: Math.max(1, parseInt($('ask-k').value, 10) || 5), mode: $('ask-mode').value, stream: true };
    try {
      const resp = await fetch(ix(state.index) + '/ask', {
        method: 'POST', signal: ctrl.signal, body: JSON.stringify(body),
        headers: authHeaders({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
      });
      if (!resp.ok) throw await errorFrom(resp);
      const ctype = resp.headers.get('Content-Type') || '';
      if (!ctype.includes('text/event-stream')) {
        // A server that answers in one piece.
        const j = await resp.json();
        state.askHits = j.hits || [];
        state.askText = j.answer || '';
        handleAskEvent({ name: 'done', data: JSON.stringify(j) });
      } else {
        const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const r = parseSSE(buf + value);
          buf = r.rest;
          r.events.forEach(handleAskEvent);
        }
        parseSSE(buf + '\n\n').events.forEach(handleAskEvent);
      }
    } catch (e) {
      if (e.name === 'AbortError') {
        $('ask-status').textContent = 'Stopped.';
      } else {
        $('ask-status').textContent = '';
        showError(box, e.name === 'TypeError' ? new ApiError('network', 'the stream broke: ' + e.message, 0) : e);
      }
    } finally {
      if (state.askAbort === ctrl) state.askAbort = null;
      $('answer').setAttribute('aria-busy', 'false');
      $('ask-go').disabled = false;
      $('ask-stop').disabled = true;
    }
  }

  // ---- document viewer ----------------------------------------------------------

  // byteSlices splits text at UTF-8 byte offsets [start, end) and returns
  // the three decoded pieces (offsets are clamped and, if they fall inside
  // a character, moved to its start).
  function byteSlices(text, start, end) {
    const b = enc.encode(text);
    const fix = (n) => {
      n = Math.max(0, Math.min(b.length, n | 0));
      while (n > 0 && n < b.length && (b[n] & 0xc0) === 0x80) n--;
      return n;
    };
    const s = fix(start);
    const e = Math.max(s, fix(end));
    return [dec.decode(b.subarray(0, s)), dec.decode(b.subarray(s, e)), dec.decode(b.subarray(e))];
  }

  async function openDocument(docId, target, opener) {
    const dlg = $('doc-dialog');
    const box = $('doc-error');
    clearError(box);
    state.dialogOpener = opener || document.activeElement;
    $('doc-title').textContent = 'Loading ' + docId + '…';
    $('doc-meta').textContent = '';
    $('doc-text').replaceChildren();
    if (!dlg.open) dlg.showModal();
    let doc;
    try {
      doc = await api('GET', docPath(state.index, docId));
    } catch (e) {
      $('doc-title').textContent = docId;
      showError(box, e);
      return;
    }
    $('doc-title').textContent = doc.title || doc.id;
    const chunks = doc.chunks || [];
    let start = target && typeof target.start === 'number' ? target.start : -1;
    let end = target && typeof target.end === 'number' ? target.end : -1;
    const chunk = target && target.chunkId ? chunks.find((c) => c.id === target.chunkId) : null;
    if (chunk) {
      start = chunk.start;
      end = chunk.end;
    }
    $('doc-meta').textContent = doc.id + (doc.source && doc.source !== doc.id ? ' · ' + doc.source : '') +
      ' · ' + chunks.length + (chunks.length === 1 ? ' chunk' : ' chunks') +
      (start >= 0 && end > start ? ' · cited bytes ' + start + '–' + end : '');
    const text = doc.text || '';
    const out = $('doc-text');
    if (start >= 0 && end > start && end <= enc.encode(text).length) {
      const [before, mid, after] = byteSlices(text, start, end);
      const re = target && target.query ? termRegex(queryTerms(target.query)) : null;
      const mark = el('mark', { class: 'cited', id: 'cited-chunk', tabindex: '-1' }, highlightInner(mid, re));
      out.replaceChildren(before, mark, after);
      requestAnimationFrame(() => mark.scrollIntoView({ block: 'center' }));
    } else if (chunk && !text) {
      out.replaceChildren(el('mark', { class: 'cited', id: 'cited-chunk' }, chunk.text));
    } else {
      out.replaceChildren(text);
    }
  }

  // highlightInner marks query terms inside the cited chunk with <strong>
  // (a <mark> inside the cited <mark> would not stand out).
  function highlightInner(text, re) {
    const frag = document.createDocumentFragment();
    if (!re) {
      frag.append(text);
      return frag;
    }
    let last = 0;
    for (const m of text.matchAll(re)) {
      if (m.index > last) frag.append(text.slice(last, m.index));
      frag.append(el('strong', { text: m[0] }));
      last = m.index + m[0].length;
    }
    if (last < text.length) frag.append(text.slice(last));
    return frag;
  }

  // ---- wiring -------------------------------------------------------------------

  function init() {
    const key = $('api-key');
    key.value = sessionStorage.getItem(KEY_STORE) || '';
    key.addEventListener('change', () => {
      const v = key.value.trim();
      if (v) sessionStorage.setItem(KEY_STORE, v);
      else sessionStorage.removeItem(KEY_STORE);
      loadIndexes();
    });
    $('index-select').addEventListener('change', (e) => setIndex(e.target.value));
    $('refresh-indexes').addEventListener('click', () => loadIndexes());
    $('search-form').addEventListener('submit', runSearch);
    for (const r of document.querySelectorAll('input[name="mode"], input[name="fusion"]')) r.addEventListener('change', syncFusion);
    $('alpha').addEventListener('input', syncFusion);
    $('ask-form').addEventListener('submit', runAsk);
    $('ask-stop').addEventListener('click', () => { if (state.askAbort) state.askAbort.abort(); });
    const dlg = $('doc-dialog');
    $('doc-close').addEventListener('click', () => dlg.close());
    dlg.addEventListener('click', (e) => { if (e.target === dlg) dlg.close(); });
    dlg.addEventListener('close', () => {
      const o = state.dialogOpener;
      state.dialogOpener = null;
      if (o && document.contains(o)) o.focus();
    });
    window.addEventListener('hashchange', () => {
      route();
      $('main').focus({ preventScroll: true });
    });
    syncFusion();
    route();
    loadIndexes();
  }

  // Shared with index.js and eval.js.
  window.ragdUI = {
    $, el, api, ApiError, authHeaders, showError, clearError, fmtNum, fmtBytes, ix, docPath, state, DOCS_PAGE,
    loadIndexes, needIndex, openDocument, byteSlices, parseSSE, queryTerms,
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
