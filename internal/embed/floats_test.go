package embed

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/embed/embedtest"
)

func TestVectorsAt(t *testing.T) {
	f := func(in string, want [][]float32, found, ok bool) {
		t.Helper()
		got, gotFound, err := vectorsAt([]byte(in), "embeddings", "float")
		if (err == nil) != ok || gotFound != found {
			t.Fatalf("%s: found %v, err %v; want found %v, ok %v", in, gotFound, err, found, ok)
		}
		if ok && found && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %v, want %v", in, got, want)
		}
	}
	f(`{"id":"x","embeddings":{"float":[[0.5,-1,2e-3],[1E2, 0 , -0.25]]},"texts":["a\"b","c"],"meta":{"n":1e400,"ok":true,"x":null}}`,
		[][]float32{{0.5, -1, 0.002}, {100, 0, -0.25}}, true, true)
	f(` {"embeddings" : {"float":[]}} `, [][]float32{}, true, true)
	f(`{"embeddings":{"float":[[]]}}`, [][]float32{{}}, true, true)
	f(`{"embeddings":{"int8":[[1]]}}`, nil, false, true)
	f(`{"embeddings":null}`, nil, false, true)
	f(`{"emb\u0065ddings":{"float":[[1]]}}`, [][]float32{{1}}, true, true)
	for _, bad := range []string{`{"embeddings":{"float":[[0.1,]]}}`, `{"embeddings":{"float":[[01]]}}`, `{"embeddings":{"float":[[.5]]}}`,
		`{"embeddings":{"float":[[1.]]}}`, `{"embeddings":{"float":[[0x10]]}}`, `{"embeddings":{"float":[[1]]}`, `{"embeddings":{"float":[1,2]}}`,
		`{"embeddings":{"float":[["1"]]}}`, `{"embeddings":{"float":[[1e999]]}}`, `{"embeddings":{"float":[[1]]}} x`, `{"a":"\x"}`, `{"a":tru}`,
		`[[1]]`, `{"a":"\u12"}`, `{"a":[1,]}`, `{"a" 1}`} {
		f(bad, nil, false, false)
	}
}

// FuzzVectorsAt checks the single-pass decoder against encoding/json: it
// refuses what encoding/json refuses and returns the same numbers.
func FuzzVectorsAt(f *testing.F) {
	for _, s := range []string{`{"embeddings":{"float":[[0.5,-1,2e-3],[1E2,0]]},"id":"\u00e9"}`, `{"embeddings":[[1]]}`, `{}`,
		`{"embeddings":{"float":[[1e39]]}}`, `{"embeddings":{"float":[[-0]]},"meta":[{"a":[true,false,null]}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, found, err := vectorsAt([]byte(in), "embeddings", "float")
		var ref struct {
			Embeddings *struct {
				Float *[][]float64 `json:"float"`
			} `json:"embeddings"`
		}
		if !json.Valid([]byte(in)) {
			if err == nil {
				t.Fatalf("%q accepted, but it is not valid JSON", in)
			}
			return
		}
		if json.Unmarshal([]byte(in), &ref) != nil || !strings.HasPrefix(strings.TrimSpace(in), "{") {
			return // valid JSON of another shape: either answer is fine
		}
		if ref.Embeddings == nil || ref.Embeddings.Float == nil {
			if found {
				t.Fatalf("%q: found vectors encoding/json does not see", in)
			}
			return
		}
		for _, row := range *ref.Embeddings.Float {
			for _, x := range row {
				if math.Abs(x) > math.MaxFloat32 {
					return // out of float32 range: an error for us, fine
				}
			}
		}
		if err != nil || !found {
			t.Fatalf("%q refused: found %v, %v", in, found, err)
		}
		want := *ref.Embeddings.Float
		if len(got) != len(want) {
			t.Fatalf("%q: %d rows, want %d", in, len(got), len(want))
		}
		for i := range want {
			if len(got[i]) != len(want[i]) {
				t.Fatalf("%q: row %d has %d values, want %d", in, i, len(got[i]), len(want[i]))
			}
			for j := range want[i] {
				if got[i][j] != float32(want[i][j]) {
					t.Fatalf("%q: [%d][%d] = %v, want %v", in, i, j, got[i][j], float32(want[i][j]))
				}
			}
		}
	})
}

// batchJSON is a realistic answer body: 96 vectors of 1024 values, each
// printed in its shortest float32 form as services print them (~1 MB).
func batchJSON(b *testing.B) []byte {
	buf := []byte(`{"id":"x","embeddings":{"float":[`)
	for i := range 96 {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		for j, x := range embedtest.Vector(strings.Repeat("x", i+1), 1024) {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendFloat(buf, x, 'g', -1, 32)
		}
		buf = append(buf, ']')
	}
	return append(buf, "]}}"...)
}

func BenchmarkDecodeBatchVectorsAt(b *testing.B) {
	raw := batchJSON(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		vs, _, err := vectorsAt(raw, "embeddings", "float")
		if err != nil || len(vs) != 96 {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBatchEncodingJSON(b *testing.B) {
	raw := batchJSON(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var r struct {
			Embeddings struct {
				Float [][]float32 `json:"float"`
			} `json:"embeddings"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || len(r.Embeddings.Float) != 96 {
			b.Fatal(err)
		}
	}
}

func TestIndexedVectors(t *testing.T) {
	got, err := indexedVectors([]byte(`{"object":"list","data":[{"object":"embedding","index":1,"embedding":[3,4]},{"embedding":[1,2],"index":0,"object":"embedding"}],"model":"m","usage":{"prompt_tokens":1}}`), 2)
	if err != nil || !reflect.DeepEqual(got, [][]float32{{1, 2}, {3, 4}}) {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{
		`{"data":[{"index":0,"embedding":[1]}]}`,                                    // one vector for two texts
		`{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]}`,        // repeated index
		`{"data":[{"index":0,"embedding":[1]},{"index":2,"embedding":[2]}]}`,        // out of range
		`{"data":[{"index":0,"embedding":"AACAPw=="},{"index":1,"embedding":[2]}]}`, // base64
		`{"data":[{"index":0},{"index":1,"embedding":[2]}]}`,                        // no vector
		`{"data":[{"index":0,"embedding":[1]},{"index":1,"embedding":[2]}]`,         // truncated
		`{"data":[{"index":0,"embedding":[1]},{"index":1,"embedding":[2]},]}`,       // trailing comma
	} {
		if _, err := indexedVectors([]byte(bad), 2); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// FuzzIndexedVectors: whatever indexedVectors accepts is valid JSON whose
// data[i].embedding, placed by data[i].index, is what it returned.
func FuzzIndexedVectors(f *testing.F) {
	f.Add(`{"data":[{"index":1,"embedding":[3,4]},{"index":0,"embedding":[1,2]}],"usage":{"a":[1,"x",null]}}`, 2)
	f.Add(`{"data":[]}`, 0)
	f.Fuzz(func(t *testing.T, in string, n int) {
		if n < 0 || n > 64 {
			return
		}
		got, err := indexedVectors([]byte(in), n)
		if err != nil {
			return
		}
		if !json.Valid([]byte(in)) {
			t.Fatalf("%q accepted, but it is not valid JSON", in)
		}
		var ref struct {
			Data []struct {
				Index     *int       `json:"index"`
				Embedding *[]float64 `json:"embedding"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(in), &ref); err != nil {
			t.Fatalf("%q accepted, encoding/json: %v", in, err)
		}
		if len(ref.Data) != n {
			t.Fatalf("%q: %d objects, %d vectors", in, len(ref.Data), n)
		}
		for _, d := range ref.Data {
			if d.Index == nil || d.Embedding == nil {
				t.Fatalf("%q: accepted an object without index or embedding", in)
			}
			for j, x := range *d.Embedding {
				if got[*d.Index][j] != float32(x) {
					t.Fatalf("%q: [%d][%d] = %v, want %v", in, *d.Index, j, got[*d.Index][j], float32(x))
				}
			}
		}
	})
}
