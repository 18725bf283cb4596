package webui_test

// These tests drive the web chat in a real headless Chromium (Debian's
// chromium package; .ci/run installs it) against the server over the fake
// backend. Without /usr/bin/chromium they skip.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/server"
	"github.com/kura-rag/kura/internal/server/servertest"
)

const chromiumPath = "/usr/bin/chromium"

var corpus = []struct{ source, title, text string }{
	{"docs/gitops.md", "GitOps入門", "GitOpsとは、Gitを信頼できる唯一の情報源としてインフラを管理する手法です。\n\nArgo CDはGitOpsのツールで、リポジトリとクラスタの状態を同期します。"},
	{"docs/cicd.md", "CI/CD", "CI/CDはビルド、テスト、デプロイを自動化する仕組みです。継続的インテグレーションでは変更ごとにテストを実行します。"},
}

// browser is one headless Chromium with a fresh profile, recording the
// page's uncaught exceptions and any dialog it opens (a dialog is what
// injected script would most likely open; none of kura's pages opens one).
type browser struct {
	t       *testing.T
	ctx     context.Context
	mu      sync.Mutex
	dialogs []string
	errors  []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no %s: install Debian's chromium (apt-get install chromium) to run the browser tests", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "ja"),
		chromedp.Flag("accept-lang", "ja-JP,ja"),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				b.mu.Lock()
				b.errors = append(b.errors, m.String())
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(b.checkClean)
	return b
}

// checkClean fails the test if the page threw, logged an error or opened
// a dialog.
func (b *browser) checkClean() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		if strings.Contains(e, "401") { // the key prompt test's first request
			continue
		}
		b.t.Errorf("page error: %s", e)
	}
	if len(b.dialogs) > 0 {
		b.t.Errorf("the page opened dialogs: %q", b.dialogs)
	}
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// wait polls a JavaScript condition until it holds.
func (b *browser) wait(cond string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if eval[bool](b, "!!("+cond+")") {
			return
		}
		time.Sleep(30 * time.Millisecond)
	}
	b.t.Fatalf("timed out waiting for %s", cond)
}

func (b *browser) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
	b.wait(`document.body.dataset.ready === 'true'`)
}

// ask types question and presses Enter.
func (b *browser) ask(question string) {
	b.t.Helper()
	b.do(chromedp.Focus(chromedp.ID("question")), chromedp.SetValue(chromedp.ID("question"), question), chromedp.KeyEvent(kb.Enter))
}

// site is the server under test on a real port.
type site struct {
	t    *testing.T
	fake *servertest.Fake
	url  string
	stop func()
}

func startSite(t *testing.T, dir, addr string, cfg server.Config) *site {
	t.Helper()
	fake, err := servertest.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range corpus {
		fake.AddDocument("kura", d.source, d.title, d.text)
	}
	cfg.Backend = fake
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.SpoolDir = t.TempDir()
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	s := &site{t: t, fake: fake, url: "http://" + ln.Addr().String(), stop: func() { cancel(); <-done }}
	t.Cleanup(s.stop)
	return s
}

func TestBrowserAskStreamsAndCitationOpensSource(t *testing.T) {
	b := newBrowser(t)
	s := startSite(t, "", "", server.Config{})
	s.fake.Delay = 40 * time.Millisecond
	b.open(s.url + "/?lang=en")
	b.ask("GitOpsとは何ですか")
	// The answer streams in: it is visibly growing while still streaming.
	b.wait(`document.querySelector('.answer.streaming .answer-text') && document.querySelector('.answer-text').textContent.length > 0`)
	first := eval[int](b, `document.querySelector('.answer-text').textContent.length`)
	b.wait(fmt.Sprintf(`document.querySelector('.answer-text').textContent.length > %d`, first))
	if !eval[bool](b, `!!document.querySelector('.answer.streaming')`) {
		t.Fatal("the answer arrived in one piece, not streamed")
	}
	b.wait(`document.querySelector('.turn[data-answer-id]')`)
	if got := eval[string](b, `document.querySelector('.badge.extractive').textContent`); got != "Extracted from the sources, not generated" {
		t.Fatalf("extractive label %q", got)
	}
	if n := eval[int](b, `document.querySelectorAll('.source-list li').length`); n == 0 {
		t.Fatal("no sources listed")
	}
	// A citation marker opens its chunk with the cited span highlighted.
	b.do(chromedp.Click(chromedp.CSS(`.answer-text button.cite[data-n="1"]`)))
	b.wait(`document.querySelector('#cite-dialog').open`)
	title := eval[string](b, `document.querySelector('#cite-title').textContent`)
	meta := eval[string](b, `document.querySelector('#cite-meta').textContent`)
	mark := eval[string](b, `document.querySelector('#cite-text mark.cited').textContent`)
	chunk := eval[string](b, `document.querySelector('#cite-text').textContent`)
	if !strings.Contains(title, "GitOps入門") || !strings.Contains(meta, "docs/gitops.md") || mark == "" || !strings.Contains(chunk, mark) || !strings.Contains(mark, "GitOps") {
		t.Fatalf("citation dialog: title %q meta %q mark %q chunk %q", title, meta, mark, chunk)
	}
	b.do(chromedp.Click(chromedp.CSS(`#cite-dialog button[value=close]`)))
	b.wait(`!document.querySelector('#cite-dialog').open`)
	// Copy puts the answer's text (Markdown as written) on the clipboard.
	eval[bool](b, `(Object.defineProperty(navigator, 'clipboard', {value: {writeText: t => { window.__copied = t; return Promise.resolve(); }}}), true)`)
	b.do(chromedp.Click(chromedp.CSS(`.turn .copy`)))
	b.wait(`document.querySelector('.turn .copy').textContent === 'Copied'`)
	if got, want := eval[string](b, `window.__copied`), s.fake.Asks(); len(want) != 1 || !strings.Contains(got, "[1]") || !strings.Contains(got, "GitOps") {
		t.Fatalf("copied %q", got)
	}
	// Stop generation ends a slow answer.
	s.fake.Delay = 300 * time.Millisecond
	b.ask("Argo CDは何をしますか")
	b.wait(`document.querySelectorAll('.turn').length === 2 && !document.querySelector('#stop').hidden`)
	b.do(chromedp.Click(chromedp.ID("stop")))
	b.wait(`document.querySelector('.notice.stopped')`)
	b.wait(`!document.querySelector('#send').hidden`)
}

func TestBrowserFacesFeedbackWithComment(t *testing.T) {
	b := newBrowser(t)
	s := startSite(t, "", "", server.Config{})
	b.open(s.url + "/?lang=ja")
	if got := eval[string](b, `document.querySelector('#question').placeholder`); !strings.Contains(got, "質問") {
		t.Fatalf("not Japanese: %q", got)
	}
	b.ask("GitOpsとは何ですか")
	b.wait(`document.querySelector('.turn[data-answer-id] .fb-faces')`)
	if n := eval[int](b, `document.querySelectorAll('.fb-faces').length`); n != 5 {
		t.Fatalf("%d faces", n)
	}
	b.do(chromedp.Click(chromedp.CSS(`.fb[data-value="0.75"]`)))
	b.wait(`!document.querySelector('.feedback-form').hidden`)
	b.do(chromedp.SetValue(chromedp.CSS(".feedback-comment"), "出典が分かりやすい"), chromedp.Click(chromedp.CSS(".feedback-submit")))
	b.wait(`document.querySelector('.feedback-status').textContent.includes('ありがとう')`)
	fbs := s.fake.Feedbacks()
	answerID := eval[string](b, `document.querySelector('.turn').dataset.answerId`)
	if len(fbs) != 1 || *fbs[0].Value != 0.75 || fbs[0].Kind != api.FeedbackFaces || fbs[0].Comment != "出典が分かりやすい" || fbs[0].AnswerID != answerID {
		t.Fatalf("feedback reached the backend as %+v", fbs)
	}
	// Thumbs, switched in the sidebar, on the next answer.
	b.do(chromedp.SetValue(chromedp.ID("set-feedbackKind"), "thumbs"))
	eval[bool](b, `document.querySelector('#set-feedbackKind').dispatchEvent(new Event('input'))`)
	b.ask("CI/CDとは")
	b.wait(`document.querySelectorAll('.turn[data-answer-id]').length === 2`)
	if n := eval[int](b, `document.querySelectorAll('.turn:nth-child(2) .fb-thumbs').length`); n != 2 {
		t.Fatalf("%d thumbs", n)
	}
	// The trace view shows both answers, the first with its face.
	b.open(s.url + "/traces?lang=en")
	if n := eval[int](b, `document.querySelectorAll('tr.trace').length`); n != 2 {
		t.Fatalf("%d trace rows", n)
	}
	if fb := eval[string](b, `[...document.querySelectorAll('tr.trace td.fb')].map(td => td.textContent).join('|')`); !strings.Contains(fb, "🙂") {
		t.Fatalf("feedback column %q", fb)
	}
}

func TestBrowserConversationSurvivesReloadAndRestart(t *testing.T) {
	b := newBrowser(t)
	dir := t.TempDir()
	s := startSite(t, dir, "", server.Config{})
	b.open(s.url + "/?lang=en")
	b.ask("GitOpsとは何ですか")
	b.wait(`document.querySelector('.turn[data-answer-id]')`)
	b.ask("Argo CDとは")
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
		if got := eval[string](b, `document.querySelector('#conv-list .conv-title').textContent`); !strings.Contains(got, "GitOps") {
			t.Fatalf("after %s the conversation list shows %q", when, got)
		}
	}
	check("a reload")

	// Rename in the list, then restart the server on the same address.
	b.do(chromedp.Click(chromedp.CSS(".conv-rename")))
	b.do(chromedp.SetValue(chromedp.CSS(".conv-rename-input"), "GitOpsの質問"), chromedp.Focus(chromedp.CSS(".conv-rename-input")), chromedp.KeyEvent(kb.Enter))
	b.wait(`document.querySelector('#conv-list .conv-title') && document.querySelector('#conv-list .conv-title').textContent === 'GitOpsの質問'`)
	addr := strings.TrimPrefix(s.url, "http://")
	b.do(chromedp.Navigate("about:blank")) // the page would see the server go away
	s.stop()
	s = startSite(t, dir, addr, server.Config{})
	check("a server restart")
	// Delete takes two clicks and empties the list.
	b.do(chromedp.Click(chromedp.CSS(".conv-delete")))
	b.do(chromedp.Click(chromedp.CSS(".conv-delete.armed")))
	b.wait(`document.querySelectorAll('#conv-list .conv').length === 0 && document.querySelectorAll('.turn').length === 0`)
}

func TestBrowserUntrustedDocumentRunsNothing(t *testing.T) {
	b := newBrowser(t)
	s := startSite(t, "", "", server.Config{})
	payload := `ペイロード試験 <script>window.__xss='script'</script> <img src=x onerror="window.__xss='img'"> ` +
		`[ここをクリック](javascript:window.__xss='link') <a href="javascript:window.__xss='a'">a</a> <svg onload="window.__xss='svg'"></svg> ` +
		`<iframe src="javascript:parent.__xss='iframe'"></iframe> [data](data:text/html,<script>alert(1)</script>) **太字** ` + "`<b>code</b>`"
	s.fake.AddDocument("kura", "evil/<img src=x onerror=alert(1)>.md", `<script>window.__xss='title'</script>`, payload)
	b.open(s.url + "/?lang=en")
	b.ask("ペイロード試験")
	b.wait(`document.querySelector('.turn[data-answer-id]')`)
	text := eval[string](b, `document.querySelector('.answer-text').textContent`)
	if !strings.Contains(text, "<script>") || !strings.Contains(text, "onerror=") {
		t.Fatalf("the payload is not shown as text: %q", text)
	}
	// Open everything that renders document text: the citation, the sources.
	b.do(chromedp.Click(chromedp.CSS(`.answer-text button.cite`)))
	b.wait(`document.querySelector('#cite-dialog').open`)
	b.do(chromedp.Click(chromedp.CSS(`#cite-dialog button[value=close]`)))
	for _, a := range []string{`.source-link`} {
		b.do(chromedp.Click(chromedp.CSS(a)))
		b.wait(`document.querySelector('#cite-dialog').open`)
		b.do(chromedp.Click(chromedp.CSS(`#cite-dialog button[value=close]`)))
	}
	// Click every link in the answer (none may be javascript:).
	eval[bool](b, `[...document.querySelectorAll('#turns a')].forEach(a => a.click()) || true`)
	time.Sleep(200 * time.Millisecond)
	if v := eval[string](b, `String(window.__xss)`); v != "undefined" {
		t.Fatalf("injected code ran: window.__xss = %s", v)
	}
	bad := eval[int](b, `document.querySelectorAll('#turns script, #turns img, #turns iframe, #turns svg, #turns [onerror], #turns [onload], #turns a[href^="javascript:"], #turns a[href^="data:"], #cite-dialog script, #cite-dialog img').length`)
	if bad != 0 {
		t.Fatalf("%d active elements made from document text", bad)
	}
	if n := eval[int](b, `document.querySelectorAll('.answer-text strong').length`); n == 0 {
		t.Fatal("Markdown emphasis was not rendered (the renderer is not in use?)")
	}
	// The trace view renders the same text safely.
	b.open(s.url + "/traces?lang=en")
	b.do(chromedp.Click(chromedp.CSS("tr.trace")))
	b.wait(`!document.querySelector('#trace-detail').hidden`)
	if v := eval[string](b, `String(window.__xss)`); v != "undefined" {
		t.Fatalf("injected code ran on the trace page: %s", v)
	}
}

func TestBrowserIMEEnterDoesNotSend(t *testing.T) {
	b := newBrowser(t)
	s := startSite(t, "", "", server.Config{})
	// No ?lang: the browser's language (Chromium runs with --lang=ja) picks Japanese.
	b.open(s.url + "/")
	if got := eval[string](b, `navigator.language + ' ' + document.documentElement.lang + ' ' + document.querySelector('#send').textContent`); !strings.HasPrefix(got, "ja") || !strings.HasSuffix(got, " ja 送信") {
		t.Fatalf("language: %q", got)
	}
	eval[bool](b, `(window.__keys = [], document.addEventListener('keydown', e => __keys.push({key: e.key, composing: e.isComposing, code: e.keyCode}), true), true)`)
	b.do(chromedp.Focus(chromedp.ID("question")))
	call := func(f func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		defer cancel()
		if err := f(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// An IME composition is under way; Enter confirms the conversion.
	call(func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, input.ImeSetComposition, input.ImeSetCompositionParams{Text: "にほんご", SelectionStart: 4, SelectionEnd: 4})
		return err
	})
	b.do(chromedp.KeyEvent(kb.Enter))
	call(func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: "日本語"})
		return err
	})
	// The Enter some browsers send after the composition ends (keyCode 229).
	eval[bool](b, `document.querySelector('#question').dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 229, bubbles: true, cancelable: true})) || true`)
	time.Sleep(300 * time.Millisecond)
	if n := len(s.fake.Asks()); n != 0 {
		t.Fatalf("Enter during IME composition sent %d questions", n)
	}
	if !eval[bool](b, `__keys.some(k => k.key === 'Enter' && (k.composing || k.code === 229))`) {
		t.Fatalf("the test did not produce a composing Enter: %v", eval[any](b, `__keys`))
	}
	if v := eval[string](b, `document.querySelector('#question').value`); !strings.Contains(v, "日本語") {
		t.Fatalf("question box holds %q", v)
	}
	// Shift+Enter adds a line; Enter sends.
	b.do(chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)))
	b.do(chromedp.KeyEvent("GitOps"))
	time.Sleep(100 * time.Millisecond)
	if n := len(s.fake.Asks()); n != 0 {
		t.Fatal("Shift+Enter sent the question")
	}
	if v := eval[string](b, `document.querySelector('#question').value`); !strings.Contains(v, "\n") {
		t.Fatalf("Shift+Enter did not add a line: %q", v)
	}
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait(`document.querySelector('.turn[data-answer-id]')`)
	asks := s.fake.Asks()
	if len(asks) != 1 || !strings.Contains(asks[0].Question, "日本語\nGitOps") {
		t.Fatalf("sent %+v", asks)
	}
}

func TestBrowserAPIKeyPrompt(t *testing.T) {
	b := newBrowser(t)
	ks := &server.KeySet{}
	if err := ks.Add("alice", "alice-key-0123456789"); err != nil {
		t.Fatal(err)
	}
	s := startSite(t, "", "", server.Config{Keys: ks})
	b.do(chromedp.Navigate(s.url + "/?lang=en"))
	b.wait(`document.querySelector('#key-dialog').open`)
	b.do(chromedp.SetValue(chromedp.ID("key-input"), "wrong-key-0123456789"), chromedp.Click(chromedp.ID("key-save")))
	b.wait(`document.querySelector('#key-dialog').open && !document.querySelector('#key-wrong').hidden`)
	b.do(chromedp.SetValue(chromedp.ID("key-input"), "alice-key-0123456789"), chromedp.Click(chromedp.ID("key-save")))
	b.wait(`document.body.dataset.ready === 'true'`)
	if v := eval[string](b, `sessionStorage.getItem('kura.apiKey')`); v != "alice-key-0123456789" {
		t.Fatalf("sessionStorage holds %q", v)
	}
	if v := eval[string](b, `localStorage.getItem('kura.apiKey') || ''`); v != "" {
		t.Fatal("the key went to localStorage")
	}
	b.ask("GitOpsとは")
	b.wait(`document.querySelector('.turn[data-answer-id]')`)
	// Once per session: a reload does not ask again.
	b.open(s.url + "/?lang=en")
	if eval[bool](b, `document.querySelector('#key-dialog').open`) {
		t.Fatal("asked for the key again in the same session")
	}
	b.mu.Lock()
	b.errors = nil // the 401s of the first load are expected console errors
	b.mu.Unlock()
}

func TestBrowserUploadShowsProgressAndProblems(t *testing.T) {
	b := newBrowser(t)
	s := startSite(t, "", "", server.Config{})
	s.fake.IngestDelay = 100 * time.Millisecond
	dir := t.TempDir()
	good := filepath.Join(dir, "kubernetes.md")
	bad := filepath.Join(dir, "slides.bin")
	os.WriteFile(good, []byte("# Kubernetes\n\nKubernetesはコンテナを管理する基盤です。"), 0o644)
	os.WriteFile(bad, []byte{0, 1, 2}, 0o644)
	b.open(s.url + "/?lang=en")
	b.do(chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{good, bad}))
	b.wait(`document.querySelector('.upload-job .upload-label') && document.querySelector('.upload-job .upload-label').textContent.startsWith('Done')`)
	if got := eval[string](b, `document.querySelector('.upload-problems').textContent`); !strings.Contains(got, "upload/slides.bin") || !strings.Contains(got, "unsupported") {
		t.Fatalf("problems shown: %q", got)
	}
	if !eval[bool](b, `document.querySelector('.upload-file[data-name="kubernetes.md"]').classList.contains('ok') && document.querySelector('.upload-file[data-name="slides.bin"]').classList.contains('failed')`) {
		t.Fatal("per-file state not shown")
	}
	b.ask("Kubernetesとは")
	b.wait(`document.querySelector('.turn[data-answer-id]')`)
	if got := eval[string](b, `document.querySelector('.source-list').textContent`); !strings.Contains(got, "kubernetes") {
		t.Fatalf("the uploaded document is not a source: %q", got)
	}
	// Drag and drop onto the chat.
	call := func(typ input.DispatchDragEventType) {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		defer cancel()
		_, err := chromedp.Call(ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: 600, Y: 200,
			Data: &input.DragData{Items: []*input.DragDataItem{}, Files: []string{good}, DragOperationsMask: 1}})
		if err != nil {
			t.Fatal(err)
		}
	}
	call(input.DispatchDragEventTypeDragEnter)
	call(input.DispatchDragEventTypeDragOver)
	call(input.DispatchDragEventTypeDrop)
	b.wait(`document.querySelectorAll('.upload-job').length === 2 && document.querySelector('.upload-job .upload-label').textContent.startsWith('Done')`)
}

// The Markdown renderer, in the browser: table cases, then thousands of
// random mixtures of Markdown and attack strings, each checked to produce
// only the elements and attributes the renderer may make.
func TestBrowserMarkdownRenderer(t *testing.T) {
	b := newBrowser(t)
	s := startSite(t, "", "", server.Config{})
	b.open(s.url + "/?lang=en")
	run := func(js string) any {
		t.Helper()
		ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := map[string]string{
		"**bold** and *em* and `code`":              `<p><strong>bold</strong> and <em>em</em> and <code>code</code></p>`,
		"# Title\n\n- a\n- b\n\n1. x\n2. y":         `<h3>Title</h3><ul><li>a</li><li>b</li></ul><ol><li>x</li><li>y</li></ol>`,
		"see [kura](https://example.com/x?a=1&b=2)": `<p>see <a href="https://example.com/x?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">kura</a></p>`,
		"[x](javascript:alert(1))":                  `<p>x</p>`,
		"[x](JaVaScRiPt:alert(1))":                  `<p>x</p>`,
		"[x](data:text/html,hi)":                    `<p>x</p>`,
		"[x](/relative)":                            `<p>x</p>`,
		"![img](https://example.com/a.png)":         `<p>img (https://example.com/a.png)</p>`,
		"<script>alert(1)</script>":                 `<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`,
		"<img src=x onerror=alert(1)>":              `<p>&lt;img src=x onerror=alert(1)&gt;</p>`,
		"answer [1] and [2][9]":                     `<p>answer <button class="cite">[1]</button> and <button class="cite">[2]</button>[9]</p>`,
		"```\n<b>x</b>\n```":                        `<pre><code>&lt;b&gt;x&lt;/b&gt;</code></pre>`,
		"> quoted **x**":                            `<blockquote><p>quoted <strong>x</strong></p></blockquote>`,
		"line one\nline two":                        `<p>line one<br>line two</p>`,
		"<https://example.com>":                     `<p><a href="https://example.com/" rel="noopener noreferrer nofollow" target="_blank">https://example.com</a></p>`,
		"snake_case_name stays":                     `<p>snake_case_name stays</p>`,
	}
	for in, want := range cases {
		inJSON, _ := json.Marshal(in)
		got := run(`(async () => {
			const md = await import('/ui/markdown.js');
			const div = document.createElement('div');
			div.append(md.render(` + string(inJSON) + `, {citation: n => n <= 2 ? Object.assign(document.createElement('button'), {className: 'cite', textContent: '[' + n + ']'}) : null}));
			return div.innerHTML;
		})()`)
		if got != want {
			t.Errorf("render(%q)\n got %s\nwant %s", in, got, want)
		}
	}
	violations := run(`(async () => {
		const md = await import('/ui/markdown.js');
		const tokens = ['<script>', '</script>', '<img src=x onerror=alert(1)>', 'javascript:', '[', ']', '(', ')', '**', '*', '_', '~~', '` + "`" + `', '` + "```" + `',
			'\n', '\n\n', '# ', '- ', '1. ', '> ', 'http://a.b/', 'https://c.d/e', '<https://x.y>', '![i](', '[1]', '[22]', 'data:text/html,', '\\', '"', "'", ' ', 'テキスト', 'onload=', '<a href=', '&lt;'];
		const allowed = new Set(['P', 'BR', 'STRONG', 'EM', 'DEL', 'CODE', 'PRE', 'A', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'H3', 'H4', 'H5', 'H6', 'HR', 'BUTTON']);
		let seed = 42;
		const rnd = n => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
		const bad = [];
		for (let i = 0; i < 3000; i++) {
			let s = '';
			for (let j = rnd(30); j >= 0; j--) s += tokens[rnd(tokens.length)];
			const div = document.createElement('div');
			div.append(md.render(s, {citation: n => n === 1 ? Object.assign(document.createElement('button'), {className: 'cite'}) : null}));
			for (const el of div.querySelectorAll('*')) {
				if (!allowed.has(el.tagName)) bad.push([s, el.tagName]);
				for (const a of el.attributes) {
					if (!['href', 'rel', 'target', 'class'].includes(a.name)) bad.push([s, el.tagName + ' ' + a.name]);
				}
				if (el.tagName === 'A' && !/^https?:\/\//.test(el.getAttribute('href'))) bad.push([s, 'href ' + el.getAttribute('href')]);
			}
			if (bad.length > 5) break;
		}
		return bad;
	})()`)
	if v, ok := violations.([]any); !ok || len(v) != 0 {
		t.Fatalf("renderer produced forbidden markup: %v", violations)
	}
	if v := eval[string](b, `String(window.__xss)`); v != "undefined" {
		t.Fatal(v)
	}
}

// The sidebar's options reach the request (the original app ignored
// several of its sliders); options left at the defaults are not sent.
func TestBrowserSidebarOptionsReachTheRequest(t *testing.T) {
	b := newBrowser(t)
	s := startSite(t, "", "", server.Config{})
	b.open(s.url + "/?lang=en")
	set := func(id, value string) {
		t.Helper()
		v, _ := json.Marshal(value)
		eval[bool](b, `(() => { const el = document.getElementById('`+id+`'); el.value = `+string(v)+`; el.dispatchEvent(new Event('input')); return true; })()`)
	}
	// Generation options are off for the extractive answerer.
	if !eval[bool](b, `document.getElementById('set-temperature').disabled`) {
		t.Fatal("temperature is editable for the extractive answerer")
	}
	set("set-searchType", "mmr")
	b.wait(`document.getElementById('set-fetchK')`) // MMR's own fields appear
	set("set-k", "5")
	set("set-fetchK", "30")
	set("set-lambda", "0.3")
	set("set-llm", "openai")
	b.wait(`!document.getElementById('set-temperature').disabled`)
	set("set-temperature", "0.5")
	set("set-model", "gpt-4o-mini")
	b.ask("GitOpsとは")
	b.wait(`document.querySelector('.turn[data-answer-id]')`)
	a := s.fake.Asks()[0]
	if a.SearchType != "mmr" || a.K != 5 || a.FetchK != 30 || a.Lambda == nil || *a.Lambda != 0.3 || a.LLM != "openai" || a.Model != "gpt-4o-mini" ||
		a.Temperature == nil || *a.Temperature != 0.5 || a.TopP != nil || a.MaxTokens != nil || a.ScoreThreshold != nil || a.Collection != "kura" || !a.Stream {
		t.Fatalf("request %+v", a)
	}
	// Score threshold; streaming off; settings survive a reload.
	set("set-searchType", "threshold")
	b.wait(`document.getElementById('set-threshold')`)
	set("set-threshold", "0.2")
	eval[bool](b, `(() => { const el = document.getElementById('set-stream'); el.checked = false; el.dispatchEvent(new Event('input')); return true; })()`)
	b.open(s.url + "/?lang=en")
	if v := eval[string](b, `document.getElementById('set-threshold').value`); v != "0.2" {
		t.Fatalf("threshold after reload %q", v)
	}
	b.ask("CI/CDとは")
	b.wait(`document.querySelectorAll('.turn[data-answer-id]').length === 2`)
	a = s.fake.Asks()[1]
	if a.SearchType != "dense" || a.ScoreThreshold == nil || *a.ScoreThreshold != 0.2 || a.Stream || a.Lambda != nil {
		t.Fatalf("request %+v", a)
	}
}
