package crawl

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

// testSite is a small loopback web site: an index, a three-page article
// with Drupal-style pager markup, a robots.txt-disallowed page, legacy
// encodings, an off-site link, a redirect and a PDF. It honours
// If-None-Match and records every request.
type testSite struct {
	*httptest.Server
	mu          sync.Mutex
	requests    []string // paths, in order
	conditional map[string]bool
	pages       map[string]string // path -> HTML (UTF-8)
	gone        map[string]bool
}

// Sentences unique to each page of the article; the regression test
// checks each appears exactly once in the assembled document.
var articleSentences = []string{
	"一ページ目の本文です。GitOpsの基本を説明します。",
	"二ページ目の本文です。Argo CDの同期を説明します。",
	"三ページ目の本文です。ロールバックの手順を説明します。",
}

const (
	navText    = "サイトナビゲーション ホーム 記事一覧"
	footerText = "著作権表示 フッターのテキスト"
)

func articlePage(n int) string {
	next := ""
	if n < 3 {
		next = fmt.Sprintf(`<ul class="pager"><li class="pager-next"><a href="/article?page=%d">次へ ›</a></li></ul>`, n+1)
	}
	prev := ""
	if n > 1 {
		prev = fmt.Sprintf(`<a href="/article?page=%d">‹ 前へ</a>`, n-1)
		if n == 2 {
			prev = `<a href="/article">‹ 前へ</a>`
		}
	}
	canonical := ""
	if n == 1 {
		canonical = `<link rel="canonical" href="/article">`
	}
	return fmt.Sprintf(`<!doctype html><html><head><meta charset="utf-8"><title>GitOps入門 | テストサイト</title>%s
<meta property="article:published_time" content="2024-03-01T09:00:00+09:00"></head>
<body><nav>%s</nav>
<div class="content"><h1>GitOps入門</h1>
<div class="field-name-body"><p>%s</p><p>このページの補足説明は%d番目です。</p></div>
%s %s</div>
<footer>%s</footer></body></html>`, canonical, navText, articleSentences[n-1], n, prev, next, footerText)
}

func newTestSite(t *testing.T) *testSite {
	s := &testSite{conditional: map[string]bool{}, gone: map[string]bool{}, pages: map[string]string{
		"/": `<html><head><title>Index</title></head><body><nav>` + navText + `</nav>
<a href="/article">GitOps入門</a> <a href="/private/secret">secret</a>
<a href="http://other.invalid/page">elsewhere</a> <a href="/sjis">sjis</a> <a href="/eucjp">euc</a>
<a href="/doc.pdf">pdf</a> <a href="/missing">missing</a><footer>` + footerText + `</footer></body></html>`,
		"/private/secret": `<html><body><p>robots.txt forbids this page.</p></body></html>`,
	}}
	for n := 1; n <= 3; n++ {
		path := fmt.Sprintf("/article?page=%d", n)
		if n == 1 {
			path = "/article"
		}
		s.pages[path] = articlePage(n)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *testSite) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	s.mu.Lock()
	s.requests = append(s.requests, path)
	if r.Header.Get("If-None-Match") != "" {
		s.conditional[path] = true
	}
	body, ok := s.pages[path]
	gone := s.gone[path]
	s.mu.Unlock()
	switch {
	case gone:
		http.NotFound(w, r)
		return
	case path == "/robots.txt":
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
		return
	case path == "/sjis":
		b, _ := japanese.ShiftJIS.NewEncoder().String(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"><title>シフトJISのページ</title></head><body><p>シフトJISで書かれた日本語の本文です。</p></body></html>`)
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(b))
		return
	case path == "/eucjp":
		b, _ := japanese.EUCJP.NewEncoder().String(`<html><head><title>EUC-JPのページ</title></head><body><p>EUC-JPで書かれた日本語の本文です。</p></body></html>`)
		w.Header().Set("Content-Type", "text/html; charset=EUC-JP")
		w.Write([]byte(b))
		return
	case path == "/doc.pdf":
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF-1.4"))
		return
	case !ok:
		http.NotFound(w, r)
		return
	}
	etag := fmt.Sprintf(`"%x"`, len(body)*31+strings.Count(body, "の"))
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, body)
}

func (s *testSite) requested(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.requests {
		if p == path {
			n++
		}
	}
	return n
}
