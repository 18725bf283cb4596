package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/server"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestParseKeys(t *testing.T) {
	sum := sha256.Sum256([]byte("carol-key-0123456789"))
	file := "# team keys\nalice: alice-key-0123456789\n\nbob:bob-key-0123456789ab\nalice: alice-key-rotated-0001\ncarol: sha256:" + hex.EncodeToString(sum[:]) + "\n"
	ks, err := server.ParseKeys(strings.NewReader(file), "keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	f := func(key, want string) {
		t.Helper()
		user, ok := ks.Lookup(key)
		if (want != "") != ok || user != want {
			t.Fatalf("Lookup(%q) = %q %v, want %q", key, user, ok, want)
		}
	}
	f("alice-key-0123456789", "alice")
	f("alice-key-rotated-0001", "alice")
	f("bob-key-0123456789ab", "bob")
	f("carol-key-0123456789", "carol")
	f("alice-key-012345678", "")
	f("", "")

	bad := func(file, wantMsg string) {
		t.Helper()
		_, err := server.ParseKeys(strings.NewReader(file), "keys.txt")
		if err == nil || !strings.Contains(err.Error(), wantMsg) {
			t.Fatalf("%q: %v, want %q", file, err, wantMsg)
		}
		if strings.Contains(err.Error(), "0123456789") {
			t.Fatalf("the error shows a key: %v", err)
		}
	}
	bad("alice short\n", "keys.txt:1: expected `user: key`")
	bad("\nalice: short\n", "keys.txt:2: the API key of user alice is 5 characters long")
	bad("a b: alice-key-0123456789\n", "keys.txt:1: user name")
	bad("a: alice-key-0123456789\nb: alice-key-0123456789\n", "keys.txt:2: users a and b have the same API key")
	bad("c: sha256:1234\n", "64 hex digits")
	bad("# nothing\n", "holds no keys")
}

func FuzzParseKeys(f *testing.F) {
	f.Add("alice: alice-key-0123456789\n")
	f.Add("c: sha256:" + strings.Repeat("ab", 32))
	f.Add("::\n#\n a : b")
	f.Fuzz(func(t *testing.T, s string) {
		ks, err := server.ParseKeys(strings.NewReader(s), "f")
		if err != nil {
			return
		}
		if ks.Len() == 0 {
			t.Fatal("no error and no keys")
		}
	})
}
