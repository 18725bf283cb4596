package history

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FormatVersion is the layout of history.db this code reads and writes.
const FormatVersion = 1

// File is history.db's path inside the data directory.
const File = "app/history.db"

// Defaults of [Options].
const (
	DefaultMaxAge           = 90 * 24 * time.Hour
	DefaultMaxAnswers       = 10000
	DefaultMaxConversations = 500 // per user
	DefaultLockTimeout      = 5 * time.Second
	// MaxTurns bounds one conversation.
	MaxTurns = 2000
	// MaxRecordBytes bounds one stored record.
	MaxRecordBytes = 1 << 20
)

// Errors, wrapped by what the store returns.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid")
	// ErrBusy: another process held history.db for longer than the lock
	// timeout.
	ErrBusy = errors.New("history is busy")
	// ErrFormat: history.db was written by a newer kura.
	ErrFormat = errors.New("history format not supported")
)

// Options configure a [Store]. Zero values mean the defaults.
type Options struct {
	// MaxAge drops answers, feedback and conversations not touched for
	// longer (DefaultMaxAge; negative: keep forever).
	MaxAge time.Duration
	// MaxAnswers keeps at most this many answer records, dropping the
	// oldest (DefaultMaxAnswers; negative: no limit).
	MaxAnswers int
	// MaxConversations keeps at most this many conversations per user,
	// dropping the least recently updated (DefaultMaxConversations;
	// negative: no limit).
	MaxConversations int
	// LockTimeout bounds the wait for another process holding the file.
	LockTimeout time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// Store is the history of one data directory. It is safe for concurrent
// use, and other processes may use the same file at the same time.
type Store struct {
	path string
	opts Options
	mu   sync.RWMutex
}

// Open returns the history of the data directory dataDir. The file is
// created by the first write, not by Open.
func Open(dataDir string, opts Options) *Store {
	return OpenFile(filepath.Join(dataDir, filepath.FromSlash(File)), opts)
}

// OpenFile is Open with the file's path.
func OpenFile(path string, opts Options) *Store {
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.MaxAnswers == 0 {
		opts.MaxAnswers = DefaultMaxAnswers
	}
	if opts.MaxConversations == 0 {
		opts.MaxConversations = DefaultMaxConversations
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{path: path, opts: opts}
}

// Path is the file's path.
func (s *Store) Path() string { return s.path }

// Bucket names.
var (
	bMeta         = []byte("meta")
	bConvs        = []byte("conversations")   // user\0id -> Conversation
	bConvsUpdated = []byte("conv_by_updated") // updated(8) user\0id -> nil
	bTurns        = []byte("turns")           // user\0id\0index(8) -> Turn
	bAnswers      = []byte("answers")         // id -> AnswerRecord
	bAnswersTime  = []byte("answers_by_time") // created(8) id -> nil
	bFeedback     = []byte("feedback")        // answerID\0user -> Feedback
	bOutbox       = []byte("outbox")          // answerID\0user -> nil
	allBuckets    = [][]byte{bMeta, bConvs, bConvsUpdated, bTurns, bAnswers, bAnswersTime, bFeedback, bOutbox}

	kFormat  = []byte("format")
	kAnswers = []byte("answers") // count of answer records
)

// view runs fn in a read transaction. A missing file reads as empty:
// exists is false and fn is not called.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) (exists bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	fi, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() == 0) {
		// Missing, or just created by a writer that has not initialised
		// it yet: nothing to read.
		return false, nil
	}
	db, err := s.open(true)
	if err != nil {
		return false, err
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bMeta) == nil {
			exists = false
			return nil
		}
		exists = true
		if err := checkFormat(tx, s.path); err != nil {
			return err
		}
		return fn(tx)
	})
	return exists, err
}

// update runs fn in a write transaction, creating the file and its buckets
// when needed.
func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("cannot create the directory of %s: %w", s.path, err)
	}
	db, err := s.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			for _, name := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bMeta).Put(kFormat, []byte(strconv.Itoa(FormatVersion))); err != nil {
				return err
			}
		} else if err := checkFormat(tx, s.path); err != nil {
			return err
		}
		return fn(tx)
	})
}

func (s *Store) open(readOnly bool) (*bolt.DB, error) {
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: s.opts.LockTimeout, ReadOnly: readOnly})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: another process held %s for more than %v; try again", ErrBusy, s.path, s.opts.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the history %s: %w", s.path, err)
	}
	return db, nil
}

func checkFormat(tx *bolt.Tx, path string) error {
	meta := tx.Bucket(bMeta)
	if meta == nil {
		return nil // created by a writer that has not committed yet: empty
	}
	v, err := strconv.Atoi(string(meta.Get(kFormat)))
	if err != nil {
		return fmt.Errorf("%w: %s has no readable format version", ErrFormat, path)
	}
	if v > FormatVersion {
		return fmt.Errorf("%w: %s was written by a newer kura (format %d); this kura reads format %d", ErrFormat, path, v, FormatVersion)
	}
	return nil
}

// NewID returns a new record id: 32 hex digits that sort by creation time
// (48 bits of milliseconds, then 80 random bits).
func NewID() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	_, _ = rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

// key joins parts with NUL, which ids and user names never contain.
func key(parts ...string) []byte {
	n := len(parts) - 1
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, p...)
	}
	return k
}

// timeKey is t (UnixNano, big-endian, so keys sort by time) followed by rest.
func timeKey(t time.Time, rest []byte) []byte {
	k := make([]byte, 8, 8+len(rest))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	return append(k, rest...)
}

func u64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func putU64(b *bolt.Bucket, k []byte, v uint64) error {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	return b.Put(k, buf[:])
}
