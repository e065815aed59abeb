package realtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chatapp/chat/chat"
)

// envelope is what travels through the broker: the client bytes of one
// event, encoded once by the instance that published it, plus what every
// instance needs to deliver it without decoding the event again: its
// audience (chat.Event.Audience, computed once, here) and, for messages,
// the seq and sender the sequencer orders by.
//
// On the wire it is the routing fields as a one-line JSON object, a
// newline, then the event bytes as they are (JSON never holds a raw
// newline, so the first one ends the header). Neither side parses, copies
// or re-validates the event: with the event inside a JSON envelope,
// encoding and decoding it cost as much as encoding the event itself.
type envelope struct {
	Type     chat.EventType `json:"t"`
	Group    int64          `json:"g,omitempty"`
	Seq      int64          `json:"s,omitempty"` // message events only
	Sender   int64          `json:"u,omitempty"` // message events only
	Audience chat.Audience  `json:"a"`
	Origin   string         `json:"o,omitempty"` // the publishing instance (it routed the event itself)
	Event    []byte         `json:"-"`
}

func newEnvelope(ev chat.Event) (envelope, error) {
	var raw []byte
	if m := ev.Message; ev.Type == chat.EventMessage && m != nil && ev.GroupID == m.GroupID &&
		ev.UserID == 0 && ev.Seq == 0 && ev.Online == nil && ev.User == nil && ev.Group == nil {
		// The hot path (every sent message), without reflection.
		raw = chat.AppendMessageEvent(make([]byte, 0, 512), m)
	} else {
		var err error
		if raw, err = json.Marshal(ev); err != nil {
			return envelope{}, fmt.Errorf("realtime: encode event: %w", err)
		}
	}
	env := envelope{Type: ev.Type, Group: ev.GroupID, Audience: ev.Audience(), Event: raw}
	if env.Group == 0 {
		switch {
		case ev.Message != nil:
			env.Group = ev.Message.GroupID
		case ev.Group != nil:
			env.Group = ev.Group.ID
		}
	}
	if ev.Type == chat.EventMessage && ev.Message != nil {
		env.Seq, env.Sender = ev.Message.Seq, ev.Message.Sender.ID
	}
	return env, nil
}

// encode is the broker payload of the envelope.
func (env *envelope) encode() ([]byte, error) {
	head, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("realtime: encode envelope: %w", err)
	}
	b := make([]byte, 0, len(head)+1+len(env.Event))
	b = append(b, head...)
	b = append(b, '\n')
	return append(b, env.Event...), nil
}

// errEnvelope reports a broker payload that is not an envelope.
var errEnvelope = errors.New("realtime: broker payload is not an envelope")

// decodeEnvelope reads a broker payload. The event bytes are a slice of
// payload, which the broker hands over for good.
func decodeEnvelope(payload []byte) (envelope, error) {
	var env envelope
	i := bytes.IndexByte(payload, '\n')
	if i < 0 || i == len(payload)-1 {
		return env, errEnvelope
	}
	if err := json.Unmarshal(payload[:i], &env); err != nil {
		return env, fmt.Errorf("%w: %w", errEnvelope, err)
	}
	env.Event = payload[i+1:]
	return env, nil
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
	return chat.AppendMessageEvent(make([]byte, 0, 512), &m)
}

// ackFrame encodes the answer to a send: {"type":"ack","ref":…,"message":…}.
func ackFrame(ref string, m *chat.Message) []byte {
	b := make([]byte, 0, 512)
	b = append(b, `{"type":"ack"`...)
	if ref != "" {
		b = append(b, `,"ref":`...)
		b = chat.AppendJSONString(b, ref)
	}
	b = append(b, `,"message":`...)
	b = m.AppendJSON(b)
	return append(b, '}')
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
	// A send's reply and attachments, as in REST.
	ReplyToID     *int64  `json:"reply_to_id,omitempty"`
	AttachmentIDs []int64 `json:"attachment_ids,omitempty"`
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

type simpleFrame struct {
	Type string     `json:"type"`
	Ref  string     `json:"ref,omitempty"`
	User *chat.User `json:"user,omitempty"`
}

// reauthedFrame answers an in-band auth: the connection now lasts
// ExpiresIn seconds unless the client authenticates again.
type reauthedFrame struct {
	Type      string `json:"type"`
	Ref       string `json:"ref,omitempty"`
	ExpiresIn int64  `json:"expires_in"`
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("realtime: encode frame: %v", err))
	}
	return b
}

// errorBody is what a client may see of an error (chat.Describe, the one
// table of API.md's Errors).
func errorBody(err error) errBody {
	d := chat.Describe(err)
	return errBody{Code: d.Code, Message: d.Message, Details: d.Details}
}

func errFrame(ref string, err error) []byte {
	return encode(errorFrame{Type: "error", Ref: ref, Error: errorBody(err)})
}
