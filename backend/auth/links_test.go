package auth_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/auth"
)

func TestLinks(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef-links")
	l := auth.NewLinks(secret, nil)
	now := time.Date(2026, 5, 1, 10, 59, 59, 0, time.UTC)
	const path = "/api/v1/attachments/7/content"
	signed := l.Sign(path, now)
	u, err := url.Parse(signed)
	if err != nil || u.Path != path {
		t.Fatalf("signed = %q", signed)
	}
	exp, sig := u.Query().Get("exp"), u.Query().Get("sig")
	if !l.Valid(path, exp, sig, now) || !l.Valid(path, exp, sig, now.Add(time.Hour)) {
		t.Error("a fresh link is not valid for an hour")
	}
	if l.Valid(path, exp, sig, now.Add(2*time.Hour+time.Second)) {
		t.Error("a link is valid after two hours")
	}
	if l.Sign(path, now) != l.Sign(path, now.Add(-30*time.Minute)) {
		t.Error("links of one attachment within the hour differ (browsers could not cache them)")
	}
	for name, c := range map[string][3]string{
		"other path":   {"/api/v1/attachments/8/content", exp, sig},
		"thumbnail":    {"/api/v1/attachments/7/thumbnail", exp, sig},
		"later exp":    {path, exp + "0", sig},
		"tampered sig": {path, exp, strings.ToUpper(sig[:4]) + sig[4:] + "x"},
		"no sig":       {path, exp, ""},
		"no exp":       {path, "", sig},
		"other secret": {path, exp, sig},
		"not a number": {path, "soon", sig},
	} {
		v := l
		if name == "other secret" {
			v = auth.NewLinks([]byte("another secret entirely, also 32 bytes+"), nil)
		}
		if v.Valid(c[0], c[1], c[2], now) {
			t.Errorf("%s: valid", name)
		}
	}
	// After a rotation the previous secret's links still verify.
	rotated := auth.NewLinks([]byte("the new secret, 32 bytes or more here"), secret)
	if !rotated.Valid(path, exp, sig, now) {
		t.Error("a link signed before the rotation is refused")
	}
}
