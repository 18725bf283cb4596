package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/store"
)

// Lock files beside rows.db; see "Locking" in doc.go for the protocol.
const (
	gateFile = "gate.lock"
	waitFile = "wait.lock"
)

// Waiting for another process.
const (
	// pollMin and pollMax bound the sleep between two attempts at a lock
	// another process holds.
	pollMin = 100 * time.Microsecond
	pollMax = 2 * time.Millisecond
	// yieldWait bounds how long a process that has just stepped aside for a
	// waiting one lets it in before competing again.
	yieldWait = 50 * time.Millisecond
	// linger is how long an idle handle stays open for the next operation
	// of this process: opening costs about 0.3 ms of CPU (mostly mmap and
	// munmap), and operations come in bursts (a search's catch-up, its
	// transaction; an ingest's batches). Another process waits at most this
	// much longer for an idle file.
	linger = 5 * time.Millisecond
	// DefaultWaitNotice is how long a wait lasts before Options.OnWait is
	// called.
	DefaultWaitNotice = 300 * time.Millisecond
)

// WaitEvent tells an [Options.OnWait] callback that an operation has been
// waiting for another process.
type WaitEvent struct {
	// Collection is the collection waited for.
	Collection string
	// Write is true when this process wants to write (it waits for every
	// other process to finish its current operation), false when it wants to
	// read (it waits for another process's write transaction).
	Write bool
	// Waited is how long it has waited so far.
	Waited time.Duration
}

// conn is this process's access to one collection file. bbolt locks a file
// for as long as it is open, so conn opens it only for the operations that
// need it: the first operation opens it (waiting for other processes by the
// protocol in doc.go), operations that arrive while it is open share the
// handle — reads share a read-write handle too, since bbolt runs read
// transactions beside its write transaction — and the last one closes it.
// When another process waits for the file, new operations stop sharing the
// handle, the file is closed as soon as the running ones end, and this
// process lets the waiting one in before it competes again.
type conn struct {
	name, dir, path string
	opts            *Options

	gate, wait *os.File    // nil where the lock files cannot be opened
	peek       *os.File    // the rows file, read without a lock by fileGen
	gateInfo   os.FileInfo // identity of the gate file when it was opened

	mu       sync.Mutex
	cond     sync.Cond
	db       *bolt.DB
	rw       bool // db is open read-write
	holdGate bool // this conn holds the gate (while db is open read-write)
	users    int  // operations using db
	draining bool // do not admit more operations on db; close it when idle
	yielded  bool // db was closed for another process: let it in first
	opening  bool // one goroutine is opening db; the others wait
	closed   bool
	idle     int   // counts idle periods, so that a stale linger timer does nothing
	gone     error // the collection was dropped or replaced meanwhile
	opens    int   // files opened, for tests and benchmarks
}

func newConn(name, dir string, opts *Options) *conn {
	c := &conn{name: name, dir: dir, path: filepath.Join(dir, rowsFile), opts: opts}
	c.cond.L = &c.mu
	c.gate = openLockFile(filepath.Join(dir, gateFile), !opts.ReadOnly)
	c.wait = openLockFile(filepath.Join(dir, waitFile), !opts.ReadOnly)
	if c.gate == nil || c.wait == nil {
		closeFile(c.gate)
		closeFile(c.wait)
		c.gate, c.wait = nil, nil
	} else if fi, err := c.gate.Stat(); err == nil {
		c.gateInfo = fi
	}
	c.peek, _ = os.Open(c.path)
	return c
}

// fileGen returns the file's last committed transaction id, read from its
// meta pages without a lock: a meta page torn by a concurrent commit fails
// its checksum and the other one, one commit older, is used. It returns
// MaxUint64 if the file cannot be read, so that callers look closer.
func (c *conn) fileGen() uint64 {
	if c.peek == nil {
		return math.MaxUint64
	}
	m, err := latestMeta(c.peek)
	if err != nil {
		return math.MaxUint64
	}
	return m.txid
}

// openLockFile opens (creating if allowed) a lock file, nil if it cannot:
// a read-only data directory then falls back to bbolt's own lock.
func openLockFile(path string, create bool) *os.File {
	if create {
		if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644); err == nil {
			return f
		}
	}
	if f, err := os.Open(path); err == nil {
		return f
	}
	return nil
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// acquire returns an open handle, read-write if write, for one operation,
// which must call c.release when done. An operation must not acquire again
// while it holds the handle: a drain would wait for it.
func (c *conn) acquire(ctx context.Context, write bool) (*bolt.DB, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		switch {
		case c.closed:
			return nil, fmt.Errorf("collection %s is closed", c.name)
		case c.gone != nil:
			return nil, c.gone
		case c.db != nil && !c.draining && (!write || c.rw):
			if c.othersWait() {
				c.draining, c.yielded = true, true
				continue
			}
			c.users++
			c.idle++
			return c.db, nil
		case c.db != nil:
			// Another process waits, or a write needs a read-write handle:
			// close when the running operations end.
			c.draining = true
			if c.users == 0 {
				c.closeLocked()
				continue
			}
			c.cond.Wait()
		case c.opening:
			c.cond.Wait()
		default:
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			c.opening = true
			yielded := c.yielded
			c.yielded = false
			c.mu.Unlock()
			db, hold, err := c.enter(ctx, write, yielded)
			c.mu.Lock()
			c.opening = false
			c.cond.Broadcast()
			if err != nil {
				if errors.Is(err, store.ErrNotFound) {
					c.gone = err
				}
				return nil, err
			}
			c.db, c.rw, c.holdGate, c.draining = db, write, hold, false
			c.opens++
		}
	}
}

// release ends an operation. The file is closed when the last one ends —
// at once if the handle is draining, else after linger unless another
// operation has come meanwhile — so that other processes can use it.
func (c *conn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users--
	if c.users == 0 && c.db != nil {
		if c.draining || c.closed {
			c.closeLocked()
		} else {
			c.idle++
			idle := c.idle
			time.AfterFunc(linger, func() {
				c.mu.Lock()
				defer c.mu.Unlock()
				if c.idle == idle && c.users == 0 && c.db != nil && !c.opening {
					c.closeLocked()
					c.cond.Broadcast()
				}
			})
		}
	}
	c.cond.Broadcast()
}

func (c *conn) closeLocked() {
	c.db.Close()
	if c.holdGate {
		unlock(c.gate)
	}
	c.db, c.holdGate, c.draining = nil, false, false
}

// close ends the conn; it waits for running operations.
func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for c.users > 0 || c.opening {
		c.cond.Wait()
	}
	if c.db != nil {
		c.closeLocked()
	}
	closeFile(c.gate)
	closeFile(c.wait)
	closeFile(c.peek)
	c.cond.Broadcast()
}

// othersWait reports whether another process has announced that it waits
// for this collection (it holds the wait file shared).
func (c *conn) othersWait() bool {
	if c.wait == nil {
		return false
	}
	ok, err := tryLock(c.wait, true)
	if err != nil || !ok {
		return err == nil
	}
	unlock(c.wait)
	return false
}

// enter opens the file by the protocol: take the gate, open and lock the
// rows file (shared for a read, exclusive for a write), and release the
// gate at once for a read; a write keeps it until its handle closes, so
// that no new reader slips in ahead of a waiting writer.
func (c *conn) enter(ctx context.Context, write, yielded bool) (db *bolt.DB, holdGate bool, err error) {
	if yielded {
		c.letWaitersIn(ctx)
	}
	w := waiter{c: c, ctx: ctx, write: write, start: time.Now()}
	defer w.done()
	if c.gate != nil {
		if err := w.lock(c.gate, true); err != nil {
			return nil, false, err
		}
		if err := c.checkIdentity(); err != nil {
			unlock(c.gate)
			return nil, false, err
		}
	}
	db, err = c.openDB(&w, write)
	if c.gate != nil && (err != nil || !write) {
		unlock(c.gate)
	}
	if err != nil {
		return nil, false, err
	}
	return db, write && c.gate != nil, nil
}

// letWaitersIn waits (briefly) until no other process announces a wait,
// after this one has closed the file for them, so that it does not take
// the lock straight back before they wake up.
func (c *conn) letWaitersIn(ctx context.Context) {
	deadline := time.Now().Add(yieldWait)
	for c.othersWait() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(pollMin)
	}
}

// checkIdentity fails with ErrNotFound if the collection directory was
// dropped or replaced (by Drop, or a restore) since this conn opened its
// lock files. An open file keeps its inode, so the comparison cannot be
// fooled by inode reuse.
func (c *conn) checkIdentity() error {
	fi, err := os.Stat(filepath.Join(c.dir, gateFile))
	if err != nil || c.gateInfo == nil || !os.SameFile(fi, c.gateInfo) {
		return fmt.Errorf("%w: %s (it was dropped or replaced by another process; open it again)", store.ErrNotFound, c.name)
	}
	return nil
}

// stillThere is checkIdentity for operations that may not open the file
// (a search answered from memory): it records the loss for later calls.
func (c *conn) stillThere() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone != nil || c.gate == nil {
		return c.gone
	}
	if err := c.checkIdentity(); err != nil {
		c.gone = err
	}
	return c.gone
}

// openDB opens the rows file with bbolt. The descriptor is kura's: it is
// locked (waiting as the protocol says) and checked (checkBoltFile) before
// bbolt reads it, and if bbolt panics nonetheless on a damaged file, the
// lock is released and the descriptor closed here, since bbolt would keep
// them.
func (c *conn) openDB(w *waiter, write bool) (db *bolt.DB, err error) {
	var file *os.File
	defer func() {
		if r := recover(); r != nil {
			if file != nil {
				unlock(file)
				file.Close()
			}
			db, err = nil, corrupt(c.name, c.path, fmt.Errorf("%v", r))
		}
	}()
	var bad error
	opts := &bolt.Options{
		ReadOnly:     !write,
		NoSync:       c.opts.noSync,
		FreelistType: bolt.FreelistMapType,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag&^os.O_CREATE, perm)
			if err != nil {
				return nil, err
			}
			file = f
			if preLocksRows {
				if err := w.lock(f, write); err != nil {
					f.Close()
					file = nil
					return nil, err
				}
				if _, err := checkBoltFile(f); err != nil {
					bad = err
					unlock(f)
					f.Close()
					file = nil
					return nil, err
				}
			}
			return f, nil
		},
	}
	if fi, err := os.Stat(c.path); err == nil && write {
		// Room to grow without remapping, which would wait for this
		// process's read transactions.
		opts.InitialMmapSize = int(min(2*fi.Size()+64<<20, 1<<40))
	}
	db, err = bolt.Open(c.path, 0o600, opts)
	switch {
	case err == nil:
		return db, nil
	case bad != nil:
		return nil, corrupt(c.name, c.path, bad)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: %s (no %s)", store.ErrNotFound, c.name, c.path)
	case errors.Is(err, store.ErrLocked), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, err
	case isBoltFormatErr(err):
		return nil, corrupt(c.name, c.path, err)
	default:
		return nil, fmt.Errorf("cannot open collection %s (%s): %w", c.name, c.path, err)
	}
}

// waiter takes locks held by other processes: a first attempt, then it
// announces itself (so that holders step aside), tells Options.OnWait once
// the wait is long enough to notice, and tries again until it succeeds,
// ctx ends or Options.LockTimeout passes.
type waiter struct {
	c         *conn
	ctx       context.Context
	write     bool
	start     time.Time
	announced bool
	told      bool
}

func (w *waiter) lock(f *os.File, exclusive bool) error {
	sleep := pollMin
	for {
		ok, err := tryLock(f, exclusive)
		if err != nil {
			return fmt.Errorf("cannot lock collection %s: %w", w.c.name, err)
		}
		if ok {
			return nil
		}
		if !w.announced && w.c.wait != nil {
			// Held shared by every waiter; a holder's exclusive probe fails.
			w.announced, _ = tryLock(w.c.wait, false)
		}
		waited := time.Since(w.start)
		if t := w.c.opts.LockTimeout; t > 0 && waited >= t {
			return store.Errorf(store.ErrLocked, "another kura process is using collection %s (%s) and this one gave up after %v; wait for it to finish or stop it, then retry",
				w.c.name, w.c.dir, t.Round(time.Millisecond))
		}
		if !w.told && w.c.opts.OnWait != nil && waited >= w.c.opts.waitNotice() {
			w.told = true
			w.c.opts.OnWait(WaitEvent{Collection: w.c.name, Write: w.write, Waited: waited})
		}
		select {
		case <-w.ctx.Done():
			return w.ctx.Err()
		case <-time.After(sleep):
		}
		sleep = min(2*sleep, pollMax)
	}
}

func (w *waiter) done() {
	if w.announced {
		unlock(w.c.wait)
	}
}

// lockExclusive takes the collection as a writer does — the gate, then the
// rows file — without opening it with bbolt, so that a damaged collection
// can be dropped or a restored one put in place. The returned function
// releases both.
func (c *conn) lockExclusive(ctx context.Context) (func(), error) {
	w := waiter{c: c, ctx: ctx, write: true, start: time.Now()}
	defer w.done()
	if c.gate != nil {
		if err := w.lock(c.gate, true); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(c.path, os.O_RDWR, 0)
	if err == nil && preLocksRows {
		err = w.lock(f, true)
		if err != nil {
			f.Close()
			f = nil
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if c.gate != nil {
			unlock(c.gate)
		}
		return nil, err
	}
	return func() {
		if f != nil {
			unlock(f)
			f.Close()
		}
		if c.gate != nil {
			unlock(c.gate)
		}
	}, nil
}
