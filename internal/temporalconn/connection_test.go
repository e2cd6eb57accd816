package temporalconn

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/internal/devcerts"
)

// TestLoadConnection: the connection comes from the SDK's environment configuration, a TOML profile overridden by
// TEMPORAL_* variables, and every mistake in it is reported with the setting and the file at fault.
func TestLoadConnection(t *testing.T) {
	dir := t.TempDir()
	certs, err := devcerts.Generate(filepath.Join(dir, "certs"))
	require.NoError(t, err)
	other, err := devcerts.Generate(filepath.Join(dir, "other"))
	require.NoError(t, err)
	missing := filepath.Join(dir, "missing.pem")
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	config := filepath.Join(dir, "temporal.toml")
	require.NoError(t, os.WriteFile(config, []byte(`
[profile.cluster]
address = "127.0.0.1:7443"
namespace = "kyc"
[profile.cluster.tls]
client_cert_path = "`+certs.ClientCert+`"
client_key_path = "`+certs.ClientKey+`"
server_ca_cert_path = "`+certs.CACert+`"
server_name = "localhost"

[profile.broken]
address = "127.0.0.1:7443"
[profile.broken.tls]
client_cert_path = "`+missing+`"
client_key_path = "`+certs.ClientKey+`"
`), 0o600))

	tests := []struct {
		name        string
		env         map[string]string
		wantAddress string
		wantNS      string
		wantSecure  string
		wantErr     []string
	}{
		{name: "nothing set: the local dev server", env: map[string]string{"TEMPORAL_CONFIG_FILE": ""},
			wantAddress: "localhost:7233", wantNS: "default", wantSecure: "plaintext"},
		{name: "address and namespace from the environment", env: map[string]string{"TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "kyc"},
			wantAddress: "temporal:7233", wantNS: "kyc", wantSecure: "plaintext"},
		{name: "an mTLS profile", env: map[string]string{"TEMPORAL_CONFIG_FILE": config, "TEMPORAL_PROFILE": "cluster"},
			wantAddress: "127.0.0.1:7443", wantNS: "kyc", wantSecure: "mTLS"},
		{name: "the environment overrides the profile", env: map[string]string{"TEMPORAL_CONFIG_FILE": config, "TEMPORAL_PROFILE": "cluster", "TEMPORAL_NAMESPACE": "other"},
			wantAddress: "127.0.0.1:7443", wantNS: "other", wantSecure: "mTLS"},
		{name: "an API key turns TLS on", env: map[string]string{"TEMPORAL_ADDRESS": "kyc.a1b2c.tmprl.cloud:7233", "TEMPORAL_API_KEY": "key-0123456789"},
			wantAddress: "kyc.a1b2c.tmprl.cloud:7233", wantNS: "default", wantSecure: "TLS, API key"},
		{name: "a missing configuration file", env: map[string]string{"TEMPORAL_CONFIG_FILE": missing},
			wantErr: []string{"TEMPORAL_CONFIG_FILE=" + missing}},
		{name: "a profile the file does not have", env: map[string]string{"TEMPORAL_CONFIG_FILE": config, "TEMPORAL_PROFILE": "staging"},
			wantErr: []string{`profile "staging" in ` + config}},
		{name: "a missing certificate named in the profile", env: map[string]string{"TEMPORAL_CONFIG_FILE": config, "TEMPORAL_PROFILE": "broken"},
			wantErr: []string{`tls.client_cert_path of profile "broken" in ` + config, missing, "no such file"}},
		{name: "a missing certificate named in the environment", env: map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": missing, "TEMPORAL_TLS_CLIENT_KEY_PATH": certs.ClientKey},
			wantErr: []string{"TEMPORAL_TLS_CLIENT_CERT_PATH", missing, "no such file"}},
		{name: "a certificate with another certificate's key", env: map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": certs.ClientCert, "TEMPORAL_TLS_CLIENT_KEY_PATH": other.ClientKey},
			wantErr: []string{"TEMPORAL_TLS_CLIENT_CERT_PATH (" + certs.ClientCert + ") and TEMPORAL_TLS_CLIENT_KEY_PATH (" + other.ClientKey + ") are not a certificate and its key"}},
		{name: "a certificate without its key", env: map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": certs.ClientCert},
			wantErr: []string{"mTLS needs both a client certificate and its key"}},
		{name: "a CA file that holds no certificate", env: map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": notPEM},
			wantErr: []string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH (" + notPEM + ") holds no PEM certificate"}},
		{name: "an address without a port", env: map[string]string{"TEMPORAL_ADDRESS": "temporal"},
			wantErr: []string{"TEMPORAL_ADDRESS", "want host:port"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "TEMPORAL_CONFIG_FILE" {
					if v, ok := tc.env[k]; ok {
						return v
					}
					// Never the machine's own ~/.config/temporalio/temporal.toml: an empty file stands in.
					empty := filepath.Join(t.TempDir(), "empty.toml")
					_ = os.WriteFile(empty, nil, 0o600)
					return empty
				}
				return tc.env[k]
			}
			c, err := LoadConnection(getenv, nil)
			if tc.wantErr != nil {
				require.Error(t, err)
				for _, want := range tc.wantErr {
					require.Contains(t, err.Error(), want)
				}
				require.NotContains(t, err.Error(), "key-0123456789", "no secret in errors")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantAddress, c.Address())
			require.Equal(t, tc.wantNS, c.Namespace())
			require.Equal(t, tc.wantSecure, c.Secure())
		})
	}
}

// TestExplainDialError: an error reaching Temporal that comes from TLS says which settings to check.
func TestExplainDialError(t *testing.T) {
	tests := []struct {
		name  string
		err   string
		tlsOn bool
		want  string
	}{
		{"a certificate the server does not trust", `connection error: desc = "error reading server preface: remote error: tls: unknown certificate authority"`, true,
			"the TLS handshake failed: check the client certificate and key, TEMPORAL_TLS_CLIENT_CERT_PATH"},
		{"a server certificate the client does not trust", `x509: certificate signed by unknown authority`, true, "TEMPORAL_TLS_SERVER_CA_CERT_PATH"},
		{"a certificate refused after the client's side of a TLS 1.3 handshake", `failed reaching server: write tcp 127.0.0.1:44880->127.0.0.1:24471: write: broken pipe`, true,
			"the TLS handshake failed"},
		{"plaintext to a TLS frontend", `connection error: desc = "error reading server preface: EOF"`, false, "the server may require TLS"},
		{"a server that is down", `connection refused`, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ExplainDialError(errors.New(tc.err), tc.tlsOn)
			require.Contains(t, got.Error(), tc.err, "the cause is kept")
			if tc.want == "" {
				require.Equal(t, tc.err, got.Error())
				return
			}
			require.Contains(t, got.Error(), tc.want)
		})
	}
}

// TestExplainDialErrorNamesTheFiles: a refused handshake (here a client certificate of another CA, as `make chaos`
// provokes against the cluster) names the settings the process read and the files they point at.
func TestExplainDialErrorNamesTheFiles(t *testing.T) {
	dir := t.TempDir()
	certs, err := devcerts.Generate(filepath.Join(dir, "certs"))
	require.NoError(t, err)
	other, err := devcerts.Generate(filepath.Join(dir, "other"))
	require.NoError(t, err)
	t.Setenv(EnvConfigFile, filepath.Join(dir, "absent-is-fine.toml"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "absent-is-fine.toml"), nil, 0o600))
	t.Setenv(envCert, other.ClientCert)
	t.Setenv(envKey, other.ClientKey)
	t.Setenv(envCA, certs.CACert)
	got := ExplainDialError(errors.New(`connection error: desc = "error reading server preface: remote error: tls: unknown certificate authority"`), true)
	for _, want := range []string{envCert + " (" + other.ClientCert + ")", envKey + " (" + other.ClientKey + ")", envCA + " (" + certs.CACert + ")"} {
		require.Contains(t, got.Error(), want)
	}
}
