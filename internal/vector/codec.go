package vector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unsafe"
)

// The indexes persist themselves as a sequence of little-endian sections.
// Arrays are written and read through a byte view of their memory, so a
// 200 MB vector array loads at the speed of the page cache instead of one
// conversion per float; the snapshot therefore assumes a little-endian
// machine, which every platform Go supports for kura is (amd64, arm64). The
// owner of the file adds the checksum and the generation it covers.

// Writer writes sections and remembers the first error.
type Writer struct {
	W   io.Writer
	Err error
}

// U64 writes v.
func (w *Writer) U64(v uint64) {
	w.Bytes(binary.LittleEndian.AppendUint64(nil, v))
}

// Bytes writes b.
func (w *Writer) Bytes(b []byte) {
	if w.Err == nil && len(b) > 0 {
		_, w.Err = w.W.Write(b)
	}
}

// Slice writes a length-prefixed array of fixed-size values.
func Slice[T uint8 | uint32 | float32 | int32 | uint64 | int64](w *Writer, s []T) {
	w.U64(uint64(len(s)))
	if len(s) > 0 {
		var z T
		w.Bytes(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z))))
	}
}

// Reader reads sections and remembers the first error.
type Reader struct {
	R   io.Reader
	Err error
	// Max bounds the length of any one array, so that a damaged length
	// fails cleanly instead of allocating without limit.
	Max uint64
}

// ErrFormat is wrapped by errors for a damaged or foreign index snapshot.
var ErrFormat = errors.New("malformed index snapshot")

// U64 reads a value written by Writer.U64.
func (r *Reader) U64() uint64 {
	var b [8]byte
	r.full(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func (r *Reader) full(b []byte) {
	if r.Err == nil {
		_, r.Err = io.ReadFull(r.R, b)
	}
}

// ReadSlice reads an array written by Slice.
func ReadSlice[T uint8 | uint32 | float32 | int32 | uint64 | int64](r *Reader) []T {
	n := r.U64()
	if r.Err != nil {
		return nil
	}
	if r.Max > 0 && n > r.Max {
		r.Err = fmt.Errorf("%w: array of %d elements", ErrFormat, n)
		return nil
	}
	s := make([]T, n)
	if n > 0 {
		var z T
		r.full(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), int(n)*int(unsafe.Sizeof(z))))
	}
	return s
}

// CountWriter counts the bytes written through it, for WriteTo methods
// that must report their size.
type CountWriter struct {
	W io.Writer
	N int64
}

func (c *CountWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}

// Header reads an index snapshot's n-word header and checks that its first
// word is magic; kind names the index in errors ("HNSW", "IVF").
func (r *Reader) Header(n int, magic uint64, kind string) ([]uint64, error) {
	h := make([]uint64, n)
	for i := range h {
		h[i] = r.U64()
	}
	if r.Err != nil {
		return nil, fmt.Errorf("%s snapshot: %w", strings.ToLower(kind), r.Err)
	}
	if h[0] != magic {
		return nil, fmt.Errorf("%w: not an %s snapshot", ErrFormat, kind)
	}
	return h, nil
}
