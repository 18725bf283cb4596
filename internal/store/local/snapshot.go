package local

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Snapshots of derived state. The rows in bbolt are the source of truth;
// the vector cache of a FLAT collection (vectors.snap) and the ANN index of
// an IVF_FLAT or HNSW collection (index.snap) are derived from them and
// saved next to rows.db so that a new process loads them instead of
// rebuilding them from every row.
//
// A snapshot file is the payload followed by a 32-byte trailer:
//
//	payload                 the cache or index (see cache.go, ann.go)
//	u64 payload length
//	u64 generation          the bbolt transaction id the payload reflects
//	u32 CRC-32C of payload
//	u32 snapshot kind       snapVectors or snapIndex
//	u64 magic
//
// It is written to a temporary file, fsynced and renamed over the old one,
// so a crash leaves the old snapshot or the new one, never half of one.
//
// Every write transaction also records the ids it touched in the changes
// bucket (key: transaction id + row id). A snapshot that is older than the
// file (the process died after writing rows but before saving) is brought
// up to date by replaying the changes made since its generation; one that
// is missing, damaged (bad checksum or structure), from the future or older
// than the pruned part of the log is rebuilt from the rows. Writes prune
// the log up to the generation of the last snapshot saved.
const (
	snapVectors = 1
	snapIndex   = 2

	snapMagic   = 0x3150414e_5341524b // "KRASNAP1"
	trailerSize = 32

	vectorsFile = "vectors.snap"
	indexFile   = "index.snap"
)

var (
	bucketChanges = []byte("changes")
	keyPruned     = []byte("changes_pruned")
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errStale means a snapshot cannot be used and must be rebuilt.
var errStale = errors.New("snapshot is missing, damaged or out of date")

// writeSnapshot saves payload (written by fn) atomically as path.
func writeSnapshot(path string, kind uint32, gen uint64, fn func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := createTemp(dir, ".snap-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	crc := crc32.New(crcTable)
	cw := &countingWriter{w: io.MultiWriter(f, crc)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	if err := fn(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	var t [trailerSize]byte
	binary.LittleEndian.PutUint64(t[0:], uint64(cw.n))
	binary.LittleEndian.PutUint64(t[8:], gen)
	binary.LittleEndian.PutUint32(t[16:], crc.Sum32())
	binary.LittleEndian.PutUint32(t[20:], kind)
	binary.LittleEndian.PutUint64(t[24:], snapMagic)
	if _, err := f.Write(t[:]); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	// Renamed while still open, so that the file is never unlocked under
	// its temporary name (see removeLeftovers).
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return f.Close()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// readSnapshot opens path, checks its trailer and hands fn a reader over
// the payload. The checksum is verified after fn has read it all, so fn's
// result must not be used if readSnapshot fails. Any problem wraps
// errStale.
func readSnapshot(path string, kind uint32, fn func(r io.Reader, gen uint64) error) (gen uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errStale, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() < trailerSize {
		return 0, fmt.Errorf("%w: %s is too short", errStale, path)
	}
	var t [trailerSize]byte
	if _, err := f.ReadAt(t[:], fi.Size()-trailerSize); err != nil {
		return 0, fmt.Errorf("%w: %v", errStale, err)
	}
	n := binary.LittleEndian.Uint64(t[0:])
	gen = binary.LittleEndian.Uint64(t[8:])
	sum := binary.LittleEndian.Uint32(t[16:])
	if binary.LittleEndian.Uint64(t[24:]) != snapMagic || binary.LittleEndian.Uint32(t[20:]) != kind || n != uint64(fi.Size()-trailerSize) {
		return 0, fmt.Errorf("%w: %s has a bad trailer", errStale, path)
	}
	crc := crc32.New(crcTable)
	r := &crcReader{r: bufio.NewReaderSize(io.LimitReader(f, int64(n)), 1<<20), h: crc}
	if err := fn(r, gen); err != nil {
		return 0, fmt.Errorf("%w: %s: %v", errStale, path, err)
	}
	// Whatever fn left unread still counts.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return 0, fmt.Errorf("%w: %v", errStale, err)
	}
	if crc.Sum32() != sum {
		return 0, fmt.Errorf("%w: %s fails its checksum", errStale, path)
	}
	return gen, nil
}

// snapshotGen returns the generation in path's trailer, 0 if there is no
// readable trailer of that kind.
func snapshotGen(path string, kind uint32) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() < trailerSize {
		return 0
	}
	var t [trailerSize]byte
	if _, err := f.ReadAt(t[:], fi.Size()-trailerSize); err != nil {
		return 0
	}
	if binary.LittleEndian.Uint64(t[24:]) != snapMagic || binary.LittleEndian.Uint32(t[20:]) != kind ||
		binary.LittleEndian.Uint64(t[0:]) != uint64(fi.Size()-trailerSize) {
		return 0
	}
	return binary.LittleEndian.Uint64(t[8:])
}

type crcReader struct {
	r io.Reader
	h hash.Hash32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	return n, err
}

// recordChanges logs ids as changed by tx, and prunes the log up to
// prune (the generation of the last snapshot saved, 0 for none).
func recordChanges(tx *bolt.Tx, ids []int64, prune uint64) error {
	b, err := tx.CreateBucketIfNotExists(bucketChanges)
	if err != nil {
		return err
	}
	gen := uint64(tx.ID())
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, gen)
	for _, id := range ids {
		copy(k[8:], idKey(id))
		if err := b.Put(k, nil); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if prune == 0 || prune <= getUint64(meta.Get(keyPruned)) {
		return nil
	}
	c := b.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= prune; k, _ = c.First() {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return meta.Put(keyPruned, putUint64(make([]byte, 8), prune))
}
