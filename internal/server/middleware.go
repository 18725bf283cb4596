package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/kura-rag/kura/internal/api"
)

// contentSecurityPolicy lets pages load only kura's own scripts, styles
// and connections: no inline script or style, no other origin, no
// framing. Untrusted text that slipped into the page still could not run.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// wrapGlobal composes the middleware every request goes through, outermost
// first: panic recovery, request id and security headers, access log and
// metrics, host check, CORS.
func (s *Server) wrapGlobal(h http.Handler) http.Handler {
	h = s.cors(h)
	h = s.checkHost(h)
	h = s.observe(h)
	h = s.identify(h)
	return s.recoverPanics(h)
}

// wrapRoute composes a route's own middleware, outermost first:
// authentication, body limit, and for answers the concurrency limit.
func (s *Server) wrapRoute(rt route) http.Handler {
	h := http.Handler(rt.handler)
	if rt.ask {
		h = s.limitAsks(h)
	}
	h = s.limitBody(rt, h)
	if !rt.public && !(rt.metrics && s.cfg.PublicMetrics) {
		h = s.authenticate(h)
	}
	return h
}

// recorder remembers the status and size of a response. Unwrap lets
// http.ResponseController reach the connection (flushes, deadlines).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() { http.NewResponseController(r.ResponseWriter).Flush() }

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving a request", "request_id", requestID(r.Context()), "method", r.Method,
				"path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec.status == 0 {
				s.writeError(rec, r, api.Errorf(api.CodeInternal, "internal error (request %s); the server log has the details", requestID(r.Context())))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// identify gives the request an id (the client's X-Request-ID if it is
// sane) and sets the security headers of every response.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !saneID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		h := w.Header()
		h.Set("X-Request-ID", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		ctx := withRequestID(r.Context(), id)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func saneID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')) {
			return false
		}
	}
	return true
}

// observe writes the access log line and the request metrics. The line
// holds no header, query string or body: nothing secret can reach it.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := s.routeLabel(r)
		rec := &recorder{ResponseWriter: w}
		s.metrics.inFlight.Inc()
		next.ServeHTTP(rec, r)
		s.metrics.inFlight.Dec()
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		if r.Context().Err() != nil && status < 400 && rec.bytes == 0 {
			status = api.CodeCanceled.Status()
		}
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(route, r.Method).Observe(d.Seconds())
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", requestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.String("user", userOrAnonymous(r)),
			slog.String("remote", remoteIP(r)),
		)
	})
}

// routeLabel is the route pattern that will serve r ("POST
// /api/v1/search" is labelled "/api/v1/search"), or "other": the metric
// label set stays bounded whatever paths clients send.
func (s *Server) routeLabel(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	if pattern == "" || pattern == "/" {
		return "other"
	}
	if _, p, ok := strings.Cut(pattern, " "); ok {
		return p
	}
	return pattern
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// checkHost protects a server without API keys from DNS rebinding: a web
// page of another site whose name resolves to 127.0.0.1 would otherwise
// reach the local API as if it were same-origin. Without keys, only
// requests addressed to an IP address, "localhost" or a configured host
// are served.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Keys.Len() == 0 && !s.hostAllowed(r.Host) {
			s.writeError(w, r, api.Errorf(api.CodeForbidden,
				"this server runs without API keys and answers only requests addressed to localhost or an IP address (the request was for %q); configure API keys, or allow the host name in the server's settings", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" || net.ParseIP(host) != nil || strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	for _, h := range s.cfg.AllowedHosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// cors answers preflight requests from the configured origins and lets
// them read responses. Requests that change something from any other
// site are refused outright: a cross-site form post (which needs no
// preflight) cannot reach the API either.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || sameOrigin(origin, r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		allowed := s.corsOrigins[origin]
		h := w.Header()
		h.Add("Vary", "Origin")
		if !allowed {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				next.ServeHTTP(w, r) // the browser keeps the response from the page
				return
			}
			s.writeError(w, r, api.Errorf(api.CodeForbidden, "requests from origin %s are not allowed; add it to the server's CORS origins", origin))
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func sameOrigin(origin, host string) bool {
	rest, ok := strings.CutPrefix(origin, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(origin, "https://")
	}
	return ok && strings.EqualFold(rest, host)
}

// authenticate finds the caller's user from its bearer key.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Keys.Len() == 0 {
			next.ServeHTTP(w, r.WithContext(withUser(r.Context(), DefaultUser)))
			return
		}
		token := bearer(r.Header.Get("Authorization"))
		if token == "" {
			s.writeError(w, r, api.Errorf(api.CodeUnauthorized, "this server needs an API key: send the header Authorization: Bearer <key>"))
			return
		}
		user, ok := s.cfg.Keys.Lookup(token)
		if !ok {
			s.writeError(w, r, api.Errorf(api.CodeUnauthorized, "the API key is not valid"))
			return
		}
		next.ServeHTTP(w, r.WithContext(withUser(r.Context(), user)))
	})
}

// limitBody caps what a request may send: MaxBodyBytes for JSON,
// MaxUploadBytes (and UploadTimeout to send it) for uploads. A body over
// the limit gets 413 as soon as that is known.
func (s *Server) limitBody(rt route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.cfg.MaxBodyBytes
		what := "request body"
		if rt.upload {
			limit = s.cfg.MaxUploadBytes + 1<<20 // room for the multipart framing
			what = "upload"
			http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.UploadTimeout))
		}
		if r.ContentLength > limit {
			s.writeError(w, r, api.Errorf(api.CodeTooLarge, "the %s is %s; this server accepts at most %s", what,
				humanBytes(r.ContentLength), humanBytes(limitShown(rt, s.cfg))))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

func limitShown(rt route, c Config) int64 {
	if rt.upload {
		return c.MaxUploadBytes
	}
	return c.MaxBodyBytes
}

// limitAsks bounds the answers generated at once.
func (s *Server) limitAsks(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.asks <- struct{}{}:
		default:
			s.metrics.rejected.Inc()
			s.writeError(w, r, api.Errorf(api.CodeTooManyStreams,
				"%d answers are being generated, the most this server allows at once; retry in a moment", s.cfg.MaxConcurrentAsks))
			return
		}
		defer func() { <-s.asks }()
		next.ServeHTTP(w, r)
	})
}

// userOrAnonymous is the authenticated user for the access log, or "-".
func userOrAnonymous(r *http.Request) string {
	if ri := info(r.Context()); ri != nil && ri.user != "" {
		return ri.user
	}
	return "-"
}
