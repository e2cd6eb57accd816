package temporalconn

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
)

// Defaults of a connection that names no address or namespace.
const (
	DefaultAddress   = "localhost:7233"
	DefaultNamespace = "default"
)

// Environment variables of the SDK's environment configuration that name a file or a profile, quoted in errors.
const (
	EnvProfile    = "TEMPORAL_PROFILE"
	EnvConfigFile = "TEMPORAL_CONFIG_FILE"
	EnvAddress    = "TEMPORAL_ADDRESS"
	EnvNamespace  = "TEMPORAL_NAMESPACE"
	EnvAPIKey     = "TEMPORAL_API_KEY"
	EnvTLS        = "TEMPORAL_TLS"
	envCert       = "TEMPORAL_TLS_CLIENT_CERT_PATH"
	envKey        = "TEMPORAL_TLS_CLIENT_KEY_PATH"
	envCA         = "TEMPORAL_TLS_SERVER_CA_CERT_PATH"
)

// Connection is where and how a kycflow process reaches Temporal, read the way the temporal CLI and every SDK read
// it (go.temporal.io/sdk/contrib/envconfig): a profile of the TOML configuration file, overridden by environment
// variables. So one profile serves kycflow and the CLI alike, on a laptop's dev server, a self-hosted cluster with
// mTLS, or Temporal Cloud with an API key.
type Connection struct {
	// Options holds the address, namespace, TLS, API key credentials, gRPC metadata and authority; the process
	// adds its logger, data converter and the rest.
	Options client.Options
	// Profile and File say where the settings came from (File is empty when no file was read).
	Profile, File string
	// tlsFiles name the TLS files the settings point at, each with the setting that names it.
	tlsFiles []string
}

// Address is the frontend's host:port.
func (c Connection) Address() string { return cmp.Or(c.Options.HostPort, DefaultAddress) }

// Namespace is the namespace the process works in.
func (c Connection) Namespace() string { return cmp.Or(c.Options.Namespace, DefaultNamespace) }

// Secure tells how the connection is protected, for the start-up log line (never a secret).
func (c Connection) Secure() string {
	switch {
	case c.Options.ConnectionOptions.TLSDisabled && c.Options.Credentials != nil:
		return "plaintext, API key (TLS disabled)"
	case c.Options.ConnectionOptions.TLSDisabled:
		return "plaintext"
	case c.Options.ConnectionOptions.TLS != nil && len(c.Options.ConnectionOptions.TLS.Certificates) > 0:
		return "mTLS"
	case c.Options.Credentials != nil:
		return "TLS, API key"
	case c.Options.ConnectionOptions.TLS != nil:
		return "TLS"
	}
	return "plaintext"
}

// LoadConnection reads the connection: profile $TEMPORAL_PROFILE (default "default") of the TOML file
// $TEMPORAL_CONFIG_FILE (default the temporal CLI's, ~/.config/temporalio/temporal.toml; a missing default file is
// no error), then TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_GRPC_META_* and
// the others envconfig documents. Every error names the setting and the file at fault, never a secret. environ
// lists the environment (os.Environ) for the TEMPORAL_GRPC_META_* variables.
func LoadConnection(getenv func(string) string, environ []string) (Connection, error) {
	env := lookup{getenv: getenv, environ: environ}
	file := getenv(EnvConfigFile)
	if file != "" {
		if _, err := os.Stat(file); err != nil {
			return Connection{}, fmt.Errorf("%s=%s: %w", EnvConfigFile, file, err)
		}
	}
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{
		ConfigFilePath: file, ConfigFileProfile: getenv(EnvProfile), EnvLookup: env,
	})
	if err != nil {
		return Connection{}, fmt.Errorf("the Temporal connection settings (%s): %w", where(file, getenv(EnvProfile)), err)
	}
	c := Connection{Profile: cmp.Or(getenv(EnvProfile), envconfig.DefaultConfigFileProfile), File: file}
	if c.File == "" {
		if def := envconfig.DefaultConfigFilePath(); def != "" {
			if _, err := os.Stat(def); err == nil {
				c.File = def
			}
		}
	}
	if _, _, err := net.SplitHostPort(cmp.Or(prof.Address, DefaultAddress)); err != nil {
		return Connection{}, fmt.Errorf("%s: %q: want host:port", c.source(env, EnvAddress, "address"), prof.Address)
	}
	if c.tlsFiles, err = c.checkTLS(env, prof.TLS); err != nil {
		return Connection{}, err
	}
	c.Options, err = prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return Connection{}, fmt.Errorf("the Temporal connection settings (%s): %w", where(c.File, c.Profile), err)
	}
	return c, nil
}

// checkTLS reads the TLS files before the SDK does, so that a missing or wrong file is reported with the setting
// that names it.
// It returns the files, each as "setting (path)", for a later handshake error to name.
func (c Connection) checkTLS(env lookup, t *envconfig.ClientConfigTLS) ([]string, error) {
	if t == nil || t.Disabled {
		return nil, nil
	}
	cert := fileSetting{c.source(env, envCert, "tls.client_cert_path"), t.ClientCertPath}
	key := fileSetting{c.source(env, envKey, "tls.client_key_path"), t.ClientKeyPath}
	ca := fileSetting{c.source(env, envCA, "tls.server_ca_cert_path"), t.ServerCACertPath}
	var files []string
	for _, f := range []fileSetting{cert, key, ca} {
		if f.path == "" {
			continue
		}
		if _, err := os.ReadFile(f.path); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		files = append(files, fmt.Sprintf("%s (%s)", f.name, f.path))
	}
	switch {
	case (cert.path == "") != (key.path == ""):
		return nil, fmt.Errorf("mTLS needs both a client certificate and its key: set %s and %s", cert.name, key.name)
	case cert.path != "":
		if _, err := tls.LoadX509KeyPair(cert.path, key.path); err != nil {
			return nil, fmt.Errorf("%s (%s) and %s (%s) are not a certificate and its key: %w", cert.name, cert.path, key.name, key.path, err)
		}
	}
	if ca.path != "" {
		pem, _ := os.ReadFile(ca.path)
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s (%s) holds no PEM certificate", ca.name, ca.path)
		}
	}
	return files, nil
}

// environTLSFiles lists the TLS files the process's connection settings (its environment and profile, as
// LoadConnection reads them) point at: what a person should look at when a handshake fails.
func environTLSFiles() []string {
	c, err := LoadConnection(os.Getenv, nil)
	if err != nil {
		return nil
	}
	return c.tlsFiles
}

type fileSetting struct{ name, path string }

// source names where a setting was read: its environment variable when set there, else its key in the profile.
func (c Connection) source(env lookup, variable, key string) string {
	if _, ok := env.LookupEnv(variable); ok {
		return variable
	}
	return fmt.Sprintf("%s of %s", key, where(c.File, c.Profile))
}

func where(file, profile string) string {
	profile = cmp.Or(profile, envconfig.DefaultConfigFileProfile)
	if file == "" {
		return fmt.Sprintf("profile %q", profile)
	}
	return fmt.Sprintf("profile %q in %s", profile, file)
}

// lookup is envconfig's view of the environment over a getenv function: an empty value counts as unset, as
// everywhere else in kycflow.
type lookup struct {
	getenv  func(string) string
	environ []string
}

func (l lookup) LookupEnv(key string) (string, bool) {
	v := l.getenv(key)
	return v, v != ""
}

// Environ lists the TEMPORAL_GRPC_META_* variables, with the values getenv gives them.
func (l lookup) Environ() []string {
	var out []string
	for _, kv := range l.environ {
		if k, _, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TEMPORAL_GRPC_META_") {
			if v := l.getenv(k); v != "" {
				out = append(out, k+"="+v)
			}
		}
	}
	return out
}

// ExplainDialError adds to an error reaching Temporal what a person should check when the cause is TLS: a
// handshake the server refused (a client certificate it does not trust, a server certificate the client does
// not), or a plaintext client talking to a TLS frontend. Other errors pass unchanged.
func ExplainDialError(err error, tlsOn bool) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	// With TLS 1.3 the client may finish its side of the handshake before the server has checked the client's
	// certificate, so a refused certificate can also surface as the connection closing under the client's first
	// write (seen in `make chaos`: "write: broken pipe").
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "tls:") || strings.Contains(msg, "certificate") ||
		tlsOn && (strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset")):
		if files := environTLSFiles(); len(files) > 0 {
			return fmt.Errorf("%w (the TLS handshake failed: the server or this client refused a certificate; this process used %s: "+
				"check that the client certificate is one the server's CA signed and that the CA is the one that signed the server's)",
				err, strings.Join(files, ", "))
		}
		return fmt.Errorf("%w (the TLS handshake failed: check the client certificate and key, %s and %s, and the CA, %s, or "+
			"the tls settings of the profile in %s)", err, envCert, envKey, envCA, EnvConfigFile)
	case !tlsOn && (strings.Contains(msg, "server preface") || strings.Contains(msg, "connection reset")):
		return fmt.Errorf("%w (the server may require TLS: set %s, %s=true or %s and %s)", err, EnvProfile, EnvTLS, envCert, envKey)
	}
	return err
}
