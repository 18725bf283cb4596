// Package llmtest serves in-process fakes of the chat providers' wire
// formats, for tests and benchmarks that must not touch the network:
// Cohere's Chat API v2 (SSE), OCI Generative AI's chat action in the
// COHERE and GENERIC formats (SSE, signed requests), OpenAI-compatible
// chat completions (SSE with [DONE]) and Ollama's /api/chat (NDJSON).
//
// Each fake checks a request the way the real service would — method,
// path, credentials, required fields, the option names and ranges the API
// accepts, unknown fields refused — and records it exactly (headers, raw
// body, decoded body), so a test can assert what reached the wire. It
// streams a configurable answer in pieces, with the provider's own events
// for citations and usage, and can inject the failures a client must
// survive: error statuses with Retry-After, latency, a connection cut
// mid-answer, a stream that goes quiet.
//
// The fakes speak the wire formats only; they do not import kura's llm
// package, so its own tests can use them.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Options configure a fake.
type Options struct {
	// Key is the API key the fake accepts ("" accepts any). OCI fakes
	// ignore it and require a request signature instead.
	Key string
	// EchoKey makes a rejected request's error message repeat the
	// Authorization header, as some gateways do, so tests can check the
	// client keeps it out of its errors.
	EchoKey bool
	// Reply is the answer streamed (default [DefaultReply]).
	Reply string
	// PieceRunes is the characters per streamed piece (default 4).
	PieceRunes int
	// Citations are the citations a grounding fake (Cohere, OCI COHERE)
	// emits. nil means one citation of the first sentence of the reply
	// by the first document sent, when documents were sent.
	Citations []Citation
	// Usage is the token count reported (default 120 in, 30 out).
	InputTokens, OutputTokens int
	// Latency delays the first event; Interval separates the pieces.
	Latency, Interval time.Duration
	// Statuses answers the first calls with these HTTP statuses (429,
	// 500, 401...) and a JSON error body, then streams normally.
	Statuses []int
	// RetryAfter is sent with those error statuses ("" sends none).
	RetryAfter string
	// CutAfter drops the connection after that many pieces (0: never),
	// without the stream's end marker.
	CutAfter int
	// StallAfter stops sending after that many pieces and keeps the
	// connection open until the client gives up (0: never).
	StallAfter int
}

// DefaultReply is the answer the fakes stream by default.
const DefaultReply = "GitOpsは、Gitを唯一の情報源とする宣言的な運用手法です。Argo CDがクラスタを同期します[1]。"

// Citation is a span of the reply, in characters (code points, as Cohere
// counts), supported by documents.
type Citation struct {
	Start, End  int
	DocumentIDs []string
}

// Request is what a fake recorded of one call, failed calls included.
type Request struct {
	Method string
	Host   string
	Path   string
	Query  string
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	opts Options

	mu          sync.Mutex
	calls       int
	requests    []Request
	disconnects int
	// Hook, if set, may answer a call itself (fault injection); it gets
	// the 1-based call number and returns true if it wrote a response.
	Hook func(call int, w http.ResponseWriter, r *http.Request) bool
}

// Calls is the number of requests received.
func (s *Server) Calls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls }

// Disconnects is the number of streams the client abandoned while the
// fake was still answering (a cancelled request, a client that gave up on
// a stalled stream).
func (s *Server) Disconnects() int { s.mu.Lock(); defer s.mu.Unlock(); return s.disconnects }

// Requests returns the recorded requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Last returns the last recorded request (the zero Request if none).
func (s *Server) Last() Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Request{}
	}
	return s.requests[len(s.requests)-1]
}

// wire is one provider's format.
type wire struct {
	path func(string) bool
	// auth checks the credentials; it returns the status and error body
	// of a rejection, or 0.
	auth func(h http.Header, o Options) (int, map[string]any)
	// check validates the decoded body.
	check func(body map[string]any) error
	// errorBody is the provider's JSON error shape.
	errorBody func(status int, msg string) map[string]any
	// stream writes the answer.
	stream func(s *streamWriter, body map[string]any)
}

func newServer(o Options, wf wire) *Server {
	if o.Reply == "" {
		o.Reply = DefaultReply
	}
	if o.PieceRunes <= 0 {
		o.PieceRunes = 4
	}
	if o.InputTokens == 0 && o.OutputTokens == 0 {
		o.InputTokens, o.OutputTokens = 120, 30
	}
	s := &Server{opts: o}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.handle(wf, w, r) }))
	return s
}

func (s *Server) handle(wf wire, w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	jsonErr := json.Unmarshal(raw, &body)
	s.mu.Lock()
	s.calls++
	call := s.calls
	s.requests = append(s.requests, Request{Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Raw: raw, Body: body})
	s.mu.Unlock()
	if s.Hook != nil && s.Hook(call, w, r) {
		return
	}
	fail := func(status int, msg string) {
		if status == http.StatusTooManyRequests || status >= 500 {
			if s.opts.RetryAfter != "" {
				w.Header().Set("Retry-After", s.opts.RetryAfter)
			}
		}
		writeJSON(w, status, wf.errorBody(status, msg))
	}
	if r.Method != http.MethodPost || !wf.path(r.URL.Path) {
		fail(http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
		return
	}
	if status, b := wf.auth(r.Header, s.opts); status != 0 {
		writeJSON(w, status, b)
		return
	}
	if call <= len(s.opts.Statuses) {
		status := s.opts.Statuses[call-1]
		fail(status, strings.ToLower(http.StatusText(status)))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fail(http.StatusBadRequest, "content type "+ct)
		return
	}
	if jsonErr != nil {
		fail(http.StatusBadRequest, "invalid JSON: "+jsonErr.Error())
		return
	}
	if err := wf.check(body); err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	if s.opts.Latency > 0 {
		select {
		case <-time.After(s.opts.Latency):
		case <-r.Context().Done():
			return
		}
	}
	sw := &streamWriter{w: w, r: r, o: s.opts, srv: s}
	wf.stream(sw, body)
}

// streamWriter writes a stream's events, flushing each one, and carries
// out the injected faults.
type streamWriter struct {
	w      http.ResponseWriter
	r      *http.Request
	o      Options
	srv    *Server
	pieces int
}

// gone records a client that went away mid-stream.
func (s *streamWriter) gone() {
	s.srv.mu.Lock()
	s.srv.disconnects++
	s.srv.mu.Unlock()
}

// header starts the stream with its content type.
func (s *streamWriter) header(contentType string) {
	s.w.Header().Set("Content-Type", contentType)
	s.w.Header().Set("Cache-Control", "no-cache")
	s.w.WriteHeader(http.StatusOK)
}

// write sends raw bytes and flushes them.
func (s *streamWriter) write(b []byte) {
	s.w.Write(b)
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

// piece is called before each content piece is written; it returns
// false when the stream must stop here (after cutting or stalling it).
func (s *streamWriter) piece() bool {
	if s.r.Context().Err() != nil {
		s.gone()
		return false
	}
	if s.pieces > 0 && s.o.Interval > 0 {
		select {
		case <-time.After(s.o.Interval):
		case <-s.r.Context().Done():
			s.gone()
			return false
		}
	}
	if s.o.CutAfter > 0 && s.pieces >= s.o.CutAfter {
		// Abort the response: the server closes the connection without
		// the chunked encoding's last chunk, as a crashed upstream does.
		panic(http.ErrAbortHandler)
	}
	if s.o.StallAfter > 0 && s.pieces >= s.o.StallAfter {
		<-s.r.Context().Done()
		s.gone()
		return false
	}
	s.pieces++
	return true
}

// pieces splits the reply into pieces of n characters.
func pieces(reply string, n int) []string {
	var out []string
	for len(reply) > 0 {
		end, count := 0, 0
		for end < len(reply) && count < n {
			_, size := utf8.DecodeRuneInString(reply[end:])
			end += size
			count++
		}
		out = append(out, reply[:end])
		reply = reply[end:]
	}
	return out
}

// defaultCitations cites the reply's first sentence with the first
// document, as a grounded model would.
func defaultCitations(o Options, docIDs []string) []Citation {
	if o.Citations != nil {
		return o.Citations
	}
	if len(docIDs) == 0 {
		return nil
	}
	end := strings.IndexAny(o.Reply, "。.")
	if end < 0 {
		end = len(o.Reply)
	}
	return []Citation{{Start: 0, End: utf8.RuneCountInString(o.Reply[:end]), DocumentIDs: docIDs[:1]}}
}

// runeSlice returns the characters [start, end) of s.
func runeSlice(s string, start, end int) string {
	r := []rune(s)
	start, end = max(0, min(start, len(r))), max(0, min(end, len(r)))
	if end < start {
		return ""
	}
	return string(r[start:end])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// bearer checks an Authorization: Bearer key.
func bearer(h http.Header, o Options) (int, map[string]any) {
	got := h.Get("Authorization")
	if o.Key == "" || got == "Bearer "+o.Key {
		return 0, nil
	}
	msg := "invalid api token"
	if o.EchoKey {
		msg += " (got " + got + ")"
	}
	return http.StatusUnauthorized, map[string]any{"message": msg}
}
