package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/llm/llmtest"
)

// fakeStreams records the response body each fake streams for a valid
// request with the sources as documents: the exact bytes a provider
// sends, to replay without a network.
func fakeStreams(tb testing.TB, o llmtest.Options) map[string][]byte {
	tb.Helper()
	msgs := []map[string]any{{"role": "user", "content": "GitOpsとは何ですか"}}
	bodies := map[string]struct {
		fake func(llmtest.Options) *llmtest.Server
		path string
		req  map[string]any
	}{
		"cohere": {llmtest.NewCohere, "/v2/chat", map[string]any{"model": "m", "stream": true, "messages": msgs,
			"documents": []any{map[string]any{"id": "1", "data": map[string]any{"snippet": "GitOps"}}}}},
		"openai": {llmtest.NewOpenAI, "/v1/chat/completions", map[string]any{"model": "m", "stream": true, "messages": msgs,
			"stream_options": map[string]any{"include_usage": true}}},
		"ollama": {llmtest.NewOllama, "/api/chat", map[string]any{"model": "m", "stream": true, "messages": msgs}},
		"oci": {llmtest.NewOCI, "/20231130/actions/chat", map[string]any{"compartmentId": "c",
			"servingMode": map[string]any{"servingType": "ON_DEMAND", "modelId": "cohere.command-a-03-2025"},
			"chatRequest": map[string]any{"apiFormat": "COHERE", "message": "q", "isStream": true,
				"streamOptions": map[string]any{"isIncludeUsage": true}, "documents": []any{map[string]any{"id": "1", "snippet": "GitOps"}}}}},
		"oci-generic": {llmtest.NewOCI, "/20231130/actions/chat", map[string]any{"compartmentId": "c",
			"servingMode": map[string]any{"servingType": "ON_DEMAND", "modelId": "meta.llama-3.3-70b-instruct"},
			"chatRequest": map[string]any{"apiFormat": "GENERIC", "isStream": true, "streamOptions": map[string]any{"isIncludeUsage": true},
				"messages": []any{map[string]any{"role": "USER", "content": []any{map[string]any{"type": "TEXT", "text": "q"}}}}}}},
	}
	out := map[string][]byte{}
	for name, b := range bodies {
		srv := b.fake(o)
		raw, _ := json.Marshal(b.req)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+b.path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", `Signature version="1",keyId="x"`) // the shape OCI's fake checks
		req.Header.Set("X-Content-Sha256", "x")
		req.Header.Set("Date", "x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != 200 {
			tb.Fatalf("%s: %d %s", name, resp.StatusCode, body)
		}
		out[name] = body
	}
	return out
}

// replay is a transport that answers every request with a recorded
// stream, so a benchmark measures kura and the SDK, not a socket.
type replay struct {
	body        []byte
	contentType string
}

func (r replay) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {r.contentType}}, Body: io.NopCloser(bytes.NewReader(r.body)), Request: req}, nil
}

// benchPieces is the answer length of the benchmarks: 1,000 pieces of
// 4 characters, a long answer.
const benchPieces = 1000

func benchReply() string {
	r := []rune(strings.Repeat(llmtest.DefaultReply, benchPieces*4/len([]rune(llmtest.DefaultReply))+1))
	return string(r[:benchPieces*4])
}

// BenchmarkDecode measures kura's own work per streamed piece: reading
// the event from the body, decoding its JSON, accumulating the answer and
// calling emit (which does nothing here), for each stream format.
func BenchmarkDecode(b *testing.B) {
	streams := fakeStreams(b, llmtest.Options{Reply: benchReply(), PieceRunes: 4})
	for _, name := range []string{"cohere", "oci", "oci-generic", "ollama"} {
		body := streams[name]
		decode := decoders[strings.TrimSuffix(name, "-generic")]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				a, _ := testAnswer(sources)
				a.emit = func(Event) error { return nil }
				if err := decode(body, a); err != nil || !a.done {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchPieces, "ns/piece")
		})
	}
}

// BenchmarkStream measures a whole Stream call of 1,000 pieces through
// each client against a replayed stream: request building (and signing,
// for OCI), the HTTP client, the SDK's decoding (OpenAI), kura's
// decoding and emit. ns/piece is the per-piece cost with the per-request
// cost spread over the answer.
func BenchmarkStream(b *testing.B) {
	streams := fakeStreams(b, llmtest.Options{Reply: benchReply(), PieceRunes: 4})
	path, _ := ociFile(b)
	for _, tc := range []struct {
		name, stream, contentType string
		cfg                       Config
	}{
		{"cohere", "cohere", "text/event-stream", Config{Provider: "cohere", APIKey: "k"}},
		{"oci", "oci", "text/event-stream", Config{Provider: "oci", Endpoint: "https://inference.example.com"}},
		{"oci-generic", "oci-generic", "text/event-stream", Config{Provider: "oci", Endpoint: "https://inference.example.com", Model: "meta.llama-3.3-70b-instruct"}},
		{"openai", "openai", "text/event-stream", Config{Provider: "openai", APIKey: "k"}},
		{"ollama", "ollama", "application/x-ndjson", Config{Provider: "ollama"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := tc.cfg
			cfg.OCI.ConfigFile, cfg.OCI.Profile, cfg.OCI.CompartmentID = path, "CHICAGO", llmtest.OCICompartment
			cfg.HTTPClient = &http.Client{Transport: replay{streams[tc.stream], tc.contentType}}
			c := mustNew(b, cfg)
			req := question(sources...)
			pieces := 0
			emit := func(ev Event) error {
				if ev.Delta != "" {
					pieces++
				}
				return nil
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Stream(context.Background(), req, emit); err != nil {
					b.Fatal(err)
				}
			}
			if pieces != b.N*benchPieces {
				b.Fatalf("%d pieces in %d runs", pieces, b.N)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchPieces, "ns/piece")
		})
	}
}
