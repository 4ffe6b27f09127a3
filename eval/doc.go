// Package eval is ragd's retrieval-quality harness: it loads test
// collections with relevance judgements, runs every judged query through a
// Searcher in each retrieval mode, scores the rankings with the trec_eval
// definitions of nDCG@10, MAP, recall@100, P@10 and MRR@10, and writes the
// results as a terminal table, JSON, markdown, SVG charts and TREC run and
// qrels files that outside tools can score.
//
// # Datasets
//
// LoadDataset reads SMART/Cornell collections (Cranfield, CISI, MED, CACM),
// the BEIR layout (corpus.jsonl, queries.jsonl, qrels/*.tsv) and TREC
// collections (qrels, <top> topics, documents as JSONL or <DOC> SGML).
// Judgements become gains through LoadOptions.Gain; Cranfield's default is
// CranfieldGain (5 - r for r in 1..4, anything else 0). Only queries with at
// least one relevant document (gain >= 1) are evaluated. A collection without
// dev/test splits is split deterministically by a hash of the query id.
//
// # Metrics
//
// Rankings are ordered as trec_eval orders a run file: by score, highest
// first, ties broken by document id in descending byte order. A document is
// relevant when its gain is at least 1 (trec_eval's relevance_level 1);
// nDCG uses the gains themselves with a log2(rank+1) discount and an ideal
// ranking built from every judged document of the query. MRR@10 is
// trec_eval's recip_rank over the first 10 documents (trec_eval -M 10).
//
// # Runs
//
// Evaluate runs each RunSpec (bm25, vector, hybrid RRF, hybrid convex at an
// alpha, optionally reranked) over the judged queries. Searchers return chunk
// hits; they are folded to documents by the best chunk score, and the top
// RunConfig.Depth documents are scored. A Sweep (ParseSweep("alpha=0:1:0.1"))
// tunes the convex alpha on the dev split and reports it on the test split.
// Compare pairs two reports query by query with a paired t-test and a seeded
// randomization test.
package eval
