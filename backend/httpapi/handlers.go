package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// listPage is the envelope of cursor-paged lists; NextCursor is null on the
// last page.
type listPage[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func newListPage[T any](items []T, cursor string) listPage[T] {
	if items == nil {
		items = []T{} // an empty list is [], never null
	}
	p := listPage[T]{Items: items}
	if cursor != "" {
		p.NextCursor = &cursor
	}
	return p
}

type itemsOnly[T any] struct {
	Items []T `json:"items"`
}

func newItems[T any](items []T) itemsOnly[T] {
	if items == nil {
		items = []T{}
	}
	return itemsOnly[T]{Items: items}
}

// pathID reads a positive integer path parameter; on failure it answers 400.
func (a *api) pathID(c *gin.Context, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		a.invalid(c, map[string]string{name: "must be a positive integer"})
		return 0, false
	}
	return id, true
}

// byID is the handler of a use case that needs only the caller and the id
// in the path (":id"): it answers status with the result, or the error.
func byID[T any](a *api, status int, call func(ctx context.Context, uid, id int64) (T, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := a.pathID(c, "id")
		if !ok {
			return
		}
		v, err := call(c.Request.Context(), uid(c), id)
		if err != nil {
			a.fail(c, err)
			return
		}
		c.JSON(status, v)
	}
}

// byIDNoContent is byID for a use case with nothing to return: 204.
func byIDNoContent(a *api, call func(ctx context.Context, uid, id int64) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := a.pathID(c, "id")
		if !ok {
			return
		}
		if err := call(c.Request.Context(), uid(c), id); err != nil {
			a.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// queryInt reads an optional integer query parameter within [lo, hi];
// absent gives def.
func queryInt(c *gin.Context, name string, def, lo, hi int64, details map[string]string) int64 {
	s, ok := c.GetQuery(name)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		if hi == maxInt64 {
			details[name] = "must be an integer of at least " + strconv.FormatInt(lo, 10)
		} else {
			details[name] = "must be an integer from " + strconv.FormatInt(lo, 10) + " to " + strconv.FormatInt(hi, 10)
		}
		return def
	}
	return n
}

const maxInt64 = int64(^uint64(0) >> 1)

// page reads q, limit and cursor of a search.
func (a *api) page(c *gin.Context) (app.Page, bool) {
	details := map[string]string{}
	p := app.Page{
		Query:  c.Query("q"),
		Limit:  int(queryInt(c, "limit", 0, 1, chat.SearchPageMax, details)),
		Cursor: c.Query("cursor"),
	}
	if len(p.Cursor) > 512 {
		details["cursor"] = "is not valid"
	}
	if len(details) > 0 {
		a.invalid(c, details)
		return app.Page{}, false
	}
	return p, true
}
