package httpapi

import (
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// spaCSP lets the single-page app load its own scripts, styles, images and
// fonts, and talk to its own API and WebSocket and to connectOrigins (the
// configured CORS origins), and nothing else: no ws:/wss: to any host, which
// injected script could use to carry data away. 'self' covers the same
// origin's WebSocket (CSP Level 3 matches ws/wss against http/https), and an
// https origin covers its wss.
func spaCSP(connectOrigins []string) string {
	connect := "'self'"
	for _, o := range connectOrigins {
		connect += " " + o
	}
	return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data: blob:; font-src 'self' data:; connect-src " + connect + "; " +
		"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}

// staticSite serves the built SPA with the fallback to index.html for deep
// links such as /g/42.
type staticSite struct {
	files fs.FS
	csp   string
}

func newStaticSite(dir string, corsOrigins []string) *staticSite {
	// os.DirFS refuses names with "..", so no request escapes dir.
	return &staticSite{files: os.DirFS(dir), csp: spaCSP(corsOrigins)}
}

// serve answers a GET or HEAD outside /api/ and /metrics and reports
// whether it did.
func (s *staticSite) serve(c *gin.Context) bool {
	r := c.Request
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := path.Clean("/" + r.URL.Path)
	// /metrics lives on its own listener (chatd, CHAT_METRICS_ADDR): a
	// scraper pointed here gets a plain 404, not the app's index.html.
	if p == "/api" || strings.HasPrefix(p, "/api/") || p == "/metrics" {
		return false
	}
	name := strings.TrimPrefix(p, "/")
	if name != "" && fs.ValidPath(name) && s.isFile(name) && path.Base(name) != "index.html" {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", s.csp)
		if strings.HasPrefix(name, "assets/") {
			// Vite puts a content hash in these names: they never change.
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=3600")
		}
		http.ServeFileFS(c.Writer, r, s.files, name)
		c.Abort()
		return true
	}
	// A missing hashed asset is a stale build, not a deep link: index.html
	// in its place would be parsed as a script.
	if strings.HasPrefix(name, "assets/") || !s.isFile("index.html") {
		return false
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", s.csp)
	// index.html names the current hashed assets: always revalidate it.
	h.Set("Cache-Control", "no-cache")
	f, err := s.files.Open("index.html")
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false
	}
	rs, ok := f.(interface {
		Read([]byte) (int, error)
		Seek(int64, int) (int64, error)
	})
	if !ok {
		return false
	}
	http.ServeContent(c.Writer, r, "index.html", st.ModTime(), rs)
	c.Abort()
	return true
}

func (s *staticSite) isFile(name string) bool {
	st, err := fs.Stat(s.files, name)
	return err == nil && st.Mode().IsRegular()
}
