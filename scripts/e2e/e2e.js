// Browser test of ragd's web interface; run.sh starts the server and sets
// RAGD_URL, RAGD_E2E_ARTIFACTS, CHROMIUM and RAGD_E2E_PROFILE.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const base = process.env.RAGD_URL;
const artifacts = process.env.RAGD_E2E_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'ragd-e2e-artifacts.'));
const exe = process.env.CHROMIUM || '/usr/bin/chromium';
const profile = process.env.RAGD_E2E_PROFILE || fs.mkdtempSync(path.join(os.tmpdir(), 'ragd-e2e-profile.'));
const INDEX = 'e2e';
const TIMEOUT = 15000;

if (!base) {
  console.error('RAGD_URL is not set (run scripts/e2e/run.sh)');
  process.exit(2);
}

function check(cond, msg) {
  if (!cond) throw new Error('check failed: ' + msg);
  console.log('ok   ' + msg);
}

async function rest(method, p, body) {
  const resp = await fetch(base + p, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`${method} ${p}: ${resp.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function waitReady() {
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      const r = await fetch(base + '/readyz');
      if (r.ok) return;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('ragd did not become ready at ' + base);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The first paragraph is non-ASCII filler, so the cited chunk starts at a
// byte offset that differs from its character offset.
const BREAD = [
  'Café notes — naïve façade, crème brûlée, jalapeño, smørrebrød, Ærø, 東京, 🍞🥖. ' +
    'Ünïcödé wörds fill this opening paragraph so that byte offsets and character offsets part ways early. ' +
    'Nothing here is about the oven; it is about the weather, the market, the river and the old bridge in town.',
  'To bake sourdough bread, preheat the oven to 250 degrees Celsius with a Dutch oven inside. ' +
    'Bake the loaf covered for twenty minutes, then uncovered until the crust is deep brown.',
  'Store the cooled loaf in a linen bag; slice it only when it has rested for an hour.',
].join('\n\n');

const DOCS = [
  { id: 'guides/bread.md', title: 'Baking sourdough bread', text: BREAD },
  { id: 'guides/coffee.md', title: 'Brewing coffee', text: 'Grind the beans medium-fine and pour water just off the boil over them for four minutes.' },
  { id: 'notes/xss.txt', title: 'Escaping <b>check</b>', text: 'An injection probe: <img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script> must show as text.' },
];

const REPORT = {
  dataset: 'cranfield',
  queries: 225,
  runs: [
    { mode: 'bm25', alpha: 0, ndcg_at_10: 0.41, map: 0.28, recall_at_100: 0.77, p_at_10: 0.28, mrr_at_10: 0.62, latency_p50_ms: 0.4, latency_p99_ms: 1.2 },
    { mode: 'vector', alpha: 0, ndcg_at_10: 0.35, map: 0.24, recall_at_100: 0.71, p_at_10: 0.24, mrr_at_10: 0.55, latency_p50_ms: 2.1, latency_p99_ms: 3.9 },
    { mode: 'hybrid', fusion: 'convex', alpha: 0.3, ndcg_at_10: 0.44, map: 0.30, recall_at_100: 0.80, p_at_10: 0.30, mrr_at_10: 0.66, latency_p50_ms: 2.6, latency_p99_ms: 4.4 },
  ],
  sweep: {
    spec: 'alpha=0:1:0.25', best_alpha: 0.25, dev_queries: 112, test_queries: 113,
    points: [0, 0.25, 0.5, 0.75, 1].map((a) => ({ alpha: a, dev_ndcg_at_10: 0.4 + 0.05 * Math.sin(a * 3), test_ndcg_at_10: 0.39 + 0.05 * Math.sin(a * 3),
      dev_map: 0.27 + 0.03 * Math.sin(a * 3), test_map: 0.26 + 0.03 * Math.sin(a * 3) })),
  },
};

async function main() {
  await waitReady();
  const home = await fetch(base + '/');
  if (!home.ok || !(home.headers.get('content-type') || '').startsWith('text/html')) {
    throw new Error(`GET / = ${home.status} ${home.headers.get('content-type')}: is the web UI mounted (web.Register in cmd/ragd/cmd_serve.go)?`);
  }
  await rest('POST', '/v1/indexes', { name: INDEX, model: 'none', chunk_size: 48, chunk_overlap: 0 });
  const put = await rest('POST', `/v1/indexes/${INDEX}/documents`, { documents: DOCS });
  check(put.written === DOCS.length, `seeded ${DOCS.length} documents over the REST API (${put.chunks} chunks)`);

  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: exe,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const problems = [];
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('console', (m) => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });
    page.on('dialog', (d) => d.accept());

    // --- page and index picker
    await page.goto(base + '/');
    await page.waitForSelector(`#index-select option[value="${INDEX}"]`, { state: 'attached' });
    await page.selectOption('#index-select', INDEX);
    check(await page.title() === 'ragd', 'page loads from / with its embedded assets');

    // --- search
    await page.fill('#search-q', 'sourdough oven');
    await page.check('input[name="mode"][value="bm25"]');
    await page.click('#search-go');
    await page.waitForSelector('#hits li.hit .snippet');
    const hitCount = await page.locator('#hits li.hit').count();
    check(hitCount >= 1, `search renders hits (${hitCount})`);
    const marks = await page.locator('#hits li.hit').first().locator('.snippet mark').allTextContents();
    check(marks.some((m) => /sourdough/i.test(m)) && marks.some((m) => /oven/i.test(m)), `query terms highlighted in the first hit: ${JSON.stringify(marks)}`);
    check(/hits? in/.test(await page.textContent('#search-status')), 'search status shows hit count and time');
    await page.locator('#hits li.hit .explain summary').first().click();
    const explain = await page.locator('#hits li.hit .explain table').first().innerText();
    check(/bm25/.test(explain) && /fused/.test(explain), 'per-hit explanation shows bm25 and fused scores');
    await page.screenshot({ path: path.join(artifacts, 'search.png'), fullPage: true });

    // HTML in documents is shown as text, never parsed.
    await page.fill('#search-q', 'injection probe');
    await page.click('#search-go');
    await page.waitForSelector('#hits li.hit .snippet >> text=injection');
    const imgs = await page.locator('#hits img, #hits script, #hits b').count();
    const shown = await page.locator('#hits li.hit').first().innerText();
    const xss = await page.evaluate(() => window.__xss);
    check(imgs === 0 && xss === undefined && shown.includes('<img src=x') && shown.includes('<b>check</b>'), 'document HTML is escaped in hits');

    // An API error is shown clearly (vector search on a keyword-only index).
    await page.check('input[name="mode"][value="vector"]');
    await page.click('#search-go');
    await page.waitForSelector('#search-error:not([hidden])');
    check((await page.textContent('#search-error')).startsWith('Error 4'), 'an API error is shown: ' + (await page.textContent('#search-error')));
    await page.check('input[name="mode"][value="bm25"]');

    // --- ask: streamed answer with citations
    await page.click('a[href="#ask"]');
    await page.fill('#ask-q', 'How hot should the oven be for sourdough bread?');
    await page.click('#ask-go');
    await page.waitForFunction(() => document.getElementById('ask-status').textContent === 'Done.');
    const answer = await page.textContent('#answer');
    check(answer.startsWith('Extractive answer'), 'streamed answer appears: ' + JSON.stringify(answer.slice(0, 90)) + '…');
    check(await page.getAttribute('#answer', 'aria-live') === 'polite' && await page.getAttribute('#answer', 'aria-busy') === 'false',
      'answer region is aria-live and not busy when done');
    const cites = page.locator('#answer a.cite');
    const nCites = await cites.count();
    check(nCites >= 1, `answer has citation links (${nCites})`);
    check(await page.locator('#sources li').count() >= 1, 'sources listed under the answer');

    // --- click a citation: the cited chunk is shown highlighted in its document
    const n = Number(await cites.first().getAttribute('data-n'));
    await cites.first().click();
    await page.waitForSelector('#doc-dialog[open] #doc-text mark#cited-chunk');
    const docTitle = await page.textContent('#doc-title');
    const docs = await Promise.all(DOCS.map((d) => rest('GET', `/v1/indexes/${INDEX}/documents/${encodeURIComponent(d.id)}`)));
    const doc = docs.find((d) => (d.title || d.id) === docTitle);
    check(doc !== undefined, `citation [${n}] opens its document (${docTitle})`);
    const marked = await page.textContent('#doc-text mark#cited-chunk');
    const start = await page.evaluate(() => {
      const t = document.getElementById('doc-text');
      const m = document.getElementById('cited-chunk');
      const r = document.createRange();
      r.setStart(t, 0);
      r.setEndBefore(m);
      return new TextEncoder().encode(r.toString()).length;
    });
    const chunk = doc.chunks.find((c) => c.start === start);
    check(chunk !== undefined && Buffer.byteLength(marked) === chunk.end - chunk.start,
      `highlight covers chunk ${chunk && chunk.id} exactly: bytes [${start}, ${start + Buffer.byteLength(marked)})`);
    const expected = Buffer.from(doc.text, 'utf8').subarray(chunk.start, chunk.end).toString('utf8');
    check(marked === expected, 'highlighted text equals the chunk\'s byte range of the document');
    if (doc.id === 'guides/bread.md') {
      check(Buffer.byteLength(doc.text.slice(0, doc.text.indexOf(marked))) === start && start !== doc.text.indexOf(marked),
        'byte offsets converted correctly across multi-byte characters');
    }
    const inView = await page.evaluate(() => {
      const c = document.getElementById('doc-text').getBoundingClientRect();
      const m = document.getElementById('cited-chunk').getBoundingClientRect();
      return m.bottom > c.top && m.top < c.bottom;
    });
    check(inView, 'cited chunk is scrolled into view');
    await page.screenshot({ path: path.join(artifacts, 'ask-citation.png') });
    await page.keyboard.press('Escape');
    await page.waitForSelector('#doc-dialog', { state: 'hidden' });
    check(await page.evaluate(() => document.activeElement && document.activeElement.classList.contains('cite')),
      'closing the document returns focus to the citation');
    await page.screenshot({ path: path.join(artifacts, 'ask.png'), fullPage: true });

    // --- index page: stats, upload with progress, list, delete
    await page.click('a[href="#index"]');
    await page.waitForFunction(() => /documents\s*3\b/i.test(document.getElementById('index-stats').innerText));
    check(true, 'index page shows the document count');
    await page.setInputFiles('#upload-files', [
      { name: 'tea.txt', mimeType: 'text/plain', buffer: Buffer.from('Steep green tea at eighty degrees for two minutes. Ça va très bien.') },
    ]);
    await page.click('#upload-go');
    await page.waitForSelector('#upload-list .msg >> text=written 1');
    check(await page.getAttribute('#upload-list progress', 'value') === '100', 'upload shows per-file progress and the response');
    await page.waitForSelector('#docs-table td >> text=tea.txt');
    await page.waitForFunction(() => /documents\s*4\b/i.test(document.getElementById('index-stats').innerText));
    check(true, 'uploaded document is listed and counted');
    await page.screenshot({ path: path.join(artifacts, 'index.png'), fullPage: true });
    await page.click('button[aria-label="Delete tea.txt"]');
    await page.waitForSelector('#docs-table td >> text=tea.txt', { state: 'detached' });
    const left = await rest('GET', `/v1/indexes/${INDEX}/documents`);
    check(!left.documents.some((d) => d.id === 'tea.txt'), 'delete removes the document');

    // --- evaluation report
    await page.click('a[href="#eval"]');
    await page.setInputFiles('#eval-file', { name: 'report.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(REPORT)) });
    await page.waitForSelector('#eval-out table.eval-table');
    const rows = await page.locator('#eval-out table.eval-table tbody tr').count();
    const bars = await page.locator('#eval-out svg.chart rect').count();
    const lines = await page.locator('#eval-out svg.chart polyline').count();
    check(rows === 3 && bars === 15 && lines === 4, `eval report: ${rows} table rows, ${bars} bars, ${lines} sweep lines`);
    await page.screenshot({ path: path.join(artifacts, 'eval.png'), fullPage: true });

    // --- phone-sized viewport: no horizontal overflow on the search page
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('a[href="#search"]');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `no horizontal scrolling at 390 px (overflow ${overflow}px)`);
    await page.screenshot({ path: path.join(artifacts, 'phone.png'), fullPage: true });

    const real = problems.filter((p) => !/status of 4\d\d/.test(p)); // the deliberate API error logs a 4xx
    check(real.length === 0, 'no page errors or console errors' + (real.length ? ': ' + real.join('; ') : ''));
  } finally {
    await ctx.close();
  }
  console.log('screenshots in ' + artifacts);
}

main().catch((e) => {
  console.error('FAIL: ' + (e && e.stack ? e.stack : e));
  console.error('screenshots (if any) in ' + artifacts);
  process.exit(1);
});
