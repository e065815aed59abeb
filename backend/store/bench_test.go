package store_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store"
	"github.com/chatapp/chat/store/storetest"
)

// Issue 6's load shape: 1,000 groups of 5 members, all sending at once.
const (
	benchGroups  = 1000
	benchMembers = 5
	// benchSenders is about how many sends are in flight at once.
	benchSenders = 1000
)

// BenchmarkInsertMessage measures acknowledged sends (InsertMessage
// returning after commit) with many concurrent senders spread over many
// groups, which is what group commit is for.
func BenchmarkInsertMessage(b *testing.B) {
	for name, open := range storetest.Stores(b) {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			seedBench(b, s)
			var clientSeq atomic.Int64
			b.SetParallelism(max(1, benchSenders/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					n := clientSeq.Add(1)
					// Spread sends over every group and each group's members.
					gid := n%benchGroups + 1
					uid := (gid-1)*benchMembers + (n/benchGroups)%benchMembers + 1
					cid := "bench-" + strconv.FormatInt(n, 10)
					_, created, err := s.InsertMessage(ctx, chat.NewMessage{
						GroupID: gid, SenderID: uid, Body: "hello from the benchmark", ClientID: &cid,
					})
					if err != nil || !created {
						b.Errorf("InsertMessage = created %v, %v", created, err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// seedBench fills a fresh store with benchGroups groups of benchMembers
// members in three set-based statements (through the store's API it would
// take 10,000 transactions per run). Ids start at 1 in a fresh database:
// user u belongs to group (u-1)/benchMembers + 1.
func seedBench(b *testing.B, s *store.Store) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	at, series := "?1", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
	if s.Dialect() == "postgres" {
		at, series = "CAST($1 AS TIMESTAMPTZ)", "WITH n(i) AS (SELECT generate_series(1, %d)) "
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	stmts := []string{
		fmt.Sprintf(series, benchGroups*benchMembers) +
			"INSERT INTO users (username, display_name, password_hash, created_at) SELECT 'bench' || i, '', 'h', " + at + " FROM n",
		fmt.Sprintf(series, benchGroups) +
			"INSERT INTO groups (kind, name, description, visibility, member_count, last_seq, last_activity_at, created_at) " +
			fmt.Sprintf("SELECT 'group', 'bench' || i, '', 'public', %d, 0, %s, %s FROM n", benchMembers, at, at),
		fmt.Sprintf("INSERT INTO memberships (group_id, user_id, role, last_read_seq, joined_at) SELECT (id - 1) / %d + 1, id, 'member', 0, %s FROM users",
			benchMembers, at),
	}
	for _, q := range stmts {
		if _, err := s.DB().ExecContext(ctx, q, now); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
}

// BenchmarkLoneSend measures the ack latency of a send with nothing to
// batch with: one sender queues a plain message and waits for it, again
// and again (the low-load case, where every send is a batch of one).
func BenchmarkLoneSend(b *testing.B) {
	for name, open := range storetest.Stores(b) {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			u := chat.User{Username: "lone"}
			if err := s.CreateUser(ctx, &u, "h"); err != nil {
				b.Fatal(err)
			}
			g := chat.Group{Name: new("lone"), Visibility: chat.Public, OwnerID: u.ID}
			if err := s.CreateGroup(ctx, &g); err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				cid := "lone-" + strconv.Itoa(i)
				start := time.Now()
				_, created, err := s.QueueMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: u.ID, Body: "hello, alone", ClientID: &cid})()
				lat = append(lat, time.Since(start))
				if err != nil || !created {
					b.Fatalf("send %d = created %v, %v", i, created, err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkFewSenders measures sends at low concurrency (2 to 32 senders,
// each in a group of its own, sending one message at a time): batches of
// one to a few, what the one-statement path (insertFew) is for, and where
// batches begin to outgrow it.
func BenchmarkFewSenders(b *testing.B) {
	for name, open := range storetest.Stores(b) {
		for _, senders := range []int{2, 4, 8, 16, 32} {
			b.Run(fmt.Sprintf("%s/senders=%d", name, senders), func(b *testing.B) {
				s := open(b)
				seedBench(b, s)
				var next atomic.Int64
				lat := make([][]time.Duration, senders)
				b.ResetTimer()
				var wg sync.WaitGroup
				for w := range senders {
					wg.Go(func() {
						ctx := context.Background()
						gid := int64(w + 1)
						uid := (gid-1)*benchMembers + 1
						for next.Add(1) <= int64(b.N) {
							start := time.Now()
							_, _, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: gid, SenderID: uid, Body: "hello, few"})
							lat[w] = append(lat[w], time.Since(start))
							if err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				all := slices.Concat(lat...)
				slices.Sort(all)
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
				b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
			})
		}
	}
}
