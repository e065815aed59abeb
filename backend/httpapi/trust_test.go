package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatapp/chat/store/storetest"
)

// TestTokenWithoutIatIs401: a genuine signature over claims without iat is
// an invalid token, answered 401 like any other (it used to be a 500).
func TestTokenWithoutIatIs401(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), nil)
	id, _ := h.user("noiat")
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": strconv.FormatInt(id, 10), "iss": "chat-test", "aud": "chat-test",
		"exp": time.Now().Add(time.Minute).Unix(),
	}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, h.do(http.MethodGet, "/api/v1/users/me", tok, nil), http.StatusUnauthorized, "unauthorized")
}
