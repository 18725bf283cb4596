package ingest

import (
	"context"
	"fmt"

	"github.com/kura-rag/kura/internal/store"
)

// maxGroupRows bounds one group commit (about 4 MiB of 1024-dim vectors).
const maxGroupRows = 1024

// writer stores what arrives on writes until it is closed, grouping what
// is already waiting into one transaction, so the fsync cost is paid per
// burst, not per batch. The stale chunks of a source are deleted once all
// its rows are stored, and only after the gate opens; if the run fails
// before that, they stay. After a failure the writer keeps draining writes
// (so senders never block) without storing.
func (r *run) writer(ctx context.Context, writes <-chan writeItem, cancel context.CancelCauseFunc) error {
	var err error
	gate := r.gate
	var held []string // sources whose stale chunks wait for the gate
	deleteHeld := func() {
		if err == nil && len(held) > 0 {
			err = r.deleteStale(ctx, held)
		}
		held = nil
	}
	for {
		select {
		case <-gate:
			gate = nil
			deleteHeld()
		case item, ok := <-writes:
			if !ok {
				if gate != nil {
					select {
					case <-gate:
						deleteHeld()
					default: // the run failed before anything was embedded
					}
				}
				return err
			}
			if err != nil {
				continue
			}
			group := []writeItem{item}
			for n := len(item.rows); n < maxGroupRows; {
				more, ok := tryRecv(writes)
				if !ok {
					break
				}
				group = append(group, more)
				n += len(more.rows)
			}
			var done []string
			if done, err = r.store(ctx, group); err == nil {
				held = append(held, done...)
				if gate == nil {
					deleteHeld()
				}
			}
		}
		if err != nil {
			cancel(err)
		}
	}
}

func tryRecv(ch <-chan writeItem) (writeItem, bool) {
	select {
	case item, ok := <-ch:
		return item, ok
	default:
		return writeItem{}, false
	}
}

// store writes a group of rows in one transaction and returns the sources
// whose rows are now all stored.
func (r *run) store(ctx context.Context, group []writeItem) ([]string, error) {
	var rows []store.Row
	var done []string
	for _, item := range group {
		rows = append(rows, item.rows...)
		if item.rows == nil {
			done = append(done, item.staleSource)
		}
	}
	if len(rows) == 0 {
		return done, nil
	}
	if r.coll == nil {
		r.mu.Lock()
		dim := r.dim
		r.mu.Unlock()
		if err := r.create(ctx, dim); err != nil {
			return nil, err
		}
	}
	wctx, wrote := r.opts.Observer.write(ctx, "upsert", len(rows))
	err := r.coll.Upsert(wctx, rows)
	wrote(err)
	if err != nil {
		return nil, fmt.Errorf("storing %d chunks: %w", len(rows), err)
	}
	r.progress.Stored.Add(int64(len(rows)))
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, row := range rows {
		if r.updated[row.ID] {
			r.sum.Updated++
		} else {
			r.sum.Added++
		}
		p := r.pending[row.Source()]
		p.remaining--
		if p.remaining == 0 {
			done = append(done, row.Source())
		}
	}
	return done, nil
}

// deleteStale deletes the stale chunks of sources whose rows are stored.
func (r *run) deleteStale(ctx context.Context, sources []string) error {
	var stale []int64
	r.mu.Lock()
	for _, source := range sources {
		stale = append(stale, r.pending[source].stale...)
		delete(r.pending, source)
	}
	r.mu.Unlock()
	if len(stale) == 0 {
		return nil
	}
	dctx, done := r.opts.Observer.write(ctx, "delete", len(stale))
	err := r.coll.Delete(dctx, stale)
	done(err)
	if err != nil {
		return fmt.Errorf("removing %d old chunks of %d changed files: %w", len(stale), len(sources), err)
	}
	r.mu.Lock()
	r.sum.Removed += len(stale)
	r.mu.Unlock()
	return nil
}

// prune deletes the chunks of stored sources that PruneSource selects and
// that were not among this run's inputs (nor their aliases, which the run
// has just taken over).
func (r *run) prune(ctx context.Context, inputs []Input) error {
	if r.opts.PruneSource == nil {
		return nil
	}
	seen := make(map[string]bool, len(inputs))
	for _, in := range inputs {
		seen[in.Source] = true
		for _, a := range in.Aliases {
			seen[a] = true
		}
	}
	sources, err := r.coll.Sources(ctx)
	if err != nil {
		return fmt.Errorf("listing stored sources to prune: %w", err)
	}
	for _, source := range sources {
		if seen[source] || !r.opts.PruneSource(source) {
			continue
		}
		ids, err := r.coll.SourceIDs(ctx, source)
		if err != nil {
			return err
		}
		dctx, done := r.opts.Observer.write(ctx, "delete", len(ids))
		err = r.coll.Delete(dctx, ids)
		done(err)
		if err != nil {
			return fmt.Errorf("pruning %s: %w", source, err)
		}
		r.mu.Lock()
		r.sum.Removed += len(ids)
		r.mu.Unlock()
	}
	return nil
}
