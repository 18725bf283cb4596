package main

// The command reference in docs/reference is generated from the command
// tree by cobra's own generator, here in a test so that the generator and
// its man-page renderer stay out of the kura binary. TestReference fails
// when the checked-in pages differ from what the commands say today;
// regenerate them with
//
//	go generate ./cmd/kura
//
// which runs this test with -update.

//go:generate go test -run ^TestReference$ -update .

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

var update = flag.Bool("update", false, "rewrite the generated files (docs/reference) instead of comparing")

const referenceDir = "../../docs/reference"

// referenceDate is printed in the man pages' header. A fixed date keeps
// the pages unchanged until the commands change; bump it when the
// reference is regenerated for a release.
var referenceDate = time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC)

// referenceRoot is the command tree as the kura binary builds it, with
// cobra's completion command added (the binary adds it lazily on first
// use) and the date stamp of generated files turned off.
func referenceRoot() *cobra.Command {
	root, _ := newRootCommand()
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true
	return root
}

// generateReference renders the Markdown page and the man page of every
// command, keyed by their path under docs/reference.
func generateReference(t *testing.T) map[string][]byte {
	t.Helper()
	root := referenceRoot()
	dir := t.TempDir()
	md := filepath.Join(dir, "md")
	man := filepath.Join(dir, "man")
	for _, d := range []string{md, man} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	prepend := func(string) string {
		return "<!-- Generated from the command tree by `go generate ./cmd/kura`; do not edit. -->\n\n"
	}
	if err := doc.GenMarkdownTreeCustom(root, md, prepend, func(s string) string { return s }); err != nil {
		t.Fatal(err)
	}
	header := &doc.GenManHeader{Title: "KURA", Section: "1", Source: "kura", Manual: "kura manual", Date: &referenceDate}
	if err := doc.GenManTree(root, header, man); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	read := func(from, to string) {
		entries, err := os.ReadDir(from)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(from, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[filepath.Join(to, e.Name())] = b
		}
	}
	read(md, "")
	read(man, "man")
	// Each Markdown page gets a table of its flags with their environment
	// variables and defaults, the facts a reader looks up most.
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root {
			return
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
		page, ok := files[name]
		if !ok {
			t.Fatalf("cobra wrote no page %s", name)
		}
		files[name] = insertFlagTable(page, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return files
}

// envInUsage finds the environment variable a flag's help names, as in
// "(env KURA_DATA)" or "(env MILVUS_URI; token in MILVUS_TOKEN)".
var envInUsage = regexp.MustCompile(`\benv ([A-Z][A-Z0-9_]+)`)

// defaultInUsage finds a default the help describes in words, as in
// "(default: the index's)", for flags whose zero value stands for it.
var defaultInUsage = regexp.MustCompile(`(?:\(|; )default:? ([^)]+)\)`)

// insertFlagTable puts a "Flags at a glance" table before the "SEE ALSO"
// section of a cobra Markdown page.
func insertFlagTable(page []byte, c *cobra.Command) []byte {
	var b bytes.Buffer
	row := func(f *pflag.Flag, inherited bool) {
		if f.Hidden || f.Name == "help" {
			return
		}
		name := "`--" + f.Name + "`"
		if f.Shorthand != "" {
			name = "`-" + f.Shorthand + "`, " + name
		}
		env := ""
		if m := envInUsage.FindAllStringSubmatch(f.Usage, -1); m != nil {
			var names []string
			for _, s := range m {
				names = append(names, "`"+s[1]+"`")
			}
			env = strings.Join(names, ", ")
		}
		def := f.DefValue
		zero := def == "" || def == "[]" || def == "0" || (f.Value.Type() == "bool" && def == "false")
		switch m := defaultInUsage.FindStringSubmatch(f.Usage); {
		case zero && m != nil:
			def = m[1] // "(default: the index's)" says more than 0
		case zero:
			def = ""
		default:
			def = "`" + def + "`"
		}
		scope := ""
		if inherited {
			scope = " (global)"
		}
		usage := strings.ReplaceAll(strings.ReplaceAll(f.Usage, "|", `\|`), "\n", " ")
		fmt.Fprintf(&b, "| %s%s | %s | %s | %s |\n", name, scope, env, strings.ReplaceAll(def, "|", `\|`), usage)
	}
	var local, inherited []*pflag.Flag
	c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) { local = append(local, f) })
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) { inherited = append(inherited, f) })
	if len(local)+len(inherited) == 0 {
		return page
	}
	var table bytes.Buffer
	table.WriteString("### Flags at a glance\n\n| flag | environment | default | meaning |\n|---|---|---|---|\n")
	for _, f := range local {
		row(f, false)
	}
	for _, f := range inherited {
		row(f, true)
	}
	table.Write(b.Bytes())
	table.WriteString("\nA flag given on the command line wins over its environment variable (a `.env` file in the working directory counts as environment), which wins over the default.\n\n")
	if i := bytes.Index(page, []byte("### SEE ALSO")); i >= 0 {
		return slices.Concat(page[:i], table.Bytes(), page[i:])
	}
	return append(page, append([]byte("\n"), table.Bytes()...)...)
}

// TestReference compares docs/reference with the command tree, or
// rewrites it with -update.
func TestReference(t *testing.T) {
	want := generateReference(t)
	if *update {
		for _, sub := range []string{"", "man"} {
			entries, _ := os.ReadDir(filepath.Join(referenceDir, sub))
			for _, e := range entries {
				if !e.IsDir() && strings.HasPrefix(e.Name(), "kura") {
					os.Remove(filepath.Join(referenceDir, sub, e.Name()))
				}
			}
		}
		for name, b := range want {
			p := filepath.Join(referenceDir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	const fix = "; regenerate the reference with: go generate ./cmd/kura"
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(referenceDir, name))
		if err != nil {
			t.Errorf("docs/reference/%s is missing%s", name, fix)
			continue
		}
		if !bytes.Equal(got, b) {
			t.Errorf("docs/reference/%s is out of date: %s%s", name, firstDifference(got, b), fix)
		}
	}
	for _, sub := range []string{"", "man"} {
		entries, err := os.ReadDir(filepath.Join(referenceDir, sub))
		if err != nil {
			t.Fatalf("docs/reference: %v%s", err, fix)
		}
		for _, e := range entries {
			name := filepath.Join(sub, e.Name())
			if _, ok := want[name]; !ok && !e.IsDir() && strings.HasPrefix(e.Name(), "kura") {
				t.Errorf("docs/reference/%s documents a command that no longer exists%s", name, fix)
			}
		}
	}
}

// firstDifference names the first line where two versions of a page
// differ, so the failure says what changed.
func firstDifference(got, want []byte) string {
	g := strings.Split(string(got), "\n")
	w := strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d is %q, the commands say %q", i+1, gl, wl)
		}
	}
	return "they differ"
}
