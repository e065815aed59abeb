package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/app"
)

func (a *api) me(c *gin.Context) {
	u, err := a.svc.Me(c.Request.Context(), uid(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

type updateMeRequest struct {
	DisplayName       *string `json:"display_name"`
	Password          *string `json:"password"`
	CurrentPassword   *string `json:"current_password"`
	ShareReadReceipts *bool   `json:"share_read_receipts"`
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
