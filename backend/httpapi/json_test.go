package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chatapp/chat/app"
)

func TestStrictJSON(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		_, token := h.user("grace")

		big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
		for _, tc := range []struct {
			name        string
			contentType string
			body        string
			status      int
			code        string
			detail      string // a field that must be named in details
		}{
			{"valid", "application/json", `{"name":"ok"}`, http.StatusCreated, "", ""},
			{"charset parameter", "application/json; charset=utf-8", `{"name":"ok"}`, http.StatusCreated, "", ""},
			{"trailing whitespace", "application/json", "{\"name\":\"ok\"}\n\t ", http.StatusCreated, "", ""},
			{"text/plain", "text/plain", `{"name":"ok"}`, http.StatusUnsupportedMediaType, "unsupported_media_type", ""},
			{"form", "application/x-www-form-urlencoded", `name=ok`, http.StatusUnsupportedMediaType, "unsupported_media_type", ""},
			{"no content type", "", `{"name":"ok"}`, http.StatusUnsupportedMediaType, "unsupported_media_type", ""},
			{"malformed", "application/json", `{"name":`, http.StatusBadRequest, "invalid_json", ""},
			{"not json", "application/json", `hello`, http.StatusBadRequest, "invalid_json", ""},
			{"empty", "application/json", ``, http.StatusBadRequest, "invalid_json", ""},
			{"null", "application/json", `null`, http.StatusBadRequest, "invalid_json", ""},
			{"array", "application/json", `[{"name":"ok"}]`, http.StatusBadRequest, "invalid_json", ""},
			{"trailing object", "application/json", `{"name":"ok"} {"name":"again"}`, http.StatusBadRequest, "invalid_json", ""},
			{"trailing garbage", "application/json", `{"name":"ok"}x`, http.StatusBadRequest, "invalid_json", ""},
			{"unknown field", "application/json", `{"name":"ok","owner_id":1}`, http.StatusBadRequest, "validation_failed", "owner_id"},
			{"field in other case", "application/json", `{"Name":"ok"}`, http.StatusBadRequest, "validation_failed", "Name"},
			{"wrong type", "application/json", `{"name":42}`, http.StatusBadRequest, "validation_failed", "name"},
			{"wrong type of enum", "application/json", `{"name":"ok","visibility":true}`, http.StatusBadRequest, "validation_failed", "visibility"},
			{"invalid value", "application/json", `{"name":"ok","visibility":"secret"}`, http.StatusBadRequest, "validation_failed", "visibility"},
			{"over 1 MiB", "application/json", big, http.StatusRequestEntityTooLarge, "payload_too_large", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.send(req{method: "POST", path: "/api/v1/groups", token: token, body: tc.body,
					header: map[string]string{"Content-Type": tc.contentType}})
				expect(t, r, tc.status, tc.code)
				if tc.detail != "" {
					if d := r.err(t).Error.Details; d[tc.detail] == "" {
						t.Errorf("details %v do not name %q", d, tc.detail)
					}
				}
			})
		}

		// Typed fields of other bodies.
		for _, tc := range []struct {
			name, path, body, detail string
		}{
			{"user_id as string", "/api/v1/direct", `{"user_id":"1"}`, "user_id"},
			{"user_id fraction", "/api/v1/direct", `{"user_id":1.5}`, "user_id"},
			{"user_id missing", "/api/v1/direct", `{}`, "user_id"},
			{"user_id zero", "/api/v1/direct", `{"user_id":0}`, "user_id"},
			{"password as number", "/api/v1/auth/login", `{"username":"grace","password":12345678}`, "password"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.send(req{method: "POST", path: tc.path, token: token, body: tc.body})
				expect(t, r, http.StatusBadRequest, "validation_failed")
				if d := r.err(t).Error.Details; d[tc.detail] == "" {
					t.Errorf("details %v do not name %q", d, tc.detail)
				}
			})
		}
	})
}
