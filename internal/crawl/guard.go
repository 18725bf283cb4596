package crawl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrBlockedAddress is wrapped by a [*BlockedAddressError]: a connection to
// a loopback, private, link-local, metadata or otherwise non-public address
// was refused.
var ErrBlockedAddress = errors.New("address not allowed")

// BlockedAddressError is a refused connection. It names the host as the
// URL spelled it, the address it resolved to, and the rule that refused it.
type BlockedAddressError struct {
	Host string
	Addr netip.Addr
	Rule string // e.g. "loopback", "private (RFC 1918)"
}

func (e *BlockedAddressError) Error() string {
	if e.Host != "" && e.Host != e.Addr.String() {
		return fmt.Sprintf("refused to connect to %s: it resolves to %s, a %s address; only public addresses are crawled by default", e.Host, e.Addr, e.Rule)
	}
	return fmt.Sprintf("refused to connect to %s: it is a %s address; only public addresses are crawled by default", e.Addr, e.Rule)
}

func (e *BlockedAddressError) Unwrap() error { return ErrBlockedAddress }

// blockedRanges are the non-public ranges that netip's predicates do not
// cover. Cloud metadata endpoints live in link-local (169.254.169.254,
// fe80::), shared address space (100.100.100.200) and ULA (fd00:ec2::254).
var blockedRanges = []struct {
	prefix netip.Prefix
	rule   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\""},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
}

// addrRule returns why addr may not be reached, or "" if it is public.
// Addresses that carry an IPv4 address inside IPv6 (mapped, NAT64, 6to4)
// are judged by the IPv4 address they lead to.
func addrRule(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		b := addr.As16()
		switch {
		case netip.MustParsePrefix("64:ff9b::/96").Contains(addr):
			return addrRule(netip.AddrFrom4([4]byte(b[12:16])))
		case netip.MustParsePrefix("2002::/16").Contains(addr):
			return addrRule(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	switch {
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate():
		if addr.Is4() {
			return "private (RFC 1918)"
		}
		return "private (unique local)"
	case addr.IsLinkLocalUnicast():
		return "link-local (cloud metadata)"
	case addr.IsUnspecified():
		return "unspecified"
	case addr.IsMulticast(), addr.IsLinkLocalMulticast(), addr.IsInterfaceLocalMulticast():
		return "multicast"
	case addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "broadcast"
	}
	for _, r := range blockedRanges {
		if r.prefix.Contains(addr) {
			return r.rule
		}
	}
	return ""
}

// guard decides which connections the crawler may open. The check runs in
// the dialer's Control hook, on the address the socket is about to connect
// to, after name resolution: a host name that resolves to 127.0.0.1, a
// DNS answer that changes between two lookups, and a redirect to an
// internal address all meet the same check.
type guard struct {
	// allowAll lets every address through (the user opted out).
	allowAll bool
	// privateHosts may resolve to non-public addresses: the "host:port"
	// authorities the user named when opting into private addresses.
	privateHosts map[string]bool
}

// allowPrivate opens non-public addresses for the authority of u: its
// host on its own port, and on the other of 80 and 443, so that an
// intranet's http -> https redirect still works while another service on
// the same machine stays out of reach.
func (g *guard) allowPrivate(u *url.URL) {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	for _, p := range []string{port, "80", "443"} {
		g.privateHosts[net.JoinHostPort(host, p)] = true
	}
}

// dialer returns a DialContext that refuses what g forbids.
func (g *guard) dialer(timeout time.Duration) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		host = strings.ToLower(host)
		d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
		if !g.allowAll && !g.privateHosts[net.JoinHostPort(host, port)] {
			d.Control = func(_, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return fmt.Errorf("refused to connect to %s: cannot parse the address: %w", address, ErrBlockedAddress)
				}
				if rule := addrRule(ap.Addr()); rule != "" {
					return &BlockedAddressError{Host: host, Addr: ap.Addr().Unmap(), Rule: rule}
				}
				return nil
			}
		}
		return d.DialContext(ctx, network, address)
	}
}
