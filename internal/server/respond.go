package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/store"
)

// writeJSON writes v as the JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		b = []byte(`{"error":{"code":"internal","message":"the response could not be encoded"}}`)
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// marshal is json.Marshal without HTML escaping (answers are full of
// "<", "&" that clients would otherwise see as \u003c) and without the
// trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// isOpenAIPath tells the OpenAI-compatible routes, whose errors take
// OpenAI's shape.
func isOpenAIPath(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/v1/") }

// writeError writes err as the error response: kura's {"error": {"code",
// "message"}} on /api, OpenAI's shape on /v1.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.errorFor(r, err)
	if e.Code == api.CodeTooManyStreams || e.Code == api.CodeRateLimited || e.Code == api.CodeUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if e.Code == api.CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kura"`)
	}
	if isOpenAIPath(r) {
		writeJSON(w, e.Status(), openAIError(e))
		return
	}
	writeJSON(w, e.Status(), api.ErrorBody{Error: e})
}

func openAIError(e *api.Error) api.OpenAIErrorBody {
	typ := "invalid_request_error"
	switch {
	case e.Code == api.CodeUnauthorized:
		typ = "authentication_error"
	case e.Code == api.CodeForbidden:
		typ = "permission_error"
	case e.Code == api.CodeNotFound:
		typ = "not_found_error"
	case e.Status() == http.StatusTooManyRequests:
		typ = "rate_limit_error"
	case e.Status() >= 500:
		typ = "server_error"
	}
	out := api.OpenAIErrorBody{Error: api.OpenAIError{Message: e.Message, Type: typ, Code: string(e.Code)}}
	if e.Field != "" {
		f := e.Field
		out.Error.Param = &f
	}
	return out
}

// errorFor maps err to the error a client sees. Errors the backend typed
// keep their code and message; the well-known sentinel errors of the
// store and providers get theirs (their messages are written for users
// and name no flags or secrets); anything else is an internal error whose
// detail goes to the log only.
func (s *Server) errorFor(r *http.Request, err error) *api.Error {
	var e *api.Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &tooBig):
		return api.Errorf(api.CodeTooLarge, "the request body is over this server's limit of %s", humanBytes(tooBig.Limit))
	case errors.Is(err, context.Canceled):
		return api.Errorf(api.CodeCanceled, "the request was canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return api.Errorf(api.CodeTimeout, "the request ran out of time: %v", err)
	case errors.Is(err, store.ErrNotFound):
		return api.Errorf(api.CodeNotFound, "%v", err)
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrMismatch):
		return api.Errorf(api.CodeConflict, "%v", err)
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrUnsupported), errors.Is(err, llm.ErrUnsupportedOption):
		return api.Errorf(api.CodeInvalidRequest, "%v", err)
	case errors.Is(err, store.ErrLocked), errors.Is(err, llm.ErrUnavailable), errors.Is(err, llm.ErrConfig),
		errors.Is(err, embed.ErrConfig), errors.Is(err, embed.ErrCacheBusy):
		return api.Errorf(api.CodeUnavailable, "%v", err)
	case errors.Is(err, llm.ErrAuth), errors.Is(err, llm.ErrStreamCut):
		return api.Errorf(api.CodeUpstream, "%v", err)
	}
	id := requestID(r.Context())
	s.log.Error("internal error", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
	return api.Errorf(api.CodeInternal, "internal error (request %s); the server log has the details", id)
}

// decodeJSON reads the request body into dst: a JSON object, nothing
// after it. Strict decoding (unknown fields refused) catches typos such as
// "temprature" on kura's own API; the OpenAI-compatible API ignores
// unknown fields as OpenAI clients expect.
func decodeJSON(r *http.Request, dst any, strict bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return api.Errorf(api.CodeUnsupportedMediaType, "the body must be JSON sent with Content-Type: application/json (got %q)", ct)
		}
	} else {
		// A body without a type could come from a cross-site form; only
		// JSON is accepted, and browsers cannot send that cross-site
		// without asking (CORS preflight).
		return api.Errorf(api.CodeUnsupportedMediaType, "the body must be JSON sent with Content-Type: application/json")
	}
	dec := json.NewDecoder(r.Body)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return api.Errorf(api.CodeInvalidRequest, "the body holds more than one JSON value")
	}
	return nil
}

// jsonError turns a decoding error into a message that says where.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return err
	case errors.Is(err, io.EOF):
		return api.Errorf(api.CodeInvalidRequest, "the body is empty; send a JSON object")
	case errors.As(err, &syn):
		return api.Errorf(api.CodeInvalidRequest, "the body is not valid JSON: %v (at byte %d)", syn, syn.Offset)
	case errors.As(err, &typ):
		field := jsonPath(typ.Field)
		return &api.Error{Code: api.CodeInvalidRequest, Field: field,
			Message: fmt.Sprintf("%s must be %s, not %s", orDefault(field, "the body"), jsonKind(typ.Type.Kind().String()), typ.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &api.Error{Code: api.CodeInvalidRequest, Field: name,
			Message: fmt.Sprintf("unknown field %q (see /api/v1/openapi.json for the fields of this request)", name)}
	}
	return api.Errorf(api.CodeInvalidRequest, "the body cannot be read: %v", err)
}

// jsonPath drops the Go names of embedded structs (SearchOptions.k → k)
// from a decoding error's field path; JSON names are lower case.
func jsonPath(p string) string {
	var keep []string
	for _, seg := range strings.Split(p, ".") {
		if seg != "" && !unicode.IsUpper(rune(seg[0])) {
			keep = append(keep, seg)
		}
	}
	return strings.Join(keep, ".")
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32", "uint", "uint64":
		return "an integer"
	case "float64", "float32":
		return "a number"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	}
	return "a " + k
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
