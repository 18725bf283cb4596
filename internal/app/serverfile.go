package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// ServerFileName is the file in the data directory that says a `kura
// serve` is serving it: DATA/serve.json.
const ServerFileName = "serve.json"

// ServerFile is what `kura serve` writes to DATA/serve.json while it serves
// a data directory, so that other kura commands on the same directory find
// it: commands that write (ingest, drop) then go through its API instead of
// waiting for the store's lock, and say so. Readers must check that the
// server answers (GET URL/healthz) before trusting the file: a server that
// was killed leaves it behind.
//
//	{"url": "http://127.0.0.1:8080", "pid": 4242, "started": "2026-12-01T09:00:00Z", "version": "v0.3.0"}
type ServerFile struct {
	// URL is the server's base URL, scheme and host (and a path prefix if
	// any), without a trailing slash: what clients put before /api/v1.
	URL     string    `json:"url"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Version string    `json:"version,omitempty"`
}

// ServerFilePath is the server file of dataDir.
func ServerFilePath(dataDir string) string { return filepath.Join(dataDir, ServerFileName) }

// WriteServerFile writes f to dataDir atomically (a reader never sees half
// a file) and returns the function that removes it again, which the server
// calls when it stops. The file is readable by its owner only: it names
// a local service, no secret, but others have no business with it.
func WriteServerFile(dataDir string, f ServerFile) (remove func() error, err error) {
	if err := checkServerURL(f.URL); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	path := ServerFilePath(dataDir)
	tmp, err := os.CreateTemp(dataDir, ".serve-*.json")
	if err != nil {
		return nil, err
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return nil, err
	}
	return func() error {
		// Remove the file only if it is still ours: a second server on the
		// same directory may have replaced it.
		cur, ok, err := ReadServerFile(dataDir)
		if err != nil || !ok || cur.PID != f.PID || cur.URL != f.URL {
			return err
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}, nil
}

// ReadServerFile reads dataDir's server file; ok is false when there is
// none.
func ReadServerFile(dataDir string) (f ServerFile, ok bool, err error) {
	b, err := os.ReadFile(ServerFilePath(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return f, false, nil
	}
	if err != nil {
		return f, false, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, false, fmt.Errorf("%s is not a server file: %w", ServerFilePath(dataDir), err)
	}
	if err := checkServerURL(f.URL); err != nil {
		return f, false, fmt.Errorf("%s: %w", ServerFilePath(dataDir), err)
	}
	return f, true, nil
}

func checkServerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("server URL %q: want http:// or https:// with a host and no credentials", raw)
	}
	return nil
}
