package storetest

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// Store is what the suite runs against: the port, app.Store, with the few
// hooks a test needs to stage what another instance or a busy database
// would do. Any implementation of app.Store on SQL can offer them.
type Store interface {
	app.Store
	// Close stops the store: waiting sends fail with chat.ErrUnavailable,
	// and so does every later call.
	Close() error
	// InsertQueue reports how many sends wait for the next group commit
	// and how many are in the one being committed.
	InsertQueue() (waiting, committing int)
	// DB is the pool that takes writes: the suite's own transactions on it
	// play another instance.
	DB() *sql.DB
	// Dialect names the SQL of DB: "postgres" or "sqlite".
	Dialect() string
}

// Run is the conformance suite of app.Store: every method, its success and
// error cases, and the concurrency guarantees. open returns a fresh, empty
// store for each subtest.
func Run(t *testing.T, open func(testing.TB) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"Users", testUsers},
		{"UpdateUser", testUpdateUser},
		{"SearchUsers", testSearchUsers},
		{"SearchUsersPaging", testSearchUsersPaging},
		{"RefreshTokens", testRefreshTokens},
		{"RefreshTokenConcurrentUse", testRefreshTokenConcurrentUse},
		{"EndSessions", testEndSessions},
		{"Groups", testGroups},
		{"DeleteGroup", testDeleteGroup},
		{"DirectGroup", testDirectGroup},
		{"DirectGroupConcurrent", testDirectGroupConcurrent},
		{"Membership", testMembership},
		{"MemberNames", testMemberNames},
		{"MembersAndGroupsOfUsers", testMembersAndGroupsOfUsers},
		{"SearchGroups", testSearchGroups},
		{"InsertMessage", testInsertMessage},
		{"IdempotentSend", testIdempotentSend},
		{"IdempotentSendNeedsMembership", testIdempotentSendNeedsMembership},
		{"History", testHistory},
		{"EditDeleteMessage", testEditDeleteMessage},
		{"EditHistory", testEditHistory},
		{"Mute", testMute},
		{"ReadReceipts", testReadReceipts},
		{"Mentions", testMentions},
		{"SearchMessages", testSearchMessages},
		{"SearchMembership", testSearchMembership},
		{"SearchResultsCarryReactions", testSearchResultsCarryReactions},
		{"SearchGroupNameIsNoWord", testSearchGroupNameIsNoWord},
		{"SearchEqualsAcrossGroups", testSearchEqualsAcrossGroups},
		{"MarkRead", testMarkRead},
		{"Replies", testReplies},
		{"Reactions", testReactions},
		{"ReactionRace", testReactionRace},
		{"Attachments", testAttachments},
		{"SweepAttachments", testSweepAttachments},
		{"MyGroups", testMyGroups},
		{"QueuedKeepOrder", testQueuedKeepOrder},
		{"ConcurrentSenders", testConcurrentSenders},
		{"ConcurrentRetries", testConcurrentRetries},
		{"LoneSendRepeat", testLoneSendRepeat},
		{"LoneSendNonMember", testLoneSendNonMember},
		{"LoneSendReadMarker", testLoneSendReadMarker},
		{"LoneSendAnswerIsHistory", testLoneSendAnswerIsHistory},
		{"BatchDuplicateClientID", testBatchDuplicateClientID},
		{"BatchMixedGroups", testBatchMixedGroups},
		{"BatchNonMember", testBatchNonMember},
		{"BatchClientIDRace", testBatchClientIDRace},
		{"BatchFailingRequest", testBatchFailingRequest},
		{"SendCanceled", testSendCanceled},
		{"CloseWhileWaiting", testCloseWhileWaiting},
		{"PingAndClose", testPingAndClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// RunInstances is the part of the suite that needs two instances of the
// server: open returns two stores on one fresh, empty database.
func RunInstances(t *testing.T, open func(testing.TB) (Store, Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, one, two Store)
	}{
		{"ClientIDOnTwoInstances", testClientIDOnTwoInstances},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			one, two := open(t)
			tc.fn(t, one, two)
		})
	}
}

// --- helpers ---

// baseTime is a fixed instant with sub-microsecond digits and a non-UTC
// zone, to check that stores return UTC truncated to microseconds.
func baseTime() time.Time {
	return time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.FixedZone("X", 3600))
}

func ptr[T any](v T) *T { return &v }

func wantErr(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want %v", err, kind)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantUTCMicros(t *testing.T, what string, got time.Time) {
	t.Helper()
	if got.Location() != time.UTC || got.Nanosecond()%1000 != 0 || got.IsZero() {
		t.Errorf("%s = %v, want a non-zero UTC time in whole microseconds", what, got)
	}
}

func newUser(t *testing.T, s Store, username, display string) chat.User {
	t.Helper()
	u := chat.User{Username: username, DisplayName: display}
	noErr(t, s.CreateUser(t.Context(), &u, "hash-of-"+username))
	return u
}

func newGroup(t *testing.T, s Store, owner int64, name string, vis chat.Visibility) chat.Group {
	t.Helper()
	g := chat.Group{Name: ptr(name), Description: "about " + name, Visibility: vis, OwnerID: owner}
	noErr(t, s.CreateGroup(t.Context(), &g))
	return g
}

func send(t *testing.T, s Store, gid, uid int64, body string, at time.Time) chat.Message {
	t.Helper()
	m, created, err := s.InsertMessage(t.Context(), chat.NewMessage{GroupID: gid, SenderID: uid, Body: body, At: at})
	noErr(t, err)
	if !created {
		t.Fatalf("send %q: created = false", body)
	}
	return m
}

func seqs(ms []chat.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func userNames(us []chat.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Username
	}
	return out
}

func groupNames(gs []chat.Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		if g.Name != nil {
			out[i] = *g.Name
		}
	}
	return out
}

func span(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// --- availability ---

func testPingAndClose(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	noErr(t, s.Ping(ctx))
	u := newUser(t, s, "pinger", "")
	noErr(t, s.Close())
	wantErr(t, s.Ping(ctx), chat.ErrUnavailable)
	_, err := s.UserByID(ctx, u.ID)
	wantErr(t, err, chat.ErrUnavailable)
	_, _, err = s.InsertMessage(ctx, chat.NewMessage{GroupID: 1, SenderID: u.ID, Body: "x", At: base})
	wantErr(t, err, chat.ErrUnavailable)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Ping(canceled); err == nil {
		t.Error("Ping with a canceled context succeeded")
	}
}
