package check

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
)

// dockerfiles are the images the repository builds, all with the
// repository root as build context.
var dockerfiles = []string{
	"deploy/backend.Dockerfile",
	"deploy/frontend.Dockerfile",
}

// offlineImages answers BuildKit's base-image lookups with an empty
// linux/amd64 config, so that linting needs neither a registry nor a daemon.
// Only rules that inspect a base image's platform lose information.
type offlineImages struct{}

func (offlineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromString(ref), []byte(`{"architecture":"amd64","os":"linux","config":{}}`), nil
}

// TestDockerfilesLint runs BuildKit's own Dockerfile checks (what
// `docker build --check` reports) over every stage and demands no warnings.
func TestDockerfilesLint(t *testing.T) {
	root := repoRoot(t)
	for _, name := range dockerfiles {
		t.Run(name, func(t *testing.T) {
			dt := readFile(t, filepath.Join(root, name))
			res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
				SourceMap:    sourceMap(name, dt),
				MetaResolver: offlineImages{},
			})
			if err != nil {
				t.Fatalf("lint: %v", err)
			}
			if res.Error != nil {
				t.Errorf("build error: %s", res.Error.Message)
			}
			for _, w := range res.Warnings {
				line := int32(0)
				if w.Location != nil && len(w.Location.Ranges) > 0 {
					line = w.Location.Ranges[0].Start.Line
				}
				t.Errorf("%s:%d: %s: %s (%s)", name, line, w.RuleName, w.Detail, w.URL)
			}
		})
	}
}

// TestDockerfileLinterCatchesProblems proves the lint harness reports
// warnings at all, so that an empty result above means something.
func TestDockerfileLinterCatchesProblems(t *testing.T) {
	dt := []byte("FROM alpine as Build\nENV GREETING hello\nWORKDIR /$UNDEFINED\nCMD echo hi\n")
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		SourceMap:    sourceMap("bad.Dockerfile", dt),
		MetaResolver: offlineImages{},
	})
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	got := map[string]bool{}
	for _, w := range res.Warnings {
		got[w.RuleName] = true
	}
	for _, rule := range []string{"FromAsCasing", "StageNameCasing", "LegacyKeyValueFormat", "UndefinedVar", "JSONArgsRecommended"} {
		if !got[rule] {
			t.Errorf("rule %s did not fire; got %v", rule, got)
		}
	}
}

// TestDockerfileSources checks that every COPY/ADD source taken from the
// build context exists in the repository and is not excluded by the
// Dockerfile's own .dockerignore, so a build cannot fail on a missing path.
func TestDockerfileSources(t *testing.T) {
	root := repoRoot(t)
	for _, name := range dockerfiles {
		t.Run(name, func(t *testing.T) {
			ignore := dockerignore(t, filepath.Join(root, name+".dockerignore"))
			stages, err := parseStages(readFile(t, filepath.Join(root, name)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var checked int
			for _, stage := range stages {
				for _, cmd := range stage.Commands {
					var sources []string
					switch c := cmd.(type) {
					case *instructions.CopyCommand:
						if c.From != "" {
							continue // from another stage or image, not the context
						}
						sources = c.SourcePaths
					case *instructions.AddCommand:
						sources = c.SourcePaths
					default:
						continue
					}
					for _, src := range sources {
						checked++
						if strings.Contains(src, "://") || strings.ContainsAny(src, "$*?[") {
							t.Errorf("%s: source %q cannot be checked; use plain paths", cmd, src)
							continue
						}
						rel := filepath.Clean(strings.TrimPrefix(src, "/"))
						if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
							t.Errorf("%s: source %q does not exist in the repository", cmd, src)
						}
						if ignored, err := ignore.MatchesOrParentMatches(filepath.ToSlash(rel)); err != nil || ignored {
							t.Errorf("%s: source %q is excluded by %s.dockerignore (err %v)", cmd, src, name, err)
						}
					}
				}
			}
			if checked == 0 {
				t.Error("no COPY/ADD sources from the build context found")
			}
		})
	}
}

// TestDockerfileRuntime checks the properties the images promise: a
// non-root user, a healthcheck and the published port in the final stage.
func TestDockerfileRuntime(t *testing.T) {
	root := repoRoot(t)
	tests := []struct {
		name   string
		base   string
		user   bool // the final stage sets USER (the nginx base already runs as non-root)
		expose string
		health string
		volume string
	}{
		{name: "deploy/backend.Dockerfile", base: "gcr.io/distroless/static-debian12:nonroot", user: true, expose: "8080", health: "/usr/local/bin/healthcheck", volume: "/data"},
		{name: "deploy/frontend.Dockerfile", base: "nginxinc/nginx-unprivileged:", expose: "8080", health: "nginx-health"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stages, err := parseStages(readFile(t, filepath.Join(root, tt.name)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(stages) < 2 {
				t.Fatalf("%d stages, want a multi-stage build", len(stages))
			}
			for _, st := range stages {
				if !pinned(st.BaseName) {
					t.Errorf("stage %q: base image %q is not pinned by digest (name:tag@sha256:…)", st.Name, st.BaseName)
				}
			}
			final := stages[len(stages)-1]
			if !strings.HasPrefix(final.BaseName, tt.base) {
				t.Errorf("final base image = %q, want %q", final.BaseName, tt.base)
			}
			var user, expose, health, volume bool
			for _, cmd := range final.Commands {
				switch c := cmd.(type) {
				case *instructions.UserCommand:
					user = c.User != "" && c.User != "root" && !strings.HasPrefix(c.User, "0")
				case *instructions.ExposeCommand:
					for _, p := range c.Ports {
						expose = expose || p == tt.expose
					}
				case *instructions.HealthCheckCommand:
					health = c.Health != nil && strings.Contains(strings.Join(c.Health.Test, " "), tt.health)
				case *instructions.VolumeCommand:
					for _, v := range c.Volumes {
						volume = volume || v == tt.volume
					}
				}
			}
			if tt.user && !user {
				t.Error("final stage does not switch to a non-root USER")
			}
			if !expose {
				t.Errorf("final stage does not EXPOSE %s", tt.expose)
			}
			if !health {
				t.Errorf("final stage has no HEALTHCHECK running %q", tt.health)
			}
			if tt.volume != "" && !volume {
				t.Errorf("final stage does not declare VOLUME %s", tt.volume)
			}
		})
	}
}

// sourceMap names the Dockerfile in lint results; BuildKit's lint entry
// point expects a marshalled (here empty) definition alongside.
func sourceMap(name string, dt []byte) *llb.SourceMap {
	sm := llb.NewSourceMap(nil, name, "Dockerfile", dt)
	sm.Definition = &llb.Definition{}
	return sm
}

func parseStages(dt []byte) ([]instructions.Stage, error) {
	ast, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		return nil, err
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	return stages, err
}

func dockerignore(t *testing.T, path string) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s is missing: the build context is the whole repository", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatalf("patterns of %s: %v", path, err)
	}
	return pm
}
