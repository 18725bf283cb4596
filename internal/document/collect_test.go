package document

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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
		got := Collect(args)
		files, problems := got.Files, got.Problems
		if !reflect.DeepEqual(files, wantFiles) {
			t.Errorf("Collect(%q) files:\n got %q\nwant %q", args, files, wantFiles)
		}
		var msgs []string
		for _, p := range problems {
			msgs = append(msgs, p.Error())
		}
		if !reflect.DeepEqual(msgs, wantProblems) && !(len(msgs) == 0 && len(wantProblems) == 0) {
			t.Errorf("Collect(%q) problems:\n got %q\nwant %q", args, msgs, wantProblems)
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
	problems := Collect([]string{"nope.txt", "*.md", dir}).Problems
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

func TestCollectListsUnsupported(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"docs/a.txt", "docs/b.xlsx", "docs/sub/c.xlsx", "docs/sub/d.PNG", "docs/Makefile", "docs/.hidden.xlsx", "x.pdf"} {
		writeFile(t, dir, name, []byte("x"))
	}
	t.Chdir(dir)
	got := Collect([]string{"docs", "x.pdf"})
	if want := []string{"docs/a.txt", "x.pdf"}; !reflect.DeepEqual(got.Files, want) {
		t.Fatalf("files %q, want %q", got.Files, want)
	}
	if want := []string{"docs/Makefile", "docs/b.xlsx", "docs/sub/c.xlsx", "docs/sub/d.PNG"}; !reflect.DeepEqual(got.Unsupported, want) {
		t.Fatalf("unsupported %q, want %q", got.Unsupported, want)
	}
	want := []ExtCount{{".xlsx", 2, "docs/b.xlsx"}, {"", 1, "docs/Makefile"}, {".png", 1, "docs/sub/d.PNG"}}
	if by := got.UnsupportedByExt(); !reflect.DeepEqual(by, want) {
		t.Fatalf("by extension %+v, want %+v", by, want)
	}
}

// TestNamerIgnoresSpelling: relative, absolute, from another working
// directory and through a symbolic link, a file gets one source.
func TestNamerIgnoresSpelling(t *testing.T) {
	dir := t.TempDir()
	proj := filepath.Join(dir, "proj")
	writeFile(t, proj, "docs/a.md", []byte("x"))
	writeFile(t, dir, "outside/b.md", []byte("x"))
	if err := os.Symlink(filepath.Join(proj, "docs"), filepath.Join(dir, "link")); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	n, err := NewNamer(proj)
	if err != nil {
		t.Fatal(err)
	}
	f := func(wd, p, want string) {
		t.Helper()
		t.Chdir(wd)
		got, err := n.Source(p)
		if err != nil || got != want {
			t.Errorf("in %s: Source(%q) = %q, %v; want %q", wd, p, got, err, want)
		}
	}
	f(proj, "docs/a.md", "docs/a.md")
	f(proj, "./docs//a.md", "docs/a.md")
	f(dir, "proj/docs/a.md", "docs/a.md")
	f(dir, filepath.Join(proj, "docs", "a.md"), "docs/a.md")
	f(dir, "link/a.md", "docs/a.md")
	f(filepath.Join(proj, "docs"), "a.md", "docs/a.md")
	f(proj, "docs/deleted.md", "docs/deleted.md") // gone files keep their name
	realOutside, _ := filepath.EvalSymlinks(filepath.Join(dir, "outside"))
	f(proj, "../outside/b.md", filepath.ToSlash(filepath.Join(realOutside, "b.md")))

	t.Chdir(dir)
	aliases := n.Aliases("link/a.md")
	realA, _ := filepath.EvalSymlinks(filepath.Join(proj, "docs", "a.md"))
	for _, want := range []string{"link/a.md", filepath.ToSlash(filepath.Join(dir, "link", "a.md")), filepath.ToSlash(realA)} {
		if !slices.Contains(aliases, want) {
			t.Errorf("aliases %q lack %q", aliases, want)
		}
	}
	if slices.Contains(aliases, "docs/a.md") {
		t.Errorf("aliases %q include the source itself", aliases)
	}
	if got := n.Path("docs/a.md"); got != filepath.Join(n.Root(), "docs", "a.md") {
		t.Errorf("Path = %q", got)
	}
}

// TestScopeAgreesWithCollect: for every file of a tree, Scope(args) says
// yes exactly when Collect(args) returns it.
func TestScopeAgreesWithCollect(t *testing.T) {
	dir := t.TempDir()
	files := []string{"docs/a.md", "docs/en/b.md", "docs/en/c.txt", "docs/en/img.png", "docs/.git/x.md",
		"docs/ja/.hidden.md", "notes/x.md", "notes/y.txt", "notes/sub/z.md", "notes/sub/w.html", "top.md"}
	for _, name := range files {
		writeFile(t, dir, name, []byte("x"))
	}
	t.Chdir(dir)
	for _, args := range [][]string{
		{"docs/*"}, {"docs"}, {"notes/**/*.md"}, {"notes/*.md"}, {"docs/en/b.md"}, {"*"}, {"**"},
		{"docs/e*"}, {dir + "/notes"}, {"./docs/en/"},
	} {
		collected := map[string]bool{}
		for _, f := range Collect(args).Files {
			if rel, err := filepath.Rel(dir, f); err == nil && filepath.IsAbs(f) {
				f = filepath.ToSlash(rel)
			}
			collected[f] = true
		}
		in := Scope(args)
		for _, f := range files {
			if got := in(f); got != collected[f] {
				t.Errorf("Scope(%q)(%s) = %v, Collect says %v", args, f, got, collected[f])
			}
		}
	}
	// A deleted file is still in the scope it was collected from.
	in := Scope([]string{"docs/*"})
	if !in("docs/en/deleted.md") || in("docs/en/deleted.png") || in("other/deleted.md") {
		t.Error("Scope of docs/* misjudges deleted files")
	}
	in = Scope([]string{"notes/**/*.md"})
	if !in("notes/sub/deleted.md") || in("notes/sub/deleted.txt") {
		t.Error("Scope of notes/**/*.md misjudges deleted files")
	}
}

// FuzzScopeAgreesWithCollect: for any glob, Scope and Collect agree on the
// files of a small tree.
func FuzzScopeAgreesWithCollect(f *testing.F) {
	for _, s := range []string{"docs/*", "**", "notes/**/*.md", "*/*/*.txt", "docs/e?", "[dn]*", "**/.x*", "docs/**/b.md"} {
		f.Add(s)
	}
	dir := f.TempDir()
	files := []string{"docs/a.md", "docs/en/b.md", "docs/en/c.txt", "docs/en/img.png", "docs/.git/x.md",
		"docs/ja/.hidden.md", "notes/x.md", "notes/y.txt", "notes/sub/z.md", "notes/sub/.x.md"}
	for _, name := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		f.Fatal(err)
	}
	defer os.Chdir(wd)
	f.Fuzz(func(t *testing.T, pattern string) {
		if !isGlob(pattern) || strings.HasPrefix(pattern, "/") || strings.Contains(pattern, "..") || strings.Contains(pattern, "\\") {
			return // stay inside the tree, and on globs
		}
		if _, err := os.Stat(pattern); err == nil {
			return // names an existing file or directory literally
		}
		collected := map[string]bool{}
		for _, p := range Collect([]string{pattern}).Files {
			collected[p] = true
		}
		in := Scope([]string{pattern})
		for _, name := range files {
			if got := in(name); got != collected[name] {
				t.Fatalf("pattern %q, %s: Scope says %v, Collect %v", pattern, name, got, collected[name])
			}
		}
	})
}
