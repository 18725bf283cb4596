package crawl

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"
)

func TestAddrRule(t *testing.T) {
	f := func(addr string, blocked bool) {
		t.Helper()
		rule := addrRule(netip.MustParseAddr(addr))
		if (rule != "") != blocked {
			t.Errorf("addrRule(%s) = %q, want blocked=%v", addr, rule, blocked)
		}
	}
	for _, a := range []string{
		"127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
		"169.254.169.254", "fe80::1", "fd00:ec2::254", "100.100.100.200", "0.0.0.0", "::",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1",
		"224.0.0.1", "255.255.255.255", "198.18.0.1", "fec0::1",
	} {
		f(a, true)
	}
	for _, a := range []string{"93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"} {
		f(a, false)
	}
}

// TestGuardDialRefusesResolvedLoopback connects by a name ("localhost")
// that resolves to loopback: the refusal must come from the resolved
// address, not from the spelling of the host.
func TestGuardDialRefusesResolvedLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	g := &guard{}
	_, err := g.dialer(time.Second)(context.Background(), "tcp", net.JoinHostPort("localhost", port))
	var be *BlockedAddressError
	if !errors.As(err, &be) || !errors.Is(err, ErrBlockedAddress) || be.Rule != "loopback" || be.Host != "localhost" {
		t.Fatalf("dial localhost: err = %v, want a loopback BlockedAddressError", err)
	}

	g = &guard{privateHosts: map[string]bool{}}
	g.allowPrivate(&url.URL{Scheme: "http", Host: net.JoinHostPort("localhost", port)})
	c, err := g.dialer(time.Second)(context.Background(), "tcp", net.JoinHostPort("localhost", port))
	if err != nil {
		t.Fatalf("dial localhost with the host allowed: %v", err)
	}
	c.Close()
	// Allowing one host does not open the others.
	_, err = g.dialer(time.Second)(context.Background(), "tcp", srv.Listener.Addr().String())
	if !errors.Is(err, ErrBlockedAddress) {
		t.Fatalf("dial 127.0.0.1 with only localhost allowed: err = %v, want refused", err)
	}
}

// TestGuardOtherPortRefused: allowing a host on one port does not open
// another service on the same machine.
func TestGuardOtherPortRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	g := &guard{privateHosts: map[string]bool{}}
	g.allowPrivate(&url.URL{Scheme: "http", Host: "127.0.0.1:1"})
	if _, err := g.dialer(time.Second)(context.Background(), "tcp", srv.Listener.Addr().String()); !errors.Is(err, ErrBlockedAddress) {
		t.Fatalf("dial another port of an allowed host: %v, want refused", err)
	}
}
