package milvus

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/milvus-io/milvus/client/v2/milvusclient"

	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/milvus/milvusfake"
	"github.com/kura-rag/kura/internal/store/storetest"
)

// newFake starts an in-process fake Milvus for one test.
func newFake(t *testing.T, opts milvusfake.Options) *milvusfake.Server {
	t.Helper()
	srv, err := milvusfake.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func openFake(t *testing.T, srv *milvusfake.Server, opts Options) *Store {
	t.Helper()
	opts.URI = srv.URI()
	s, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", srv.URI(), err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformanceFake runs the store conformance suite against the fake:
// it proves that the backend's requests and its reading of the answers are
// consistent with the contract, as far as the fake mirrors Milvus.
func TestConformanceFake(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
		srv := newFake(t, milvusfake.Options{})
		open := func(t *testing.T) store.Store {
			s, err := Open(t.Context(), Options{URI: srv.URI()})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return open(t), open
	})
}

// TestConformanceMilvus runs the suite against the real Milvus at
// MILVUS_URI (with MILVUS_TOKEN, if set). Every subtest gets a database of
// its own, dropped afterwards, so the server's other data is not touched.
func TestConformanceMilvus(t *testing.T) {
	uri := os.Getenv("MILVUS_URI")
	if uri == "" {
		t.Skip("MILVUS_URI is not set; see README, section Milvus, to run the suite against a real server")
	}
	base := Options{URI: uri, Token: os.Getenv("MILVUS_TOKEN"), User: os.Getenv("MILVUS_USER"), Password: os.Getenv("MILVUS_PASSWORD")}
	admin, err := Open(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	n := 0
	storetest.Run(t, func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
		n++
		db := fmt.Sprintf("kura_test_%d_%d", time.Now().Unix(), n)
		cli, _ := admin.cli()
		if err := cli.CreateDatabase(t.Context(), milvusclient.NewCreateDatabaseOption(db)); err != nil {
			t.Fatalf("create database %s: %v", db, err)
		}
		t.Cleanup(func() {
			ctx := context.Background()
			s, err := Open(ctx, withDB(base, db))
			if err == nil {
				names, _ := s.List(ctx)
				for _, name := range names {
					s.Drop(ctx, name)
				}
				s.Close()
			}
			cli.DropDatabase(ctx, milvusclient.NewDropDatabaseOption(db))
		})
		open := func(t *testing.T) store.Store {
			s, err := Open(t.Context(), withDB(base, db))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return open(t), open
	})
}

func withDB(o Options, db string) Options {
	o.Database = db
	return o
}
