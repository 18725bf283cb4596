package embed

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kura-rag/kura/internal/provider"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Cache is a persistent embedding cache: one bbolt file (by default
// DATA/cache/embeddings.db) mapping sha256(text) to its vector, in one
// bucket per vector space. A space is everything that changes a vector:
// provider, model, requested dimension, truncation, the input type for
// asymmetric models, and the endpoint for self-hosted servers (whose model
// names are whatever the operator chose). Re-ingesting with another
// chunking then pays only for the chunks whose text changed, and a run
// interrupted by a rate limit or Ctrl-C keeps what it already paid for.
//
// The cache is an optimisation, never a source of truth: a failed cache
// write does not fail the embedding, and `kura cache clear` is always
// safe. The offline hash embedder is not cached: recomputing is faster
// than a disk lookup.
type Cache struct {
	db   *bolt.DB
	path string
}

// ErrCacheBusy means another process holds the cache file.
var ErrCacheBusy = errors.New("the embedding cache is in use by another kura process")

// OpenCache opens (creating if needed) the cache file at path. A
// read-only open never creates it. If another process holds the file for
// writing, OpenCache gives up after a second with ErrCacheBusy, and the
// caller can carry on without a cache.
func OpenCache(path string, readOnly bool) (*Cache, error) {
	if !readOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("cannot create the cache directory: %w", err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, ReadOnly: readOnly, NoFreelistSync: true})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w (%s)", ErrCacheBusy, path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the embedding cache %s: %w", path, err)
	}
	return &Cache{db: db, path: path}, nil
}

// Path is the cache file.
func (c *Cache) Path() string { return c.path }

// Close closes the file.
func (c *Cache) Close() error { return c.db.Close() }

// CacheSpace names the vector space of an embedder configuration; see
// [Cache]. info supplies the resolved model name (cfg.Model may be empty).
func CacheSpace(cfg Config, info Info) string {
	parts := []string{info.Name, info.Model, fmt.Sprintf("dim=%d", cfg.Dim)}
	switch info.Name {
	case "cohere", "oci":
		t, _ := truncateMode(cfg.Truncate)
		parts = append(parts, "truncate="+t)
	case "ollama":
		t, _ := truncateMode(cfg.Truncate)
		parts = append(parts, "truncate="+t, "endpoint="+provider.Redact(cfg.Endpoint))
	case "openai":
		parts = append(parts, "endpoint="+provider.Redact(cfg.Endpoint))
	}
	return strings.Join(parts, "|")
}

// asymmetric providers embed documents and queries differently.
func asymmetric(provider string) bool { return provider == "cohere" || provider == "oci" }

func bucketName(space string, provider string, mode Mode) []byte {
	if !asymmetric(provider) {
		return []byte(space)
	}
	if mode == ModeQuery {
		return []byte(space + "|search_query")
	}
	return []byte(space + "|search_document")
}

// CacheCounter is implemented by embedders that serve some texts from a
// cache, so ingest can report texts sent versus texts served.
type CacheCounter interface {
	// CacheHits is the number of texts served from the cache so far.
	CacheHits() int64
}

// Wrap returns e with the cache in front of it: texts found in space are
// not sent, the others are sent in one call and stored.
func (c *Cache) Wrap(e Embedder, space string) *Cached {
	return &Cached{inner: e, cache: c, space: space}
}

// Cached is an [Embedder] behind a [Cache].
type Cached struct {
	inner  Embedder
	cache  *Cache
	space  string
	hits   atomic.Int64
	misses atomic.Int64
}

func (e *Cached) Info() Info       { return e.inner.Info() }
func (e *Cached) MaxBatch() int    { return e.inner.MaxBatch() }
func (e *Cached) CacheHits() int64 { return e.hits.Load() }

// CacheMisses is the number of texts sent to the wrapped embedder.
func (e *Cached) CacheMisses() int64 { return e.misses.Load() }

func (e *Cached) Embed(ctx context.Context, texts []string, mode Mode) ([][]float32, error) {
	bucket := bucketName(e.space, e.inner.Info().Name, mode)
	keys := make([][32]byte, len(texts))
	for i, t := range texts {
		keys[i] = sha256.Sum256([]byte(t))
	}
	out := make([][]float32, len(texts))
	_ = e.cache.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		for i := range keys {
			if v := b.Get(keys[i][:]); v != nil {
				out[i] = decodeVector(v)
			}
		}
		return nil
	})
	// Send each distinct missing text once.
	var missTexts []string
	missIdx := map[[32]byte]int{}
	want := e.inner.Info().Dim
	for i := range texts {
		if out[i] != nil && (want == 0 || len(out[i]) == want) {
			continue
		}
		out[i] = nil
		if _, ok := missIdx[keys[i]]; !ok {
			missIdx[keys[i]] = len(missTexts)
			missTexts = append(missTexts, texts[i])
		}
	}
	if len(missTexts) > 0 {
		fresh, err := e.inner.Embed(ctx, missTexts, mode)
		if err != nil {
			return nil, err
		}
		if err := checkVectors(e.inner.Info().Name, fresh, len(missTexts)); err != nil {
			return nil, err
		}
		e.misses.Add(int64(len(missTexts)))
		for i := range texts {
			if out[i] == nil {
				out[i] = fresh[missIdx[keys[i]]]
			}
		}
		// A failed write costs only a future cache miss.
		_ = e.cache.db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			for k, j := range missIdx {
				if err := b.Put(k[:], encodeVector(fresh[j])); err != nil {
					return err
				}
			}
			return nil
		})
	}
	e.hits.Add(int64(len(texts) - len(missTexts)))
	if err := checkVectors(e.inner.Info().Name, out, len(texts)); err != nil {
		// Cached vectors of another length than fresh ones: the space
		// changed under the same name. Refuse rather than mix.
		return nil, fmt.Errorf("%w; run `kura cache clear`", err)
	}
	return out, nil
}

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	if len(b)%4 != 0 || len(b) == 0 {
		return nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// SpaceStats describes one vector space in the cache.
type SpaceStats struct {
	Space   string `json:"space"`
	Entries int    `json:"entries"`
	Dim     int    `json:"dim"`
	Bytes   int64  `json:"bytes"` // vector bytes, keys excluded
}

// Stats lists the spaces in the cache, largest first.
func (c *Cache) Stats() ([]SpaceStats, error) {
	var out []SpaceStats
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			s := SpaceStats{Space: string(name)}
			err := b.ForEach(func(_, v []byte) error {
				s.Entries++
				s.Bytes += int64(len(v))
				if s.Dim == 0 {
					s.Dim = len(v) / 4
				}
				return nil
			})
			out = append(out, s)
			return err
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Entries != out[j].Entries {
			return out[i].Entries > out[j].Entries
		}
		return out[i].Space < out[j].Space
	})
	return out, err
}

// Clear removes every space whose name starts with prefix ("" for all)
// and returns how many vectors went.
func (c *Cache) Clear(prefix string) (int, error) {
	n := 0
	err := c.db.Update(func(tx *bolt.Tx) error {
		var names [][]byte
		err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if strings.HasPrefix(string(name), prefix) {
				names = append(names, append([]byte(nil), name...))
				n += b.Stats().KeyN
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, name := range names {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}
