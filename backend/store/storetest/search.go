package storetest

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

// search runs a message search of uid (in gid when not 0) and returns the
// bodies found, in order, with the next cursor.
func search(t *testing.T, s Store, uid, gid int64, q string, limit int, cursor string) ([]string, string) {
	t.Helper()
	parsed, perr := chat.ParseSearch(q)
	if perr != nil {
		t.Fatalf("ParseSearch(%q): %v", q, perr)
	}
	items, next, err := s.SearchMessages(t.Context(), uid, gid, parsed, limit, cursor)
	noErr(t, err)
	out := make([]string, len(items))
	for i, m := range items {
		out[i] = m.Body
		if m.Deleted || m.Sender.ID == 0 || m.Mentions == nil {
			t.Errorf("search result %+v", m)
		}
	}
	return out, next
}

func testSearchMessages(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	alice := newUser(t, s, "alice_s", "")
	bob := newUser(t, s, "bob_s", "")
	g := newGroup(t, s, alice.ID, "search", chat.Public)
	_, err := s.AddMember(ctx, g.ID, bob.ID, chat.RoleMember)
	noErr(t, err)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
	bodies := []string{
		"apple banana",                 // 1
		"apple apple apple banana",     // 2: best for apple
		"the big news is out",          // 3
		"news that is big",             // 4: both words, not the phrase
		"Café crème for everyone",      // 5
		"cafe au lait",                 // 6
		"deep dish pizza for lunch",    // 7
		"lunch at noon",                // 8
		"same words here",              // 9
		"same words here",              // 10: newer, equal rank
		"internationalization is long", // 11
	}
	ms := make([]chat.Message, len(bodies))
	for i, b := range bodies {
		ms[i] = send(t, s, g.ID, alice.ID, b, at(i))
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"apple", []string{bodies[1], bodies[0]}},      // ranking
		{"same words", []string{bodies[9], bodies[8]}}, // equals: newest first
		{`"big news"`, []string{bodies[2]}},            // phrase
		{"big news", nil},                              // both words, any order (checked as a set below)
		{"lunch -pizza", []string{bodies[7]}},          // exclusion
		{`lunch -"deep dish"`, []string{bodies[7]}},    // excluded phrase
		{"internation", []string{bodies[10]}},          // prefix on the last word
		{"interna", []string{bodies[10]}},              // a prefix of 2 to 8 letters (SQLite: its own index)
		{"ap", []string{bodies[1], bodies[0]}},         // ranked like the whole word
		{"internation is", nil},                        // not on an earlier word
		{"CAFE", nil},                                  // accents and case folded (set below)
		{"caf", nil},                                   // folded in a prefix too (set below)
		{"crème", []string{bodies[4]}},
		{"nothing matches this", nil},
	}
	for _, tc := range tests {
		got, next := search(t, s, bob.ID, 0, tc.q, 0, "")
		switch tc.q {
		case "big news":
			slices.Sort(got)
			if want := []string{bodies[3], bodies[2]}; !slices.Equal(got, want) {
				t.Errorf("search %q = %q, want %q", tc.q, got, want)
			}
		case "CAFE", "caf":
			slices.Sort(got)
			if want := []string{bodies[4], bodies[5]}; !slices.Equal(got, want) {
				t.Errorf("search %q = %q, want %q", tc.q, got, want)
			}
		default:
			if !slices.Equal(got, tc.want) {
				t.Errorf("search %q = %q, want %q", tc.q, got, tc.want)
			}
		}
		if next != "" {
			t.Errorf("search %q: next cursor %q on a short page", tc.q, next)
		}
	}

	// Pagination: every match once, in order, then no cursor.
	for i := range 7 {
		send(t, s, g.ID, bob.ID, "page marker "+strings.Repeat("x", i+1), at(100+i))
	}
	var all []string
	cursor := ""
	for range 10 {
		page, next := search(t, s, alice.ID, g.ID, "marker", 3, cursor)
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(all) != 7 || all[0] != "page marker xxxxxxx" {
		t.Errorf("paged search = %q", all)
	}
	_, _, err = s.SearchMessages(ctx, alice.ID, 0, chat.SearchQuery{Terms: []chat.SearchTerm{{Words: []string{"x"}}}}, 10, "not-a-cursor")
	wantErr(t, err, chat.ErrInvalid)

	// Edits re-index; deleted messages disappear.
	_, err = s.EditMessage(ctx, ms[7].ID, "dinner at eight", at(200))
	noErr(t, err)
	if got, _ := search(t, s, bob.ID, 0, "lunch", 0, ""); !slices.Equal(got, []string{bodies[6]}) {
		t.Errorf("lunch after the edit = %q", got)
	}
	if got, _ := search(t, s, bob.ID, 0, "dinner", 0, ""); !slices.Equal(got, []string{"dinner at eight"}) {
		t.Errorf("dinner after the edit = %q", got)
	}
	_, err = s.DeleteMessage(ctx, ms[1].ID, at(201))
	noErr(t, err)
	if got, _ := search(t, s, bob.ID, 0, "apple", 0, ""); !slices.Equal(got, []string{bodies[0]}) {
		t.Errorf("apple after the delete = %q", got)
	}

	// A very long query of many words is answered (matching nothing here).
	long := strings.TrimSpace(strings.Repeat("word ", 80))
	if got, _ := search(t, s, bob.ID, 0, long, 0, ""); len(got) != 0 {
		t.Errorf("a long query found %q", got)
	}
}

// A member of one group never finds another group's messages, public or
// private, and leaving a group hides its messages at once.
func testSearchMembership(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	alice := newUser(t, s, "alice_l", "")
	bob := newUser(t, s, "bob_l", "")
	carol := newUser(t, s, "carol_l", "")
	a := newGroup(t, s, alice.ID, "group-a", chat.Public)
	pub := newGroup(t, s, bob.ID, "group-b", chat.Public)
	priv := newGroup(t, s, bob.ID, "group-c", chat.Private)
	direct, _, err := s.DirectGroup(ctx, bob.ID, carol.ID)
	noErr(t, err)
	send(t, s, a.ID, alice.ID, "secret plan in a", base)
	send(t, s, pub.ID, bob.ID, "secret plan in public b", base)
	send(t, s, priv.ID, bob.ID, "secret plan in private c", base)
	send(t, s, direct.ID, bob.ID, "secret plan in direct", base)

	got, _ := search(t, s, alice.ID, 0, "secret plan", 0, "")
	if !slices.Equal(got, []string{"secret plan in a"}) {
		t.Errorf("alice finds %q, want only group a's", got)
	}
	// Asking for another group's messages by id finds none either.
	for _, gid := range []int64{pub.ID, priv.ID, direct.ID} {
		if got, _ := search(t, s, alice.ID, gid, "secret", 0, ""); len(got) != 0 {
			t.Errorf("alice finds %q in group %d", got, gid)
		}
	}
	got, _ = search(t, s, bob.ID, 0, "secret", 0, "")
	slices.Sort(got)
	if want := []string{"secret plan in direct", "secret plan in private c", "secret plan in public b"}; !slices.Equal(got, want) {
		t.Errorf("bob finds %q, want %q", got, want)
	}
	if got, _ := search(t, s, bob.ID, priv.ID, "secret", 0, ""); !slices.Equal(got, []string{"secret plan in private c"}) {
		t.Errorf("bob in c finds %q", got)
	}

	// Membership is read at query time.
	_, err = s.AddMember(ctx, a.ID, bob.ID, chat.RoleMember)
	noErr(t, err)
	if got, _ := search(t, s, bob.ID, a.ID, "secret", 0, ""); !slices.Equal(got, []string{"secret plan in a"}) {
		t.Errorf("bob after joining a finds %q", got)
	}
	noErr(t, s.RemoveMember(ctx, a.ID, bob.ID))
	got, _ = search(t, s, bob.ID, 0, "secret", 0, "")
	if slices.Contains(got, "secret plan in a") {
		t.Errorf("bob still finds group a's message after leaving: %q", got)
	}
}

// A message found by search is whole, as history gives it: its reactions
// too (docs/API.md: reactions on every Message the API returns).
func testSearchResultsCarryReactions(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	alice := newUser(t, s, "alice_sr", "")
	g := newGroup(t, s, alice.ID, "search reactions", chat.Public)
	m := send(t, s, g.ID, alice.ID, "kiwi season", base)
	send(t, s, g.ID, alice.ID, "kiwi again", base.Add(time.Second))
	_, err := s.AddReaction(ctx, m.ID, alice.ID, "👍", base.Add(2*time.Second))
	noErr(t, err)
	parsed, perr := chat.ParseSearch("kiwi season")
	if perr != nil {
		t.Fatal(perr)
	}
	items, _, err := s.SearchMessages(ctx, alice.ID, 0, parsed, 10, "")
	noErr(t, err)
	if len(items) != 1 || items[0].ID != m.ID {
		t.Fatalf("search = %+v, want message %d", items, m.ID)
	}
	r := items[0].Reactions
	if len(r) != 1 || r[0].Emoji != "👍" || r[0].Count != 1 || len(r[0].UserIDs) != 1 || r[0].UserIDs[0] != alice.ID {
		t.Fatalf("reactions of the search result = %+v", r)
	}
}

// SQLite's index keeps each message's group as a token ("g17") beside the
// body; a word of the query never matches it: searching "g17" finds bodies
// that say g17, and excluding it keeps group 17's other messages.
func testSearchGroupNameIsNoWord(t *testing.T, s Store) {
	base := baseTime()
	alice := newUser(t, s, "alice_gt", "")
	g := newGroup(t, s, alice.ID, "group token", chat.Public)
	token := "g" + strconv.FormatInt(g.ID, 10)
	send(t, s, g.ID, alice.ID, "plain melon", base)
	send(t, s, g.ID, alice.ID, "melon named "+token, base.Add(time.Second))
	if got, _ := search(t, s, alice.ID, 0, token, 10, ""); !slices.Equal(got, []string{"melon named " + token}) {
		t.Errorf("search %q = %q", token, got)
	}
	if got, _ := search(t, s, alice.ID, g.ID, "melon -"+token, 10, ""); !slices.Equal(got, []string{"plain melon"}) {
		t.Errorf("search %q in the group = %q", "melon -"+token, got)
	}
}

// Equal matches in groups of different sizes rank newest first: the
// group a message is in weighs nothing (SQLite indexes it as a token,
// rarer in a small group).
func testSearchEqualsAcrossGroups(t *testing.T, s Store) {
	base := baseTime()
	alice := newUser(t, s, "alice_eq", "")
	small := newGroup(t, s, alice.ID, "small", chat.Public)
	big := newGroup(t, s, alice.ID, "big", chat.Public)
	send(t, s, small.ID, alice.ID, "kiwi pie", base)
	for i := range 6 {
		send(t, s, big.ID, alice.ID, "filler number "+strconv.Itoa(i), base.Add(time.Duration(i+1)*time.Second))
	}
	send(t, s, big.ID, alice.ID, "kiwi tart", base.Add(time.Minute))
	for _, gid := range []int64{0, big.ID} {
		got, _ := search(t, s, alice.ID, gid, "kiwi", 10, "")
		want := []string{"kiwi tart", "kiwi pie"}
		if gid != 0 {
			want = want[:1]
		}
		if !slices.Equal(got, want) {
			t.Errorf("search kiwi in %d = %q, want %q", gid, got, want)
		}
	}
}
