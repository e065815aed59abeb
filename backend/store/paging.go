package store

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/chatapp/chat/chat"
)

// Search cursors are opaque to clients: base64 of "o:<offset>". An offset
// is enough for relevance-ordered results, whose order has no natural key.
const cursorPrefix = "o:"

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), cursorPrefix); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("bad cursor: %w", chat.Invalid(map[string]string{"cursor": "is not valid"}))
}

// containsPattern is the LIKE pattern (with ESCAPE '\') matching q
// anywhere, its wildcards escaped so that they match literally.
func containsPattern(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 2)
	b.WriteByte('%')
	for _, r := range q {
		if r == '%' || r == '_' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('%')
	return b.String()
}
