package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// TestTextRules checks API.md's text rules on every text field, on both
// databases: control characters and bidi overrides are refused with 400
// naming the field (Postgres refuses a NUL byte itself, which must not
// surface as a 500), text is stored in NFC, and invisible-only values are
// empty.
func TestTextRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		uid, token := h.user("tess")
		r := h.do("POST", "/api/v1/groups", token, map[string]string{"name": "Text"})
		expect(t, r, http.StatusCreated, "")
		var g chat.Group
		r.decode(t, &g)
		msgs := fmt.Sprintf("/api/v1/groups/%d/messages", g.ID)
		r = h.do("POST", msgs, token, map[string]string{"body": "first"})
		expect(t, r, http.StatusCreated, "")
		var first chat.Message
		r.decode(t, &first)

		for _, tc := range []struct {
			name, method, path string
			body               map[string]string
			field              string
		}{
			{"NUL in body", "POST", msgs, map[string]string{"body": "a\x00b"}, "body"},
			{"escape in body", "POST", msgs, map[string]string{"body": "\x1b[2J"}, "body"},
			{"C1 in body", "POST", msgs, map[string]string{"body": "a\u0085b"}, "body"},
			{"bidi override in body", "POST", msgs, map[string]string{"body": "invoice\u202egnp.exe"}, "body"},
			{"bidi isolate in body", "POST", msgs, map[string]string{"body": "a\u2066b\u2069"}, "body"},
			{"ZWSP-only body", "POST", msgs, map[string]string{"body": "\u200b"}, "body"},
			{"invisible-only body", "POST", msgs, map[string]string{"body": " \u2060\ufeff\u3164 "}, "body"},
			{"NUL in client_id", "POST", msgs, map[string]string{"body": "ok", "client_id": "c\x00"}, "client_id"},
			{"NUL in edit", "PATCH", fmt.Sprintf("/api/v1/messages/%d", first.ID), map[string]string{"body": "x\x00"}, "body"},
			{"NUL in display name", "PATCH", "/api/v1/users/me", map[string]string{"display_name": "T\x00"}, "display_name"},
			{"bidi in display name", "PATCH", "/api/v1/users/me", map[string]string{"display_name": "\u202eadmin"}, "display_name"},
			{"NUL in sign-up display name", "POST", "/api/v1/auth/register",
				map[string]string{"username": "nully", "password": "password-nully", "display_name": "\x00"}, "display_name"},
			{"NUL in group name", "POST", "/api/v1/groups", map[string]string{"name": "G\x00"}, "name"},
			{"invisible-only group name", "POST", "/api/v1/groups", map[string]string{"name": "\u3164\u200b"}, "name"},
			{"NUL in description", "POST", "/api/v1/groups", map[string]string{"name": "G", "description": "d\x00"}, "description"},
			{"NUL in new group name", "PATCH", fmt.Sprintf("/api/v1/groups/%d", g.ID), map[string]string{"name": "\x00"}, "name"},
			{"bidi in new description", "PATCH", fmt.Sprintf("/api/v1/groups/%d", g.ID), map[string]string{"description": "a\u202bb"}, "description"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.do(tc.method, tc.path, token, tc.body)
				expect(t, r, http.StatusBadRequest, "validation_failed")
				if d := r.err(t).Error.Details; d[tc.field] == "" {
					t.Fatalf("details %v do not name %q", d, tc.field)
				}
			})
		}
		for _, tc := range []struct{ name, path, q string }{
			{"NUL in users q", "/api/v1/users", "a\x00"},
			{"NUL in groups q", "/api/v1/groups", "\x00"},
			{"bidi in users q", "/api/v1/users", "\u202e"},
			{"bidi in groups q", "/api/v1/groups", "a\u2067"},
			{"invalid UTF-8 in users q", "/api/v1/users", "a\xff"},
			{"invalid UTF-8 in groups q", "/api/v1/groups", "\xc3"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.do("GET", tc.path+"?q="+url.QueryEscape(tc.q), token, nil)
				expect(t, r, http.StatusBadRequest, "validation_failed")
				if d := r.err(t).Error.Details; d["q"] == "" {
					t.Fatalf("details %v do not name q", d)
				}
			})
		}

		// Nothing refused was stored, and nothing changed.
		r = h.do("GET", msgs, token, nil)
		expect(t, r, http.StatusOK, "")
		var page messagePage
		r.decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].Body != "first" || page.Items[0].EditedAt != nil {
			t.Fatalf("history after refusals %s", r.body)
		}
		r = h.do("GET", fmt.Sprintf("/api/v1/groups/%d", g.ID), token, nil)
		expect(t, r, http.StatusOK, "")
		var same chat.Group
		r.decode(t, &same)
		if *same.Name != "Text" || same.Description != "" || same.LastSeq != 1 {
			t.Fatalf("group after refusals %s", r.body)
		}

		// Text is stored and answered in NFC: a decomposed é comes back
		// precomposed, in the answer and when read again.
		const nfd, nfc = "Caf" + "e\u0301", "Caf\u00e9"
		r = h.do("POST", msgs, token, map[string]string{"body": nfd, "client_id": "id-" + nfd})
		expect(t, r, http.StatusCreated, "")
		var sent chat.Message
		r.decode(t, &sent)
		if sent.Body != nfc || sent.ClientID == nil || *sent.ClientID != "id-"+nfc {
			t.Fatalf("sent %s", r.body)
		}
		// The same id in the other normal form is the same id.
		r = h.do("POST", msgs, token, map[string]string{"body": "again", "client_id": "id-" + nfc})
		expect(t, r, http.StatusOK, "")
		r = h.do("GET", msgs+"?after_seq=1", token, nil)
		expect(t, r, http.StatusOK, "")
		page = messagePage{}
		r.decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].Body != nfc {
			t.Fatalf("history %s", r.body)
		}
		r = h.do("PATCH", fmt.Sprintf("/api/v1/messages/%d", sent.ID), token, map[string]string{"body": "\u2126 " + nfd})
		expect(t, r, http.StatusOK, "")
		r.decode(t, &sent)
		if sent.Body != "\u03a9 "+nfc { // the Ohm sign's NFC is Omega
			t.Fatalf("edited %s", r.body)
		}
		r = h.do("POST", "/api/v1/groups", token, map[string]string{"name": nfd, "description": "in the " + nfd})
		expect(t, r, http.StatusCreated, "")
		var cafe chat.Group
		r.decode(t, &cafe)
		if *cafe.Name != nfc || cafe.Description != "in the "+nfc {
			t.Fatalf("group %s", r.body)
		}
		r = h.do("PATCH", "/api/v1/users/me", token, map[string]string{"display_name": " " + nfd + " "})
		expect(t, r, http.StatusOK, "")
		var me chat.User
		r.decode(t, &me)
		if me.DisplayName != nfc {
			t.Fatalf("me %s", r.body)
		}
		// A search in either form finds the NFC text.
		for _, q := range []string{nfd, nfc} {
			r = h.do("GET", "/api/v1/users?q="+url.QueryEscape(q), token, nil)
			expect(t, r, http.StatusOK, "")
			var users userPage
			r.decode(t, &users)
			if len(users.Items) != 1 || users.Items[0].ID != uid {
				t.Fatalf("users q=%q: %s", q, r.body)
			}
			r = h.do("GET", "/api/v1/groups?q="+url.QueryEscape(q), token, nil)
			expect(t, r, http.StatusOK, "")
			var groups groupPage
			r.decode(t, &groups)
			if len(groups.Items) != 1 || groups.Items[0].ID != cafe.ID {
				t.Fatalf("groups q=%q: %s", q, r.body)
			}
		}
		// A display name of invisible characters only is empty.
		r = h.do("PATCH", "/api/v1/users/me", token, map[string]string{"display_name": "\u200b\u3164"})
		expect(t, r, http.StatusOK, "")
		r.decode(t, &me)
		if me.DisplayName != "" {
			t.Fatalf("invisible display name kept: %s", r.body)
		}
	})
}

// TestPasswordBytesAreKept checks that a password is a secret, not text:
// it is neither normalised nor refused for a NUL byte, and such a byte
// never causes a 500.
func TestPasswordBytesAreKept(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		const withNUL = "pass\x00word\u202e!"
		r := h.do("POST", "/api/v1/auth/register", "", map[string]string{"username": "pat", "password": withNUL})
		expect(t, r, http.StatusCreated, "")
		var res app.AuthResult
		r.decode(t, &res)
		expect(t, h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "pat", "password": withNUL}), http.StatusOK, "")
		// Truncated at the NUL, the password is a different one.
		expect(t, h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "pat", "password": "pass"}),
			http.StatusUnauthorized, "invalid_credentials")
		// Not normalised: the NFD form of an NFC password is a different password.
		const nfc = "caf\u00e9-secret"
		r = h.do("PATCH", "/api/v1/users/me", res.AccessToken, map[string]string{"password": nfc, "current_password": withNUL})
		expect(t, r, http.StatusOK, "")
		expect(t, h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "pat", "password": "cafe\u0301-secret"}),
			http.StatusUnauthorized, "invalid_credentials")
		expect(t, h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "pat", "password": nfc}), http.StatusOK, "")
		// A NUL in the username of a login is just a wrong username.
		expect(t, h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "pat\x00", "password": nfc}),
			http.StatusUnauthorized, "invalid_credentials")
		expect(t, h.do("POST", "/api/v1/auth/register", "", map[string]string{"username": "p\x00t", "password": nfc}),
			http.StatusBadRequest, "validation_failed")
		expect(t, h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": "\x00"}),
			http.StatusUnauthorized, "")
		expect(t, h.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": "\x00"}), http.StatusNoContent, "")
	})
}
