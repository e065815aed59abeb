package chat

// EventType names a server → client event of the WebSocket protocol.
type EventType string

const (
	EventMessage        EventType = "message"
	EventMessageUpdated EventType = "message_updated"
	EventMessageDeleted EventType = "message_deleted"
	EventTyping         EventType = "typing"
	EventRead           EventType = "read"
	EventPresence       EventType = "presence"
	EventMemberJoined   EventType = "member_joined"
	EventMemberLeft     EventType = "member_left"
	EventGroupUpdated   EventType = "group_updated"
	EventGroupDeleted   EventType = "group_deleted"

	// EventSessionsEnded is never sent to a client: sessions of UserID
	// ended (a logout, logout-all, a password change, a reused refresh
	// token); every instance refuses their tokens and closes their
	// connections (4401) when it hears of it.
	EventSessionsEnded EventType = "sessions_ended"
)

// Event is something that happened which connected clients should hear of.
// It is produced by the use cases after the change is committed and carried
// to every instance by the broker. The JSON shape is the wire shape of the
// WebSocket event; the fields marked "-" are facts the delivery rule
// (Audience) needs and the client does not see.
type Event struct {
	Type    EventType `json:"type"`
	GroupID int64     `json:"group_id,omitempty"`
	Message *Message  `json:"message,omitempty"`
	UserID  int64     `json:"user_id,omitempty"`
	Seq     int64     `json:"seq,omitempty"`
	Online  *bool     `json:"online,omitempty"`
	User    *User     `json:"user,omitempty"`
	Group   *Group    `json:"group,omitempty"`

	// Actor is the user whose action this is when the event does not name
	// them (the reader of a read event).
	Actor int64 `json:"-"`
	// Conn is the WebSocket connection the action came from ("" for
	// REST): the typist's or the reader's.
	Conn string `json:"-"`
	// Members are the group's members when the event ends their membership
	// (group deleted, member left): after the commit there is no
	// membership left to find them by.
	Members []int64 `json:"-"`
	// Groups are the groups of UserID (presence: its audience).
	Groups []int64 `json:"-"`
	// Sessions are the sessions (refresh-token families) that ended.
	Sessions []string `json:"-"`
}

// Audience is who receives an event, and what it changes in who receives
// later ones. Every instance applies it the same way to its own connections.
type Audience struct {
	// Group: the connections subscribed to the event's group.
	Group bool `json:"g,omitempty"`
	// Users: every connection of these users.
	Users []int64 `json:"u,omitempty"`
	// Groups: the connections subscribed to any of these groups, each once.
	Groups []int64 `json:"gs,omitempty"`
	// ExceptUser and ExceptConn are left out of the above.
	ExceptUser int64  `json:"xu,omitempty"`
	ExceptConn string `json:"xc,omitempty"`

	// Join: before the event is delivered, this user's connections start
	// receiving the event's group.
	Join int64 `json:"j,omitempty"`
	// Leave: after it is delivered, this user's connections stop receiving
	// the event's group.
	Leave int64 `json:"l,omitempty"`
	// Dissolve: after it is delivered, no connection receives the group.
	Dissolve bool `json:"d,omitempty"`
	// Close: this user's connections of the Sessions are closed (4401)
	// and get no frame; all of them when Sessions is empty.
	Close int64 `json:"c,omitempty"`
	// Sessions ended: every instance refuses their access tokens.
	Sessions []string `json:"ss,omitempty"`
}

// Audience is the one rule of who receives each event type.
func (e Event) Audience() Audience {
	switch e.Type {
	case EventMessage, EventMessageUpdated, EventMessageDeleted, EventGroupUpdated:
		// Every member's every connection, the author's own included.
		return Audience{Group: true}
	case EventMemberJoined:
		// The members, the new one included from this event on.
		var joined int64
		if e.User != nil {
			joined = e.User.ID
		}
		return Audience{Group: true, Join: joined}
	case EventMemberLeft:
		// The members and the one who left, who hears nothing after it.
		return Audience{Users: withUser(e.Members, e.UserID), Leave: e.UserID}
	case EventGroupDeleted:
		return Audience{Users: e.Members, Dissolve: true}
	case EventTyping:
		// The other members: none of the typist's connections.
		return Audience{Group: true, ExceptUser: e.UserID, ExceptConn: e.Conn}
	case EventRead:
		if e.UserID != 0 {
			// A read receipt (ReadEvents made it only for a reader who
			// shares them): the other members, none of the reader's
			// connections.
			return Audience{Group: true, ExceptUser: e.UserID}
		}
		// The reader's other connections (their unread counts move).
		return Audience{Users: []int64{e.Actor}, ExceptConn: e.Conn}
	case EventPresence:
		// Everyone who shares a group with the user, but the user.
		return Audience{Groups: e.Groups, ExceptUser: e.UserID}
	case EventSessionsEnded:
		return Audience{Close: e.UserID, Sessions: e.Sessions}
	}
	return Audience{}
}

func withUser(users []int64, uid int64) []int64 {
	for _, u := range users {
		if u == uid {
			return users
		}
	}
	return append(users[:len(users):len(users)], uid)
}

// ReadEvents are the events of reader's read marker in group moving to seq
// (from connection conn, "" for REST): the reader's other connections hear
// of it without user_id (their unread counts move); when the reader shares
// read receipts, the other members hear of it with user_id. A reader who
// does not share is in no event the other members get.
func ReadEvents(group, reader, seq int64, conn string, shares bool) []Event {
	evs := []Event{{Type: EventRead, GroupID: group, Seq: seq, Actor: reader, Conn: conn}}
	if shares {
		evs = append(evs, Event{Type: EventRead, GroupID: group, UserID: reader, Seq: seq, Actor: reader})
	}
	return evs
}
