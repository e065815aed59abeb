package chat_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/chatapp/chat/chat"
)

func TestParseSearch(t *testing.T) {
	w := func(words ...string) chat.SearchTerm { return chat.SearchTerm{Words: words} }
	pre := func(word string) chat.SearchTerm { return chat.SearchTerm{Words: []string{word}, Prefix: true} }
	ex := func(words ...string) chat.SearchTerm { return chat.SearchTerm{Words: words, Exclude: true} }
	tests := []struct {
		q    string
		want []chat.SearchTerm
	}{
		{"hello", []chat.SearchTerm{pre("hello")}},
		{"Hello World", []chat.SearchTerm{w("hello"), pre("world")}},
		{`"big news" today`, []chat.SearchTerm{w("big", "news"), pre("today")}},
		{`today "big news"`, []chat.SearchTerm{w("today"), w("big", "news")}},
		{"lunch -pizza", []chat.SearchTerm{w("lunch"), ex("pizza")}},
		{`lunch -"deep dish" pi`, []chat.SearchTerm{w("lunch"), ex("deep", "dish"), pre("pi")}},
		{"e-mail", []chat.SearchTerm{w("e", "mail")}},
		{"café's", []chat.SearchTerm{w("café", "s")}},
		{`"unclosed phrase`, []chat.SearchTerm{w("unclosed", "phrase")}},
		{"a OR b", []chat.SearchTerm{w("a"), w("or"), pre("b")}},
		{"NEAR(x y) *", []chat.SearchTerm{w("near", "x"), pre("y")}},
		{"x:* & !y", []chat.SearchTerm{w("x"), pre("y")}},
	}
	for _, tc := range tests {
		got, err := chat.ParseSearch(tc.q)
		if err != nil {
			t.Errorf("ParseSearch(%q) = %v", tc.q, err)
			continue
		}
		if !reflect.DeepEqual(got.Terms, tc.want) {
			t.Errorf("ParseSearch(%q) = %+v, want %+v", tc.q, got.Terms, tc.want)
		}
	}
	for _, q := range []string{"", "   ", "-pizza", `-"deep dish" -x`, `"" - --`, "*:& !", strings.Repeat("x", 401)} {
		if _, err := chat.ParseSearch(q); err == nil || err.Kind != chat.ErrInvalid || err.Details["q"] == "" {
			t.Errorf("ParseSearch(%q) = %v, want a validation error of q", q, err)
		}
	}
	if _, err := chat.ParseSearch(strings.Repeat("x", 400)); err != nil {
		t.Errorf("a query of 400 characters: %v", err)
	}
}
