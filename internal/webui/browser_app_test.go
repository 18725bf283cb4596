package webui_test

// The web chat in headless Chromium against a real `kura serve`: the HTTP
// server over the application layer (internal/serve), on a temporary
// data directory ingested by the real pipeline. The other browser tests
// use the fake backend to reach corners the real one cannot be steered
// into; these check that the UI and the real backend agree.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/llm/llmtest"
	"github.com/kura-rag/kura/internal/serve"
	"github.com/kura-rag/kura/internal/server"
	"github.com/kura-rag/kura/internal/split"
)

// appSite is a running serve.Run.
type appSite struct {
	url  string
	stop func()
}

// ingestCorpus ingests the browser tests' corpus into collection kura of
// a new data directory with the real pipeline.
func ingestCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range corpus {
		path := filepath.Join(dir, d.source)
		os.MkdirAll(filepath.Dir(path), 0o755)
		text := "---\ntitle: " + d.title + "\n---\n\n" + d.text + "\n"
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "kura-data")
	a, err := app.Open(context.Background(), app.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Ingest(context.Background(), app.IngestRequest{Paths: []string{filepath.Join(dir, "docs")}, Splitter: split.DefaultOptions()}); err != nil {
		t.Fatal(err)
	}
	return data
}

// startApp serves data on addr ("" for a free port) with answers from
// llm (nil: the extractive answerer).
func startApp(t *testing.T, data, addr string, llm *llmtest.Server) *appSite {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	o := serve.Options{
		App:      app.Options{DataDir: data},
		Server:   server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SpoolDir: t.TempDir()},
		Listener: ln,
	}
	if llm != nil {
		o.App.Answers = app.AnswerDefaults{LLM: "openai", Model: "gpt-test"}
		o.App.Providers = app.Providers{Endpoints: map[string]string{"openai": llm.URL + "/v1"}, OpenAIKey: "sk-test"}
	}
	ready := make(chan serve.Record, 1)
	o.Ready = func(r serve.Record) { ready <- r }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve.Run(ctx, o) }()
	var rec serve.Record
	select {
	case rec = <-ready:
	case err := <-done:
		t.Fatalf("serve.Run: %v", err)
	}
	s := &appSite{url: "http://" + ln.Addr().String()}
	var stopped bool
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve.Run: %v", err)
		}
	}
	t.Cleanup(s.stop)
	if rec.DataDir == "" {
		t.Fatal("no discovery record")
	}
	return s
}

// TestBrowserRealJourney: ask → the answer streams in → a citation opens
// its source → faces feedback with a comment is stored in the app's
// history → a reload and a server restart keep the conversation.
func TestBrowserRealJourney(t *testing.T) {
	b := newBrowser(t)
	llm := llmtest.NewOpenAI(llmtest.Options{PieceRunes: 2, Interval: 40 * time.Millisecond})
	defer llm.Close()
	data := ingestCorpus(t)
	s := startApp(t, data, "", llm)
	b.open(s.url + "/?lang=en")
	if got := eval[string](b, `document.querySelector('#set-llm').value`); got != "openai" {
		t.Fatalf("the sidebar's answerer is %q, not the server's default", got)
	}
	b.ask("GitOpsとは何ですか")
	b.wait(`document.querySelector('.answer.streaming .answer-text') && document.querySelector('.answer-text').textContent.length > 0`)
	first := eval[int](b, `document.querySelector('.answer-text').textContent.length`)
	b.wait(fmt.Sprintf(`document.querySelector('.answer-text').textContent.length > %d`, first))
	if !eval[bool](b, `!!document.querySelector('.answer.streaming')`) {
		t.Fatal("the answer arrived in one piece, not streamed")
	}
	b.wait(`document.querySelector('.turn[data-answer-id]')`)
	answerID := eval[string](b, `document.querySelector('.turn').dataset.answerId`)
	if n := eval[int](b, `document.querySelectorAll('.source-list li').length`); n == 0 {
		t.Fatal("no sources listed")
	}
	b.do(chromedp.Click(chromedp.CSS(`.answer-text button.cite[data-n="1"]`)))
	b.wait(`document.querySelector('#cite-dialog').open`)
	title := eval[string](b, `document.querySelector('#cite-title').textContent`)
	meta := eval[string](b, `document.querySelector('#cite-meta').textContent`)
	mark := eval[string](b, `document.querySelector('#cite-text mark.cited') ? document.querySelector('#cite-text mark.cited').textContent : ''`)
	chunk := eval[string](b, `document.querySelector('#cite-text').textContent`)
	if !strings.Contains(title, "GitOps入門") || !strings.Contains(meta, "docs/gitops.md") || !strings.Contains(chunk, "GitOps") || !strings.Contains(chunk, mark) {
		t.Fatalf("citation dialog: title %q meta %q mark %q chunk %q", title, meta, mark, chunk)
	}
	b.do(chromedp.Click(chromedp.CSS(`#cite-dialog button[value=close]`)))
	b.wait(`!document.querySelector('#cite-dialog').open`)

	// Faces with a comment.
	b.do(chromedp.Click(chromedp.CSS(`.fb[data-value="0.75"]`)))
	b.wait(`!document.querySelector('.feedback-form').hidden`)
	b.do(chromedp.SetValue(chromedp.CSS(".feedback-comment"), "出典が分かりやすい"), chromedp.Click(chromedp.CSS(".feedback-submit")))
	b.wait(`document.querySelector('.feedback-status').textContent.length > 0 && !document.querySelector('.feedback-status').classList.contains('error')`)

	// A second turn, then a reload.
	b.ask("Argo CDは何をしますか")
	b.wait(`document.querySelectorAll('.turn[data-answer-id]').length === 2`)
	b.wait(`document.querySelectorAll('#conv-list .conv').length === 1`)
	answer := eval[string](b, `document.querySelector('.turn:nth-child(2) .answer-text').textContent`)
	check := func(when string) {
		t.Helper()
		b.open(s.url + "/?lang=en")
		b.wait(`document.querySelectorAll('.turn[data-answer-id]').length === 2`)
		if got := eval[string](b, `document.querySelector('.turn:nth-child(2) .answer-text').textContent`); got != answer {
			t.Fatalf("after %s the answer reads %q, want %q", when, got, answer)
		}
		if got := eval[string](b, `document.querySelector('.turn').dataset.answerId`); got != answerID {
			t.Fatalf("after %s the first turn is %q, want %q", when, got, answerID)
		}
	}
	check("a reload")

	// The rating is in the app's history, read with the server stopped.
	addr := strings.TrimPrefix(s.url, "http://")
	b.do(chromedp.Navigate("about:blank"))
	s.stop()
	a, err := app.Open(context.Background(), app.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := a.Trace(context.Background(), "default", answerID)
	a.Close()
	if err != nil || rec.Feedback == nil || rec.Feedback.Value != 0.75 || rec.Feedback.Kind != api.FeedbackFaces || rec.Feedback.Comment != "出典が分かりやすい" {
		t.Fatalf("stored feedback %+v, %v", rec.Feedback, err)
	}
	s = startApp(t, data, addr, llm)
	check("a server restart")
}

// TestBrowserRealUntrustedDocument: a document carrying <script>,
// onerror= and javascript: links, uploaded and ingested by the real
// pipeline, runs nothing wherever the UI shows it.
func TestBrowserRealUntrustedDocument(t *testing.T) {
	b := newBrowser(t)
	data := ingestCorpus(t)
	s := startApp(t, data, "", nil)
	payload := "---\ntitle: <script>window.__xss='title'</script>\n---\n\n" +
		`ペイロード試験 <script>window.__xss='script'</script> <img src=x onerror="window.__xss='img'"> ` +
		`[ここをクリック](javascript:window.__xss='link') <a href="javascript:window.__xss='a'">a</a> ` +
		`<svg onload="window.__xss='svg'"></svg> **太字**` + "\n"
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("files", `evil<img src=x onerror=alert(1)>.md`)
	io.WriteString(w, payload)
	mw.Close()
	resp, err := http.Post(s.url+"/api/v1/ingest", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("upload: %s", resp.Status)
	}
	// The upload's job is quick; wait until the payload is searchable.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := http.Post(s.url+"/api/v1/search", "application/json", strings.NewReader(`{"query": "ペイロード試験", "k": 1}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if strings.Contains(string(body), "upload/evil") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload never became searchable: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.open(s.url + "/?lang=en")
	b.ask("ペイロード試験")
	b.wait(`document.querySelector('.turn[data-answer-id]')`)
	text := eval[string](b, `document.querySelector('#turns').textContent`)
	if !strings.Contains(text, "ペイロード試験") {
		t.Fatalf("the payload's document was not shown: %q", text)
	}
	b.do(chromedp.Click(chromedp.CSS(`.source-link`)))
	b.wait(`document.querySelector('#cite-dialog').open`)
	if got := eval[string](b, `document.querySelector('#cite-text').textContent`); !strings.Contains(got, "<script>") || !strings.Contains(got, "onerror=") {
		t.Fatalf("the source is not shown as text: %q", got)
	}
	b.do(chromedp.Click(chromedp.CSS(`#cite-dialog button[value=close]`)))
	if eval[int](b, `document.querySelectorAll('.answer-text button.cite').length`) > 0 {
		b.do(chromedp.Click(chromedp.CSS(`.answer-text button.cite`)))
		b.wait(`document.querySelector('#cite-dialog').open`)
		b.do(chromedp.Click(chromedp.CSS(`#cite-dialog button[value=close]`)))
	}
	eval[bool](b, `[...document.querySelectorAll('#turns a')].forEach(a => a.click()) || true`)
	time.Sleep(200 * time.Millisecond)
	if v := eval[string](b, `String(window.__xss)`); v != "undefined" {
		t.Fatalf("injected code ran: window.__xss = %s", v)
	}
	bad := eval[int](b, `document.querySelectorAll('#turns script, #turns img, #turns iframe, #turns svg, #turns [onerror], #turns [onload], #turns a[href^="javascript:"], #cite-dialog script, #cite-dialog img').length`)
	if bad != 0 {
		t.Fatalf("%d active elements made from document text", bad)
	}
	b.open(s.url + "/traces?lang=en")
	b.do(chromedp.Click(chromedp.CSS("tr.trace")))
	b.wait(`!document.querySelector('#trace-detail').hidden`)
	if v := eval[string](b, `String(window.__xss)`); v != "undefined" {
		t.Fatalf("injected code ran on the trace page: %s", v)
	}
}
