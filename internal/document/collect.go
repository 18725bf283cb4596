package document

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Collect expands command-line arguments into the files to load.
//
// An argument may be a file, a directory or a glob pattern (filepath.Glob
// syntax, plus "**" for any number of directories). Directories are walked
// recursively in lexical order, skipping hidden entries (names starting with
// ".") and following symbolic links without looping; a walk returns only
// files with [Supported] extensions. Files named explicitly or matched by a
// glob are returned whatever their extension, so that [Load] can tell the
// user why they were skipped instead of silently dropping them.
//
// Paths are cleaned and use forward slashes; they are relative when the
// argument was. A file reached by several arguments (or links) appears once,
// at its first position. Each argument that yields nothing produces a
// problem naming it; the other arguments are still collected. Files a walk
// passes over because kura does not read their type are listed too, so
// that the caller can say so.
func Collect(args []string) Collected {
	c := &collector{seenFiles: map[string]bool{}, seenDirs: map[string]bool{}}
	for _, arg := range args {
		c.arg(arg)
	}
	return c.Collected
}

// Collected is what [Collect] found.
type Collected struct {
	Files    []string // files to load
	Problems []error  // arguments that named nothing readable
	// Unsupported are the files directory walks passed over because no
	// loader reads their extension (hidden files are not listed).
	Unsupported []string
}

// ExtCount is how many files of one extension were passed over.
type ExtCount struct {
	Ext     string // lower case with the dot, or "" for none
	Count   int
	Example string // the first such file
}

// UnsupportedByExt groups Unsupported by extension, most frequent first.
func (c Collected) UnsupportedByExt() []ExtCount {
	var out []ExtCount
	at := map[string]int{}
	for _, p := range c.Unsupported {
		ext := strings.ToLower(path.Ext(p))
		i, ok := at[ext]
		if !ok {
			i = len(out)
			at[ext] = i
			out = append(out, ExtCount{Ext: ext, Example: p})
		}
		out[i].Count++
	}
	slices.SortStableFunc(out, func(a, b ExtCount) int { return cmp.Compare(b.Count, a.Count) })
	return out
}

type collector struct {
	Collected
	seenFiles map[string]bool // real paths of collected files
	seenDirs  map[string]bool // real paths of walked directories
	found     bool            // the current argument named at least one file, new or not
}

func (c *collector) problem(format string, a ...any) {
	c.Problems = append(c.Problems, fmt.Errorf(format, a...))
}

func (c *collector) arg(arg string) {
	c.found = false
	if arg == "" {
		// os.Stat("") fails, and the cleaned name "." would mislead.
		c.problem(`"": empty path argument: %w`, ErrNoMatch)
		return
	}
	fi, err := os.Stat(arg)
	switch {
	case err == nil && fi.IsDir():
		c.walk(arg)
		if !c.found {
			c.problem("%s: %w (no %s files in the directory)", slashClean(arg), ErrNoMatch, strings.Join(Extensions(), " "))
		}
	case err == nil:
		c.add(arg)
	case isGlob(arg):
		c.glob(arg)
	case errors.Is(err, fs.ErrNotExist):
		if _, lerr := os.Lstat(arg); lerr == nil {
			c.problem("%s: broken symbolic link: %w", slashClean(arg), fs.ErrNotExist)
			return
		}
		c.problem("%s: %w", slashClean(arg), fs.ErrNotExist)
	default:
		c.problem("%s: %w", slashClean(arg), unwrapPath(err))
	}
}

// add records a file unless it was seen before under any name.
func (c *collector) add(p string) {
	c.found = true
	key := p
	if real, err := filepath.EvalSymlinks(p); err == nil {
		key = real
	}
	if abs, err := filepath.Abs(key); err == nil {
		key = abs
	}
	if c.seenFiles[key] {
		return
	}
	c.seenFiles[key] = true
	c.Files = append(c.Files, slashClean(p))
}

// walk adds the supported files under dir. Only entries below dir are
// skipped as hidden, so an explicit "kura ingest .notes" still works.
func (c *collector) walk(dir string) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	if abs, err := filepath.Abs(real); err == nil {
		real = abs
	}
	if c.seenDirs[real] {
		// A symlink loop, or a directory already walked via another
		// argument; its files were collected then.
		c.found = true
		return
	}
	c.seenDirs[real] = true
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		c.problem("%s: cannot read directory: %w", slashClean(dir), unwrapPath(err))
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		typ := e.Type()
		if typ&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				if Supported(name) {
					c.problem("%s: broken symbolic link: %w", slashClean(p), fs.ErrNotExist)
				}
				continue
			}
			typ = fi.Mode().Type()
		}
		switch {
		case typ.IsDir():
			c.walk(p)
		case typ.IsRegular() && Supported(name):
			c.add(p)
		case typ.IsRegular():
			c.Unsupported = append(c.Unsupported, slashClean(p))
		}
	}
}

func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// globRoot splits the slash-separated elements of a glob pattern into
// its literal prefix, the directory a walk starts from ("/" or "." when
// there is none), and the elements left to match below it.
func globRoot(elems []string) (string, []string) {
	n := 0
	for n < len(elems)-1 && !isGlob(elems[n]) {
		n++
	}
	base := strings.Join(elems[:n], "/")
	switch {
	case base == "" && len(elems) > 1 && elems[0] == "":
		base = "/"
	case base == "":
		base = "."
	}
	return base, elems[n:]
}

func (c *collector) glob(pattern string) {
	var matches []string
	var err error
	if strings.Contains(pattern, "**") {
		matches, err = globStar(pattern)
	} else {
		matches, err = filepath.Glob(pattern)
	}
	if err != nil {
		c.problem("%s: %w", slashClean(pattern), err)
		return
	}
	// Shells do not let "*" match dot-files; neither do we, unless the
	// pattern itself asks for them.
	wantHidden := strings.HasPrefix(filepath.Base(pattern), ".")
	for _, m := range matches {
		if !wantHidden && strings.HasPrefix(filepath.Base(m), ".") {
			continue
		}
		fi, err := os.Stat(m)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			c.walk(m)
		} else if fi.Mode().IsRegular() {
			c.add(m)
		}
	}
	if !c.found {
		c.problem("%s: %w (no file matches the pattern)", slashClean(pattern), ErrNoMatch)
	}
}

// globStar matches patterns with "**" elements by walking the longest
// literal prefix and matching each path element by element; "**" matches
// zero or more directories. Hidden directories are not entered.
func globStar(pattern string) ([]string, error) {
	pat := filepath.ToSlash(pattern)
	elems := strings.Split(pat, "/")
	for _, e := range elems {
		if e != "**" {
			if _, err := path.Match(e, ""); err != nil {
				return nil, err
			}
		}
	}
	base, rest := globRoot(elems)
	var out []string
	visited := map[string]bool{}
	var walk func(dir string, rel []string)
	walk = func(dir string, rel []string) {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return
		}
		if visited[real] {
			return
		}
		visited[real] = true
		defer delete(visited, real) // only ancestors count as a loop
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			p := filepath.Join(dir, name)
			r := append(rel[:len(rel):len(rel)], name)
			fi, err := os.Stat(p)
			if err != nil {
				continue
			}
			if !fi.IsDir() {
				if matchElems(rest, r) {
					out = append(out, p)
				}
				continue
			}
			walk(p, r)
		}
	}
	walk(filepath.FromSlash(base), nil)
	return out, nil
}

// matchElems matches path elements against pattern elements, "**" matching
// any number (including zero) of elements.
func matchElems(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchElems(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

func slashClean(p string) string { return filepath.ToSlash(filepath.Clean(p)) }

// unwrapPath drops the *fs.PathError wrapper, whose message repeats the
// operation and path that our own message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
