package auth_test

import (
	"testing"

	"github.com/chatapp/chat/auth"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header, token string
		present       bool
	}{
		{"", "", false},
		{"Bearer abc.def", "abc.def", true},
		{"bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"Bearer   abc  ", "abc", true},
		{"Bearer ", "", true},
		{"Bearer", "", true},
		{"Basic dXNlcjpwdw==", "", true},
		{"Bearer\tabc", "", true},
		{"   ", "", true},
	}
	for _, tc := range tests {
		token, present := auth.BearerToken(tc.header)
		if token != tc.token || present != tc.present {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.header, token, present, tc.token, tc.present)
		}
	}
}

func TestParseOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://chat.example.com", "https://chat.example.com"},
		{"https://chat.example.com/", "https://chat.example.com"},
		{"HTTPS://Chat.Example.COM", "https://chat.example.com"},
		{"https://chat.example.com:443", "https://chat.example.com"},
		{"http://chat.example.com:80/", "http://chat.example.com"},
		{"http://localhost:5173", "http://localhost:5173"},
		{"https://chat.example.com:80", "https://chat.example.com:80"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://[::1]:80", "http://[::1]"},
		{"null", ""},
		{"", ""},
		{"chat.example.com", ""},
		{"ftp://chat.example.com", ""},
		{"https://chat.example.com/app", ""},
		{"https://chat.example.com?x=1", ""},
		{"https://chat.example.com?", ""},
		{"https://chat.example.com#top", ""},
		{"https://user@chat.example.com", ""},
		{"https://", ""},
		{"https://:443", ""},
	}
	for _, tc := range tests {
		got, err := auth.ParseOrigin(tc.in)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("ParseOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestOrigins(t *testing.T) {
	o := auth.NewOrigins([]string{"https://app.example.com/", "http://LOCALHOST:5173", "not an origin"})
	tests := []struct {
		origin, host    string
		listed, allowed bool
	}{
		{"", "chat.example.com", false, true}, // not a browser
		{"https://app.example.com", "chat.example.com", true, true},
		{"HTTPS://APP.example.com:443/", "chat.example.com", true, true},
		{"http://app.example.com", "chat.example.com", false, false}, // the scheme matters
		{"http://localhost:5173", "chat.example.com", true, true},
		{"http://localhost:5174", "chat.example.com", false, false},
		{"https://evil.example.com", "chat.example.com", false, false},
		{"null", "chat.example.com", false, false},
		{"not an origin", "chat.example.com", false, false},
		// The server's own origin, whatever the scheme it is reached by.
		{"https://chat.example.com", "chat.example.com", false, true},
		{"https://Chat.Example.com", "CHAT.example.com:443", false, true},
		{"http://chat.example.com", "chat.example.com:80", false, true},
		{"http://127.0.0.1:34567", "127.0.0.1:34567", false, true},
		{"http://[::1]:8080", "[::1]:8080", false, true},
		{"http://chat.example.com", "chat.example.com:443", false, false},
		{"https://chat.example.com:8443", "chat.example.com", false, false},
		{"https://chat.example.com.evil.example", "chat.example.com", false, false},
		{"https://chat.example.com", "", false, false},
	}
	for _, tc := range tests {
		if got := o.Listed(tc.origin); got != tc.listed {
			t.Errorf("Listed(%q) = %v, want %v", tc.origin, got, tc.listed)
		}
		if got := o.Allowed(tc.origin, tc.host); got != tc.allowed {
			t.Errorf("Allowed(%q, host %q) = %v, want %v", tc.origin, tc.host, got, tc.allowed)
		}
	}
}
