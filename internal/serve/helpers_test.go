package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/serve"
	"github.com/kura-rag/kura/internal/server"
	"github.com/kura-rag/kura/internal/split"
)

// The documents every test collection starts with: Japanese and English,
// and one whose text tries to run script where it is rendered.
var seedDocs = map[string]string{
	"gitops.md": "---\ntitle: GitOps入門\n---\n\nGitOpsとは、Gitリポジトリを唯一の信頼できる情報源として、インフラとアプリケーションの望ましい状態を宣言的に管理する運用手法です。\n\n" +
		"Argo CDはKubernetes向けのGitOpsツールで、リポジトリの変更を検知してクラスタに同期します。\n",
	"tekton.txt": "Tekton is a Kubernetes-native framework for building CI/CD pipelines. Pipelines are made of tasks that run in pods.\n",
	"untrusted.md": "---\ntitle: Untrusted <b>markup</b>\n---\n\nThe zebrafish manual says <script>alert('script')</script> " +
		"and <img src=x onerror=\"alert('onerror')\"> and [click me](javascript:alert('link')) about zebrafish care.\n",
}

// seed ingests seedDocs into collection docs of a new data directory,
// through the application layer the server will open.
func seed(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	for name, text := range seedDocs {
		writeFile(t, filepath.Join(docs, name), text)
	}
	data := filepath.Join(dir, "kura-data")
	a, err := app.Open(context.Background(), app.Options{DataDir: data, Collection: "docs"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Ingest(context.Background(), app.IngestRequest{Paths: []string{docs}, Splitter: split.DefaultOptions()}); err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer collects the server's log lines from many goroutines.
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

// site is a running `kura serve` (serve.Run) on a real port.
type site struct {
	t      *testing.T
	url    string
	data   string
	key    string
	rec    serve.Record
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	http   *http.Client
}

// start runs serve.Run on data with the collection docs as default;
// change adjusts the options first.
func start(t *testing.T, data string, change func(*serve.Options)) *site {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ready := make(chan serve.Record, 1)
	o := serve.Options{
		App: app.Options{DataDir: data, Collection: "docs"},
		Server: server.Config{
			Logger:   slog.New(slog.NewTextHandler(logs, nil)),
			SpoolDir: t.TempDir(),
			Version:  "test",
		},
		Listener: ln,
		Ready:    func(r serve.Record) { ready <- r },
	}
	if change != nil {
		change(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &site{t: t, data: data, logs: logs, cancel: cancel, done: make(chan error, 1),
		http: &http.Client{Timeout: time.Minute}}
	go func() { s.done <- serve.Run(ctx, o) }()
	select {
	case s.rec = <-ready:
	case err := <-s.done:
		t.Fatalf("serve.Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start")
	}
	s.url = s.rec.URL
	t.Cleanup(func() {
		if s.cancel != nil {
			s.stop()
		}
	})
	return s
}

// stop shuts the server down and returns Run's error.
func (s *site) stop() error {
	s.t.Helper()
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		return err
	case <-time.After(time.Minute):
		s.t.Fatal("the server did not stop")
		return nil
	}
}

func (s *site) request(method, path, ctype string, body io.Reader) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if s.key != "" {
		req.Header.Set("Authorization", "Bearer "+s.key)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// call sends body as JSON (nil: none) and decodes the JSON answer into
// out (nil: discard); it returns the status and the raw answer.
func (s *site) call(method, path string, body, out any) (int, string) {
	s.t.Helper()
	var r io.Reader
	ctype := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		r, ctype = bytes.NewReader(b), "application/json"
	}
	resp := s.request(method, path, ctype, r)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, string(raw)
}

// must is call that expects status want.
func (s *site) must(want int, method, path string, body, out any) string {
	s.t.Helper()
	code, raw := s.call(method, path, body, out)
	if code != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	return raw
}

// event is one Server-Sent Event.
type event struct {
	name string
	data string
}

func (e event) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(e.data), v); err != nil {
		t.Fatalf("event %s: %v in %s", e.name, err, e.data)
	}
}

// readEvents reads a stream to its end.
func readEvents(t *testing.T, r io.Reader) []event {
	t.Helper()
	var out []event
	var cur event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" || cur.data != "" {
				out = append(out, cur)
			}
			cur = event{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data += strings.TrimPrefix(line, "data: ")
		}
	}
	return out
}

// stream posts body as JSON and reads the event stream it answers.
func (s *site) stream(path string, body any) []event {
	s.t.Helper()
	b, _ := json.Marshal(body)
	resp := s.request("POST", path, "application/json", bytes.NewReader(b))
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		raw, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("POST %s: %s %s: %s", path, resp.Status, resp.Header.Get("Content-Type"), raw)
	}
	return readEvents(s.t, resp.Body)
}

// upload posts files (name → content) to /api/v1/ingest with the extra
// form fields, and returns the status and the job (when accepted).
func (s *site) upload(files map[string]string, fields map[string]string) (int, api.IngestJob, string) {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for name, text := range files {
		w, err := mw.CreateFormFile("files", name)
		if err != nil {
			s.t.Fatal(err)
		}
		io.WriteString(w, text)
	}
	mw.Close()
	resp := s.request("POST", "/api/v1/ingest", mw.FormDataContentType(), &buf)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var job api.IngestJob
	if resp.StatusCode == http.StatusAccepted {
		if err := json.Unmarshal(raw, &job); err != nil {
			s.t.Fatal(err)
		}
	}
	return resp.StatusCode, job, string(raw)
}

// waitJob follows a job's event stream to its end and returns the final
// state and the events seen.
func (s *site) waitJob(id string) (api.IngestJob, []event) {
	s.t.Helper()
	resp := s.request("GET", "/api/v1/ingest/"+id+"/events", "", nil)
	defer resp.Body.Close()
	evs := readEvents(s.t, resp.Body)
	if len(evs) == 0 || evs[len(evs)-1].name != "done" {
		s.t.Fatalf("job %s: events %v", id, evs)
	}
	var job api.IngestJob
	evs[len(evs)-1].decode(s.t, &job)
	return job, evs
}

func names(evs []event) string {
	var b strings.Builder
	for i, e := range evs {
		if i > 0 && e.name == evs[i-1].name {
			continue
		}
		fmt.Fprintf(&b, "%s ", e.name)
	}
	return strings.TrimSpace(b.String())
}
