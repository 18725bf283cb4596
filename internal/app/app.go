package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/history"
	"github.com/kura-rag/kura/internal/langfuse"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
	"github.com/kura-rag/kura/internal/store/milvus"
	"github.com/kura-rag/kura/internal/tracing"
)

// Store backends.
const (
	StoreLocal  = "local"
	StoreMilvus = "milvus"
)

// DefaultCollection is the collection of requests that name none.
const DefaultCollection = "kura"

// Options configure an [App]. The zero value opens the embedded store in
// ./kura-data with the offline defaults (hash embedder, extractive
// answers, no tracing).
type Options struct {
	// DataDir holds the embedded store, the embedding cache, the history
	// of conversations and answers, and crawl state ("kura-data" if
	// empty). With Milvus, only the latter three live there.
	DataDir string
	// Store is StoreLocal (default) or StoreMilvus.
	Store  string
	Milvus milvus.Options
	// Collection is the default collection (DefaultCollection if empty).
	Collection string
	// ReadOnly opens the store for reading only: commands that only read
	// run beside each other and beside a writer.
	ReadOnly bool
	// OnWait, if set, is told when an operation of the embedded store has
	// waited a while for another process using a collection, so that a
	// command can say what it is waiting for. It must not block.
	OnWait func(local.WaitEvent)
	// HideLocation keeps the store's location (a path, a Milvus address)
	// out of error messages: a server's clients have no business learning
	// its file system.
	HideLocation bool

	// Providers are the endpoints and credentials of the model providers
	// (see [ProvidersFromEnv]).
	Providers Providers
	// Embedding configures embedding calls: which embedder a new
	// collection gets, retries, timeouts, the cache.
	Embedding EmbedOptions
	// Answers are the defaults of Ask that a request does not override.
	Answers AnswerDefaults

	// Tracing receives spans; nil traces nothing.
	Tracing *tracing.Provider
	// Langfuse, if set, receives feedback as scores and serves prompts.
	Langfuse *langfuse.Client
	// NoHistory keeps no record of answers, conversations or feedback
	// (library users who keep their own).
	NoHistory bool
	// History bounds the history (retention) and its lock wait; zero
	// values are history's defaults.
	History history.Options
	// FeedbackSaved, if set, is called after each rating is stored, and
	// Feedback then leaves the delivery to Langfuse to the caller
	// ([App.DeliverFeedback]): a server delivers in the background, so
	// that a slow Langfuse never holds a user's click. Nil: Feedback
	// delivers at once, bounded (a command that exits right after).
	FeedbackSaved func()

	// Notify receives notices meant for the person running kura: retries
	// of a provider, a busy embedding cache, a fallback. Nil drops them.
	Notify func(string)
}

// App is an opened kura: a store, its collections, and the providers that
// serve them. It is safe for concurrent use.
type App struct {
	opts  Options
	store store.Store
	where string // the store's location, for messages

	mu    sync.Mutex
	colls map[string]*collState
	llms  map[string]llm.Client // by provider and model

	extractiveOnce   sync.Once
	extractiveClient llm.Client

	prompts *langfuse.PromptStore

	hist *history.Store // nil with NoHistory

	jobs *jobs

	closeOnce sync.Once
}

// Open opens the store o describes. Collections are opened on first use.
func Open(ctx context.Context, o Options) (*App, error) {
	if o.DataDir == "" {
		o.DataDir = "kura-data"
	}
	if o.Collection == "" {
		o.Collection = DefaultCollection
	}
	if o.Store == "" {
		o.Store = StoreLocal
	}
	if err := store.ValidateName(o.Collection); err != nil {
		return nil, api.Invalid("collection", "%v", err)
	}
	a := &App{opts: o, colls: map[string]*collState{}}
	switch o.Store {
	case StoreLocal:
		st, err := local.Open(o.DataDir, local.Options{ReadOnly: o.ReadOnly, OnWait: o.OnWait})
		if err != nil {
			return nil, err
		}
		a.store = st
		if abs, err := filepath.Abs(o.DataDir); err == nil {
			a.where = abs
		} else {
			a.where = o.DataDir
		}
	case StoreMilvus:
		st, err := milvus.Open(ctx, o.Milvus)
		if err != nil {
			return nil, err
		}
		a.store = st
		a.where = milvus.Where(o.Milvus.URI, o.Milvus.Database)
	default:
		return nil, api.Invalid("store", "unknown store %q (use %s or %s)", o.Store, StoreLocal, StoreMilvus)
	}
	if !o.NoHistory {
		a.hist = history.Open(o.DataDir, o.History)
	}
	a.prompts = langfuse.NewPromptStore(o.Langfuse, langfuse.PromptStoreOptions{
		TTL: o.Answers.PromptTTL, Dir: filepath.Join(o.DataDir, "app", "prompts"),
	})
	a.jobs = newJobs()
	return a, nil
}

// Close waits for running ingest jobs, then closes every collection and
// the store.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() {
		a.jobs.wait()
		a.mu.Lock()
		var errs []error
		for name, c := range a.colls {
			errs = append(errs, c.close())
			delete(a.colls, name)
		}
		a.mu.Unlock()
		errs = append(errs, a.store.Close())
		err = errors.Join(errs...)
	})
	return err
}

// Store returns the opened store, for tools that need more than the
// application API (benchmarks, the crawler's ingest).
func (a *App) Store() store.Store { return a.store }

// Where names the store's location for messages: the data directory's
// absolute path, or the Milvus server and database.
func (a *App) Where() string { return a.where }

// in names the store's location in a message (" in /data"), unless
// Options.HideLocation.
func (a *App) in() string {
	if a.opts.HideLocation {
		return ""
	}
	return " in " + a.where
}

// DataDir is the data directory.
func (a *App) DataDir() string { return a.opts.DataDir }

// StoreName is StoreLocal or StoreMilvus.
func (a *App) StoreName() string { return a.opts.Store }

// DefaultCollection is the collection of requests that name none.
func (a *App) DefaultCollection() string { return a.opts.Collection }

func (a *App) notify(msg string) {
	if a.opts.Notify != nil {
		a.opts.Notify(msg)
	}
}

// collectionName resolves an empty name to the default collection and
// checks it.
func (a *App) collectionName(name string) (string, error) {
	if name == "" {
		return a.opts.Collection, nil
	}
	if err := store.ValidateName(name); err != nil {
		return "", api.Invalid("collection", "%v", err)
	}
	return name, nil
}

// collection returns the opened state of collection name, opening it on
// first use.
func (a *App) collection(ctx context.Context, name string) (*collState, error) {
	name, err := a.collectionName(name)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.colls[name]; c != nil {
		if !c.replaced() {
			return c, nil
		}
		// Dropped or replaced by another process: open what is there now
		// (after closing the old handle, which the store would otherwise
		// hand out again). Requests still using it fail as the store says.
		delete(a.colls, name)
		c.close()
	}
	coll, err := a.store.Open(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &api.Error{Code: api.CodeNotFound, Field: "collection",
			Message: fmt.Sprintf("collection %q does not exist%s", name, a.in())}
	}
	if err != nil {
		return nil, err
	}
	c := newCollState(a, coll)
	a.colls[name] = c
	return c, nil
}

// forget closes and drops the cached state of a collection (after a drop,
// or when a re-created collection must be reopened).
func (a *App) forget(name string) {
	a.mu.Lock()
	c := a.colls[name]
	delete(a.colls, name)
	a.mu.Unlock()
	if c != nil {
		c.close()
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
