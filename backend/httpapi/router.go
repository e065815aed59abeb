// Package httpapi is the REST transport of the product: a Gin router with the
// routes of API.md, one error→status table, strict JSON decoding, bearer
// authentication, rate limiting of sign-up and login, CORS, security
// headers, the operational endpoints (health, readiness, OpenAPI)
// and the single-page app's static files.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chat"
)

// Limiter is a keyed rate limiter (auth.NewLimiter gives one).
type Limiter interface {
	// Allow takes one token for key; when none is left it returns false and
	// how long until one is.
	Allow(key string, now time.Time) (bool, time.Duration)
}

// Check is one readiness probe; it answers nil when its dependency is up.
type Check func(ctx context.Context) error

// Options configure the router.
type Options struct {
	// Service runs the use cases; every handler calls one of them.
	Service *app.Service
	Log     *slog.Logger
	// Metrics is the registry the HTTP metrics are registered on; chatd
	// serves it on its own listener (CHAT_METRICS_ADDR), never on this
	// router. Nil: a new registry with the Go and process collectors.
	Metrics *prometheus.Registry
	// StaticDir, when set, is served at / with the SPA fallback to index.html.
	StaticDir string
	// CORSOrigins are the cross-origin callers allowed besides the server's
	// own origin, e.g. "http://localhost:5173".
	CORSOrigins []string
	// AuthRate limits sign-up and login attempts per client address (an
	// IPv6 address by its /64) per minute (CHAT_AUTH_RATE), with bursts of
	// as many; 0: no limit. Failed password checks are limited apart, by
	// the Service.
	AuthRate int
	// AuthLimiter, when set, replaces the limiter AuthRate would make
	// (tests use it with their own clock).
	AuthLimiter Limiter
	// WS is the WebSocket endpoint mounted at GET /api/v1/ws; nil: not mounted.
	WS WebSocket
	// Ready are the named readiness checks of GET /readyz ("database", "broker").
	Ready map[string]Check
	// TrustedProxies are the proxy addresses (CIDRs) whose X-Forwarded-For
	// is believed when finding the client address; empty: none, the client
	// is the peer of the connection.
	TrustedProxies []string
	// Clock is the time source of rate limiting; nil: time.Now.
	Clock func() time.Time
}

// api holds what the handlers share. It has no mutable state of its own.
type api struct {
	svc     *app.Service
	log     *slog.Logger
	limiter Limiter
	now     func() time.Time
	metrics *httpMetrics
	// origins are the configured CORS origins: besides the server's own,
	// they may use a cookie session.
	origins auth.Origins
}

// New returns the HTTP handler of the whole server. It panics on a
// programming error: no Service, an invalid trusted proxy (main validates
// them while reading the configuration), or HTTP metrics already registered
// on the registry.
func New(o Options) http.Handler {
	if o.Service == nil {
		panic("httpapi: Options.Service is required")
	}
	a := &api{svc: o.Service, log: o.Log, limiter: o.AuthLimiter, now: o.Clock, origins: auth.NewOrigins(o.CORSOrigins)}
	if a.limiter == nil && o.AuthRate > 0 {
		a.limiter = auth.NewLimiter(o.AuthRate, o.AuthRate)
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	reg := o.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	a.metrics = newHTTPMetrics(reg)

	r := gin.New()
	// Routes match exactly: no redirects that would turn a POST into a GET.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = true
	// The handlers' ctx is the request's: cancelled when the client leaves.
	r.ContextWithFallback = true
	// Without trusted proxies X-Forwarded-For is ignored: anyone could
	// forge it to escape the per-address rate limit.
	var proxies []string
	if len(o.TrustedProxies) > 0 {
		proxies = o.TrustedProxies
	}
	if err := r.SetTrustedProxies(proxies); err != nil {
		panic("httpapi: " + err.Error())
	}

	// observe wraps recovery so that a request that panicked is still logged
	// and counted, as the 500 it became.
	r.Use(a.observe, a.recovery, securityHeaders, cors(o.CORSOrigins))

	r.GET("/healthz", a.healthz)
	r.GET("/readyz", a.readyz(o.Ready))

	v1 := r.Group("/api/v1")
	v1.GET("/openapi.json", serveOpenAPI)
	if o.WS != nil {
		v1.GET("/ws", a.webSocket(o.WS))
	}

	authRoutes := v1.Group("/auth", limitBody(maxAuthBodyBytes))
	authRoutes.POST("/register", a.rateLimit, a.register)
	authRoutes.POST("/login", a.rateLimit, a.login)
	authRoutes.POST("/refresh", a.refresh)
	authRoutes.POST("/logout", a.logout)
	authRoutes.POST("/logout-all", a.authenticate, a.logoutAll)

	p := v1.Group("", a.authenticate)
	p.GET("/users/me", a.me)
	p.PATCH("/users/me", a.updateMe)
	p.GET("/users", a.searchUsers)
	p.GET("/users/:id", byID(a, http.StatusOK, a.svc.User))

	p.GET("/groups", a.searchGroups)
	p.POST("/groups", a.createGroup)
	p.GET("/me/groups", a.myGroups)
	p.POST("/direct", a.direct)
	p.GET("/groups/:id", byID(a, http.StatusOK, a.svc.Group))
	p.PATCH("/groups/:id", a.updateGroup)
	p.DELETE("/groups/:id", byIDNoContent(a, a.svc.DeleteGroup))
	p.POST("/groups/:id/join", byID(a, http.StatusOK, a.svc.Join))
	p.POST("/groups/:id/leave", byIDNoContent(a, a.svc.Leave))
	p.GET("/groups/:id/members", byID(a, http.StatusOK, a.members))
	p.POST("/groups/:id/members", a.addMember)
	p.PATCH("/groups/:id/members/:user_id", a.setRole)
	p.DELETE("/groups/:id/members/:user_id", a.removeMember)
	p.POST("/groups/:id/read", a.markRead)
	p.GET("/groups/:id/reads", byID(a, http.StatusOK, a.readReceipts))
	p.PATCH("/me/groups/:id", a.setMuted)

	p.GET("/groups/:id/messages", a.history)
	p.POST("/groups/:id/messages", a.send)
	p.PATCH("/messages/:id", a.editMessage)
	p.GET("/messages/:id/edits", byID(a, http.StatusOK, a.messageEdits))
	p.GET("/search/messages", a.searchMessages)
	p.DELETE("/messages/:id", byIDNoContent(a, a.svc.DeleteMessage))
	p.POST("/groups/:id/attachments", a.upload)
	// Downloads take a bearer token or a signed link (for <img src>).
	v1.GET("/attachments/:id/content", a.download(app.LinkContent))
	v1.GET("/attachments/:id/thumbnail", a.download(app.LinkThumbnail))
	p.PUT("/messages/:id/reactions/:emoji", a.react(true))
	p.DELETE("/messages/:id/reactions/:emoji", a.react(false))

	var static *staticSite
	if o.StaticDir != "" {
		static = newStaticSite(o.StaticDir, o.CORSOrigins)
	}
	r.NoRoute(func(c *gin.Context) {
		if static != nil && static.serve(c) {
			return
		}
		abortError(c, chat.Fail(chat.ErrNotFound, "No such resource."))
	})
	r.NoMethod(func(c *gin.Context) {
		a.fail(c, &chat.Error{Kind: errMethodNotAllowed, Code: "method_not_allowed", Message: "This method is not allowed here."})
	})
	return r
}

// WebSocket is the WebSocket endpoint (package realtime). Open upgrades the
// request and runs the connection; a request it refuses before the upgrade
// comes back as an error, answered here like every other.
type WebSocket interface {
	Open(w http.ResponseWriter, r *http.Request) error
}

// webSocket mounts the WebSocket endpoint. The server's read and write
// deadlines stay on a connection after it is hijacked, so they are lifted
// here: a WebSocket lives far longer than any REST request.
func (a *api) webSocket(ws WebSocket) gin.HandlerFunc {
	return func(c *gin.Context) {
		rc := http.NewResponseController(c.Writer)
		// Errors mean the writer cannot set deadlines (e.g. in tests); then
		// there are none to lift.
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		// The client's address as found here (trusting only the
		// configured proxies) is what the endpoint limits by.
		if err := ws.Open(c.Writer, c.Request.WithContext(app.WithClient(c.Request.Context(), c.ClientIP()))); err != nil {
			a.fail(c, err)
		}
	}
}
