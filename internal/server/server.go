package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kura-rag/kura/internal/api"
)

// Config configures a [Server]. Zero values are the documented defaults.
type Config struct {
	// Backend serves the requests (required).
	Backend Backend
	// Logger receives the access log and errors (slog.Default if nil).
	Logger *slog.Logger
	// Keys are the accepted API keys. Empty: no authentication, every
	// caller is the user "default" (only sensible on loopback; the
	// command line refuses other addresses without an explicit opt-out).
	Keys *KeySet
	// CORSOrigins are the browser origins allowed to call the API from
	// other sites ("https://chat.example.com"); none by default.
	CORSOrigins []string
	// MaxBodyBytes limits a JSON request body (default 1 MiB).
	MaxBodyBytes int64
	// MaxUploadBytes limits the files of one upload together (default 256 MiB).
	MaxUploadBytes int64
	// MaxQuestionChars limits a question's length (default 8000).
	MaxQuestionChars int
	// MaxConcurrentAsks limits answers being generated at once, streamed
	// or not (default 64); more get 429 too_many_streams.
	MaxConcurrentAsks int
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are the
	// http.Server's (defaults 10 s, 60 s, 60 s, 120 s). Uploads get
	// UploadTimeout to arrive instead of ReadTimeout; streams are exempt
	// from WriteTimeout, which applies to each of their writes instead.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// UploadTimeout is the time an upload may take to arrive (default 10 min).
	UploadTimeout time.Duration
	// ShutdownTimeout is how long running streams may go on after a
	// shutdown starts before they are cancelled (default 30 s).
	ShutdownTimeout time.Duration
	// KeepAlive is the interval of keep-alive comments on an idle stream
	// (default 15 s).
	KeepAlive time.Duration
	// SpoolDir receives uploads before they are ingested (default the
	// system's temporary directory).
	SpoolDir string
	// AllowedHosts are host names served without API keys besides
	// localhost and IP addresses (see checkHost).
	AllowedHosts []string
	// PublicMetrics serves /metrics without an API key.
	PublicMetrics bool
	// Version is reported by /api/v1/info and the OpenAPI document.
	Version string
	// Registerer receives the server's metrics (a new registry with the
	// Go and process collectors if nil); Gatherer serves them.
	Registry *prometheus.Registry
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	def := func(p *time.Duration, d time.Duration) {
		if *p == 0 {
			*p = d
		}
	}
	def(&c.ReadHeaderTimeout, 10*time.Second)
	def(&c.ReadTimeout, 60*time.Second)
	def(&c.WriteTimeout, 60*time.Second)
	def(&c.IdleTimeout, 120*time.Second)
	def(&c.UploadTimeout, 10*time.Minute)
	def(&c.ShutdownTimeout, 30*time.Second)
	def(&c.KeepAlive, 15*time.Second)
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxUploadBytes == 0 {
		c.MaxUploadBytes = 256 << 20
	}
	if c.MaxQuestionChars == 0 {
		c.MaxQuestionChars = 8000
	}
	if c.MaxConcurrentAsks == 0 {
		c.MaxConcurrentAsks = 64
	}
	if c.SpoolDir == "" {
		c.SpoolDir = os.TempDir()
	}
	if c.Version == "" {
		c.Version = "dev"
	}
}

// Limits returns the request limits in force, as /api/v1/info reports them.
func (c *Config) Limits() api.Limits {
	return api.Limits{MaxBodyBytes: c.MaxBodyBytes, MaxUploadBytes: c.MaxUploadBytes,
		MaxQuestionChars: c.MaxQuestionChars, MaxConcurrentAsks: c.MaxConcurrentAsks}
}

// Server is kura's HTTP server.
type Server struct {
	cfg         Config
	log         *slog.Logger
	backend     Backend
	mux         *http.ServeMux
	handler     http.Handler
	metrics     *metrics
	routes      []route
	corsOrigins map[string]bool
	// asks is a semaphore of answers in flight.
	asks chan struct{}
	// streamCtx is cancelled when the shutdown deadline passes; every
	// stream ends with it.
	streamCtx    context.Context
	cancelStream context.CancelFunc
	streams      sync.WaitGroup
}

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("server: no backend")
	}
	cfg.setDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, backend: cfg.Backend, mux: http.NewServeMux(),
		asks: make(chan struct{}, cfg.MaxConcurrentAsks), corsOrigins: map[string]bool{}}
	for _, o := range cfg.CORSOrigins {
		s.corsOrigins[o] = true
	}
	s.streamCtx, s.cancelStream = context.WithCancel(context.Background())
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		s.mux.Handle(rt.pattern(), s.wrapRoute(rt))
	}
	s.mux.HandleFunc("/", s.notFound)
	s.handler = s.wrapGlobal(s.mux)
	return s, nil
}

// Config returns the server's configuration with the defaults applied.
func (s *Server) Config() Config { return s.cfg }

// Handler is the server's http.Handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns an http.Server for addr with the configured timeouts.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// it stops accepting connections, lets requests and streams in flight
// finish for up to ShutdownTimeout, cancels the streams still running
// (they end with an `error` event saying so) and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.HTTPServer(ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down; letting running requests finish", "deadline", s.cfg.ShutdownTimeout)
	drain, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(drain)
	if err != nil {
		// The deadline passed: end the streams, give them a moment to
		// say so, then close what is left.
		s.cancelStream()
		done := make(chan struct{})
		go func() { s.streams.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
		hs.Close()
		err = fmt.Errorf("shutdown deadline of %s passed; running streams were cancelled", s.cfg.ShutdownTimeout)
	}
	s.cancelStream()
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
