package use

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragd/ragd/embed"
)

// The reported memory is the weights the model holds: at least the float32
// weights of the shards on disk (every tensor the encoder uses is kept,
// packed without padding: the widths are multiples of 16), plus at most a
// few MiB of timing signal and tokenizer tables.
func TestMemoryCountsWeights(t *testing.T) {
	m := testModel(t)
	dist := filepath.Join(repoRoot(t), filepath.FromSlash(PackageDir), "dist")
	entries, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	var shards int64
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "group1-shard") {
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			shards += info.Size()
		}
	}
	if shards == 0 {
		t.Fatal("no weight shards found")
	}
	got := m.Memory()
	if got.Estimated {
		t.Error("USE-lite memory is counted, not estimated")
	}
	const slack = 8 << 20
	if got.Bytes < shards-(1<<20) || got.Bytes > shards+slack {
		t.Fatalf("Memory() = %d bytes; weight shards hold %d", got.Bytes, shards)
	}
	emb := int64(len(m.enc.emb)) * float32Bytes
	if emb <= 0 || got.Bytes <= emb {
		t.Fatalf("Memory() = %d is not more than the embedding table (%d)", got.Bytes, emb)
	}
	// Through the optional-capability helper, as cmd/ragd asks.
	if mem, ok := embed.MemoryOf(m); !ok || mem != got {
		t.Fatalf("embed.MemoryOf = %+v, %v; want %+v", mem, ok, got)
	}
	t.Logf("USE-lite resident memory %d bytes (weight shards %d)", got.Bytes, shards)
}
