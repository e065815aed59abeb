package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
)

// storedAccount is one line of the -accounts file. Only the refresh token is
// kept: refreshing is cheap for the server, while a sign-up or a login costs
// an argon2id hash (about 20 per second per core), which would make the
// set-up of a 5,000-user scenario take minutes each time.
type storedAccount struct {
	ID           int64  `json:"id"`
	Username     string `json:"username"`
	RefreshToken string `json:"refresh_token"`
}

func loadAccounts(path string) ([]storedAccount, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	var out []storedAccount
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var a storedAccount
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("read accounts %s: %w", path, err)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

// saveAccounts rewrites the file through a temporary one, so that an
// interrupted run never leaves it half written (the old refresh tokens are
// already spent by then, but the file stays readable).
func saveAccounts(path string, accts []storedAccount) error {
	var b bytes.Buffer
	for _, a := range accts {
		line, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("save accounts: %w", err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("save accounts: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save accounts: %w", err)
	}
	return nil
}

type tokenPair struct {
	User struct {
		ID int64 `json:"id"`
	} `json:"user"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func (a *api) refresh(ctx context.Context, refreshToken string) (tokenPair, error) {
	var out tokenPair
	_, err := a.do(ctx, http.MethodPost, "/auth/refresh", "", map[string]string{"refresh_token": refreshToken}, &out)
	if err == nil && (out.AccessToken == "" || out.RefreshToken == "") {
		err = errors.New("refresh: answer without tokens")
	}
	return out, err
}
