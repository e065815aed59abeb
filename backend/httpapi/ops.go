package httpapi

import (
	"context"
	_ "embed"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/chat"
)

// openAPIDoc is the OpenAPI 3.1 document of the API, served as is.
//
//go:embed openapi.json
var openAPIDoc []byte

func serveOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}

func (a *api) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyTimeout bounds each readiness check, so that a hung dependency makes
// the probe fail instead of hang.
const readyTimeout = 2 * time.Second

// readyz runs every check at once and answers 503 naming those that failed.
// The causes are logged, not sent: they may name hosts or users.
func (a *api) readyz(checks map[string]Check) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()

		var (
			mu     sync.Mutex
			wg     sync.WaitGroup
			failed = map[string]string{}
		)
		for name, check := range checks {
			wg.Go(func() {
				if err := check(ctx); err != nil {
					// Probes repeat every few seconds; the outage itself is
					// logged once by the part that saw it begin.
					a.log.DebugContext(ctx, "readiness check failed", "check", name, "err", err)
					mu.Lock()
					failed[name] = "unavailable"
					mu.Unlock()
				}
			})
		}
		wg.Wait()

		if len(failed) > 0 {
			names := make([]string, 0, len(failed))
			for n := range failed {
				names = append(names, n)
			}
			sort.Strings(names)
			msg := "Not ready: " + names[0]
			for _, n := range names[1:] {
				msg += ", " + n
			}
			e := chat.Fail(chat.ErrUnavailable, msg+" unavailable.")
			e.Details = failed
			abortError(c, e)
			return
		}
		ok := make(map[string]string, len(checks))
		for name := range checks {
			ok[name] = "ok"
		}
		c.JSON(http.StatusOK, gin.H{"status": "ok", "checks": ok})
	}
}
