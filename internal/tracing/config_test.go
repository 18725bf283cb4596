package tracing

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	basic := LangfuseHeaders("pk", "sk")["Authorization"]
	f := func(vars map[string]string, want Config) {
		t.Helper()
		got, err := FromEnv(func(k string) string { return vars[k] })
		if err != nil {
			t.Fatalf("FromEnv(%v): %v", vars, err)
		}
		if got.Backend != want.Backend || got.Endpoint != want.Endpoint || got.Gzip != want.Gzip ||
			got.Timeout != want.Timeout || got.Content != want.Content {
			t.Fatalf("FromEnv(%v) = %+v, want %+v", vars, got, want)
		}
		for k, v := range want.Headers {
			if got.Headers[k] != v {
				t.Fatalf("FromEnv(%v): header %s = %q, want %q", vars, k, got.Headers[k], v)
			}
		}
		if len(got.Headers) != len(want.Headers) {
			t.Fatalf("FromEnv(%v): headers %v, want %v", vars, got.Headers, want.Headers)
		}
	}
	// Nothing set: off, content on by default.
	f(map[string]string{}, Config{Content: true})
	// Langfuse, default host.
	f(map[string]string{"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk"}, Config{
		Backend: BackendLangfuse, Endpoint: "https://cloud.langfuse.com/api/public/otel/v1/traces", Content: true,
		Headers: map[string]string{"Authorization": basic, "x-langfuse-ingestion-version": "4"},
	})
	// Self-hosted, trailing slash, gzip, timeout, content off.
	f(map[string]string{
		"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", "LANGFUSE_HOST": "http://localhost:3000/",
		"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_TIMEOUT": "2500", "KURA_TRACE_CONTENT": "false",
	}, Config{
		Backend: BackendLangfuse, Endpoint: "http://localhost:3000/api/public/otel/v1/traces", Gzip: true,
		Timeout: 2500 * time.Millisecond, Content: false,
		Headers: map[string]string{"Authorization": basic, "x-langfuse-ingestion-version": "4"},
	})
	// The newer name of the host variable.
	f(map[string]string{"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", "LANGFUSE_BASE_URL": "https://jp.cloud.langfuse.com"}, Config{
		Backend: BackendLangfuse, Endpoint: "https://jp.cloud.langfuse.com/api/public/otel/v1/traces", Content: true,
		Headers: map[string]string{"Authorization": basic, "x-langfuse-ingestion-version": "4"},
	})
	// A standard endpoint wins over Langfuse keys; the traces-specific
	// endpoint is used as is and its headers override the generic ones.
	f(map[string]string{
		"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk",
		"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://collector:4318/",
		"OTEL_EXPORTER_OTLP_HEADERS":         "a=1, b = two%20words",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS":  "b=3",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
	}, Config{
		Backend: BackendOTLP, Endpoint: "http://collector:4318/v1/traces", Content: true,
		Headers: map[string]string{"a": "1", "b": "3"},
	})
	f(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://x.example/custom/path", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://ignored"},
		Config{Backend: BackendOTLP, Endpoint: "https://x.example/custom/path", Content: true})
	// Switched off explicitly.
	f(map[string]string{"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", "OTEL_SDK_DISABLED": "true"}, Config{Content: true})
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, Config{Content: true})
}

func TestFromEnvErrors(t *testing.T) {
	f := func(vars map[string]string, wantIn string) {
		t.Helper()
		_, err := FromEnv(func(k string) string { return vars[k] })
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), wantIn) {
			t.Fatalf("FromEnv(%v) = %v, want an ErrConfig naming %q", vars, err, wantIn)
		}
		for _, v := range vars {
			if len(v) > 6 && strings.Contains(err.Error(), v) && strings.Contains(v, "secret") {
				t.Fatalf("error %q shows a secret", err)
			}
		}
	}
	f(map[string]string{"LANGFUSE_PUBLIC_KEY": "pk"}, "LANGFUSE_SECRET_KEY")
	f(map[string]string{"LANGFUSE_SECRET_KEY": "sk"}, "LANGFUSE_PUBLIC_KEY")
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "http/protobuf")
	f(map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, "gzip or none")
	f(map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}, "milliseconds")
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "http:// or https://")
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://user:secretpw@c:4318"}, "credentials")
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_HEADERS": "Authorization"}, "entry 1")
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_HEADERS": "x=secret%zz"}, "percent-escape")
	f(map[string]string{"KURA_TRACE_CONTENT": "maybe"}, "KURA_TRACE_CONTENT")
	f(map[string]string{"OTEL_TRACES_EXPORTER": "jaeger"}, "OTEL_TRACES_EXPORTER")
	f(map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "-1"}, "OTEL_BSP_MAX_QUEUE_SIZE")
}

func FuzzParseKeyValues(f *testing.F) {
	for _, s := range []string{"", "a=b", "a=b,c=d", " a = b%20c ,, d=", "=x", "a", "a=%zz", "k=v=w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseKeyValues(s, "X")
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error not ErrConfig: %v", err)
			}
			return
		}
		for k := range m {
			if k == "" || strings.ContainsAny(k, ",=") {
				t.Fatalf("bad key %q from %q", k, s)
			}
		}
	})
}
