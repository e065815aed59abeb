package chat

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MentionsMax bounds the names one body may mention: a body of 4000
// characters could otherwise name a thousand candidates to resolve.
const MentionsMax = 50

// ParseMentions returns the usernames a body names as "@username",
// lower-cased, each once, in order of first appearance, at most
// MentionsMax. The rules (API.md, Messages): an "@" at the start of the
// body or after a character that is neither a letter, a digit, "@" nor a
// username character ("_", ".", "-"), so that "a@b.c" names no one;
// then the name runs to the first character that cannot be in a username;
// a run of 3 to 32 characters is a candidate, and so is the run without
// its trailing "." and "-" (sentence punctuation: "thanks @bob."). Whether
// a candidate is a member of the group is the store's to resolve.
func ParseMentions(body string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		if n := len(name); n < UsernameMin || n > UsernameMax || seen[name] || len(out) >= MentionsMax {
			return
		}
		seen[name] = true
		out = append(out, name)
	}
	prev := rune(-1) // none: the start of the body
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRuneInString(body[i:])
		if r != '@' || !mentionBoundary(prev) {
			prev = r
			i += size
			continue
		}
		j := i + 1
		for j < len(body) && body[j] < utf8.RuneSelf && usernameRune(rune(body[j])) {
			j++
		}
		run := strings.ToLower(body[i+1 : j])
		add(run)
		add(strings.TrimRight(run, ".-"))
		// The character before the next one is the run's last (or the
		// "@" itself): "@bob@carol" names bob only.
		prev = rune(body[j-1])
		i = j
	}
	return out
}

// mentionBoundary reports whether an "@" after prev (-1: none) may start a
// mention.
func mentionBoundary(prev rune) bool {
	if prev == -1 {
		return true
	}
	return prev != '@' && !usernameRune(prev) && !unicode.IsLetter(prev) && !unicode.IsDigit(prev)
}
