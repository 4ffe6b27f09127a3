// Package extractive is ragd's default generator when no language model is
// configured. It answers from the retrieved passages themselves: it scores
// their sentences by overlap with the question's terms (lowercased, stop
// words removed, lightly stemmed), weighted by how early the sentence sits in
// its passage and how highly the passage ranked, picks the best few,
// removes near-duplicates, and streams them word by word in reading order,
// each followed by a [n] marker for its passage. Every answer starts with
// Prefix, so readers know that no model wrote it.
//
// Generator implements generate.Generator and the generate.PassageAnswerer
// capability, through which generate.Answer hands it the packed passages.
// Called through Generate alone, it recovers the passages and the question
// from the last user message (or the raw prompt) with generate.ParsePassages.
package extractive
