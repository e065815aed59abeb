package main

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/internal/faultproxy"
	"github.com/chatapp/chat/store/storetest"
)

// TestOutagesLoseNoAcknowledgedMessage runs two whole servers on one
// Postgres database and one Redis, each reached through a TCP proxy the test
// controls, and cuts Redis, then Postgres, while a client keeps sending and
// two receivers (one per instance) keep reading:
//   - Redis away: sends are still acknowledged (the database is the truth),
//     /readyz answers 503 naming the broker without hanging;
//   - Postgres away: sends answer `unavailable`, REST answers 503, the
//     client retries with the same client_id once it is back;
//   - afterwards both receivers hold every acknowledged message exactly
//     once, in order, and the log is JSON only, with one WARN when the
//     database went away and one INFO when it came back.
func TestOutagesLoseNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short")
	}
	pgURL, err := url.Parse(storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	redisURL := os.Getenv("TEST_REDIS_URL")
	if redisURL == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TEST_REDIS_URL is not set (required in CI)")
		}
		t.Skip("TEST_REDIS_URL is not set")
	}
	rURL, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	pgProxy := faultproxy.Start(t, proxyTarget(pgURL, "5432"))
	redisProxy := faultproxy.Start(t, proxyTarget(rURL, "6379"))
	pgURL.Host, rURL.Host = pgProxy.Addr(), redisProxy.Addr()

	ctx, cancel := context.WithCancel(context.Background())
	var insts []*outageInstance
	for name := range strings.SplitSeq("a b", " ") {
		insts = append(insts, startOutageInstance(ctx, t, name, map[string]string{
			"CHAT_ADDR": "127.0.0.1:0", "CHAT_DATA_DIR": t.TempDir(), "LOG_LEVEL": "info",
			"DATABASE_URL": pgURL.String(), "REDIS_URL": rURL.String(),
			"JWT_SECRET": goodSecret, "CHAT_METRICS_ADDR": "off", "CHAT_AUTH_RATE": "0", "CHAT_WS_RATE": "0",
		}))
	}
	defer func() {
		cancel()
		for _, in := range insts {
			in.wait(t)
		}
	}()
	a, b := insts[0], insts[1]

	olga := a.register(t, "olga")
	rita := a.register(t, "rita")
	rob := b.register(t, "rob")
	var g struct{ ID int64 }
	a.rest(t, "POST", "/api/v1/groups", olga.token, `{"name":"outage"}`, http.StatusCreated, &g)
	a.rest(t, "POST", fmt.Sprintf("/api/v1/groups/%d/join", g.ID), rita.token, "", http.StatusOK, nil)
	b.rest(t, "POST", fmt.Sprintf("/api/v1/groups/%d/join", g.ID), rob.token, "", http.StatusOK, nil)

	recvs := []*outageReceiver{startReceiver(ctx, t, a, rita, g.ID), startReceiver(ctx, t, b, rob, g.ID)}
	snd := startSender(ctx, t, a, olga, g.ID)

	snd.waitAcks(t, time.Time{}, 20) // normal traffic first
	redisProxy.Cut()
	cutAt := time.Now()
	var ready []time.Duration
	// Probed ten times a second for two seconds of outage.
	every(100*time.Millisecond, 2*time.Second, func(since time.Duration) {
		start := time.Now()
		status, body := a.get(t, "/readyz")
		ready = append(ready, time.Since(start))
		if since > 500*time.Millisecond && (status != http.StatusServiceUnavailable || !strings.Contains(body, "broker")) {
			t.Errorf("/readyz with Redis away: %d %s", status, body)
		}
	})
	if err := redisProxy.Restore(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ready)
	t.Logf("/readyz while Redis was away: median %v, max %v", ready[len(ready)/2], ready[len(ready)-1])
	if m := ready[len(ready)-1]; m > time.Second {
		t.Errorf("/readyz took %v while Redis was away", m)
	}
	redisAcks := snd.ackTimesBetween(cutAt, cutAt.Add(2*time.Second))
	t.Logf("acks while Redis was away: %d, median %v, max %v", len(redisAcks), median(redisAcks), maxOf(redisAcks))
	if len(redisAcks) == 0 {
		t.Error("no send was acknowledged while Redis was away")
	}

	snd.waitAcks(t, time.Now(), 20) // sends flow again before Postgres goes
	pgProxy.Cut()
	every(50*time.Millisecond, 2*time.Second, func(since time.Duration) {
		if status, _ := a.getAuth(t, "/api/v1/me/groups", olga.token); status != http.StatusServiceUnavailable && since > 300*time.Millisecond {
			t.Errorf("GET /me/groups with Postgres away: %d", status)
		}
	})
	if err := pgProxy.Restore(); err != nil {
		t.Fatal(err)
	}
	snd.waitAcks(t, time.Now(), 20) // and once it is back

	t.Cleanup(func() {
		if t.Failed() {
			for _, in := range []*outageInstance{a, b} {
				t.Logf("LOG %s:\n%s", in.name, in.logs.String())
			}
		}
	})
	acked, failed := snd.stop(t)
	t.Logf("sent %d: %d acknowledged (after retries), %d answered unavailable at first", len(acked), len(acked), failed)
	if failed == 0 {
		t.Error("no send failed while Postgres was away")
	}
	want := slices.Sorted(maps.Values(acked))
	for i, seq := range want {
		if seq != int64(i+1) {
			t.Fatalf("acknowledged seqs are not 1..%d: %v", len(want), want)
		}
	}
	for _, r := range recvs {
		r.waitFor(t, int64(len(want)))
		if err := r.check(len(want)); err != nil {
			t.Errorf("%s: %v", r.name, err)
		}
	}

	cancel()
	for _, in := range insts {
		in.wait(t)
	}
	insts = nil
	for _, in := range []*outageInstance{a, b} {
		in.checkLog(t)
	}
	if n := a.countLog("database unavailable; requests answer 503 until it is back", "WARN"); n != 1 {
		t.Errorf("instance a logged the database going away %d times, want once", n)
	}
	if n := a.countLog("database available again", "INFO"); n != 1 {
		t.Errorf("instance a logged the database coming back %d times, want once", n)
	}
}

// every runs probe at once and then every period for span, telling it how
// long since the first.
func every(period, span time.Duration, probe func(since time.Duration)) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	start := time.Now()
	for since := time.Duration(0); since < span; since = time.Since(start) {
		probe(since)
		<-tick.C
	}
}

func proxyTarget(u *url.URL, port string) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func maxOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds)
}
