package embed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/embed/embedtest"
	"github.com/kura-rag/kura/internal/provider"
)

const testKey = "co-test-SECRET-key-1234"

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("テキスト%d: GitOpsの同期", i)
	}
	return out
}

// aligned checks that vector i is the fake's vector for text i.
func aligned(t *testing.T, in []string, vs [][]float32, dim int) {
	t.Helper()
	if len(vs) != len(in) {
		t.Fatalf("%d vectors for %d texts", len(vs), len(in))
	}
	for i, text := range in {
		want := embedtest.Vector(text, dim)
		if len(vs[i]) != dim {
			t.Fatalf("vector %d has %d dims, want %d", i, len(vs[i]), dim)
		}
		for j := range want {
			if d := float64(vs[i][j]) - want[j]; d > 1e-6 || d < -1e-6 {
				t.Fatalf("vector %d is not the vector of text %d (misaligned)", i, i)
			}
		}
	}
}

func newCohere(t *testing.T, url string, cfg Config) *Cohere {
	t.Helper()
	cfg.Endpoint, cfg.APIKey = url, testKey
	c, err := NewCohere(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCohereWireFormat(t *testing.T) {
	srv := embedtest.NewCohere(embedtest.Options{Key: testKey, Dim: 16})
	defer srv.Close()
	c := newCohere(t, srv.URL, Config{Model: "embed-test-model"})
	if c.Info().Dim != 0 {
		t.Fatalf("unknown model should have no dimension before the first call, got %d", c.Info().Dim)
	}
	in := texts(96)
	vs, err := c.Embed(context.Background(), in, ModeDocument)
	if err != nil {
		t.Fatal(err)
	}
	aligned(t, in, vs, 16)
	if c.Info().Dim != 16 {
		t.Fatalf("dimension not learnt: %d", c.Info().Dim)
	}
	if _, err := c.Embed(context.Background(), in[:2], ModeQuery); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Path != "/v2/embed" || r.Header.Get("Authorization") != "Bearer "+testKey {
		t.Fatalf("path %s, auth %q", r.Path, r.Header.Get("Authorization"))
	}
	want := map[string]any{"model": "embed-test-model", "input_type": "search_document", "embedding_types": []any{"float"}, "truncate": "END"}
	for k, v := range want {
		if !reflect.DeepEqual(r.Body[k], v) {
			t.Errorf("body %s = %v, want %v", k, r.Body[k], v)
		}
	}
	if reqs[1].InputType != "search_query" {
		t.Errorf("query mode sent input_type %q", reqs[1].InputType)
	}
	if _, err := c.Embed(context.Background(), texts(97), ModeDocument); err == nil {
		t.Fatal("a batch of 97 was sent")
	}
	if d := newCohere(t, srv.URL, Config{}).Info(); d.Model != DefaultCohereModel || d.Dim != 1024 {
		t.Fatalf("default model %+v", d)
	}
	if d := newCohere(t, srv.URL, Config{Truncate: "start", Dim: 256}); d.Info().Dim != 256 || d.truncate != "START" {
		t.Fatalf("truncate/dim: %+v", d)
	}
}

func TestOpenAIWireFormatAndIndexOrder(t *testing.T) {
	srv := embedtest.NewOpenAI(embedtest.Options{Key: "sk-test-abcdef", Dim: 12})
	defer srv.Close()
	o, err := NewOpenAI(Config{Endpoint: srv.URL + "/v1/", APIKey: "sk-test-abcdef", Model: "bge-m3", Dim: 12})
	if err != nil {
		t.Fatal(err)
	}
	in := texts(5)
	vs, err := o.Embed(context.Background(), in, ModeDocument)
	if err != nil {
		t.Fatal(err)
	}
	aligned(t, in, vs, 12) // the fake answers in reverse order
	r := srv.Requests()[0]
	if r.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer sk-test-abcdef" {
		t.Fatalf("path %s auth %q", r.Path, r.Header.Get("Authorization"))
	}
	if r.Body["model"] != "bge-m3" || r.Body["encoding_format"] != "float" || r.Body["dimensions"] != float64(12) {
		t.Fatalf("body %v", r.Body)
	}
	if _, err := NewOpenAI(Config{}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "OPENAI_API_KEY") {
		t.Fatalf("public endpoint without a key: %v", err)
	}
	// A local server needs no key and gets no Authorization header.
	open := embedtest.NewOpenAI(embedtest.Options{Dim: 12})
	defer open.Close()
	local, err := NewOpenAI(Config{Endpoint: open.URL + "/v1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.Embed(context.Background(), in[:1], ModeQuery); err != nil {
		t.Fatal(err)
	}
	r = open.Requests()[0]
	if _, ok := r.Body["dimensions"]; ok || r.Header.Get("Authorization") != "" {
		t.Fatalf("keyless request: %v %v", r.Body, r.Header)
	}
}

func TestOllamaWireFormat(t *testing.T) {
	srv := embedtest.NewOllama(embedtest.Options{Dim: 10})
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://") // OLLAMA_HOST is often host:port
	o, err := NewOllama(Config{Endpoint: host})
	if err != nil {
		t.Fatal(err)
	}
	in := texts(7)
	vs, err := o.Embed(context.Background(), in, ModeDocument)
	if err != nil {
		t.Fatal(err)
	}
	aligned(t, in, vs, 10)
	r := srv.Requests()[0]
	if r.Path != "/api/embed" || r.Body["model"] != DefaultOllamaModel || r.Body["truncate"] != true {
		t.Fatalf("request %s %v", r.Path, r.Body)
	}
	for raw, want := range map[string]string{"": "http://localhost:11434", "gpu-box": "http://gpu-box:11434", "https://ollama.example.com": "https://ollama.example.com:443", "0.0.0.0:8080": "http://0.0.0.0:8080"} {
		if got, err := ollamaHost(raw); err != nil || got != want {
			t.Errorf("ollamaHost(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	srv.Hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"model \"bge-m3\" not found, try pulling it first"}`))
		return true
	}
	_, err = o.Embed(context.Background(), in, ModeDocument)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Retryable || !strings.Contains(err.Error(), "ollama pull bge-m3") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("404: %v", err)
	}
}

// faults runs one failure against the Cohere fake through the retry
// wrapper and returns the error, the calls made and the waits chosen.
func faults(t *testing.T, hook func(call int, w http.ResponseWriter, r *http.Request) bool, o RetryOptions) (error, int, []time.Duration) {
	t.Helper()
	srv := embedtest.NewCohere(embedtest.Options{Key: testKey})
	defer srv.Close()
	srv.Hook = hook
	var mu sync.Mutex
	var waits []time.Duration
	o.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	e := WithRetry(newCohere(t, srv.URL, Config{Model: "m"}), o)
	in := texts(3)
	vs, err := e.Embed(context.Background(), in, ModeDocument)
	if err == nil {
		aligned(t, in, vs, 8)
	}
	return err, srv.Calls(), waits
}

func status(code int, retryAfter, body string) func(int, http.ResponseWriter, *http.Request) bool {
	return func(call int, w http.ResponseWriter, _ *http.Request) bool {
		if call > 1 {
			return false
		}
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		w.Write([]byte(body))
		return true
	}
}

func TestRetryFaults(t *testing.T) {
	t.Run("429 with Retry-After", func(t *testing.T) {
		err, calls, waits := faults(t, status(429, "7", `{"message":"rate limited"}`), RetryOptions{})
		if err != nil || calls != 2 || len(waits) < 1 || waits[0] < 7*time.Second || waits[0] > 8*time.Second {
			t.Fatalf("err %v, calls %d, waits %v", err, calls, waits)
		}
	})
	t.Run("429 without Retry-After", func(t *testing.T) {
		err, calls, waits := faults(t, status(429, "", `{"message":"rate limited"}`), RetryOptions{BaseDelay: 100 * time.Millisecond})
		if err != nil || calls != 2 || len(waits) < 1 || waits[0] < 50*time.Millisecond || waits[0] > 150*time.Millisecond {
			t.Fatalf("err %v, calls %d, waits %v", err, calls, waits)
		}
	})
	t.Run("500", func(t *testing.T) {
		err, calls, _ := faults(t, status(500, "", `{"message":"internal"}`), RetryOptions{})
		if err != nil || calls != 2 {
			t.Fatalf("err %v, calls %d", err, calls)
		}
	})
	t.Run("slow past the timeout", func(t *testing.T) {
		slow := func(call int, w http.ResponseWriter, r *http.Request) bool {
			if call > 1 {
				return false
			}
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
			return true
		}
		err, calls, _ := faults(t, slow, RetryOptions{Timeout: 100 * time.Millisecond})
		if err != nil || calls != 2 {
			t.Fatalf("err %v, calls %d", err, calls)
		}
	})
	t.Run("connection reset", func(t *testing.T) {
		reset := func(call int, w http.ResponseWriter, _ *http.Request) bool {
			if call > 1 {
				return false
			}
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
				conn.Close()
			}
			return true
		}
		err, calls, _ := faults(t, reset, RetryOptions{})
		if err != nil || calls != 2 {
			t.Fatalf("err %v, calls %d", err, calls)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		always := func(int, http.ResponseWriter, *http.Request) bool { return false }
		_ = always
		err, calls, _ := faults(t, func(_ int, w http.ResponseWriter, _ *http.Request) bool {
			w.WriteHeader(503)
			return true
		}, RetryOptions{Attempts: 3})
		if err == nil || calls != 3 || !strings.Contains(err.Error(), "gave up after 3 attempts") || !strings.Contains(err.Error(), "503") {
			t.Fatalf("err %v, calls %d", err, calls)
		}
	})
	for _, tc := range []struct {
		code int
		hint string
	}{{400, "check the model"}, {401, "COHERE_API_KEY"}, {403, "COHERE_API_KEY"}, {404, "the model (m)"}} {
		t.Run(fmt.Sprintf("%d fails fast", tc.code), func(t *testing.T) {
			// The server echoes the key back, as some gateways do.
			err, calls, _ := faults(t, status(tc.code, "", `{"message":"bad token `+testKey+` for https://gw/x?api_key=abc123"}`), RetryOptions{})
			var ae *APIError
			if !errors.As(err, &ae) || ae.Retryable || ae.Status != tc.code || calls != 1 {
				t.Fatalf("err %v, calls %d", err, calls)
			}
			if !strings.Contains(err.Error(), tc.hint) {
				t.Fatalf("%q lacks the hint %q", err, tc.hint)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "abc123") {
				t.Fatalf("secret in error: %q", err)
			}
		})
	}
	t.Run("malformed JSON", func(t *testing.T) {
		err, calls, _ := faults(t, status(200, "", `{"id":"x","embeddings":{"float":[[0.1,}}`), RetryOptions{})
		var re *ResponseError
		if !errors.As(err, &re) || calls != 1 {
			t.Fatalf("err %v (%T), calls %d", err, err, calls)
		}
	})
	t.Run("truncated JSON", func(t *testing.T) {
		// A complete HTTP answer whose JSON stops short: a server bug,
		// not worth retrying.
		err, calls, _ := faults(t, status(200, "", `{"id":"x","embeddings":{"float":[[0.1,`), RetryOptions{})
		var re *ResponseError
		if !errors.As(err, &re) || calls != 1 {
			t.Fatalf("err %v, calls %d", err, calls)
		}
	})
	t.Run("connection cut mid-answer", func(t *testing.T) {
		cut := func(call int, w http.ResponseWriter, _ *http.Request) bool {
			if call > 1 {
				return false
			}
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(200)
			w.Write([]byte(`{"id":"x","embeddings":{"float":[[0.1,`))
			return true // the server closes the connection 99,960 bytes short
		}
		err, calls, _ := faults(t, cut, RetryOptions{})
		if err != nil || calls != 2 {
			t.Fatalf("err %v, calls %d", err, calls)
		}
	})
	t.Run("wrong vector count", func(t *testing.T) {
		err, calls, _ := faults(t, status(200, "", `{"id":"x","embeddings":{"float":[[0.1,0.2],[0.3,0.4]]}}`), RetryOptions{})
		var re *ResponseError
		if !errors.As(err, &re) || calls != 1 || !strings.Contains(err.Error(), "2 vectors for 3 texts") {
			t.Fatalf("err %v, calls %d", err, calls)
		}
	})
	t.Run("ragged vectors", func(t *testing.T) {
		err, _, _ := faults(t, status(200, "", `{"id":"x","embeddings":{"float":[[0.1,0.2],[0.3],[0.5,0.6]]}}`), RetryOptions{})
		var re *ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestRetryStopsOnCancel(t *testing.T) {
	srv := embedtest.NewCohere(embedtest.Options{Fail429Every: 1, RetryAfter: "30"})
	defer srv.Close()
	e := WithRetry(newCohere(t, srv.URL, Config{Model: "m"}), RetryOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.Embed(ctx, texts(1), ModeDocument)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestRateLimit(t *testing.T) {
	h, _ := NewHash(8)
	e := WithRetry(h, RetryOptions{RPS: 20})
	start := time.Now()
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Embed(context.Background(), []string{"a"}, ModeDocument)
		}()
	}
	wg.Wait()
	// Six calls at 20/s: the last starts 5 intervals (250 ms) after the first.
	if d := time.Since(start); d < 240*time.Millisecond {
		t.Fatalf("6 calls at 20 rps took %v", d)
	}
}

func TestSecretsStayOut(t *testing.T) {
	cfg := Config{Name: "cohere", APIKey: testKey}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, cfg); strings.Contains(s, testKey) {
			t.Errorf("%s leaks the key: %s", f, s)
		}
	}
	for in, bad := range map[string]string{
		"dial https://gw.example.com/v1?api_key=s3cr3t&x=1": "s3cr3t",
		"https://user:pa55word@proxy:8080/v2/embed":         "pa55word",
		"Authorization: Bearer abcdefghijklmnop":            "abcdefghijklmnop",
		"token " + testKey + " rejected":                    testKey,
	} {
		if got := provider.Redact(in, testKey); strings.Contains(got, bad) {
			t.Errorf("redact(%q) = %q", in, got)
		}
	}
	// A key that reaches a URL error (a gateway URL with ?key=) is cut.
	c := newCohere(t, "http://127.0.0.1:1/x?key=s3cr3t", Config{Model: "m"})
	_, err := c.Embed(context.Background(), texts(1), ModeDocument)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), testKey) {
		t.Fatalf("error %v", err)
	}
	if !IsRetryable(err) {
		t.Fatalf("a refused connection should be retryable: %v", err)
	}
}

func TestNewConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Name: "cohere"},
		{Name: "cohere", APIKey: "k", Endpoint: "not a url"},
		{Name: "cohere", APIKey: "k", Truncate: "middle"},
		{Name: "oci"},
		{Name: "oci", OCI: OCIConfig{CompartmentID: "ocid1.compartment.oc1..x", ConfigFile: "/nonexistent/config"}},
		{Name: "oci", OCI: OCIConfig{CompartmentID: "c", Auth: "magic"}},
	} {
		_, err := New(cfg)
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

// BenchmarkProviderBatch measures the client side of one batch of 96
// texts answered with 1024-dimensional vectors by each provider's fake
// (request encoding, HTTP, response decoding; the fake's vectors are
// memoised, so its own cost is small).
func BenchmarkProviderBatch(b *testing.B) {
	in := texts(96)
	ociPath := ""
	for _, tc := range []struct {
		name string
		srv  func() *embedtest.Server
		cfg  func(url string) Config
	}{
		{"cohere", func() *embedtest.Server { return embedtest.NewCohere(embedtest.Options{Dim: 1024}) },
			func(u string) Config { return Config{Name: "cohere", Endpoint: u, APIKey: "k"} }},
		{"ollama", func() *embedtest.Server { return embedtest.NewOllama(embedtest.Options{Dim: 1024}) },
			func(u string) Config { return Config{Name: "ollama", Endpoint: u} }},
		{"openai", func() *embedtest.Server { return embedtest.NewOpenAI(embedtest.Options{Dim: 1024}) },
			func(u string) Config { return Config{Name: "openai", Endpoint: u + "/v1"} }},
		{"oci", func() *embedtest.Server { return embedtest.NewOCI(embedtest.Options{Dim: 1024}) },
			func(u string) Config {
				return Config{Name: "oci", Endpoint: u, OCI: OCIConfig{ConfigFile: ociPath, Profile: "KURA", CompartmentID: ociCompartment}}
			}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.name == "oci" {
				ociPath, _ = ociConfig(b)
			}
			srv := tc.srv()
			defer srv.Close()
			e, err := New(tc.cfg(srv.URL))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Embed(context.Background(), in, ModeDocument); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestEndpointKeepsGatewayQuery(t *testing.T) {
	srv := embedtest.NewCohere(embedtest.Options{})
	defer srv.Close()
	var query string
	srv.Hook = func(_ int, _ http.ResponseWriter, r *http.Request) bool {
		query = r.URL.RawQuery
		return false
	}
	c := newCohere(t, srv.URL+"/gw/?tenant=a&sig=s3cr3t", Config{Model: "m"})
	if _, err := c.Embed(context.Background(), texts(1), ModeDocument); err != nil {
		t.Fatal(err)
	}
	if r := srv.Requests()[0]; r.Path != "/gw/v2/embed" || query != "tenant=a&sig=s3cr3t" {
		t.Fatalf("path %s query %s", r.Path, query)
	}
}
