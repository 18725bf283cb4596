package local

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Verify checks the collection's invariants in one read transaction: bbolt's
// own page consistency, every row decodes with the schema's dimension, the
// source index has exactly one entry per row under the row's source, and
// the counters in meta equal the actual number of rows and sources. It
// reads the whole file; it is for tests and repair tools, not for every open.
func (c *Collection) Verify(ctx context.Context) error {
	if err := c.usable(); err != nil {
		return err
	}
	return c.sh.view(ctx, func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("collection %s: bbolt check: %w", c.sh.name, errors.Join(errs...))
		}
		rows, srcIdx := tx.Bucket(bucketRows), tx.Bucket(bucketSources)
		var nrows uint64
		err := rows.ForEach(func(k, v []byte) error {
			if nrows%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			nrows++
			if len(k) != 8 {
				return fmt.Errorf("bad row key %x", k)
			}
			id := keyID(k)
			rv, err := decodeRow(v)
			if err != nil {
				return fmt.Errorf("row %d: %w", id, err)
			}
			if rv.dim() != c.sh.schema.Dim {
				return fmt.Errorf("row %d has %d dimensions, the schema %d", id, rv.dim(), c.sh.schema.Dim)
			}
			if _, err := rv.decodeFields(); err != nil {
				return fmt.Errorf("row %d: %w", id, err)
			}
			if srcIdx.Get(sourceKey(string(rv.source), id)) == nil {
				return fmt.Errorf("row %d (source %q) is missing from the source index", id, rv.source)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("collection %s: %w", c.sh.name, err)
		}
		var nidx, nsrc uint64
		last := ""
		err = srcIdx.ForEach(func(k, _ []byte) error {
			src, id, ok := splitSourceKey(k)
			if !ok {
				return fmt.Errorf("bad source index key %q", k)
			}
			nidx++
			if nsrc == 0 || src != last {
				nsrc++
				last = src
			}
			v := rows.Get(idKey(id))
			if v == nil {
				return fmt.Errorf("source index entry %q → %d has no row", src, id)
			}
			rv, err := decodeRow(v)
			if err != nil {
				return fmt.Errorf("row %d: %w", id, err)
			}
			if string(rv.source) != src {
				return fmt.Errorf("source index entry %q → %d, but the row's source is %q", src, id, rv.source)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("collection %s: %w", c.sh.name, err)
		}
		n := readCounters(tx.Bucket(bucketMeta))
		switch {
		case nidx != nrows:
			return fmt.Errorf("collection %s: %d rows but %d source index entries", c.sh.name, nrows, nidx)
		case n.rows != nrows:
			return fmt.Errorf("collection %s: meta counts %d rows, the rows bucket holds %d", c.sh.name, n.rows, nrows)
		case n.sources != nsrc:
			return fmt.Errorf("collection %s: meta counts %d sources, the index holds %d", c.sh.name, n.sources, nsrc)
		}
		return nil
	})
}
