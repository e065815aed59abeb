// Command healthcheck probes the chat server's liveness endpoint and exits 0
// when it answers 200, 1 otherwise.
//
// It exists because the runtime image (distroless/static) has no shell, curl
// or wget for a Docker HEALTHCHECK; a tiny static binary keeps that image
// minimal while still letting Docker and compose know when chatd is up.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/healthz", "URL that must answer 200")
	timeout := flag.Duration("timeout", 3*time.Second, "give up after this long")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	err := probe(ctx, http.DefaultClient, *url)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

// probe GETs url and reports an error unless the answer is 200 OK.
func probe(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	// Drain a little so the connection closes cleanly; the body itself is irrelevant.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %d", url, resp.StatusCode)
	}
	return nil
}
