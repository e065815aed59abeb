package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/chat"
)

// maxBodyBytes caps every REST request body (API.md: 1 MiB).
const maxBodyBytes = 1 << 20

// maxAuthBodyBytes caps the bodies of /auth/* (API.md: 4 KiB): they hold a
// username, a password and a token, and are read before anyone is known.
const maxAuthBodyBytes = 4 << 10

// bodyLimitKey is the Gin context key of a route's own body limit.
type bodyLimitKey struct{}

// limitBody gives the routes it is used on a body limit of n bytes.
func limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(bodyLimitKey{}, n)
		c.Next()
	}
}

// bodyLimit is the request's body limit: its route's own, else maxBodyBytes.
func bodyLimit(c *gin.Context) int64 {
	if v, ok := c.Get(bodyLimitKey{}); ok {
		if n, ok := v.(int64); ok {
			return n
		}
	}
	return maxBodyBytes
}

// decodeJSON reads the request body strictly into dst, a pointer to a struct
// whose fields carry json tags: the Content-Type must be JSON, the body one
// JSON object and nothing after it, every key a known field (matched
// exactly, not ignoring case as encoding/json would) and every value of the
// field's type. On failure it answers the request and returns false.
//
// The object is first read into raw values per key and then each value into
// its field, so that every failure can be named by field without reading
// the text of decoder errors.
func (a *api) decodeJSON(c *gin.Context, dst any) bool {
	if !isJSON(c.GetHeader("Content-Type")) {
		a.fail(c, &chat.Error{Kind: errUnsupportedMedia, Code: "unsupported_media_type", Message: "The body must be JSON (Content-Type: application/json)."})
		return false
	}
	limit := bodyLimit(c)
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			a.fail(c, chat.Fail(chat.ErrTooLarge, fmt.Sprintf("The body must not exceed %d bytes.", limit)))
			return false
		}
		// The client went away or sent a broken chunked body.
		a.fail(c, chat.InvalidJSON("The body could not be read."))
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		a.fail(c, chat.InvalidJSON("The body is empty; a JSON object is expected."))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			a.fail(c, chat.InvalidJSON("The body must be a JSON object."))
			return false
		}
		a.fail(c, chat.InvalidJSON("The body is not valid JSON."))
		return false
	}
	if obj == nil { // the body was the literal null
		a.fail(c, chat.InvalidJSON("The body must be a JSON object."))
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		a.fail(c, chat.InvalidJSON("The body must hold exactly one JSON object."))
		return false
	}

	v := reflect.ValueOf(dst).Elem()
	fields := jsonFields(v.Type())
	details := map[string]string{}
	for key, raw := range obj {
		idx, ok := fields[key]
		if !ok {
			details[key] = "unknown field"
			continue
		}
		f := v.Field(idx)
		if err := json.Unmarshal(raw, f.Addr().Interface()); err != nil {
			details[key] = "must be " + describeType(f.Type())
		}
	}
	if len(details) > 0 {
		a.invalid(c, details)
		return false
	}
	return true
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// jsonFields maps the json names of a struct's exported fields to their index.
func jsonFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = i
	}
	return m
}

// describeType names a field's JSON type for a validation message.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
