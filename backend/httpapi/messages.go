package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

func (a *api) history(c *gin.Context) {
	gid, ok := a.pathID(c, "id")
	if !ok {
		return
	}
	// before_seq pages back, after_seq catches up: one or the other.
	details := map[string]string{}
	q := chat.HistoryQuery{
		BeforeSeq: queryInt(c, "before_seq", 0, 1, maxInt64, details),
		Limit:     int(queryInt(c, "limit", 0, 1, chat.HistoryPageMax, details)),
	}
	_, hasBefore := c.GetQuery("before_seq")
	if _, hasAfter := c.GetQuery("after_seq"); hasAfter {
		q.After = new(queryInt(c, "after_seq", 0, 0, maxInt64, details))
		if hasBefore {
			details["before_seq"] = "cannot be combined with after_seq"
		}
	}
	if len(details) > 0 {
		a.invalid(c, details)
		return
	}
	items, more, err := a.svc.History(c.Request.Context(), uid(c), gid, q)
	if err != nil {
		a.fail(c, err)
		return
	}
	body := appendHistoryPage(make([]byte, 0, 64+400*len(items)), items, more)
	// With its length known the page goes out in one piece, not chunked.
	c.Header("Content-Length", strconv.Itoa(len(body)))
	c.Data(http.StatusOK, jsonContentType, body)
}

// jsonContentType is what gin's c.JSON sends.
const jsonContentType = "application/json; charset=utf-8"

// appendHistoryPage encodes a historyPage without reflection (the history
// read is the busiest endpoint and messages encode by hand: chat.Message's
// AppendJSON); the bytes are what encoding/json makes of
// {"items": items, "has_more": more}.
func appendHistoryPage(b []byte, items []chat.Message, more bool) []byte {
	b = append(b, `{"items":[`...)
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = items[i].AppendJSON(b)
	}
	b = append(b, `],"has_more":`...)
	b = strconv.AppendBool(b, more)
	return append(b, '}')
}

type sendRequest struct {
	Body          *string `json:"body"`
	ClientID      *string `json:"client_id"`
	ReplyToID     *int64  `json:"reply_to_id"`
	AttachmentIDs []int64 `json:"attachment_ids"`
}

func (a *api) send(c *gin.Context) {
	gid, ok := a.pathID(c, "id")
	if !ok {
		return
	}
	var in sendRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	if in.Body == nil && len(in.AttachmentIDs) == 0 {
		a.invalid(c, map[string]string{"body": "is required"})
		return
	}
	var body string
	if in.Body != nil {
		body = *in.Body
	}
	m, created, err := a.svc.Send(c.Request.Context(), uid(c), gid, app.Outgoing{
		Body: body, ClientID: in.ClientID, ReplyTo: in.ReplyToID, Attachments: in.AttachmentIDs,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(createdOr200(created), m)
}

type editRequest struct {
	Body *string `json:"body"`
}

func (a *api) editMessage(c *gin.Context) {
	mid, ok := a.pathID(c, "id")
	if !ok {
		return
	}
	var in editRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	if in.Body == nil {
		a.invalid(c, map[string]string{"body": "is required"})
		return
	}
	m, err := a.svc.EditMessage(c.Request.Context(), uid(c), mid, *in.Body)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

// react adds (PUT) or removes (DELETE) the caller's reaction: 204 either
// way, whether or not it changed anything.
func (a *api) react(add bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		mid, ok := a.pathID(c, "id")
		if !ok {
			return
		}
		if err := a.svc.React(c.Request.Context(), uid(c), mid, c.Param("emoji"), add); err != nil {
			a.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

func (a *api) searchMessages(c *gin.Context) {
	p, ok := a.page(c)
	if !ok {
		return
	}
	in := app.MessageSearch{Page: p}
	if _, ok := c.GetQuery("group_id"); ok {
		details := map[string]string{}
		in.GroupID = queryInt(c, "group_id", 0, 1, maxInt64, details)
		if len(details) > 0 {
			a.invalid(c, details)
			return
		}
	}
	items, next, err := a.svc.SearchMessages(c.Request.Context(), uid(c), in)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newListPage(items, next))
}

func (a *api) messageEdits(ctx context.Context, uid, mid int64) (itemsOnly[chat.Edit], error) {
	edits, err := a.svc.MessageEdits(ctx, uid, mid)
	return newItems(edits), err
}
