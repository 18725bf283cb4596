package local

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/kura-rag/kura/internal/store"
)

// A backup is a tar stream of the whole data directory — every
// collection (rows and derived snapshots), the embedding cache and any
// other file a later kura keeps there — followed by a manifest,
// kura-backup.json, listing every file with its size and SHA-256.
//
// It is consistent per file while other processes keep working: a bbolt
// file is copied in one read transaction (bbolt's Tx.WriteTo), a
// collection's under the collection protocol like any read, so writers
// wait only for the copy of that one file; a snapshot or other file is
// copied as it is, since kura replaces such files by renaming. A
// collection's snapshots are copied before its rows, so they are never
// newer than the rows they go with (a newer one would only be rebuilt).
// Lock files and temporary files are left out.

// BackupFormat is the manifest's format; Restore refuses newer ones.
const (
	backupPrefix   = "kura-backup/"
	backupNumber   = 1
	BackupFormat   = "kura-backup/1"
	ManifestName   = "kura-backup.json"
	boltMagicOff   = 16
	copyBufferSize = 1 << 20
)

// Manifest describes a backup.
type Manifest struct {
	Format      string             `json:"format"`
	Created     time.Time          `json:"created"`
	Files       []ManifestFile     `json:"files"`
	Collections []BackupCollection `json:"collections"`
	// Skipped are files that could not be copied consistently (a bbolt
	// file another process held for writing the whole time); the backup
	// is complete without them only if they are caches.
	Skipped []SkippedFile `json:"skipped,omitempty"`
}

// ManifestFile is one file of a backup, its path relative to the data
// directory with forward slashes.
type ManifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// BackupCollection records a collection's state in a backup.
type BackupCollection struct {
	Name   string `json:"name"`
	Format string `json:"format"`
	Rows   int64  `json:"rows"`
	// Generation is the bbolt transaction id of the copy.
	Generation uint64 `json:"generation"`
}

// SkippedFile is a file left out of a backup, and why.
type SkippedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// BackupOptions tune Backup.
type BackupOptions struct {
	// Store opens the collections (its options decide how waits for other
	// processes are reported); nil opens a read-only one.
	Store *Store
	// BoltWait bounds the wait for a bbolt file that is not a collection
	// (the embedding cache) when another process holds it for writing;
	// such a file is then skipped and listed in Manifest.Skipped. Zero
	// means 10 seconds.
	BoltWait time.Duration
}

// Backup writes the data directory dir to w as a tar stream and returns
// its manifest (also written, last, into the stream).
func Backup(ctx context.Context, dir string, w io.Writer, opts BackupOptions) (*Manifest, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("kura data directory %s does not exist or is not a directory", dir)
	}
	st := opts.Store
	if st == nil {
		var err error
		if st, err = Open(dir, Options{ReadOnly: true}); err != nil {
			return nil, err
		}
		defer st.Close()
	}
	if opts.BoltWait <= 0 {
		opts.BoltWait = 10 * time.Second
	}
	b := &backupWriter{tw: tar.NewWriter(w), m: &Manifest{Format: BackupFormat, Created: time.Now().UTC()}}
	names, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if err := b.collection(ctx, st, dir, name); err != nil {
			return nil, err
		}
	}
	// Everything else, generically.
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == collectionsDir || (path.Dir(rel) == collectionsDir && !isLeftover(d.Name())) {
				return fs.SkipDir // collections, done above; leftovers skipped
			}
			if isLeftover(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || isLeftover(d.Name()) || strings.HasSuffix(d.Name(), ".lock") {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if isBoltFile(p) {
			return b.boltFile(p, rel, opts.BoltWait)
		}
		return b.plainFile(p, rel)
	})
	if err != nil {
		return nil, err
	}
	js, _ := json.MarshalIndent(b.m, "", "  ")
	if err := b.entry(ManifestName, int64(len(js)), func(w io.Writer) error { _, err := w.Write(js); return err }, false); err != nil {
		return nil, err
	}
	return b.m, b.tw.Close()
}

type backupWriter struct {
	tw *tar.Writer
	m  *Manifest
}

// entry writes one file of size bytes, produced by fn, and lists it in the
// manifest if listed.
func (b *backupWriter) entry(rel string, size int64, fn func(w io.Writer) error, listed bool) error {
	if err := b.tw.WriteHeader(&tar.Header{Name: rel, Mode: 0o644, Size: size, ModTime: time.Now(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(b.tw, h)}
	if err := fn(cw); err != nil {
		return err
	}
	if cw.n != size {
		return fmt.Errorf("backup of %s: wrote %d bytes, expected %d", rel, cw.n, size)
	}
	if listed {
		b.m.Files = append(b.m.Files, ManifestFile{Path: rel, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	return nil
}

// collection copies a collection's snapshots, then its rows in one read
// transaction.
func (b *backupWriter) collection(ctx context.Context, st *Store, dir, name string) error {
	cdir := filepath.Join(dir, collectionsDir, name)
	for _, f := range []string{vectorsFile, indexFile, textFile} {
		p := filepath.Join(cdir, f)
		if _, err := os.Stat(p); err == nil {
			if err := b.plainFile(p, collectionsDir+"/"+name+"/"+f); err != nil {
				return err
			}
		}
	}
	c, err := st.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("backup of collection %s: %w", name, err)
	}
	defer c.Close()
	sh := c.(*Collection).sh
	return sh.view(ctx, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		b.m.Collections = append(b.m.Collections, BackupCollection{Name: name, Format: string(meta.Get(keyFormat)),
			Rows: int64(readCounters(meta).rows), Generation: uint64(tx.ID())})
		return b.entry(collectionsDir+"/"+name+"/"+rowsFile, tx.Size(), func(w io.Writer) error {
			_, err := tx.WriteTo(w)
			return err
		}, true)
	})
}

// boltFile copies a bbolt file other than a collection in one read
// transaction, or skips it if another process holds it for writing longer
// than wait.
func (b *backupWriter) boltFile(p, rel string, wait time.Duration) error {
	db, err := bolt.Open(p, 0o600, &bolt.Options{ReadOnly: true, Timeout: wait})
	if errors.Is(err, berrors.ErrTimeout) {
		b.m.Skipped = append(b.m.Skipped, SkippedFile{Path: rel, Reason: fmt.Sprintf("another process held it for writing for %v", wait)})
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup of %s: %w", p, err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		return b.entry(rel, tx.Size(), func(w io.Writer) error {
			_, err := tx.WriteTo(w)
			return err
		}, true)
	})
}

// plainFile copies a file as it is.
func (b *backupWriter) plainFile(p, rel string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("backup of %s: %w", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return b.entry(rel, fi.Size(), func(w io.Writer) error {
		_, err := io.CopyN(w, f, fi.Size())
		return err
	}, true)
}

// isBoltFile reports whether p starts like a bbolt file (its first meta
// page's magic).
func isBoltFile(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var m [4]byte
	if _, err := f.ReadAt(m[:], boltMagicOff); err != nil {
		return false
	}
	return binary.LittleEndian.Uint32(m[:]) == boltMagic
}

// ErrBackup is wrapped by Restore's errors for an archive that is not a
// complete, intact kura backup.
var ErrBackup = errors.New("not a complete kura backup")

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Force replaces a data directory that already holds files.
	Force bool
}

// Restore reads a backup written by Backup (plain or gzip-compressed tar)
// into the data directory dir. Everything is first written beside dir and
// verified — every file against the manifest's size and SHA-256, every
// collection's format and bbolt pages — and only then put in place, so a
// damaged backup leaves dir untouched. A dir that holds files is replaced
// only with opts.Force (its old contents are removed once the restored
// ones are in place). Stop other kura processes using dir first: those
// still running find their collections replaced and must reopen them.
func Restore(ctx context.Context, r io.Reader, dir string, opts RestoreOptions) (*Manifest, error) {
	if !opts.Force {
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			return nil, store.Errorf(store.ErrExists, "kura data directory %s already holds data; restoring would replace it", dir)
		}
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, ".kura-restore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	m, err := unpack(ctx, r, tmp)
	if err != nil {
		return nil, err
	}
	for _, c := range m.Collections {
		if err := checkRestored(tmp, c.Name); err != nil {
			return nil, err
		}
	}
	// Swap: the old directory moves aside, the new one in, the old goes.
	var old string
	if _, err := os.Stat(dir); err == nil {
		var rnd [6]byte
		_, _ = rand.Read(rnd[:])
		old = filepath.Join(parent, ".kura-replaced-"+hex.EncodeToString(rnd[:]))
		if err := os.Rename(dir, old); err != nil {
			return nil, fmt.Errorf("cannot move the old data directory aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return nil, fmt.Errorf("cannot put the restored data directory in place: %w", err)
	}
	syncDir(parent)
	if old != "" {
		os.RemoveAll(old)
	}
	return m, nil
}

// unpack writes the archive's files under dst, hashing them, and checks
// them against the manifest at its end.
func unpack(ctx context.Context, r io.Reader, dst string) (*Manifest, error) {
	br := bufio.NewReaderSize(r, copyBufferSize)
	var in io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBackup, err)
		}
		defer zr.Close()
		in = zr
	}
	tr := tar.NewReader(in)
	type got struct {
		size int64
		sum  string
	}
	files := map[string]got{}
	var m *Manifest
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBackup, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if m != nil {
			return nil, fmt.Errorf("%w: %s follows the manifest", ErrBackup, h.Name)
		}
		if h.Typeflag != tar.TypeReg || !safeRel(h.Name) {
			return nil, fmt.Errorf("%w: unexpected entry %q", ErrBackup, h.Name)
		}
		if h.Name == ManifestName {
			js, err := io.ReadAll(io.LimitReader(tr, 64<<20))
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrBackup, err)
			}
			m = &Manifest{}
			if err := json.Unmarshal(js, m); err != nil {
				return nil, fmt.Errorf("%w: manifest: %v", ErrBackup, err)
			}
			if err := checkBackupFormat(m.Format); err != nil {
				return nil, err
			}
			continue
		}
		if _, dup := files[h.Name]; dup {
			return nil, fmt.Errorf("%w: %s twice", ErrBackup, h.Name)
		}
		p := filepath.Join(dst, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, err
		}
		hs := sha256.New()
		n, err := io.Copy(io.MultiWriter(f, hs), tr)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBackup, h.Name, err)
		}
		files[h.Name] = got{n, hex.EncodeToString(hs.Sum(nil))}
	}
	if m == nil {
		return nil, fmt.Errorf("%w: no %s at the end (the archive is truncated or was not written by kura backup)", ErrBackup, ManifestName)
	}
	listed := map[string]bool{}
	for _, f := range m.Files {
		g, ok := files[f.Path]
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: %s is in the manifest but not in the archive", ErrBackup, f.Path)
		case g.size != f.Size || g.sum != f.SHA256:
			return nil, fmt.Errorf("%w: %s does not match its checksum (%d bytes, sha256 %s; the manifest says %d, %s)", ErrBackup, f.Path, g.size, g.sum, f.Size, f.SHA256)
		}
		listed[f.Path] = true
	}
	for p := range files {
		if !listed[p] {
			return nil, fmt.Errorf("%w: %s is not in the manifest", ErrBackup, p)
		}
	}
	return m, nil
}

// checkRestored opens a restored collection's file: bbolt pages, kura
// format (a newer one is refused) and schema; and gives it its lock files.
func checkRestored(dataDir, name string) error {
	if err := store.ValidateName(name); err != nil {
		return fmt.Errorf("%w: collection %q: %v", ErrBackup, name, err)
	}
	dir := filepath.Join(dataDir, collectionsDir, name)
	for _, f := range []string{gateFile, waitFile} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			return err
		}
	}
	st, err := Open(dataDir, Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.Open(context.Background(), name)
	if err != nil {
		return fmt.Errorf("restored collection %s: %w", name, err)
	}
	defer c.Close()
	return c.(*Collection).Verify(context.Background())
}

// checkBackupFormat refuses a manifest of a newer or unknown format.
func checkBackupFormat(f string) error {
	n, err := strconv.Atoi(strings.TrimPrefix(f, backupPrefix))
	switch {
	case !strings.HasPrefix(f, backupPrefix) || err != nil || n < 1:
		return fmt.Errorf("%w: manifest format %q", ErrBackup, f)
	case n > backupNumber:
		return fmt.Errorf("this backup was written by a newer kura (format %q; this kura reads %q): restore it with a newer kura", f, BackupFormat)
	}
	return nil
}

// safeRel reports whether a tar entry name is a clean relative path inside
// the data directory.
func safeRel(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || path.Clean(name) != name {
		return false
	}
	return !slices.Contains(strings.Split(name, "/"), "..")
}
