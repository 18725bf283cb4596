// Package embedtest serves fakes of the embedding providers' wire formats
// over in-process HTTP, for tests and benchmarks that must not touch the
// network: Cohere's v2 embed API, the OpenAI embeddings API, Ollama's
// /api/embed and OCI Generative AI's EmbedText. Each fake checks the
// request the way the real service would (method, path, headers, required
// body fields, batch limits), answers with the documented response shape,
// and can inject latency and failures.
package embedtest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a fake.
type Options struct {
	// Dim is the length of the vectors returned (default 8).
	Dim int
	// Latency delays every answer (the benchmark uses 300 ms).
	Latency time.Duration
	// Fail429Every answers 429 to every n-th call (1-based: calls n, 2n...).
	Fail429Every int
	// RetryAfter is sent with those 429s ("" sends none).
	RetryAfter string
	// Key is the API key the fake accepts ("" accepts any).
	Key string
}

// Request is what a fake recorded of one call.
type Request struct {
	Host      string
	Path      string
	Raw       []byte
	Header    http.Header
	Body      map[string]any
	Texts     []string
	InputType string
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	calls    int
	texts    int
	requests []Request
	// Hook, if set, may answer a call itself (fault injection); it gets
	// the 1-based call number and returns true if it wrote a response.
	Hook func(call int, w http.ResponseWriter, r *http.Request) bool
}

// Calls is the number of requests received, failures included.
func (s *Server) Calls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls }

// Texts is the number of texts embedded in successful answers.
func (s *Server) Texts() int { s.mu.Lock(); defer s.mu.Unlock(); return s.texts }

// Requests returns the recorded requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Vector is the deterministic unit vector a fake returns for text, so a
// test can check that each text got its own vector back. Coordinates are
// float32 values, as real services return, drawn from a generator seeded
// with the text's SHA-256 (cheap, so the fake does not steal the CPU a
// benchmark measures).
func Vector(text string, dim int) []float64 {
	seed := sha256.Sum256([]byte(text))
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:16])))
	v := make([]float64, dim)
	var norm float64
	for i := range v {
		x := rng.Float64()*2 - 1
		v[i] = x
		norm += x * x
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] = float64(float32(v[i] / norm))
	}
	return v
}

// wire describes one provider's format.
type wire struct {
	path    func(string) bool
	auth    func(http.Header, string) bool
	texts   func(map[string]any) ([]string, string, error) // texts, input type
	answer  func(body map[string]any, texts []string, dim int) map[string]any
	maxText int
}

func (s *Server) handle(wf wire) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls++
		call := s.calls
		s.mu.Unlock()
		// Read the body first, as real servers do: it also lets net/http
		// notice a client that hangs up, which cancels r.Context().
		raw, _ := io.ReadAll(r.Body)
		if s.opts.Latency > 0 {
			select {
			case <-time.After(s.opts.Latency):
			case <-r.Context().Done():
				return
			}
		}
		if s.Hook != nil && s.Hook(call, w, r) {
			return
		}
		if s.opts.Fail429Every > 0 && call%s.opts.Fail429Every == 0 {
			if s.opts.RetryAfter != "" {
				w.Header().Set("Retry-After", s.opts.RetryAfter)
			}
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "You are using a Trial key, which is limited to 100 API calls / minute."})
			return
		}
		if r.Method != http.MethodPost || !wf.path(r.URL.Path) {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)})
			return
		}
		if !wf.auth(r.Header, s.opts.Key) {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "invalid api token"})
			return
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "content type " + ct})
			return
		}
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "invalid JSON: " + err.Error()})
			return
		}
		texts, inputType, err := wf.texts(body)
		if err == nil && wf.maxText > 0 && len(texts) > wf.maxText {
			err = fmt.Errorf("too many texts: %d, the limit is %d", len(texts), wf.maxText)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
			return
		}
		dim := s.opts.Dim
		if d, ok := body["dimensions"].(float64); ok && d > 0 {
			dim = int(d)
		}
		s.mu.Lock()
		s.texts += len(texts)
		s.requests = append(s.requests, Request{Host: r.Host, Path: r.URL.Path, Raw: raw, Header: r.Header.Clone(), Body: body, Texts: texts, InputType: inputType})
		s.mu.Unlock()
		writeAnswer(w, wf.answer(body, texts, dim))
	}
}

// vectorsToken stands for the vectors of texts in an answer until
// writeAnswer writes them itself.
type vectorsToken struct {
	texts []string
	dim   int
}

// encoded memoises each text's printed vector: a benchmark sends the same
// texts run after run, and the fake shares the CPU with the client it
// serves, which a real provider does not.
var encoded sync.Map // "dim\x00text" -> []byte

func encodedVector(text string, dim int) []byte {
	key := strconv.Itoa(dim) + "\x00" + text
	if b, ok := encoded.Load(key); ok {
		return b.([]byte)
	}
	buf := []byte{'['}
	for j, x := range Vector(text, dim) {
		if j > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendFloat(buf, x, 'g', -1, 32)
	}
	buf = append(buf, ']')
	encoded.Store(key, buf)
	return buf
}

// vectorJSON is one memoised vector inside an answer (OpenAI's data[]).
type vectorJSON struct {
	text string
	dim  int
}

func (v vectorJSON) MarshalJSON() ([]byte, error) { return encodedVector(v.text, v.dim), nil }

// writeAnswer writes v as JSON, with the vectors printed as services do:
// the shortest decimal form of each float32 (about 10 characters), where
// encoding/json would print 17 digits.
func writeAnswer(w http.ResponseWriter, v map[string]any) {
	var vecs *vectorsToken
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for k, x := range m {
			switch x := x.(type) {
			case vectorsToken:
				vecs = &x
				m[k] = placeholder
			case map[string]any:
				walk(x)
			}
		}
	}
	walk(v)
	env, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if vecs == nil {
		w.Write(env)
		return
	}
	before, after, _ := strings.Cut(string(env), `"`+placeholder+`"`)
	buf := make([]byte, 0, len(env)+len(vecs.texts)*(vecs.dim*12+2)+2)
	buf = append(buf, before...)
	buf = append(buf, '[')
	for i, t := range vecs.texts {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, encodedVector(t, vecs.dim)...)
	}
	buf = append(buf, ']')
	buf = append(buf, after...)
	w.Write(buf)
}

const placeholder = "@@kura-fake-vectors@@"

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func newServer(o Options, wf wire) *Server {
	if o.Dim == 0 {
		o.Dim = 8
	}
	s := &Server{opts: o}
	s.Server = httptest.NewServer(s.handle(wf))
	return s
}

func stringList(v any, field string) ([]string, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, fmt.Errorf("%s must be a non-empty array of strings", field)
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is not a string", field, i)
		}
		out[i] = s
	}
	return out, nil
}

func bearer(h http.Header, key string) bool {
	got := h.Get("Authorization")
	if key == "" {
		return true
	}
	return got == "Bearer "+key
}

// NewCohere fakes Cohere's POST /v2/embed: texts (at most 96), model,
// input_type, embedding_types containing "float" and truncate are
// required, as kura always sends them; the answer is
// {"id", "embeddings": {"float": [...]}, "texts", "meta"}.
func NewCohere(o Options) *Server {
	return newServer(o, wire{
		path:    func(p string) bool { return strings.HasSuffix(p, "/v2/embed") }, // behind a gateway prefix too
		auth:    bearer,
		maxText: 96,
		texts: func(b map[string]any) ([]string, string, error) {
			texts, err := stringList(b["texts"], "texts")
			if err != nil {
				return nil, "", err
			}
			it, _ := b["input_type"].(string)
			if it != "search_document" && it != "search_query" {
				return nil, "", fmt.Errorf("input_type %q", it)
			}
			if m, _ := b["model"].(string); m == "" {
				return nil, "", fmt.Errorf("model is required")
			}
			types, _ := b["embedding_types"].([]any)
			if len(types) != 1 || types[0] != "float" {
				return nil, "", fmt.Errorf("embedding_types %v, want [float]", b["embedding_types"])
			}
			if t, _ := b["truncate"].(string); t != "NONE" && t != "START" && t != "END" {
				return nil, "", fmt.Errorf("truncate %q", b["truncate"])
			}
			return texts, it, nil
		},
		answer: func(b map[string]any, texts []string, dim int) map[string]any {
			return map[string]any{"id": "fake", "embeddings": map[string]any{"float": vectorsToken{texts, dim}}, "texts": b["texts"],
				"meta": map[string]any{"api_version": map[string]any{"version": "2"}, "billed_units": map[string]any{"input_tokens": 1}}}
		},
	})
}

// NewOpenAI fakes POST /v1/embeddings: model and input (array) required,
// encoding_format "float"; the answer lists the vectors in reverse order,
// each with its index, as the API allows, so a client that trusts the
// order misaligns.
func NewOpenAI(o Options) *Server {
	return newServer(o, wire{
		path: func(p string) bool { return p == "/v1/embeddings" },
		auth: bearer,
		texts: func(b map[string]any) ([]string, string, error) {
			if m, _ := b["model"].(string); m == "" {
				return nil, "", fmt.Errorf("model is required")
			}
			if f, ok := b["encoding_format"]; ok && f != "float" {
				return nil, "", fmt.Errorf("encoding_format %v", f)
			}
			texts, err := stringList(b["input"], "input")
			return texts, "", err
		},
		answer: func(b map[string]any, texts []string, dim int) map[string]any {
			data := make([]any, 0, len(texts))
			for i := len(texts) - 1; i >= 0; i-- {
				data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": vectorJSON{texts[i], dim}})
			}
			return map[string]any{"object": "list", "data": data, "model": b["model"],
				"usage": map[string]any{"prompt_tokens": 1, "total_tokens": 1}}
		},
	})
}

// NewOllama fakes POST /api/embed: model and input required; the answer
// is {"model", "embeddings"}.
func NewOllama(o Options) *Server {
	return newServer(o, wire{
		path: func(p string) bool { return p == "/api/embed" },
		auth: func(http.Header, string) bool { return true },
		texts: func(b map[string]any) ([]string, string, error) {
			if m, _ := b["model"].(string); m == "" {
				return nil, "", fmt.Errorf("model is required")
			}
			texts, err := stringList(b["input"], "input")
			return texts, "", err
		},
		answer: func(b map[string]any, texts []string, dim int) map[string]any {
			return map[string]any{"model": b["model"], "embeddings": vectorsToken{texts, dim}, "total_duration": 1000, "prompt_eval_count": 3}
		},
	})
}

// NewOCI fakes POST /20231130/actions/embedText: inputs (at most 96),
// servingMode, compartmentId and inputType required, and a request
// signature in the Authorization header (its format only; tests verify
// the signature itself with the key they generated). The answer is
// {"id", "embeddings", "modelId"}.
func NewOCI(o Options) *Server {
	return newServer(o, wire{
		path: func(p string) bool { return p == "/20231130/actions/embedText" },
		auth: func(h http.Header, _ string) bool {
			return strings.HasPrefix(h.Get("Authorization"), `Signature version="1",`)
		},
		maxText: 96,
		texts: func(b map[string]any) ([]string, string, error) {
			texts, err := stringList(b["inputs"], "inputs")
			if err != nil {
				return nil, "", err
			}
			sm, _ := b["servingMode"].(map[string]any)
			if sm == nil || (sm["modelId"] == nil && sm["endpointId"] == nil) {
				return nil, "", fmt.Errorf("servingMode is required")
			}
			if c, _ := b["compartmentId"].(string); c == "" {
				return nil, "", fmt.Errorf("compartmentId is required")
			}
			it, _ := b["inputType"].(string)
			if it != "SEARCH_DOCUMENT" && it != "SEARCH_QUERY" {
				return nil, "", fmt.Errorf("inputType %q", it)
			}
			return texts, it, nil
		},
		answer: func(b map[string]any, texts []string, dim int) map[string]any {
			sm, _ := b["servingMode"].(map[string]any)
			return map[string]any{"id": "fake", "embeddings": vectorsToken{texts, dim}, "modelId": sm["modelId"], "modelVersion": "3.0"}
		},
	})
}
