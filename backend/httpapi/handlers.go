package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// Paging bounds of API.md.
const (
	maxSearchLimit  = 100
	maxHistoryLimit = 200
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
		Limit:  int(queryInt(c, "limit", 0, 1, maxSearchLimit, details)),
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

// ---- auth ----

type registerRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
	Session     string `json:"session"`
}

func (a *api) register(c *gin.Context) {
	var in registerRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	cookie, ok := a.sessionKind(c, in.Session)
	if !ok {
		return
	}
	res, err := a.svc.Register(c.Request.Context(), app.Registration{Username: in.Username, Password: in.Password, DisplayName: in.DisplayName})
	if err != nil {
		a.fail(c, err)
		return
	}
	a.answerAuth(c, http.StatusCreated, res, cookie)
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Session  string `json:"session"`
}

func (a *api) login(c *gin.Context) {
	var in loginRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	cookie, ok := a.sessionKind(c, in.Session)
	if !ok {
		return
	}
	res, err := a.svc.Login(app.WithClient(c.Request.Context(), c.ClientIP()), in.Username, in.Password)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.answerAuth(c, http.StatusOK, res, cookie)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (a *api) refresh(c *gin.Context) {
	tok, cookie, ok := a.refreshToken(c)
	if !ok {
		return
	}
	res, err := a.svc.Refresh(c.Request.Context(), tok)
	if err != nil {
		if cookie && errors.Is(err, chat.ErrUnauthorized) {
			clearRefreshCookie(c) // dead: the browser need not keep sending it
		}
		a.fail(c, err)
		return
	}
	a.answerAuth(c, http.StatusOK, res, cookie)
}

func (a *api) logout(c *gin.Context) {
	tok, cookie, ok := a.refreshToken(c)
	if !ok {
		return
	}
	if err := a.svc.Logout(c.Request.Context(), tok); err != nil {
		a.fail(c, err)
		return
	}
	if cookie {
		clearRefreshCookie(c)
	}
	c.Status(http.StatusNoContent)
}

func (a *api) logoutAll(c *gin.Context) {
	if err := a.svc.LogoutAll(c.Request.Context(), uid(c)); err != nil {
		a.fail(c, err)
		return
	}
	clearRefreshCookie(c) // this browser's session ended too
	c.Status(http.StatusNoContent)
}

// noStore keeps token answers out of every cache.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}

// ---- users ----

func (a *api) me(c *gin.Context) {
	u, err := a.svc.Me(c.Request.Context(), uid(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

type updateMeRequest struct {
	DisplayName     *string `json:"display_name"`
	Password        *string `json:"password"`
	CurrentPassword *string `json:"current_password"`
}

func (a *api) updateMe(c *gin.Context) {
	var in updateMeRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	u, err := a.svc.UpdateMe(app.WithClient(c.Request.Context(), c.ClientIP()), uid(c), app.ProfileChange(in))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

func (a *api) searchUsers(c *gin.Context) {
	p, ok := a.page(c)
	if !ok {
		return
	}
	users, next, err := a.svc.SearchUsers(c.Request.Context(), uid(c), p)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newListPage(users, next))
}

// ---- groups ----

func (a *api) searchGroups(c *gin.Context) {
	p, ok := a.page(c)
	if !ok {
		return
	}
	groups, next, err := a.svc.SearchGroups(c.Request.Context(), uid(c), p)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newListPage(groups, next))
}

type createGroupRequest struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Visibility  chat.Visibility `json:"visibility"`
}

func (a *api) createGroup(c *gin.Context) {
	var in createGroupRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	// The use case validates the values (and defaults the visibility).
	g, err := a.svc.CreateGroup(c.Request.Context(), uid(c), app.GroupInput(in))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, g)
}

func (a *api) myGroups(c *gin.Context) {
	groups, err := a.svc.MyGroups(c.Request.Context(), uid(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newItems(groups))
}

type userIDRequest struct {
	UserID *int64 `json:"user_id"`
}

func (a *api) decodeUserID(c *gin.Context) (int64, bool) {
	var in userIDRequest
	if !a.decodeJSON(c, &in) {
		return 0, false
	}
	if in.UserID == nil || *in.UserID <= 0 {
		a.invalid(c, map[string]string{"user_id": "must be a positive integer"})
		return 0, false
	}
	return *in.UserID, true
}

func (a *api) direct(c *gin.Context) {
	peer, ok := a.decodeUserID(c)
	if !ok {
		return
	}
	g, created, err := a.svc.Direct(c.Request.Context(), uid(c), peer)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(createdOr200(created), g)
}

func createdOr200(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

type updateGroupRequest struct {
	Name        *string          `json:"name"`
	Description *string          `json:"description"`
	Visibility  *chat.Visibility `json:"visibility"`
}

func (a *api) updateGroup(c *gin.Context) {
	gid, ok := a.pathID(c, "id")
	if !ok {
		return
	}
	var in updateGroupRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	g, err := a.svc.UpdateGroup(c.Request.Context(), uid(c), gid, app.GroupPatch(in))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, g)
}

// members lists a group's members as {"items": [...]}.
func (a *api) members(ctx context.Context, uid, gid int64) (itemsOnly[chat.Member], error) {
	ms, err := a.svc.Members(ctx, uid, gid)
	return newItems(ms), err
}

func (a *api) addMember(c *gin.Context) {
	gid, ok := a.pathID(c, "id")
	if !ok {
		return
	}
	userID, ok := a.decodeUserID(c)
	if !ok {
		return
	}
	m, err := a.svc.AddMember(c.Request.Context(), uid(c), gid, userID)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

type setRoleRequest struct {
	Role *chat.Role `json:"role"`
}

func (a *api) setRole(c *gin.Context) {
	gid, ok := a.pathID(c, "id")
	if !ok {
		return
	}
	userID, ok := a.pathID(c, "user_id")
	if !ok {
		return
	}
	var in setRoleRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	if in.Role == nil || (*in.Role != chat.RoleAdmin && *in.Role != chat.RoleMember) {
		a.invalid(c, map[string]string{"role": `must be "admin" or "member"`})
		return
	}
	m, err := a.svc.SetRole(c.Request.Context(), uid(c), gid, userID, *in.Role)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

func (a *api) removeMember(c *gin.Context) {
	gid, ok := a.pathID(c, "id")
	if !ok {
		return
	}
	userID, ok := a.pathID(c, "user_id")
	if !ok {
		return
	}
	if err := a.svc.RemoveMember(c.Request.Context(), uid(c), gid, userID); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type readRequest struct {
	Seq *int64 `json:"seq"`
}

func (a *api) markRead(c *gin.Context) {
	gid, ok := a.pathID(c, "id")
	if !ok {
		return
	}
	var in readRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	if in.Seq == nil || *in.Seq < 0 {
		a.invalid(c, map[string]string{"seq": "must be a non-negative integer"})
		return
	}
	if err := a.svc.MarkRead(c.Request.Context(), uid(c), gid, *in.Seq, ""); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// ---- messages ----

func (a *api) history(c *gin.Context) {
	gid, ok := a.pathID(c, "id")
	if !ok {
		return
	}
	// before_seq pages back, after_seq catches up: one or the other.
	details := map[string]string{}
	q := app.HistoryQuery{
		BeforeSeq: queryInt(c, "before_seq", 0, 1, maxInt64, details),
		Limit:     int(queryInt(c, "limit", 50, 1, maxHistoryLimit, details)),
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
	Body     *string `json:"body"`
	ClientID *string `json:"client_id"`
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
	if in.Body == nil {
		a.invalid(c, map[string]string{"body": "is required"})
		return
	}
	m, created, err := a.svc.Send(c.Request.Context(), uid(c), gid, app.Outgoing{Body: *in.Body, ClientID: in.ClientID})
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
