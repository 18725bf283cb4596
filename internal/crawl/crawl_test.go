package crawl

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func crawlSite(t *testing.T, seeds []string, opts Options) *Result {
	t.Helper()
	res, err := Crawl(context.Background(), seeds, opts)
	if err != nil {
		t.Fatalf("Crawl: %v", err)
	}
	return res
}

func docBySource(res *Result, source string) (string, map[string]any, bool) {
	for _, d := range res.Documents {
		if d.Source == source {
			return d.Text, d.Meta, true
		}
	}
	return "", nil, false
}

func skipOf(res *Result, url string) (Skip, bool) {
	for _, s := range res.Skipped {
		if s.URL == url {
			return s, true
		}
	}
	return Skip{}, false
}

// TestPaginatedArticleIsOneDocument is the regression test for the
// original scraper, which repeated earlier pages' text on every page.
func TestPaginatedArticleIsOneDocument(t *testing.T) {
	site := newTestSite(t)
	res := crawlSite(t, []string{site.URL + "/"}, Options{AllowPrivate: true, ContentSelector: "div.field-name-body"})

	text, meta, ok := docBySource(res, site.URL+"/article")
	if !ok {
		t.Fatalf("no document for the article; documents: %v", sources(res))
	}
	for i, s := range articleSentences {
		if n := strings.Count(text, s); n != 1 {
			t.Errorf("page %d's sentence appears %d times, want exactly 1:\n%s", i+1, n, text)
		}
	}
	if strings.Index(text, articleSentences[0]) > strings.Index(text, articleSentences[1]) ||
		strings.Index(text, articleSentences[1]) > strings.Index(text, articleSentences[2]) {
		t.Errorf("pages out of order:\n%s", text)
	}
	for _, junk := range []string{navText, footerText, "次へ", "前へ"} {
		if strings.Contains(text, junk) {
			t.Errorf("document contains page furniture %q:\n%s", junk, text)
		}
	}
	if meta["pages"] != int64(3) || meta["url"] != site.URL+"/article" || meta["published"] != "2024-03-01T00:00:00Z" {
		t.Errorf("meta = %v", meta)
	}
	// The later pages are part of the article, not documents of their own.
	for _, d := range res.Documents {
		if strings.Contains(d.Source, "page=") {
			t.Errorf("page %s became a separate document", d.Source)
		}
	}
}

func TestPaginatedArticleWithExtractor(t *testing.T) {
	site := newTestSite(t)
	res := crawlSite(t, []string{site.URL + "/article"}, Options{AllowPrivate: true})
	text, _, ok := docBySource(res, site.URL+"/article")
	if !ok {
		t.Fatalf("no article document; documents: %v", sources(res))
	}
	for i, s := range articleSentences {
		if n := strings.Count(text, s); n != 1 {
			t.Errorf("page %d's sentence appears %d times, want 1:\n%s", i+1, n, text)
		}
	}
	for _, junk := range []string{navText, footerText} {
		if strings.Contains(text, junk) {
			t.Errorf("document contains %q:\n%s", junk, text)
		}
	}
}

func TestCrawlScopeRobotsEncodings(t *testing.T) {
	site := newTestSite(t)
	res := crawlSite(t, []string{site.URL + "/"}, Options{AllowPrivate: true})
	if n := site.requested("/private/secret"); n != 0 {
		t.Errorf("robots.txt-disallowed page was requested %d times", n)
	}
	if s, ok := skipOf(res, site.URL+"/private/secret"); !ok || s.Reason != ReasonRobots {
		t.Errorf("disallowed page: skip = %+v, %v", s, ok)
	}
	if s, ok := skipOf(res, "http://other.invalid/page"); !ok || s.Reason != ReasonScope || !s.Boundary() {
		t.Errorf("off-site link: skip = %+v, %v", s, ok)
	}
	if s, ok := skipOf(res, site.URL+"/doc.pdf"); !ok || s.Reason != ReasonType {
		t.Errorf("pdf: skip = %+v, %v", s, ok)
	}
	if s, ok := skipOf(res, site.URL+"/missing"); !ok || s.Reason != ReasonStatus || s.Status != 404 {
		t.Errorf("missing page: skip = %+v, %v", s, ok)
	}
	if text, _, _ := docBySource(res, site.URL+"/sjis"); !strings.Contains(text, "シフトJISで書かれた日本語の本文です。") {
		t.Errorf("Shift_JIS page (meta charset) decoded as %q", text)
	}
	if text, _, _ := docBySource(res, site.URL+"/eucjp"); !strings.Contains(text, "EUC-JPで書かれた日本語の本文です。") {
		t.Errorf("EUC-JP page (header charset) decoded as %q", text)
	}
	if !res.Failed() || res.Stats.Failed != 3 { // robots, type, status
		t.Errorf("stats = %+v; skipped %v", res.Stats, res.Skipped)
	}
}

func TestRecrawlSendsConditionalRequests(t *testing.T) {
	site := newTestSite(t)
	first := crawlSite(t, []string{site.URL + "/"}, Options{AllowPrivate: true})
	second := crawlSite(t, []string{site.URL + "/"}, Options{AllowPrivate: true, State: first.State})
	for _, p := range []string{"/", "/article", "/article?page=2", "/article?page=3"} {
		if !site.conditional[p] {
			t.Errorf("re-crawl of %s was not conditional", p)
		}
	}
	if second.Stats.NotModified < 4 || second.Stats.Fetched != 2 { // the two legacy pages carry no ETag
		t.Errorf("second crawl stats = %+v", second.Stats)
	}
	if len(first.Documents) != len(second.Documents) {
		t.Fatalf("documents: %v then %v", sources(first), sources(second))
	}
	for i := range first.Documents {
		if first.Documents[i].Text != second.Documents[i].Text {
			t.Errorf("%s changed on a 304 re-crawl", first.Documents[i].Source)
		}
	}
	// A page that disappears is reported gone, and its document too.
	site.mu.Lock()
	site.gone["/sjis"] = true
	site.mu.Unlock()
	third := crawlSite(t, []string{site.URL + "/"}, Options{AllowPrivate: true, State: second.State})
	if len(third.Gone) != 1 || third.Gone[0] != site.URL+"/sjis" {
		t.Errorf("gone = %v, want the Shift_JIS page", third.Gone)
	}
}

func TestLoopbackRefusedByDefault(t *testing.T) {
	site := newTestSite(t)
	res := crawlSite(t, []string{site.URL + "/"}, Options{})
	s, ok := skipOf(res, site.URL+"/")
	if !ok || s.Reason != ReasonRefused || !errors.Is(s.Err, ErrBlockedAddress) || !strings.Contains(s.Detail, "loopback") {
		t.Fatalf("skip = %+v (%v)", s, ok)
	}
	if len(site.requests) != 0 {
		t.Errorf("the site saw requests %v", site.requests)
	}
}

// TestRedirectToLoopbackRefused: the user allowed private addresses for
// the host they named ("localhost"); a redirect to another host that is
// loopback too (127.0.0.1) is refused at connect time.
func TestRedirectToLoopbackRefused(t *testing.T) {
	var internalHit bool
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { internalHit = true }))
	defer internal.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, internal.URL+"/admin", http.StatusFound)
	}))
	defer front.Close()
	seed := strings.Replace(front.URL, "127.0.0.1", "localhost", 1) + "/"
	res := crawlSite(t, []string{seed}, Options{AllowPrivate: true})
	s, ok := skipOf(res, seed)
	if !ok || s.Reason != ReasonRefused || !strings.Contains(s.Detail, "127.0.0.1") {
		t.Fatalf("skip = %+v (%v); skipped %v", s, ok, res.Skipped)
	}
	if internalHit {
		t.Error("the internal server was reached")
	}
}

func sources(res *Result) []string {
	var out []string
	for _, d := range res.Documents {
		out = append(out, d.Source)
	}
	return out
}

// TestRedirectToOtherLoopbackPortRefused: the allowed site is
// 127.0.0.1:P itself; a redirect to another service on 127.0.0.1 is
// refused at connect time.
func TestRedirectToOtherLoopbackPortRefused(t *testing.T) {
	var internalHit bool
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { internalHit = true }))
	defer internal.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r)
		case "/":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<p>トップページ</p><a href="/go">go</a>`))
		default:
			http.Redirect(w, r, internal.URL+"/admin", http.StatusFound)
		}
	}))
	defer front.Close()
	for _, seed := range []string{front.URL + "/go", front.URL + "/"} {
		res := crawlSite(t, []string{seed}, Options{AllowPrivate: true})
		s, ok := skipOf(res, front.URL+"/go")
		if !ok || (s.Reason != ReasonRefused && s.Reason != ReasonRedirect) || !strings.Contains(s.Detail, "127.0.0.1") {
			t.Errorf("seed %s: skip = %+v (%v)", seed, s, ok)
		}
	}
	if internalHit {
		t.Error("the internal server was reached")
	}
}
