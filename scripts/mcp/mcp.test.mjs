// Tests ragd's MCP server with the official MCP TypeScript SDK: over
// Streamable HTTP against `ragd serve` (with a read and a write API key)
// and over stdio against `ragd mcp --index notes`. Each test gets its own
// temporary data dir with a keyword-only index (RAGD_MODEL=none: no model
// files needed). run.sh builds ragd and sets RAGD_BIN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const bin = process.env.RAGD_BIN;
if (!bin) throw new Error('RAGD_BIN is not set (run scripts/mcp/run.sh)');

const tmpRoots = [];
after(() => { for (const d of tmpRoots) fs.rmSync(d, { recursive: true, force: true }); });

// dataDir makes a data dir holding the index "notes" (three documents)
// and an empty index "other"; it returns the environment for ragd.
function dataDir() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ragd-mcp-'));
  tmpRoots.push(root);
  const corpus = path.join(root, 'corpus');
  fs.mkdirSync(corpus);
  fs.writeFileSync(path.join(corpus, 'bread.md'), '# Bread\n\nSourdough bread needs a starter, flour, water and salt. Bake the loaf in a hot oven.\n');
  fs.writeFileSync(path.join(corpus, 'tea.txt'), 'Green tea is brewed with water below boiling. Steep the leaves for two minutes.\n');
  fs.writeFileSync(path.join(corpus, 'stocks.txt'), 'The stock market fell today as investors sold shares of banks.\n');
  const env = { ...process.env, RAGD_DATA_DIR: path.join(root, 'data'), RAGD_MODEL: 'none', RAGD_LOG_LEVEL: 'warn',
    XDG_CONFIG_HOME: path.join(root, 'config'), HOME: root };
  ragd(env, 'ingest', '--index', 'notes', '--quiet', corpus);
  ragd(env, 'indexes', 'create', 'other');
  return env;
}

function ragd(env, ...args) {
  return execFileSync(bin, args, { env, encoding: 'utf8' }).trim();
}

const names = (tools) => tools.map((t) => t.name).sort();
const allTools = ['add_documents', 'ask', 'delete_document', 'get_document', 'list_indexes', 'search'];
const readTools = ['ask', 'get_document', 'list_indexes', 'search'];

// tap records the messages the SDK's transport receives: progress
// notifications and responses, in wire order.
function tap(transport) {
  const wire = [];
  const next = transport.onmessage;
  transport.onmessage = (msg, extra) => {
    if (msg.method === 'notifications/progress') wire.push({ progress: msg.params });
    else if (msg.id !== undefined && msg.method === undefined) wire.push({ response: msg.id });
    next?.(msg, extra);
  };
  return wire;
}

// exercise lists the tools, checks their schemas, calls each read tool
// (ask with a progress callback) and reads a document resource. The
// progress notifications are checked as the transport received them;
// when strictCallback is set, also as the onprogress callback saw them.
// (Over stdio the TypeScript SDK runs notification handlers a microtask
// later but a response at once, so notifications read in the same chunk
// as the result reach onprogress after it was removed and are dropped.)
async function exercise(client, index, wire, strictCallback) {
  const { tools } = await client.listTools();
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object', `${t.name} input schema`);
    assert.ok(t.description.length > 20, `${t.name} has a description`);
  }
  const search = tools.find((t) => t.name === 'search');
  assert.ok(search.inputSchema.properties.query.description, 'search.query is described');
  assert.deepEqual(search.inputSchema.required, ['query']);

  const list = await client.callTool({ name: 'list_indexes', arguments: {} });
  assert.ok(!list.isError);
  assert.ok(list.structuredContent.indexes.some((i) => i.name === 'notes' && i.documents === 3), JSON.stringify(list.structuredContent));

  const sr = await client.callTool({ name: 'search', arguments: { index, query: 'green tea steep', top_k: 2 } });
  assert.ok(!sr.isError, JSON.stringify(sr.content));
  const hit = sr.structuredContent.hits[0];
  assert.match(hit.text, /Green tea/);
  assert.match(hit.source, /tea\.txt$/);
  assert.ok(hit.score > 0);
  assert.match(hit.uri, /^ragd:\/\/notes\//);

  const seen = [];
  wire.length = 0;
  const ask = await client.callTool({ name: 'ask', arguments: { index, question: 'How long should green tea steep?' } },
    undefined, { onprogress: (p) => seen.push(p) });
  assert.ok(!ask.isError, JSON.stringify(ask.content));
  assert.match(ask.structuredContent.answer, /two minutes/);
  assert.equal(ask.structuredContent.citations[0].doc_id, hit.doc_id);
  const last = wire.findIndex((m) => m.response !== undefined);
  assert.ok(last > 0, `the result came after the notifications: ${JSON.stringify(wire)}`);
  const progress = wire.slice(0, last).map((m) => m.progress);
  assert.ok(progress.every((p) => p), JSON.stringify(wire));
  if (strictCallback) assert.deepEqual(seen.map((p) => p.message), progress.map((p) => p.message), 'onprogress saw every notification');
  assert.ok(progress.length >= 2, `progress notifications: ${JSON.stringify(progress)}`);
  assert.match(progress[0].message, /^retrieved \d+ passages/);
  assert.ok(progress.slice(1).map((p) => p.message).join('').includes('two minutes'), JSON.stringify(progress));
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].progress > progress[i - 1].progress, 'progress increases');

  const doc = await client.callTool({ name: 'get_document', arguments: { index, doc_id: hit.doc_id } });
  assert.ok(!doc.isError);
  assert.match(doc.structuredContent.text, /Steep the leaves/);

  const { resourceTemplates } = await client.listResourceTemplates();
  assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate), ['ragd://{index}/{doc_id}']);
  const { resources } = await client.listResources();
  assert.ok(resources.some((r) => r.uri === hit.uri && r.mimeType === 'text/plain'), JSON.stringify(resources));
  const res = await client.readResource({ uri: hit.uri });
  assert.equal(res.contents[0].mimeType, 'text/plain');
  assert.match(res.contents[0].text, /Steep the leaves for two minutes/);

  const bad = await client.callTool({ name: 'search', arguments: { index: 'nope', query: 'x' } });
  assert.ok(bad.isError);
  assert.match(bad.content[0].text, /not_found/);
  return tools;
}

// writes adds a document, finds it, deletes it.
async function writes(client, index) {
  const add = await client.callTool({ name: 'add_documents', arguments: { index,
    documents: [{ id: 'owl', text: 'Owls hunt small animals at night.', metadata: { kind: 'bird' } }] } });
  assert.ok(!add.isError, JSON.stringify(add.content));
  assert.equal(add.structuredContent.written, 1);
  const sr = await client.callTool({ name: 'search', arguments: { index, query: 'owls night', filter: { kind: 'bird' } } });
  assert.deepEqual(sr.structuredContent.hits.map((h) => h.doc_id), ['owl']);
  const del = await client.callTool({ name: 'delete_document', arguments: { index, doc_id: 'owl' } });
  assert.ok(!del.isError);
  assert.equal(del.structuredContent.deleted, 'owl');
  const again = await client.callTool({ name: 'delete_document', arguments: { index, doc_id: 'owl' } });
  assert.ok(again.isError);
}

test('Streamable HTTP on ragd serve, behind API keys', async (t) => {
  const env = dataDir();
  const readKey = ragd(env, 'keys', 'create', '--scope', 'read');
  const writeKey = ragd(env, 'keys', 'create', '--scope', 'write');
  const server = spawn(bin, ['serve', '--addr', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', errOut = '';
  server.stderr.on('data', (d) => { errOut += d; });
  t.after(() => server.kill());
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ragd serve did not start: ${out} ${errOut}`)), 30000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on('exit', (code) => reject(new Error(`ragd serve exited ${code}: ${errOut}`)));
  });
  const url = new URL('/mcp', base);
  const connect = async (key) => {
    const client = new Client({ name: 'ragd-mcp-test', version: '1.0.0' });
    const headers = key ? { Authorization: `Bearer ${key}` } : {};
    const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
    await client.connect(transport);
    t.after(() => client.close());
    client.wire = tap(transport);
    return client;
  };

  // Refused without a key: the HTTP status, and the SDK's connect.
  const raw = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
  assert.equal(raw.status, 401);
  assert.match((await raw.json()).error.message, /API key is required/);
  await assert.rejects(connect(''), (err) => err.code === 401 || /401|Unauthorized|API key/.test(String(err)));
  await assert.rejects(connect('ragd_not_a_real_key'), (err) => err.code === 401 || /401|invalid API key/.test(String(err)));

  const writer = await connect(writeKey);
  assert.deepEqual(names(await exercise(writer, 'notes', writer.wire, true)), allTools);
  await writes(writer, 'other');

  const reader = await connect(readKey);
  assert.deepEqual(names(await exercise(reader, 'notes', reader.wire, true)), readTools);
  // A write tool is neither listed nor callable with a read key.
  let refused;
  try {
    refused = await reader.callTool({ name: 'add_documents', arguments: { index: 'notes', documents: [{ id: 'x', text: 'y' }] } });
  } catch (err) {
    refused = { isError: true, content: [{ text: String(err) }] };
  }
  assert.ok(refused.isError);
  assert.match(refused.content[0].text, /add_documents/);
});

test('stdio: ragd mcp --index notes', async (t) => {
  const env = dataDir();
  const transport = new StdioClientTransport({ command: bin, args: ['mcp', '--index', 'notes'], env, stderr: 'pipe' });
  let errOut = '';
  transport.stderr?.on('data', (d) => { errOut += d; });
  const client = new Client({ name: 'ragd-mcp-test', version: '1.0.0' });
  await client.connect(transport);
  t.after(() => client.close());
  const wire = tap(transport);
  assert.deepEqual(names(await exercise(client, undefined, wire, false)), allTools, errOut);
  await writes(client, 'notes');
  const list = await client.callTool({ name: 'list_indexes', arguments: {} });
  assert.deepEqual(list.structuredContent.indexes.map((i) => i.name), ['notes'], '--index hides the other index');
  const outside = await client.callTool({ name: 'search', arguments: { index: 'other', query: 'x' } });
  assert.ok(outside.isError);
  assert.match(outside.content[0].text, /not available/);
});
