// Runs test/worker.js — a Worker that only knows env.AI and env.VECTORIZE —
// in workerd through Miniflare, with the bindings supplied by
// ragd-bindings.js, against a real `ragd serve` (use-lite embeddings, the
// extractive generator). Two wirings: Miniflare's wrapped bindings (the
// Worker's code and config unchanged) and withRagd (the wrangler dev
// entry). Plain node checks of the module's own pieces close the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { startRagd, seed } from './ragd.mjs';
import { createBindings, filterOf, RagdClient, RagdError, withRagd } from '../ragd-bindings.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const compatibilityDate = '2025-09-01';
let ragd;
let mf;

before(async () => {
  ragd = await startRagd();
  await seed(ragd.api);
  const inner = { RAGD_URL: ragd.url, RAGD_API_KEY: ragd.apiKey };
  // The configuration README.md gives, with the paths of this folder.
  mf = new Miniflare({
    workers: [
      {
        name: 'app', modules: true, scriptPath: path.join(here, 'worker.js'), compatibilityDate,
        wrappedBindings: {
          AI: { scriptName: 'ragd', bindings: { ...inner, RAGD_MODELS: JSON.stringify({ '@cf/baai/bge-base-en-v1.5': '@cf/ragd/use-lite' }) } },
          VECTORIZE: { scriptName: 'ragd', bindings: { ...inner, INDEX_NAME: 'films' } },
        },
      },
      { name: 'ragd', modules: true, scriptPath: path.join(here, '..', 'ragd-bindings.js') },
    ],
  });
  await mf.ready; // a configuration Miniflare refuses fails here
});

after(async () => {
  try {
    await mf?.dispose();
  } finally {
    await ragd?.stop();
  }
});

// call POSTs body to the Worker's route; a binding's thrown Error comes
// back as a 500 with {error, status}.
async function call(name, body = {}, worker = mf) {
  const res = await worker.dispatchFetch(`http://worker/${name}`, { method: 'POST', body: JSON.stringify(body) });
  const type = res.headers.get('content-type') || '';
  return { status: res.status, type, body: type.includes('json') ? await res.json() : await res.text() };
}

async function ok(name, body, worker) {
  const r = await call(name, body, worker);
  assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.body)}`);
  return r.body;
}

// events parses server-sent events into their data payloads.
function events(text) {
  return text.split('\n\n').map((e) => e.trim()).filter(Boolean).map((e) => {
    assert.match(e, /^data: /, `an SSE data event: ${e}`);
    const d = e.slice(6);
    return d === '[DONE]' ? d : JSON.parse(d);
  });
}

const cosine = (a, b) => {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / Math.sqrt(na * nb);
};

const films = [
  { id: 'alien', text: 'A crew in deep space is hunted by a monstrous alien creature.', metadata: { year: 1979, genre: 'scifi' } },
  { id: 'arrival', text: 'A linguist learns to talk with aliens whose ships landed on Earth.', metadata: { year: 2016, genre: 'scifi' } },
  { id: 'chef', text: 'A cook quits his restaurant job and opens a food truck selling sandwiches.', metadata: { year: 2014, genre: 'comedy' }, namespace: 'food' },
];

test('env.AI.run embeddings: {text} → {shape, data}, the vectors ragd computes', async () => {
  const texts = ['how do I bake bread', 'recipe for sourdough loaf', 'the stock market fell today'];
  const r = await ok('embed', { text: texts });
  assert.deepEqual(r.shape, [3, 512]);
  assert.equal(r.data.length, 3);
  assert.ok(cosine(r.data[0], r.data[1]) > cosine(r.data[0], r.data[2]) + 0.2, 'related texts are closer');
  const direct = await ragd.api('POST', '/ai/run/@cf/ragd/use-lite', { text: texts[0] });
  assert.ok(cosine(direct.data[0], r.data[0]) > 0.9999, 'the same vector as ragd answers directly');
});

test('env.AI.run: RAGD_MODELS runs a Workers AI name on an installed model', async () => {
  const [mapped, direct] = await Promise.all([ok('embed', { model: '@cf/baai/bge-base-en-v1.5', text: ['hello'] }), ok('embed', { text: ['hello'] })]);
  assert.deepEqual(mapped.shape, [1, 512]);
  assert.ok(cosine(mapped.data[0], direct.data[0]) > 0.9999);
});

test('env.AI.run: an embedding model ragd has not installed throws ragd\'s error', async () => {
  const r = await call('embed', { model: '@cf/baai/bge-small-en-v1.5', text: ['hello'] });
  assert.equal(r.status, 500);
  assert.equal(r.body.status, 404);
  assert.match(r.body.error, /ragd models pull bge-small-en-v1\.5/);
});

test('env.AI.run text generation: prompt, messages, and stream: true as SSE bytes', async () => {
  const a = await ok('generate', { prompt: 'Tell me a joke' });
  assert.match(a.response, /^Extractive answer/);
  assert.equal(a.usage.total_tokens, a.usage.prompt_tokens + a.usage.completion_tokens);
  const m = await ok('generate', { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Tell me a joke' }] });
  assert.match(m.response, /^Extractive answer/);

  const s = await call('stream', { prompt: 'Tell me a joke' });
  assert.equal(s.status, 200);
  assert.match(s.type, /text\/event-stream/);
  const evs = events(s.body);
  assert.equal(evs.at(-1), '[DONE]');
  const parts = evs.slice(0, -1);
  assert.ok(parts.length > 3, 'streamed in several events');
  assert.equal(parts.map((e) => e.response).join(''), a.response, 'the stream adds up to the answer');
  assert.deepEqual(parts.at(-1).usage, a.usage);

  const bad = await call('generate', { prompt: 'x', temperature: 9 });
  assert.equal(bad.status, 500);
  assert.equal(bad.body.status, 400);
  assert.match(bad.body.error, /temperature must be in \[0, 5\]/);
});

test('env.VECTORIZE: upsert, describe, query, queryById, getByIds, insert, deleteByIds', async () => {
  const up = await ok('upsert', { docs: films });
  assert.match(up.mutationId, /^[0-9a-f-]{36}$/);
  const info = await ok('describe');
  assert.equal(info.dimensions, 512);
  assert.equal(info.vectorCount, 3);
  assert.equal(info.processedUpToMutation, up.mutationId);

  const q = await ok('query', { text: 'monsters attack a spaceship', options: { topK: 3, returnMetadata: 'all' } });
  assert.equal(q.count, 3, 'no namespace: every namespace');
  assert.deepEqual(q.matches.map((x) => x.id), ['alien', 'arrival', 'chef']);
  assert.deepEqual(q.matches[0].metadata, { year: 1979, genre: 'scifi' });
  assert.ok(q.matches[0].score > q.matches[1].score);
  assert.equal(q.matches[0].values, undefined);

  const withValues = await ok('query', { text: 'monsters attack a spaceship', options: { topK: 1, returnValues: true } });
  assert.equal(withValues.matches[0].values.length, 512);
  assert.equal(withValues.matches[0].metadata, undefined);

  const ns = await ok('query', { text: 'sandwich truck', options: { namespace: 'food', returnMetadata: 'all' } });
  assert.deepEqual(ns.matches.map((x) => [x.id, x.namespace]), [['chef', 'food']]);
  const filtered = await ok('query', { text: 'monsters attack a spaceship', options: { filter: { year: { $gte: 2000 } } } });
  assert.deepEqual(filtered.matches.map((x) => x.id), ['arrival', 'chef']);
  const both = await ok('query', { text: 'monsters attack a spaceship', options: { filter: { year: { $gte: 2000 }, genre: 'scifi' } } });
  assert.deepEqual(both.matches.map((x) => x.id), ['arrival']);

  const byId = await ok('queryById', { id: 'alien', options: { topK: 2 } });
  assert.equal(byId.matches[0].id, 'alien');
  assert.ok(Math.abs(byId.matches[0].score - 1) < 1e-4);
  assert.deepEqual(await ok('queryById', { id: 'nope' }), { count: 0, matches: [] });

  const got = await ok('get', { ids: ['alien', 'chef', 'nope'] });
  assert.deepEqual(got.map((v) => v.id).sort(), ['alien', 'chef']);
  const chef = got.find((v) => v.id === 'chef');
  assert.equal(chef.namespace, 'food');
  assert.deepEqual(chef.metadata, { year: 2014, genre: 'comedy' });
  const [emb] = (await ok('embed', { text: [films[2].text] })).data;
  assert.ok(cosine(chef.values, emb) > 0.9999, 'the stored values are the embedding upserted (sent as a Float32Array)');

  // insert keeps an existing id; upsert replaces it.
  await ok('upsert', { insert: true, docs: [{ id: 'alien', text: 'a completely different text about gardening', metadata: { year: 1 } }] });
  const [kept] = await ok('get', { ids: ['alien'] });
  assert.deepEqual(kept.metadata, { year: 1979, genre: 'scifi' });

  const del = await ok('delete', { ids: ['alien', 'nope'] });
  assert.match(del.mutationId, /^[0-9a-f-]{36}$/);
  assert.deepEqual(await ok('get', { ids: ['alien'] }), []);
  assert.equal((await ok('describe')).vectorCount, 2);

  const wrong = await call('queryRaw', { vector: [1, 0, 0] });
  assert.equal(wrong.status, 500);
  assert.equal(wrong.body.isError, true);
  assert.equal(wrong.body.status, 400);
  assert.match(wrong.body.error, /dimension/);
});

test('env.AI.autorag(name): search and aiSearch (plain and streamed) on an AI Search instance', async () => {
  const s = await ok('search', { name: 'kb', params: { query: 'how long should green tea steep' } });
  assert.equal(s.object, 'vector_store.search_results.page');
  assert.equal(s.search_query, 'how long should green tea steep');
  assert.equal(s.data[0].filename, 'tea.txt');
  assert.deepEqual(s.data[0].attributes, { team: 'tearoom' });
  assert.deepEqual(s.data[0].content, [{ type: 'text', text: 'Green tea is brewed with water below boiling. Steep the leaves for two minutes.' }]);
  assert.ok(s.data[0].score > 0);
  assert.equal(s.has_more, false);

  const f = await ok('search', { name: 'kb', params: { query: 'how long should green tea steep', filters: { type: 'eq', key: 'team', value: 'kitchen' } } });
  assert.deepEqual(f.data.map((d) => d.filename), ['bread.md']);
  const one = await ok('search', { name: 'kb', params: { query: 'bread or tea', max_num_results: 1 } });
  assert.equal(one.data.length, 1);

  const a = await ok('aiSearch', { name: 'kb', params: { query: 'How long should green tea steep?' } });
  assert.match(a.response, /two minutes/);
  assert.equal(a.data[0].filename, 'tea.txt');

  const st = await call('aiSearch', { name: 'kb', params: { query: 'How long should green tea steep?', stream: true } });
  assert.equal(st.status, 200);
  assert.match(st.type, /text\/event-stream/);
  const evs = events(st.body);
  assert.equal(evs.at(-1), '[DONE]');
  assert.equal(evs.slice(0, -1).map((e) => e.response).join(''), a.response);

  const missing = await call('search', { name: 'nope', params: { query: 'x' } });
  assert.equal(missing.status, 500);
  assert.equal(missing.body.status, 404);
  assert.match(missing.body.error, /nope/);
});

test('withRagd (the wrangler dev entry): the same Worker, bindings built from its vars', async () => {
  const dev = new Miniflare({
    modules: true, scriptPath: path.join(here, 'dev.js'), modulesRoot: path.join(here, '..'), compatibilityDate,
    modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }],
    bindings: { RAGD_URL: ragd.url, RAGD_API_KEY: ragd.apiKey },
  });
  try {
    const e = await ok('embed', { text: ['hello'] }, dev);
    assert.deepEqual(e.shape, [1, 512]);
    const info = await ok('describe', {}, dev);
    assert.equal(info.dimensions, 512);
    await ok('upsert', { docs: [{ id: 'dev-1', text: 'aliens land on Earth', namespace: 'dev' }] }, dev);
    const q = await ok('query', { text: 'visitors from another planet arrive', options: { topK: 1, namespace: 'dev' } }, dev);
    assert.deepEqual(q.matches.map((m) => m.id), ['dev-1']);
    assert.deepEqual(await ok('delete', { ids: ['dev-1'] }, dev).then(() => ok('get', { ids: ['dev-1'] }, dev)), []);
    const s = await ok('search', { name: 'kb', params: { query: 'sourdough starter' } }, dev);
    assert.equal(s.data[0].filename, 'bread.md');
  } finally {
    await dev.dispose();
  }
});

test('module: filterOf maps AI Search filters to the Vectorize shape', () => {
  assert.deepEqual(filterOf({ type: 'eq', key: 'team', value: 'kitchen' }), { team: { $eq: 'kitchen' } });
  assert.deepEqual(filterOf({ type: 'and', filters: [{ type: 'gte', key: 'y', value: 1 }, { type: 'lt', key: 'y', value: 5 }, { type: 'ne', key: 't', value: 'x' }] }),
    { y: { $gte: 1, $lt: 5 }, t: { $ne: 'x' } });
  assert.deepEqual(filterOf({ team: 'kitchen' }), { team: 'kitchen' }, 'the Vectorize shape passes through');
  assert.throws(() => filterOf({ type: 'or', filters: [] }), /"or" filters are not supported/);
  assert.throws(() => filterOf({ type: 'like', key: 'a', value: 1 }), /unknown filter type/);
});

test('module in node: createBindings, a wrong key and a missing url throw RagdErrors', async () => {
  assert.throws(() => new RagdClient({}), RagdError);
  assert.throws(() => withRagd(class {}), /WorkerEntrypoint class is not supported/);
  assert.throws(() => createBindings({ url: ragd.url, models: ['x'] }), /models must map/);
  const b = createBindings({ url: ragd.url, apiKey: ragd.apiKey });
  const info = await b.vectorize('films').describe();
  assert.equal(info.dimensions, 512);
  const list = await b.AI.autorag('kb').list();
  assert.deepEqual(list.map((i) => i.id), ['kb']);
  const bad = createBindings({ url: ragd.url, apiKey: 'ragd_wrong' });
  await assert.rejects(bad.AI.run('@cf/ragd/use-lite', { text: ['x'] }), (err) => err instanceof RagdError && err.status === 401 && /API key/i.test(err.message));
  await assert.rejects(b.vectorize('nope').describe(), (err) => err.status === 404 && /nope/.test(err.message));
});
