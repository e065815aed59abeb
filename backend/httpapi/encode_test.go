package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

func TestAppendHistoryPage(t *testing.T) {
	at := time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)
	msgs := []chat.Message{
		{ID: 1, GroupID: 2, Seq: 1, Body: "<b>not bold</b>", CreatedAt: at, Sender: chat.User{ID: 3, Username: "u", CreatedAt: at}},
		{ID: 2, GroupID: 2, Seq: 2, Deleted: true, CreatedAt: at, EditedAt: &at},
	}
	for _, tc := range []struct {
		items []chat.Message
		more  bool
	}{{nil, false}, {msgs[:1], true}, {msgs, false}} {
		items := tc.items
		if items == nil {
			items = []chat.Message{} // the page always has a list
		}
		want, err := json.Marshal(struct {
			Items   []chat.Message `json:"items"`
			HasMore bool           `json:"has_more"`
		}{items, tc.more})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendHistoryPage(nil, tc.items, tc.more); !bytes.Equal(got, want) {
			t.Errorf("appendHistoryPage =\n%s\nwant\n%s", got, want)
		}
	}
}
