package local

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Temporary files: a snapshot is written to .snap-* or .bm25-* beside
// rows.db and renamed into place, a collection is created in
// collections/.create-* and dropped through collections/.drop-*. A process
// killed in between leaves them behind (a BM25 or HNSW snapshot can be
// hundreds of megabytes), so they are removed when a collection is next
// opened for writing, and by Store.Open for the collections directory.
//
// A temporary file may belong to a live process that is writing it right
// now. Its writer holds an exclusive lock on it (createTemp) until the
// rename, and the kernel drops the lock when a process dies, so a
// temporary file whose lock can be taken is a leftover. A temporary
// directory is a leftover when nothing in it has changed for leftoverAge
// (a live Create or Drop takes milliseconds); so is a file on systems
// without flock.
const leftoverAge = 10 * time.Minute

// leftoverPrefixes name the temporary files and directories.
var leftoverPrefixes = []string{".snap-", ".bm25-", ".create-", ".drop-", ".backup-"}

func isLeftover(name string) bool {
	for _, p := range leftoverPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// removeLeftovers removes the stale temporary files and directories
// directly inside dir, and returns how many it removed. Errors are
// ignored: a leftover that cannot be removed costs only disk space.
func removeLeftovers(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if !isLeftover(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		fi, err := e.Info()
		if err != nil {
			continue
		}
		old := time.Since(latestModTime(path, fi)) >= leftoverAge
		if fi.IsDir() {
			if old && os.RemoveAll(path) == nil {
				n++
			}
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		if ok, err := tryLock(f, true); err == nil && ok && (preLocksRows || old) {
			if os.Remove(path) == nil {
				n++
			}
		}
		f.Close()
	}
	return n
}

// latestModTime is a file's modification time, or the latest of a
// directory's files.
func latestModTime(path string, fi fs.FileInfo) time.Time {
	t := fi.ModTime()
	if fi.IsDir() {
		filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
			if err == nil {
				if i, err := d.Info(); err == nil && i.ModTime().After(t) {
					t = i.ModTime()
				}
			}
			return nil
		})
	}
	return t
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// createTemp creates a temporary file in dir, like os.CreateTemp, and
// locks it so that removeLeftovers knows it is in use.
func createTemp(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if _, err := tryLock(f, true); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}
