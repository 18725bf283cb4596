package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// site serves a small site on loopback: an index, a three-page article,
// a robots.txt-disallowed page and an off-site link. It counts the
// conditional requests it gets.
type site struct {
	*httptest.Server
	mu          sync.Mutex
	conditional int
	private     int
	gone        bool // the article no longer exists
}

func newSite(t *testing.T) *site {
	s := &site{}
	page := func(n int) string {
		next := ""
		if n < 3 {
			next = fmt.Sprintf(`<li class="pager-next"><a href="/a/%d">次へ</a></li>`, n+1)
		}
		return fmt.Sprintf(`<html><head><meta charset="utf-8"><title>運用ガイド</title></head><body>
<nav>ナビゲーションメニュー</nav><div class="field-name-body"><p>第%dページの固有の文章です。ロールバック手順%d。</p></div>
<ul class="pager">%s</ul><footer>フッター著作権</footer></body></html>`, n, n, next)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body string
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
			return
		case "/":
			body = `<html><body><a href="/a/1">記事</a> <a href="/private">秘密</a> <a href="https://example.invalid/">外部</a></body></html>`
		case "/a/1", "/a/2", "/a/3":
			s.mu.Lock()
			gone := s.gone
			s.mu.Unlock()
			if gone {
				http.NotFound(w, r)
				return
			}
			body = page(int(r.URL.Path[3] - '0'))
		case "/private":
			s.mu.Lock()
			s.private++
			s.mu.Unlock()
			body = "<p>secret</p>"
		default:
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"%d"`, len(body))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") != "" {
			s.mu.Lock()
			s.conditional++
			s.mu.Unlock()
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

type crawlJSON struct {
	Files, Chunks, Added, Unchanged, Removed int
	Crawl                                    struct {
		Fetched     int `json:"fetched"`
		NotModified int `json:"not_modified"`
		Failed      int `json:"failed"`
		Documents   int `json:"documents"`
		Skipped     []struct {
			URL, Reason string
		} `json:"skipped"`
	} `json:"crawl"`
}

func TestCrawlIntoCollection(t *testing.T) {
	s := newSite(t)
	data := t.TempDir()
	args := []string{"crawl", s.URL + "/", "--allow-private", "--delay", "0", "--data", data, "--content-selector", "div.field-name-body", "--json"}
	out, errs, code := kura(t, args...)
	if code != exitPartial { // the robots.txt-disallowed page is skipped
		t.Fatalf("exit %d, want 3\n%s\n%s", code, out, errs)
	}
	var first crawlJSON
	if err := json.Unmarshal([]byte(out), &first); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if first.Crawl.Fetched != 4 || first.Crawl.Documents != 1 || first.Added == 0 || first.Crawl.Failed != 1 {
		t.Errorf("first crawl: %+v", first)
	}
	if s.private != 0 {
		t.Error("the disallowed page was fetched")
	}
	if !strings.Contains(errs, s.URL+"/private: skipped (robots)") {
		t.Errorf("stderr does not list the robots skip:\n%s", errs)
	}
	// The article is one document: every page's sentence once, no furniture.
	hits := mustKura(t, "search", "--data", data, "--json", "-k", "1", "ロールバック手順")
	for n := 1; n <= 3; n++ {
		if c := strings.Count(hits, fmt.Sprintf("第%dページの固有の文章です。", n)); c != 1 {
			t.Errorf("page %d's sentence appears %d times in the hit:\n%s", n, c, hits)
		}
	}
	if strings.Contains(hits, "ナビゲーション") || strings.Contains(hits, "フッター") {
		t.Errorf("navigation or footer text was stored:\n%s", hits)
	}
	if !strings.Contains(hits, `"source":"`+s.URL+`/a/1"`) {
		t.Errorf("source is not the article URL:\n%s", hits)
	}

	out, _, code = kura(t, args...)
	var second crawlJSON
	json.Unmarshal([]byte(out), &second)
	if code != exitPartial || second.Added != 0 || second.Crawl.NotModified != 4 || s.conditional < 4 {
		t.Errorf("re-crawl: exit %d %+v, %d conditional requests", code, second, s.conditional)
	}
}

func TestCrawlRefusesLoopbackWithoutFlag(t *testing.T) {
	s := newSite(t)
	_, errs, code := kura(t, "crawl", s.URL+"/", "--data", t.TempDir(), "--delay", "0")
	if code != exitFailure {
		t.Fatalf("exit %d, want 1\n%s", code, errs)
	}
	for _, want := range []string{s.URL + "/", "loopback", "--allow-private"} {
		if !strings.Contains(errs, want) {
			t.Errorf("message lacks %q:\n%s", want, errs)
		}
	}
}

func TestCrawlOutRoundTrip(t *testing.T) {
	s := newSite(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "pages")
	_, errs, code := kura(t, "crawl", s.URL+"/a/1", "--allow-private", "--delay", "0", "--out", out, "--content-selector", "div.field-name-body")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	file := filepath.Join(out, strings.TrimPrefix(strings.ReplaceAll(s.URL, ":", "_"), "http_//"), "a", "1.md")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (files: %v)", err, listFiles(out))
	}
	if !strings.Contains(string(b), "url: \""+s.URL+"/a/1\"") || strings.Count(string(b), "固有の文章") != 3 {
		t.Errorf("file:\n%s", b)
	}
	// kura ingest reads the directory (the hidden state file is passed over).
	sum := ingestJSON(t, 0, "--data", filepath.Join(dir, "data"), out)
	if sum.Files != 1 || sum.Added == 0 {
		t.Errorf("ingest of --out files: %+v", sum)
	}
}

func listFiles(dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		out = append(out, p)
		return nil
	})
	return out
}

func TestIngestOfficeFormats(t *testing.T) {
	data := t.TempDir()
	dir := "../../internal/document/testdata/formats/"
	sum := ingestJSON(t, 0, "--data", data, dir+"report-chromium.pdf", dir+"report-pptxgenjs.pptx", dir+"report-writer.docx")
	if sum.Files != 3 || sum.Added == 0 {
		t.Fatalf("%+v", sum)
	}
	f := func(query, source, field string, value int) {
		t.Helper()
		out := mustKura(t, "search", "--data", data, "--json", "-k", "1", "--output-fields", "*", query)
		var hit struct {
			Entity map[string]any `json:"entity"`
		}
		if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &hit); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.HasSuffix(hit.Entity["source"].(string), source) {
			t.Errorf("%q: top hit from %v, want %s", query, hit.Entity["source"], source)
		}
		if field != "" && hit.Entity[field] != float64(value) {
			t.Errorf("%q: %s = %v, want %d", query, field, hit.Entity[field], value)
		}
	}
	f("ロールバックはGitの履歴を一つ前のコミットへ戻すだけで完了し", "", "", 0)
	f("来期の予算申請に向けて、プログレッシブデリバリーの効果を数値で示す必要がある。", "report-pptxgenjs.pptx", "slide", 3)
	// A damaged PDF is reported on one line and skipped (exit 3).
	_, errs, code := kura(t, "ingest", "--data", data, dir+"damaged.pdf", dir+"scanned.pdf")
	if code != exitPartial || !strings.Contains(errs, "damaged.pdf: skipped: damaged") || !strings.Contains(errs, "scanned.pdf: page 1: skipped: no text layer") {
		t.Errorf("exit %d\n%s", code, errs)
	}
}

func TestCrawlPrune(t *testing.T) {
	s := newSite(t)
	data := t.TempDir()
	args := []string{"crawl", s.URL + "/", "--allow-private", "--delay", "0", "--data", data, "--json", "--content-selector", "div.field-name-body"}
	kura(t, args...)
	s.mu.Lock()
	s.gone = true
	s.mu.Unlock()
	// Without --prune the gone article keeps its chunks...
	out, _, _ := kura(t, args...)
	var sum crawlJSON
	json.Unmarshal([]byte(out), &sum)
	if sum.Removed != 0 {
		t.Fatalf("removed %d chunks without --prune", sum.Removed)
	}
	// ...with it they go.
	out, _, _ = kura(t, append(args, "--prune")...)
	json.Unmarshal([]byte(out), &sum)
	if sum.Removed == 0 {
		t.Fatalf("--prune removed nothing: %s", out)
	}
	if hits := mustKura(t, "search", "--data", data, "--json", "ロールバック手順"); strings.Contains(hits, "/a/1") {
		t.Errorf("the gone article is still found:\n%s", hits)
	}
}
