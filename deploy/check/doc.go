// Package check holds the container, compose and workflow checks that run
// without a Docker engine: `go test ./...` in this directory (`make lint`).
//
// It is its own Go module so that compose-go, BuildKit and actionlint stay
// out of the backend's dependency graph.
package check
