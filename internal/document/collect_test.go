package document

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCollect(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"docs/b.md", "docs/a.txt", "docs/sub/c.html", "docs/sub/d.jsonl", "docs/sub/e.HTM",
		"docs/image.png", "docs/.hidden.txt", "docs/.git/config.txt", "docs/sub/deeper/f.markdown",
		"other/x.txt", "other/y.xlsx", "empty/readme", "top.txt",
	} {
		writeFile(t, dir, name, []byte("x"))
	}
	if err := os.Symlink(filepath.Join(dir, "docs"), filepath.Join(dir, "docs/sub/loop")); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	if err := os.Symlink(filepath.Join(dir, "missing.txt"), filepath.Join(dir, "other/broken.txt")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)

	f := func(args []string, wantFiles []string, wantProblems ...string) {
		t.Helper()
		files, problems := Collect(args)
		if !reflect.DeepEqual(files, wantFiles) {
			t.Errorf("Collect(%q) files:\n got %q\nwant %q", args, files, wantFiles)
		}
		var got []string
		for _, p := range problems {
			got = append(got, p.Error())
		}
		if !reflect.DeepEqual(got, wantProblems) && !(len(got) == 0 && len(wantProblems) == 0) {
			t.Errorf("Collect(%q) problems:\n got %q\nwant %q", args, got, wantProblems)
		}
	}

	docs := []string{"docs/a.txt", "docs/b.md", "docs/sub/c.html", "docs/sub/d.jsonl", "docs/sub/deeper/f.markdown", "docs/sub/e.HTM"}
	f([]string{"docs"}, docs)
	f([]string{"./docs/"}, docs)
	// Explicit files come back whatever their extension; duplicates once.
	f([]string{"docs/image.png", "docs", "docs/a.txt", "./top.txt", "top.txt"},
		append(append([]string{"docs/image.png"}, docs...), "top.txt"))
	f([]string{"docs/*.txt", "docs/*"}, append([]string{"docs/a.txt", "docs/b.md", "docs/image.png"}, docs[2:]...))
	f([]string{"docs/**/*.html", "**/x.txt"}, []string{"docs/sub/c.html", "other/x.txt"})
	f([]string{"docs/**"}, []string{"docs/a.txt", "docs/b.md", "docs/image.png", "docs/sub/c.html", "docs/sub/d.jsonl", "docs/sub/deeper/f.markdown", "docs/sub/e.HTM"})
	f([]string{"docs/.hidden.txt"}, []string{"docs/.hidden.txt"})
	f([]string{"missing.txt", "nomatch/*.md", "empty", "other"}, []string{"other/x.txt"},
		"missing.txt: file does not exist",
		"nomatch/*.md: nothing to read (no file matches the pattern)",
		"empty: nothing to read (no .txt .md .markdown .html .htm .jsonl .pdf .docx .pptx files in the directory)",
		"other/broken.txt: broken symbolic link: file does not exist")
	f([]string{"[bad"}, nil, "[bad: syntax error in pattern")
	f([]string{""}, nil, `"": empty path argument: nothing to read`)

	abs := filepath.ToSlash(filepath.Join(dir, "top.txt"))
	f([]string{abs, "top.txt"}, []string{abs})
}

func TestCollectProblemsWrapSentinels(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	_, problems := Collect([]string{"nope.txt", "*.md", dir})
	if len(problems) != 3 {
		t.Fatalf("problems = %v", problems)
	}
	if !errors.Is(problems[0], fs.ErrNotExist) || !errors.Is(problems[1], ErrNoMatch) || !errors.Is(problems[2], ErrNoMatch) {
		t.Fatalf("problems = %v", problems)
	}
	for _, p := range problems {
		if strings.Contains(p.Error(), "\n") {
			t.Errorf("multi-line problem %q", p)
		}
	}
}
