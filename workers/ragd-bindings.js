// ragd-workers-bindings: the Workers runtime's AI and Vectorize bindings
// implemented over a ragd server's Cloudflare-compatible REST API, so
// Worker code that calls env.AI.run(...), env.AI.autorag(name) and
// env.VECTORIZE.query(...) runs locally (Miniflare, wrangler dev)
// against ragd. No dependencies: it only uses fetch.
//
// One file on purpose: Miniflare's wrapped bindings take a single module.

// RagdClient sends requests to ragd's Cloudflare-compatible REST API
// (/client/v4/accounts/{account}/...) with fetch, unwraps Cloudflare's
// {result, success, errors} envelope and turns a failure into a RagdError
// carrying ragd's message, the HTTP status and Cloudflare's error code.

export class RagdError extends Error {
  constructor(message, { status = 0, code = 0 } = {}) {
    super(message);
    this.name = 'RagdError';
    this.status = status;
    this.code = code;
  }
}

export class RagdClient {
  // url: ragd's base URL (http://127.0.0.1:7474); apiKey: a ragd API key
  // (optional: a server without keys accepts loopback clients);
  // accountId: the account segment of the path (ragd ignores it);
  // models: Workers AI model names to run as others ({"@cf/baai/bge-base-en-v1.5":
  // "@cf/ragd/use-lite"}), for Worker code written for a model ragd has not
  // installed.
  constructor({ url, apiKey, accountId = 'local', models, fetch: fetchImpl } = {}) {
    if (!url) throw new RagdError('ragd bindings: url is required (for example http://127.0.0.1:7474)');
    this.base = `${String(url).replace(/\/+$/, '')}/client/v4/accounts/${encodeURIComponent(accountId)}`;
    this.apiKey = apiKey || '';
    this.fetchImpl = fetchImpl || ((...args) => fetch(...args));
    this.models = models || {};
    if (typeof this.models !== 'object' || Array.isArray(this.models)) throw new RagdError('ragd bindings: models must map model names to model names');
  }

  // raw sends a request and returns the Response when it is a success,
  // else throws the envelope's error. body: an object (sent as JSON) or
  // a string (sent as is, with contentType).
  async raw(method, path, { body, contentType = 'application/json', headers = {} } = {}) {
    const h = { ...headers };
    if (this.apiKey) h.authorization = `Bearer ${this.apiKey}`;
    let payload;
    if (body !== undefined) {
      h['content-type'] = contentType;
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await this.fetchImpl(this.base + path, { method, headers: h, body: payload });
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  // call sends a request and returns the envelope's result.
  async call(method, path, opts) {
    const res = await this.raw(method, path, opts);
    const env = await res.json();
    if (env && typeof env === 'object' && 'success' in env) {
      if (!env.success) throw envelopeError(env, res.status);
      return env.result;
    }
    return env;
  }
}

function envelopeError(env, status) {
  const e = Array.isArray(env.errors) && env.errors[0];
  return new RagdError(e?.message || `ragd: request failed with status ${status}`, { status, code: e?.code || 0 });
}

async function errorOf(res) {
  const text = await res.text();
  try {
    const env = JSON.parse(text);
    if (env?.errors) return envelopeError(env, res.status);
    if (env?.error?.message) return new RagdError(env.error.message, { status: res.status, code: env.error.code || 0 });
  } catch {
    // not JSON: fall through to the text
  }
  return new RagdError(`ragd: ${res.status} ${res.statusText}: ${text.slice(0, 300)}`.trim(), { status: res.status });
}

// toClient accepts a RagdClient or the options to make one.
export function toClient(c) {
  return c instanceof RagdClient ? c : new RagdClient(c);
}

// VectorizeIndex is the Workers runtime's Vectorize (v2) binding over
// ragd's /vectorize/v2/indexes/{name}/... routes: describe, insert,
// upsert, query, queryById, getByIds and deleteByIds, with the results
// shaped as the runtime returns them.

export class VectorizeIndex {
  // client: a RagdClient or its options ({url, apiKey, accountId});
  // name: the Vectorize (ragd) index.
  constructor(client, name) {
    if (!name) throw new RagdError('ragd bindings: a Vectorize index name is required');
    this.client = toClient(client);
    this.name = name;
    this.path = `/vectorize/v2/indexes/${encodeURIComponent(name)}`;
  }

  // describe → {dimensions, vectorCount, processedUpToDatetime, processedUpToMutation}.
  describe() {
    return this.client.call('GET', `${this.path}/info`);
  }

  // insert skips ids that exist; upsert replaces them. → {mutationId}.
  insert(vectors) {
    return this.#write('insert', vectors);
  }

  upsert(vectors) {
    return this.#write('upsert', vectors);
  }

  #write(op, vectors) {
    if (!Array.isArray(vectors)) throw new RagdError(`ragd bindings: ${op} takes an array of vectors`);
    const lines = vectors.map((v) => {
      const line = { id: v?.id, values: toArray(v?.values) };
      if (v?.namespace !== undefined) line.namespace = v.namespace;
      if (v?.metadata !== undefined) line.metadata = v.metadata;
      return JSON.stringify(line);
    });
    return this.client.call('POST', `${this.path}/${op}`, { body: lines.join('\n') + '\n', contentType: 'application/x-ndjson' });
  }

  // query → {count, matches: [{id, score, values?, metadata?, namespace?}]}.
  query(vector, options = {}) {
    const body = { vector: toArray(vector) };
    for (const k of ['topK', 'returnValues', 'returnMetadata', 'namespace', 'filter']) {
      if (options[k] !== undefined) body[k] = options[k];
    }
    return this.client.call('POST', `${this.path}/query`, { body });
  }

  // queryById queries with the stored values of vectorId; an id the
  // index does not hold matches nothing.
  async queryById(vectorId, options = {}) {
    const [v] = await this.getByIds([vectorId]);
    if (!v) return { count: 0, matches: [] };
    return this.query(v.values, options);
  }

  // getByIds → [{id, values, metadata?, namespace?}] (unknown ids left out).
  getByIds(ids) {
    return this.client.call('POST', `${this.path}/get_by_ids`, { body: { ids } });
  }

  // deleteByIds → {mutationId} (unknown ids ignored).
  deleteByIds(ids) {
    return this.client.call('POST', `${this.path}/delete_by_ids`, { body: { ids } });
  }
}

function toArray(values) {
  return ArrayBuffer.isView(values) ? Array.from(values) : values;
}

// Ai is the Workers runtime's AI binding over ragd: run() on
// /ai/run/{model} (embeddings and text generation, streamed as
// server-sent events like Workers AI) and autorag(name) on ragd's AI
// Search routes.

export class Ai {
  // client: a RagdClient or its options ({url, apiKey, accountId}).
  constructor(client) {
    this.client = toClient(client);
  }

  // run(model, inputs, options): embeddings ({text}) → {shape, data};
  // generation ({prompt} or {messages}) → {response, usage}, or with
  // inputs.stream a ReadableStream of SSE bytes (data: {"response": ...}
  // events, then data: [DONE]). options.returnRawResponse returns the
  // Response; options.extraHeaders are sent along; gateway is ignored.
  async run(model, inputs, options = {}) {
    if (typeof model !== 'string' || model === '') throw new RagdError('ragd bindings: AI.run needs a model name');
    const name = this.client.models[model] || model;
    const path = `/ai/run/${name.split('/').map(encodeURIComponent).join('/')}`;
    const req = { body: inputs ?? {}, headers: options.extraHeaders || {} };
    if (options.returnRawResponse) return this.client.raw('POST', path, req);
    if (inputs?.stream) return (await this.client.raw('POST', path, req)).body;
    return this.client.call('POST', path, req);
  }

  // autorag(name) → the AI Search instance `name` (in the default namespace).
  autorag(name) {
    return new AutoRAG(this.client, name);
  }
}

// AutoRAG is the runtime's AI Search instance binding over ragd's
// /ai-search/instances/{name}/search and /chat/completions.
export class AutoRAG {
  constructor(client, name) {
    if (!name) throw new RagdError('ragd bindings: autorag needs an instance name');
    this.client = toClient(client);
    this.name = name;
    this.path = `/ai-search/instances/${encodeURIComponent(name)}`;
  }

  // list → the instances of the default namespace (its first 100).
  async list() {
    const all = await this.client.call('GET', '/ai-search/instances?per_page=100');
    return all.map((i) => ({ id: i.id, enable: true, type: 'r2', source: i.source ?? '', paused: Boolean(i.paused), status: 'active' }));
  }

  // search({query, filters?, max_num_results?, ranking_options?,
  // reranking?, rewrite_query?}) → {object, search_query, data: [{file_id,
  // filename, score, attributes, content: [{type, text}]}], has_more, next_page}.
  async search(params) {
    const query = queryOf(params);
    const res = await this.client.call('POST', `${this.path}/search`, { body: { query, ai_search_options: optionsOf(params) } });
    return page(res.search_query || query, res.chunks);
  }

  // aiSearch(params plus system_prompt?, stream?) → search's result plus
  // {response}; with stream, a Response of SSE (data: {"response": ...}
  // events, then data: [DONE]).
  async aiSearch(params) {
    const query = queryOf(params);
    const messages = [];
    if (params.system_prompt) messages.push({ role: 'system', content: params.system_prompt });
    messages.push({ role: 'user', content: query });
    const body = { messages, stream: Boolean(params.stream), ai_search_options: optionsOf(params) };
    if (params.model) body.model = params.model;
    if (params.stream) {
      const res = await this.client.raw('POST', `${this.path}/chat/completions`, { body });
      return new Response(res.body.pipeThrough(chatToWorkersAI()), { headers: { 'content-type': 'text/event-stream' } });
    }
    const res = await this.client.call('POST', `${this.path}/chat/completions`, { body });
    return { ...page(query, res.chunks), response: res.choices?.[0]?.message?.content ?? '' };
  }
}

function queryOf(params) {
  if (!params || typeof params.query !== 'string' || params.query.trim() === '') {
    throw new RagdError('ragd bindings: autorag search needs a query string');
  }
  return params.query;
}

// optionsOf maps the runtime's request fields onto ai_search_options.
function optionsOf(p) {
  const retrieval = {};
  if (p.max_num_results !== undefined) retrieval.max_num_results = p.max_num_results;
  if (p.filters !== undefined) retrieval.filters = filterOf(p.filters);
  if (p.ranking_options?.score_threshold !== undefined) retrieval.match_threshold = p.ranking_options.score_threshold;
  const opts = { retrieval };
  if (p.reranking) opts.reranking = { enabled: p.reranking.enabled !== false, ...(p.reranking.model ? { model: p.reranking.model } : {}) };
  if (p.rewrite_query) opts.query_rewrite = { enabled: true };
  return opts;
}

// filterOf turns the runtime's {type, key, value} comparison filters and
// {type: "and", filters} compounds into Vectorize's {key: {$op: value}}
// shape, which ragd takes; a filter already in that shape passes through.
// "or" has no equivalent there and is refused.
export function filterOf(f) {
  if (!f || typeof f !== 'object' || !('type' in f)) return f;
  const out = {};
  const add = (c) => {
    if (c.type === 'and') {
      for (const sub of c.filters || []) add(sub);
      return;
    }
    if (c.type === 'or') throw new RagdError('ragd bindings: "or" filters are not supported by ragd (use "and")');
    if (!['eq', 'ne', 'gt', 'gte', 'lt', 'lte'].includes(c.type)) throw new RagdError(`ragd bindings: unknown filter type ${JSON.stringify(c.type)}`);
    if (typeof c.key !== 'string' || c.key === '') throw new RagdError('ragd bindings: a filter needs a key');
    out[c.key] = { ...(out[c.key] || {}), [`$${c.type}`]: c.value };
  };
  add(f);
  return out;
}

function page(searchQuery, chunks = []) {
  return {
    object: 'vector_store.search_results.page',
    search_query: searchQuery,
    data: chunks.map((c) => ({
      file_id: c.item?.key ?? c.id,
      filename: c.item?.key ?? '',
      score: c.score,
      attributes: { ...(c.item?.metadata || {}), ...(c.item?.timestamp ? { timestamp: c.item.timestamp } : {}) },
      content: [{ type: 'text', text: c.text }],
    })),
    has_more: false,
    next_page: null,
  };
}

// chatToWorkersAI turns ragd's chat.completion.chunk SSE into Workers AI
// style events: data: {"response": delta}, then data: [DONE]; an error
// event passes through.
function chatToWorkersAI() {
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  let buf = '';
  const emit = (ctl, line) => {
    if (!line.startsWith('data:')) return;
    const payload = line.slice(5).trim();
    if (payload === '[DONE]') {
      ctl.enqueue(enc.encode('data: [DONE]\n\n'));
      return;
    }
    let ev;
    try {
      ev = JSON.parse(payload);
    } catch {
      return;
    }
    if (ev.error) {
      ctl.enqueue(enc.encode(`data: ${JSON.stringify({ error: ev.error })}\n\n`));
      return;
    }
    const delta = ev.choices?.[0]?.delta?.content;
    if (delta) ctl.enqueue(enc.encode(`data: ${JSON.stringify({ response: delta })}\n\n`));
  };
  return new TransformStream({
    transform(chunk, ctl) {
      buf += dec.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        emit(ctl, buf.slice(0, i).replace(/\r$/, ''));
        buf = buf.slice(i + 1);
      }
    },
    flush(ctl) {
      buf += dec.decode();
      if (buf) emit(ctl, buf);
    },
  });
}


// createBindings({url, apiKey, accountId}) → {AI, vectorize(name), client}.
export function createBindings(options) {
  const client = new RagdClient(options);
  return { client, AI: new Ai(client), vectorize: (name) => new VectorizeIndex(client, name) };
}

// optionsFromEnv reads the server's address from a Worker's vars:
// RAGD_URL (required), RAGD_API_KEY, RAGD_ACCOUNT_ID, and RAGD_MODELS
// (the models option, as a JSON object or its text).
export function optionsFromEnv(env, overrides = {}) {
  let models = overrides.models ?? env?.RAGD_MODELS;
  if (typeof models === 'string') {
    try {
      models = JSON.parse(models);
    } catch (err) {
      throw new RagdError(`ragd bindings: RAGD_MODELS is not a JSON object: ${err.message}`);
    }
  }
  return {
    models,
    url: overrides.url ?? env?.RAGD_URL,
    apiKey: overrides.apiKey ?? env?.RAGD_API_KEY,
    accountId: overrides.accountId ?? env?.RAGD_ACCOUNT_ID ?? 'local',
  };
}

// withRagd wraps a module Worker's default export so that its handlers
// see env with ragd-backed bindings added: config.ai names the AI
// binding (default "AI"; false for none) and config.vectorize maps
// binding names to index names ({VECTORIZE: "docs"}). The server comes
// from config.url/apiKey/accountId, else env.RAGD_URL/RAGD_API_KEY/
// RAGD_ACCOUNT_ID. The Worker's own code is unchanged:
//   import worker from './index.js';
//   export default withRagd(worker, { vectorize: { VECTORIZE: 'docs' } });
export function withRagd(worker, config = {}) {
  if (!worker || typeof worker !== 'object') {
    throw new RagdError('ragd bindings: withRagd wraps an object default export ({fetch, ...}); a WorkerEntrypoint class is not supported');
  }
  const augment = (env) => {
    const b = createBindings(optionsFromEnv(env, config));
    const extra = {};
    const aiName = config.ai === undefined ? 'AI' : config.ai;
    if (aiName) extra[aiName] = b.AI;
    for (const [binding, index] of Object.entries(config.vectorize || {})) extra[binding] = b.vectorize(index);
    return { ...env, ...extra };
  };
  const out = {};
  for (const [k, v] of Object.entries(worker)) {
    out[k] = typeof v === 'function' ? (req, env, ctx) => v.call(worker, req, augment(env), ctx) : v;
  }
  return out;
}

// The default export is the Miniflare wrapped-binding entry: Miniflare
// calls it with the wrapped binding's inner bindings and hands the Worker
// what it returns. Inner bindings: RAGD_URL (required), RAGD_API_KEY,
// RAGD_ACCOUNT_ID, and INDEX_NAME for a Vectorize binding (without it the
// binding is the AI binding).
export default function ragdBinding(env) {
  const options = optionsFromEnv(env);
  return env?.INDEX_NAME ? new VectorizeIndex(options, env.INDEX_NAME) : new Ai(options);
}
