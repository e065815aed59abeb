package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
)

// errNotLoopback is returned for any target outside 127.0.0.0/8 and ::1: the
// load generator can open tens of thousands of connections and must never be
// pointed at somebody else's machine.
var errNotLoopback = errors.New("target is not a loopback address (only 127.0.0.0/8 and ::1 are allowed)")

// resolver is the part of net.Resolver the target check needs; tests pass a
// fake so that no real name lookup happens.
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

func isLoopback(a netip.Addr) bool {
	// Unmap so that ::ffff:127.0.0.1 counts as the IPv4 loopback it is.
	return a.Unmap().IsLoopback()
}

// checkTarget parses the base URL and resolves its host; every address the
// name resolves to must be a loopback address, so that a name with one public
// address among several cannot slip through.
func checkTarget(ctx context.Context, r resolver, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target %q: scheme must be http or https", raw)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("target %q: no host", raw)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("target %q: resolve %s: %w", raw, host, err)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("target %q: %s resolves to no address: %w", raw, host, errNotLoopback)
	}
	for _, a := range addrs {
		if !isLoopback(a) {
			return nil, fmt.Errorf("target %q: %s is %s: %w", raw, host, a, errNotLoopback)
		}
	}
	return u, nil
}

// loopbackOnly is a net.Dialer Control function: it runs after name
// resolution, on the address actually dialled, so a name that resolves
// differently later (DNS rebinding) still cannot reach another machine.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if !isLoopback(a) {
		return fmt.Errorf("dial %s %s: %w", network, address, errNotLoopback)
	}
	return nil
}
