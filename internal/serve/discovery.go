package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// RecordFile is the discovery file's name inside the data directory.
const RecordFile = "serve.json"

// Record is what DATA/serve.json holds while `kura serve` listens, so that
// tools on the same machine (health checks, benchmarks, scripts) can find
// the server of a data directory. Other kura commands do not need it: they
// use the store directly beside the server, whose locking makes that safe.
// It never holds a key: a client that needs one must be given it
// (KURA_API_KEY).
type Record struct {
	// URL is the base URL a client on this machine uses
	// ("http://127.0.0.1:8080"): a server listening on every interface
	// (0.0.0.0, ::, which Go listens on for both IP versions) is reached
	// through 127.0.0.1.
	URL string `json:"url"`
	// Addr is the address the server listens on.
	Addr string `json:"addr"`
	PID  int    `json:"pid"`
	// Started is when the server began listening.
	Started time.Time `json:"started"`
	// AuthRequired is true when requests need an API key.
	AuthRequired bool `json:"auth_required"`
	// DataDir is the data directory's absolute path; Collection the
	// default collection; Store "local" or "milvus".
	DataDir    string `json:"data_dir"`
	Collection string `json:"collection"`
	Store      string `json:"store"`
	Version    string `json:"version"`
}

// RecordPath is the discovery file of dataDir.
func RecordPath(dataDir string) string { return filepath.Join(dataDir, RecordFile) }

// ErrNotServed is returned by [Discover] when no live server has recorded
// itself in the data directory.
var ErrNotServed = errors.New("no kura serve is running on this data directory")

// WriteRecord writes r as dataDir's discovery file, atomically (a reader
// sees the old file or the new one, never half of one), readable by its
// owner only: it holds no secret, but says where a local service listens,
// which is no business of other users. A file a killed server left behind
// is replaced.
func WriteRecord(dataDir string, r Record) error {
	if err := checkURL(r.URL); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dataDir, ".serve-*.json")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), RecordPath(dataDir)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// ReadRecord reads dataDir's discovery file as it is, live server or not
// (os.ErrNotExist when there is none). A file that is not JSON, or whose
// URL is not a plain http(s) URL, is an error: nothing is sent to it.
func ReadRecord(dataDir string) (Record, error) {
	var r Record
	b, err := os.ReadFile(RecordPath(dataDir))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("%s is not a kura serve record: %w", RecordPath(dataDir), err)
	}
	if err := checkURL(r.URL); err != nil {
		return Record{}, fmt.Errorf("%s: %w", RecordPath(dataDir), err)
	}
	return r, nil
}

// checkURL accepts the base URL of a server: http or https, a host, no
// credentials (a record never holds a secret).
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("server URL %q: want http:// or https:// with a host and no credentials", raw)
	}
	return nil
}

// RemoveRecord removes dataDir's discovery file if it is the one process
// pid wrote: a second server on the same directory may have replaced it.
func RemoveRecord(dataDir string, pid int) error {
	r, err := ReadRecord(dataDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil && r.PID != pid {
		return nil
	}
	if err := os.Remove(RecordPath(dataDir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Discover returns the record of the server running on dataDir: its
// discovery file, when the process it names is alive and answers
// GET /healthz (within ctx, and at most two seconds). Otherwise it returns
// ErrNotServed — a file left by a server that was killed is ignored (and
// left in place; the next server replaces it).
func Discover(ctx context.Context, dataDir string) (Record, error) {
	r, err := ReadRecord(dataDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Record{}, ErrNotServed
	case err != nil:
		return Record{}, fmt.Errorf("%w (%v)", ErrNotServed, err)
	case r.PID <= 0:
		return Record{}, fmt.Errorf("%w (%s names no server)", ErrNotServed, RecordPath(dataDir))
	case !processAlive(r.PID):
		return Record{}, fmt.Errorf("%w (the server of %s, process %d, is gone)", ErrNotServed, RecordPath(dataDir), r.PID)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/healthz", nil)
	if err != nil {
		return Record{}, fmt.Errorf("%w (%s: %v)", ErrNotServed, RecordPath(dataDir), err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Record{}, fmt.Errorf("%w (process %d does not answer at %s: %v)", ErrNotServed, r.PID, r.URL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Record{}, fmt.Errorf("%w (%s/healthz answered %s)", ErrNotServed, r.URL, resp.Status)
	}
	return r, nil
}

// localURL is the base URL a client on this machine uses to reach a
// server listening on addr.
func localURL(addr net.Addr) string {
	host, port := "127.0.0.1", ""
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(ta.Port)
		if ta.IP != nil && !ta.IP.IsUnspecified() {
			host = ta.IP.String()
		}
	} else if h, p, err := net.SplitHostPort(addr.String()); err == nil {
		host, port = h, p
	}
	return "http://" + net.JoinHostPort(host, port)
}
