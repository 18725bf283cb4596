package ingest

import (
	"crypto/sha256"
	"encoding/binary"
)

// ChunkID derives a chunk's int64 id from what identifies it: the
// collection, the source file, the document inside the source (a JSONL
// line's own id; "" for other formats) and the chunk's text. The same chunk
// re-ingested gets the same id, so re-runs are no-ops and a changed file
// only touches the chunks whose text changed.
//
// The id is the first 63 bits of a SHA-256, so it is positive (Milvus and
// JSON consumers handle it as a plain int64) and collisions are negligible
// (about 1 in 10^7 at a billion chunks).
func ChunkID(collection, source, docID, text string) int64 {
	h := sha256.New()
	for _, part := range [...]string{collection, source, docID} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write([]byte(text))
	var sum [sha256.Size]byte
	id := int64(binary.BigEndian.Uint64(h.Sum(sum[:0])) >> 1)
	if id == 0 {
		id = 1 // 0 reads as "no id" in too many places
	}
	return id
}
