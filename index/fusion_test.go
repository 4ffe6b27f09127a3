package index

import (
	"math"
	"testing"
)

func TestFuseRRFHandComputed(t *testing.T) {
	bm := []Ranked{{"a", 9}, {"b", 5}, {"c", 1}}
	vec := []Ranked{{"c", 0.9}, {"a", 0.8}, {"d", 0.1}}
	got := fuseRRF(bm, vec, 60)
	want := map[string]float64{
		"a": 1.0/61 + 1.0/62,
		"b": 1.0 / 62,
		"c": 1.0/63 + 1.0/61,
		"d": 1.0 / 63,
	}
	if len(got) != 4 {
		t.Fatalf("got %d results", len(got))
	}
	for _, f := range got {
		if math.Abs(f.Score-want[f.ID]) > 1e-12 {
			t.Errorf("%s: score %v want %v", f.ID, f.Score, want[f.ID])
		}
	}
	// a: 1/61+1/62 = 0.032522, c: 1/63+1/61 = 0.032266, b = d = 1/62 vs 1/63
	order := []string{"a", "c", "b", "d"}
	for i, id := range order {
		if got[i].ID != id {
			t.Fatalf("rank %d: got %s want %s (%v)", i, got[i].ID, id, got)
		}
	}
	if got[0].Explain.BM25.Rank != 1 || got[0].Explain.Vector.Rank != 2 {
		t.Errorf("explain for a: %+v %+v", got[0].Explain.BM25, got[0].Explain.Vector)
	}
	if got[2].Explain.Vector != nil {
		t.Errorf("b has no vector side, explain says %+v", got[2].Explain.Vector)
	}
}

func TestFuseRRFTiesBrokenByID(t *testing.T) {
	got := fuseRRF([]Ranked{{"z", 1}}, []Ranked{{"y", 1}}, 10)
	if got[0].ID != "y" || got[1].ID != "z" {
		t.Fatalf("tie order %v", got)
	}
}

func TestFuseConvexHandComputed(t *testing.T) {
	bm := []Ranked{{"a", 10}, {"b", 6}, {"c", 2}} // normalised 1, .5, 0
	vec := []Ranked{{"c", 0.9}, {"a", 0.5}}       // normalised 1, 0
	got := fuseConvex(bm, vec, 0.25)
	want := map[string]float64{
		"a": 0.75*1 + 0.25*0,
		"b": 0.75 * 0.5,
		"c": 0.75*0 + 0.25*1,
	}
	for _, f := range got {
		if math.Abs(f.Score-want[f.ID]) > 1e-12 {
			t.Errorf("%s: %v want %v", f.ID, f.Score, want[f.ID])
		}
	}
	if got[0].ID != "a" || got[1].ID != "b" || got[2].ID != "c" {
		t.Fatalf("order %v", got)
	}
	// alpha 1 is pure vector order.
	pure := fuseConvex(bm, vec, 1)
	if pure[0].ID != "c" {
		t.Fatalf("alpha=1 should rank the best vector hit first, got %v", pure)
	}
}

func TestMinMaxConstantList(t *testing.T) {
	n := minMax([]Ranked{{"a", 3}, {"b", 3}})
	if n[0] != 1 || n[1] != 1 {
		t.Fatalf("constant scores normalise to 1, got %v", n)
	}
}
