package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/history"
	"github.com/kura-rag/kura/internal/langfuse"
	"github.com/kura-rag/kura/internal/serve"
	"github.com/kura-rag/kura/internal/server"
	"github.com/kura-rag/kura/internal/tracing"
)

// serveOptions are kura serve's flags: where to listen, who may call,
// the limits, and the defaults of requests.
type serveOptions struct {
	Addr            string
	APIKey          string
	APIKeysFile     string
	InsecureNoKey   bool
	CORSOrigins     []string
	AllowedHosts    []string
	MaxBody         string
	MaxUpload       string
	MaxQuestion     int
	MaxAsks         int
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	UploadTimeout   time.Duration
	ShutdownTimeout time.Duration
	PublicMetrics   bool
	LogFormat       string
	// Retention of conversations and answer records, applied by the
	// application layer: older or beyond the count are removed.
	RetentionMaxAge   time.Duration
	RetentionMaxCount int
	// embedder is the embedder of collections an upload creates;
	// existing collections keep their own.
	embedder embedderOptions
}

// insecureFlag is the opt-out for serving beyond loopback without keys;
// its name says what it does.
const insecureFlag = "insecure-no-api-key"

func (o *serveOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "address to listen on; anything but loopback needs an API key")
	f.StringVar(&o.APIKey, "api-key", "", "API key clients send as Authorization: Bearer KEY, for the user \"default\" (env KURA_API_KEY)")
	f.StringVar(&o.APIKeysFile, "api-keys", "", "`FILE` of API keys, one \"user: key\" (or \"user: sha256:HEX\") per line; each user has their own conversations")
	f.BoolVar(&o.InsecureNoKey, insecureFlag, false, "serve a non-loopback address WITHOUT any API key: anyone who can reach it can read and change everything")
	f.StringSliceVar(&o.CORSOrigins, "cors-origin", nil, "browser origin allowed to call the API from another site (repeatable), e.g. https://chat.example.com")
	f.StringSliceVar(&o.AllowedHosts, "allowed-host", nil, "host name served without API keys besides localhost and IP addresses (repeatable)")
	f.StringVar(&o.MaxBody, "max-body", "1MiB", "largest JSON request body")
	f.StringVar(&o.MaxUpload, "max-upload", "256MiB", "largest upload (all files of one request)")
	f.IntVar(&o.MaxQuestion, "max-question", 8000, "longest question, in characters")
	f.IntVar(&o.MaxAsks, "max-concurrent-asks", 64, "answers generated at once; more get 429")
	f.DurationVar(&o.ReadTimeout, "read-timeout", 60*time.Second, "time to read a request (uploads: --upload-timeout)")
	f.DurationVar(&o.WriteTimeout, "write-timeout", 60*time.Second, "time to write a response, or one event of a stream")
	f.DurationVar(&o.IdleTimeout, "idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
	f.DurationVar(&o.UploadTimeout, "upload-timeout", 10*time.Minute, "time an upload may take to arrive")
	f.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long running answers may finish")
	f.BoolVar(&o.PublicMetrics, "public-metrics", false, "serve /metrics without an API key")
	f.StringVar(&o.LogFormat, "log-format", "text", "access log format: text or json")
	f.DurationVar(&o.RetentionMaxAge, "retention", history.DefaultMaxAge, "delete conversations and answer records not used for this long, e.g. 720h (0: keep them)")
	f.IntVar(&o.RetentionMaxCount, "retention-count", history.DefaultMaxAnswers, "keep at most this many answer records, dropping the oldest (0: no limit)")
	o.embedder.register(f)
}

func newServeCommand(g *globalOptions) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API, an OpenAI-compatible endpoint and the web chat",
		Long: `Serve kura over HTTP: the JSON API under /api/v1 (described at
/api/v1/openapi.json), an OpenAI-compatible chat endpoint under /v1 (model
kura/<collection>), the web chat at /, /healthz, /readyz and /metrics.

Listening on anything but loopback needs an API key (--api-key, KURA_API_KEY,
or --api-keys FILE with one "user: key" per line) unless you pass
--insecure-no-api-key. SIGTERM or Ctrl-C lets running answers finish for
--shutdown-timeout, then stops.`,
		Example: `  kura serve
  KURA_API_KEY=$(openssl rand -hex 16) kura serve --addr 0.0.0.0:8080
  kura serve --api-keys keys.txt --cors-origin https://chat.example.com`,
		Args: args(cobra.NoArgs, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fromEnv(cmd.Flags(), "api-key", &o.APIKey, "KURA_API_KEY")
			o.embedder.resolve(cmd.Flags())
			cfg, err := o.config(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return runServe(cmd.Context(), g, &o, cfg, cmd.ErrOrStderr())
		},
	}
	o.register(cmd.Flags())
	return cmd
}

// config checks the options and turns them into the server's settings
// (all but the backend).
func (o *serveOptions) config(stderr io.Writer) (server.Config, error) {
	var cfg server.Config
	keys := &server.KeySet{}
	if o.APIKey != "" {
		if err := keys.Add(server.DefaultUser, o.APIKey); err != nil {
			return cfg, &usageError{fmt.Errorf("--api-key: %w", err)}
		}
	}
	if o.APIKeysFile != "" {
		f, err := os.Open(o.APIKeysFile)
		if err != nil {
			return cfg, &usageError{fmt.Errorf("--api-keys: %w", err)}
		}
		fileKeys, err := server.ParseKeys(f, o.APIKeysFile)
		f.Close()
		if err != nil {
			return cfg, &usageError{fmt.Errorf("--api-keys: %w", err)}
		}
		if err := keys.Merge(fileKeys); err != nil {
			return cfg, &usageError{fmt.Errorf("--api-keys: %w", err)}
		}
	}
	loopback, err := isLoopback(o.Addr)
	if err != nil {
		return cfg, &usageError{fmt.Errorf("--addr %q: %w", o.Addr, err)}
	}
	if !loopback && keys.Len() == 0 && !o.InsecureNoKey {
		return cfg, &usageError{fmt.Errorf("--addr %s is reachable from other machines, and no API key is set: "+
			"give one with --api-key (or KURA_API_KEY) or --api-keys FILE, or pass --%s if anyone who can reach it may use it", o.Addr, insecureFlag)}
	}
	maxBody, err := parseSize(o.MaxBody)
	if err != nil {
		return cfg, &usageError{fmt.Errorf("--max-body: %w", err)}
	}
	maxUpload, err := parseSize(o.MaxUpload)
	if err != nil {
		return cfg, &usageError{fmt.Errorf("--max-upload: %w", err)}
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"--max-question", o.MaxQuestion}, {"--max-concurrent-asks", o.MaxAsks}} {
		if v.n < 1 {
			return cfg, &usageError{fmt.Errorf("%s %d must be at least 1", v.name, v.n)}
		}
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"--read-timeout", o.ReadTimeout}, {"--write-timeout", o.WriteTimeout}, {"--idle-timeout", o.IdleTimeout},
		{"--upload-timeout", o.UploadTimeout}, {"--shutdown-timeout", o.ShutdownTimeout}} {
		if d.d <= 0 {
			return cfg, &usageError{fmt.Errorf("%s %s must be positive", d.name, d.d)}
		}
	}
	if o.RetentionMaxAge < 0 || o.RetentionMaxCount < 0 {
		return cfg, &usageError{errors.New("--retention and --retention-count must not be negative")}
	}
	for _, origin := range o.CORSOrigins {
		if !strings.HasPrefix(origin, "http://") && !strings.HasPrefix(origin, "https://") || strings.HasSuffix(origin, "/") {
			return cfg, &usageError{fmt.Errorf("--cors-origin %q: give an origin like https://chat.example.com (scheme and host, no path)", origin)}
		}
	}
	var handler slog.Handler
	switch o.LogFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, nil)
	case "json":
		handler = slog.NewJSONHandler(stderr, nil)
	default:
		return cfg, &usageError{fmt.Errorf("--log-format %q: use text or json", o.LogFormat)}
	}
	if !loopback && keys.Len() == 0 {
		fmt.Fprintf(stderr, "kura: WARNING: serving %s without an API key (--%s): anyone who can reach it can read and change everything\n", o.Addr, insecureFlag)
	}
	cfg = server.Config{
		Logger: slog.New(handler), Keys: keys, CORSOrigins: o.CORSOrigins, AllowedHosts: o.AllowedHosts,
		MaxBodyBytes: maxBody, MaxUploadBytes: maxUpload, MaxQuestionChars: o.MaxQuestion, MaxConcurrentAsks: o.MaxAsks,
		ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout, IdleTimeout: o.IdleTimeout, UploadTimeout: o.UploadTimeout,
		ShutdownTimeout: o.ShutdownTimeout, PublicMetrics: o.PublicMetrics, Version: serverVersion(),
	}
	return cfg, nil
}

// isLoopback reports whether addr's host only accepts local connections.
// An empty host ("":8080) and 0.0.0.0 listen everywhere.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// parseSize reads a byte size: 1048576, 512KiB, 1MiB, 2GB.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("%q is not a size; write e.g. 1048576, 512KiB, 1MiB or 2GB", s)
	}
	return n * mult, nil
}

// runServe serves until ctx ends. Tracing, Langfuse and the model
// providers come from the environment.
func runServe(ctx context.Context, g *globalOptions, o *serveOptions, cfg server.Config, stderr io.Writer) error {
	tc, err := tracing.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	var lf *langfuse.Config
	if c, ok, err := langfuse.ConfigFromEnv(os.Getenv); err != nil {
		return err
	} else if ok {
		lf = &c
	}
	providers := app.ProvidersFromEnv(os.Getenv)
	if o.embedder.OCIAuth != "" {
		providers.OCI.Auth = o.embedder.OCIAuth
	}
	return serve.Run(ctx, serve.Options{
		App: app.Options{
			DataDir: g.DataDir, Store: g.Store, Milvus: g.milvus.options(), Collection: g.Collection,
			Providers: providers,
			Embedding: o.embedder.appOptions(),
			History:   history.Options{MaxAge: retention(o.RetentionMaxAge), MaxAnswers: retention(o.RetentionMaxCount)},
		},
		Server:   cfg,
		Addr:     o.Addr,
		Tracing:  tc,
		Langfuse: lf,
		Ready: func(r serve.Record) {
			fmt.Fprintf(stderr, "kura: serving collection %s of %s on %s (web chat at /, API at /api/v1, OpenAI-compatible at /v1; %s)\n",
				r.Collection, g.absData(), r.URL, plural(cfg.Keys.Len(), "API key"))
		},
	})
}

// appOptions are the embedding options of an App that serves: the
// embedder named is the one of collections an upload creates (existing
// collections keep their own, so it is never "explicit").
func (o *embedderOptions) appOptions() app.EmbedOptions {
	return app.EmbedOptions{
		Embedder: o.Name, Model: o.Model, Dim: o.Dim, Endpoint: o.Endpoint, Truncate: o.Truncate,
		BatchSize: o.BatchSize, Timeout: o.Timeout, Retries: o.Retries, RPS: o.RPS, NoCache: o.NoCache,
	}
}

// retention turns a --retention flag's "0: no limit" into history's
// negative "no limit" (zero there means its default).
func retention[T int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

// serverVersion is the module version kura was built as ("dev" from a
// work tree).
func serverVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
