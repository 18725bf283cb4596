package document

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func TestLoadHTML(t *testing.T) {
	f := func(name, in, wantTitle, wantText string) {
		t.Helper()
		docs, _, err := LoadBytes(name, []byte(in), LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := docs[0]; d.Title != wantTitle || d.Text != wantText {
			t.Fatalf("%s:\n got title %q text %q\nwant title %q text %q", name, d.Title, d.Text, wantTitle, wantText)
		}
	}

	f("boilerplate.html", `<!doctype html><html><head><title> 記事 | サイト </title>
<style>body{color:red}</style><script>var x = "<p>no</p>";</script></head>
<body>
<header><a href="/">ロゴ</a></header>
<nav><ul><li>ホーム</li><li>一覧</li></ul></nav>
<div role="navigation">パンくず</div>
<div class="content">
  <h1>見出し</h1>
  <p>最初の段落です。
     改行をまたぐ文。</p>
  <p>Hello,   <b>bold</b>
     world &amp; entities&nbsp;&lt;ok&gt;</p>
  <span aria-hidden="true">★</span><div hidden>隠し</div>
  <form><input value="x"><button>送信</button></form>
  <noscript>JS off</noscript><template><p>tpl</p></template><svg><text>svg</text></svg>
</div>
<aside>関連記事</aside>
<footer>© 2024</footer>
</body></html>`,
		"記事 | サイト",
		"見出し\n\n最初の段落です。改行をまたぐ文。\n\nHello, bold world & entities <ok>")

	f("article.htm", `<html><head><meta property="og:title" content="OG タイトル"></head><body>
<div>サイドの小さな文</div>
<article><p>短い記事</p></article>
<article><header><h1>本題</h1><time>2024-01-01</time></header>
<p>長い本文の記事です。長い本文の記事です。長い本文の記事です。</p>
<ul><li>項目1</li><li>項目2</li></ul>
<pre>  code  line 1
    indented</pre>
<table><tr><th>名前</th><td>値</td></tr><tr><td>a</td><td>b</td></tr></table>
<p>一行目<br>二行目<br><br><br>三行目</p>
<footer>タグ: x</footer>
</article></body></html>`,
		"OG タイトル",
		"本題\n\n2024-01-01\n\n長い本文の記事です。長い本文の記事です。長い本文の記事です。\n\n項目1\n項目2\n\n  code  line 1\n    indented\n\n名前 値\na b\n\n一行目\n二行目\n\n三行目")

	f("main.html", `<body><h1>Page H1</h1><main><p>main text</p></main><article><p>outside main, much longer text than the main element has</p></article></body>`,
		"Page H1", "main text")

	// A small <article> (a teaser card) must not hide the real content.
	f("teaser.html", `<body><p>`+strings.Repeat("本文。", 50)+`</p><article>カード</article></body>`,
		"teaser", strings.Repeat("本文。", 50)+"\n\nカード")

	f("crlf.html", "<title>t</title><pre>a\r\nb\rc</pre>", "t", "a\nb\nc")
}

func TestLoadHTMLCharset(t *testing.T) {
	const body = "日本語のページです。表示の確認。"
	f := func(name, head string, encode func(string) []byte) {
		t.Helper()
		page := "<html><head>" + head + "<title>題名</title></head><body><p>" + body + "</p></body></html>"
		docs, _, err := LoadBytes(name, encode(page), LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if docs[0].Text != body || docs[0].Title != "題名" {
			t.Fatalf("%s: got %q / %q", name, docs[0].Title, docs[0].Text)
		}
	}
	sjis := func(s string) []byte { b, _ := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s)); return b }
	euc := func(s string) []byte { b, _ := japanese.EUCJP.NewEncoder().Bytes([]byte(s)); return b }
	utf := func(s string) []byte { return []byte(s) }

	f("meta-charset.html", `<meta charset="Shift_JIS">`, sjis)
	f("http-equiv.html", `<meta http-equiv="Content-Type" content="text/html; charset=euc-jp">`, euc)
	f("undeclared.html", ``, sjis)
	// Pages re-saved as UTF-8 often keep their old declaration.
	f("stale.html", `<meta charset="shift_jis">`, utf)
	// A wrong declaration that cannot decode the bytes falls back to detection.
	f("wrong.html", `<meta charset="euc-jp">`, sjis)
}

func TestLoadHTMLEmpty(t *testing.T) {
	_, _, err := LoadBytes("nav.html", []byte(`<html><body><nav>menu</nav><script>x()</script></body></html>`), LoadOptions{})
	if !errors.Is(err, ErrEmpty) || !strings.Contains(err.Error(), "nav.html: skipped: no text content") {
		t.Fatalf("err = %v", err)
	}
}
