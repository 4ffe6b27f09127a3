package generate

import (
	"reflect"
	"testing"
)

func TestParseCitations(t *testing.T) {
	tests := []struct {
		text string
		want []int
	}{
		{"Paris [1].", []int{1}},
		{"A [2][1] and again [2].", []int{2, 1}},
		{"Both [1, 3] agree; see [ 4 ;5 ].", []int{1, 3, 4, 5}},
		{"Range [2-4] and [6–7].", []int{2, 3, 4, 6, 7}},
		{"No citations here.", nil},
		{"Zero [0] is not a passage, nor is [x] or [1a].", nil},
		{"Reversed range [5-2] is ignored, [1-1000] too.", nil},
		{"Array syntax a[12] still counts [12].", []int{12}},
	}
	for _, tt := range tests {
		if got := ParseCitations(tt.text); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCitations(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestMapCitations(t *testing.T) {
	ps := []Passage{
		{N: 1, DocID: "a", ChunkID: "a#0", Source: "a.md", Title: "A", Start: 0, End: 10},
		{N: 2, DocID: "b", ChunkID: "b#3", Source: "b.md", Start: 30, End: 90},
	}
	got := MapCitations([]int{2, 7, 1}, ps)
	want := []Citation{
		{N: 2, DocID: "b", ChunkID: "b#3", Source: "b.md", Start: 30, End: 90},
		{N: 1, DocID: "a", ChunkID: "a#0", Source: "a.md", Title: "A", Start: 0, End: 10},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MapCitations = %+v, want %+v", got, want)
	}
}
