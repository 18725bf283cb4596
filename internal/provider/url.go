package provider

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// JoinPath appends an API path to a base URL, keeping the base's query
// (gateways that take a key or version as a query parameter).
func JoinPath(base, path string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base + path
	}
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	return u.String()
}

// ParseEndpoint validates a configured base URL and strips a trailing
// slash, so "http://gw/v1/" and "http://gw/v1" mean the same. what names
// the setting in the error (an environment variable such as
// COHERE_BASE_URL); the value is redacted there.
func ParseEndpoint(raw, what string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s %q is not an http(s) URL such as https://api.example.com", what, Redact(raw))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// EndpointOr is [ParseEndpoint] of a configured base URL, or fallback
// (the provider's public endpoint) when none is configured.
func EndpointOr(raw, fallback, what string) (string, error) {
	if raw == "" {
		return fallback, nil
	}
	return ParseEndpoint(raw, what)
}

// DefaultOllamaHost is where a local Ollama listens.
const DefaultOllamaHost = "http://localhost:11434"

// OllamaHost normalises OLLAMA_HOST the way the ollama command does: ""
// means http://localhost:11434, no scheme means http, no port means 11434
// (443 for https). "gpu-box", "0.0.0.0:8080" and "https://ollama.example"
// are all valid.
func OllamaHost(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return DefaultOllamaHost, nil
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("OLLAMA_HOST %q is not a host, host:port or http(s) URL", Redact(raw))
	}
	if u.Port() == "" {
		port := "11434"
		if u.Scheme == "https" {
			port = "443"
		}
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
