// Package embedtest holds fake embedders for tests, in the manner of
// net/http/httptest: NewHash, a deterministic bag-of-words embedder whose
// vectors make texts that share words similar (BagOfWords), and NewUnit,
// whose vectors are unrelated unit vectors (internal/unitvec); both count
// the texts they embed. Tests use these instead of writing their own.
package embedtest
