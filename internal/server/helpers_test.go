package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kura-rag/kura/internal/server"
	"github.com/kura-rag/kura/internal/server/servertest"
)

// corpus is what every test's fake collection holds.
var corpus = []struct{ source, title, text string }{
	{"docs/gitops.md", "GitOps", "GitOpsとは、Gitを信頼できる唯一の情報源としてインフラを管理する手法です。\n\nArgo CDはGitOpsのツールで、リポジトリとクラスタの状態を同期します。"},
	{"docs/cicd.md", "CI/CD", "CI/CDはビルド、テスト、デプロイを自動化する仕組みです。継続的インテグレーションでは変更ごとにテストを実行します。"},
	{"docs/en.md", "English", "Kura answers questions from your documents. Every answer cites its sources."},
}

func newFake(t *testing.T, dir string) *servertest.Fake {
	t.Helper()
	f, err := servertest.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range corpus {
		f.AddDocument("kura", d.source, d.title, d.text)
	}
	return f
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t    *testing.T
	fake *servertest.Fake
	srv  *server.Server
	ts   *httptest.Server
	log  *syncBuffer
	key  string
}

func newEnv(t *testing.T, cfg server.Config) *env {
	t.Helper()
	e := &env{t: t, log: &syncBuffer{}}
	if cfg.Backend == nil {
		e.fake = newFake(t, "")
		cfg.Backend = e.fake
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(e.log, nil))
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = t.TempDir()
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewUnstartedServer(srv.Handler())
	hs := srv.HTTPServer("")
	e.ts.Config.ReadTimeout, e.ts.Config.WriteTimeout = hs.ReadTimeout, hs.WriteTimeout
	e.ts.Start()
	t.Cleanup(e.ts.Close)
	return e
}

// do sends a request with a JSON body (nil: none) and returns the
// response with its body read.
func (e *env) do(method, path string, body any, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// wantError checks an error response's status, code and, if given, field.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code, field string) {
	t.Helper()
	var eb struct {
		Error struct{ Code, Message, Field string }
	}
	if err := json.Unmarshal(body, &eb); err != nil || resp.StatusCode != status || eb.Error.Code != code || (field != "" && eb.Error.Field != field) {
		t.Fatalf("got %d %s, want %d %s (field %s)", resp.StatusCode, body, status, code, field)
	}
	if eb.Error.Message == "" || strings.Contains(eb.Error.Message, "--") {
		t.Fatalf("message %q: empty or names a flag", eb.Error.Message)
	}
}

type event struct {
	name string
	data string
}

// readSSE reads a stream until it ends, returning events and comments.
func readSSE(t *testing.T, r io.Reader) (events []event, comments int) {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var cur event
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" || cur.data != "" {
				events = append(events, cur)
			}
			cur = event{}
		case strings.HasPrefix(line, ":"):
			comments++
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	return events, comments
}

// stream posts body to path and returns the open response.
func (e *env) stream(ctx context.Context, path string, body any) *http.Response {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, "POST", e.ts.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}
