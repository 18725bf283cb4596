package local

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/store"
)

// allRows returns every row of a collection as id → text.
func allRows(t *testing.T, dir, name string) map[int64]string {
	t.Helper()
	s := openStore(t, dir, Options{ReadOnly: true})
	c := mustOpen(t, s, name)
	out := map[int64]string{}
	err := c.sh.view(t.Context(), func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRows).ForEach(func(k, v []byte) error {
			rv, err := decodeRow(v)
			out[keyID(k)] = string(rv.text)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(t.Context()); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBackupWhileWritingAndRestore backs up a data directory while another
// store keeps writing, restores it elsewhere and compares rows: the copy
// is some committed state (every row consistent, counters matching), and
// files that are not collections come along.
func TestBackupWhileWritingAndRestore(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	w := openStore(t, dir, Options{})
	c := mustCreate(t, w, "docs", store.Schema{Dim: 2, Metric: store.MetricIP, Index: store.IndexSpec{Type: store.IndexHNSW}})
	other := mustCreate(t, w, "other", store.Schema{Dim: 3, Metric: store.MetricL2})
	if err := other.Upsert(ctx, []store.Row{vrow(1, "x", 1, 2, 3)}); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := c.Upsert(ctx, []store.Row{vrow(int64(i), fmt.Sprint("s", i%5), float32(i), 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Search(ctx, store.SearchRequest{Vector: []float32{1, 1}, Limit: 3}); err != nil {
		t.Fatal(err) // leaves an index.snap to copy
	}
	// A bbolt file and a JSON file of later features (conversations, ...).
	cacheDB, err := bolt.Open(filepath.Join(dir, "cache", "embeddings.db"), 0o600, nil)
	if err == nil {
		t.Fatal("the cache directory should not exist yet")
	}
	os.MkdirAll(filepath.Join(dir, "cache"), 0o755)
	if cacheDB, err = bolt.Open(filepath.Join(dir, "cache", "embeddings.db"), 0o600, nil); err != nil {
		t.Fatal(err)
	}
	cacheDB.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("space"))
		return b.Put([]byte("k"), []byte("vector"))
	})
	cacheDB.Close()
	os.WriteFile(filepath.Join(dir, "feedback.json"), []byte(`{"answers":[]}`), 0o644)

	// Write while the backup runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	w2 := openStore(t, dir, Options{})
	c2 := mustOpen(t, w2, "docs")
	wg.Go(func() {
		for i := 50; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := c2.Upsert(ctx, []store.Row{vrow(int64(i), fmt.Sprint("s", i%5), float32(i), 1)}); err != nil {
				t.Error(err)
				return
			}
			if i%3 == 0 {
				c2.Delete(ctx, []int64{int64(i - 40)})
			}
		}
	})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	m, err := Backup(ctx, dir, zw, BackupOptions{})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	zw.Close()
	paths := []string{}
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	for _, want := range []string{"collections/docs/rows.db", "collections/docs/index.snap", "collections/other/rows.db", "cache/embeddings.db", "feedback.json"} {
		if !slices.Contains(paths, want) {
			t.Errorf("backup lacks %s: %v", want, paths)
		}
	}
	for _, p := range paths {
		if strings.HasSuffix(p, ".lock") {
			t.Errorf("backup holds lock file %s", p)
		}
	}

	restored := filepath.Join(t.TempDir(), "data")
	if _, err := Restore(ctx, bytes.NewReader(buf.Bytes()), restored, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	got := allRows(t, restored, "docs")
	var rows int64
	for _, bc := range m.Collections {
		if bc.Name == "docs" {
			rows = bc.Rows
		}
	}
	if int64(len(got)) != rows || len(got) < 50 {
		t.Errorf("restored %d rows, the manifest says %d", len(got), rows)
	}
	now := allRows(t, dir, "docs")
	for id, text := range got {
		if id < 50 && now[id] != "" && now[id] != text {
			t.Errorf("row %d: restored %q, written %q", id, text, now[id])
		}
	}
	if b, err := os.ReadFile(filepath.Join(restored, "feedback.json")); err != nil || string(b) != `{"answers":[]}` {
		t.Errorf("feedback.json: %q, %v", b, err)
	}
	// The restored collection works: search (index loaded or rebuilt) and
	// write.
	rs := openStore(t, restored, Options{})
	rc := mustOpen(t, rs, "docs")
	if hits, err := rc.Search(ctx, store.SearchRequest{Vector: []float32{1, 1}, Limit: 3}); err != nil || len(hits) != 3 {
		t.Errorf("search of the restored collection: %v, %v", hits, err)
	}
	if err := rc.Upsert(ctx, []store.Row{vrow(99999, "new", 1, 1)}); err != nil {
		t.Error(err)
	}

	// Restoring over data needs Force; a damaged or truncated archive is
	// refused and leaves the directory as it was.
	if _, err := Restore(ctx, bytes.NewReader(buf.Bytes()), restored, RestoreOptions{}); !errors.Is(err, store.ErrExists) {
		t.Errorf("restore over data without Force: %v", err)
	}
	raw := tarOf(t, buf.Bytes())
	bad := slices.Clone(raw)
	i := bytes.Index(bad, []byte("vector"))
	bad[i] ^= 1
	if _, err := Restore(ctx, bytes.NewReader(bad), restored, RestoreOptions{Force: true}); !errors.Is(err, ErrBackup) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("damaged archive: %v, want ErrBackup about a checksum", err)
	}
	if _, err := Restore(ctx, bytes.NewReader(raw[:len(raw)/2]), restored, RestoreOptions{Force: true}); !errors.Is(err, ErrBackup) {
		t.Errorf("truncated archive: %v, want ErrBackup", err)
	}
	if hits, err := rc.Get(ctx, []int64{99999}, nil); err != nil || len(hits) != 1 {
		t.Errorf("a refused restore changed the directory: %v, %v", hits, err)
	}
	// Force replaces it.
	rs.Close()
	if _, err := Restore(ctx, bytes.NewReader(raw), restored, RestoreOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if got := allRows(t, restored, "docs"); got[99999] != "" {
		t.Error("Force restore kept the old data")
	}
}

// tarOf ungzips a backup.
func tarOf(t *testing.T, gz []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRestoreRefusesNewerFormats: a manifest of a newer backup format, and
// a collection of a newer file format, are refused with what to do.
func TestRestoreRefusesNewerFormats(t *testing.T) {
	ctx := context.Background()
	archive := func(manifest Manifest, files map[string][]byte) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for name, b := range files {
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
			tw.Write(b)
		}
		js, _ := json.Marshal(manifest)
		tw.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o644, Size: int64(len(js)), Typeflag: tar.TypeReg})
		tw.Write(js)
		tw.Close()
		return buf.Bytes()
	}
	_, err := Restore(ctx, bytes.NewReader(archive(Manifest{Format: "kura-backup/7"}, nil)), filepath.Join(t.TempDir(), "d"), RestoreOptions{})
	if err == nil || !strings.Contains(err.Error(), "newer kura") {
		t.Errorf("newer manifest: %v", err)
	}

	// A collection whose file says kura-local/9.
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	mustCreate(t, s, "docs", store.Schema{Dim: 2, Metric: store.MetricIP})
	s.Close()
	db, _ := bolt.Open(filepath.Join(dir, "collections", "docs", "rows.db"), 0o600, nil)
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, []byte("kura-local/9")) })
	db.Close()
	var buf bytes.Buffer
	if _, err := Backup(ctx, dir, &buf, BackupOptions{}); !errors.Is(err, ErrNewerFormat) {
		t.Errorf("backup of a newer collection: %v, want ErrNewerFormat", err)
	}
	rows, _ := os.ReadFile(filepath.Join(dir, "collections", "docs", "rows.db"))
	a := archive(Manifest{Format: BackupFormat, Collections: []BackupCollection{{Name: "docs"}}, Files: []ManifestFile{{Path: "collections/docs/rows.db", Size: int64(len(rows)), SHA256: sha(rows)}}},
		map[string][]byte{"collections/docs/rows.db": rows})
	if _, err := Restore(ctx, bytes.NewReader(a), filepath.Join(t.TempDir(), "d"), RestoreOptions{}); !errors.Is(err, ErrNewerFormat) {
		t.Errorf("restore of a newer collection: %v, want ErrNewerFormat", err)
	}
	// Entries that would escape the directory are refused.
	evil := archive(Manifest{Format: BackupFormat}, map[string][]byte{"../escape": []byte("x")})
	if _, err := Restore(ctx, bytes.NewReader(evil), filepath.Join(t.TempDir(), "d"), RestoreOptions{}); !errors.Is(err, ErrBackup) {
		t.Errorf("archive with ../: %v", err)
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
