package crawl

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"

	"github.com/kura-rag/kura/internal/document"
)

// lcsScores returns recall (share of the reference's characters found, in
// order) and precision (share of the extracted characters that belong to
// the reference), whitespace ignored.
func lcsScores(ref, got string) (recall, precision float64) {
	strip := func(s string) []rune {
		var out []rune
		for _, r := range s {
			if !unicode.IsSpace(r) {
				out = append(out, r)
			}
		}
		return out
	}
	a, b := strip(ref), strip(got)
	if len(a) == 0 || len(b) == 0 {
		return 0, 0
	}
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				cur[j] = prev[j-1] + 1
			case prev[j] >= cur[j-1]:
				cur[j] = prev[j]
			default:
				cur[j] = cur[j-1]
			}
		}
		prev, cur = cur, prev
	}
	l := float64(prev[len(b)])
	return l / float64(len(a)), l / float64(len(b))
}

// TestExtractorQuality measures the main-text extractor on Japanese pages
// made for it (testdata/pages: a blog with sidebar and comments, a news
// article with rankings and related links, a Sphinx-like documentation
// page, a Drupal article with a pager), against the hand-written main text
// of each, and compares it with kura's own HTML loader heuristic. The
// figures are in docs/benchmarks.md.
func TestExtractorQuality(t *testing.T) {
	pages, _ := filepath.Glob("testdata/pages/*.html")
	if len(pages) == 0 {
		t.Fatal("no test pages")
	}
	ext, err := newExtractor("", "")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://example.jp/page")
	var sumR, sumP, hR, hP float64
	for _, p := range pages {
		body, _ := os.ReadFile(p)
		want, _ := os.ReadFile(strings.TrimSuffix(p, ".html") + ".txt")
		pg, err := ext.extract(base, body, "")
		if err != nil {
			t.Fatal(err)
		}
		r, pr := lcsScores(string(want), pg.Text)
		root, _ := html.Parse(strings.NewReader(string(body)))
		hr, hp := lcsScores(string(want), document.HTMLMainText(root))
		t.Logf("%-12s trafilatura recall %.3f precision %.3f | heuristic recall %.3f precision %.3f", filepath.Base(p), r, pr, hr, hp)
		sumR, sumP, hR, hP = sumR+r, sumP+pr, hR+hr, hP+hp
		if r < 0.9 {
			t.Errorf("%s: recall %.3f; extracted:\n%s", p, r, pg.Text)
		}
	}
	n := float64(len(pages))
	t.Logf("mean         trafilatura recall %.3f precision %.3f | heuristic recall %.3f precision %.3f", sumR/n, sumP/n, hR/n, hP/n)
	if sumP/n < 0.88 {
		t.Errorf("mean precision %.3f < 0.88", sumP/n)
	}
}

// TestShortPagesWithoutSemanticMarkup: a short article page whose
// navigation and footer are plain <div>s (no <nav>, <footer>) keeps only
// its text, with or without a "next page" pager.
func TestShortPagesWithoutSemanticMarkup(t *testing.T) {
	ext, err := newExtractor("", "")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://example.jp/story/2")
	for _, body := range []string{
		`<html><head><title>連載 第2回</title></head><body><div id="menu"><a href="/">ホーム</a> <a href="/list">記事一覧</a> <a href="/about">会社概要</a></div>
<div class="content"><h2>連載 第2回</h2><p>第二回の本文はここにあります。</p></div>
<div class="pager"><a href="/story/1">前のページ</a> <a href="/story/3">次のページ</a></div><div id="footer">Copyright 例示株式会社</div></body></html>`,
		`<html><body><div class="header">サイト名</div><div class="main">本文だけの短いページです。<br>二行目です。</div><div class="footer">フッターの文字</div></body></html>`,
	} {
		p, err := ext.extract(base, []byte(body), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, junk := range []string{"記事一覧", "会社概要", "Copyright", "次のページ"} {
			if strings.Contains(p.Text, junk) {
				t.Errorf("text keeps %q:\n%s", junk, p.Text)
			}
		}
		if !strings.Contains(p.Text, "本文") {
			t.Errorf("text lost the body:\n%s", p.Text)
		}
	}
}
