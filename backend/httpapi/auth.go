package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/app"
)

type registerRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
}

func (a *api) register(c *gin.Context) {
	var in registerRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	res, err := a.svc.Register(c.Request.Context(), app.Registration(in))
	if err != nil {
		a.fail(c, err)
		return
	}
	noStore(c)
	c.JSON(http.StatusCreated, res)
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (a *api) login(c *gin.Context) {
	var in loginRequest
	if !a.decodeJSON(c, &in) {
		return
	}
	res, err := a.svc.Login(app.WithClient(c.Request.Context(), c.ClientIP()), in.Username, in.Password)
	if err != nil {
		a.fail(c, err)
		return
	}
	noStore(c)
	c.JSON(http.StatusOK, res)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (a *api) refreshToken(c *gin.Context) (string, bool) {
	var in refreshRequest
	if !a.decodeJSON(c, &in) {
		return "", false
	}
	if in.RefreshToken == "" {
		a.invalid(c, map[string]string{"refresh_token": "is required"})
		return "", false
	}
	return in.RefreshToken, true
}

func (a *api) refresh(c *gin.Context) {
	tok, ok := a.refreshToken(c)
	if !ok {
		return
	}
	res, err := a.svc.Refresh(c.Request.Context(), tok)
	if err != nil {
		a.fail(c, err)
		return
	}
	noStore(c)
	c.JSON(http.StatusOK, res)
}

func (a *api) logout(c *gin.Context) {
	tok, ok := a.refreshToken(c)
	if !ok {
		return
	}
	if err := a.svc.Logout(c.Request.Context(), tok); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// noStore keeps token answers out of every cache.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}
