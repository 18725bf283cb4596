package tracing

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Backends a [Config] exports to.
const (
	BackendNone     = ""
	BackendLangfuse = "langfuse"
	BackendOTLP     = "otlp"
)

// DefaultLangfuseHost is Langfuse Cloud (EU), the host Langfuse's own SDKs
// use when LANGFUSE_HOST is not set.
const DefaultLangfuseHost = "https://cloud.langfuse.com"

// LangfuseTracesPath is Langfuse's OTLP/HTTP traces endpoint, relative to
// its host.
const LangfuseTracesPath = "/api/public/otel/v1/traces"

// Defaults of the export pipeline; zero fields of [Config] take them.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultQueueSize    = 2048
	DefaultBatchSize    = 256
	DefaultBatchDelay   = time.Second
	DefaultFlushTimeout = 3 * time.Second
	// DefaultAttributeLimit bounds one attribute value (in bytes of a
	// string), so a huge context cannot make a span the collector rejects.
	DefaultAttributeLimit = 128 << 10
)

// ErrConfig wraps every configuration error FromEnv returns.
var ErrConfig = errors.New("tracing configuration")

// Config says where and how traces are exported. The zero value is "tracing
// off". Build it with [FromEnv]; tests build it directly.
type Config struct {
	// Backend names where traces go, for messages: BackendLangfuse or
	// BackendOTLP (the default when Endpoint is set).
	Backend string
	// Endpoint is the full OTLP/HTTP traces URL (…/v1/traces).
	Endpoint string
	// Headers are sent with every export request (Authorization, …).
	// Their values are secrets: they never appear in errors or spans.
	Headers map[string]string
	// Gzip compresses export requests.
	Gzip bool
	// Timeout bounds one export request including its retries
	// (DefaultTimeout if zero).
	Timeout time.Duration
	// Content records questions, prompts, document text and answers on
	// spans. Off, spans carry ids, counts, scores, models and timings only.
	Content bool

	ServiceName    string // resource service.name ("kura" if empty)
	ServiceVersion string
	// Environment and Release become langfuse.environment / langfuse.release
	// on every span (and deployment.environment.name on the resource).
	Environment string
	Release     string
	// Resource holds extra resource attributes (OTEL_RESOURCE_ATTRIBUTES).
	Resource map[string]string

	// QueueSize bounds the spans waiting for export; beyond it new spans
	// are dropped (and counted), never waited for.
	QueueSize int
	// BatchSize is the most spans one export request carries.
	BatchSize int
	// BatchDelay is how long a span may wait for its batch to fill.
	BatchDelay time.Duration
	// AttributeLimit bounds string attribute values, in bytes
	// (DefaultAttributeLimit if zero, unlimited if negative).
	AttributeLimit int

	// OnFirstFailure, if set, is called once, from the export goroutine,
	// the first time an export fails, so that a long-running server can log
	// one warning. The error never contains header values.
	OnFirstFailure func(error)
}

// Enabled reports whether traces are exported at all: an endpoint is set.
func (c Config) Enabled() bool { return c.Endpoint != "" }

// String describes the configuration without its header values.
func (c Config) String() string {
	if !c.Enabled() {
		return "tracing off"
	}
	names := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	backend := c.Backend
	if backend == BackendNone {
		backend = BackendOTLP
	}
	s := fmt.Sprintf("%s traces to %s", backend, c.Endpoint)
	if len(names) > 0 {
		s += " (headers " + strings.Join(names, ", ") + ")"
	}
	if c.Gzip {
		s += ", gzip"
	}
	if !c.Content {
		s += ", content off"
	}
	return s
}

func (c Config) withDefaults() Config {
	if c.Backend == BackendNone {
		c.Backend = BackendOTLP
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchSize > c.QueueSize {
		c.BatchSize = c.QueueSize
	}
	if c.BatchDelay <= 0 {
		c.BatchDelay = DefaultBatchDelay
	}
	if c.AttributeLimit == 0 {
		c.AttributeLimit = DefaultAttributeLimit
	}
	if c.ServiceName == "" {
		c.ServiceName = "kura"
	}
	return c
}

// FromEnv reads the configuration from environment variables through
// getenv (os.Getenv in the CLI, after .env has been loaded).
//
// Traces go to the standard OTLP variables' endpoint when one is set
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT
// plus /v1/traces, with OTEL_EXPORTER_OTLP_[TRACES_]HEADERS); otherwise to
// Langfuse when LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are set
// (LANGFUSE_HOST, default Langfuse Cloud, with Basic auth and the v4
// ingestion header); otherwise tracing is off. OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none turn it off whatever else is set.
// OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION (gzip|none) and _TIMEOUT
// (milliseconds) apply to both. KURA_TRACE_CONTENT=false keeps content out
// of spans.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	// signal returns the traces-specific variable or the generic one.
	signal := func(suffix string) (string, string) {
		if v := get("OTEL_EXPORTER_OTLP_TRACES_" + suffix); v != "" {
			return v, "OTEL_EXPORTER_OTLP_TRACES_" + suffix
		}
		return get("OTEL_EXPORTER_OTLP_" + suffix), "OTEL_EXPORTER_OTLP_" + suffix
	}

	var c Config
	content, err := parseBool(get("KURA_TRACE_CONTENT"), true, "KURA_TRACE_CONTENT")
	if err != nil {
		return Config{}, err
	}
	c.Content = content

	if off, err := parseBool(get("OTEL_SDK_DISABLED"), false, "OTEL_SDK_DISABLED"); err != nil {
		return Config{}, err
	} else if off {
		return c, nil
	}
	switch v := strings.ToLower(get("OTEL_TRACES_EXPORTER")); v {
	case "", "otlp":
	case "none":
		return c, nil
	default:
		return Config{}, fmt.Errorf("%w: OTEL_TRACES_EXPORTER=%q is not supported; kura exports traces over OTLP (otlp) or not at all (none)", ErrConfig, v)
	}

	if v, name := signal("PROTOCOL"); v != "" && v != "http/protobuf" {
		return Config{}, fmt.Errorf("%w: %s=%q is not supported; kura exports over OTLP/HTTP with protobuf (http/protobuf), which every OTLP collector accepts on port 4318", ErrConfig, name, v)
	}

	if v, name := signal("COMPRESSION"); v != "" {
		switch strings.ToLower(v) {
		case "gzip":
			c.Gzip = true
		case "none":
		default:
			return Config{}, fmt.Errorf("%w: %s=%q: use gzip or none", ErrConfig, name, v)
		}
	}
	if v, name := signal("TIMEOUT"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms <= 0 {
			return Config{}, fmt.Errorf("%w: %s=%q: want a positive number of milliseconds", ErrConfig, name, v)
		}
		c.Timeout = time.Duration(ms) * time.Millisecond
	}

	c.ServiceName = get("OTEL_SERVICE_NAME")
	if v := get("OTEL_RESOURCE_ATTRIBUTES"); v != "" {
		attrs, err := parseKeyValues(v, "OTEL_RESOURCE_ATTRIBUTES")
		if err != nil {
			return Config{}, err
		}
		c.Resource = attrs
	}
	c.Environment = get("LANGFUSE_TRACING_ENVIRONMENT")
	c.Release = get("LANGFUSE_RELEASE")
	for _, n := range []struct {
		name string
		dst  *int
	}{{"OTEL_BSP_MAX_QUEUE_SIZE", &c.QueueSize}, {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &c.BatchSize}} {
		if v := get(n.name); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i <= 0 {
				return Config{}, fmt.Errorf("%w: %s=%q: want a positive integer", ErrConfig, n.name, v)
			}
			*n.dst = i
		}
	}
	if v := get("OTEL_BSP_SCHEDULE_DELAY"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms <= 0 {
			return Config{}, fmt.Errorf("%w: OTEL_BSP_SCHEDULE_DELAY=%q: want a positive number of milliseconds", ErrConfig, v)
		}
		c.BatchDelay = time.Duration(ms) * time.Millisecond
	}

	// Standard OTLP endpoint first: a team that routes traces through its
	// own collector sets it on purpose, even with Langfuse keys present
	// (which kura also uses for scores and prompts).
	endpoint, endpointVar := get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	if endpoint == "" {
		if base := get("OTEL_EXPORTER_OTLP_ENDPOINT"); base != "" {
			endpoint, endpointVar = strings.TrimRight(base, "/")+"/v1/traces", "OTEL_EXPORTER_OTLP_ENDPOINT"
		}
	}
	if endpoint != "" {
		if err := checkEndpoint(endpoint, endpointVar); err != nil {
			return Config{}, err
		}
		c.Backend, c.Endpoint = BackendOTLP, endpoint
		headers := map[string]string{}
		for _, name := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
			if v := get(name); v != "" {
				h, err := parseKeyValues(v, name)
				if err != nil {
					return Config{}, err
				}
				for k, v := range h {
					headers[k] = v
				}
			}
		}
		if len(headers) > 0 {
			c.Headers = headers
		}
		return c, nil
	}

	pk, sk := get("LANGFUSE_PUBLIC_KEY"), get("LANGFUSE_SECRET_KEY")
	switch {
	case pk == "" && sk == "":
		return c, nil
	case pk == "":
		return Config{}, fmt.Errorf("%w: LANGFUSE_SECRET_KEY is set but LANGFUSE_PUBLIC_KEY is not; Langfuse needs both", ErrConfig)
	case sk == "":
		return Config{}, fmt.Errorf("%w: LANGFUSE_PUBLIC_KEY is set but LANGFUSE_SECRET_KEY is not; Langfuse needs both", ErrConfig)
	}
	host, hostVar := get("LANGFUSE_HOST"), "LANGFUSE_HOST"
	if host == "" {
		host, hostVar = get("LANGFUSE_BASE_URL"), "LANGFUSE_BASE_URL"
	}
	if host == "" {
		host = DefaultLangfuseHost
	}
	endpoint = strings.TrimRight(host, "/") + LangfuseTracesPath
	if err := checkEndpoint(endpoint, hostVar); err != nil {
		return Config{}, err
	}
	c.Backend, c.Endpoint = BackendLangfuse, endpoint
	c.Headers = LangfuseHeaders(pk, sk)
	return c, nil
}

// LangfuseHeaders are the headers of an OTLP export to Langfuse: Basic auth
// with the project's key pair, and the ingestion version that selects
// Langfuse's v4 (real-time, observation-centric) OTLP processing.
func LangfuseHeaders(publicKey, secretKey string) map[string]string {
	return map[string]string{
		"Authorization":                "Basic " + base64.StdEncoding.EncodeToString([]byte(publicKey+":"+secretKey)),
		"x-langfuse-ingestion-version": "4",
	}
}

func checkEndpoint(raw, variable string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %s must be an http:// or https:// URL with a host, got %q", ErrConfig, variable, redactURL(raw))
	}
	if u.User != nil {
		return fmt.Errorf("%w: %s must not carry credentials in the URL; put them in the headers variable", ErrConfig, variable)
	}
	return nil
}

// redactURL drops a userinfo part, in case a secret was put there.
func redactURL(raw string) string {
	if i := strings.Index(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			return raw[:j+3] + "…@" + raw[i+1:]
		}
	}
	return raw
}

func parseBool(v string, def bool, name string) (bool, error) {
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.ToLower(v))
	if err != nil {
		return false, fmt.Errorf("%w: %s=%q: want true or false", ErrConfig, name, v)
	}
	return b, nil
}

// parseKeyValues reads the "k1=v1,k2=v2" lists of OTEL_EXPORTER_OTLP_HEADERS
// and OTEL_RESOURCE_ATTRIBUTES; values are percent-decoded as the
// specification says. Errors name the entry by position, never its value.
func parseKeyValues(s, variable string) (map[string]string, error) {
	out := map[string]string{}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %s entry %d is not key=value", ErrConfig, variable, i+1)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%w: %s entry %d (%s) has a bad percent-escape", ErrConfig, variable, i+1, k)
		}
		out[k] = dv
	}
	return out, nil
}
