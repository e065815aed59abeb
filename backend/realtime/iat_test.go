package realtime

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// TestTokenWithoutIatCloses4401: a correctly signed token that lacks iat
// is refused like any invalid token, in the header and in the auth frame
// (it used to reach the sessions_since check without an issue time).
func TestTokenWithoutIatCloses4401(t *testing.T) {
	f := newFixture(t, nil)
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": strconv.FormatInt(f.alice.ID, 10), "iss": "chat-test", "aud": "chat-test",
		"exp": now.Add(time.Minute).Unix(), "jti": "no-iat",
	}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	for name, opt := range map[string]dialOpt{
		"header":     {header: http.Header{"Authorization": {"Bearer " + tok}}},
		"auth frame": {authMsg: map[string]any{"type": "auth", "token": tok}},
	} {
		t.Run(name, func(t *testing.T) {
			c, _, err := dial(t, f.inst.url, opt)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if code := c.closed(t); code != websocket.StatusCode(4401) {
				t.Fatalf("close code %d, want 4401", code)
			}
		})
	}
}
