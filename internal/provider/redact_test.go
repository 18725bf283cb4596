package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

const testKey = "co-test-SECRET-key-1234"

func TestSecretNeverPrints(t *testing.T) {
	cfg := struct {
		Name string
		Key  Secret
	}{"cohere", testKey}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if s := fmt.Sprintf(f, cfg); strings.Contains(s, testKey) || strings.Contains(s, fmt.Sprintf("%x", testKey)) {
			t.Errorf("%s leaks the key: %s", f, s)
		}
	}
	if b, _ := json.Marshal(cfg); strings.Contains(string(b), testKey) {
		t.Errorf("JSON leaks the key: %s", b)
	}
	if string(cfg.Key) != testKey || fmt.Sprint(Secret("")) != "" {
		t.Error("the value itself must stay readable, an empty secret prints empty")
	}
}

func TestRedact(t *testing.T) {
	for in, bad := range map[string]string{
		"dial https://gw.example.com/v1?api_key=s3cr3t&x=1": "s3cr3t",
		"https://user:pa55word@proxy:8080/v2/embed":         "pa55word",
		"Authorization: Bearer abcdefghijklmnop":            "abcdefghijklmnop",
		"token " + testKey + " rejected":                    testKey,
		"https://gw/x?sig=abc123&tenant=a":                  "abc123",
	} {
		if got := Redact(in, testKey); strings.Contains(got, bad) {
			t.Errorf("Redact(%q) = %q", in, got)
		}
	}
	if got := Redact("the key abc is short", "abc"); got != "the key abc is short" {
		t.Errorf("a 3-byte secret mangled text: %q", got)
	}
	inner := errors.New("connection refused")
	ue := &url.Error{Op: "Post", URL: "https://u:pw@gw.example.com/v2/chat?key=s3cr3t", Err: inner}
	err := RedactError(fmt.Errorf("calling: %w", ue))
	if s := err.Error(); strings.Contains(s, "s3cr3t") || strings.Contains(s, "pw@") {
		t.Errorf("RedactError kept a secret: %q", s)
	}
	if !errors.Is(err, inner) {
		t.Error("RedactError broke the error chain")
	}
}

func TestServerMessage(t *testing.T) {
	for in, want := range map[string]string{
		`{"message":"invalid api token"}`:                    "invalid api token",
		`{"error":{"message":"Incorrect API key provided"}}`: "Incorrect API key provided",
		`{"error":"model \"x\" not found"}`:                  `model "x" not found`,
		`{"detail":"Not Found"}`:                             "Not Found",
		"  plain\n text  ":                                   "plain text",
		"":                                                   "",
	} {
		if got := ServerMessage([]byte(in)); got != want {
			t.Errorf("ServerMessage(%s) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("日本語", 200)
	if got := Shorten(long); len(got) > 304 || !strings.HasSuffix(got, "…") || !json.Valid([]byte(fmt.Sprintf("%q", got))) {
		t.Errorf("Shorten: %d bytes", len(got))
	}
}

func TestEndpoints(t *testing.T) {
	for raw, want := range map[string]string{"": DefaultOllamaHost, "gpu-box": "http://gpu-box:11434",
		"https://ollama.example.com": "https://ollama.example.com:443", "0.0.0.0:8080": "http://0.0.0.0:8080",
		"http://[::1]": "http://[::1]:11434"} {
		if got, err := OllamaHost(raw); err != nil || got != want {
			t.Errorf("OllamaHost(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	if _, err := OllamaHost("ftp://x"); err == nil {
		t.Error("OllamaHost accepted ftp")
	}
	if got, err := ParseEndpoint("https://gw.example.com/v1/", "OPENAI_BASE_URL"); err != nil || got != "https://gw.example.com/v1" {
		t.Errorf("ParseEndpoint: %q %v", got, err)
	}
	if _, err := ParseEndpoint("gw.example.com?key=s3cr3t", "COHERE_BASE_URL"); err == nil || !strings.Contains(err.Error(), "COHERE_BASE_URL") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("ParseEndpoint error: %v", err)
	}
	for raw, want := range map[string]string{"": "https://api.example.com/v1", "http://gw:8000/v1/": "http://gw:8000/v1"} {
		if got, err := EndpointOr(raw, "https://api.example.com/v1", "OPENAI_BASE_URL"); err != nil || got != want {
			t.Errorf("EndpointOr(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	if _, err := EndpointOr("gw:8000", "https://api.example.com/v1", "OPENAI_BASE_URL"); err == nil {
		t.Error("EndpointOr accepted a URL without a scheme")
	}
	if got := JoinPath("https://gw/x/?tenant=a", "/v2/chat"); got != "https://gw/x/v2/chat?tenant=a" {
		t.Errorf("JoinPath: %s", got)
	}
}
