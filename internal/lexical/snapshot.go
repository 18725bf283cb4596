package lexical

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
)

// snapshotMagic starts every snapshot; the byte after it is the format
// version.
const (
	snapshotMagic   = "KURABM25"
	snapshotVersion = 1
)

// ErrSnapshot is wrapped by ReadIndex errors for a snapshot that is
// truncated, damaged or of another format. The index is derived data, so
// the caller rebuilds it from the documents.
var ErrSnapshot = errors.New("BM25 index snapshot is damaged or of another format")

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the index as a snapshot with an opaque caller header
// (the store records the analyzer and the commit the index matches). It
// compacts the index first, so it needs the same exclusive access as Add.
//
// Layout, all integers uvarint unless noted:
//
//	"KURABM25" version(1 byte)
//	header length, header bytes
//	documents; per document: id (8 bytes little-endian), length
//	terms; per term: length, bytes, postings; per posting: slot delta, tf
//	CRC-32C of everything before (4 bytes little-endian)
//
// Postings are written in slot order, so slot deltas are small.
func (x *Index) WriteTo(w io.Writer, header []byte) error {
	if len(x.docs) != x.live {
		x.compact()
	}
	crc := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<16)
	var buf [binary.MaxVarintLen64]byte
	uv := func(v uint64) { bw.Write(buf[:binary.PutUvarint(buf[:], v)]) }
	bw.WriteString(snapshotMagic)
	bw.WriteByte(snapshotVersion)
	uv(uint64(len(header)))
	bw.Write(header)
	uv(uint64(len(x.docs)))
	for _, d := range x.docs {
		bw.Write(binary.LittleEndian.AppendUint64(buf[:0], uint64(d.id)))
		uv(uint64(d.len))
	}
	uv(uint64(len(x.terms)))
	for tid, t := range x.terms {
		uv(uint64(len(t)))
		bw.WriteString(t)
		ps := x.post[tid]
		// Postings are appended in slot order and compaction keeps it, so
		// they are already sorted; sort defensively on a copy if not.
		if !slices.IsSortedFunc(ps, func(a, b posting) int { return int(a.slot) - int(b.slot) }) {
			ps = slices.Clone(ps)
			slices.SortFunc(ps, func(a, b posting) int { return int(a.slot) - int(b.slot) })
		}
		uv(uint64(len(ps)))
		prev := uint32(0)
		for _, p := range ps {
			uv(uint64(p.slot - prev))
			uv(uint64(p.tf))
			prev = p.slot
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	return err
}

// ReadHeader reads only the caller header of a snapshot, so a store can
// tell a stale snapshot from a current one without loading it.
func ReadHeader(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	return readHeader(br)
}

func readHeader(br *bufio.Reader) ([]byte, error) {
	magic := make([]byte, len(snapshotMagic)+1)
	if _, err := io.ReadFull(br, magic); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	if string(magic[:len(snapshotMagic)]) != snapshotMagic || magic[len(snapshotMagic)] != snapshotVersion {
		return nil, fmt.Errorf("%w: unknown magic or version", ErrSnapshot)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n > 1<<20 {
		return nil, fmt.Errorf("%w: bad header length", ErrSnapshot)
	}
	h := make([]byte, n)
	if _, err := io.ReadFull(br, h); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	return h, nil
}

// ReadIndex reads a snapshot written by WriteTo, checking its checksum,
// and returns the index and the caller header.
func ReadIndex(r io.Reader) (*Index, []byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	return decodeSnapshot(data)
}

func decodeSnapshot(data []byte) (*Index, []byte, error) {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrSnapshot, what) }
	if len(data) < len(snapshotMagic)+1+4 {
		return nil, nil, bad("too short")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, nil, bad("checksum mismatch")
	}
	if string(body[:len(snapshotMagic)]) != snapshotMagic || body[len(snapshotMagic)] != snapshotVersion {
		return nil, nil, bad("unknown magic or version")
	}
	b := body[len(snapshotMagic)+1:]
	ok := true
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			ok = false
			return 0
		}
		b = b[n:]
		return v
	}
	take := func(n uint64) []byte {
		if !ok || n > uint64(len(b)) {
			ok = false
			return nil
		}
		s := b[:n]
		b = b[n:]
		return s
	}
	header := slices.Clone(take(uv()))
	ndocs := uv()
	if !ok || ndocs > uint64(len(b)) {
		return nil, nil, bad("document count")
	}
	x := NewIndex()
	x.slot = make(map[int64]uint32, ndocs)
	x.docs = make([]docEntry, ndocs)
	x.lens = make([]uint32, ndocs)
	for i := range x.docs {
		idb := take(8)
		if !ok {
			return nil, nil, bad("documents")
		}
		d := &x.docs[i]
		d.id = int64(binary.LittleEndian.Uint64(idb))
		d.len = uint32(uv())
		if _, dup := x.slot[d.id]; dup {
			return nil, nil, bad("duplicate document id")
		}
		x.slot[d.id] = uint32(i)
		x.lens[i] = d.len
		x.totalLen += uint64(d.len)
	}
	x.live = len(x.docs)
	x.noForward = true
	nterms := uv()
	if !ok || nterms > uint64(len(b)) {
		return nil, nil, bad("term count")
	}
	x.termID = make(map[string]uint32, nterms)
	x.terms = make([]string, 0, nterms)
	x.post = make([][]posting, 0, nterms)
	x.df = make([]uint32, 0, nterms)
	x.maxTF = make([]uint32, 0, nterms)
	x.minLen = make([]uint32, 0, nterms)
	// Postings are carved out of large slabs rather than allocated per
	// term: a vocabulary of hundreds of thousands of terms would otherwise
	// cost as many allocations. Each term's slice is capped at its length,
	// so a later Add appends to a copy, never into its neighbour's.
	// For the same reason the terms' bytes are gathered into one string,
	// cut into the terms once they are all read.
	var slab []posting
	var arena []byte
	ends := make([]int, 0, nterms)
	for range nterms {
		arena = append(arena, take(uv())...)
		ends = append(ends, len(arena))
		np := uv()
		if !ok || np > ndocs {
			return nil, nil, bad("postings")
		}
		if np > uint64(len(slab)) {
			slab = make([]posting, max(np, 1<<16))
		}
		ps := slab[:np:np]
		slab = slab[np:]
		slot := uint64(0)
		mtf, mlen := uint32(0), uint32(math.MaxUint32)
		for i := range ps {
			slot += uv()
			tf := uv()
			if !ok || slot >= ndocs || (i > 0 && slot == uint64(ps[i-1].slot)) {
				return nil, nil, bad("postings")
			}
			ps[i] = posting{slot: uint32(slot), tf: uint32(tf)}
			mtf, mlen = max(mtf, ps[i].tf), min(mlen, x.docs[slot].len)
		}
		x.maxTF = append(x.maxTF, mtf)
		x.minLen = append(x.minLen, mlen)
		x.post = append(x.post, ps)
		x.df = append(x.df, uint32(np))
		if np > 0 {
			x.vocab++
		}
		x.postings += int(np)
	}
	if !ok || len(b) != 0 {
		return nil, nil, bad("trailing or missing data")
	}
	all, start := string(arena), 0
	for tid, end := range ends {
		t := all[start:end]
		start = end
		if _, dup := x.termID[t]; dup {
			return nil, nil, bad("duplicate term")
		}
		x.termID[t] = uint32(tid)
		x.terms = append(x.terms, t)
	}
	x.count = make([]uint32, len(x.terms))
	return x, header, nil
}
