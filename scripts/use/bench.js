// bench.js measures the throughput of the JavaScript USE-lite reference
// (@energetic-ai/embeddings 0.2.0, TF.js WebAssembly backend on plain Node).
//
//   node scripts/use/bench.js texts.json [n] [batch]
//
// It embeds the first n texts of the JSON array (cycled when shorter) in
// batches of the given size (default 32) after one warm-up batch, and
// prints one line of JSON: {"impl":"js","texts":n,"seconds":s,"texts_per_s":r,
// "cpu_seconds":c,"texts_per_cpu_s":q} (CPU time of the process, all threads).
'use strict';

const fs = require('fs');
const path = require('path');

const modules = process.env.USE_NODE_MODULES ||
  path.join(__dirname, '..', '..', 'node', 'node_modules');
const { initModel } = require(path.join(modules, '@energetic-ai', 'embeddings'));
const { modelSource } = require(path.join(modules, '@energetic-ai', 'model-embeddings-en'));

async function main() {
  const [file, nArg, batchArg] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench.js texts.json [n] [batch]\n');
    process.exit(2);
  }
  const all = JSON.parse(fs.readFileSync(file, 'utf-8')).filter((t) => t.length > 0);
  const n = Number(nArg || all.length);
  const batch = Number(batchArg || 32);
  const texts = [];
  for (let i = 0; i < n; i++) texts.push(all[i % all.length]);

  const model = await initModel(modelSource);
  await model.embed(texts.slice(0, Math.min(batch, texts.length))); // warm-up
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  let dims = 0;
  for (let i = 0; i < texts.length; i += batch) {
    const out = await model.embed(texts.slice(i, i + batch));
    dims = out[0].length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(JSON.stringify({
    impl: 'js', texts: texts.length, batch, dims, seconds,
    texts_per_s: texts.length / seconds,
    cpu_seconds: cpuSeconds, texts_per_cpu_s: texts.length / cpuSeconds,
  }) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
