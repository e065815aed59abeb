package check

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// actionlintModule is the pinned actionlint. It runs as its own program
// (`go run module@version`) because its YAML library version conflicts with
// compose-go's, so the two cannot share this module's build.
const actionlintModule = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// TestWorkflowsLint runs actionlint over .github/workflows: syntax,
// expressions, action inputs, runner labels, and, when shellcheck is
// installed (it is on GitHub's runners), every run: script.
func TestWorkflowsLint(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if !slices.Contains(names, "ci.yml") || !slices.Contains(names, "images.yml") {
		t.Fatalf("workflows = %v, want ci.yml and images.yml", names)
	}

	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Log("shellcheck not installed: run: scripts are not checked")
		shellcheck = ""
	}
	errs := runActionlint(t, root, shellcheck, files)
	for _, e := range errs {
		t.Errorf("%s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
}

// TestActionlintCatchesProblems proves the harness reports findings, so
// that an empty result above means something.
func TestActionlintCatchesProblems(t *testing.T) {
	root := repoRoot(t)
	bad := filepath.Join(t.TempDir(), "bad.yml")
	src := "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v6\n        with:\n          no-such-input: 1\n      - run: echo ${{ github.nope }}\n"
	if err := os.WriteFile(bad, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := runActionlint(t, root, "", []string{bad})
	kinds := map[string]bool{}
	for _, e := range errs {
		kinds[e.Kind] = true
	}
	if !kinds["action"] || !kinds["expression"] {
		t.Errorf("want action and expression findings, got %+v", errs)
	}
}

type actionlintError struct {
	Message  string `json:"message"`
	Filepath string `json:"filepath"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Kind     string `json:"kind"`
}

func runActionlint(t *testing.T, root, shellcheck string, files []string) []actionlintError {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to run actionlint: %v", err)
	}
	args := []string{"run", actionlintModule, "-format", "{{json .}}", "-shellcheck=" + shellcheck, "-pyflakes="}
	cmd := exec.Command(goBin, append(args, files...)...)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	// actionlint exits 1 when it found problems and prints them as JSON;
	// any other failure (build, flags) leaves stdout empty.
	var exitErr *exec.ExitError
	if runErr != nil && (!errors.As(runErr, &exitErr) || exitErr.ExitCode() != 1) {
		t.Fatalf("go run %s: %v\n%s", actionlintModule, runErr, stderr.String())
	}
	var errs []actionlintError
	if out := bytes.TrimSpace(stdout.Bytes()); len(out) > 0 {
		if err := json.Unmarshal(out, &errs); err != nil {
			t.Fatalf("actionlint output: %v\n%s", err, out)
		}
	}
	if runErr != nil && len(errs) == 0 {
		t.Fatalf("actionlint failed without findings: %s", stderr.String())
	}
	return errs
}

// TestWorkflowsPinActions checks that every action is referenced by a
// version, never a moving branch.
func TestWorkflowsPinActions(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for i, line := range strings.Split(string(readFile(t, f)), "\n") {
			_, ref, ok := strings.Cut(strings.TrimSpace(line), "uses:")
			if !ok {
				continue
			}
			ref = strings.TrimSpace(ref)
			_, version, ok := strings.Cut(ref, "@")
			if !ok || !(strings.HasPrefix(version, "v") || len(version) == 40) {
				t.Errorf("%s:%d: %q is not pinned to a version", filepath.Base(f), i+1, ref)
			}
		}
	}
}

// TestDependabot checks that every update entry points at a directory that
// holds what its ecosystem manages, and that every manifest is covered.
func TestDependabot(t *testing.T) {
	root := repoRoot(t)
	var cfg struct {
		Version int `yaml:"version"`
		Updates []struct {
			Ecosystem   string   `yaml:"package-ecosystem"`
			Directory   string   `yaml:"directory"`
			Directories []string `yaml:"directories"`
			Schedule    struct {
				Interval string `yaml:"interval"`
			} `yaml:"schedule"`
		} `yaml:"updates"`
	}
	if err := yaml.Unmarshal(readFile(t, filepath.Join(root, ".github", "dependabot.yml")), &cfg); err != nil {
		t.Fatalf("parse dependabot.yml: %v", err)
	}
	if cfg.Version != 2 {
		t.Errorf("version = %d, want 2", cfg.Version)
	}
	manifest := map[string]string{
		"gomod":          "go.mod",
		"npm":            "package.json",
		"docker":         "*Dockerfile",
		"docker-compose": "docker-compose.yml",
		"github-actions": ".github/workflows/*.yml",
	}
	covered := map[string]bool{}
	for _, u := range cfg.Updates {
		pattern, ok := manifest[u.Ecosystem]
		if !ok {
			t.Errorf("unexpected ecosystem %q", u.Ecosystem)
			continue
		}
		if u.Schedule.Interval == "" {
			t.Errorf("%s: no schedule interval", u.Ecosystem)
		}
		dirs := u.Directories
		if u.Directory != "" {
			dirs = append(dirs, u.Directory)
		}
		if len(dirs) == 0 {
			t.Errorf("%s: no directory", u.Ecosystem)
		}
		for _, d := range dirs {
			matches, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(d), pattern))
			if len(matches) == 0 {
				t.Errorf("%s: %s has no %s", u.Ecosystem, d, pattern)
			}
			for _, m := range matches {
				covered[m] = true
			}
		}
	}
	for _, m := range []string{"backend/go.mod", "deploy/check/go.mod", "frontend/package.json", "postman/package.json",
		"deploy/backend.Dockerfile", "deploy/frontend.Dockerfile", "docker-compose.yml"} {
		if _, err := os.Stat(filepath.Join(root, m)); err != nil {
			t.Errorf("%s: %v", m, err)
			continue
		}
		if !covered[filepath.Join(root, m)] {
			t.Errorf("%s is not kept up to date by dependabot", m)
		}
	}
}
