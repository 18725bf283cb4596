package app

import (
	"context"
	"sync"

	"github.com/kura-rag/kura/internal/store"
)

// collState is an opened collection and what serves its queries: the
// query embedder is made once and shared by every request.
type collState struct {
	app  *App
	coll store.Collection

	embOnce sync.Once
	emb     *openedEmbedder
	embErr  error
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
