package check

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// testJWTSecret is what an operator puts into .env, where .env.example
// leaves JWT_SECRET empty.
const testJWTSecret = "q3Vb8+Jr2kXo0Yt7Wm/5Lc9Nf1Hs6Pd4Ga8Ze2Ui0Rb3Tx7Ql5Mv9Ky1Oj6Sw4En8"

// loadCompose loads docker-compose.yml the way `docker compose` does, with
// the committed .env.example standing in for the git-ignored .env and a
// JWT_SECRET set in the shell (which wins over the file, as in compose).
// Nothing else from the process environment leaks in, so the result is the
// same on every machine.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	root := repoRoot(t)
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv([]string{"JWT_SECRET=" + testJWTSecret}),
		cli.WithEnvFiles(filepath.Join(root, ".env.example")),
		cli.WithDotEnv,
		cli.WithConsistency(true),
	)
	if err != nil {
		t.Fatalf("compose options: %v", err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return project
}

func TestComposeProject(t *testing.T) {
	project := loadCompose(t)
	root := repoRoot(t)

	if project.Name != "chat" {
		t.Errorf("project name = %q, want chat", project.Name)
	}
	wantServices := []string{"backend", "frontend", "postgres", "redis"}
	if got := project.ServiceNames(); !sameSet(got, wantServices) {
		t.Fatalf("services = %v, want %v", got, wantServices)
	}

	type want struct {
		image      string // prefix of the image reference
		dockerfile string // "" when the service uses a stock image
		replicas   int
		published  []string // host ports
		volumes    []string // named volume → target, "name:/target"
		healthTest string   // substring of the healthcheck command
		dependsOn  map[string]string
		env        []string // variables that must be set (non-empty)
		networks   []string
	}
	tests := map[string]want{
		"postgres": {
			image:      "postgres:16",
			replicas:   1,
			volumes:    []string{"postgres-data:/var/lib/postgresql/data"},
			healthTest: "pg_isready",
			env:        []string{"POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB"},
			networks:   []string{"internal"},
		},
		"redis": {
			image:      "redis:7",
			replicas:   1,
			volumes:    []string{"redis-data:/data"},
			healthTest: "redis-cli ping",
			networks:   []string{"internal"},
		},
		"backend": {
			image:      "ghcr.io/chatapp/chat-backend:",
			dockerfile: "deploy/backend.Dockerfile",
			replicas:   2,
			healthTest: "/usr/local/bin/healthcheck",
			dependsOn:  map[string]string{"postgres": types.ServiceConditionHealthy, "redis": types.ServiceConditionHealthy},
			env:        []string{"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "CHAT_TRUSTED_PROXIES"},
			networks:   []string{"internal"},
		},
		"frontend": {
			image:      "ghcr.io/chatapp/chat-frontend:",
			dockerfile: "deploy/frontend.Dockerfile",
			replicas:   1,
			published:  []string{"8080"},
			healthTest: "nginx-health",
			dependsOn:  map[string]string{"backend": types.ServiceConditionHealthy},
			networks:   []string{"edge", "internal"},
		},
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			svc, err := project.GetService(name)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(svc.Image, w.image) {
				t.Errorf("image = %q, want prefix %q", svc.Image, w.image)
			}
			if w.dockerfile == "" {
				if svc.Build != nil {
					t.Errorf("unexpected build section: %+v", svc.Build)
				}
			} else {
				if svc.Build == nil {
					t.Fatalf("no build section, want %s", w.dockerfile)
				}
				if svc.Build.Context != root {
					t.Errorf("build context = %q, want the repository root %q", svc.Build.Context, root)
				}
				if svc.Build.Dockerfile != w.dockerfile {
					t.Errorf("dockerfile = %q, want %q", svc.Build.Dockerfile, w.dockerfile)
				}
			}
			if got := svc.GetScale(); got != w.replicas {
				t.Errorf("replicas = %d, want %d", got, w.replicas)
			}
			if w.replicas > 1 {
				if svc.ContainerName != "" {
					t.Errorf("container_name %q prevents %d replicas", svc.ContainerName, w.replicas)
				}
				if len(svc.Ports) > 0 {
					t.Errorf("a replicated service must not publish host ports: %+v", svc.Ports)
				}
			}

			var published []string
			for _, p := range svc.Ports {
				published = append(published, p.Published)
				if p.Target != 8080 {
					t.Errorf("port target = %d, want 8080", p.Target)
				}
			}
			if !sameSet(published, w.published) {
				t.Errorf("published ports = %v, want %v", published, w.published)
			}

			var volumes []string
			for _, v := range svc.Volumes {
				if v.Type != types.VolumeTypeVolume {
					t.Errorf("volume %s is a %s, want a named volume", v.Target, v.Type)
				}
				if _, ok := project.Volumes[v.Source]; !ok {
					t.Errorf("volume %q is not declared at top level", v.Source)
				}
				volumes = append(volumes, v.Source+":"+v.Target)
			}
			if !sameSet(volumes, w.volumes) {
				t.Errorf("volumes = %v, want %v", volumes, w.volumes)
			}

			hc := svc.HealthCheck
			if hc == nil || hc.Disable || len(hc.Test) < 2 {
				t.Fatalf("healthcheck missing or disabled: %+v", hc)
			}
			if kind := hc.Test[0]; kind != "CMD" && kind != "CMD-SHELL" {
				t.Errorf("healthcheck test kind = %q", kind)
			}
			if cmd := strings.Join(hc.Test[1:], " "); !strings.Contains(cmd, w.healthTest) {
				t.Errorf("healthcheck %q does not run %q", cmd, w.healthTest)
			}
			if hc.Interval == nil || hc.Timeout == nil || hc.Retries == nil {
				t.Errorf("healthcheck needs interval, timeout and retries: %+v", hc)
			}

			gotDeps := map[string]string{}
			for dep, cfg := range svc.DependsOn {
				gotDeps[dep] = cfg.Condition
			}
			if len(gotDeps) != len(w.dependsOn) {
				t.Errorf("depends_on = %v, want %v", gotDeps, w.dependsOn)
			}
			for dep, cond := range w.dependsOn {
				if gotDeps[dep] != cond {
					t.Errorf("depends_on %s condition = %q, want %q", dep, gotDeps[dep], cond)
				}
			}

			for _, key := range w.env {
				v, ok := svc.Environment[key]
				if !ok || v == nil || *v == "" {
					t.Errorf("environment %s is not set", key)
				}
			}

			var nets []string
			for n := range svc.Networks {
				nets = append(nets, n)
			}
			if !sameSet(nets, w.networks) {
				t.Errorf("networks = %v, want %v", nets, w.networks)
			}
		})
	}

	t.Run("internal network", func(t *testing.T) {
		if !project.Networks["internal"].Internal {
			t.Error("the network of the databases and backends must be internal")
		}
	})

	t.Run("backend wiring", func(t *testing.T) {
		svc, err := project.GetService("backend")
		if err != nil {
			t.Fatal(err)
		}
		env := func(k string) string {
			if v := svc.Environment[k]; v != nil {
				return *v
			}
			return ""
		}
		if u := env("DATABASE_URL"); !strings.HasPrefix(u, "postgres://chat:") || !strings.Contains(u, "@postgres:5432/chat") {
			t.Errorf("DATABASE_URL = %q does not point at the postgres service", u)
		}
		if u := env("REDIS_URL"); !strings.HasPrefix(u, "redis://redis:6379") {
			t.Errorf("REDIS_URL = %q does not point at the redis service", u)
		}
		if s := env("JWT_SECRET"); s != testJWTSecret {
			t.Errorf("JWT_SECRET = %q, want the one from the environment", s)
		}
		if u := env("CHAT_METRICS_ADDR"); u != ":9464" {
			t.Errorf("CHAT_METRICS_ADDR = %q, want :9464 (for the internal network)", u)
		}
		if !slices.Contains(svc.Expose, "9464") {
			t.Errorf("expose = %v, want the metrics port 9464 on the internal network", svc.Expose)
		}
	})
}

// TestComposeHardening: every container has a read-only root filesystem
// (tmpfs for what it writes), drops every capability (adding back only the
// few its entrypoint needs), cannot gain privileges, and runs an image
// pinned by digest (or built here).
func TestComposeHardening(t *testing.T) {
	project := loadCompose(t)
	capsAllowed := map[string][]string{
		// The postgres entrypoint owns the data folder as root, then
		// drops to the postgres user.
		"postgres": {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"},
	}
	wantTmpfs := map[string][]string{
		"postgres": {"/var/run/postgresql", "/tmp"},
		"redis":    {"/tmp"},
		"backend":  {"/data"},
		"frontend": {"/tmp"},
	}
	for _, name := range project.ServiceNames() {
		t.Run(name, func(t *testing.T) {
			svc, err := project.GetService(name)
			if err != nil {
				t.Fatal(err)
			}
			if !svc.ReadOnly {
				t.Error("root filesystem is writable; want read_only: true")
			}
			if !slices.Equal(svc.CapDrop, []string{"ALL"}) {
				t.Errorf("cap_drop = %v, want [ALL]", svc.CapDrop)
			}
			for _, c := range svc.CapAdd {
				if !slices.Contains(capsAllowed[name], c) {
					t.Errorf("cap_add %s is not needed", c)
				}
			}
			if !slices.Contains(svc.SecurityOpt, "no-new-privileges:true") {
				t.Errorf("security_opt = %v, want no-new-privileges:true", svc.SecurityOpt)
			}
			if !sameSet(svc.Tmpfs, wantTmpfs[name]) {
				t.Errorf("tmpfs = %v, want %v", svc.Tmpfs, wantTmpfs[name])
			}
			if svc.Build == nil && !pinned(svc.Image) {
				t.Errorf("image %q is not pinned by digest (name:tag@sha256:…)", svc.Image)
			}
			for _, p := range svc.Ports {
				if p.Target == 9464 {
					t.Errorf("the metrics port is published: %+v", p)
				}
			}
		})
	}
}

// pinned reports whether an image reference names a tag and a digest.
func pinned(ref string) bool {
	name, digest, ok := strings.Cut(ref, "@sha256:")
	if !ok || len(digest) != 64 || strings.Trim(digest, "0123456789abcdef") != "" {
		return false
	}
	return strings.Contains(name[strings.LastIndex(name, "/")+1:], ":")
}

func TestPinned(t *testing.T) {
	for ref, want := range map[string]bool{
		"redis:7-alpine@sha256:" + strings.Repeat("ab", 32):                  true,
		"gcr.io/distroless/static:nonroot@sha256:" + strings.Repeat("0", 64): true,
		"redis:7-alpine": false,
		"redis@sha256:" + strings.Repeat("ab", 32):                false, // no tag: which version is it?
		"redis:7@sha256:" + strings.Repeat("ab", 31):              false,
		"redis:7@sha256:" + strings.Repeat("AB", 32):              false,
		"localhost:5000/redis@sha256:" + strings.Repeat("ab", 32): false,
	} {
		if got := pinned(ref); got != want {
			t.Errorf("pinned(%q) = %v, want %v", ref, got, want)
		}
	}
}

// TestComposeNeedsSecrets makes sure compose refuses to start without the
// secrets instead of silently running with empty ones: with no .env at all,
// and with .env.example copied as it is (JWT_SECRET left empty).
func TestComposeNeedsSecrets(t *testing.T) {
	root := repoRoot(t)
	for name, tc := range map[string]struct {
		envFiles []string
		names    []string // the error names one of these
	}{
		"no .env":            {names: []string{"POSTGRES_PASSWORD", "JWT_SECRET"}},
		".env.example as is": {envFiles: []string{filepath.Join(root, ".env.example")}, names: []string{"JWT_SECRET"}},
	} {
		t.Run(name, func(t *testing.T) {
			options := []cli.ProjectOptionsFn{cli.WithWorkingDirectory(root), cli.WithEnv(nil)}
			if tc.envFiles != nil {
				// Only the named files: a developer's own .env stays out.
				options = append(options, cli.WithEnvFiles(tc.envFiles...), cli.WithDotEnv)
			}
			opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")}, options...)
			if err != nil {
				t.Fatalf("compose options: %v", err)
			}
			_, err = opts.LoadProject(context.Background())
			if err == nil {
				t.Fatal("docker-compose.yml loaded without its secrets")
			}
			if !slices.ContainsFunc(tc.names, func(n string) bool { return strings.Contains(err.Error(), n) }) {
				t.Errorf("error %q does not name the missing secret (%v)", err, tc.names)
			}
		})
	}
}

// TestEnvExampleIsNotASecret guards against a real secret landing in the
// committed example file and checks that .env itself is git-ignored.
func TestEnvExampleIsNotASecret(t *testing.T) {
	root := repoRoot(t)
	for _, line := range strings.Split(string(readFile(t, filepath.Join(root, ".env.example"))), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("malformed line %q", line)
			continue
		}
		// Secrets are empty (compose refuses to start) or placeholders
		// (which chatd refuses, for JWT_SECRET).
		if value != "" && !strings.Contains(value, "change-me") {
			t.Errorf("%s has a value that does not look like a placeholder: %q", key, value)
		}
		if key == "JWT_SECRET" && value != "" {
			t.Errorf("JWT_SECRET = %q, want empty so that compose refuses to start until it is set", value)
		}
	}
	ignored := strings.Split(string(readFile(t, filepath.Join(root, ".gitignore"))), "\n")
	if !slices.Contains(ignored, ".env") && !slices.Contains(ignored, "/.env") {
		t.Error(".gitignore does not ignore .env")
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
