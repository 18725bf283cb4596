package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/api"
)

func TestReadEvents(t *testing.T) {
	stream := ": keep-alive\n\nevent: progress\ndata: {\"files_done\":1}\n\n" +
		"event: problem\ndata: {\"source\":\"a\",\ndata: \"message\":\"x\"}\n\n" +
		"data: plain\n\n" +
		"event: done\ndata: {}" // no blank line before EOF
	type ev struct{ name, data string }
	var got []ev
	err := readEvents(strings.NewReader(stream), func(name string, data []byte) error {
		got = append(got, ev{name, string(data)})
		return nil
	})
	want := []ev{{"progress", `{"files_done":1}`}, {"problem", "{\"source\":\"a\",\n\"message\":\"x\"}"}, {"message", "plain"}, {"done", "{}"}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	// errStop ends the stream quietly; another error is returned.
	n := 0
	err = readEvents(strings.NewReader(stream), func(string, []byte) error { n++; return errStop })
	if err != nil || n != 1 {
		t.Fatalf("errStop: %v after %d events", err, n)
	}
	boom := errors.New("boom")
	if err := readEvents(strings.NewReader(stream), func(string, []byte) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("error: %v", err)
	}
}

func FuzzReadEvents(f *testing.F) {
	f.Add("event: done\ndata: {}\n\n")
	f.Add(": c\r\ndata\n\nevent:\ndata:x\n")
	f.Add(strings.Repeat("data: a\n", 100))
	f.Fuzz(func(t *testing.T, s string) {
		events := 0
		err := readEvents(strings.NewReader(s), func(name string, data []byte) error {
			if name == "" {
				t.Fatal("an event without a name")
			}
			events++
			return nil
		})
		if err != nil && !strings.Contains(err.Error(), "token too long") {
			t.Fatalf("readEvents: %v", err)
		}
		if events > strings.Count(s, "\n")+1 {
			t.Fatalf("%d events from %d lines", events, strings.Count(s, "\n")+1)
		}
	})
}

// TestClientAgainstAServer: uploads arrive as multipart with the options
// and the files; a job is followed to its end; errors keep their code.
func TestClientAgainstAServer(t *testing.T) {
	var gotFiles []string
	var gotFields map[string][]string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/ingest", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"code":"unauthorized","message":"no key"}}`)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			t.Error(err)
		}
		gotFields = r.MultipartForm.Value
		for _, fh := range r.MultipartForm.File["files"] {
			gotFiles = append(gotFiles, fh.Filename)
		}
		w.WriteHeader(202)
		io.WriteString(w, `{"job_id":"job_1","state":"running"}`)
	})
	mux.HandleFunc("GET /api/v1/ingest/job_1/events", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "event: progress\ndata: {\"files_done\":1}\n\nevent: problem\ndata: {\"source\":\"b.txt\",\"message\":\"b.txt: skipped\"}\n\n")
		io.WriteString(w, "event: done\ndata: {\"job_id\":\"job_1\",\"state\":\"done\",\"summary\":{\"files\":1}}\n\n")
	})
	mux.HandleFunc("GET /api/v1/ingest/job_2/events", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "event: error\ndata: {\"error\":{\"code\":\"not_found\",\"message\":\"no ingest job\"}}\n\n")
	})
	mux.HandleFunc("DELETE /api/v1/collections/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		io.WriteString(w, `{"error":{"code":"not_found","field":"collection","message":"collection \"x\" does not exist"}}`)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	ts := httptest.NewServer(mux)
	defer ts.Close()

	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.md"), filepath.Join(dir, "b.txt")
	os.WriteFile(a, []byte("# a"), 0o644)
	os.WriteFile(b, []byte("b"), 0o644)
	ctx := context.Background()

	c, err := New(ts.URL+"/", "k")
	if err != nil || !c.Healthy(ctx, time.Second) {
		t.Fatalf("healthy: %v", err)
	}
	job, err := c.Ingest(ctx, api.IngestOptions{Collection: "docs", Set: []string{"a=1", "b=2"}, ChunkSize: 100}, []string{a, b})
	if err != nil || job.JobID != "job_1" {
		t.Fatalf("%+v %v", job, err)
	}
	if strings.Join(gotFiles, ",") != "a.md,b.txt" || fmt.Sprint(gotFields["set"]) != "[a=1 b=2]" || gotFields["collection"][0] != "docs" || gotFields["chunk_size"][0] != "100" || gotFields["splitter"] != nil {
		t.Fatalf("files %v fields %v", gotFiles, gotFields)
	}
	var events []api.Event
	final, err := c.WatchIngest(ctx, "job_1", func(ev api.Event) { events = append(events, ev) })
	if err != nil || final.State != api.JobDone || final.Summary.Files != 1 || len(events) != 2 {
		t.Fatalf("%+v %v %v", final, err, events)
	}
	var ae *api.Error
	if _, err := c.WatchIngest(ctx, "job_2", nil); !errors.As(err, &ae) || ae.Code != api.CodeNotFound {
		t.Fatalf("error event: %v", err)
	}
	if err := c.DropCollection(ctx, "x"); !errors.As(err, &ae) || ae.Code != api.CodeNotFound || ae.Field != "collection" {
		t.Fatalf("drop: %v", err)
	}
	nokey, _ := New(ts.URL, "")
	if _, err := nokey.Ingest(ctx, api.IngestOptions{}, []string{a}); !errors.As(err, &ae) || ae.Code != api.CodeUnauthorized {
		t.Fatalf("no key: %v", err)
	}
	for _, bad := range []string{"ftp://x", "http://", "http://u:p@host", "::"} {
		if _, err := New(bad, ""); err == nil || strings.Contains(err.Error(), ":p@") {
			t.Errorf("New(%q): %v", bad, err)
		}
	}
}
