package app

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"

	"github.com/kura-rag/kura/internal/store"
)

// collState is an opened collection and what serves its queries: the
// query embedder is made once and shared by every request.
//
// Another process (kura ingest, kura collection drop beside kura serve)
// may drop a collection of the embedded store, or drop and create it
// again, while this App keeps it open. The store then reports the old
// handle as not found, and this App must neither serve what was dropped
// nor keep failing once a successor exists: a state whose file is no
// longer the one at the collection's path ([collState.replaced]), or
// whose operations reported it gone ([collState.check]), is opened again
// by the next request.
type collState struct {
	app  *App
	coll store.Collection

	// path and file identify the embedded store's collection file as it
	// was opened; file is nil for a store without one (Milvus).
	path string
	file os.FileInfo
	gone atomic.Bool

	embOnce sync.Once
	emb     *openedEmbedder
	embErr  error
}

// fileBacked is a collection kept in one file (the embedded store's).
type fileBacked interface{ Path() string }

func newCollState(a *App, coll store.Collection) *collState {
	c := &collState{app: a, coll: coll}
	if fb, ok := coll.(fileBacked); ok {
		// Taken after the open: a collection replaced in between is
		// caught by check when its first operation fails.
		if fi, err := os.Stat(fb.Path()); err == nil {
			c.path, c.file = fb.Path(), fi
		}
	}
	return c
}

// replaced reports whether the collection was dropped or replaced since
// it was opened, by another process or through another handle: its file
// is gone from its path or is another file (one stat).
func (c *collState) replaced() bool {
	if c.gone.Load() {
		return true
	}
	if c.file == nil {
		return false
	}
	fi, err := os.Stat(c.path)
	return err != nil || !os.SameFile(fi, c.file)
}

// check passes err on, noting a collection the store reports gone, so
// that the next request opens it again.
func (c *collState) check(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		c.gone.Store(true)
	}
	return err
}

// embedder returns the collection's query embedder with the app's
// embedding options.
func (c *collState) embedder() (*openedEmbedder, error) {
	c.embOnce.Do(func() {
		c.emb, c.embErr = c.app.queryEmbedder(c.coll, c.app.opts.Embedding)
	})
	return c.emb, c.embErr
}

func (c *collState) close() error {
	c.emb.close()
	return c.coll.Close()
}

// Collection opens a collection for a caller that needs the store's own
// interface (tools, benchmarks). The App keeps it open; do not close it.
func (a *App) Collection(ctx context.Context, name string) (store.Collection, error) {
	c, err := a.collection(ctx, name)
	if err != nil {
		return nil, err
	}
	return c.coll, nil
}
