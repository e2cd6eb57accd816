package matrix

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"sync"
)

// treezorUsers creates Treezor users as a signup backend does: an OAuth2 token, then POST /v1/users. kycflow's
// own Treezor client has no such call: creating users is the backend's business.
type treezorUsers struct {
	base, id, secret string
	client           *http.Client

	mu    sync.Mutex
	token string
}

func (t *treezorUsers) create(ctx context.Context, fields map[string]any) (string, error) {
	token, err := t.accessToken(ctx)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/v1/users", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	var users struct {
		Users []struct {
			UserID json.Number `json:"userId"`
		} `json:"users"`
	}
	if err := t.do(req, &users); err != nil {
		return "", fmt.Errorf("treezor: create user: %w", err)
	}
	if len(users.Users) != 1 || users.Users[0].UserID == "" {
		return "", fmt.Errorf("treezor: create user: the answer has no userId")
	}
	return users.Users[0].UserID.String(), nil
}

func (t *treezorUsers) accessToken(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" {
		return t.token, nil
	}
	// Multipart form data, as Treezor's OpenAPI declares for POST /oauth/token.
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"grant_type", "client_credentials"}, {"client_id", t.id}, {"client_secret", t.secret}} {
		if err := form.WriteField(f[0], f[1]); err != nil {
			return "", err
		}
	}
	if err := form.Close(); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/oauth/token", &body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := t.do(req, &tok); err != nil {
		return "", fmt.Errorf("treezor: get access token: %w", err)
	}
	t.token = tok.AccessToken
	return t.token, nil
}

func (t *treezorUsers) do(req *http.Request, into any) error {
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}
