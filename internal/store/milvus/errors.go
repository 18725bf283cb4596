package milvus

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kura-rag/kura/internal/store"
)

// StartHint tells a user without a running Milvus how to get one; it is
// the official standalone script (Docker), also used in the README.
const StartHint = "start one with `curl -sfL https://raw.githubusercontent.com/milvus-io/milvus/master/scripts/standalone_embed.sh -o standalone_embed.sh && bash standalone_embed.sh start`, or point MILVUS_URI at your server"

// ErrUnavailable means the Milvus server could not be reached or is not
// ready. It is not a store sentinel because only remote stores have it.
var ErrUnavailable = errors.New("milvus unavailable")

// ErrAuth means Milvus refused the credentials.
var ErrAuth = errors.New("milvus authentication failed")

// wrap turns an SDK error for operation op into a kura error that says
// what failed and what to do next. A cancelled or expired ctx wins over
// whatever gRPC made of it, so callers can test errors.Is(err,
// context.Canceled).
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("milvus: %s: %w", op, cerr)
	}
	where := s.where()
	switch {
	case isAuth(err):
		return store.Errorf(ErrAuth, "milvus: %s: %s refused the credentials (%s); check MILVUS_TOKEN, or MILVUS_USER and MILVUS_PASSWORD", op, where, short(err))
	case errors.Is(err, merr.ErrDatabaseNotFound):
		return store.Errorf(store.ErrInvalid, "milvus: %s: database %q does not exist on %s; create it (for example in Attu or with pymilvus create_database) or unset MILVUS_DB", op, s.db, RedactURI(s.opts.URI))
	case errors.Is(err, merr.ErrCollectionNotFound):
		return store.Errorf(store.ErrNotFound, "milvus: %s: collection not found on %s", op, where)
	case isUnavailable(err):
		return store.Errorf(ErrUnavailable, "milvus: %s: cannot reach %s (%s); is Milvus running? %s", op, where, short(err), StartHint)
	case errors.Is(err, merr.ErrParameterInvalid), errors.Is(err, merr.ErrParameterMissing),
		errors.Is(err, merr.ErrCollectionSchemaMismatch), errors.Is(err, merr.ErrCollectionIllegalSchema):
		return store.Errorf(store.ErrInvalid, "milvus: %s: the server refused the request: %s", op, short(err))
	}
	return fmt.Errorf("milvus: %s on %s: %w", op, where, err)
}

// where names the server and database for messages, without credentials.
func (s *Store) where() string {
	return Where(s.opts.URI, s.db)
}

func isAuth(err error) bool {
	if errors.Is(err, merr.ErrPrivilegeNotAuthenticated) || errors.Is(err, merr.ErrNeedAuthenticate) {
		return true
	}
	if st, ok := status.FromError(err); ok && (st.Code() == codes.Unauthenticated || st.Code() == codes.PermissionDenied) {
		return true
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		c := se.GRPCStatus().Code()
		return c == codes.Unauthenticated || c == codes.PermissionDenied
	}
	return false
}

func isUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, merr.ErrServiceNotReady) || errors.Is(err, merr.ErrServiceUnavailable) {
		return true
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus().Code() == codes.Unavailable
	}
	return false
}

// short is the first line of an SDK error, which is what a user can act on;
// cockroachdb/errors adds stack-like detail on further lines.
func short(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
