// Package httpapi is the REST transport of the product: a Gin router with the
// routes of API.md, one error→status table, strict JSON decoding, bearer
// authentication, rate limiting of sign-up and login, CORS, security
// headers, the operational endpoints (health, readiness, OpenAPI)
// and the single-page app's static files.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chat"
)

// Service is what the handlers need of the use cases; *app.Service is it.
type Service interface {
	Register(ctx context.Context, in app.Registration) (app.AuthResult, error)
	Login(ctx context.Context, username, password string) (app.AuthResult, error)
	Refresh(ctx context.Context, refreshToken string) (app.AuthResult, error)
	Logout(ctx context.Context, refreshToken string) error
	LogoutAll(ctx context.Context, uid int64) error
	Authenticate(ctx context.Context, accessToken string) (int64, error)

	Me(ctx context.Context, uid int64) (chat.User, error)
	UpdateMe(ctx context.Context, uid int64, in app.ProfileChange) (chat.User, error)
	SearchUsers(ctx context.Context, uid int64, p app.Page) ([]chat.User, string, error)
	User(ctx context.Context, uid, id int64) (chat.User, error)

	CreateGroup(ctx context.Context, uid int64, in app.GroupInput) (chat.Group, error)
	SearchGroups(ctx context.Context, uid int64, p app.Page) ([]chat.Group, string, error)
	MyGroups(ctx context.Context, uid int64) ([]chat.MyGroup, error)
	Direct(ctx context.Context, uid, peerID int64) (chat.Group, bool, error)
	Group(ctx context.Context, uid, gid int64) (chat.Group, error)
	UpdateGroup(ctx context.Context, uid, gid int64, p app.GroupPatch) (chat.Group, error)
	DeleteGroup(ctx context.Context, uid, gid int64) error
	Join(ctx context.Context, uid, gid int64) (chat.Group, error)
	Leave(ctx context.Context, uid, gid int64) error
	Members(ctx context.Context, uid, gid int64) ([]chat.Member, error)
	AddMember(ctx context.Context, uid, gid, userID int64) (chat.Member, error)
	SetRole(ctx context.Context, uid, gid, userID int64, role chat.Role) (chat.Member, error)
	RemoveMember(ctx context.Context, uid, gid, userID int64) error
	MarkRead(ctx context.Context, uid, gid, seq int64, conn string) error

	History(ctx context.Context, uid, gid int64, q app.HistoryQuery) ([]chat.Message, bool, error)
	Send(ctx context.Context, uid, gid int64, in app.Outgoing) (chat.Message, bool, error)
	EditMessage(ctx context.Context, uid, mid int64, body string) (chat.Message, error)
	DeleteMessage(ctx context.Context, uid, mid int64) error
}

var _ Service = (*app.Service)(nil)

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
	Service Service
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
	WS http.Handler
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
	svc     Service
	log     *slog.Logger
	limiter Limiter
	now     func() time.Time
	metrics *httpMetrics
	// origins are the configured CORS origins ("scheme://host",
	// lower-case): besides the server's own, they may use a cookie session.
	origins map[string]bool
}

// New returns the HTTP handler of the whole server. It panics on a
// programming error: no Service, an invalid trusted proxy (main validates
// them while reading the configuration), or HTTP metrics already registered
// on the registry.
func New(o Options) http.Handler {
	if o.Service == nil {
		panic("httpapi: Options.Service is required")
	}
	a := &api{svc: o.Service, log: o.Log, limiter: o.AuthLimiter, now: o.Clock, origins: make(map[string]bool)}
	for _, origin := range o.CORSOrigins {
		a.origins[strings.ToLower(strings.TrimRight(origin, "/"))] = true
	}
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
		v1.GET("/ws", wsHandler(o.WS))
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

	p.GET("/groups/:id/messages", a.history)
	p.POST("/groups/:id/messages", a.send)
	p.PATCH("/messages/:id", a.editMessage)
	p.DELETE("/messages/:id", byIDNoContent(a, a.svc.DeleteMessage))

	var static *staticSite
	if o.StaticDir != "" {
		static = newStaticSite(o.StaticDir, o.CORSOrigins)
	}
	r.NoRoute(func(c *gin.Context) {
		if static != nil && static.serve(c) {
			return
		}
		abortJSON(c, http.StatusNotFound, errorPayload{Code: "not_found", Message: "No such resource."})
	})
	r.NoMethod(func(c *gin.Context) {
		a.fail(c, errMethodNotAllowed)
	})
	return r
}

// errMethodNotAllowed is the transport's own kind for a known path called
// with a method it does not serve.
var errMethodNotAllowed = errors.New("method not allowed")

// wsHandler mounts the WebSocket endpoint. The server's read and write
// deadlines stay on a connection after it is hijacked, so they are lifted
// here: a WebSocket lives far longer than any REST request.
func wsHandler(h http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		rc := http.NewResponseController(c.Writer)
		// Errors mean the writer cannot set deadlines (e.g. in tests); then
		// there are none to lift.
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		// The client's address as found here (trusting only the
		// configured proxies) is what the endpoint limits by.
		h.ServeHTTP(c.Writer, c.Request.WithContext(app.WithClient(c.Request.Context(), c.ClientIP())))
	}
}
