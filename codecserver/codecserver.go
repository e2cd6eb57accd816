// Package codecserver is kycflow's remote codec server: Temporal's codec protocol (POST /{namespace}/decode and
// /encode, or /decode and /encode with an X-Namespace header, bodies {"payloads": [...]}) over the same payload codec
// as the worker, so that the Temporal UI and CLI show decoded inputs and results while Temporal's database holds
// only ciphertext.
//
// Unlike the model apps' codec servers it is not an open door to every payload: each request needs a token,
// tokens have a name (for the access log) and a role (a reader may decode, a writer may also encode), the browser
// origins allowed to call it are listed, and each decode call is logged with the token's name, the namespace and
// the number of payloads, never their content.
//
// A token comes as `Authorization: Bearer` (the temporal CLI's --codec-auth, scripts) or, for a browser, as the
// session cookie /login sets once the token is typed in: the Temporal UI passes a bearer token only from its own
// OIDC login, which a stack without an identity provider lacks, but with the UI's codec.includeCredentials it
// sends this server's cookie.
package codecserver

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/kycflow/kycflow/payloadcodec"
)

// Roles of a token.
const (
	RoleReader = "reader" // may decode
	RoleWriter = "writer" // may decode and encode
)

// MetadataUndecodable marks a payload returned as it was stored because it could not be decoded (a key outside
// the ring, a damaged payload): the UI shows it undecoded, with this reason, instead of failing the whole page.
const MetadataUndecodable = "kycflow-undecodable"

// maxBody bounds a request body: a page of a history's payloads.
const maxBody = 8 << 20

// Token is one caller's credential.
type Token struct {
	Name  string
	Role  string
	Value string
}

// ParseTokens reads tokens, one per line: `name role token`; blank lines and lines starting with # are skipped.
// Errors name the line, never a token.
func ParseTokens(r io.Reader) ([]Token, error) {
	var out []Token
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		switch {
		case len(f) != 3:
			return nil, fmt.Errorf("line %d: want `name role token`", n)
		case f[1] != RoleReader && f[1] != RoleWriter:
			return nil, fmt.Errorf("line %d: role %q: want %s or %s", n, f[1], RoleReader, RoleWriter)
		case len(f[2]) < 16:
			return nil, fmt.Errorf("line %d: the token of %s is shorter than 16 characters", n, f[0])
		}
		out = append(out, Token{Name: f[0], Role: f[1], Value: f[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no token: every request needs one")
	}
	return out, nil
}

// LoadTokens reads the tokens file.
func LoadTokens(path string) ([]Token, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tokens, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tokens, nil
}

// SessionCookie is the browser session's cookie, set by /login.
const SessionCookie = "kycflow-codec-session"

// DefaultSessionTTL is how long a browser session lasts: a working day.
const DefaultSessionTTL = 12 * time.Hour

// Options configure a Handler.
type Options struct {
	Tokens []Token
	// Origins are the browser origins allowed to call (the Temporal UI's).
	Origins []string
	// Namespaces, when set, are the only namespaces served: the keyring is theirs, and a call for another one is
	// refused instead of answered with payloads it cannot decode.
	Namespaces []string
	// SessionTTL bounds a browser session (0: DefaultSessionTTL).
	SessionTTL time.Duration
	// Log is the access log; nil discards it.
	Log *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Handler serves the codec protocol.
type Handler struct {
	codec *payloadcodec.Codec
	opts  Options
	log   *slog.Logger
	mux   *http.ServeMux

	mu       sync.Mutex
	sessions map[string]session
}

// session is a browser signed in with a token; it holds the token's name and role, not its value.
type session struct {
	name, role string
	expires    time.Time
}

// New makes the handler: codec is the namespace's payload codec (its keyring decodes every key it holds).
func New(codec *payloadcodec.Codec, opts Options) *Handler {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{codec: codec, opts: opts, log: opts.Log, mux: http.NewServeMux(), sessions: map[string]session{}}
	for _, op := range []string{"decode", "encode"} {
		h.mux.HandleFunc("POST /{namespace}/"+op, h.serve(op))
		h.mux.HandleFunc("POST /"+op, h.serve(op))
		h.mux.HandleFunc("OPTIONS /{namespace}/"+op, h.preflight)
		h.mux.HandleFunc("OPTIONS /"+op, h.preflight)
	}
	h.mux.HandleFunc("GET /login", h.loginPage)
	h.mux.HandleFunc("POST /login", h.login)
	h.mux.HandleFunc("POST /logout", h.logout)
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// cors allows the request's origin when it is listed; it reports whether the origin may call.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser's cross-origin call
	}
	if !slices.Contains(h.opts.Origins, origin) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	w.Header().Add("Vary", "Origin")
	return true
}

// preflight answers a browser's CORS preflight: no token is sent with one.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	if !h.cors(w, r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// caller finds who the request comes from: the bearer token it presents, else its browser session.
func (h *Handler) caller(r *http.Request) (Token, bool) {
	if value, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return h.token(value)
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return Token{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.sessions[c.Value]
	if !ok || !h.opts.Now().Before(s.expires) {
		delete(h.sessions, c.Value)
		return Token{}, false
	}
	return Token{Name: s.name, Role: s.role}, true
}

// token finds the token of value, comparing in constant time with each.
func (h *Handler) token(value string) (Token, bool) {
	if value == "" {
		return Token{}, false
	}
	found, match := Token{}, false
	for _, t := range h.opts.Tokens {
		if subtle.ConstantTimeCompare([]byte(value), []byte(t.Value)) == 1 {
			found, match = t, true
		}
	}
	return found, match
}

func (h *Handler) serve(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.cors(w, r) {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		tok, ok := h.caller(r)
		if !ok {
			// Refusals are logged too, so that someone trying tokens shows (never the token they sent).
			h.log.Warn("Codec request refused", "op", op, "why", "no token or an unknown one", "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="kycflow codec"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		if op == "encode" && tok.Role != RoleWriter {
			h.log.Warn("Codec request refused", "op", op, "why", "a reader's token", "token", tok.Name, "remote", r.RemoteAddr)
			http.Error(w, "this token may decode only", http.StatusForbidden)
			return
		}
		namespace := r.PathValue("namespace")
		if namespace == "" {
			namespace = r.Header.Get("X-Namespace")
		}
		if len(h.opts.Namespaces) > 0 && !slices.Contains(h.opts.Namespaces, namespace) {
			http.Error(w, "this codec server holds the keys of namespace "+strings.Join(h.opts.Namespaces, ", ")+" only", http.StatusForbidden)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			http.Error(w, "body unreadable or over 8 MiB", http.StatusRequestEntityTooLarge)
			return
		}
		var in commonpb.Payloads
		if err := protojson.Unmarshal(body, &in); err != nil {
			http.Error(w, "want {\"payloads\": [...]}", http.StatusBadRequest)
			return
		}
		var out []*commonpb.Payload
		if op == "encode" {
			if out, err = h.codec.Encode(in.GetPayloads()); err != nil {
				http.Error(w, "encode failed", http.StatusInternalServerError)
				return
			}
		} else {
			out = h.decode(in.GetPayloads())
			h.log.Info("Payloads decoded", "token", tok.Name, "namespace", namespace, "payloads", len(out))
		}
		resp, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
		if err != nil {
			http.Error(w, "encode the answer failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(resp)
	}
}

// decode decodes each payload on its own: plaintext passes as it is (search attributes, histories written before
// encryption), and one that cannot be decoded comes back as stored, marked with the reason.
func (h *Handler) decode(payloads []*commonpb.Payload) []*commonpb.Payload {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !payloadcodec.Encrypted(p) {
			out[i] = p
			continue
		}
		d, err := h.codec.Decode([]*commonpb.Payload{p})
		if err != nil {
			marked := &commonpb.Payload{Metadata: map[string][]byte{}, Data: p.GetData()}
			for k, v := range p.GetMetadata() {
				marked.Metadata[k] = v
			}
			reason := "damaged payload"
			if errors.Is(err, payloadcodec.ErrUnknownKey) {
				reason = "encrypted with key " + payloadcodec.KeyIDOf(p) + ", which this codec server does not hold"
			}
			marked.Metadata[MetadataUndecodable] = []byte(reason)
			out[i] = marked
			continue
		}
		out[i] = d[0]
	}
	return out
}

// loginPage is the form a person types a token into, once per browser and working day.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.page(w, http.StatusOK, loginView{Return: h.returnTo(r.URL.Query().Get("return"))})
}

// login turns a valid token into a browser session: a random ID in an HttpOnly, SameSite=Lax cookie. Lax keeps
// other sites' pages from sending it; the Temporal UI, on another port of the same host, is the same site, and
// its origin must still be listed for the answer to reach it.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	back := h.returnTo(r.PostFormValue("return"))
	tok, ok := h.token(strings.TrimSpace(r.PostFormValue("token")))
	if !ok {
		h.log.Warn("Codec sign-in refused", "remote", r.RemoteAddr)
		h.page(w, http.StatusUnauthorized, loginView{Return: back, Refused: true})
		return
	}
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		http.Error(w, "no randomness for a session", http.StatusInternalServerError)
		return
	}
	value := hex.EncodeToString(id)
	h.mu.Lock()
	now := h.opts.Now()
	for k, s := range h.sessions { // a sign-in is rare: sweeping here keeps the map to live sessions
		if !now.Before(s.expires) {
			delete(h.sessions, k)
		}
	}
	h.sessions[value] = session{name: tok.Name, role: tok.Role, expires: now.Add(h.opts.SessionTTL)}
	h.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: value, Path: "/", MaxAge: int(h.opts.SessionTTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	h.log.Info("Codec sign-in", "token", tok.Name, "role", tok.Role)
	if back != "" {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	h.page(w, http.StatusOK, loginView{SignedIn: tok.Name})
}

// logout ends the browser's session.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		h.mu.Lock()
		delete(h.sessions, c.Value)
		h.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	h.page(w, http.StatusOK, loginView{})
}

// returnTo is where a sign-in sends the browser back: a page of an allowed origin, never another site.
func (h *Handler) returnTo(raw string) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.User != nil {
		return ""
	}
	if slices.Contains(h.opts.Origins, u.Scheme+"://"+u.Host) {
		return u.String()
	}
	return ""
}

type loginView struct {
	Return, SignedIn string
	Refused          bool
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kycflow codec server</title>
<style>body{font-family:sans-serif;max-width:34rem;margin:4rem auto;line-height:1.4}input{font-size:1rem;padding:.3rem}</style></head>
<body><h1>kycflow codec server</h1>
{{if .SignedIn}}<p>Signed in as <b>{{.SignedIn}}</b>. The Temporal UI now shows this namespace's payloads decoded.</p>
{{else}}<p>Type a codec token to read decoded payloads in the Temporal UI from this browser.
The stack's tokens are in its codec tokens file (<code>make run</code>: <code>.data/codec-tokens</code>).</p>
{{if .Refused}}<p role="alert"><b>That token is not valid.</b></p>{{end}}
<form method="post" action="/login"><input type="hidden" name="return" value="{{.Return}}">
<label>Token <input type="password" name="token" id="token" autocomplete="off" autofocus></label>
<button type="submit" id="sign-in">Sign in</button></form>{{end}}
</body></html>
`))

func (h *Handler) page(w http.ResponseWriter, status int, v loginView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "+strings.Join(h.opts.Origins, " "))
	w.WriteHeader(status)
	_ = loginTemplate.Execute(w, v)
}
