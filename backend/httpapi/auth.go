package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

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
