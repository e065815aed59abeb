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

	// EventSessionsEnded is never sent to a client: every instance closes
	// the connections of UserID (4401) when it hears of it, because the
	// user's password changed.
	EventSessionsEnded EventType = "sessions_ended"
)

// Event is something that happened which connected clients should hear of.
// It is produced by the use cases after the change is committed and carried
// to every instance by the broker. The JSON shape is the wire shape of the
// WebSocket event; the routing fields are not part of it.
type Event struct {
	Type    EventType `json:"type"`
	GroupID int64     `json:"group_id,omitempty"`
	Message *Message  `json:"message,omitempty"`
	UserID  int64     `json:"user_id,omitempty"`
	Seq     int64     `json:"seq,omitempty"`
	Online  *bool     `json:"online,omitempty"`
	User    *User     `json:"user,omitempty"`
	Group   *Group    `json:"group,omitempty"`

	// ToUsers, when set, limits delivery to these users' connections instead
	// of the members of GroupID (read markers go to the reader's own
	// connections; presence goes to users who share a group).
	ToUsers []int64 `json:"-"`
	// ToGroups, when set (and ToUsers is not), limits delivery to the
	// connections of these groups' members, each connection once and none
	// of UserID's own (presence goes to the users who share a group with
	// UserID, found from the groups the hub already indexes).
	ToGroups []int64 `json:"-"`
	// ExceptConn names a connection that must not receive the event (the
	// typing sender's own connection, the reader's connection).
	ExceptConn string `json:"-"`
}
