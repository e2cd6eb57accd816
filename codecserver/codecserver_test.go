package codecserver_test

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/kycflow/kycflow/codecserver"
	"github.com/kycflow/kycflow/payloadcodec"
)

const (
	readerToken = "reader-token-0123456789"
	writerToken = "writer-token-0123456789"
	uiOrigin    = "http://localhost:8233"
)

func key(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

// body is a codec request of payloads, as the UI sends it.
func body(t *testing.T, payloads ...*commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	require.NoError(t, err)
	return string(b)
}

// TestCodecServer: the remote codec protocol behind bearer tokens with roles, a keyring, listed origins and an
// access log that never holds a payload.
func TestCodecServer(t *testing.T) {
	oldKey, current, stranger := key(t), key(t), key(t)
	codec, err := payloadcodec.New(current, oldKey)
	require.NoError(t, err)
	tokens, err := codecserver.ParseTokens(strings.NewReader("# operators read, the CLI writes\nops-ui reader " + readerToken + "\ncli writer " + writerToken + "\n"))
	require.NoError(t, err)
	var logs bytes.Buffer
	h := codecserver.New(codec, codecserver.Options{Tokens: tokens, Origins: []string{uiOrigin}, Namespaces: []string{"default"},
		Log: slog.New(slog.NewTextHandler(&logs, nil))})

	encrypt := func(k []byte, v string) *commonpb.Payload {
		c, err := payloadcodec.New(k)
		require.NoError(t, err)
		p, err := payloadcodec.DataConverter(c).ToPayload(v)
		require.NoError(t, err)
		return p
	}
	byOld, byCurrent, byStranger := encrypt(oldKey, "Jeanne Dupont"), encrypt(current, "https://id.example/s3cr3t"), encrypt(stranger, "x")
	plain, err := payloadcodec.DataConverter(nil).ToPayload("treezor-liveness")
	require.NoError(t, err)

	tests := []struct {
		name, method, path, token, origin, namespaceHeader, body string
		wantStatus                                               int
		wantBody                                                 []string
	}{
		{name: "no token", method: "POST", path: "/default/decode", body: body(t, byCurrent), wantStatus: 401},
		{name: "a wrong token", method: "POST", path: "/default/decode", token: "not-a-token-0123456789", body: body(t, byCurrent), wantStatus: 401},
		{name: "a reader decodes every key of the ring, plaintext as is", method: "POST", path: "/default/decode", token: readerToken,
			body: body(t, byOld, byCurrent, plain), wantStatus: 200,
			wantBody: []string{"\"Jeanne Dupont\"", "\"https://id.example/s3cr3t\"", "\"treezor-liveness\""}},
		{name: "a key outside the ring: returned undecoded, marked", method: "POST", path: "/default/decode", token: readerToken,
			body: body(t, byStranger), wantStatus: 200, wantBody: []string{"encrypted with key "}},
		{name: "the namespace in a header", method: "POST", path: "/decode", token: readerToken, namespaceHeader: "default",
			body: body(t, byCurrent), wantStatus: 200, wantBody: []string{"\"https://id.example/s3cr3t\""}},
		{name: "a reader may not encode", method: "POST", path: "/default/encode", token: readerToken, body: body(t, plain), wantStatus: 403},
		{name: "a writer encodes", method: "POST", path: "/default/encode", token: writerToken, body: body(t, plain), wantStatus: 200,
			wantBody: []string{"binary/encrypted"}},
		{name: "another namespace: not this keyring's", method: "POST", path: "/payments/decode", token: readerToken,
			body: body(t, byCurrent), wantStatus: 403},
		{name: "not the protocol's body", method: "POST", path: "/default/decode", token: readerToken, body: "{", wantStatus: 400},
		{name: "the UI's preflight", method: "OPTIONS", path: "/default/decode", origin: uiOrigin, wantStatus: 204},
		{name: "another site's preflight", method: "OPTIONS", path: "/default/decode", origin: "https://evil.example", wantStatus: 403},
		{name: "another site's call, even with a token", method: "POST", path: "/default/decode", token: readerToken,
			origin: "https://evil.example", body: body(t, byCurrent), wantStatus: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.namespaceHeader != "" {
				req.Header.Set("X-Namespace", tc.namespaceHeader)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, tc.wantStatus, rec.Code, "body %s", rec.Body)
			if len(tc.wantBody) > 0 {
				var got commonpb.Payloads
				require.NoError(t, protojson.Unmarshal(rec.Body.Bytes(), &got))
				var text strings.Builder
				for _, p := range got.GetPayloads() {
					text.Write(p.GetData())
					for _, v := range p.GetMetadata() {
						text.WriteString(" " + string(v))
					}
				}
				for _, want := range tc.wantBody {
					require.Contains(t, text.String(), want)
				}
			}
			if tc.origin == uiOrigin {
				require.Equal(t, uiOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
				require.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
				require.Contains(t, rec.Header().Get("Access-Control-Allow-Headers"), "Authorization")
			}
			if tc.origin != "" && tc.origin != uiOrigin {
				require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
			}
		})
	}

	// One access line per decode call: who, which namespace, how many; never a payload or a token.
	log := logs.String()
	require.Contains(t, log, "token=ops-ui namespace=default payloads=3")
	// Refused calls leave a line each, naming why and never what was sent.
	require.Contains(t, log, `msg="Codec request refused" op=decode why="no token or an unknown one"`)
	require.Contains(t, log, `msg="Codec request refused" op=encode why="a reader's token" token=ops-ui`)
	for _, secret := range []string{"Jeanne", "Dupont", "s3cr3t", readerToken, writerToken, "not-a-token-0123456789"} {
		require.NotContains(t, log, secret)
	}
}

func TestParseTokens(t *testing.T) {
	tests := []struct{ name, in, wantErr string }{
		{"three fields", "ops reader", "line 1: want `name role token`"},
		{"a role", "ops admin token-0123456789abcdef", `line 1: role "admin"`},
		{"a long enough token, never quoted", "ops reader short", "line 1: the token of ops is shorter than 16 characters"},
		{"at least one", "# nothing\n\n", "no token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := codecserver.ParseTokens(strings.NewReader(tc.in))
			require.ErrorContains(t, err, tc.wantErr)
			require.NotContains(t, err.Error(), "short\"")
		})
	}
}

// TestBrowserSession: the Temporal UI without an identity provider sends no bearer token, only this server's
// cookie (codec.includeCredentials), which /login sets for a valid token and which lasts a working day.
func TestBrowserSession(t *testing.T) {
	codec, err := payloadcodec.New(key(t))
	require.NoError(t, err)
	tokens, err := codecserver.ParseTokens(strings.NewReader("ops-ui reader " + readerToken + "\n"))
	require.NoError(t, err)
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	h := codecserver.New(codec, codecserver.Options{Tokens: tokens, Origins: []string{uiOrigin},
		Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }})
	encrypted, err := payloadcodec.DataConverter(codec).ToPayload("Jeanne Dupont")
	require.NoError(t, err)

	login := func(token, back string) *httptest.ResponseRecorder {
		form := url.Values{"token": {token}, "return": {back}}
		req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	decode := func(cookie *http.Cookie, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, strings.NewReader(body(t, encrypted)))
		req.Header.Set("Origin", uiOrigin)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	page := httptest.NewRecorder()
	h.ServeHTTP(page, httptest.NewRequest("GET", "/login?return="+url.QueryEscape(uiOrigin+"/namespaces/default/workflows"), nil))
	require.Equal(t, 200, page.Code)
	require.Contains(t, page.Body.String(), `value="http://localhost:8233/namespaces/default/workflows"`)

	refused := login("not-a-token-0123456789", "")
	require.Equal(t, 401, refused.Code)
	require.Empty(t, refused.Result().Cookies())

	ok := login(readerToken, uiOrigin+"/namespaces/default/workflows")
	require.Equal(t, http.StatusSeeOther, ok.Code)
	require.Equal(t, uiOrigin+"/namespaces/default/workflows", ok.Header().Get("Location"))
	cookies := ok.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	require.Equal(t, codecserver.SessionCookie, c.Name)
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.NotContains(t, c.Value, readerToken, "the cookie is a session ID, not the token")

	offsite := login(readerToken, "https://evil.example/steal")
	require.Equal(t, 200, offsite.Code, "never redirected to another site")
	require.Empty(t, offsite.Header().Get("Location"))

	require.Equal(t, 401, decode(nil, "/default/decode").Code)
	got := decode(c, "/default/decode")
	require.Equal(t, 200, got.Code, got.Body.String())
	var decoded commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(got.Body.Bytes(), &decoded))
	require.Equal(t, `"Jeanne Dupont"`, string(decoded.GetPayloads()[0].GetData()))
	require.Equal(t, uiOrigin, got.Header().Get("Access-Control-Allow-Origin"))
	forged := *c
	forged.Value = strings.Repeat("0", len(c.Value))
	require.Equal(t, 401, decode(&forged, "/default/decode").Code)
	require.Equal(t, 403, decode(c, "/default/encode").Code, "a reader's session may not encode")

	now = now.Add(codecserver.DefaultSessionTTL)
	require.Equal(t, 401, decode(c, "/default/decode").Code, "the session ended after a working day")

	log := logs.String()
	require.Contains(t, log, "Codec sign-in refused")
	require.Contains(t, log, "token=ops-ui role=reader")
	require.NotContains(t, log, readerToken)
	require.NotContains(t, log, c.Value, "a session ID is a credential too")
}
