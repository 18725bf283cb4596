package milvus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"github.com/milvus-io/milvus/pkg/v2/log"
	"go.uber.org/zap/zapcore"

	"github.com/kura-rag/kura/internal/store"
)

var quietSDK sync.Once

// Store is a connection to one database of a Milvus server. It implements
// [store.Store] and is safe for concurrent use.
type Store struct {
	opts        Options
	db          string
	consistency entity.ConsistencyLevel

	mu     sync.RWMutex
	client *milvusclient.Client // nil after Close
}

var _ store.Store = (*Store)(nil)

// Open connects to the Milvus server opts.URI and checks the credentials
// and database with the handshake, so that a wrong address, token or
// database fails here with a message that says which, not on the first
// write.
func Open(ctx context.Context, opts Options) (*Store, error) {
	quietSDK.Do(func() {
		// The SDK logs retries to stdout through Milvus's global zap logger;
		// kura's stdout carries results (--json), and every error reaches
		// the user through the returned error anyway.
		log.SetLevel(zapcore.InvalidLevel)
	})
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	addr, db, user, password, err := address(opts.URI)
	if err != nil {
		return nil, err
	}
	if opts.Database != "" {
		db = opts.Database
	}
	if opts.User == "" && opts.Password == "" {
		opts.User, opts.Password = user, password
	}
	level, _ := ParseConsistency(opts.Consistency)
	s := &Store{opts: opts, db: db, consistency: level}

	cfg := &milvusclient.ClientConfig{
		Address:     addr,
		DBName:      db,
		DialOptions: opts.DialOptions,
	}
	if opts.Token != "" {
		cfg.APIKey = opts.Token
	} else {
		cfg.Username, cfg.Password = opts.User, opts.Password
	}
	cctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	if opts.DialOptions == nil {
		// The SDK's dial blocks and retries until the timeout; a plain TCP
		// dial first turns "nothing listens there" into an answer at once.
		host := strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://")
		conn, err := (&net.Dialer{}).DialContext(cctx, "tcp", host)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, store.Errorf(ErrUnavailable, "cannot reach Milvus at %s (%v); is Milvus running? %s", RedactURI(opts.URI), unwrapOp(err), StartHint)
		}
		conn.Close()
	}
	client, err := milvusclient.New(cctx, cfg)
	if err != nil {
		if ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
			return nil, store.Errorf(ErrUnavailable, "cannot reach Milvus at %s within %s; is Milvus running? %s", RedactURI(opts.URI), opts.ConnectTimeout, StartHint)
		}
		return nil, s.wrap(ctx, "connect", err)
	}
	s.client = client
	return s, nil
}

func (s *Store) dbName() string {
	if s.db == "" {
		return "default"
	}
	return s.db
}

// cli returns the client, or an error once the store is closed.
func (s *Store) cli() (*milvusclient.Client, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.client == nil {
		return nil, errors.New("milvus: the store is closed")
	}
	return s.client, nil
}

// List returns the names of the kura collections in the database, in
// lexical order. Collections kura did not create (the notebook's, other
// applications') are left out: kura cannot open them.
func (s *Store) List(ctx context.Context) ([]string, error) {
	c, err := s.cli()
	if err != nil {
		return nil, err
	}
	names, err := c.ListCollections(ctx, milvusclient.NewListCollectionOption())
	if err != nil {
		return nil, s.wrap(ctx, "list collections", err)
	}
	var out []string
	for _, name := range names {
		coll, err := c.DescribeCollection(ctx, milvusclient.NewDescribeCollectionOption(name))
		if err != nil {
			if errors.Is(s.wrap(ctx, "", err), store.ErrNotFound) {
				continue // dropped meanwhile
			}
			return nil, s.wrap(ctx, "describe collection "+name, err)
		}
		if _, err := readSchema(coll); err == nil {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Create makes a collection with kura's layout (see [milvusSchema]),
// builds its vector index and the scalar indexes on chunk_id and source,
// and loads it, waiting for each step, so the collection is searchable
// when Create returns. If a step fails the half-made collection is dropped
// so that the next attempt starts clean.
func (s *Store) Create(ctx context.Context, name string, schema store.Schema) (store.Collection, error) {
	if err := store.ValidateName(name); err != nil {
		return nil, err
	}
	schema, err := schema.Normalize()
	if err != nil {
		return nil, err
	}
	if schema.TextMaxBytes > maxVarChar {
		return nil, store.Errorf(store.ErrInvalid, "text_max_bytes is %d; a Milvus VARCHAR holds at most %d bytes", schema.TextMaxBytes, maxVarChar)
	}
	vidx, err := vectorIndex(schema)
	if err != nil {
		return nil, err
	}
	c, err := s.cli()
	if err != nil {
		return nil, err
	}
	has, err := c.HasCollection(ctx, milvusclient.NewHasCollectionOption(name))
	if err != nil {
		return nil, s.wrap(ctx, "check collection "+name, err)
	}
	if has {
		return nil, store.Errorf(store.ErrExists, "collection %q already exists on %s", name, s.where())
	}
	err = c.CreateCollection(ctx, milvusclient.NewCreateCollectionOption(name, milvusSchema(name, schema)).
		WithConsistencyLevel(s.consistency))
	if err != nil {
		return nil, s.wrap(ctx, "create collection "+name, err)
	}
	if err := s.build(ctx, c, name, vidx); err != nil {
		// A fresh context: the caller's may be what failed.
		_ = c.DropCollection(context.WithoutCancel(ctx), milvusclient.NewDropCollectionOption(name))
		return nil, err
	}
	return &Collection{s: s, name: name, schema: schema}, nil
}

// build creates the indexes, waits until they are built, loads the
// collection and waits until it is loaded: the notebook's sequence.
func (s *Store) build(ctx context.Context, c *milvusclient.Client, name string, vidx index.Index) error {
	type pending struct {
		field string
		task  *milvusclient.CreateIndexTask
	}
	var tasks []pending
	vtask, err := c.CreateIndex(ctx, milvusclient.NewCreateIndexOption(name, fieldVector, vidx))
	if err != nil {
		return s.wrap(ctx, fmt.Sprintf("create the %s index of %s", vidx.Params()["index_type"], name), err)
	}
	tasks = append(tasks, pending{fieldVector, vtask})
	for _, f := range scalarIndexes {
		t, err := c.CreateIndex(ctx, milvusclient.NewCreateIndexOption(name, f, index.NewGenericIndex("", map[string]string{index.IndexTypeKey: scalarIndexType})))
		if err != nil {
			return s.wrap(ctx, fmt.Sprintf("create the %s index on %s.%s (Milvus 2.4 or later is needed)", scalarIndexType, name, f), err)
		}
		tasks = append(tasks, pending{f, t})
	}
	for _, t := range tasks {
		if err := t.task.Await(ctx); err != nil {
			return s.wrap(ctx, fmt.Sprintf("wait for the index on %s.%s", name, t.field), err)
		}
	}
	return s.load(ctx, c, name)
}

// load loads a collection into memory and waits until it is searchable.
func (s *Store) load(ctx context.Context, c *milvusclient.Client, name string) error {
	task, err := c.LoadCollection(ctx, milvusclient.NewLoadCollectionOption(name))
	if err != nil {
		return s.wrap(ctx, "load collection "+name, err)
	}
	if err := task.Await(ctx); err != nil {
		return s.wrap(ctx, "wait for collection "+name+" to load", err)
	}
	return nil
}

// Open opens a kura collection and makes sure it is loaded (Milvus
// releases collections on request and after some failures; a search on a
// released collection fails).
func (s *Store) Open(ctx context.Context, name string) (store.Collection, error) {
	if err := store.ValidateName(name); err != nil {
		return nil, err
	}
	c, err := s.cli()
	if err != nil {
		return nil, err
	}
	coll, err := c.DescribeCollection(ctx, milvusclient.NewDescribeCollectionOption(name))
	if err != nil {
		err = s.wrap(ctx, "open collection "+name, err)
		if errors.Is(err, store.ErrNotFound) {
			return nil, store.Errorf(store.ErrNotFound, "collection %q does not exist on %s", name, s.where())
		}
		return nil, err
	}
	schema, err := readSchema(coll)
	if err != nil {
		return nil, err
	}
	state, err := c.GetLoadState(ctx, milvusclient.NewGetLoadStateOption(name))
	if err != nil {
		return nil, s.wrap(ctx, "get the load state of "+name, err)
	}
	if state.State != entity.LoadStateLoaded {
		if err := s.load(ctx, c, name); err != nil {
			return nil, err
		}
	}
	return &Collection{s: s, name: name, schema: schema}, nil
}

// Drop removes a kura collection. Collections kura did not create are
// refused: kura does not delete other applications' data.
func (s *Store) Drop(ctx context.Context, name string) error {
	if err := store.ValidateName(name); err != nil {
		return err
	}
	c, err := s.cli()
	if err != nil {
		return err
	}
	coll, err := c.DescribeCollection(ctx, milvusclient.NewDescribeCollectionOption(name))
	if err != nil {
		err = s.wrap(ctx, "drop collection "+name, err)
		if errors.Is(err, store.ErrNotFound) {
			return store.Errorf(store.ErrNotFound, "collection %q does not exist on %s", name, s.where())
		}
		return err
	}
	if _, err := readSchema(coll); err != nil {
		return err
	}
	if err := c.DropCollection(ctx, milvusclient.NewDropCollectionOption(name)); err != nil {
		return s.wrap(ctx, "drop collection "+name, err)
	}
	return nil
}

// Close closes the connection; collections opened from s stop working.
func (s *Store) Close() error {
	s.mu.Lock()
	c := s.client
	s.client = nil
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.Close(context.Background())
}

// unwrapOp drops the "dial tcp 127.0.0.1:1:" prefix of a net.OpError,
// which repeats the address the message already names.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
