// Starts a `ragd serve` for the tests: a temporary data dir, an admin API
// key, the default use-lite embedder (from the repo's node/node_modules)
// and the extractive generator. run.sh builds ragd and sets RAGD_BIN.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function startRagd() {
  const bin = process.env.RAGD_BIN;
  if (!bin) throw new Error('RAGD_BIN is not set (run scripts/workers/run.sh)');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ragd-workers-'));
  const env = { ...process.env, RAGD_DATA_DIR: path.join(root, 'data'), RAGD_LOG_LEVEL: 'warn',
    RAGD_NODE_DIR: process.env.RAGD_NODE_DIR || path.join(repo, 'node'), XDG_CONFIG_HOME: path.join(root, 'config'), HOME: root };
  const apiKey = execFileSync(bin, ['keys', 'create', '--scope', 'admin', '--name', 'workers-test'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  const server = spawn(bin, ['serve', '--addr', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  process.once('exit', () => server.kill()); // never outlive the test process
  let out = '';
  let errOut = '';
  server.stderr.on('data', (d) => { errOut += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ragd serve did not start: ${out} ${errOut}`)), 30000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`ragd serve exited ${code}: ${errOut}`)); });
  });
  const cf = `${url}/client/v4/accounts/local`;
  // api calls ragd's REST API directly (setup and independent checks).
  const api = async (method, p, body, headers = {}) => {
    const init = { method, headers: { authorization: `Bearer ${apiKey}`, ...headers } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) { init.body = JSON.stringify(body); init.headers['content-type'] = 'application/json'; }
    const res = await fetch(cf + p, init);
    const json = await res.json();
    if (!res.ok || json.success === false) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json.result;
  };
  const stop = async () => {
    if (server.exitCode === null) {
      server.removeAllListeners('exit');
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await gone;
    }
    fs.rmSync(root, { recursive: true, force: true });
  };
  return { url, apiKey, api, stop, log: () => errOut };
}

// seed creates the Vectorize index "films" (use-lite's 512 dimensions)
// and the AI Search instance "kb" with two uploaded items.
export async function seed(api) {
  await api('POST', '/vectorize/v2/indexes', { name: 'films', config: { preset: '@cf/ragd/use-lite' } });
  await api('POST', '/ai-search/instances', { id: 'kb', chunk_size: 64, chunk_overlap: 0 });
  const items = [
    ['bread.md', '# Bread\n\nSourdough bread needs a starter, flour, water and salt. Bake the loaf in a hot oven for forty minutes.\n', { team: 'kitchen' }],
    ['tea.txt', 'Green tea is brewed with water below boiling. Steep the leaves for two minutes.\n', { team: 'tearoom' }],
  ];
  for (const [name, text, meta] of items) {
    const form = new FormData();
    form.append('file', new Blob([text], { type: 'text/plain' }), name);
    form.append('metadata', JSON.stringify(meta));
    form.append('wait_for_completion', 'true');
    const item = await api('POST', '/ai-search/namespaces/default/instances/kb/items', form);
    if (item.status !== 'completed') throw new Error(`item ${name}: ${JSON.stringify(item)}`);
  }
}
