#!/usr/bin/env node
// wink-bm25.js: an outside BM25 baseline for ragd's evaluation harness.
//
// Indexes the Cranfield collection with the npm package wink-bm25-text-search
// (BM25F with k1 1.2, b 0.75; title and text as two fields of weight 1; the
// text is lower-cased, tokenized, stop words removed and Porter2-stemmed with
// wink-nlp-utils) and writes a TREC run file, 100 documents per query, with
// queries numbered by their position in cran.qry as the judgements number them.
//
// The packages are not project dependencies; install them outside the repo:
//
//   mkdir -p /tmp/winkbm25 && cd /tmp/winkbm25 && npm init -y >/dev/null &&
//     npm install wink-bm25-text-search@3.1.2 wink-nlp-utils@2.1.0
//
// Usage:
//
//   NODE_PATH=/tmp/winkbm25/node_modules node scripts/eval/wink-bm25.js \
//     [--cranfield ../shared/datasets/cranfield] [--out wink-bm25.run] \
//     [--depth 100] [--negations]
//
// Score the run with `go run ./scripts/eval/trecscore` (ragd's metrics) or
// with trec_eval against the qrels that script writes.
'use strict';

const fs = require('fs');
const path = require('path');

function parseArgs(argv) {
  const opts = {
    cranfield: path.join(__dirname, '..', '..', '..', 'shared', 'datasets', 'cranfield'),
    out: 'wink-bm25.run',
    depth: 100,
    negations: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--cranfield') opts.cranfield = next();
    else if (a === '--out') opts.out = next();
    else if (a === '--depth') opts.depth = parseInt(next(), 10);
    else if (a === '--negations') opts.negations = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(opts.depth > 0)) throw new Error('--depth must be a positive integer');
  return opts;
}

// readSMART splits a SMART/Cornell file into records {id, fields}: ".I <id>"
// starts a record, ".X" starts field X; lines are joined with spaces.
function readSMART(file) {
  const recs = [];
  let cur = null;
  let field = null;
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/\s+$/, '');
    const m = /^\.([A-Z])(?:\s+(.*))?$/.exec(line);
    if (m) {
      if (m[1] === 'I') {
        cur = { id: (m[2] || '').trim(), fields: {} };
        recs.push(cur);
        field = null;
      } else {
        field = m[1];
        cur.fields[field] = m[2] ? [m[2]] : [];
      }
      continue;
    }
    if (cur && field) cur.fields[field].push(line);
  }
  return recs.map((r) => {
    const f = {};
    for (const k of Object.keys(r.fields)) f[k] = r.fields[k].join(' ').replace(/\s+/g, ' ').trim();
    return { id: r.id, fields: f };
  });
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const bm25 = require('wink-bm25-text-search');
  const nlp = require('wink-nlp-utils');

  const engine = bm25();
  engine.defineConfig({ fldWeights: { title: 1, body: 1 }, bm25Params: { k1: 1.2, b: 0.75, k: 1 } });
  const tasks = [nlp.string.lowerCase, nlp.string.tokenize0, nlp.tokens.removeWords, nlp.tokens.stem];
  if (opts.negations) tasks.push(nlp.tokens.propagateNegations);
  engine.definePrepTasks(tasks);

  const docs = readSMART(path.join(opts.cranfield, 'cran.all.1400'));
  for (const d of docs) {
    engine.addDoc({ title: d.fields.T || '', body: d.fields.W || '' }, String(parseInt(d.id, 10)));
  }
  engine.consolidate();

  const queries = readSMART(path.join(opts.cranfield, 'cran.qry'));
  const lines = [];
  queries.forEach((q, i) => {
    const qid = String(i + 1); // judgements number queries by position
    const hits = engine.search(q.fields.W || '', opts.depth);
    hits.forEach(([doc, score], r) => {
      lines.push(`${qid} Q0 ${doc} ${r + 1} ${score} wink-bm25`);
    });
  });
  fs.writeFileSync(opts.out, lines.join('\n') + '\n');
  process.stderr.write(`indexed ${docs.length} documents, ran ${queries.length} queries, wrote ${lines.length} lines to ${opts.out}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`wink-bm25: ${e.message}\n`);
  process.exit(1);
}
