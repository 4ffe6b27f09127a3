// An ordinary module Worker, written against the Workers runtime's
// bindings only (env.AI, env.VECTORIZE): it knows nothing of ragd. The
// tests run it in workerd through Miniflare with the bindings supplied by
// ragd-workers-bindings, once as wrapped bindings and once through
// withRagd (the wrangler dev wiring).
const EMBED = '@cf/ragd/use-lite';
const LLM = '@cf/meta/llama-3.1-8b-instruct';

async function embed(env, texts) {
  const { data } = await env.AI.run(EMBED, { text: texts });
  return data;
}

const routes = {
  async embed(env, body) {
    return env.AI.run(body.model || EMBED, { text: body.text });
  },
  async generate(env, body) {
    return env.AI.run(LLM, body);
  },
  async stream(env, body) {
    const stream = await env.AI.run(LLM, { ...body, stream: true });
    return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
  },
  // upsert embeds each document's text and stores it with its metadata.
  async upsert(env, body) {
    const vecs = await embed(env, body.docs.map((d) => d.text));
    const rows = body.docs.map((d, i) => ({ id: d.id, values: new Float32Array(vecs[i]), metadata: d.metadata, namespace: d.namespace }));
    return body.insert ? env.VECTORIZE.insert(rows) : env.VECTORIZE.upsert(rows);
  },
  async query(env, body) {
    const [v] = await embed(env, [body.text]);
    return env.VECTORIZE.query(v, body.options);
  },
  async queryRaw(env, body) {
    return env.VECTORIZE.query(body.vector, body.options);
  },
  async queryById(env, body) {
    return env.VECTORIZE.queryById(body.id, body.options);
  },
  async get(env, body) {
    return env.VECTORIZE.getByIds(body.ids);
  },
  async delete(env, body) {
    return env.VECTORIZE.deleteByIds(body.ids);
  },
  async describe(env) {
    return env.VECTORIZE.describe();
  },
  async search(env, body) {
    return env.AI.autorag(body.name).search(body.params);
  },
  async aiSearch(env, body) {
    return env.AI.autorag(body.name).aiSearch(body.params);
  },
};

export default {
  async fetch(request, env) {
    const name = new URL(request.url).pathname.slice(1);
    const route = routes[name];
    if (!route) return new Response('no such route', { status: 404 });
    const body = request.method === 'POST' ? await request.json() : {};
    try {
      const out = await route(env, body);
      return out instanceof Response ? out : Response.json(out);
    } catch (err) {
      return Response.json({ error: err.message, isError: err instanceof Error, status: err.status }, { status: 500 });
    }
  },
};
