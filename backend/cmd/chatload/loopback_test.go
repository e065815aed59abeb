package main

import (
	"context"
	"errors"
	"net/netip"
	"testing"
)

// fakeResolver answers from a fixed table and fails for unknown names.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	a, ok := f[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	return a, nil
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func TestCheckTarget(t *testing.T) {
	res := fakeResolver{
		"localhost":   addrs("127.0.0.1", "::1"),
		"loop.test":   addrs("127.5.6.7"),
		"mixed.test":  addrs("127.0.0.1", "10.0.0.1"),
		"public.test": addrs("93.184.216.34"),
		"empty.test":  nil,
	}
	tests := []struct {
		name    string
		url     string
		wantErr bool
		notLoop bool // the error must be errNotLoopback
	}{
		{"ipv4 loopback", "http://127.0.0.1:8080", false, false},
		{"other 127/8 address", "http://127.200.1.1:9000", false, false},
		{"ipv6 loopback", "http://[::1]:8080", false, false},
		{"v4-mapped loopback", "http://[::ffff:127.0.0.1]:8080", false, false},
		{"localhost", "http://localhost:8080", false, false},
		{"name with loopback address", "https://loop.test", false, false},
		{"private address", "http://10.0.0.1:8080", true, true},
		{"public address", "http://93.184.216.34", true, true},
		{"unspecified address", "http://0.0.0.0:8080", true, true},
		{"ipv6 unspecified", "http://[::]:8080", true, true},
		{"public ipv6", "http://[2001:db8::1]:8080", true, true},
		{"v4-mapped public", "http://[::ffff:8.8.8.8]:80", true, true},
		{"name with one public address", "http://mixed.test", true, true},
		{"public name", "http://public.test", true, true},
		{"name without addresses", "http://empty.test", true, true},
		{"unknown name", "http://nowhere.test", true, false},
		{"ws scheme", "ws://127.0.0.1:8080", true, false},
		{"no host", "http://:8080", true, false},
		{"garbage", "http://[::1", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := checkTarget(context.Background(), res, tc.url)
			if (err != nil) != tc.wantErr {
				t.Fatalf("checkTarget(%q) error = %v, want error %v", tc.url, err, tc.wantErr)
			}
			if tc.notLoop != errors.Is(err, errNotLoopback) {
				t.Fatalf("checkTarget(%q) error = %v, want errNotLoopback %v", tc.url, err, tc.notLoop)
			}
			if err == nil && u == nil {
				t.Fatalf("checkTarget(%q) returned no URL", tc.url)
			}
		})
	}
}

func TestLoopbackOnly(t *testing.T) {
	tests := []struct {
		address string
		ok      bool
	}{
		{"127.0.0.1:8080", true},
		{"127.9.9.9:1", true},
		{"[::1]:8080", true},
		{"10.1.2.3:8080", false},
		{"[fe80::1]:8080", false},
		{"192.168.1.1:443", false},
		{"not-an-address", false},
		{"host.test:80", false},
	}
	for _, tc := range tests {
		t.Run(tc.address, func(t *testing.T) {
			err := loopbackOnly("tcp", tc.address, nil)
			if (err == nil) != tc.ok {
				t.Fatalf("loopbackOnly(%q) = %v, want ok %v", tc.address, err, tc.ok)
			}
		})
	}
}
