// ragd browser interface: the Index page (stats, create, upload with
// progress, document list with delete). Uses the helpers app.js shares.
'use strict';

(() => {
  const { $, el, api, ApiError, authHeaders, showError, clearError, fmtNum, fmtBytes, ix, docPath, state, DOCS_PAGE,
    loadIndexes, needIndex, openDocument } = window.ragdUI;


  async function loadIndexView() {
    await Promise.all([loadStats(), loadDocs()]);
  }

  async function loadStats() {
    const dl = $('index-stats');
    if (!state.index) {
      dl.replaceChildren(el('div', {}, el('dt', { text: 'index' }), el('dd', { text: 'none selected' })));
      return;
    }
    let info;
    try {
      info = await api('GET', ix(state.index));
    } catch (e) {
      showError($('docs-error'), e);
      return;
    }
    const i = state.indexes.findIndex((x) => x.name === info.name);
    if (i >= 0) state.indexes[i] = info;
    const s = info.stats || {};
    const item = (k, v) => el('div', {}, el('dt', { text: k }), el('dd', { text: v }));
    dl.replaceChildren(
      item('index', info.name),
      item('documents', fmtNum(s.documents)),
      item('chunks', fmtNum(s.chunks)),
      item('vectors', fmtNum(s.vectors)),
      item('model', info.model || 'none (keyword only)'),
      item('dims', info.dims ? String(info.dims) : '—'),
      item('size on disk', fmtBytes(s.size_bytes)));
  }

  async function loadDocs() {
    const body = $('docs-table').tBodies[0];
    const box = $('docs-error');
    clearError(box);
    if (!state.index) {
      body.replaceChildren();
      return;
    }
    let res;
    try {
      const q = '?limit=' + DOCS_PAGE + (state.docsAfter ? '&after=' + encodeURIComponent(state.docsAfter) : '');
      res = await api('GET', ix(state.index) + '/documents' + q);
    } catch (e) {
      showError(box, e);
      return;
    }
    const docs = res.documents || [];
    state.docsNext = res.next || '';
    $('docs-next').disabled = !state.docsNext;
    $('docs-first').disabled = !state.docsAfter;
    $('docs-status').textContent = docs.length ? 'page ' + (state.docsStack.length + 1) + ', ' + docs.length + ' documents' : 'no documents';
    body.replaceChildren(...docs.map((d) => el('tr', {},
      el('td', { text: d.id }),
      el('td', { text: d.title || '' }),
      el('td', { text: d.source || '' }),
      el('td', { class: 'num', text: fmtNum(d.chunks) }),
      el('td', { class: 'actions' },
        el('button', { type: 'button', class: 'ghost', text: 'View', 'aria-label': 'View ' + d.id,
          onclick: (e) => openDocument(d.id, null, e.currentTarget) }), ' ',
        el('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': 'Delete ' + d.id,
          onclick: () => deleteDoc(d.id) })))));
  }

  async function deleteDoc(id) {
    if (!window.confirm('Delete document "' + id + '" from ' + state.index + '?')) return;
    try {
      await api('DELETE', docPath(state.index, id));
      $('docs-status').textContent = 'Deleted ' + id + '.';
    } catch (e) {
      showError($('docs-error'), e);
      return;
    }
    await loadIndexView();
    refreshIndexOptions();
  }

  // refreshIndexOptions updates the document counts in the index picker.
  async function refreshIndexOptions() {
    await loadIndexes(state.index);
  }

  function readText(file, onProgress) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
      r.onload = () => resolve(r.result);
      r.onerror = () => reject(r.error || new Error('cannot read the file'));
      r.readAsText(file);
    });
  }

  // postJSON sends with XMLHttpRequest, the one browser API that reports
  // upload progress.
  function postJSON(path, body, onProgress) {
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open('POST', path);
      for (const [k, v] of Object.entries(authHeaders({ 'Content-Type': 'application/json' }))) x.setRequestHeader(k, v);
      x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
      x.onerror = () => reject(new ApiError('network', 'upload failed: cannot reach the server', 0));
      x.onload = () => {
        let j = null;
        try { j = JSON.parse(x.responseText); } catch { /* not JSON */ }
        if (x.status >= 200 && x.status < 300) return resolve(j || {});
        const err = j && j.error ? j.error : {};
        reject(new ApiError(err.code || 'http_' + x.status, err.message || x.statusText || 'upload failed', x.status));
      };
      x.send(JSON.stringify(body));
    });
  }

  async function runUpload(ev) {
    ev.preventDefault();
    const box = $('upload-error');
    clearError(box);
    if (!needIndex(box)) return;
    const files = [...$('upload-files').files];
    if (files.length === 0) {
      showError(box, new Error('choose one or more text files first'));
      return;
    }
    const list = $('upload-list');
    list.replaceChildren();
    $('upload-go').disabled = true;
    const rows = files.map((f) => {
      const bar = el('progress', { max: 100, value: 0, 'aria-label': 'Progress of ' + f.name });
      const msg = el('span', { class: 'msg', text: 'waiting' });
      list.append(el('li', {}, el('span', { text: f.name + ' (' + fmtBytes(f.size) + ')' }), bar, msg));
      return { f, bar, msg };
    });
    let ok = 0;
    for (const { f, bar, msg } of rows) {
      try {
        msg.textContent = 'reading…';
        const text = await readText(f, (p) => { bar.value = 40 * p; });
        if (text.includes('\u0000')) throw new Error('not a text file');
        bar.value = 40;
        msg.textContent = 'uploading…';
        const id = f.webkitRelativePath || f.name;
        const title = f.name.replace(/\.[^.]+$/, '');
        const res = await postJSON(ix(state.index) + '/documents', { documents: [{ id, title, text, source: f.name }] },
          (p) => { bar.value = 40 + 50 * p; });
        bar.value = 100;
        msg.textContent = 'written ' + (res.written ?? 0) + ', skipped ' + (res.skipped ?? 0) + ', chunks ' + (res.chunks ?? 0) +
          (res.took_ms !== undefined ? ' (' + res.took_ms + ' ms)' : '');
        ok++;
      } catch (e) {
        msg.classList.add('bad');
        msg.textContent = 'failed: ' + (e.message || String(e));
      }
    }
    $('upload-go').disabled = false;
    if (ok > 0) {
      await loadIndexView();
      refreshIndexOptions();
    }
  }

  async function runCreate(ev) {
    ev.preventDefault();
    const box = $('docs-error');
    clearError(box);
    const name = $('create-name').value.trim();
    const model = $('create-model').value.trim();
    const body = { name };
    if (model) body.model = model;
    try {
      await api('POST', '/v1/indexes', body);
    } catch (e) {
      showError(box, e);
      return;
    }
    $('create-name').value = '';
    await loadIndexes(name);
    loadIndexView();
  }

  function init() {
    $('upload-form').addEventListener('submit', runUpload);
    $('create-form').addEventListener('submit', runCreate);
    $('docs-next').addEventListener('click', () => {
      if (!state.docsNext) return;
      state.docsStack.push(state.docsAfter);
      state.docsAfter = state.docsNext;
      loadDocs();
    });
    $('docs-first').addEventListener('click', () => {
      state.docsStack = [];
      state.docsAfter = '';
      loadDocs();
    });
  }

  window.ragdUI.loadIndexView = loadIndexView;
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
