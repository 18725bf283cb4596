package milvus

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/milvus-io/milvus/client/v2/entity"
	"google.golang.org/grpc"

	"github.com/kura-rag/kura/internal/store"
)

// Defaults for the zero values of [Options].
const (
	DefaultURI            = "http://localhost:19530"
	DefaultConsistency    = "Strong"
	DefaultConnectTimeout = 15 * time.Second
	// DefaultInsertBatchRows bounds one Insert request. Milvus caps a
	// request at a few tens of MiB; 512 rows of 1024-dim vectors with
	// 2 KiB texts stay around 3 MiB.
	DefaultInsertBatchRows = 512
)

// Options configures [Open]. The zero value connects to a local Milvus
// standalone without credentials, database "default", Strong consistency.
type Options struct {
	// URI is the server address, http://host:19530 or https://... for TLS
	// (Zilliz Cloud). A path ("/mydb") names the database, as in pymilvus.
	URI string
	// Token authenticates with "user:password" or an API key
	// (MILVUS_TOKEN). It wins over User and Password.
	Token string
	// User and Password authenticate when Token is empty.
	User     string
	Password string
	// Database is the Milvus database; empty means the URI's path or
	// "default".
	Database string
	// Consistency is the level searches use: Strong (default), Bounded,
	// Session or Eventually. kura's own reads (the chunk ids of a source
	// during ingest, sources, counts) are always Strong, because a stale
	// answer there would insert duplicates.
	Consistency string
	// ConnectTimeout bounds connecting and the first handshake.
	ConnectTimeout time.Duration
	// InsertBatchRows is the number of rows per Insert request.
	InsertBatchRows int
	// DialOptions replace the SDK's gRPC dial options (tests dial an
	// in-process fake with them).
	DialOptions []grpc.DialOption
}

func (o Options) withDefaults() (Options, error) {
	if o.URI == "" {
		o.URI = DefaultURI
	}
	if o.Consistency == "" {
		o.Consistency = DefaultConsistency
	}
	if _, err := ParseConsistency(o.Consistency); err != nil {
		return o, err
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.InsertBatchRows <= 0 {
		o.InsertBatchRows = DefaultInsertBatchRows
	}
	return o, nil
}

// ParseConsistency maps a consistency level name (any case) to the SDK's.
func ParseConsistency(name string) (entity.ConsistencyLevel, error) {
	switch strings.ToLower(name) {
	case "strong":
		return entity.ClStrong, nil
	case "bounded":
		return entity.ClBounded, nil
	case "session":
		return entity.ClSession, nil
	case "eventually":
		return entity.ClEventually, nil
	}
	return 0, store.Errorf(store.ErrInvalid, "consistency level %q; use Strong, Bounded, Session or Eventually", name)
}

// RedactURI returns uri without any password in it, for messages. kura
// never prints credentials, and a URI may carry them (http://user:pw@host).
func RedactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

// address splits a URI into what the SDK wants: the address (scheme kept
// so https turns TLS on), the database from the path, and credentials
// embedded as user:password@.
func address(uri string) (addr, db, user, password string, err error) {
	raw := uri
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", "", "", "", store.Errorf(store.ErrInvalid, "Milvus URI %q is not an address like http://localhost:19530", RedactURI(uri))
	}
	if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "tcp" && u.Scheme != "grpc" {
		return "", "", "", "", store.Errorf(store.ErrInvalid, "Milvus URI %q: scheme %q; use http:// or https://", RedactURI(uri), u.Scheme)
	}
	if u.User != nil {
		user = u.User.Username()
		password, _ = u.User.Password()
	}
	scheme, host := u.Scheme, u.Host
	if scheme != "https" {
		scheme = "http"
	}
	if u.Port() == "" {
		host += map[string]string{"http": ":19530", "https": ":443"}[scheme]
	}
	return fmt.Sprintf("%s://%s", scheme, host), strings.Trim(u.Path, "/"), user, password, nil
}

// Where names a server and database for messages, without credentials:
// "Milvus at http://host:19530 (database default)".
func Where(uri, database string) string {
	if uri == "" {
		uri = DefaultURI
	}
	if database == "" {
		_, database, _, _, _ = address(uri)
	}
	if database == "" {
		database = "default"
	}
	return fmt.Sprintf("Milvus at %s (database %s)", RedactURI(uri), database)
}
