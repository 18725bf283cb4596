package document

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
)

func loadHTML(src string, data []byte, _ LoadOptions) ([]Document, []error, error) {
	enc, name := declaredCharset(data)
	text, warnings, err := decodeFile(src, data, enc, name)
	if err != nil {
		return nil, nil, err
	}
	if isBlank(text) {
		return nil, nil, emptyErr("file contains only whitespace")
	}
	root, err := html.Parse(strings.NewReader(text))
	if err != nil {
		// The HTML5 parser recovers from any markup; only a reader error
		// (impossible for strings.Reader) gets here.
		return nil, nil, &SkipError{Reason: "cannot parse HTML: " + err.Error(), Err: err}
	}
	title := htmlTitle(root)
	body := extractMain(root)
	if isBlank(body) {
		return nil, nil, emptyErr("no text content (after removing navigation, scripts and other page furniture)")
	}
	if title == "" {
		title = baseTitle(src)
	}
	return []Document{{Source: src, Title: title, Text: body, Meta: map[string]any{}}}, warnings, nil
}

// declaredCharset finds <meta charset> or <meta http-equiv=Content-Type> in
// the head of the page. The tokenizer works on raw bytes, which is fine:
// tag and attribute names are ASCII in every encoding a page may declare.
func declaredCharset(data []byte) (encoding.Encoding, string) {
	z := html.NewTokenizer(bytes.NewReader(data[:min(len(data), sniffLen)]))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return nil, ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if atom.Lookup(name) == atom.Body {
				return nil, ""
			}
			if atom.Lookup(name) != atom.Meta || !hasAttr {
				continue
			}
			var charset, httpEquiv, content string
			for {
				k, v, more := z.TagAttr()
				switch strings.ToLower(string(k)) {
				case "charset":
					charset = string(v)
				case "http-equiv":
					httpEquiv = string(v)
				case "content":
					content = string(v)
				}
				if !more {
					break
				}
			}
			if charset == "" && strings.EqualFold(httpEquiv, "content-type") {
				charset = charsetFromContentType(content)
			}
			if charset == "" {
				continue
			}
			enc, err := htmlindex.Get(strings.TrimSpace(charset))
			if err != nil {
				continue
			}
			label, _ := htmlindex.Name(enc)
			// Per the HTML standard: a page that can declare itself in
			// ASCII is not UTF-16, whatever it says.
			if strings.HasPrefix(label, "utf-16") {
				return nil, ""
			}
			return enc, label
		}
	}
}

func charsetFromContentType(ct string) string {
	i := strings.Index(strings.ToLower(ct), "charset")
	if i < 0 {
		return ""
	}
	v := strings.TrimLeft(ct[i+len("charset"):], " \t")
	if !strings.HasPrefix(v, "=") {
		return ""
	}
	v = strings.Trim(strings.TrimLeft(v[1:], " \t"), `"'`)
	if j := strings.IndexAny(v, `;"' `); j >= 0 {
		v = v[:j]
	}
	return v
}

// dropped elements never hold the main text of a page.
var dropped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Math: true, atom.Nav: true, atom.Footer: true,
	atom.Aside: true, atom.Form: true, atom.Iframe: true, atom.Button: true,
	atom.Select: true, atom.Textarea: true, atom.Object: true, atom.Embed: true,
	atom.Canvas: true, atom.Audio: true, atom.Video: true, atom.Dialog: true,
	atom.Head: true, atom.Title: true,
}

var droppedRoles = map[string]bool{
	"navigation": true, "banner": true, "contentinfo": true, "complementary": true, "search": true,
}

// paragraphs are separated by a blank line, other blocks by a line break.
var paragraphs = map[atom.Atom]bool{
	atom.P: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true,
	atom.H5: true, atom.H6: true, atom.Pre: true, atom.Blockquote: true,
	atom.Table: true, atom.Ul: true, atom.Ol: true, atom.Dl: true, atom.Figure: true,
	atom.Hr: true, atom.Section: true, atom.Article: true, atom.Main: true,
	atom.Details: true, atom.Address: true, atom.Header: true,
}

var blocks = map[atom.Atom]bool{
	atom.Div: true, atom.Li: true, atom.Tr: true, atom.Dt: true, atom.Dd: true,
	atom.Caption: true, atom.Figcaption: true, atom.Summary: true, atom.Tbody: true,
	atom.Thead: true, atom.Tfoot: true, atom.Fieldset: true, atom.Legend: true,
	atom.Hgroup: true, atom.Option: true, atom.Body: true, atom.Html: true,
	atom.Center: true, atom.Menu: true,
}

// isDropped decides whether n is page furniture. A <header> inside an
// <article> or <main> is the content's own heading block (title, date), so
// it stays; a page-level <header> is the site banner.
func isDropped(n *html.Node, inContent bool) bool {
	if n.Type != html.ElementNode {
		return n.Type == html.CommentNode
	}
	if dropped[n.DataAtom] {
		return true
	}
	if n.DataAtom == atom.Header && !inContent {
		return true
	}
	for _, a := range n.Attr {
		switch a.Key {
		case "role":
			if droppedRoles[strings.ToLower(strings.TrimSpace(a.Val))] {
				return true
			}
		case "aria-hidden":
			if strings.EqualFold(strings.TrimSpace(a.Val), "true") {
				return true
			}
		case "hidden":
			return true
		}
	}
	return false
}

// extractMain returns the readable text of the page. <main> is the author's
// own statement of where the content is, so it wins; without one, the
// largest <article> is used unless it holds under a quarter of the page's
// text (then it is probably a teaser card, and the whole body is safer).
func extractMain(root *html.Node) string {
	var mains, articles []*html.Node
	var find func(n *html.Node, inContent bool)
	find = func(n *html.Node, inContent bool) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if isDropped(c, inContent) {
				continue
			}
			switch c.DataAtom {
			case atom.Main:
				mains = append(mains, c)
			case atom.Article:
				articles = append(articles, c)
			}
			find(c, inContent || c.DataAtom == atom.Main || c.DataAtom == atom.Article)
		}
	}
	find(root, false)

	longest := func(nodes []*html.Node) (string, int) {
		best, bestLen := "", -1
		for _, n := range nodes {
			t := nodeText(n, true)
			if l := utf8.RuneCountInString(t); l > bestLen {
				best, bestLen = t, l
			}
		}
		return best, bestLen
	}
	if len(mains) > 0 {
		if t, _ := longest(mains); !isBlank(t) {
			return t
		}
	}
	all := nodeText(root, false)
	if len(articles) > 0 {
		if t, l := longest(articles); !isBlank(t) && 4*l >= utf8.RuneCountInString(all) {
			return t
		}
	}
	return all
}

func nodeText(n *html.Node, inContent bool) string {
	var w textWriter
	w.node(n, inContent, false)
	return w.String()
}

// textWriter renders nodes as plain text the way a browser lays them out:
// inline runs of whitespace collapse to one space, blocks start new lines,
// paragraphs are separated by one blank line, <pre> is kept verbatim.
type textWriter struct {
	b            strings.Builder
	newlines     int  // trailing newlines written; 0 means mid-line
	space        bool // collapsed whitespace is pending
	segmentBreak bool // the pending whitespace contained a line break
	last         rune
}

func (w *textWriter) String() string {
	return strings.TrimRight(w.b.String(), " \n")
}

func (w *textWriter) node(n *html.Node, inContent, pre bool) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data, pre)
		return
	case html.ElementNode:
		if isDropped(n, inContent) {
			return
		}
	case html.DocumentNode:
	default:
		return
	}
	a := n.DataAtom
	inContent = inContent || a == atom.Main || a == atom.Article
	switch {
	case a == atom.Br:
		w.hardBreak()
		return
	case a == atom.Img:
		return
	case a == atom.Td || a == atom.Th:
		w.cellBreak()
	case paragraphs[a]:
		w.lineBreak(2)
	case blocks[a]:
		w.lineBreak(1)
	}
	pre = pre || a == atom.Pre || a == atom.Textarea || a == atom.Listing || a == atom.Plaintext
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c, inContent, pre)
	}
	switch {
	case paragraphs[a]:
		w.lineBreak(2)
	case blocks[a]:
		w.lineBreak(1)
	}
}

func (w *textWriter) lineBreak(n int) {
	w.space, w.segmentBreak = false, false
	if w.b.Len() == 0 {
		return
	}
	for w.newlines < n {
		w.b.WriteByte('\n')
		w.newlines++
	}
}

// hardBreak is <br>: always a new line, but two <br>s in a row (a common
// way to fake paragraphs) must not open more than one blank line.
func (w *textWriter) hardBreak() {
	w.space, w.segmentBreak = false, false
	if w.b.Len() == 0 || w.newlines >= 2 {
		return
	}
	w.b.WriteByte('\n')
	w.newlines++
}

func (w *textWriter) cellBreak() {
	if w.newlines == 0 && w.b.Len() > 0 {
		w.space, w.segmentBreak = true, false
	}
}

func (w *textWriter) text(s string, pre bool) {
	if pre {
		for _, r := range s {
			w.flushSpace(r)
			w.put(r)
		}
		return
	}
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\f', '\r', '\u00a0':
			w.space = true
			if r == '\n' {
				w.segmentBreak = true
			}
			continue
		}
		w.flushSpace(r)
		w.put(r)
	}
}

func (w *textWriter) put(r rune) {
	w.b.WriteRune(r)
	w.last = r
	if r == '\n' {
		w.newlines++
	} else {
		w.newlines = 0
	}
}

// flushSpace writes pending collapsed whitespace before r. Like browsers
// (CSS Text, segment break transformation), a line break between two CJK
// characters is dropped, not turned into a space: Japanese source HTML
// wraps lines mid-sentence, and "日本 語" would hurt search.
func (w *textWriter) flushSpace(r rune) {
	if !w.space {
		return
	}
	drop := w.newlines > 0 || w.b.Len() == 0 || (w.segmentBreak && isWide(w.last) && isWide(r))
	w.space, w.segmentBreak = false, false
	if !drop {
		w.put(' ')
	}
}

// isWide approximates East Asian Wide/Fullwidth characters, excluding
// Hangul, which separates words with spaces.
func isWide(r rune) bool {
	switch {
	case r >= 0x2E80 && r <= 0xA4CF,
		r >= 0xF900 && r <= 0xFAFF,
		r >= 0xFE30 && r <= 0xFE4F,
		r >= 0xFF00 && r <= 0xFF60,
		r >= 0xFFE0 && r <= 0xFFE6,
		r >= 0x20000 && r <= 0x3FFFD:
		return true
	}
	return false
}

// htmlTitle prefers <title>, then og:title, then the first <h1>.
func htmlTitle(root *html.Node) string {
	var title, og, h1 string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Title:
				if title == "" {
					title = collapse(nodeTextRaw(n))
				}
				return
			case atom.Meta:
				if og == "" && (attr(n, "property") == "og:title" || attr(n, "name") == "og:title") {
					og = collapse(attr(n, "content"))
				}
			case atom.H1:
				if h1 == "" {
					h1 = collapse(nodeTextRaw(n))
				}
				return
			case atom.Script, atom.Style, atom.Template, atom.Svg:
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	for _, t := range []string{title, og, h1} {
		if t != "" {
			return t
		}
	}
	return ""
}

func nodeTextRaw(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func collapse(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\u00a0", " ")), " ")
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
