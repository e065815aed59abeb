package chat_test

import (
	"testing"

	"github.com/chatapp/chat/chat"
)

func TestPageLimits(t *testing.T) {
	tests := []struct {
		name    string
		fn      func(int) (int, *chat.Error)
		in      int
		want    int
		refused bool
	}{
		{"history default", chat.HistoryLimit, 0, chat.HistoryPageDefault, false},
		{"history one", chat.HistoryLimit, 1, 1, false},
		{"history max", chat.HistoryLimit, chat.HistoryPageMax, chat.HistoryPageMax, false},
		{"history over", chat.HistoryLimit, chat.HistoryPageMax + 1, 0, true},
		{"history negative", chat.HistoryLimit, -1, 0, true},
		{"search default", chat.SearchLimit, 0, chat.SearchPageDefault, false},
		{"search max", chat.SearchLimit, chat.SearchPageMax, chat.SearchPageMax, false},
		{"search over", chat.SearchLimit, chat.SearchPageMax + 1, 0, true},
		{"search negative", chat.SearchLimit, -1, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.fn(tc.in)
			if tc.refused {
				check(t, err, "limit")
				return
			}
			check(t, err, "")
			if got != tc.want {
				t.Fatalf("limit %d = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ in, want int }{
		{-1, chat.SearchPageDefault}, {0, chat.SearchPageDefault}, {1, 1},
		{chat.SearchPageMax, chat.SearchPageMax}, {chat.SearchPageMax + 1, chat.SearchPageMax},
	} {
		if got := chat.ClampSearchLimit(tc.in); got != tc.want {
			t.Errorf("ClampSearchLimit(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
