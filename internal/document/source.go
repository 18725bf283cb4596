package document

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Namer gives each file one source name, however its path was typed:
// relative or absolute, from any working directory, through symbolic
// links. The name is the file's real path (links resolved) relative to a
// root directory, with forward slashes, e.g. "docs/ja/intro.md"; a file
// outside the root is named by its absolute real path. The source is part
// of every chunk's id, so this is what makes the same file the same
// chunks.
//
// The CLI uses the directory that holds the data directory as root: for
// the default ./kura-data that is the directory kura runs in, so sources
// read as the paths people type there.
type Namer struct {
	root string // absolute, links resolved
}

// NewNamer returns a Namer for root (made absolute, links resolved when it
// exists).
func NewNamer(root string) (*Namer, error) {
	abs, err := realPath(root)
	if err != nil {
		return nil, err
	}
	return &Namer{root: abs}, nil
}

// Root is the root directory, absolute and with links resolved.
func (n *Namer) Root() string { return n.root }

// Source names the file at p (see [Namer]). The file need not exist: the
// longest existing part of the path is resolved.
func (n *Namer) Source(p string) (string, error) {
	real, err := realPath(p)
	if err != nil {
		return "", err
	}
	if rel, ok := within(n.root, real); ok {
		return filepath.ToSlash(rel), nil
	}
	return filepath.ToSlash(real), nil
}

// Aliases are the other names an earlier kura, which stored files as they
// were typed, may have given the file at p: the typed path cleaned, the
// same made absolute, and the absolute real path. Source(p) is left out.
func (n *Namer) Aliases(p string) []string {
	source, _ := n.Source(p)
	var out []string
	add := func(s string) {
		if s != "" && s != source && !contains(out, s) {
			out = append(out, s)
		}
	}
	add(slashClean(p))
	if abs, err := filepath.Abs(p); err == nil {
		add(filepath.ToSlash(abs))
	}
	if real, err := realPath(p); err == nil {
		add(filepath.ToSlash(real))
	}
	return out
}

// Path is where the file named source is on disk.
func (n *Namer) Path(source string) string {
	p := filepath.FromSlash(source)
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(n.root, p)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// realPath makes p absolute and resolves symbolic links in its longest
// existing prefix, so a deleted file still gets the name it had.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	var rest []string
	for cur := abs; ; {
		if real, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(append([]string{real}, rest...)...), nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
		cur = parent
	}
}

// within returns p relative to dir when p is dir or below it.
func within(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return rel, true
}

// Scope reports whether [Collect] would return the file at path for args
// if the file existed: it is an argument itself, it is matched by a glob
// argument, or a walk of a directory argument (or of a directory a glob
// matches) would reach it (not hidden below that directory, with an
// extension kura reads). Paths are compared after resolving links, so a
// path typed differently from the arguments still matches. --prune uses it
// to tell which stored files are gone from where the user looked.
func Scope(args []string) func(path string) bool {
	type scope struct {
		base     string   // a directory, a glob's literal prefix, or a file
		pattern  []string // glob elements after base; nil for a directory or file
		dir      bool
		star     bool // the glob has "**"
		wantDots bool // the glob's last element asks for hidden files
	}
	var scopes []scope
	for _, arg := range args {
		if arg == "" {
			continue
		}
		fi, err := os.Stat(arg)
		switch {
		case err == nil && fi.IsDir():
			real, err := realPath(arg)
			if err == nil {
				scopes = append(scopes, scope{base: real, dir: true})
			}
		case err != nil && isGlob(arg):
			elems := strings.Split(filepath.ToSlash(arg), "/")
			base, rest := globRoot(elems)
			real, err := realPath(filepath.FromSlash(base))
			if err == nil {
				scopes = append(scopes, scope{base: real, pattern: rest, star: strings.Contains(arg, "**"),
					wantDots: strings.HasPrefix(elems[len(elems)-1], ".")})
			}
		default:
			real, err := realPath(arg)
			if err == nil {
				scopes = append(scopes, scope{base: real})
			}
		}
	}
	// walked says whether a walk from a directory reaches rel (its
	// elements below that directory).
	walked := func(rel []string) bool {
		for _, e := range rel {
			if strings.HasPrefix(e, ".") {
				return false
			}
		}
		return Supported(rel[len(rel)-1])
	}
	return func(p string) bool {
		real, err := realPath(p)
		if err != nil {
			return false
		}
		for _, s := range scopes {
			rel, ok := within(s.base, real)
			switch {
			case !ok:
				continue
			case s.dir:
				if rel != "." && walked(strings.Split(filepath.ToSlash(rel), "/")) {
					return true
				}
			case s.pattern == nil:
				if rel == "." {
					return true
				}
			default:
				if rel == "." {
					continue
				}
				elems := strings.Split(filepath.ToSlash(rel), "/")
				if s.star {
					// "**" globs match files only, and never hidden
					// entries (see globStar).
					if !slices.ContainsFunc(elems, func(e string) bool { return strings.HasPrefix(e, ".") }) && matchElems(s.pattern, elems) {
						return true
					}
					continue
				}
				if matchElems(s.pattern, elems) && (s.wantDots || !strings.HasPrefix(path.Base(rel), ".")) {
					return true
				}
				// A glob that matches a directory walks it.
				for k := 1; k < len(elems); k++ {
					if !s.wantDots && strings.HasPrefix(elems[k-1], ".") {
						continue
					}
					if matchElems(s.pattern, elems[:k]) && walked(elems[k:]) {
						return true
					}
				}
			}
		}
		return false
	}
}
