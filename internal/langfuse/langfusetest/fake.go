// Package langfusetest is an in-process fake of the parts of Langfuse kura
// talks to: the OTLP/HTTP traces endpoint (decoded with the OTLP protobuf
// definitions, gzip or not), the scores API and the prompts API, all behind
// Basic auth with a project key pair. It records what it receives so tests
// can assert on the exact wire traffic, and it fails on demand: an error
// status before or after doing the work (a lost response), a request that
// never gets an answer, or — through [RefusedURL] and [Blackhole] — a
// collector that refuses connections or accepts them and never answers.
//
// It is a fake of the wire protocol only; nothing here says that a real
// Langfuse shows the data the same way.
package langfusetest

import (
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// The key pair every fake accepts.
const (
	PublicKey = "pk-lf-fake-0123"
	SecretKey = "sk-lf-fake-secret-4567"
)

// Route names an endpoint for fault injection.
type Route string

const (
	RouteTraces  Route = "traces"  // POST /api/public/otel/v1/traces
	RouteScores  Route = "scores"  // POST /api/public/scores
	RoutePrompts Route = "prompts" // GET /api/public/v2/prompts/{name}
)

// Fault is how an injected failure behaves.
type Fault int

const (
	// FailBefore answers the status without doing the work.
	FailBefore Fault = iota
	// FailAfter does the work, then answers the status: the client sees a
	// failure although the request took effect (a lost response).
	FailAfter
	// Hang never answers; the request ends when the client gives up or the
	// fake is closed.
	Hang
)

type fault struct {
	kind   Fault
	status int
}

// Span is one received span, decoded.
type Span struct {
	TraceID, SpanID, ParentSpanID string // hex
	Name                          string
	Kind                          string
	Start, End                    time.Time
	Attrs                         map[string]any // string, int64, float64, bool or []any
	Events                        []Event
	StatusCode                    string
	StatusMessage                 string
	Resource                      map[string]any
	Scope                         string
}

// Event is a span event.
type Event struct {
	Name  string
	Time  time.Time
	Attrs map[string]any
}

// Str returns a string attribute, or "".
func (s Span) Str(key string) string {
	v, _ := s.Attrs[key].(string)
	return v
}

// Export is one OTLP export request as received.
type Export struct {
	Header      http.Header
	Gzip        bool
	ContentType string
	Spans       int
	Status      int // what the fake answered
}

// Score is one score as stored (the last write for its id).
type Score struct {
	ID            string   `json:"id"`
	TraceID       string   `json:"traceId"`
	ObservationID string   `json:"observationId,omitempty"`
	Name          string   `json:"name"`
	Value         *float64 `json:"value"`
	DataType      string   `json:"dataType,omitempty"`
	Comment       string   `json:"comment,omitempty"`
}

// Prompt is a prompt version the fake serves.
type Prompt struct {
	Name     string
	Version  int
	Labels   []string
	Type     string // "text" or "chat"
	Text     string
	Messages []Message
	Config   map[string]any
}

// Message is one message of a chat prompt. A placeholder has Placeholder
// set and no role.
type Message struct {
	Role        string
	Content     string
	Placeholder string
}

// Server is the fake.
type Server struct {
	URL string

	srv     *httptest.Server
	closing chan struct{}
	once    sync.Once

	mu             sync.Mutex
	spans          []Span
	exports        []Export
	scores         map[string]Score
	scoreOrder     []string
	scoreRequests  int
	prompts        []Prompt
	promptRequests int
	authFailures   int
	faults         map[Route][]fault
}

// New starts a fake that is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		closing: make(chan struct{}),
		scores:  map[string]Score{},
		faults:  map[Route][]fault{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/public/otel/v1/traces", s.traces)
	mux.HandleFunc("POST /api/public/scores", s.score)
	mux.HandleFunc("GET /api/public/v2/prompts/{name...}", s.prompt)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close releases hanging requests and stops the fake.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.srv.Close()
	})
}

// Inject makes the next n requests to route fail with f (status is the
// HTTP status of FailBefore and FailAfter).
func (s *Server) Inject(route Route, f Fault, status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[route] = append(s.faults[route], fault{f, status})
	}
}

// nextFault pops the next injected fault of route.
func (s *Server) nextFault(route Route) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[route]
	if len(q) == 0 {
		return fault{}, false
	}
	s.faults[route] = q[1:]
	return q[0], true
}

// hang blocks until the client gives up or the fake closes.
func (s *Server) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.closing:
	}
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(PublicKey+":"+SecretKey))
	if r.Header.Get("Authorization") == want {
		return true
	}
	s.mu.Lock()
	s.authFailures++
	s.mu.Unlock()
	writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Invalid credentials. Confirm that you've configured the correct host."})
	return false
}

func (s *Server) traces(w http.ResponseWriter, r *http.Request) {
	f, faulty := s.nextFault(RouteTraces)
	if faulty && f.kind == Hang {
		s.hang(r)
		return
	}
	if faulty && f.kind == FailBefore {
		s.recordExport(r, 0, f.status)
		http.Error(w, "injected failure", f.status)
		return
	}
	if !s.authorized(w, r) {
		s.recordExport(r, 0, http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		s.recordExport(r, 0, http.StatusUnsupportedMediaType)
		http.Error(w, "want application/x-protobuf, got "+ct, http.StatusUnsupportedMediaType)
		return
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, 32<<20)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			s.recordExport(r, 0, http.StatusBadRequest)
			http.Error(w, "bad gzip: "+err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		s.recordExport(r, 0, http.StatusBadRequest)
		http.Error(w, "cannot read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		s.recordExport(r, 0, http.StatusBadRequest)
		http.Error(w, "bad OTLP protobuf: "+err.Error(), http.StatusBadRequest)
		return
	}
	spans := decode(&req)
	status := http.StatusOK
	if faulty { // FailAfter
		status = f.status
	}
	s.mu.Lock()
	s.spans = append(s.spans, spans...)
	s.mu.Unlock()
	s.recordExport(r, len(spans), status)
	if status != http.StatusOK {
		http.Error(w, "injected failure after ingest", status)
		return
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (s *Server) recordExport(r *http.Request, spans, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exports = append(s.exports, Export{
		Header:      r.Header.Clone(),
		Gzip:        r.Header.Get("Content-Encoding") == "gzip",
		ContentType: r.Header.Get("Content-Type"),
		Spans:       spans,
		Status:      status,
	})
}

func (s *Server) score(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.scoreRequests++
	s.mu.Unlock()
	f, faulty := s.nextFault(RouteScores)
	if faulty && f.kind == Hang {
		s.hang(r)
		return
	}
	if faulty && f.kind == FailBefore {
		writeJSON(w, f.status, map[string]string{"message": "injected failure"})
		return
	}
	if !s.authorized(w, r) {
		return
	}
	var sc Score
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&sc); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "invalid JSON: " + err.Error()})
		return
	}
	if sc.Name == "" || sc.TraceID == "" || sc.Value == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "name, traceId and value are required"})
		return
	}
	if sc.ID == "" {
		sc.ID = randomHex(16)
	}
	s.mu.Lock()
	if _, seen := s.scores[sc.ID]; !seen {
		s.scoreOrder = append(s.scoreOrder, sc.ID)
	}
	s.scores[sc.ID] = sc // an id that exists is updated, as Langfuse does
	s.mu.Unlock()
	if faulty { // FailAfter
		writeJSON(w, f.status, map[string]string{"message": "injected failure after write"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": sc.ID})
}

func (s *Server) prompt(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.promptRequests++
	s.mu.Unlock()
	f, faulty := s.nextFault(RoutePrompts)
	if faulty && f.kind == Hang {
		s.hang(r)
		return
	}
	if faulty && f.kind == FailBefore {
		writeJSON(w, f.status, map[string]string{"message": "injected failure"})
		return
	}
	if !s.authorized(w, r) {
		return
	}
	name := r.PathValue("name")
	q := r.URL.Query()
	label, version := q.Get("label"), q.Get("version")
	if label != "" && version != "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Cannot specify both label and version"})
		return
	}
	p, ok := s.find(name, label, version)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "LangfuseNotFoundError", "message": "Prompt not found"})
		return
	}
	body := map[string]any{
		"name": p.Name, "version": p.Version, "labels": p.Labels, "tags": []string{},
		"type": p.Type, "config": p.Config,
	}
	if body["config"] == nil {
		body["config"] = map[string]any{}
	}
	if p.Type == "chat" {
		msgs := make([]map[string]string, len(p.Messages))
		for i, m := range p.Messages {
			if m.Placeholder != "" {
				msgs[i] = map[string]string{"type": "placeholder", "name": m.Placeholder}
			} else {
				msgs[i] = map[string]string{"type": "chatmessage", "role": m.Role, "content": m.Content}
			}
		}
		body["prompt"] = msgs
	} else {
		body["prompt"] = p.Text
	}
	if faulty { // FailAfter
		writeJSON(w, f.status, map[string]string{"message": "injected failure"})
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// find picks the prompt version as Langfuse does: an exact version, else
// the newest version carrying label ("production" by default; "latest" is
// the newest version).
func (s *Server) find(name, label, version string) (Prompt, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *Prompt
	for i := range s.prompts {
		p := &s.prompts[i]
		if p.Name != name {
			continue
		}
		if version != "" {
			if strconv.Itoa(p.Version) == version {
				return *p, true
			}
			continue
		}
		want := label
		if want == "" {
			want = "production"
		}
		if want != "latest" && !contains(p.Labels, want) {
			continue
		}
		if best == nil || p.Version > best.Version {
			best = p
		}
	}
	if best == nil {
		return Prompt{}, false
	}
	return *best, true
}

// AddPrompt makes the fake serve p.
func (s *Server) AddPrompt(p Prompt) {
	if p.Type == "" {
		p.Type = "text"
	}
	s.mu.Lock()
	s.prompts = append(s.prompts, p)
	s.mu.Unlock()
}

// Spans returns every span received so far.
func (s *Server) Spans() []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Span(nil), s.spans...)
}

// WaitSpans waits until at least n spans have arrived and returns them.
func (s *Server) WaitSpans(t testing.TB, n int, timeout time.Duration) []Span {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		spans := s.Spans()
		if len(spans) >= n {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("langfusetest: %d spans after %v, want %d", len(spans), timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Exports returns the OTLP export requests received so far.
func (s *Server) Exports() []Export {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Export(nil), s.exports...)
}

// Scores returns the stored scores in the order they were first created.
func (s *Server) Scores() []Score {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Score, 0, len(s.scoreOrder))
	for _, id := range s.scoreOrder {
		out = append(out, s.scores[id])
	}
	return out
}

// ScoreRequests counts POST /api/public/scores requests, failed ones
// included.
func (s *Server) ScoreRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scoreRequests
}

// PromptRequests counts prompt requests, failed ones included.
func (s *Server) PromptRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.promptRequests
}

// AuthFailures counts requests refused for bad credentials.
func (s *Server) AuthFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authFailures
}

// RefusedURL returns a base URL on which nothing listens: connections are
// refused at once.
func RefusedURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("langfusetest: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// Blackhole returns a base URL whose server accepts connections and never
// reads or answers. It stops when the test ends.
func Blackhole(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("langfusetest: %v", err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

func decode(req *coltracepb.ExportTraceServiceRequest) []Span {
	var out []Span
	for _, rs := range req.GetResourceSpans() {
		res := attrMap(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				d := Span{
					TraceID:       hex.EncodeToString(sp.GetTraceId()),
					SpanID:        hex.EncodeToString(sp.GetSpanId()),
					ParentSpanID:  hex.EncodeToString(sp.GetParentSpanId()),
					Name:          sp.GetName(),
					Kind:          sp.GetKind().String(),
					Start:         time.Unix(0, int64(sp.GetStartTimeUnixNano())),
					End:           time.Unix(0, int64(sp.GetEndTimeUnixNano())),
					Attrs:         attrMap(sp.GetAttributes()),
					StatusCode:    sp.GetStatus().GetCode().String(),
					StatusMessage: sp.GetStatus().GetMessage(),
					Resource:      res,
					Scope:         ss.GetScope().GetName(),
				}
				for _, e := range sp.GetEvents() {
					d.Events = append(d.Events, Event{
						Name: e.GetName(), Time: time.Unix(0, int64(e.GetTimeUnixNano())), Attrs: attrMap(e.GetAttributes()),
					})
				}
				out = append(out, d)
			}
		}
	}
	return out
}

func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = anyValue(kv.GetValue())
	}
	return m
}

func anyValue(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_BytesValue:
		return x.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		arr := make([]any, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			arr = append(arr, anyValue(e))
		}
		return arr
	case *commonpb.AnyValue_KvlistValue:
		return attrMap(x.KvlistValue.GetValues())
	}
	return nil
}

// AllText returns every string in a span (name, attributes, events,
// status, resource), for tests that assert something appears nowhere.
func (s Span) AllText() string {
	var b strings.Builder
	b.WriteString(s.Name + "\n" + s.StatusMessage + "\n")
	writeAll(&b, s.Attrs)
	writeAll(&b, s.Resource)
	for _, e := range s.Events {
		b.WriteString(e.Name + "\n")
		writeAll(&b, e.Attrs)
	}
	return b.String()
}

func writeAll(b *strings.Builder, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "%s=%v\n", k, m[k])
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
