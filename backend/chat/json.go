package chat

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends m as encoding/json encodes it, byte for byte, without
// reflection. Messages are the bulk of what the server writes (history
// pages, message events, acks), and encoding/json's reflective encoder was
// the largest single cost of the history endpoint. json_test.go holds it
// to json.Marshal's output.
func (m *Message) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, m.ID, 10)
	b = append(b, `,"group_id":`...)
	b = strconv.AppendInt(b, m.GroupID, 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, m.Seq, 10)
	b = append(b, `,"sender":`...)
	b = m.Sender.AppendJSON(b)
	b = append(b, `,"body":`...)
	b = appendString(b, m.Body)
	b = append(b, `,"client_id":`...)
	if m.ClientID == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *m.ClientID)
	}
	b = append(b, `,"created_at":`...)
	b = appendTime(b, m.CreatedAt)
	b = append(b, `,"edited_at":`...)
	if m.EditedAt == nil {
		b = append(b, "null"...)
	} else {
		b = appendTime(b, *m.EditedAt)
	}
	b = append(b, `,"deleted":`...)
	b = strconv.AppendBool(b, m.Deleted)
	b = append(b, `,"mentions":`...)
	if m.Mentions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, id := range m.Mentions {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, id, 10)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// AppendJSON appends u as encoding/json encodes it.
func (u *User) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, u.ID, 10)
	b = append(b, `,"username":`...)
	b = appendString(b, u.Username)
	b = append(b, `,"display_name":`...)
	b = appendString(b, u.DisplayName)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, u.CreatedAt)
	if u.Online != nil {
		b = append(b, `,"online":`...)
		b = strconv.AppendBool(b, *u.Online)
	}
	if u.ShareReadReceipts != nil {
		b = append(b, `,"share_read_receipts":`...)
		b = strconv.AppendBool(b, *u.ShareReadReceipts)
	}
	return append(b, '}')
}

// AppendMessageEvent appends the "message" event of m as encoding/json
// encodes Event{Type: EventMessage, GroupID: m.GroupID, Message: m}.
func AppendMessageEvent(b []byte, m *Message) []byte {
	b = append(b, `{"type":"message"`...)
	if m.GroupID != 0 {
		b = append(b, `,"group_id":`...)
		b = strconv.AppendInt(b, m.GroupID, 10)
	}
	b = append(b, `,"message":`...)
	b = m.AppendJSON(b)
	return append(b, '}')
}

// appendTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds, trailing zeros dropped). Times outside years 0-9999, which
// MarshalJSON refuses, never come from the store.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// AppendJSONString appends s as encoding/json encodes a string.
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }

// appendString appends s as a JSON string. Printable ASCII other than
// " \ < > & and valid UTF-8 other than U+2028 and U+2029 appear as they
// are, which is what encoding/json writes for them; a string with anything
// else (control characters, characters it escapes for HTML or JavaScript,
// invalid UTF-8) is rare in chat text and is left to encoding/json whole.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendStringSlow(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			return appendStringSlow(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendStringSlow(b []byte, s string) []byte {
	q, err := json.Marshal(s)
	if err != nil {
		// Marshal never fails on a string; keep the output valid anyway.
		return append(b, `""`...)
	}
	return append(b, q...)
}
