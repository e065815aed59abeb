package chat

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SearchQueryMax bounds a message search query, in characters.
const SearchQueryMax = 400

// SearchTerm is one part of a message search: a word (one element) or a
// quoted phrase (its words in order), to find or, with Exclude, to leave
// out. Prefix: the last word also matches as a prefix.
type SearchTerm struct {
	Words   []string
	Exclude bool
	Prefix  bool
}

// SearchQuery is a parsed message search (API.md: words, "quoted
// phrases", -excluded words or phrases, and the last word also matching
// as a prefix). Every term must match but the excluded, which must not.
// Stores render it in their own syntax; words hold only letters, digits
// and marks, lower-cased, so that no store's operators can hide in them.
type SearchQuery struct {
	Terms []SearchTerm
}

// ParseSearch applies the text rules to a message search query (at most
// SearchQueryMax characters) and reads it. Words are runs of letters,
// digits and marks; anything else separates them, so "e-mail" is the
// phrase "e mail". A query with nothing to find (empty, or only exclusions
// and punctuation) is invalid (code search_query_empty).
func ParseSearch(raw string) (SearchQuery, *Error) {
	q, err := searchQueryField.normalize(raw)
	if err != nil {
		return SearchQuery{}, err
	}
	var out SearchQuery
	lastBare := -1 // the index of the last term if it is a bare word
	for i := 0; i < len(q); {
		r, size := utf8.DecodeRuneInString(q[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
			continue
		case r == '"' || (r == '-' && strings.HasPrefix(q[i+size:], `"`)):
			// A phrase, perhaps excluded; an unclosed quote runs to the end.
			exclude := r == '-'
			if exclude {
				i += size
			}
			end := strings.IndexByte(q[i+1:], '"')
			text := q[i+1:]
			if end >= 0 {
				text = q[i+1 : i+1+end]
				i += end + 2
			} else {
				i = len(q)
			}
			if words := searchWords(text); len(words) > 0 {
				out.Terms = append(out.Terms, SearchTerm{Words: words, Exclude: exclude})
			}
			lastBare = -1
		default:
			exclude := r == '-'
			if exclude {
				i += size
			}
			end := strings.IndexFunc(q[i:], func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
			text := q[i:]
			if end >= 0 {
				text = q[i : i+end]
				i += end
			} else {
				i = len(q)
			}
			words := searchWords(text)
			if len(words) == 0 {
				continue
			}
			out.Terms = append(out.Terms, SearchTerm{Words: words, Exclude: exclude})
			lastBare = -1
			if !exclude && len(words) == 1 {
				lastBare = len(out.Terms) - 1
			}
		}
	}
	if lastBare >= 0 && lastBare == len(out.Terms)-1 {
		out.Terms[lastBare].Prefix = true
	}
	for _, t := range out.Terms {
		if !t.Exclude {
			return out, nil
		}
	}
	return SearchQuery{}, &Error{Kind: ErrInvalid, Code: "search_query_empty",
		Message: "The search needs at least one word to find.", Details: map[string]string{"q": "needs at least one word that is not excluded"}}
}

// searchWords splits text into lower-cased words of letters, digits and
// marks.
func searchWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
}
