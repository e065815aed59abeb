package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chatapp/chat/store/storetest"
)

// TestErrorDetailsAreCapped checks that a body of many unknown fields gets
// a short answer: details name at most 20 of them, not all 60 000 (which
// made a 1.5 MB answer to a 0.8 MB request).
func TestErrorDetailsAreCapped(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), nil)
	_, token := h.user("cap")
	for _, n := range []int{21, 60000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var b strings.Builder
			b.WriteString(`{"name":"ok"`)
			for i := range n {
				fmt.Fprintf(&b, `,"k%d":0`, i)
			}
			b.WriteString(`}`)
			r := h.do("POST", "/api/v1/groups", token, b.String())
			expect(t, r, http.StatusBadRequest, "validation_failed")
			e := r.err(t).Error
			if len(e.Details) != 20 {
				t.Fatalf("%d details, want 20", len(e.Details))
			}
			for k, v := range e.Details {
				if !strings.HasPrefix(k, "k") || v != "unknown field" {
					t.Fatalf("detail %q: %q", k, v)
				}
			}
			if !strings.Contains(e.Message, fmt.Sprint(n)) {
				t.Fatalf("message %q does not say how many fields failed", e.Message)
			}
			if len(r.body) > 2048 {
				t.Fatalf("answer of %d bytes", len(r.body))
			}
		})
	}
	// Up to the cap every field is named.
	r := h.do("POST", "/api/v1/groups", token, `{"name":"","a":1,"b":2}`)
	expect(t, r, http.StatusBadRequest, "validation_failed")
	if d := r.err(t).Error.Details; len(d) != 2 || d["a"] == "" || d["b"] == "" {
		t.Fatalf("details %v", d)
	}
}
