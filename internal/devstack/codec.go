package devstack

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kycflow/kycflow/codecserver"
	"github.com/kycflow/kycflow/internal/devcerts"
	"github.com/kycflow/kycflow/payloadcodec"
)

// Codec token names a stack writes: the UI's operator reads, the CLI (which also sends inputs) writes.
const (
	CodecReader = "operator"
	CodecWriter = "cli"
)

// PayloadSecrets are a stack's payload key and codec server tokens, in files of its data folder.
type PayloadSecrets struct {
	// KeyFile holds the payload key (base64), as KYCFLOW_PAYLOAD_KEY_FILE reads it.
	KeyFile string
	// TokensFile holds the codec server's tokens, as KYCFLOW_CODEC_TOKENS_FILE reads them.
	TokensFile string
	// Reader and Writer are the tokens named CodecReader and CodecWriter.
	Reader, Writer string
	// KeyCreated says the key was made by this call; AllowPlaintext lets the processes read plaintext payloads
	// as well (KYCFLOW_PAYLOAD_ALLOW_PLAINTEXT), for a data folder whose histories predate the key.
	KeyCreated, AllowPlaintext bool
}

// EnsurePayloadSecrets reads dir's payload key and codec tokens, creating them on first use. They are kept across
// restarts: a new key would leave every history the stack holds unreadable.
func EnsurePayloadSecrets(dir string) (PayloadSecrets, error) {
	s := PayloadSecrets{KeyFile: filepath.Join(dir, "payload.key"), TokensFile: filepath.Join(dir, "codec-tokens")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return s, err
	}
	created, err := createOnce(s.KeyFile, func() string { return base64.StdEncoding.EncodeToString(randomBytes(32)) + "\n" })
	if err != nil {
		return s, fmt.Errorf("payload key: %w", err)
	}
	s.KeyCreated = created
	if _, err := payloadcodec.FromEnv(func(k string) string {
		return map[string]string{payloadcodec.EnvKeyFile: s.KeyFile}[k]
	}); err != nil {
		return s, fmt.Errorf("%s: %w", s.KeyFile, err)
	}
	_, err = createOnce(s.TokensFile, func() string {
		return fmt.Sprintf("# Written by kycflow's stack: name role token. The Temporal UI's sign-in takes the reader's;\n"+
			"# the temporal CLI's profile holds the writer's, which also encodes the inputs it sends.\n%s %s %s\n%s %s %s\n",
			CodecReader, codecserver.RoleReader, hex.EncodeToString(randomBytes(24)),
			CodecWriter, codecserver.RoleWriter, hex.EncodeToString(randomBytes(24)))
	})
	if err != nil {
		return s, fmt.Errorf("codec tokens: %w", err)
	}
	tokens, err := codecserver.LoadTokens(s.TokensFile)
	if err != nil {
		return s, err
	}
	for _, t := range tokens {
		switch {
		case t.Name == CodecReader && t.Role == codecserver.RoleReader:
			s.Reader = t.Value
		case t.Name == CodecWriter && t.Role == codecserver.RoleWriter:
			s.Writer = t.Value
		}
	}
	if s.Reader == "" || s.Writer == "" {
		return s, fmt.Errorf("%s: want a %s token named %s and a %s token named %s", s.TokensFile,
			codecserver.RoleReader, CodecReader, codecserver.RoleWriter, CodecWriter)
	}
	return s, nil
}

// createOnce writes content() to path, readable by its owner only, unless path exists; it reports whether it
// wrote it. The file appears whole or not at all (written aside, then linked into place): a crash or a second
// stack starting at the same moment never leaves an empty key behind.
func createOnce(path string, content func() string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, err
	}
	if _, err := tmp.WriteString(content()); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return false, nil // another start made it first: use theirs
	} else if err != nil {
		return false, err
	}
	return true, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// payloadEnv gives a worker or relay the stack's payload key, or, with none, lets the worker run the sandbox's
// synthetic users in plaintext. Keys of the developer's shell are blanked either way.
func payloadEnv(s *PayloadSecrets) []string {
	env := []string{payloadcodec.EnvKey + "=", payloadcodec.EnvOldKeys + "=", payloadcodec.EnvOldKeysFile + "="}
	switch {
	case s == nil:
		env = append(env, payloadcodec.EnvKeyFile+"=", payloadcodec.EnvAllowPlaintext+"=", "KYCFLOW_ALLOW_PLAINTEXT_PII=true")
	case s.AllowPlaintext:
		env = append(env, payloadcodec.EnvKeyFile+"="+s.KeyFile, payloadcodec.EnvAllowPlaintext+"=true")
	default:
		env = append(env, payloadcodec.EnvKeyFile+"="+s.KeyFile, payloadcodec.EnvAllowPlaintext+"=")
	}
	return env
}

// codecEnv runs kycflow-codec on addr for the UI origins, with the stack's keyring and tokens; conn says how it
// reaches Temporal.
func codecEnv(conn []string, addr string, s PayloadSecrets, origins []string) []string {
	return append(append(slices.Clip(conn), payloadEnv(&s)...),
		"KYCFLOW_CODEC_ADDR="+addr,
		"KYCFLOW_CODEC_TOKENS_FILE="+s.TokensFile,
		"KYCFLOW_CODEC_CORS_ORIGINS="+strings.Join(origins, ","),
	)
}

// uiOrigins are the origins a browser may show the UI on port: localhost and its address.
func uiOrigins(port int) []string {
	p := strconv.Itoa(port)
	return []string{"http://localhost:" + p, "http://127.0.0.1:" + p}
}

// BrowserURL is the codec server's URL (its listen address, or a URL) as the browser calls it: on localhost, the same site as the UI's
// http://localhost:<port>, so the session cookie (SameSite=Lax) goes with the UI's calls.
func BrowserURL(addr string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(addr, "http://"))
	return "http://localhost:" + port
}

// UIConfig is what Temporal's UI server is started with.
type UIConfig struct {
	// Frontend is Temporal's gRPC address; Certs, when set, connect to it over mTLS.
	Frontend string
	Certs    *devcerts.Set
	Port     int
	// CodecEndpoint is the codec server the browser calls, with its cookie (codec.includeCredentials).
	CodecEndpoint string
}

// writeUIConfig writes the UI server's configuration into dir/config and returns the arguments that start it.
// Write actions (signal, terminate, reset) are off: this UI has no authentication, and whoever can signal a
// verification can decide it; operators act through `kycflow decide`, which records who did what.
func writeUIConfig(dir string, c UIConfig) ([]string, error) {
	configDir := filepath.Join(dir, "config")
	if err := os.MkdirAll(configDir, 0o755); err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by kycflow's stack.\ntemporalGrpcAddress: %q\nhost: 127.0.0.1\nport: %d\nenableUi: true\n"+
		"defaultNamespace: default\ndisableWriteActions: true\n", c.Frontend, c.Port)
	if c.CodecEndpoint != "" {
		fmt.Fprintf(&b, "codec:\n  endpoint: %q\n  includeCredentials: true\n"+
			"  defaultErrorMessage: \"Sign in to the codec server to read decoded payloads\"\n  defaultErrorLink: %q\n",
			c.CodecEndpoint, c.CodecEndpoint+"/login?return=http://localhost:"+strconv.Itoa(c.Port))
	}
	if c.Certs != nil {
		fmt.Fprintf(&b, "tls:\n  caFile: %q\n  certFile: %q\n  keyFile: %q\n  serverName: localhost\n  enableHostVerification: true\n",
			c.Certs.CACert, c.Certs.ClientCert, c.Certs.ClientKey)
	}
	if err := os.WriteFile(filepath.Join(configDir, "stack.yaml"), []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	return []string{"--root", dir, "--config", "config", "--env", "stack", "start"}, nil
}

// Profile is a temporal CLI profile a stack writes: how the CLI and kycflow's processes reach it.
type Profile struct {
	// Name is the profile's name; Comment heads the file.
	Name, Comment string
	Address       string
	// Certs, when set, connect over mTLS.
	Certs *devcerts.Set
	// CodecURL and CodecToken send the temporal CLI's payloads through the codec server (kycflow's processes
	// hold the key themselves and ignore it).
	CodecURL, CodecToken string
}

// WriteProfile writes p to path, readable by its owner only (it holds a codec token).
func WriteProfile(path string, p Profile) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n[profile.%s]\naddress = %q\nnamespace = \"default\"\n", p.Comment, p.Name, p.Address)
	if p.Certs != nil {
		fmt.Fprintf(&b, "\n[profile.%s.tls]\nclient_cert_path = %q\nclient_key_path = %q\nserver_ca_cert_path = %q\nserver_name = \"localhost\"\n",
			p.Name, p.Certs.ClientCert, p.Certs.ClientKey, p.Certs.CACert)
	}
	if p.CodecURL != "" {
		fmt.Fprintf(&b, "\n# The temporal CLI encodes and decodes through the codec server; kycflow's processes hold the key themselves.\n"+
			"[profile.%s.codec]\nendpoint = %q\nauth = \"Bearer %s\"\n", p.Name, p.CodecURL, p.CodecToken)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
