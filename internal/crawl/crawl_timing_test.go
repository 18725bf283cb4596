package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkCrawlLoopback crawls a 200-page site on loopback with no delay:
// fetching, robots.txt, extraction (trafilatura), link following and
// assembly, the whole crawl half of `kura crawl`. It reports pages/s.
func BenchmarkCrawlLoopback(b *testing.B) {
	const pages = 200
	para := strings.Repeat("継続的デリバリーでは、小さな変更を頻繁に本番環境へ届けることで、障害の影響を小さく保ちます。", 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			fmt.Fprint(w, "User-agent: *\nDisallow: /admin\n")
			return
		}
		var n int
		fmt.Sscanf(r.URL.Path, "/p/%d", &n)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><head><title>記事%d</title></head><body><nav><a href="/">ホーム</a></nav><article><h1>記事%d</h1>`, n, n)
		for i := 0; i < 4; i++ {
			fmt.Fprintf(w, "<p>%s（%d-%d）</p>", para, n, i)
		}
		fmt.Fprint(w, "</article><aside><ul>")
		for _, k := range []int{n + 1, n + 2, n * 2, (n * 7) % pages} {
			if k < pages {
				fmt.Fprintf(w, `<li><a href="/p/%d">記事%d</a></li>`, k, k)
			}
		}
		fmt.Fprint(w, "</ul></aside><footer>フッター</footer></body></html>")
	}))
	defer srv.Close()
	b.ReportAllocs()
	b.ResetTimer()
	total := 0
	for i := 0; i < b.N; i++ {
		res, err := Crawl(context.Background(), []string{srv.URL + "/p/0"}, Options{AllowPrivate: true, Parallelism: 4, MaxPages: pages + 10})
		if err != nil {
			b.Fatal(err)
		}
		if res.Stats.Fetched != pages+1 { // the articles and the home page
			b.Fatalf("fetched %d pages, want %d; skipped %v", res.Stats.Fetched, pages+1, res.Skipped[:min(3, len(res.Skipped))])
		}
		total += res.Stats.Fetched
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "pages/s")
}
