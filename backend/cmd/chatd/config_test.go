package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Chdir(t.TempDir()) // no ./frontend/dist here
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr: ":8080", DataDir: "./data", JWTIssuer: "chat", JWTAudience: "chat",
		AccessTTL: 15 * time.Minute, RefreshTTL: 30 * 24 * time.Hour,
		LogLevel: slog.LevelInfo, LogFormat: "json", AuthRate: 10, WSRate: 20, WSMaxPerUser: 20, WSMaxPendingPerAddr: 50,
		ShutdownGrace:   15 * time.Second,
		MetricsAddr:     "127.0.0.1:9464",
		MaxUpload:       25 << 20,
		PageCacheGroups: 512,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults\n got %+v\nwant %+v", c, want)
	}
}

func TestLoadConfigStaticDirDefault(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.MkdirAll(filepath.Join("frontend", "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A dist folder without index.html is not a built SPA.
	c, err := loadConfig(env(nil))
	if err != nil || c.StaticDir != "" {
		t.Fatalf("without index.html: %q, %v", c.StaticDir, err)
	}
	if err := os.WriteFile(filepath.Join("frontend", "dist", "index.html"), []byte("<!doctype html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = loadConfig(env(nil))
	if err != nil || c.StaticDir != defaultStaticDir {
		t.Fatalf("with index.html: %q, %v", c.StaticDir, err)
	}
}

func TestLoadConfigValues(t *testing.T) {
	static := t.TempDir()
	c, err := loadConfig(env(map[string]string{
		"CHAT_ADDR":                    "127.0.0.1:9000",
		"CHAT_DATA_DIR":                "/var/lib/chat",
		"DATABASE_URL":                 "postgres://chat:pw@db:5432/chat?sslmode=disable",
		"REDIS_URL":                    "redis://cache:6379/0",
		"JWT_SECRET":                   goodSecret,
		"JWT_SECRET_PREVIOUS":          previousSecret,
		"CHAT_METRICS_ADDR":            ":9464",
		"CHAT_STATIC_DIR":              static,
		"CORS_ORIGINS":                 " http://localhost:5173 , HTTPS://Chat.Example.com:443/ ",
		"LOG_LEVEL":                    "DEBUG",
		"LOG_FORMAT":                   "text",
		"CHAT_AUTH_RATE":               "0",
		"CHAT_WS_RATE":                 "5",
		"CHAT_WS_MAX_PER_USER":         "3",
		"CHAT_WS_MAX_PENDING_PER_ADDR": "0",
		"ACCESS_TOKEN_TTL":             "5m",
		"REFRESH_TOKEN_TTL":            "48h",
		"JWT_ISSUER":                   "me",
		"CHAT_TRUSTED_PROXIES":         "10.0.0.0/8, 192.0.2.1",
		"CHAT_PPROF_ADDR":              "127.0.0.1:6060",
		"CHAT_MAX_UPLOAD":              "10MB",
		"CHAT_PAGE_CACHE_GROUPS":       "0",
		"CHAT_BLOB_URL":                "s3://files?endpoint=http://minio:9000&region=us-east-1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.DataDir != "/var/lib/chat" || c.DatabaseURL == "" || c.RedisURL == "" ||
		string(c.JWTSecret) != goodSecret || string(c.JWTSecretPrevious) != previousSecret || c.MetricsAddr != ":9464" || c.StaticDir != static || c.LogLevel != slog.LevelDebug ||
		c.LogFormat != "text" || c.AuthRate != 0 || c.WSRate != 5 || c.WSMaxPerUser != 3 || c.WSMaxPendingPerAddr != 0 || c.AccessTTL != 5*time.Minute ||
		c.RefreshTTL != 48*time.Hour || c.JWTIssuer != "me" || c.PprofAddr != "127.0.0.1:6060" ||
		c.MaxUpload != 10_000_000 || c.PageCacheGroups != 0 || c.BlobURL != "s3://files?endpoint=http://minio:9000&region=us-east-1" ||
		!reflect.DeepEqual(c.CORSOrigins, []string{"http://localhost:5173", "https://chat.example.com"}) ||
		!reflect.DeepEqual(c.TrustedProxies, []string{"10.0.0.0/8", "192.0.2.1"}) {
		t.Fatalf("config %+v", c)
	}
}

func TestLoadConfigRejects(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		name, key, value string
		secretFree       bool // the message must not repeat the value
	}{
		{"short secret", "JWT_SECRET", "too-short", true},
		{"placeholder secret", "JWT_SECRET", "change-me-to-at-least-32-random-bytes-0000000000", true},
		{"placeholder inside a secret", "JWT_SECRET", "Xq9#Lw2$Pz7!change-me!Rt5%Vb8&Nm3*Kd6@", true},
		{"low-entropy secret", "JWT_SECRET", strings.Repeat("s", 40), true},
		{"repetitive secret", "JWT_SECRET", strings.Repeat("abc1", 12), true},
		{"weak previous secret", "JWT_SECRET_PREVIOUS", strings.Repeat("s", 40), true},
		{"metrics without port", "CHAT_METRICS_ADDR", "127.0.0.1", false},
		{"metrics port out of range", "CHAT_METRICS_ADDR", ":99999", false},
		{"address without port", "CHAT_ADDR", "localhost", false},
		{"port out of range", "CHAT_ADDR", ":70000", false},
		{"mysql url", "DATABASE_URL", "mysql://root:hunter2@db/chat", true},
		{"no scheme", "DATABASE_URL", "db:5432", true},
		{"http redis", "REDIS_URL", "http://cache:6379", true},
		{"unknown redis option", "REDIS_URL", "redis://:hunter2@cache:6379?addr=b:6379&colour=blue", true},
		{"missing static dir", "CHAT_STATIC_DIR", "/no/such/dir", false},
		{"origin with path", "CORS_ORIGINS", "https://a.example/app", false},
		{"origin without scheme", "CORS_ORIGINS", "a.example", false},
		{"log level", "LOG_LEVEL", "loud", false},
		{"log format", "LOG_FORMAT", "xml", false},
		{"negative auth rate", "CHAT_AUTH_RATE", "-1", false},
		{"words as rate", "CHAT_WS_RATE", "fast", false},
		{"negative socket cap", "CHAT_WS_MAX_PER_USER", "-1", false},
		{"words as socket cap", "CHAT_WS_MAX_PENDING_PER_ADDR", "many", false},
		{"bad duration", "ACCESS_TOKEN_TTL", "15", false},
		{"zero duration", "REFRESH_TOKEN_TTL", "0s", false},
		{"refresh shorter than access", "REFRESH_TOKEN_TTL", "1m", false},
		{"bad proxy", "CHAT_TRUSTED_PROXIES", "proxy.local", false},
		{"pprof on every interface", "CHAT_PPROF_ADDR", ":6060", false},
		{"pprof on a public address", "CHAT_PPROF_ADDR", "192.0.2.1:6060", false},
		{"pprof without port", "CHAT_PPROF_ADDR", "127.0.0.1", false},
		{"pprof by host name", "CHAT_PPROF_ADDR", "example.com:6060", false},
		{"upload size in words", "CHAT_MAX_UPLOAD", "big", false},
		{"unknown size unit", "CHAT_MAX_UPLOAD", "25 parsecs", false},
		{"zero upload size", "CHAT_MAX_UPLOAD", "0", false},
		{"huge upload size", "CHAT_MAX_UPLOAD", "2048GiB", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(env(map[string]string{tc.key: tc.value}))
			if err == nil {
				t.Fatalf("%s=%q accepted", tc.key, tc.value)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("error %q does not name %s", err, tc.key)
			}
			if tc.secretFree && strings.Contains(err.Error(), tc.value) {
				t.Errorf("error %q repeats the secret value", err)
			}
		})
	}

	// Every bad value is reported at once.
	_, err := loadConfig(env(map[string]string{"LOG_LEVEL": "loud", "CHAT_AUTH_RATE": "x"}))
	if err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") || !strings.Contains(err.Error(), "CHAT_AUTH_RATE") {
		t.Fatalf("joined error %v", err)
	}
}

// Secrets the tests configure: random-looking, over 128 bits by the
// estimate of auth.CheckSecret.
const (
	goodSecret     = "mF4q9Zt2Lw7Xc1Rb8Nv5Hj3Pk6Sd0Ga9Ue2Yi7To4Qa"
	previousSecret = "Vx3Nb8Qm1Kz6Wr9Tc2Lp5Hf7Js0Dg4Ye8Ua3Oi6Pq1"
)

// TestLoadConfigSecrets: a previous secret needs a current one, and the
// errors name the variable without repeating the value.
func TestLoadConfigSecrets(t *testing.T) {
	t.Chdir(t.TempDir())
	_, err := loadConfig(env(map[string]string{"JWT_SECRET_PREVIOUS": previousSecret}))
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET_PREVIOUS") || strings.Contains(err.Error(), previousSecret) {
		t.Fatalf("previous without current: %v", err)
	}
	c, err := loadConfig(env(map[string]string{"JWT_SECRET": goodSecret}))
	if err != nil || string(c.JWTSecret) != goodSecret || c.JWTSecretPrevious != nil {
		t.Fatalf("good secret: %+v, %v", c, err)
	}
}

// TestLoadConfigMetricsAddr: /metrics has its own listener, loopback by
// default, switched off by an empty value or "off".
func TestLoadConfigMetricsAddr(t *testing.T) {
	t.Chdir(t.TempDir())
	for value, want := range map[string]string{"": "", " off ": "", "OFF": "", "0.0.0.0:9464": "0.0.0.0:9464", "[::1]:0": "[::1]:0"} {
		c, err := loadConfig(env(map[string]string{"CHAT_METRICS_ADDR": value}))
		if err != nil || c.MetricsAddr != want {
			t.Errorf("CHAT_METRICS_ADDR=%q: %q, %v; want %q", value, c.MetricsAddr, err, want)
		}
	}
}

func TestLoadConfigPprofLoopback(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, addr := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:0", "127.0.0.2:7070"} {
		c, err := loadConfig(env(map[string]string{"CHAT_PPROF_ADDR": addr}))
		if err != nil || c.PprofAddr != addr {
			t.Errorf("CHAT_PPROF_ADDR=%q: %q, %v", addr, c.PprofAddr, err)
		}
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jwt-secret")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	first, err := loadOrCreateSecret(path, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < 32 {
		t.Fatalf("secret of %d bytes", len(first))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Fatalf("secret file mode %o", perm)
	}
	if !strings.Contains(logs.String(), "generated a new JWT secret") || strings.Contains(logs.String(), string(first)) {
		t.Fatalf("log %q", logs.String())
	}
	second, err := loadOrCreateSecret(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("second start read %q, %v", second, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}

	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateSecret(path, log); err == nil {
		t.Fatal("a short stored secret was accepted")
	}
}

// TestRunServesAndShutsDown starts the whole server on SQLite, checks that it
// serves, and that cancelling its context stops it. How fast it starts is
// measured by make bench (BENCHMARKS.md, start-up), not here: the wait below
// only bounds a hang (eight migrations under -race on a loaded machine took
// over a second).
func TestRunServesAndShutsDown(t *testing.T) {
	t.Chdir(t.TempDir())
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, env(map[string]string{
			"CHAT_ADDR": "127.0.0.1:0", "CHAT_DATA_DIR": "data", "LOG_LEVEL": "debug", "CHAT_PPROF_ADDR": "127.0.0.1:0",
			"CHAT_METRICS_ADDR": "127.0.0.1:0",
		}), logs)
	}()

	addrs, ok := logs.addrs(30*time.Second, "", "pprof", "metrics")
	if !ok {
		t.Fatalf("not listening after 30 s; log:\n%s", logs.String())
	}
	addr, pprofAddr, metricsAddr := addrs[""], addrs["pprof"], addrs["metrics"]
	// One connection per request, closed after it: a connection the server
	// has accepted but not read from yet delays Shutdown by up to 5 s.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, tc := range []struct {
		url  string
		want int
	}{
		{"http://" + addr + "/healthz", http.StatusOK},
		{"http://" + addr + "/readyz", http.StatusOK},
		{"http://" + pprofAddr + "/debug/pprof/cmdline", http.StatusOK},
		// The profiles are on their own listener only, never on the API's.
		{"http://" + addr + "/debug/pprof/cmdline", http.StatusNotFound},
		// So are the metrics.
		{"http://" + metricsAddr + "/metrics", http.StatusOK},
		{"http://" + addr + "/metrics", http.StatusNotFound},
	} {
		resp, err := client.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%s: %d, want %d", tc.url, resp.StatusCode, tc.want)
		}
	}
	if st, err := os.Stat(filepath.Join("data", "jwt-secret")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("jwt-secret: %v %v", st, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("server did not stop; log:\n%s", logs.String())
	}
	for _, a := range []string{addr, pprofAddr, metricsAddr} {
		if resp, err := client.Get("http://" + a + "/healthz"); err == nil {
			resp.Body.Close()
			t.Fatalf("%s still serving after shutdown", a)
		}
	}
	if out := logs.String(); strings.Contains(out, "access_token") || !strings.Contains(out, `"msg":"stopped"`) {
		t.Fatalf("log:\n%s", out)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	err := run(context.Background(), env(map[string]string{"JWT_SECRET": "short"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("run with a short secret: %v", err)
	}
	// A blob store URL that cannot work stops the server with a sentence.
	err = run(context.Background(), env(map[string]string{
		"CHAT_DATA_DIR": t.TempDir(), "CHAT_ADDR": "127.0.0.1:0", "CHAT_METRICS_ADDR": "off",
		"CHAT_BLOB_URL": "ftp://files.example.com/chat",
	}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "CHAT_BLOB_URL") || !strings.Contains(err.Error(), "scheme") {
		t.Fatalf("run with a bad CHAT_BLOB_URL: %v", err)
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{"25MiB": 25 << 20, "10MB": 10_000_000, "1048576": 1 << 20, "512 KiB": 512 << 10, "1GiB": 1 << 30, "7b": 7} {
		c, err := loadConfig(env(map[string]string{"CHAT_MAX_UPLOAD": in}))
		if err != nil || c.MaxUpload != want {
			t.Errorf("CHAT_MAX_UPLOAD=%s: %d, %v; want %d", in, c.MaxUpload, err, want)
		}
	}
}
