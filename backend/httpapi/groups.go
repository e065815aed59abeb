package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

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
	g, err := a.svc.UpdateGroup(c.Request.Context(), uid(c), gid, chat.GroupPatch(in))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, g)
}

type muteRequest struct {
	Muted *bool `json:"muted"`
}

func (a *api) setMuted(c *gin.Context) {
	gid, ok := a.pathID(c, "id")
	if !ok {
		return
	}
	var in muteRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	if in.Muted == nil {
		a.invalid(c, map[string]string{"muted": "is required"})
		return
	}
	g, err := a.svc.SetMuted(c.Request.Context(), uid(c), gid, *in.Muted)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, g)
}

// readReceipts lists the shared read markers as {"items": [...]}.
func (a *api) readReceipts(ctx context.Context, uid, gid int64) (itemsOnly[chat.ReadReceipt], error) {
	rs, err := a.svc.ReadReceipts(ctx, uid, gid)
	return newItems(rs), err
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
	var role chat.Role
	if in.Role != nil {
		role = *in.Role
	}
	// Checked before the use case looks at the caller's standing: a body
	// without a valid role is a 400 for anyone.
	if err := chat.ValidateRole(role); err != nil {
		a.fail(c, err)
		return
	}
	m, err := a.svc.SetRole(c.Request.Context(), uid(c), gid, userID, role)
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
