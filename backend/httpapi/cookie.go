package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// Browser sessions keep the refresh token in a cookie that no script can
// read (HttpOnly), that no other site can make the browser send
// (SameSite=Strict, and the Origin check below), and that only the auth
// routes ever see (Path). API clients keep the JSON form.
const (
	refreshCookie     = "chat_refresh"
	refreshCookiePath = "/api/v1/auth"
	// sessionCookie is the value of "session" that asks for the cookie.
	sessionCookie = "cookie"
)

// sessionKind reads the "session" field of register and login: true for a
// cookie session. Anything but "cookie" or nothing is refused (400).
func (a *api) sessionKind(c *gin.Context, v string) (bool, bool) {
	switch v {
	case "":
		return false, true
	case sessionCookie:
		return true, a.sameOrigin(c)
	}
	a.invalid(c, map[string]string{"session": `must be "cookie" or absent`})
	return false, false
}

// answerAuth answers an AuthResult; for a cookie session the refresh token
// goes into the cookie instead of the body.
func (a *api) answerAuth(c *gin.Context, status int, res app.AuthResult, cookie bool) {
	noStore(c)
	if cookie {
		setRefreshCookie(c, res.RefreshToken, res.RefreshExpires.Sub(a.now()))
		res.RefreshToken = ""
	}
	c.JSON(status, res)
}

// refreshToken reads the refresh token of /auth/refresh and /auth/logout:
// the body's, else the cookie's (cookie is then true), which only an
// allowed origin may use. On failure it answers the request.
func (a *api) refreshToken(c *gin.Context) (token string, cookie, ok bool) {
	var in refreshRequest
	if !a.decodeJSON(c, &in) {
		return "", false, false
	}
	if in.RefreshToken != "" {
		return in.RefreshToken, false, true
	}
	v, err := c.Cookie(refreshCookie)
	if err != nil || v == "" {
		a.invalid(c, map[string]string{"refresh_token": "is required (in the body, or the session cookie)"})
		return "", false, false
	}
	if !a.sameOrigin(c) {
		return "", false, false
	}
	return v, true, true
}

// sameOrigin refuses (403) a cookie request whose Origin is not the
// server's own or a configured one: a browser always sends Origin with a
// POST, so a missing one is no browser of ours either.
func (a *api) sameOrigin(c *gin.Context) bool {
	if origin := c.GetHeader("Origin"); origin != "" && a.origins.Allowed(origin, c.Request.Host) {
		return true
	}
	a.fail(c, chat.Fail(chat.ErrForbidden, "A cookie session is only accepted from the app's own origin."))
	return false
}

func setRefreshCookie(c *gin.Context, token string, ttl time.Duration) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: refreshCookie, Value: token, Path: refreshCookiePath,
		MaxAge: max(1, int(ttl/time.Second)), HttpOnly: true, Secure: overTLS(c), SameSite: http.SameSiteStrictMode,
	})
}

func clearRefreshCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: refreshCookie, Value: "", Path: refreshCookiePath,
		MaxAge: -1, HttpOnly: true, Secure: overTLS(c), SameSite: http.SameSiteStrictMode,
	})
}

// overTLS tells whether the browser reached us over HTTPS: directly, through
// a proxy that says so, or as the page's origin shows. Saying Secure when
// it is not costs only the cookie (the browser drops it), never its secrecy.
func overTLS(c *gin.Context) bool {
	return c.Request.TLS != nil ||
		strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https") ||
		strings.HasPrefix(strings.ToLower(c.GetHeader("Origin")), "https://")
}
