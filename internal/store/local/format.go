package local

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kura-rag/kura/internal/store"
)

// formatVersion is written to meta/format when a collection is created and
// checked on every open, so that a later, incompatible layout is refused
// with a clear message instead of being misread. formatPrefix + N is
// format N; see checkFormat.
const (
	formatPrefix  = "kura-local/"
	formatNumber  = 1
	formatVersion = "kura-local/1"
)

// ErrNewerFormat is wrapped by the error for a collection written by a
// newer kura in a format this one cannot read.
var ErrNewerFormat = errors.New("collection was written by a newer kura")

// checkFormat accepts this kura's format. A newer one is refused with
// ErrNewerFormat (upgrade kura, or restore an older backup); anything else
// is not a kura collection. Format 1 is the first: there is no older format
// to upgrade yet. When there is, its upgrade runs here, in place, in the
// write transaction that opens it, after the file has been copied to
// rows.db.kura-local-N.bak.
func checkFormat(f string) error {
	n, err := strconv.Atoi(strings.TrimPrefix(f, formatPrefix))
	switch {
	case !strings.HasPrefix(f, formatPrefix) || err != nil || n < 1:
		return fmt.Errorf("format %q is not a kura collection format (this kura reads %q)", f, formatVersion)
	case n > formatNumber:
		return fmt.Errorf("%w: its format is %q and this kura reads %q; use a newer kura, or restore a backup made by this version", ErrNewerFormat, f, formatVersion)
	}
	return nil
}

// rowVersion is the first byte of every encoded row.
const rowVersion = 1

var (
	bucketMeta    = []byte("meta")
	bucketRows    = []byte("rows")
	bucketSources = []byte("sources")

	keyFormat  = []byte("format")
	keySchema  = []byte("schema")
	keyRows    = []byte("rows")
	keySources = []byte("sources")
)

// idKey encodes an id so that bbolt's byte order is int64 order: big-endian
// with the sign bit flipped.
func idKey(id int64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(id)^(1<<63))
	return k[:]
}

func keyID(k []byte) int64 {
	return int64(binary.BigEndian.Uint64(k) ^ (1 << 63))
}

// sourceKey is source + 0x00 + idKey(id). Sources never contain NUL
// (store.Schema.CheckRow refuses them), so a prefix scan on source + 0x00
// finds exactly that source's rows, in id order.
func sourceKey(source string, id int64) []byte {
	k := make([]byte, 0, len(source)+9)
	k = append(k, source...)
	k = append(k, 0)
	return append(k, idKey(id)...)
}

func sourcePrefix(source string) []byte {
	return append([]byte(source), 0)
}

// splitSourceKey is the inverse of sourceKey.
func splitSourceKey(k []byte) (source string, id int64, ok bool) {
	if len(k) < 9 || k[len(k)-9] != 0 {
		return "", 0, false
	}
	return string(k[:len(k)-9]), keyID(k[len(k)-8:]), true
}

// A stored row is
//
//	version byte (1)
//	uvarint n, n float32 little-endian   the vector (normalised for COSINE)
//	uvarint n, n bytes                   the text
//	uvarint n, n bytes                   the source
//	rest                                 the other dynamic fields as a JSON object
//
// The source sits outside the JSON so that upsert and delete can maintain
// the source index without decoding the fields.
func encodeRow(vec []float32, text, source string, fields map[string]any) ([]byte, error) {
	rest := make(map[string]any, len(fields))
	for k, v := range fields {
		if k != "source" {
			rest[k] = v
		}
	}
	js, err := json.Marshal(rest)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+4*len(vec)+len(text)+len(source)+len(js))
	b = append(b, rowVersion)
	b = binary.AppendUvarint(b, uint64(len(vec)))
	for _, v := range vec {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	b = binary.AppendUvarint(b, uint64(len(text)))
	b = append(b, text...)
	b = binary.AppendUvarint(b, uint64(len(source)))
	b = append(b, source...)
	return append(b, js...), nil
}

// rowView is a decoded row whose slices point into the bbolt value; it is
// only valid inside the transaction that read it.
type rowView struct {
	vec    []byte // n*4 bytes, float32 little-endian
	text   []byte
	source []byte
	fields []byte // JSON object without "source"
}

var errBadRow = errors.New("malformed row")

func decodeRow(b []byte) (rowView, error) {
	var r rowView
	if len(b) == 0 || b[0] != rowVersion {
		return r, errBadRow
	}
	b = b[1:]
	next := func() ([]byte, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return nil, false
		}
		s := b[w : w+int(n)]
		b = b[w+int(n):]
		return s, true
	}
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w)/4 {
		return r, errBadRow
	}
	r.vec = b[w : w+4*int(n)]
	b = b[w+4*int(n):]
	var ok bool
	if r.text, ok = next(); !ok {
		return r, errBadRow
	}
	if r.source, ok = next(); !ok {
		return r, errBadRow
	}
	r.fields = b
	return r, nil
}

// dim is the number of vector components.
func (r rowView) dim() int { return len(r.vec) / 4 }

// vector appends the row's vector to dst.
func (r rowView) vector(dst []float32) []float32 {
	for i := 0; i+4 <= len(r.vec); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(r.vec[i:])))
	}
	return dst
}

// decodeFields returns the dynamic fields including "source". Numbers are
// json.Number, so int64 values stay exact and marshal back unchanged.
func (r rowView) decodeFields() (map[string]any, error) {
	fields := map[string]any{}
	if len(r.fields) > 0 {
		d := json.NewDecoder(bytes.NewReader(r.fields))
		d.UseNumber()
		if err := d.Decode(&fields); err != nil {
			return nil, fmt.Errorf("%w: fields: %v", errBadRow, err)
		}
	}
	fields["source"] = string(r.source)
	return fields, nil
}

// row decodes everything but the vector into a store.Row.
func (r rowView) row(id int64) (store.Row, error) {
	f, err := r.decodeFields()
	return store.Row{ID: id, Text: string(r.text), Fields: f}, err
}

func putUint64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b[:0], v) }

func getUint64(v []byte) uint64 {
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}
