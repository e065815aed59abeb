package chat

import (
	"reflect"
	"testing"
)

// TestAudience is the delivery rule, one row per event type.
func TestAudience(t *testing.T) {
	u := &User{ID: 7}
	for _, tc := range []struct {
		ev   Event
		want Audience
	}{
		{Event{Type: EventMessage, GroupID: 1}, Audience{Group: true}},
		{Event{Type: EventMessageUpdated, GroupID: 1}, Audience{Group: true}},
		{Event{Type: EventReaction, GroupID: 1, MessageID: 5, UserID: 2, Emoji: "👍"}, Audience{Group: true}},
		{Event{Type: EventMessageDeleted, GroupID: 1}, Audience{Group: true}},
		{Event{Type: EventGroupUpdated, GroupID: 1}, Audience{Group: true}},
		{Event{Type: EventMemberJoined, GroupID: 1, User: u}, Audience{Group: true, Join: 7}},
		{Event{Type: EventMemberLeft, GroupID: 1, UserID: 7, Members: []int64{2, 3}}, Audience{Users: []int64{2, 3, 7}, Leave: 7}},
		// The one who left is told once even when still listed.
		{Event{Type: EventMemberLeft, GroupID: 1, UserID: 7, Members: []int64{7, 2}}, Audience{Users: []int64{7, 2}, Leave: 7}},
		{Event{Type: EventGroupDeleted, GroupID: 1, Members: []int64{2, 7}}, Audience{Users: []int64{2, 7}, Dissolve: true}},
		{Event{Type: EventTyping, GroupID: 1, UserID: 7, Conn: "c1"}, Audience{Group: true, ExceptUser: 7, ExceptConn: "c1"}},
		{Event{Type: EventRead, GroupID: 1, Seq: 4, Actor: 7, Conn: "c1"}, Audience{Users: []int64{7}, ExceptConn: "c1"}},
		{Event{Type: EventPresence, UserID: 7, Groups: []int64{1, 2}}, Audience{Groups: []int64{1, 2}, ExceptUser: 7}},
		{Event{Type: EventSessionsEnded, UserID: 7}, Audience{Close: 7}},
		{Event{Type: EventSessionsEnded, UserID: 7, Sessions: []string{"f1"}}, Audience{Close: 7, Sessions: []string{"f1"}}},
		{Event{Type: "unknown"}, Audience{}},
	} {
		if got := tc.ev.Audience(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: audience %+v, want %+v", tc.ev.Type, got, tc.want)
		}
	}
}

// The audience of member_left must not write into the caller's slice.
func TestAudienceKeepsMembers(t *testing.T) {
	members := make([]int64, 2, 8)
	members[0], members[1] = 2, 3
	_ = Event{Type: EventMemberLeft, UserID: 7, Members: members}.Audience()
	if got := members[:3]; got[2] != 0 {
		t.Fatalf("Audience wrote into Members' spare capacity: %v", got)
	}
}
