package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// DefaultUser is the user of the single --api-key and of a server without
// keys.
const DefaultUser = "default"

// MinKeyLength is the shortest API key accepted: shorter ones can be
// guessed.
const MinKeyLength = 16

// KeySet holds the accepted API keys, each with its user. Keys are kept
// as SHA-256 digests and compared in constant time against every entry, so
// neither the response time nor memory gives a key away.
type KeySet struct {
	entries []keyEntry
}

type keyEntry struct {
	user   string
	digest [sha256.Size]byte
}

// Len is the number of keys.
func (k *KeySet) Len() int {
	if k == nil {
		return 0
	}
	return len(k.entries)
}

// Add accepts key for user.
func (k *KeySet) Add(user, key string) error {
	if err := validUser(user); err != nil {
		return err
	}
	if len(key) < MinKeyLength {
		return fmt.Errorf("the API key of user %s is %d characters long; use at least %d (e.g. 32 random hex digits: openssl rand -hex 16)", user, len(key), MinKeyLength)
	}
	if strings.ContainsAny(key, " \t\r\n") {
		return fmt.Errorf("the API key of user %s contains white space", user)
	}
	return k.addDigest(user, sha256.Sum256([]byte(key)))
}

func (k *KeySet) addDigest(user string, d [sha256.Size]byte) error {
	for _, e := range k.entries {
		if e.digest == d {
			return fmt.Errorf("users %s and %s have the same API key; give each its own", e.user, user)
		}
	}
	k.entries = append(k.entries, keyEntry{user, d})
	return nil
}

// Lookup returns the user whose key is presented. Every entry is
// compared, whatever matches, in constant time.
func (k *KeySet) Lookup(presented string) (string, bool) {
	if k.Len() == 0 || presented == "" {
		return "", false
	}
	d := sha256.Sum256([]byte(presented))
	found := -1
	for i, e := range k.entries {
		eq := subtle.ConstantTimeCompare(d[:], e.digest[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return "", false
	}
	return k.entries[found].user, true
}

// ParseKeys reads a keys file: one `user: key` per line, or `user:
// sha256:HEX` with the key's SHA-256 digest so the file need not hold the
// key itself; blank lines and lines starting with # are ignored. A user
// may have several keys (to rotate them). Errors name the file and line,
// never the key.
func ParseKeys(r io.Reader, name string) (*KeySet, error) {
	ks := &KeySet{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		user, key, ok := strings.Cut(text, ":")
		user, key = strings.TrimSpace(user), strings.TrimSpace(key)
		if !ok || user == "" || key == "" {
			return nil, fmt.Errorf("%s:%d: expected `user: key` (or `user: sha256:HEX`)", name, line)
		}
		var err error
		if hexDigest, ok := strings.CutPrefix(key, "sha256:"); ok {
			var d [sha256.Size]byte
			b, herr := hex.DecodeString(hexDigest)
			if herr != nil || len(b) != sha256.Size {
				return nil, fmt.Errorf("%s:%d: sha256: must be followed by 64 hex digits (the output of: printf %%s KEY | sha256sum)", name, line)
			}
			copy(d[:], b)
			if err = validUser(user); err == nil {
				err = ks.addDigest(user, d)
			}
		} else {
			err = ks.Add(user, key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if ks.Len() == 0 {
		return nil, fmt.Errorf("%s holds no keys; write one `user: key` per line", name)
	}
	return ks, nil
}

func validUser(u string) error {
	if u == "" || len(u) > 64 {
		return fmt.Errorf("user name %q must be 1 to 64 characters", u)
	}
	for _, c := range u {
		if !(c == '_' || c == '-' || c == '.' || c == '@' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')) {
			return fmt.Errorf("user name %q may use only letters, digits and _ - . @", u)
		}
	}
	return nil
}

type ctxKey int

const infoKey ctxKey = 0

// requestInfo is what middleware learns about a request: set by inner
// middleware (the user, after authentication), read by outer (the access
// log), hence a pointer in the context.
type requestInfo struct {
	id   string
	user string
}

func info(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(infoKey).(*requestInfo)
	return ri
}

// User is the caller's user name, set by the authentication middleware.
func User(ctx context.Context) string {
	if ri := info(ctx); ri != nil && ri.user != "" {
		return ri.user
	}
	return DefaultUser
}

func withUser(ctx context.Context, u string) context.Context {
	if ri := info(ctx); ri != nil {
		ri.user = u
		return ctx
	}
	return context.WithValue(ctx, infoKey, &requestInfo{user: u})
}

func requestID(ctx context.Context) string {
	if ri := info(ctx); ri != nil {
		return ri.id
	}
	return ""
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(h string) string {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, infoKey, &requestInfo{id: id})
}

// Merge adds other's keys to k.
func (k *KeySet) Merge(other *KeySet) error {
	for _, e := range other.entries {
		if err := k.addDigest(e.user, e.digest); err != nil {
			return err
		}
	}
	return nil
}
