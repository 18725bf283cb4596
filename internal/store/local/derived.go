package local

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Derived state — the FLAT vector cache, the IVF_FLAT or HNSW index and
// the BM25 index — is built from the rows and then kept in step with them
// by generation: each records the bbolt transaction id of the last commit
// it reflects, and every write logs the ids it touched under its
// transaction id (snapshot.go). Whatever committed a change — a write of
// this process, of another process, or a commit made while an index was
// being built — the index catches up by replaying the log from its
// generation. This file holds what the three kinds share.

// change is a row touched by commits after some generation, read for a
// catch-up: the row as of the reading transaction, or nil if deleted.
type change struct {
	id  int64
	gen uint64 // the last commit that touched it
	val []byte // the encoded row, copied out of the transaction; nil if deleted
	vec []float32
	// terms are the row's BM25 terms when the writer has analysed them.
	terms    []string
	hasTerms bool
}

// vector returns the change's vector, decoding it once.
func (c *change) vector() ([]float32, error) {
	if c.vec == nil && c.val != nil {
		rv, err := decodeRow(c.val)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", c.id, err)
		}
		c.vec = rv.vector(nil)
	}
	return c.vec, nil
}

// derived is one kind of derived state.
type derived interface {
	generation() uint64
	// applyChanges applies the changes newer than its generation and
	// moves it to upto. It is safe beside searches of the index.
	applyChanges(chs []change, upto uint64) error
}

// errBadLog means the change log holds a key kura cannot have written.
var errBadLog = errors.New("malformed change log")

// changesSince reads the rows changed after generation from, up to tx, or
// fails with errStale if the log no longer reaches back that far.
func changesSince(tx *bolt.Tx, from uint64) ([]change, error) {
	now := uint64(tx.ID())
	if now < from {
		return nil, fmt.Errorf("%w: generation %d is newer than the file's %d", errStale, from, now)
	}
	if now == from {
		return nil, nil
	}
	b := tx.Bucket(bucketChanges)
	if b == nil || from < getUint64(tx.Bucket(bucketMeta).Get(keyPruned)) {
		return nil, fmt.Errorf("%w: the change log does not reach back to generation %d", errStale, from)
	}
	at := map[int64]int{}
	var chs []change
	c := b.Cursor()
	for k, _ := c.Seek(binary.BigEndian.AppendUint64(nil, from+1)); k != nil; k, _ = c.Next() {
		if len(k) != 16 {
			return nil, fmt.Errorf("%w: bad change key %x", errBadLog, k)
		}
		id, gen := keyID(k[8:]), binary.BigEndian.Uint64(k)
		if i, ok := at[id]; ok {
			chs[i].gen = gen
			continue
		}
		at[id] = len(chs)
		chs = append(chs, change{id: id, gen: gen})
	}
	rows := tx.Bucket(bucketRows)
	for i := range chs {
		if v := rows.Get(idKey(chs[i].id)); v != nil {
			chs[i].val = bytes.Clone(v)
		}
	}
	return chs, nil
}

// loaded returns the derived state this process holds.
func (sh *shared) loaded() []derived {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	var out []derived
	if sh.cache != nil {
		out = append(out, sh.cache)
	}
	if sh.ann != nil {
		out = append(out, sh.ann)
	}
	if sh.text != nil {
		out = append(out, sh.text)
	}
	return out
}

func minGen(ds []derived) uint64 {
	g := ds[0].generation()
	for _, d := range ds[1:] {
		g = min(g, d.generation())
	}
	return g
}

// catchUp brings the derived state up to the file's last commit if
// another process has written since. It runs only if no write or catch-up
// of this process is in progress (a search never waits for one: it then
// searches what is there, which the running write will bring up to date).
func (sh *shared) catchUp(ctx context.Context) error {
	if err := sh.conn.stillThere(); err != nil {
		return err
	}
	ds := sh.loaded()
	if len(ds) == 0 || sh.conn.fileGen() <= minGen(ds) {
		return nil
	}
	if !sh.wmu.TryLock() {
		return nil
	}
	defer sh.wmu.Unlock()
	return sh.catchUpLocked(ctx, sh.loaded())
}

// catchUpLocked replays the log into ds. The rows are read in one read
// transaction and applied after it, so that no lock is held while, say,
// HNSW links them. sh.wmu must be held if any of ds is published. If the
// log no longer reaches back (another process saved newer snapshots and
// pruned it), the published state is dropped, and the search that called
// catchUp loads it again (see ensureCache).
func (sh *shared) catchUpLocked(ctx context.Context, ds []derived) error {
	if len(ds) == 0 {
		return nil
	}
	from := minGen(ds)
	var chs []change
	var upto uint64
	err := sh.view(ctx, func(tx *bolt.Tx) (err error) {
		upto = uint64(tx.ID())
		chs, err = changesSince(tx, from)
		return err
	})
	if errors.Is(err, errStale) {
		sh.dropDerived(ds)
		return nil
	}
	if err != nil || upto == from {
		return corruptIfBad(sh, err)
	}
	for _, d := range ds {
		if err := d.applyChanges(chs, upto); err != nil {
			sh.dropDerived([]derived{d})
		}
	}
	return nil
}

// dropDerived forgets published derived state, which the next search
// loads again.
func (sh *shared) dropDerived(ds []derived) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, d := range ds {
		switch d {
		case derived(sh.cache):
			sh.cache = nil
		case derived(sh.ann):
			sh.ann = nil
		case derived(sh.text):
			sh.text = nil
		}
	}
}

// scanChunk is how many rows one read transaction of scanRows reads.
const scanChunk = 4096

// scanRows calls row for every row in id order and chunkDone after each
// chunk of them. Each chunk is read in its own read transaction (row runs
// inside it; rv is valid only there) and chunkDone runs outside it, so that
// a long build never keeps other processes from writing. It returns the
// generation of the first chunk: a row changed after it may have been seen
// in either state, so the caller catches up from that generation.
func (sh *shared) scanRows(ctx context.Context, row func(id int64, rv rowView) error, chunkDone func() error) (uint64, error) {
	var after []byte
	var gen uint64
	for first := true; ; first = false {
		done := false
		err := sh.view(ctx, func(tx *bolt.Tx) error {
			if first {
				gen = uint64(tx.ID())
			}
			cur := tx.Bucket(bucketRows).Cursor()
			var k, v []byte
			if after == nil {
				k, v = cur.First()
			} else if k, v = cur.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = cur.Next()
			}
			for n := 0; k != nil && n < scanChunk; k, v = cur.Next() {
				if len(k) != 8 {
					return fmt.Errorf("%w: bad row key %x", errBadRow, k)
				}
				id := keyID(k)
				rv, err := decodeRow(v)
				if err != nil {
					return fmt.Errorf("row %d: %w", id, err)
				}
				if err := row(id, rv); err != nil {
					return fmt.Errorf("%w: %w", errBadRow, err)
				}
				after = append(after[:0], k...)
				n++
			}
			done = k == nil
			return nil
		})
		if err != nil {
			return 0, err
		}
		if chunkDone != nil {
			if err := chunkDone(); err != nil {
				return 0, err
			}
		}
		if done {
			return gen, nil
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
}

// loadSteps are how one kind of derived state is loaded (loadDerived).
type loadSteps struct {
	// snapshot returns the state saved beside the file, or nil if there is
	// none usable; it reads only the snapshot file.
	snapshot func() derived
	// build builds the state from the rows, chunk by chunk (scanRows).
	build func(ctx context.Context) (derived, error)
	// rebuild skips the snapshot at first: the published state is stale
	// and the snapshot no better.
	rebuild bool
	// prepare, if set, completes a loaded or built state before it catches
	// up (with the fields a filter needs); a pinned reload skips it.
	prepare func(ctx context.Context, d derived) error
	// publish makes d the state searches use; sh.mu is held.
	publish func(d derived)
}

// loadDerived loads one kind of derived state — from its snapshot, else
// built from the rows — brings it up to date (settle) and publishes it.
// It reports whether the state was built from the rows.
//
// Catching up replays the change log from the state's generation, and
// another process may prune the log meanwhile: it saves newer snapshots
// and writes again, as a long ingest does every tenth of the BM25 index.
// The log then no longer reaches back to the state (errStale), which is
// not damage. The state is loaded again from the newest snapshot, this
// time pinned (reloadPinned): the snapshot and the changes logged since
// are read in one read transaction, during which no process can commit,
// so none can prune. Without a usable snapshot it is built from the rows
// again, from a generation at least as new as any pruning so far. So each
// attempt that finds the log pruned starts from a newer generation than
// the one before (the log is pruned only up to snapshots saved since); an
// attempt that does not faces a log and snapshots that disagree, which is
// reported as damage.
func (sh *shared) loadDerived(ctx context.Context, s loadSteps) (built bool, err error) {
	var lastStart uint64
	for attempt := 0; ; attempt++ {
		var d derived
		if attempt == 0 && !s.rebuild {
			d = sh.currentSnapshot(s)
		} else if attempt > 0 {
			done, err := sh.reloadPinned(ctx, s)
			if done || (err != nil && !errors.Is(err, errStale)) {
				return false, corruptIfBad(sh, err)
			}
			// No snapshot, or one the log does not reach: build.
		}
		built = d == nil
		if built {
			if d, err = s.build(ctx); err != nil {
				return false, err
			}
		}
		if s.prepare != nil {
			if err := s.prepare(ctx, d); err != nil {
				return false, err
			}
		}
		start := d.generation()
		err := sh.settle(ctx, d, func() { s.publish(d) })
		if !errors.Is(err, errStale) {
			return built, corruptIfBad(sh, err)
		}
		if attempt > 0 && start <= lastStart {
			return false, corrupt(sh.name, sh.path, err)
		}
		lastStart = start
	}
}

// currentSnapshot returns s's snapshot unless it is from the future (newer
// than the file, as after rows.db alone was replaced), which no catch-up
// can bring in step.
func (sh *shared) currentSnapshot(s loadSteps) derived {
	d := s.snapshot()
	if d != nil && d.generation() > sh.conn.fileGen() {
		return nil
	}
	return d
}

// reloadPinned loads s's snapshot and reads the changes logged since in
// one read transaction, so that no other process can commit (and prune
// the log) between the two, with sh.wmu held against this process's
// writes; then it applies them, outside the transaction, and publishes the
// state. Other processes' writes wait for the snapshot to be read. It
// reports false if there is no snapshot, errStale if the log does not
// reach back to it.
func (sh *shared) reloadPinned(ctx context.Context, s loadSteps) (bool, error) {
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	var d derived
	var chs []change
	var upto uint64
	err := sh.view(ctx, func(tx *bolt.Tx) (err error) {
		if d = s.snapshot(); d == nil {
			return nil
		}
		upto = uint64(tx.ID())
		chs, err = changesSince(tx, d.generation())
		return err
	})
	if err != nil || d == nil {
		return false, err
	}
	if upto > d.generation() {
		if err := d.applyChanges(chs, upto); err != nil {
			return false, err
		}
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return false, sh.errClosed()
	}
	s.publish(d)
	sh.stats.pinnedLoads++
	return true, nil
}

// settle brings an unpublished derived state d up to date and publishes it
// with set: catch-ups without the writer lock while there is much to
// replay, then a last one under it, so that no write of this process falls
// between the catch-up and the publication.
func (sh *shared) settle(ctx context.Context, d derived, set func()) error {
	if sh.beforeSettle != nil {
		sh.beforeSettle()
	}
	for range 3 {
		if sh.conn.fileGen() <= d.generation() {
			break
		}
		if err := sh.catchUpAside(ctx, d); err != nil {
			return err
		}
	}
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	if err := sh.catchUpAside(ctx, d); err != nil {
		return err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return sh.errClosed()
	}
	set()
	return nil
}

// catchUpAside replays the log into an unpublished d; errStale means d
// must be built again.
func (sh *shared) catchUpAside(ctx context.Context, d derived) error {
	var chs []change
	var upto uint64
	err := sh.view(ctx, func(tx *bolt.Tx) (err error) {
		upto = uint64(tx.ID())
		chs, err = changesSince(tx, d.generation())
		return err
	})
	if err != nil || upto == d.generation() {
		return err
	}
	return d.applyChanges(chs, upto)
}
