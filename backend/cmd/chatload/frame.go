package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

type frameKind uint8

const (
	kindOther frameKind = iota
	kindMessage
	kindAck
	kindError
	kindReady
	kindResumed
)

// frame is what the load generator needs from a server → client frame.
type frame struct {
	kind    frameKind
	groupID int64
	seq     int64
	sentAt  int64  // ns since the run's start, from a body written by sendBody; -1 if none
	code    string // error code of an error frame
}

// bodyMarker starts every message body the load generator sends; the number
// after it is the send time, so that any receiver can compute the latency
// without shared state.
const bodyMarker = "cl:"

// sendBody appends a message body carrying the send time (ns since the
// run's start), padded with 'x' to size bytes.
func sendBody(dst []byte, sentAt time.Duration, size int) []byte {
	start := len(dst)
	dst = append(dst, bodyMarker...)
	dst = strconv.AppendInt(dst, int64(sentAt), 10)
	dst = append(dst, ' ')
	for len(dst)-start < size {
		dst = append(dst, 'x')
	}
	return dst
}

var (
	prefixMessage = []byte(`{"type":"message"`)
	prefixAck     = []byte(`{"type":"ack"`)
	keySeq        = []byte(`"seq":`)
	keyGroupID    = []byte(`"group_id":`)
	keyBody       = []byte(`"body":"` + bodyMarker)
)

// parseFrame fills f from one text frame. message and ack frames, which are
// nearly all of the traffic, are read by scanning for three keys (our bodies
// hold no escapes); anything else, or a frame the scan does not recognise, is
// decoded with encoding/json, so the scan is a shortcut, never a guess.
func parseFrame(b []byte, f *frame) error {
	*f = frame{sentAt: -1}
	switch {
	case bytes.HasPrefix(b, prefixMessage):
		if scanMessage(b, f) {
			f.kind = kindMessage
			return nil
		}
	case bytes.HasPrefix(b, prefixAck):
		if scanMessage(b, f) {
			f.kind = kindAck
			return nil
		}
	}
	return decodeFrame(b, f)
}

func scanMessage(b []byte, f *frame) bool {
	var ok bool
	if f.seq, ok = intAfter(b, keySeq); !ok {
		return false
	}
	if f.groupID, ok = intAfter(b, keyGroupID); !ok {
		return false
	}
	if f.sentAt, ok = intAfter(b, keyBody); !ok {
		f.sentAt = -1
		return false
	}
	return true
}

// intAfter parses the non-negative integer right after the first key in b.
func intAfter(b, key []byte) (int64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	b = b[i+len(key):]
	var v int64
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' && n < 18 {
		v = v*10 + int64(b[n]-'0')
		n++
	}
	return v, n > 0
}

type wireFrame struct {
	Type    string `json:"type"`
	Message *struct {
		GroupID int64  `json:"group_id"`
		Seq     int64  `json:"seq"`
		Body    string `json:"body"`
	} `json:"message"`
	Error *struct {
		Code string `json:"code"`
	} `json:"error"`
}

func decodeFrame(b []byte, f *frame) error {
	var w wireFrame
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode frame: %w", err)
	}
	switch w.Type {
	case "message":
		f.kind = kindMessage
	case "ack":
		f.kind = kindAck
	case "error":
		f.kind = kindError
		if w.Error != nil {
			f.code = w.Error.Code
		}
	case "ready":
		f.kind = kindReady
	case "resumed":
		f.kind = kindResumed
	}
	if w.Message != nil {
		f.groupID, f.seq = w.Message.GroupID, w.Message.Seq
		f.sentAt = bodySentAt(w.Message.Body)
	}
	return nil
}

// bodySentAt returns the send time a body written by sendBody carries, or
// -1 for any other body.
func bodySentAt(body string) int64 {
	rest, ok := strings.CutPrefix(body, bodyMarker)
	if !ok {
		return -1
	}
	if v, ok := intAfter([]byte(rest), nil); ok {
		return v
	}
	return -1
}
