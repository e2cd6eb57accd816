// Package codecserver is kycflow's remote codec server: Temporal's codec protocol (POST /{namespace}/decode and
// /encode, or /decode and /encode with an X-Namespace header, bodies {"payloads": [...]}) over the same payload codec
// as the worker, so that the Temporal UI and CLI show decoded inputs and results while Temporal's database holds
// only ciphertext.
//
// Unlike the model apps' codec servers it is not an open door to every payload: each request needs a bearer token,
// tokens have a name (for the access log) and a role (a reader may decode, a writer may also encode), the browser
// origins allowed to call it are listed, and each decode call is logged with the token's name, the namespace and
// the number of payloads, never their content.
package codecserver

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"

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

// Handler serves the codec protocol.
type Handler struct {
	codec   *payloadcodec.Codec
	tokens  []Token
	origins []string
	log     *slog.Logger
	mux     *http.ServeMux
}

// New makes the handler: codec is the namespace's payload codec (its keyring decodes every key it holds), origins
// the browser origins allowed to call it (the Temporal UI's), log the access log.
func New(codec *payloadcodec.Codec, tokens []Token, origins []string, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{codec: codec, tokens: tokens, origins: origins, log: log, mux: http.NewServeMux()}
	for _, op := range []string{"decode", "encode"} {
		h.mux.HandleFunc("POST /{namespace}/"+op, h.serve(op))
		h.mux.HandleFunc("POST /"+op, h.serve(op))
		h.mux.HandleFunc("OPTIONS /{namespace}/"+op, h.preflight)
		h.mux.HandleFunc("OPTIONS /"+op, h.preflight)
	}
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// cors allows the request's origin when it is listed; it reports whether the origin may call.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser's cross-origin call
	}
	if !slices.Contains(h.origins, origin) {
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

// caller finds the token the request presents, in constant time per token.
func (h *Handler) caller(r *http.Request) (Token, bool) {
	value, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || value == "" {
		return Token{}, false
	}
	found, match := Token{}, false
	for _, t := range h.tokens {
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
			w.Header().Set("WWW-Authenticate", `Bearer realm="kycflow codec"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		if op == "encode" && tok.Role != RoleWriter {
			http.Error(w, "this token may decode only", http.StatusForbidden)
			return
		}
		namespace := r.PathValue("namespace")
		if namespace == "" {
			namespace = r.Header.Get("X-Namespace")
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
