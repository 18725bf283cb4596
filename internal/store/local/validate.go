package local

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt trusts its file: a damaged meta or freelist page makes bolt.Open
// panic (or fault) after it has mapped and locked the file, and bbolt then
// never unmaps it, so the lock would outlive the error. checkBoltFile reads
// what bolt.Open will read — the two meta pages, the freelist page and the
// root page's header — and refuses a file whose pages do not add up, before
// bbolt sees it. Damage further inside the file surfaces later, inside a
// transaction, where bbolt rolls back and the handle is closed normally.
//
// The layout is bbolt's (format version 2, native little-endian):
//
//	page header  id u64, flags u16, count u16, overflow u32
//	meta         magic u32, version u32, pageSize u32, flags u32,
//	             root pgid u64, sequence u64, freelist pgid u64,
//	             high-water pgid u64, txid u64, checksum u64 (FNV-64a of the
//	             56 bytes before it)
const (
	boltMagic         = 0xED0CDAED
	boltVersion       = 2
	boltPageHeader    = 16
	boltMetaSize      = 64
	boltBranchFlag    = 0x01
	boltLeafFlag      = 0x02
	boltMetaFlag      = 0x04
	boltFreelistFlag  = 0x10
	boltNoFreelist    = 0xffffffffffffffff
	boltDefaultPageSz = 4096
)

type boltMeta struct {
	pageSize           uint32
	root, freelist, hw uint64
	txid               uint64
}

// readBoltMeta decodes and checks the meta page at off; ok is false if it
// is not a valid meta page.
func readBoltMeta(f io.ReaderAt, off int64) (m boltMeta, ok bool) {
	var b [boltPageHeader + boltMetaSize]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		return m, false
	}
	p := b[boltPageHeader:]
	le := binary.LittleEndian
	if le.Uint32(p[0:]) != boltMagic || le.Uint32(p[4:]) != boltVersion {
		return m, false
	}
	h := fnv.New64a()
	h.Write(p[:56])
	if h.Sum64() != le.Uint64(p[56:]) {
		return m, false
	}
	m = boltMeta{pageSize: le.Uint32(p[8:]), root: le.Uint64(p[16:]), freelist: le.Uint64(p[32:]), hw: le.Uint64(p[40:]), txid: le.Uint64(p[48:])}
	return m, true
}

// latestMeta returns the meta bbolt would use: the valid one with the
// higher transaction id. Meta page 1 sits one page size after page 0; if
// page 0 is unreadable, bbolt assumes the default page size, and so does
// this.
func latestMeta(f io.ReaderAt) (boltMeta, error) {
	m0, ok0 := readBoltMeta(f, 0)
	ps := int64(boltDefaultPageSz)
	if ok0 {
		ps = int64(m0.pageSize)
	}
	m1, ok1 := readBoltMeta(f, ps)
	switch {
	case ok0 && ok1 && m1.txid > m0.txid, !ok0 && ok1:
		return m1, nil
	case ok0:
		return m0, nil
	}
	return boltMeta{}, errors.New("neither meta page is valid (not a bbolt file, or both copies are damaged)")
}

// checkBoltFile checks f (a bbolt file that a lock keeps still) as
// described above. It returns the last committed transaction id.
func checkBoltFile(f *os.File) (txid uint64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if fi.Size() == 0 {
		return 0, errors.New("the file is empty")
	}
	m, err := latestMeta(f)
	if err != nil {
		return 0, err
	}
	ps := uint64(m.pageSize)
	switch {
	case ps < 512 || ps > 1<<20 || ps&(ps-1) != 0:
		return 0, fmt.Errorf("meta page: page size %d", ps)
	case m.hw < 3 || m.hw > uint64(fi.Size())/ps:
		return 0, fmt.Errorf("meta page: %d pages recorded, the file holds %d", m.hw, uint64(fi.Size())/ps)
	case m.root < 2 || m.root >= m.hw:
		return 0, fmt.Errorf("meta page: root page %d outside 2..%d", m.root, m.hw-1)
	}
	if err := checkPage(f, m.root, ps, m.hw, boltBranchFlag|boltLeafFlag); err != nil {
		return 0, fmt.Errorf("root page: %w", err)
	}
	if m.freelist == boltNoFreelist {
		return m.txid, nil
	}
	if m.freelist < 2 || m.freelist >= m.hw {
		return 0, fmt.Errorf("meta page: freelist page %d outside 2..%d", m.freelist, m.hw-1)
	}
	if err := checkPage(f, m.freelist, ps, m.hw, boltFreelistFlag); err != nil {
		return 0, fmt.Errorf("freelist page: %w", err)
	}
	return m.txid, checkFreelist(f, m.freelist, ps, m.hw)
}

// checkPage checks the header of page id: its own id, a flag among flags
// and an overflow that stays inside the high-water mark.
func checkPage(f io.ReaderAt, id, ps, hw uint64, flags uint16) error {
	var h [boltPageHeader]byte
	if _, err := f.ReadAt(h[:], int64(id*ps)); err != nil {
		return err
	}
	le := binary.LittleEndian
	if got := le.Uint64(h[0:]); got != id {
		return fmt.Errorf("page %d says it is page %d", id, got)
	}
	if fl := le.Uint16(h[8:]); fl&flags == 0 || fl&^(boltBranchFlag|boltLeafFlag|boltMetaFlag|boltFreelistFlag) != 0 {
		return fmt.Errorf("page %d has flags %#x", id, fl)
	}
	if ov := uint64(le.Uint32(h[12:])); id+ov >= hw {
		return fmt.Errorf("page %d overflows %d pages past the end", id, ov)
	}
	return nil
}

// checkFreelist checks that the freelist's entries fit its pages and name
// pages inside the file.
func checkFreelist(f io.ReaderAt, id, ps, hw uint64) error {
	var h [boltPageHeader + 8]byte
	if _, err := f.ReadAt(h[:], int64(id*ps)); err != nil {
		return err
	}
	le := binary.LittleEndian
	n, skip := uint64(le.Uint16(h[10:])), uint64(0)
	if n == 0xFFFF {
		n, skip = le.Uint64(h[16:]), 1
	}
	span := (uint64(le.Uint32(h[12:])) + 1) * ps
	if boltPageHeader+(skip+n)*8 > span {
		return fmt.Errorf("freelist of %d entries does not fit its %d bytes", n, span)
	}
	buf := make([]byte, n*8)
	if _, err := f.ReadAt(buf, int64(id*ps+boltPageHeader+skip*8)); err != nil {
		return err
	}
	for i := range n {
		if p := le.Uint64(buf[i*8:]); p < 2 || p >= hw {
			return fmt.Errorf("freelist names page %d, outside 2..%d", p, hw-1)
		}
	}
	return nil
}
