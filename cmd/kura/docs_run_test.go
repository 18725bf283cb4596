package main

// The documentation's command examples are tested here, so the pages
// cannot drift from the commands:
//
//   - every `kura ...` line in a fenced sh/bash/console block of README.md
//     and docs/ (and in the generated reference's examples) is parsed by
//     the command tree: an unknown command, a removed flag or a flag
//     missing its value fails TestDocCommandLines;
//   - blocks marked runnable (the info string "sh runnable") are run by
//     TestRunnableDocs, page by page, in a fresh directory holding a copy
//     of docs/ and the kura binary (as `kura` on PATH and as ./kura, the
//     README's `go build -o kura ./cmd/kura`), offline (no keys, no
//     Milvus, the hash embedder, the extractive answerer). A block fails
//     on any non-zero exit status.

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runnableMarker in a fenced block's info string ("```sh runnable") makes
// TestRunnableDocs run the block.
const runnableMarker = "runnable"

// docBlock is one fenced code block of a documentation page.
type docBlock struct {
	file string // path relative to the repository root
	line int    // line of the opening fence
	lang string
	info string // the info string after the language
	body string
}

func (b docBlock) runnable() bool {
	return (b.lang == "sh" || b.lang == "bash") && strings.Contains(" "+b.info+" ", " "+runnableMarker+" ")
}

// docPages lists README.md and every Markdown page under docs/, relative
// to the repository root.
func docPages(t *testing.T) []string {
	t.Helper()
	pages := []string{"README.md"}
	err := filepath.WalkDir("../../docs", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, _ := filepath.Rel("../..", path)
			pages = append(pages, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// fencedBlocks returns the fenced code blocks (``` or ~~~) of a page.
func fencedBlocks(file, text string) []docBlock {
	var blocks []docBlock
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimLeft(lines[i], " ")
		fence := ""
		for _, f := range []string{"```", "~~~"} {
			if strings.HasPrefix(trimmed, f) {
				fence = f
			}
		}
		if fence == "" {
			continue
		}
		info := strings.TrimSpace(strings.TrimLeft(trimmed, fence[:1]))
		lang, rest, _ := strings.Cut(info, " ")
		b := docBlock{file: file, line: i + 1, lang: lang, info: strings.TrimSpace(rest)}
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(strings.TrimLeft(lines[i], " "), fence); i++ {
			body = append(body, lines[i])
		}
		b.body = strings.Join(body, "\n")
		blocks = append(blocks, b)
	}
	return blocks
}

// shellWords splits a command line into words and operators, honouring
// quotes and stopping at a comment. Operators (|, &&, ;, $( ...) come
// back as words of their own so the caller can split commands at them.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	r := []rune(line)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\'' || c == '"':
			inWord = true
			j := i + 1
			for ; j < len(r) && r[j] != c; j++ {
				if c == '"' && r[j] == '\\' && j+1 < len(r) {
					j++
				}
				cur.WriteRune(r[j])
			}
			i = j
		case c == '#' && !inWord:
			flush()
			return words
		case unicode.IsSpace(c):
			flush()
		case strings.ContainsRune("|&;()<>`", c):
			if (c == '>' || c == '<') && inWord && strings.Trim(cur.String(), "0123456789") == "" {
				cur.Reset() // the descriptor of a redirection, as in 2>&1
				inWord = false
			}
			flush()
			words = append(words, string(c))
		case c == '$' && i+1 < len(r) && r[i+1] == '(':
			flush()
			words = append(words, "$(")
			i++
		default:
			inWord = true
			cur.WriteRune(c)
		}
	}
	flush()
	return words
}

// kuraCommands returns the argument lists of the kura invocations in a
// shell block: `kura ...`, `./kura ...` and `go run ./cmd/kura ...`, with
// environment assignments in front allowed. In console blocks only lines
// with a "$ " prompt are commands.
func kuraCommands(b docBlock) [][]string {
	var cmds [][]string
	text := strings.ReplaceAll(b.body, "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if b.lang == "console" || strings.HasPrefix(line, "$ ") {
			var ok bool
			if line, ok = strings.CutPrefix(line, "$ "); !ok {
				continue
			}
		}
		words := shellWords(line)
		for start := 0; start < len(words); {
			end := start
			for end < len(words) && !strings.Contains("|&;()<>`$(", words[end]) {
				end++
			}
			seg := words[start:end]
			for len(seg) > 0 && (strings.Contains(seg[0], "=") && !strings.HasPrefix(seg[0], "-") || seg[0] == "time" || seg[0] == "exec" || seg[0] == "env") {
				seg = seg[1:]
			}
			switch {
			case len(seg) > 0 && (seg[0] == "kura" || strings.HasSuffix(seg[0], "/kura")):
				cmds = append(cmds, seg[1:])
			case len(seg) > 2 && seg[0] == "go" && seg[1] == "run" && seg[2] == "./cmd/kura":
				cmds = append(cmds, seg[3:])
			}
			start = end + 1
		}
	}
	return cmds
}

// checkCommandLine parses one documented command line with the real
// command tree and returns what is wrong with it, or "".
func checkCommandLine(args []string) string {
	root := referenceRoot()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err.Error()
	}
	if err := cmd.ParseFlags(rest); err != nil {
		msg := err.Error()
		// A value the page shows as a shell variable or placeholder is
		// not the page's mistake; an unknown flag is.
		if strings.Contains(msg, "unknown") || strings.Contains(msg, "needs an argument") {
			return msg
		}
		return ""
	}
	// Only the words left once the flags have taken their values are
	// arguments: in "kura traces --limit 100", 100 is the value of --limit.
	positional := cmd.Flags().Args()
	if err := cmd.ValidateArgs(positional); err != nil {
		return err.Error()
	}
	// A command that holds subcommands takes no arguments of its own in
	// this tree (its RunE refuses them), so a word left over is a
	// subcommand that does not exist.
	if cmd.HasSubCommands() && len(positional) > 0 {
		return "unknown command " + positional[0] + " for " + cmd.CommandPath()
	}
	return ""
}

// TestCheckCommandLine: the checker accepts what the command tree accepts
// and names what it refuses.
func TestCheckCommandLine(t *testing.T) {
	f := func(line string, wantProblem bool) {
		t.Helper()
		problem := checkCommandLine(shellWords(line))
		if (problem != "") != wantProblem {
			t.Errorf("checkCommandLine(%q) = %q, want a problem: %v", line, problem, wantProblem)
		}
	}
	f("traces --limit 100 --json", false)
	f("traces -n 5", false)
	f("traces show ans_3f2a9c1d0b7e4a51", false)
	f(`search --json "what is GitOps?"`, false)
	f("search --limit $K GitOps", false) // a placeholder value is the reader's to fill in
	f("traces 100", true)
	f("traces show", true)
	f("collection bogus", true)
	f("bogus", true)
	f("search --no-such-flag GitOps", true)
	f("ingest --data", true)
}

// TestDocCommandLines parses every kura command line of the docs.
func TestDocCommandLines(t *testing.T) {
	checked := 0
	for _, page := range docPages(t) {
		text, err := os.ReadFile(filepath.Join("../..", page))
		if err != nil {
			t.Fatal(err)
		}
		reference := strings.HasPrefix(page, "docs/reference/")
		for _, b := range fencedBlocks(page, string(text)) {
			switch {
			case b.lang == "sh" || b.lang == "bash" || b.lang == "shell" || b.lang == "console":
			case reference && b.lang == "" && !strings.Contains(b.body, "[flags]"):
				// cobra writes a command's Examples in a plain block (and
				// its usage line, which is no example, in another).
			default:
				continue
			}
			for _, args := range kuraCommands(b) {
				checked++
				if problem := checkCommandLine(args); problem != "" {
					t.Errorf("%s:%d: kura %s: %s", b.file, b.line, strings.Join(args, " "), problem)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d kura command lines found in the docs; is the extraction broken?", checked)
	}
}

// otherToolsFlags are flags the guide mentions in prose that belong to
// other programs (docker run --env-file), not to kura.
var otherToolsFlags = []string{"--env-file"}

// TestDocProseFlags: a flag named in the running text of the guide
// (`--chunk-size`, outside code blocks, which TestDocCommandLines parses)
// is a flag of some kura command, so removing or renaming a flag fails
// here until the pages say so too.
func TestDocProseFlags(t *testing.T) {
	known := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { known["--"+f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { known["--"+f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(referenceRoot())
	for _, f := range otherToolsFlags {
		known[f] = true
	}
	inlineFlag := regexp.MustCompile("`(--[a-z0-9][a-z0-9-]*)")
	checked := 0
	for _, page := range docPages(t) {
		if strings.HasPrefix(page, "docs/reference/") {
			continue // generated from the command tree
		}
		text, err := os.ReadFile(filepath.Join("../..", page))
		if err != nil {
			t.Fatal(err)
		}
		prose := string(text)
		for _, b := range fencedBlocks(page, prose) {
			prose = strings.Replace(prose, b.body, "", 1)
		}
		for _, m := range inlineFlag.FindAllStringSubmatch(prose, -1) {
			checked++
			if !known[m[1]] {
				t.Errorf("%s: %s is no flag of any kura command (see kura COMMAND --help)", page, m[1])
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d flags found in the guide's text; is the extraction broken?", checked)
	}
}

// offlineEnv is the environment of a runnable block: the test's, without
// anything that would reach a provider, a Milvus, a Langfuse or another
// data directory.
func offlineEnv(home, bin string) []string {
	drop := []string{"KURA_", "COHERE_", "CO_API_KEY", "OPENAI_", "OLLAMA_", "OCI_", "COMPARTMENT_ID",
		"GENAI_ENDPOINT", "MILVUS_", "LANGFUSE_", "OTEL_", "COLLECTION_NAME", "HOME=", "PATH="}
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, p := range drop {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KURA_TEST_AS_KURA=1", "NO_COLOR=1")
}

// TestRunnableDocs runs the runnable blocks of every page in order, each
// page in a directory of its own that holds a copy of docs/.
func TestRunnableDocs(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash to run the examples with")
	}
	// This test binary is the kura command when KURA_TEST_AS_KURA is set
	// (see TestMain); a link named kura puts it on the examples' PATH.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, "kura")); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, page := range docPages(t) {
		text, err := os.ReadFile(filepath.Join("../..", page))
		if err != nil {
			t.Fatal(err)
		}
		var blocks []docBlock
		for _, b := range fencedBlocks(page, string(text)) {
			if b.runnable() {
				blocks = append(blocks, b)
			}
		}
		if len(blocks) == 0 {
			continue
		}
		t.Run(page, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(filepath.Join(dir, "docs"), os.DirFS("../../docs")); err != nil {
				t.Fatal(err)
			}
			// The README builds ./kura with `go build -o kura ./cmd/kura`
			// and runs it from the checkout; the link stands for that build.
			if err := os.Symlink(self, filepath.Join(dir, "kura")); err != nil {
				t.Fatal(err)
			}
			env := offlineEnv(dir, bin)
			for _, b := range blocks {
				ran++
				script := strings.ReplaceAll(b.body, "go run ./cmd/kura", "kura")
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
				cmd.Dir = dir
				cmd.Env = env
				var out bytes.Buffer
				cmd.Stdout = &out
				cmd.Stderr = &out
				err := cmd.Run()
				cancel()
				if err != nil {
					t.Errorf("%s:%d: the example failed (%v):\n%s\n--- output ---\n%s", b.file, b.line, err, b.body, tail(out.String(), 3000))
				}
			}
		})
	}
	if ran == 0 {
		t.Fatal("no runnable examples found in the docs")
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
