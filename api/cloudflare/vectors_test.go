package cloudflare_test

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/ragd/ragd/api/cloudflare"
)

type match struct {
	ID        string         `json:"id"`
	Score     float64        `json:"score"`
	Values    []float64      `json:"values"`
	Metadata  map[string]any `json:"metadata"`
	Namespace string         `json:"namespace"`
}

type queryResult struct {
	Count   int     `json:"count"`
	Matches []match `json:"matches"`
}

type storedVector struct {
	ID        string         `json:"id"`
	Values    []float64      `json:"values"`
	Metadata  map[string]any `json:"metadata"`
	Namespace string         `json:"namespace"`
}

func vpath(index, op string) string { return base + "/vectorize/v2/indexes/" + index + "/" + op }

func (e *env) query(index string, body any) queryResult {
	e.t.Helper()
	return decodeInto[queryResult](e.t, e.json("POST", vpath(index, "query"), body, 200))
}

func (e *env) getByIDs(index string, ids ...string) []storedVector {
	e.t.Helper()
	return decodeInto[[]storedVector](e.t, e.json("POST", vpath(index, "get_by_ids"), map[string]any{"ids": ids}, 200))
}

func ids(ms []match) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return strings.Join(out, ",")
}

const films = `{"id":"alien","values":[1,0,0],"metadata":{"genre":"scifi","year":1979,"tags":["space","horror"]}}
{"id":"heat","values":[0,1,0],"metadata":{"genre":"crime","year":1995}}
{"id":"arrival","values":[0.9,0.1,0],"namespace":"new","metadata":{"genre":"scifi","year":2016,"cast":"Amy Adams"}}

{"id":"tenet","values":[0.7,0,0.7],"namespace":"new","metadata":{"genre":"scifi","year":2020,"streaming":true}}
`

func TestInsertQueryGet(t *testing.T) {
	e := newEnv(t)
	e.createIndex("films", 3, "cosine")
	e.ndjson("films", "insert", films, 200)

	// Cosine: nearest first, scores are similarities.
	q := e.query("films", map[string]any{"vector": []float64{1, 0, 0}, "topK": 3})
	if q.Count != 3 || ids(q.Matches) != "alien,arrival,tenet" {
		t.Fatalf("query = %+v", q)
	}
	if math.Abs(q.Matches[0].Score-1) > 1e-5 || math.Abs(q.Matches[2].Score-0.7071) > 1e-3 {
		t.Fatalf("scores %+v", q.Matches)
	}
	// Defaults: topK 5, no values, no metadata; namespace is reported.
	q = e.query("films", map[string]any{"vector": []float64{1, 0, 0}})
	if q.Count != 4 {
		t.Fatalf("default topK returned %d", q.Count)
	}
	for _, m := range q.Matches {
		if m.Values != nil || m.Metadata != nil {
			t.Fatalf("defaults returned data: %+v", m)
		}
		if want := map[string]string{"arrival": "new", "tenet": "new"}[m.ID]; m.Namespace != want {
			t.Fatalf("namespace of %s = %q, want %q", m.ID, m.Namespace, want)
		}
	}
	// returnValues and returnMetadata=all.
	q = e.query("films", map[string]any{"vector": []float64{0.9, 0.1, 0}, "topK": 1, "returnValues": true, "returnMetadata": "all"})
	m := q.Matches[0]
	if m.ID != "arrival" || fmt.Sprint(m.Values) != "[0.9 0.1 0]" || m.Metadata["cast"] != "Amy Adams" || m.Metadata["year"] != 2016.0 || m.Namespace != "new" {
		t.Fatalf("full match %+v", m)
	}
	if _, leaked := m.Metadata["namespace"]; leaked {
		t.Fatal("namespace leaked into metadata")
	}
	// returnMetadata=indexed returns only properties with a metadata index.
	e.json("POST", vpath("films", "metadata_index/create"), `{"propertyName":"genre","indexType":"string"}`, 200)
	q = e.query("films", map[string]any{"vector": []float64{0.9, 0.1, 0}, "topK": 1, "returnMetadata": "indexed"})
	if fmt.Sprint(q.Matches[0].Metadata) != "map[genre:scifi]" {
		t.Fatalf("indexed metadata %v", q.Matches[0].Metadata)
	}
	// The older boolean form.
	q = e.query("films", map[string]any{"vector": []float64{0.9, 0.1, 0}, "topK": 1, "returnMetadata": true})
	if q.Matches[0].Metadata["cast"] != "Amy Adams" {
		t.Fatalf("returnMetadata=true gave %v", q.Matches[0].Metadata)
	}

	got := e.getByIDs("films", "tenet", "missing", "alien", "tenet")
	if len(got) != 2 || got[0].ID != "tenet" || got[1].ID != "alien" {
		t.Fatalf("get_by_ids = %+v", got)
	}
	if fmt.Sprint(got[0].Values) != "[0.7 0 0.7]" || got[0].Namespace != "new" || got[0].Metadata["streaming"] != true {
		t.Fatalf("tenet = %+v", got[0])
	}
	if fmt.Sprint(got[1].Metadata["tags"]) != "[space horror]" || got[1].Namespace != "" {
		t.Fatalf("alien = %+v", got[1])
	}
}

func TestFiltersAndNamespaces(t *testing.T) {
	e := newEnv(t)
	e.createIndex("films", 3, "cosine")
	e.ndjson("films", "insert", films, 200)
	all := []float64{1, 0.5, 0.2}
	cases := []struct {
		name      string
		filter    string
		namespace string
		want      string
	}{
		{"eq shorthand", `{"genre":"crime"}`, "", "heat"},
		{"eq", `{"genre":{"$eq":"scifi"}}`, "", "alien,arrival,tenet"},
		{"ne", `{"genre":{"$ne":"scifi"}}`, "", "heat"},
		{"in", `{"year":{"$in":[1979,2020]}}`, "", "alien,tenet"},
		{"nin", `{"genre":{"$nin":["scifi"]}}`, "", "heat"},
		{"range", `{"year":{"$gte":1990,"$lt":2020}}`, "", "arrival,heat"},
		{"lte gt", `{"year":{"$lte":2016,"$gt":1979}}`, "", "arrival,heat"},
		{"bool", `{"streaming":true}`, "", "tenet"},
		{"two fields", `{"genre":"scifi","year":{"$gt":2000}}`, "", "arrival,tenet"},
		{"namespace", ``, "new", "arrival,tenet"},
		{"namespace and filter", `{"year":{"$lt":2018}}`, "new", "arrival"},
		{"unknown namespace", ``, "old", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub := *e
			sub.t = t
			body := map[string]any{"vector": all, "topK": 10}
			if c.filter != "" {
				body["filter"] = rawJSON(c.filter)
			}
			if c.namespace != "" {
				body["namespace"] = c.namespace
			}
			q := sub.query("films", body)
			got := strings.Split(ids(q.Matches), ",")
			sort.Strings(got)
			if strings.Join(got, ",") != c.want {
				t.Fatalf("filter %s ns %q: got %v, want %s", c.filter, c.namespace, got, c.want)
			}
			if q.Count != len(q.Matches) {
				t.Fatalf("count %d for %d matches", q.Count, len(q.Matches))
			}
		})
	}
	e.fail("POST", vpath("films", "query"), "application/json", `{"vector":[1,0,0],"filter":{"year":{"$near":3}}}`, 400, "operator")
	e.fail("POST", vpath("films", "query"), "application/json", `{"vector":[1,0,0],"filter":[1]}`, 400, "filter")
}

type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

func TestQueryScoresByMetric(t *testing.T) {
	e := newEnv(t)
	e.createIndex("l2", 2, "euclidean")
	e.createIndex("dot", 2, "dot-product")
	pts := `{"id":"near","values":[1,1]}
{"id":"mid","values":[3,1]}
{"id":"far","values":[10,10]}`
	e.ndjson("l2", "upsert", pts, 200)
	e.ndjson("dot", "upsert", pts, 200)

	// Euclidean: closest first, score is the distance (lower is closer).
	q := e.query("l2", map[string]any{"vector": []float64{0, 1}, "topK": 3})
	if ids(q.Matches) != "near,mid,far" {
		t.Fatalf("euclidean order %s", ids(q.Matches))
	}
	want := []float64{1, 3, math.Sqrt(100 + 81)}
	for i, m := range q.Matches {
		if math.Abs(m.Score-want[i]) > 1e-4 {
			t.Fatalf("euclidean score of %s = %v, want %v", m.ID, m.Score, want[i])
		}
	}
	// Dot product: largest product first, score is the product.
	q = e.query("dot", map[string]any{"vector": []float64{1, 0}, "topK": 3})
	if ids(q.Matches) != "far,mid,near" || q.Matches[0].Score != 10 || q.Matches[2].Score != 1 {
		t.Fatalf("dot matches %+v", q.Matches)
	}
}

func TestQueryErrors(t *testing.T) {
	e := newEnv(t, func(c *cloudflare.Config) {})
	e.createIndex("v", 3, "cosine")
	// An empty index answers with no matches.
	q := e.query("v", map[string]any{"vector": []float64{1, 0, 0}})
	if q.Count != 0 || q.Matches == nil {
		t.Fatalf("empty index query %+v", q)
	}
	p := vpath("v", "query")
	e.fail("POST", p, "application/json", `{"vector":[1,0]}`, 400, "2 dimensions")
	e.fail("POST", p, "application/json", `{"topK":3}`, 400, "vector is required")
	e.fail("POST", p, "application/json", `{"vector":[1,0,0],"topK":0}`, 400, "topK")
	e.fail("POST", p, "application/json", `{"vector":[1,0,0],"topK":101,"returnValues":true}`, 400, "topK 101")
	e.fail("POST", p, "application/json", `{"vector":[1,0,0],"topK":101,"returnMetadata":"all"}`, 400, "1..100")
	e.fail("POST", p, "application/json", `{"vector":[1,0,0],"topK":1001}`, 400, "1..1000")
	e.fail("POST", p, "application/json", `{"vector":[1,0,0],"returnMetadata":"some"}`, 400, "returnMetadata")
	e.fail("POST", p, "application/json", `{"vector":[1,0,0],"k":3}`, 400, "unknown field")
	e.fail("POST", p, "application/json", `{"vector":[1,"x",0]}`, 400, "not a number")
	e.fail("POST", p, "application/json", `{"vector":[1,null,0]}`, 400, "not a number")
	e.fail("POST", p, "application/json", `{"vector":[1,1e39,0]}`, 400, "32-bit")
	e.fail("POST", p, "application/json", `{"vector":[0,0,0]}`, 400, "zero vector")
	e.fail("POST", vpath("nope", "query"), "application/json", `{"vector":[1,0,0]}`, 404, "not found")
	// topK 200 is fine without values or all metadata.
	e.ndjson("v", "insert", `{"id":"a","values":[1,0,0]}`, 200)
	if q := e.query("v", map[string]any{"vector": []float64{1, 0, 0}, "topK": 200, "returnMetadata": "indexed"}); q.Count != 1 {
		t.Fatalf("topK 200 gave %+v", q)
	}
}

func TestInsertDoesNotOverwriteUpsertDoes(t *testing.T) {
	e := newEnv(t)
	e.createIndex("v", 2, "cosine")
	e.ndjson("v", "insert", `{"id":"a","values":[1,0],"metadata":{"v":1}}`, 200)
	// Insert of an existing id keeps the stored vector; new ids go in.
	e.ndjson("v", "insert", `{"id":"a","values":[0,1],"metadata":{"v":2}}`+"\n"+`{"id":"b","values":[0,1]}`, 200)
	got := e.getByIDs("v", "a", "b")
	if len(got) != 2 || fmt.Sprint(got[0].Values) != "[1 0]" || got[0].Metadata["v"] != 1.0 {
		t.Fatalf("after insert: %+v", got)
	}
	// Upsert replaces values, metadata and namespace wholesale.
	e.ndjson("v", "upsert", `{"id":"a","values":[0,1],"namespace":"n2","metadata":{"w":true}}`, 200)
	got = e.getByIDs("v", "a")
	if fmt.Sprint(got[0].Values) != "[0 1]" || got[0].Namespace != "n2" || fmt.Sprint(got[0].Metadata) != "map[w:true]" {
		t.Fatalf("after upsert: %+v", got[0])
	}
	// The index finds it in its new place and namespace.
	q := e.query("v", map[string]any{"vector": []float64{0, 1}, "namespace": "n2"})
	if ids(q.Matches) != "a" {
		t.Fatalf("query after upsert %+v", q)
	}
	info := decodeInto[infoResult](t, e.json("GET", vpath("v", "info"), nil, 200))
	if info.VectorCount != 2 {
		t.Fatalf("vectorCount %d", info.VectorCount)
	}
}

func TestBadBatchesStoreNothing(t *testing.T) {
	e := newEnv(t, func(c *cloudflare.Config) { c.MaxBatch = 3 })
	e.createIndex("v", 2, "cosine")
	good := `{"id":"ok1","values":[1,0]}` + "\n"
	cases := []struct {
		name, body string
		status     int
		substr     string
	}{
		{"malformed line", good + `{"id":"x","values":[1,0]` + "\n", 400, "line 2"},
		{"not json", good + "hello\n", 400, "line 2"},
		{"dims", good + `{"id":"x","values":[1,0,0]}`, 400, "3 dimensions"},
		{"duplicate ids", good + `{"id":"ok1","values":[0,1]}`, 400, "already appears on line 1"},
		{"missing values", good + `{"id":"x"}`, 400, "\"values\""},
		{"missing id", good + `{"values":[1,0]}`, 400, "\"id\""},
		{"null value", good + `{"id":"x","values":[1,null]}`, 400, "not a number"},
		{"string value", good + `{"id":"x","values":["1",0]}`, 400, "not a number"},
		{"huge value", good + `{"id":"x","values":[1e300,0]}`, 400, "32-bit"},
		{"unknown field", good + `{"id":"x","values":[1,0],"sparse":[]}`, 400, "unknown field"},
		{"long id", good + `{"id":"` + strings.Repeat("x", 65) + `","values":[1,0]}`, 400, "1..64 bytes"},
		{"long namespace", good + `{"id":"x","values":[1,0],"namespace":"` + strings.Repeat("n", 65) + `"}`, 400, "namespace"},
		{"nested metadata", good + `{"id":"x","values":[1,0],"metadata":{"a":{"b":1}}}`, 400, "nested"},
		{"reserved key", good + `{"id":"x","values":[1,0],"metadata":{"namespace":"a"}}`, 400, "reserved"},
		{"dollar key", good + `{"id":"x","values":[1,0],"metadata":{"$a":1}}`, 400, "may not start with $"},
		{"dotted key", good + `{"id":"x","values":[1,0],"metadata":{"a.b":1}}`, 400, "contain ."},
		{"quote key", good + `{"id":"x","values":[1,0],"metadata":{"a\"b":1}}`, 400, "contain ."},
		{"big metadata", good + `{"id":"x","values":[1,0],"metadata":{"a":"` + strings.Repeat("m", 11<<10) + `"}}`, 400, "limit 10240"},
		{"zero cosine vector", good + `{"id":"x","values":[0,0]}`, 400, "zero vector"},
		{"too many", good + `{"id":"b","values":[1,0]}` + "\n" + `{"id":"c","values":[1,0]}` + "\n" + `{"id":"d","values":[1,0]}`, 413, "more than 3"},
		{"empty", "\n\n", 400, "no vectors"},
	}
	for _, c := range cases {
		for _, op := range []string{"insert", "upsert"} {
			t.Run(c.name+"/"+op, func(t *testing.T) {
				sub := *e
				sub.t = t
				sub.fail("POST", vpath("v", op), "application/x-ndjson", c.body, c.status, c.substr)
			})
		}
	}
	e.fail("POST", vpath("v", "insert")+"?unparsable-behavior=maybe", "application/x-ndjson", good, 400, "unparsable-behavior")
	e.fail("POST", vpath("nope", "insert"), "application/x-ndjson", good, 404, "not found")
	info := decodeInto[infoResult](t, e.json("GET", vpath("v", "info"), nil, 200))
	if info.VectorCount != 0 || info.ProcessedUpToMutation != nil {
		t.Fatalf("a rejected batch changed the index: %+v", info)
	}
	if got := e.getByIDs("v", "ok1"); len(got) != 0 {
		t.Fatalf("ok1 stored from a rejected batch: %+v", got)
	}
}

func TestUnparsableDiscard(t *testing.T) {
	e := newEnv(t)
	e.createIndex("v", 2, "cosine")
	body := `{"id":"a","values":[1,0]}` + "\n" + `{"id":"b","values":` + "\n" + `{"id":"c","values":[0,1]}` + "\r\n"
	e.ndjson("v", "upsert?unparsable-behavior=discard", body, 200)
	if got := e.getByIDs("v", "a", "b", "c"); len(got) != 2 || got[0].ID != "a" || got[1].ID != "c" {
		t.Fatalf("discard stored %+v", got)
	}
	// Discard skips unparsable lines only: a wrong-sized vector still fails the batch.
	e.fail("POST", vpath("v", "upsert")+"?unparsable-behavior=discard", "application/x-ndjson", `{"id":"d","values":[1,0]}`+"\n"+`{"id":"e","values":[1]}`, 400, "1 dimensions")
	if got := e.getByIDs("v", "d"); len(got) != 0 {
		t.Fatal("d stored from a rejected batch")
	}
}

func TestDeleteByIDs(t *testing.T) {
	e := newEnv(t)
	e.createIndex("films", 3, "cosine")
	e.ndjson("films", "insert", films, 200)
	r := decodeInto[struct{ MutationID string }](t, e.json("POST", vpath("films", "delete_by_ids"), `{"ids":["alien","nope","heat"]}`, 200))
	if r.MutationID == "" {
		t.Fatal("no mutation id")
	}
	q := e.query("films", map[string]any{"vector": []float64{1, 0, 0}, "topK": 10})
	if ids(q.Matches) != "arrival,tenet" {
		t.Fatalf("after delete: %s", ids(q.Matches))
	}
	if got := e.getByIDs("films", "alien", "heat"); len(got) != 0 {
		t.Fatalf("deleted vectors still readable: %+v", got)
	}
	e.fail("POST", vpath("films", "delete_by_ids"), "application/json", `{"ids":[]}`, 400, "non-empty")
	e.fail("POST", vpath("films", "delete_by_ids"), "application/json", `{"ids":["a"],"all":true}`, 400, "unknown field")
	e.fail("POST", vpath("films", "get_by_ids"), "application/json", `{}`, 400, "non-empty")
	e.fail("POST", vpath("films", "get_by_ids"), "application/json", `{"ids":[""]}`, 400, "empty id")
	many := `{"ids":["` + strings.Repeat(`x","`, 1000) + `y"]}`
	e.fail("POST", vpath("films", "get_by_ids"), "application/json", many, 413, "more than 1000")
	e.fail("POST", vpath("nope", "delete_by_ids"), "application/json", `{"ids":["a"]}`, 404, "not found")
	e.fail("POST", vpath("nope", "get_by_ids"), "application/json", `{"ids":["a"]}`, 404, "not found")
}

type listResult struct {
	Count                     int     `json:"count"`
	TotalCount                int     `json:"totalCount"`
	IsTruncated               bool    `json:"isTruncated"`
	NextCursor                *string `json:"nextCursor"`
	CursorExpirationTimestamp *string `json:"cursorExpirationTimestamp"`
	Vectors                   []struct {
		ID string `json:"id"`
	} `json:"vectors"`
}

func TestListVectorsPagination(t *testing.T) {
	e := newEnv(t)
	e.createIndex("v", 2, "cosine")
	var b strings.Builder
	var want []string
	for i := range 23 {
		id := fmt.Sprintf("vec/%02d", i) // ids may hold any UTF-8, slashes too
		want = append(want, id)
		fmt.Fprintf(&b, `{"id":%q,"values":[1,%d]}`+"\n", id, i)
	}
	e.ndjson("v", "insert", b.String(), 200)

	var got []string
	cursor := ""
	pages := 0
	for {
		p := vpath("v", "list") + "?count=10"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		l := decodeInto[listResult](t, e.json("GET", p, nil, 200))
		pages++
		if l.TotalCount != 23 || l.Count != len(l.Vectors) {
			t.Fatalf("page %d: %+v", pages, l)
		}
		for _, v := range l.Vectors {
			got = append(got, v.ID)
		}
		if !l.IsTruncated {
			if l.NextCursor != nil || l.Count != 3 {
				t.Fatalf("last page %+v", l)
			}
			break
		}
		if l.NextCursor == nil || l.Count != 10 {
			t.Fatalf("truncated page without a cursor: %+v", l)
		}
		cursor = *l.NextCursor
	}
	if pages != 3 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("%d pages, ids %v", pages, got)
	}
	// Default count 100 returns everything; an exact-size page is not truncated.
	l := decodeInto[listResult](t, e.json("GET", vpath("v", "list"), nil, 200))
	if l.Count != 23 || l.IsTruncated {
		t.Fatalf("default page %+v", l)
	}
	l = decodeInto[listResult](t, e.json("GET", vpath("v", "list")+"?count=23", nil, 200))
	if l.Count != 23 || l.IsTruncated || l.NextCursor != nil {
		t.Fatalf("exact page %+v", l)
	}
	e.fail("GET", vpath("v", "list")+"?count=0", "", "", 400, "count")
	e.fail("GET", vpath("v", "list")+"?count=1001", "", "", 400, "count")
	e.fail("GET", vpath("v", "list")+"?cursor=***", "", "", 400, "cursor")
	e.fail("GET", vpath("nope", "list"), "", "", 404, "not found")
}

// TestConcurrentInserts races inserts of the same ids: each batch is
// applied whole and insert never overwrites, so every id holds the values
// of the one request that got there first.
func TestConcurrentInserts(t *testing.T) {
	e := newEnv(t)
	e.createIndex("v", 2, "euclidean")
	const writers, ids = 6, 20
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			var b strings.Builder
			for i := range ids {
				fmt.Fprintf(&b, `{"id":"id-%02d","values":[%d,%d]}`+"\n", i, w, i)
			}
			resp, err := http.Post(e.srv.URL+vpath("v", "insert"), "application/x-ndjson", strings.NewReader(b.String()))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			errs <- err
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	info := decodeInto[infoResult](t, e.json("GET", vpath("v", "info"), nil, 200))
	if info.VectorCount != ids {
		t.Fatalf("vectorCount %d, want %d", info.VectorCount, ids)
	}
	var all []string
	for i := range ids {
		all = append(all, fmt.Sprintf("id-%02d", i))
	}
	got := e.getByIDs("v", all...)
	winner := got[0].Values[0]
	for i, v := range got {
		if len(v.Values) != 2 || v.Values[1] != float64(i) || v.Values[0] != winner {
			t.Fatalf("%s = %v; writer %v won id-00", v.ID, v.Values, winner)
		}
	}
}
