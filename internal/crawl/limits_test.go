package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLimits covers the size cap, the page limit, depth, the redirect cap
// and the User-Agent with its contact.
func TestLimits(t *testing.T) {
	var mu sync.Mutex
	agents := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents[r.UserAgent()] = true
		mu.Unlock()
		switch {
		case r.URL.Path == "/robots.txt":
			http.NotFound(w, r)
		case r.URL.Path == "/":
			fmt.Fprint(w, `<a href="/big">big</a> <a href="/chunked">c</a> <a href="/loop">loop</a> <a href="/d1">deep</a>`)
		case r.URL.Path == "/big":
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Length", "5000")
			w.Write([]byte(strings.Repeat("x", 5000)))
		case r.URL.Path == "/chunked": // no Content-Length: caught after reading
			w.(http.Flusher).Flush()
			w.Write([]byte("<p>" + strings.Repeat("y", 5000) + "</p>"))
		case r.URL.Path == "/loop":
			http.Redirect(w, r, "/loop?again="+r.URL.Query().Get("again")+"x", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/d"):
			fmt.Fprintf(w, `<p>depth %d</p><a href="%s1">next</a>`, len(r.URL.Path)-2, r.URL.Path)
		}
	}))
	defer srv.Close()
	res := crawlSite(t, []string{srv.URL + "/"}, Options{AllowPrivate: true, MaxBodyBytes: 1000, MaxDepth: 3, MaxRedirects: 3, Contact: "ops@example.com"})
	want := map[string]string{
		srv.URL + "/big":     ReasonSize,
		srv.URL + "/chunked": ReasonSize,
		srv.URL + "/loop":    ReasonRedirect,
		srv.URL + "/d1111":   ReasonDepth,
	}
	for u, reason := range want {
		if s, ok := skipOf(res, u); !ok || s.Reason != reason {
			t.Errorf("%s: skip %+v (%v), want %s; all: %v", u, s, ok, reason, res.Skipped)
		}
	}
	for ua := range agents {
		if !strings.Contains(ua, "kura/") || !strings.Contains(ua, "contact: ops@example.com") {
			t.Errorf("User-Agent %q", ua)
		}
	}

	res = crawlSite(t, []string{srv.URL + "/"}, Options{AllowPrivate: true, MaxPages: 2})
	if !res.Stats.Truncated || res.Stats.Fetched+len(res.Skipped) == 0 {
		t.Errorf("page limit: %+v", res.Stats)
	}
	n := 0
	for _, s := range res.Skipped {
		if s.Reason == ReasonLimit {
			n++
		}
	}
	if n == 0 {
		t.Errorf("no URL skipped for the page limit: %v", res.Skipped)
	}
}

// TestCrawlDelay: robots.txt's Crawl-delay spaces the requests to a host
// even when the configured delay is 0.
func TestCrawlDelay(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			fmt.Fprint(w, "User-agent: kura\nCrawl-delay: 0.3\n")
			return
		}
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		fmt.Fprint(w, `<p>x</p><a href="/a">a</a><a href="/b">b</a>`)
	}))
	defer srv.Close()
	crawlSite(t, []string{srv.URL + "/"}, Options{AllowPrivate: true, Parallelism: 1})
	if len(times) != 3 {
		t.Fatalf("%d requests", len(times))
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 250*time.Millisecond {
			t.Errorf("requests %d and %d only %v apart; Crawl-delay is 0.3s", i-1, i, gap)
		}
	}
}

func TestSitemapSeeds(t *testing.T) {
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sitemap.xml":
			fmt.Fprintf(w, `<sitemapindex><sitemap><loc>%s/pages.xml</loc></sitemap></sitemapindex>`, srvURL)
		case "/pages.xml":
			fmt.Fprintf(w, `<urlset><url><loc>%s/only-in-sitemap</loc></url></urlset>`, srvURL)
		case "/only-in-sitemap":
			fmt.Fprint(w, `<html><title>hidden</title><body><p>サイトマップだけにあるページです。</p></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	srvURL = srv.URL
	res, err := Crawl(context.Background(), nil, Options{AllowPrivate: true, Sitemaps: []string{srv.URL + "/sitemap.xml"}})
	if err != nil {
		t.Fatal(err)
	}
	if text, _, ok := docBySource(res, srv.URL+"/only-in-sitemap"); !ok || !strings.Contains(text, "サイトマップだけにあるページです。") {
		t.Errorf("documents %v", sources(res))
	}
}

func TestBadOptions(t *testing.T) {
	for _, seeds := range [][]string{{"ftp://x/"}, {"not a url\x7f"}, {"/relative"}, nil} {
		if _, err := Crawl(context.Background(), seeds, Options{}); err == nil {
			t.Errorf("Crawl(%q) accepted", seeds)
		}
	}
	if _, err := Crawl(context.Background(), []string{"http://x/"}, Options{ContentSelector: "div["}); err == nil {
		t.Error("bad selector accepted")
	}
}
