package kura_test

// Tests of the documentation as a whole: the English and Japanese guides
// have the same pages, and every relative link of README.md and docs/
// leads to a file (and a heading) that exists. The command examples are
// tested in cmd/kura (docs_run_test.go), the generated reference there too
// (reference_test.go).

import (
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/kura-rag/kura"
)

// pagesOf lists the Markdown pages of one language's guide.
func pagesOf(t *testing.T, lang string) []string {
	t.Helper()
	var pages []string
	err := fs.WalkDir(kura.Docs, "docs/"+lang, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			pages = append(pages, strings.TrimPrefix(p, "docs/"+lang+"/"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// TestGuideInBothLanguages: a page of the user guide exists in English
// (docs/en) and Japanese (docs/ja) under the same name, or in neither.
func TestGuideInBothLanguages(t *testing.T) {
	en, ja := pagesOf(t, "en"), pagesOf(t, "ja")
	if len(en) == 0 {
		t.Fatal("docs/en has no pages")
	}
	for _, p := range en {
		if !slices.Contains(ja, p) {
			t.Errorf("docs/en/%s has no Japanese twin docs/ja/%s", p, p)
		}
	}
	for _, p := range ja {
		if !slices.Contains(en, p) {
			t.Errorf("docs/ja/%s has no English twin docs/en/%s", p, p)
		}
	}
}

// TestGuideIndexListsEveryPage: the index of each language's guide
// (docs/LANG/README.md) links every page of that guide, so a new page
// cannot be written and left unfindable.
func TestGuideIndexListsEveryPage(t *testing.T) {
	for _, lang := range []string{"en", "ja"} {
		index, err := fs.ReadFile(kura.Docs, "docs/"+lang+"/README.md")
		if err != nil {
			t.Fatal(err)
		}
		linked := map[string]bool{}
		for _, target := range links(string(index)) {
			file, _, _ := strings.Cut(target, "#")
			linked[path.Clean(file)] = true
		}
		for _, p := range pagesOf(t, lang) {
			if p != "README.md" && !linked[p] {
				t.Errorf("docs/%s/README.md does not link %s", lang, p)
			}
		}
	}
}

// headingLevels returns the levels of a page's headings in order (code
// blocks excluded), e.g. "1 2 2 3 2".
func headingLevels(text string) string {
	text = fenced.ReplaceAllString(text, "")
	var levels []string
	for _, m := range headingLevel.FindAllStringSubmatch(text, -1) {
		levels = append(levels, itoa(len(m[1])))
	}
	return strings.Join(levels, " ")
}

// TestGuideHeadingsMatch: a page and its twin in the other language have
// the same outline — the same number of headings at the same levels in the
// same order — so a section added to one language is added to the other.
func TestGuideHeadingsMatch(t *testing.T) {
	en := pagesOf(t, "en")
	for _, p := range pagesOf(t, "ja") {
		if !slices.Contains(en, p) {
			continue // TestGuideInBothLanguages reports it
		}
		enText, err := fs.ReadFile(kura.Docs, "docs/en/"+p)
		if err != nil {
			t.Fatal(err)
		}
		jaText, err := fs.ReadFile(kura.Docs, "docs/ja/"+p)
		if err != nil {
			t.Fatal(err)
		}
		if e, j := headingLevels(string(enText)), headingLevels(string(jaText)); e != j {
			t.Errorf("%s: the English and Japanese outlines differ:\n en: %s\n ja: %s", p, outline(string(enText)), outline(string(jaText)))
		}
	}
}

// outline lists a page's headings, one per line, for an error message.
func outline(text string) string {
	text = fenced.ReplaceAllString(text, "")
	var b strings.Builder
	for _, m := range headingLevel.FindAllStringSubmatch(text, -1) {
		b.WriteString("\n    " + m[0])
	}
	return b.String()
}

var (
	fenced       = regexp.MustCompile("(?ms)^\\s*(```|~~~).*?^\\s*(```|~~~)[^\\n]*$")
	inlineCode   = regexp.MustCompile("`[^`\\n]*`")
	mdLink       = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	refLink      = regexp.MustCompile(`(?m)^\s*\[[^\]]+\]:\s*(\S+)`)
	htmlLink     = regexp.MustCompile(`(?:href|src)="([^"]+)"`)
	heading      = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)
	headingLevel = regexp.MustCompile(`(?m)^(#{1,6})\s+.*$`)
	htmlAnchor   = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
)

// links returns the link targets of a Markdown page, code excluded.
func links(text string) []string {
	text = fenced.ReplaceAllString(text, "")
	text = inlineCode.ReplaceAllString(text, "")
	var out []string
	for _, re := range []*regexp.Regexp{mdLink, refLink, htmlLink} {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			out = append(out, strings.Trim(m[1], "<>"))
		}
	}
	return out
}

// anchors returns the fragment identifiers GitHub gives a page's
// headings: lower case, punctuation removed, spaces as hyphens, repeats
// numbered -1, -2, ...
func anchors(text string) map[string]bool {
	text = fenced.ReplaceAllString(text, "")
	ids := map[string]bool{}
	seen := map[string]int{}
	for _, m := range heading.FindAllStringSubmatch(text, -1) {
		h := inlineCode.ReplaceAllStringFunc(m[1], func(s string) string { return strings.Trim(s, "`") })
		h = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(h, "$1")
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || unicode.Is(unicode.Mn, r):
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		id := b.String()
		if n := seen[id]; n > 0 {
			ids[id+"-"+itoa(n)] = true
		} else {
			ids[id] = true
		}
		seen[id]++
	}
	for _, m := range htmlAnchor.FindAllStringSubmatch(text, -1) {
		ids[m[1]] = true
	}
	return ids
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}

// TestDocLinks: every relative link of README.md and the pages under
// docs/ names a file of the repository, and a #fragment names a heading of
// the Markdown page it points to.
func TestDocLinks(t *testing.T) {
	pages := []string{"README.md"}
	fs.WalkDir(os.DirFS("."), "docs", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			pages = append(pages, p)
		}
		return err
	})
	checked := 0
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range links(string(b)) {
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			file, frag, _ := strings.Cut(target, "#")
			dest := page
			if file != "" {
				dest = path.Clean(path.Join(path.Dir(page), file))
			}
			info, err := os.Stat(dest)
			if err != nil {
				t.Errorf("%s: link %q: %s does not exist", page, target, dest)
				continue
			}
			if frag == "" || info.IsDir() || !strings.HasSuffix(dest, ".md") {
				continue
			}
			text, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			if !anchors(string(text))[frag] {
				t.Errorf("%s: link %q: %s has no heading with the id %q", page, target, dest, frag)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d relative links found; is the extraction broken?", checked)
	}
}
