package check

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// directive is one nginx directive, with its block when it has one.
type directive struct {
	name  string
	args  []string
	line  int
	block []*directive // nil for simple directives
}

// parseNginx parses nginx's configuration syntax: words and quoted strings,
// ';' ends a directive, '{' '}' delimit blocks, '#' starts a comment. It is
// the syntax only; nginx itself (`nginx -t`) validates directive meanings.
func parseNginx(src string) ([]*directive, error) {
	toks, err := tokenizeNginx(src)
	if err != nil {
		return nil, err
	}
	pos := 0
	var parse func(depth int) ([]*directive, error)
	parse = func(depth int) ([]*directive, error) {
		var out []*directive
		var cur *directive
		for pos < len(toks) {
			tk := toks[pos]
			pos++
			switch {
			case !tk.quoted && tk.text == ";":
				if cur == nil {
					return nil, fmt.Errorf("line %d: empty directive", tk.line)
				}
				out, cur = append(out, cur), nil
			case !tk.quoted && tk.text == "{":
				if cur == nil {
					return nil, fmt.Errorf("line %d: block without a directive", tk.line)
				}
				block, err := parse(depth + 1)
				if err != nil {
					return nil, err
				}
				cur.block = block
				if cur.block == nil {
					cur.block = []*directive{}
				}
				out, cur = append(out, cur), nil
			case !tk.quoted && tk.text == "}":
				if depth == 0 {
					return nil, fmt.Errorf("line %d: unexpected '}'", tk.line)
				}
				if cur != nil {
					return nil, fmt.Errorf("line %d: directive %q not terminated by ';'", cur.line, cur.name)
				}
				return out, nil
			case cur == nil:
				cur = &directive{name: tk.text, line: tk.line}
			default:
				cur.args = append(cur.args, tk.text)
			}
		}
		if cur != nil {
			return nil, fmt.Errorf("line %d: directive %q not terminated by ';'", cur.line, cur.name)
		}
		if depth > 0 {
			return nil, fmt.Errorf("unexpected end of file: missing '}'")
		}
		return out, nil
	}
	return parse(0)
}

type token struct {
	text   string
	quoted bool
	line   int
}

func tokenizeNginx(src string) ([]token, error) {
	var toks []token
	line := 1
	rs := []rune(src)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == '\n':
			line++
			i++
		case unicode.IsSpace(r):
			i++
		case r == '#':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
		case r == ';' || r == '{' || r == '}':
			toks = append(toks, token{text: string(r), line: line})
			i++
		case r == '"' || r == '\'':
			start := line
			var b strings.Builder
			i++
			for ; i < len(rs) && rs[i] != r; i++ {
				if rs[i] == '\\' && i+1 < len(rs) {
					i++
				}
				if rs[i] == '\n' {
					line++
				}
				b.WriteRune(rs[i])
			}
			if i >= len(rs) {
				return nil, fmt.Errorf("line %d: unterminated string", start)
			}
			i++
			toks = append(toks, token{text: b.String(), quoted: true, line: start})
		default:
			var b strings.Builder
			for i < len(rs) && !unicode.IsSpace(rs[i]) && !strings.ContainsRune(";{}", rs[i]) {
				b.WriteRune(rs[i])
				i++
			}
			toks = append(toks, token{text: b.String(), line: line})
		}
	}
	return toks, nil
}

func find(ds []*directive, name string) []*directive {
	var out []*directive
	for _, d := range ds {
		if d.name == name {
			out = append(out, d)
		}
	}
	return out
}

// location is one location block with the server-level directives it
// inherits (proxy_set_header and friends are inherited only when the
// location sets none of its own).
type location struct {
	exact  bool
	prefix string
	body   []*directive
	server []*directive
}

// value returns the directive's arguments as nginx would apply them in this
// location: the location's own, else the server's.
func (l *location) value(name string) []string {
	if d := find(l.body, name); len(d) > 0 {
		return d[len(d)-1].args
	}
	if d := find(l.server, name); len(d) > 0 {
		return d[len(d)-1].args
	}
	return nil
}

// headers returns the proxy_set_header map in effect in this location.
func (l *location) headers() map[string]string {
	src := find(l.body, "proxy_set_header")
	if len(src) == 0 {
		src = find(l.server, "proxy_set_header")
	}
	h := map[string]string{}
	for _, d := range src {
		if len(d.args) == 2 {
			h[strings.ToLower(d.args[0])] = d.args[1]
		}
	}
	return h
}

// match picks the location nginx would use for a request path: an exact
// match first, else the longest prefix (the config uses no regex locations;
// the test rejects them so that this stays the whole rule).
func match(locs []*location, path string) *location {
	var best *location
	for _, l := range locs {
		if l.exact {
			if l.prefix == path {
				return l
			}
			continue
		}
		if strings.HasPrefix(path, l.prefix) && (best == nil || len(l.prefix) > len(best.prefix)) {
			best = l
		}
	}
	return best
}

func nginxServer(t *testing.T) (top []*directive, locs []*location) {
	t.Helper()
	root := repoRoot(t)
	top, err := parseNginx(string(readFile(t, filepath.Join(root, "deploy", "nginx.conf"))))
	if err != nil {
		t.Fatalf("parse deploy/nginx.conf: %v", err)
	}
	servers := find(top, "server")
	if len(servers) != 1 {
		t.Fatalf("%d server blocks, want 1", len(servers))
	}
	srv := servers[0].block
	for _, d := range find(srv, "location") {
		l := &location{body: d.block, server: srv}
		switch {
		case len(d.args) == 2 && d.args[0] == "=":
			l.exact, l.prefix = true, d.args[1]
		case len(d.args) == 2 && d.args[0] == "^~":
			l.prefix = d.args[1]
		case len(d.args) == 1 && !strings.HasPrefix(d.args[0], "~") && !strings.HasPrefix(d.args[0], "@"):
			l.prefix = d.args[0]
		default:
			t.Fatalf("line %d: location %v: only exact and prefix locations are supported", d.line, d.args)
		}
		locs = append(locs, l)
	}
	return top, locs
}

func TestNginxConfig(t *testing.T) {
	top, locs := nginxServer(t)

	upstreams := find(top, "upstream")
	if len(upstreams) != 1 || len(upstreams[0].args) != 1 {
		t.Fatalf("want exactly one upstream, got %d", len(upstreams))
	}
	upstream := upstreams[0].args[0]
	var servers []string
	for _, d := range find(upstreams[0].block, "server") {
		servers = append(servers, d.args[0])
	}
	if !slices.Equal(servers, []string{"backend:8080"}) {
		t.Errorf("upstream servers = %v, want the compose service backend:8080", servers)
	}

	var mapsUpgrade bool
	for _, m := range find(top, "map") {
		mapsUpgrade = mapsUpgrade || slices.Equal(m.args, []string{"$http_upgrade", "$connection_upgrade"})
	}
	if !mapsUpgrade {
		t.Error("no `map $http_upgrade $connection_upgrade` for WebSocket upgrades")
	}

	servers0 := find(top, "server")[0].block
	var listens8080 bool
	for _, d := range find(servers0, "listen") {
		listens8080 = listens8080 || (len(d.args) > 0 && strings.HasSuffix(d.args[0], "8080"))
	}
	if !listens8080 {
		t.Error("server does not listen on 8080 (the unprivileged image's port)")
	}

	proxied := "http://" + upstream
	tests := []struct {
		path      string
		proxied   bool // forwarded to the backend
		websocket bool // with upgrade headers and a long read timeout
		status    string
		cache     string // Cache-Control for files nginx serves itself
	}{
		{path: "/api/v1/ws", proxied: true, websocket: true},
		{path: "/api/v1/auth/login", proxied: true, websocket: true},
		{path: "/api/v1/groups/7/messages", proxied: true, websocket: true},
		{path: "/api/v1/openapi.json", proxied: true},
		{path: "/healthz", proxied: true},
		{path: "/readyz", proxied: true},
		{path: "/metrics", status: "404"},
		{path: "/metrics/extra", status: "404"},
		{path: "/assets/index-3f2a1b.js", cache: "immutable"},
		{path: "/index.html", cache: "no-cache"},
		{path: "/", cache: "no-cache"},
		{path: "/g/42", cache: "no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			l := match(locs, tt.path)
			if l == nil {
				t.Fatal("no location matches")
			}
			pass := l.value("proxy_pass")
			if got := len(pass) > 0; got != tt.proxied {
				t.Fatalf("proxied = %v (proxy_pass %v), want %v", got, pass, tt.proxied)
			}
			if tt.proxied {
				if pass[0] != proxied {
					t.Errorf("proxy_pass %s, want %s (no URI part, so the path is kept)", pass[0], proxied)
				}
				if v := l.value("proxy_http_version"); !slices.Equal(v, []string{"1.1"}) {
					t.Errorf("proxy_http_version = %v, want 1.1", v)
				}
				h := l.headers()
				if h["host"] != "$http_host" {
					t.Errorf("Host header = %q, want $http_host (keeps the port for the Origin check)", h["host"])
				}
				if h["x-forwarded-for"] != "$remote_addr" {
					t.Errorf("X-Forwarded-For = %q, want $remote_addr (nginx is the edge; appending lets clients forge it)", h["x-forwarded-for"])
				}
				if tt.websocket {
					if h["upgrade"] != "$http_upgrade" || h["connection"] != "$connection_upgrade" {
						t.Errorf("upgrade headers = %q / %q, want $http_upgrade / $connection_upgrade", h["upgrade"], h["connection"])
					}
				}
				if tt.path == "/api/v1/ws" {
					v := l.value("proxy_read_timeout")
					if len(v) != 1 {
						t.Fatalf("WebSocket location needs a proxy_read_timeout, got %v", v)
					}
					if d, err := nginxDuration(v[0]); err != nil || d < 10*time.Minute {
						t.Errorf("proxy_read_timeout %s is too short for idle WebSockets (err %v)", v[0], err)
					}
				}
			}
			if tt.status != "" {
				ret := l.value("return")
				if len(ret) == 0 || ret[0] != tt.status {
					t.Errorf("return = %v, want %s", ret, tt.status)
				}
			}
			if tt.cache != "" {
				var cache string
				for _, d := range find(l.body, "add_header") {
					if len(d.args) >= 2 && strings.EqualFold(d.args[0], "Cache-Control") {
						cache = d.args[1]
					}
				}
				if !strings.Contains(cache, tt.cache) {
					t.Errorf("Cache-Control = %q, want %q", cache, tt.cache)
				}
				if len(find(l.body, "include")) == 0 {
					t.Error("security headers snippet not included (add_header here drops the server's)")
				}
			}
		})
	}

	t.Run("SPA fallback", func(t *testing.T) {
		l := match(locs, "/g/42")
		if tf := l.value("try_files"); len(tf) == 0 || tf[len(tf)-1] != "/index.html" {
			t.Errorf("try_files = %v, want a fallback to /index.html", tf)
		}
		if tf := match(locs, "/assets/missing.js").value("try_files"); len(tf) == 0 || tf[len(tf)-1] != "=404" {
			t.Errorf("missing assets must be 404, not index.html: try_files = %v", tf)
		}
	})
}

// TestNginxIncludes checks that every file nginx.conf includes is copied
// into the image and parses.
func TestNginxIncludes(t *testing.T) {
	root := repoRoot(t)
	_, locs := nginxServer(t)
	stages, err := parseStages(readFile(t, filepath.Join(root, "deploy", "frontend.Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	copied := map[string]string{} // image path → repository path
	final := stages[len(stages)-1]
	for _, cmd := range final.Commands {
		if c, ok := cmdCopy(cmd); ok && len(c) == 2 {
			copied[c[1]] = c[0]
		}
	}
	if copied["/etc/nginx/conf.d/default.conf"] != "deploy/nginx.conf" {
		t.Errorf("frontend image does not install deploy/nginx.conf as conf.d/default.conf: %v", copied)
	}
	includes := map[string]bool{}
	for _, l := range locs {
		for _, d := range find(l.body, "include") {
			includes[d.args[0]] = true
		}
	}
	if len(includes) == 0 {
		t.Fatal("no includes found")
	}
	for inc := range includes {
		src, ok := copied[inc]
		if !ok {
			t.Errorf("include %s is not copied into the image", inc)
			continue
		}
		ds, err := parseNginx(string(readFile(t, filepath.Join(root, src))))
		if err != nil {
			t.Errorf("parse %s: %v", src, err)
		}
		if len(find(ds, "add_header")) == 0 {
			t.Errorf("%s sets no headers", src)
		}
	}
}

func TestParseNginxRejects(t *testing.T) {
	tests := map[string]string{
		"missing semicolon": "server { listen 80 }",
		"unclosed block":    "server { listen 80;",
		"stray brace":       "listen 80; }",
		"unterminated":      `add_header X "abc;`,
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := parseNginx(src); err == nil {
				t.Errorf("parseNginx(%q) succeeded", src)
			}
		})
	}
}

// nginxDuration reads nginx time values such as 60s, 1h, 90 (seconds).
func nginxDuration(v string) (time.Duration, error) {
	if v != "" && strings.IndexFunc(v, unicode.IsLetter) < 0 {
		v += "s"
	}
	return time.ParseDuration(v)
}

// cmdCopy returns [source, destination] of a single-source COPY from the
// build context.
func cmdCopy(cmd instructions.Command) ([]string, bool) {
	c, ok := cmd.(*instructions.CopyCommand)
	if !ok || c.From != "" || len(c.SourcePaths) != 1 {
		return nil, false
	}
	return []string{c.SourcePaths[0], c.DestPath}, true
}

// TestNginxSecurityHeaders: the headers nginx adds to the SPA's files: a
// CSP whose connect-src is the own origin only (no ws:/wss: to any host),
// a Permissions-Policy turning off powerful features, and HSTS sent only
// over HTTPS.
func TestNginxSecurityHeaders(t *testing.T) {
	root := repoRoot(t)
	ds, err := parseNginx(string(readFile(t, filepath.Join(root, "deploy", "nginx-headers.conf"))))
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for _, d := range find(ds, "add_header") {
		if len(d.args) < 2 || d.args[len(d.args)-1] != "always" {
			t.Errorf("add_header %v: want a value and \"always\" (error pages carry them too)", d.args)
			continue
		}
		headers[strings.ToLower(d.args[0])] = d.args[1]
	}
	var connect []string
	for _, part := range strings.Split(headers["content-security-policy"], ";") {
		if f := strings.Fields(part); len(f) > 0 && f[0] == "connect-src" {
			connect = f[1:]
		}
	}
	if !slices.Equal(connect, []string{"'self'"}) {
		t.Errorf("CSP connect-src = %v, want only 'self'", connect)
	}
	for _, feature := range []string{"camera", "microphone", "geolocation", "payment", "usb"} {
		if !strings.Contains(headers["permissions-policy"], feature+"=()") {
			t.Errorf("Permissions-Policy %q does not turn off %s", headers["permissions-policy"], feature)
		}
	}
	if headers["strict-transport-security"] != "$hsts" {
		t.Fatalf("Strict-Transport-Security = %q, want $hsts", headers["strict-transport-security"])
	}

	top, _ := nginxServer(t)
	var hsts *directive
	for _, m := range find(top, "map") {
		if len(m.args) == 2 && m.args[1] == "$hsts" {
			hsts = m
		}
	}
	if hsts == nil {
		t.Fatal("nginx.conf has no map defining $hsts")
	}
	if !strings.Contains(hsts.args[0], "$scheme") || !strings.Contains(hsts.args[0], "$http_x_forwarded_proto") {
		t.Errorf("$hsts is mapped from %q, want the scheme and X-Forwarded-Proto", hsts.args[0])
	}
	values := map[string]string{}
	for _, d := range hsts.block {
		if len(d.args) == 1 {
			values[d.name] = d.args[0]
		}
	}
	if values["default"] != "" {
		t.Errorf("HSTS by default (plain HTTP) = %q, want none", values["default"])
	}
	for key, v := range values {
		if key == "default" {
			continue
		}
		if !strings.Contains(key, "https") || !strings.Contains(v, "max-age=") {
			t.Errorf("map entry %q → %q: HSTS only for https, with a max-age", key, v)
		} else if age, _ := strconv.Atoi(strings.TrimPrefix(strings.TrimRight(strings.Fields(v)[0], ";"), "max-age=")); age < 180*24*3600 {
			t.Errorf("HSTS max-age %d is under six months", age)
		}
	}
}
