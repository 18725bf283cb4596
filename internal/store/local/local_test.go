package local

import (
	"testing"

	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
		dir := t.TempDir()
		open := func(t *testing.T) store.Store {
			t.Helper()
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return open(t), open
	})
}
