package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/kura-rag/kura/internal/store"
)

const (
	collectionsDir = "collections"
	rowsFile       = "rows.db"
)

// Options configure a [Store]. The zero value opens read-write and waits
// as long as it takes for a collection another process is using.
type Options struct {
	// ReadOnly refuses writes, Create and Drop with an error wrapping
	// store.ErrInvalid, and never creates files (lock files included, if
	// the directory is read-only).
	ReadOnly bool
	// LockTimeout, if positive, bounds the wait for a collection another
	// process is using; after it the operation fails with store.ErrLocked.
	// Zero waits until the context ends.
	LockTimeout time.Duration
	// OnWait, if set, is called once per operation that has waited
	// WaitNotice for another process, so that a command can say what it is
	// waiting for. It must not block.
	OnWait func(WaitEvent)
	// WaitNotice is the wait after which OnWait is called; zero means
	// DefaultWaitNotice.
	WaitNotice time.Duration

	// noSync turns off fsync; only benchmarks that build large fixtures set it.
	noSync bool
	// exactBelow overrides DefaultExactBelow (negative: never exact), so
	// that tests can drive tiny collections through the ANN indexes.
	exactBelow int
	// noSnapshots stops saving vectors.snap and index.snap (tests).
	noSnapshots bool
	// scanWorkers overrides GOMAXPROCS as the goroutines of an exact scan
	// (benchmarks compare one against several).
	scanWorkers int
}

func (o *Options) waitNotice() time.Duration {
	if o.WaitNotice > 0 {
		return o.WaitNotice
	}
	return DefaultWaitNotice
}

// Store is the embedded store: a directory with one bbolt file per
// collection. It is safe for concurrent use. Opening the same collection
// twice through one Store shares a single file handle and vector cache.
type Store struct {
	dir  string
	opts Options

	mu     sync.Mutex
	open   map[string]*shared
	closed bool
}

var _ store.Store = (*Store)(nil)

// Open opens the store in dir, creating the directory unless opts.ReadOnly
// is set. Opening is cheap: collections are opened (and locked) by
// [Store.Open] and [Store.Create].
func Open(dir string, opts Options) (*Store, error) {
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Join(dir, collectionsDir), 0o755); err != nil {
			return nil, fmt.Errorf("cannot create the kura data directory: %w", err)
		}
		removeLeftovers(filepath.Join(dir, collectionsDir))
	} else if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("kura data directory %s is not a directory", dir)
	}
	return &Store{dir: dir, opts: opts, open: map[string]*shared{}}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) collectionDir(name string) string {
	return filepath.Join(s.dir, collectionsDir, name)
}

func (s *Store) errReadOnly(op, name string) error {
	return store.Errorf(store.ErrInvalid, "cannot %s collection %s: the store was opened read-only", op, name)
}

var errStoreClosed = errors.New("kura store is closed")

// List returns the names of the collections in lexical order. It does not
// open (or lock) them.
func (s *Store) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(s.dir, collectionsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot list collections: %w", err)
	}
	names := []string{}
	for _, e := range entries {
		// Temporary directories of Create and Drop start with a dot, which no
		// valid name does.
		if !e.IsDir() || store.ValidateName(e.Name()) != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(s.collectionDir(e.Name()), rowsFile)); err != nil {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// Create makes a collection. The file is built under a temporary name and
// renamed into place, so a crash never leaves a half-made collection.
func (s *Store) Create(ctx context.Context, name string, schema store.Schema) (store.Collection, error) {
	if err := store.ValidateName(name); err != nil {
		return nil, err
	}
	schema, err := schema.Normalize()
	if err != nil {
		return nil, fmt.Errorf("cannot create collection %s: %w", name, err)
	}
	if schema.Index.Type == store.IndexFlat && schema.Index.SQ8 {
		return nil, store.Errorf(store.ErrInvalid, "cannot create collection %s: SQ8 needs an IVF_FLAT or HNSW index; FLAT search is exact over float vectors", name)
	}
	for k, v := range schema.Index.Params {
		if v <= 0 || (k == "M" && v < 2) {
			return nil, store.Errorf(store.ErrInvalid, "cannot create collection %s: index parameter %s is %d; it must be positive (M at least 2)", name, k, v)
		}
	}
	if _, err := analyzerFor(schema.Text); err != nil {
		return nil, store.Errorf(store.ErrInvalid, "cannot create collection %s: %v", name, err)
	}
	if s.opts.ReadOnly {
		return nil, s.errReadOnly("create", name)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errStoreClosed
	}
	final := s.collectionDir(name)
	if _, err := os.Stat(final); err == nil {
		return nil, fmt.Errorf("%w: %s", store.ErrExists, name)
	}
	tmp, err := s.tempDir("create")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := initFile(filepath.Join(tmp, rowsFile), schema); err != nil {
		return nil, fmt.Errorf("cannot create collection %s: %w", name, err)
	}
	for _, f := range []string{gateFile, waitFile} {
		if err := os.WriteFile(filepath.Join(tmp, f), nil, 0o644); err != nil {
			return nil, fmt.Errorf("cannot create collection %s: %w", name, err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Stat(final); serr == nil {
			return nil, fmt.Errorf("%w: %s", store.ErrExists, name)
		}
		return nil, fmt.Errorf("cannot create collection %s: %w", name, err)
	}
	syncDir(filepath.Join(s.dir, collectionsDir))
	sh, err := s.openSharedLocked(ctx, name)
	if err != nil {
		return nil, err
	}
	return &Collection{sh: sh, store: s}, nil
}

func (s *Store) tempDir(purpose string) (string, error) {
	var r [8]byte
	_, _ = rand.Read(r[:])
	dir := filepath.Join(s.dir, collectionsDir, "."+purpose+"-"+hex.EncodeToString(r[:]))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("cannot %s collection: %w", purpose, err)
	}
	return dir, nil
}

// initFile writes a new collection file with its schema and zero counters.
func initFile(path string, schema store.Schema) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	js, err := json.Marshal(schema)
	if err != nil {
		db.Close()
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketRows); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketSources); err != nil {
			return err
		}
		for k, v := range map[string][]byte{
			string(keyFormat):  []byte(formatVersion),
			string(keySchema):  js,
			string(keyRows):    putUint64(make([]byte, 8), 0),
			string(keySources): putUint64(make([]byte, 8), 0),
		} {
			if err := meta.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename durable. Errors are ignored: some filesystems
// cannot sync directories, and the rename itself has succeeded.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// Open opens an existing collection.
func (s *Store) Open(ctx context.Context, name string) (store.Collection, error) {
	if err := store.ValidateName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The file is checked without s.mu held: it may have to wait for
	// another process, and other collections of this Store must not.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errStoreClosed
	}
	if sh := s.open[name]; sh != nil {
		sh.refs++
		s.mu.Unlock()
		return &Collection{sh: sh, store: s}, nil
	}
	s.mu.Unlock()
	sh, err := s.newShared(ctx, name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		sh.conn.close()
		return nil, errStoreClosed
	}
	if other := s.open[name]; other != nil { // opened meanwhile
		sh.conn.close()
		sh = other
		sh.refs++
	} else {
		s.open[name] = sh
	}
	return &Collection{sh: sh, store: s}, nil
}

// openSharedLocked returns the shared state of collection name, opening
// it if this Store has not yet. s.mu must be held.
func (s *Store) openSharedLocked(ctx context.Context, name string) (*shared, error) {
	if sh := s.open[name]; sh != nil {
		sh.refs++
		return sh, nil
	}
	sh, err := s.newShared(ctx, name)
	if err != nil {
		return nil, err
	}
	s.open[name] = sh
	return sh, nil
}

// newShared opens collection name: its lock files, and a first read of its
// file to check the format and read the schema.
func (s *Store) newShared(ctx context.Context, name string) (*shared, error) {
	dir := s.collectionDir(name)
	path := filepath.Join(dir, rowsFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (no %s)", store.ErrNotFound, name, path)
	}
	sh := &shared{name: name, path: path, dir: dir, readOnly: s.opts.ReadOnly, refs: 1,
		exactBelow: DefaultExactBelow, noSnapshots: s.opts.noSnapshots, scanWorkers: runtime.GOMAXPROCS(0)}
	if s.opts.scanWorkers > 0 {
		sh.scanWorkers = s.opts.scanWorkers
	}
	sh.conn = newConn(name, dir, &s.opts)
	if s.opts.exactBelow != 0 {
		sh.exactBelow = max(0, s.opts.exactBelow)
	}
	err := sh.viewNoGuard(ctx, func(tx *bolt.Tx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		sh.schema, err = readMeta(tx)
		if errors.Is(err, ErrNewerFormat) {
			return fmt.Errorf("collection %s (%s): %w", name, path, err)
		}
		if err != nil {
			return corrupt(name, path, err)
		}
		return nil
	})
	if err != nil {
		sh.conn.close()
		return nil, err
	}
	if !s.opts.ReadOnly {
		removeLeftovers(dir)
	}
	return sh, nil
}

// isBoltFormatErr reports bbolt's errors for a file that is not a bbolt
// database of its version.
func isBoltFormatErr(err error) bool {
	return errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrVersionMismatch) || errors.Is(err, berrors.ErrChecksum)
}

// ErrCorrupt is wrapped by errors for a collection file that is damaged or
// not a kura collection.
var ErrCorrupt = errors.New("collection file is damaged or not a kura collection")

func corrupt(name, path string, cause error) error {
	return fmt.Errorf("%w: collection %s (%s): %v; restore the directory from a backup, or drop the collection and ingest again",
		ErrCorrupt, name, path, cause)
}

// readMeta checks the format and returns the schema.
func readMeta(tx *bolt.Tx) (schema store.Schema, err error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil || tx.Bucket(bucketRows) == nil || tx.Bucket(bucketSources) == nil {
		return schema, errors.New("it has no kura buckets")
	}
	if err := checkFormat(string(meta.Get(keyFormat))); err != nil {
		return schema, err
	}
	if err := json.Unmarshal(meta.Get(keySchema), &schema); err != nil {
		return schema, fmt.Errorf("schema: %v", err)
	}
	if schema.Dim <= 0 {
		return schema, fmt.Errorf("schema has dimension %d", schema.Dim)
	}
	return schema, nil
}

// Drop removes a collection. It waits, like a write, until no other
// process uses the collection, and renames the directory away while it
// holds the locks, so that no process opens it between the unlock and the
// removal; processes that were waiting for it then find it gone. Handles
// of this Store on the collection become unusable. A damaged collection
// can be dropped too.
func (s *Store) Drop(ctx context.Context, name string) error {
	if err := store.ValidateName(name); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return s.errReadOnly("drop", name)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStoreClosed
	}
	if sh := s.open[name]; sh != nil {
		// Saving snapshots of a collection about to be removed is wasted work.
		sh.wmu.Lock()
		sh.noSnapshots = true
		sh.wmu.Unlock()
		sh.close()
		delete(s.open, name)
	}
	dir := s.collectionDir(name)
	if _, err := os.Stat(filepath.Join(dir, rowsFile)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", store.ErrNotFound, name)
	}
	c := newConn(name, dir, &s.opts)
	defer c.close()
	unlockAll, err := c.lockExclusive(ctx)
	if err != nil {
		return err
	}
	var r [8]byte
	_, _ = rand.Read(r[:])
	tmp := filepath.Join(s.dir, collectionsDir, ".drop-"+hex.EncodeToString(r[:]))
	rerr := os.Rename(dir, tmp)
	unlockAll()
	if rerr != nil {
		return fmt.Errorf("cannot drop collection %s: %w", name, rerr)
	}
	syncDir(filepath.Join(s.dir, collectionsDir))
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("collection %s is dropped but its files remain in %s: %w", name, tmp, err)
	}
	return nil
}

// Close closes every collection opened through s. It is safe to call twice.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for name, sh := range s.open {
		errs = append(errs, sh.close())
		delete(s.open, name)
	}
	return errors.Join(errs...)
}

// release drops one reference to sh and closes its file with the last one.
func (s *Store) release(sh *shared) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[sh.name] != sh {
		return nil // already closed by Drop or Store.Close
	}
	sh.refs--
	if sh.refs > 0 {
		return nil
	}
	delete(s.open, sh.name)
	return sh.close()
}
