package realtime

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chatapp/chat/chat"
)

// envelope is what travels through the broker: the client bytes of one
// event, encoded once by the instance that published it, plus the few
// routing fields every instance needs without decoding the event again.
type envelope struct {
	Type   chat.EventType  `json:"t"`
	Group  int64           `json:"g,omitempty"`
	Seq    int64           `json:"s,omitempty"`  // message events only
	User   int64           `json:"u,omitempty"`  // the member who joined/left, the typist, the presence subject
	To     []int64         `json:"to,omitempty"` // only these users' connections
	Except string          `json:"x,omitempty"`  // not this connection
	Event  json.RawMessage `json:"e"`
}

func newEnvelope(ev chat.Event) (envelope, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return envelope{}, fmt.Errorf("realtime: encode event: %w", err)
	}
	env := envelope{Type: ev.Type, Group: ev.GroupID, To: ev.ToUsers, Except: ev.ExceptConn, Event: raw}
	if env.Group == 0 {
		switch {
		case ev.Message != nil:
			env.Group = ev.Message.GroupID
		case ev.Group != nil:
			env.Group = ev.Group.ID
		}
	}
	switch ev.Type {
	case chat.EventMessage:
		if ev.Message != nil {
			env.Seq = ev.Message.Seq
		}
	case chat.EventMemberJoined:
		if ev.User != nil {
			env.User = ev.User.ID
		}
		if env.User == 0 {
			env.User = ev.UserID
		}
	default:
		env.User = ev.UserID
	}
	return env, nil
}

// encode is the broker payload of the envelope.
func (env *envelope) encode() ([]byte, error) {
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("realtime: encode envelope: %w", err)
	}
	return b, nil
}

// encodeEnvelope is Notify's encoding: the client frame, once, inside the
// broker envelope.
func encodeEnvelope(ev chat.Event) ([]byte, error) {
	env, err := newEnvelope(ev)
	if err != nil {
		return nil, err
	}
	return env.encode()
}

// messageFrame encodes a stored message as the event a client receives.
func messageFrame(m chat.Message) []byte {
	b, err := json.Marshal(chat.Event{Type: chat.EventMessage, GroupID: m.GroupID, Message: &m})
	if err != nil {
		// A chat.Message always encodes; this would be a programming error.
		panic(fmt.Sprintf("realtime: encode message: %v", err))
	}
	return b
}

// inFrame is any client → server frame; which fields matter depends on Type.
type inFrame struct {
	Type     string           `json:"type"`
	Ref      string           `json:"ref,omitempty"`
	Token    string           `json:"token,omitempty"`
	Cursors  map[string]int64 `json:"cursors,omitempty"`
	GroupID  int64            `json:"group_id,omitempty"`
	Body     string           `json:"body,omitempty"`
	ClientID *string          `json:"client_id,omitempty"`
	Seq      int64            `json:"seq,omitempty"`
}

type errBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details map[string]string `json:"details,omitempty"`
}

type errorFrame struct {
	Type  string  `json:"type"`
	Ref   string  `json:"ref,omitempty"`
	Error errBody `json:"error"`
}

type ackFrame struct {
	Type    string        `json:"type"`
	Ref     string        `json:"ref,omitempty"`
	Message *chat.Message `json:"message"`
}

type simpleFrame struct {
	Type string     `json:"type"`
	Ref  string     `json:"ref,omitempty"`
	User *chat.User `json:"user,omitempty"`
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("realtime: encode frame: %v", err))
	}
	return b
}

// errorBody maps an error to the code and sentence a client may see; the
// table matches the HTTP one (API.md, Errors).
func errorBody(err error) errBody {
	var ce *chat.Error
	if errors.As(err, &ce) {
		return errBody{Code: ce.Code, Message: ce.Message, Details: ce.Details}
	}
	for _, k := range []struct {
		kind error
		code string
		msg  string
	}{
		{chat.ErrInvalid, "validation_failed", "Some fields are not valid."},
		{chat.ErrUnauthorized, "unauthorized", "Authentication is required."},
		{chat.ErrForbidden, "forbidden", "You are not allowed to do this."},
		{chat.ErrNotFound, "not_found", "Not found."},
		{chat.ErrConflict, "conflict", "This conflicts with the current state."},
		{chat.ErrTooLarge, "payload_too_large", "The frame is too large."},
		{chat.ErrRateLimited, "rate_limited", "Too many frames; slow down."},
		{chat.ErrUnavailable, "unavailable", "The service is temporarily unavailable."},
	} {
		if errors.Is(err, k.kind) {
			return errBody{Code: k.code, Message: k.msg}
		}
	}
	return errBody{Code: "internal", Message: "Something went wrong."}
}

func errFrame(ref string, err error) []byte {
	return encode(errorFrame{Type: "error", Ref: ref, Error: errorBody(err)})
}
