package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chat"
)

// httpMetrics are the request metrics (served by chatd's metrics listener).
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests answered, by route template, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// recovery turns a panic into a 500 internal answer without a stack trace
// for the client; the stack goes to the log.
func (a *api) recovery(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		// The standard way to abort a response; net/http handles it quietly.
		if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(v)
		}
		a.log.ErrorContext(c.Request.Context(), "panic while serving request",
			"panic", fmt.Sprint(v), "method", c.Request.Method, "route", c.FullPath(),
			"stack", string(debug.Stack()))
		abortError(c, fmt.Errorf("panic: %v", v))
	}()
	c.Next()
}

// observe gives every request an id, and records it in the access log and
// the metrics once it is answered. It logs no headers, no query and no body:
// they may carry tokens, passwords or search terms.
func (a *api) observe(c *gin.Context) {
	start := time.Now()
	id := c.GetHeader("X-Request-ID")
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Header("X-Request-ID", id)

	c.Next()

	elapsed := time.Since(start)
	status := c.Writer.Status()
	route := c.FullPath()
	if route == "" {
		route = "unmatched" // keeps the label set bounded
	}
	a.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
	a.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())

	// A 503 is a dependency's outage, logged once by whoever saw it
	// begin; its requests are ordinary lines, not one error each.
	level := slog.LevelInfo
	if status >= 500 && status != http.StatusServiceUnavailable {
		level = slog.LevelError
	}
	a.log.LogAttrs(c.Request.Context(), level, "http request",
		slog.String("id", id),
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
		slog.Duration("duration", elapsed),
		slog.String("client", c.ClientIP()),
	)
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// validRequestID accepts a caller's id only if it is short and plain, so
// that it cannot forge log lines.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// API answers are data, never documents: they get the strictest policy. The
// SPA's own policy is set where its files are served.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// permissionsPolicy turns off the powerful browser features the app never
// uses, for its pages and anything framed or injected into them.
const permissionsPolicy = "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), " +
	"fullscreen=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), " +
	"picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()"

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Content-Security-Policy", apiCSP)
	h.Set("Permissions-Policy", permissionsPolicy)
	c.Next()
}

// cors allows the configured origins to call the API from a browser. No
// cookies are used (tokens travel in the Authorization header), so
// credentials are not allowed.
func cors(origins []string) gin.HandlerFunc {
	allowed := auth.NewOrigins(origins)
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		if origin == "" {
			c.Next()
			return
		}
		h := c.Writer.Header()
		h.Add("Vary", "Origin")
		preflight := c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != ""
		if !allowed.Listed(origin) {
			if preflight {
				abortError(c, chat.Fail(chat.ErrForbidden, "This origin is not allowed."))
				return
			}
			// A same-origin or non-browser caller: the browser itself
			// refuses cross-origin reads that carry no allow header.
			c.Next()
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-ID")
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID")
			h.Set("Access-Control-Max-Age", "600")
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}

// userKey is the Gin context key of the authenticated user's id; its type
// is unexported so no other package can collide with or forge it.
type userKey struct{}

// authenticate requires a valid bearer access token.
func (a *api) authenticate(c *gin.Context) {
	token, _ := auth.BearerToken(c.GetHeader("Authorization"))
	if token == "" {
		a.fail(c, chat.Fail(chat.ErrUnauthorized, "A bearer access token is required."))
		return
	}
	uid, err := a.svc.Authenticate(c.Request.Context(), token)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Set(userKey{}, uid)
	c.Next()
}

// uid is the authenticated user; only called behind authenticate.
func uid(c *gin.Context) int64 {
	v, _ := c.Get(userKey{})
	id, _ := v.(int64)
	return id
}

// rateLimit limits sign-up and login attempts per client address.
func (a *api) rateLimit(c *gin.Context) {
	if a.limiter == nil {
		c.Next()
		return
	}
	ok, wait := a.limiter.Allow(auth.ClientKey(c.ClientIP()), a.now())
	if !ok {
		e := chat.Fail(chat.ErrRateLimited, "Too many attempts; try again later.")
		e.RetryAfter = int(math.Ceil(wait.Seconds()))
		a.fail(c, e)
		return
	}
	c.Next()
}
