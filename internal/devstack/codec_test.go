package devstack

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/kycflow/kycflow/internal/devcerts"
	"github.com/kycflow/kycflow/internal/temporalconn"
)

// TestPayloadSecretsAreMadeOnceAndKept: the key and tokens are made on first use, owner-only, and every later or
// concurrent start reads the same ones: a new key would leave the stack's histories unreadable.
func TestPayloadSecretsAreMadeOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	got := make([]PayloadSecrets, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := EnsurePayloadSecrets(dir)
			require.NoError(t, err)
			got[i] = s
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range got {
		if s.KeyCreated {
			created++
		}
		require.Equal(t, got[0].Reader, s.Reader)
		require.Equal(t, got[0].Writer, s.Writer)
	}
	require.Equal(t, 1, created, "one start made the key")
	key, err := os.ReadFile(got[0].KeyFile)
	require.NoError(t, err)
	for _, f := range []string{got[0].KeyFile, got[0].TokensFile} {
		st, err := os.Stat(f)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
	again, err := EnsurePayloadSecrets(dir)
	require.NoError(t, err)
	require.False(t, again.KeyCreated)
	key2, err := os.ReadFile(again.KeyFile)
	require.NoError(t, err)
	require.Equal(t, key, key2)
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*"))
	require.Empty(t, leftovers, "no temporary file left")
	require.NotEqual(t, again.Reader, again.Writer)
}

// TestWriteProfileIsWhatTheClientsRead: the profile a stack writes is read back as every kycflow process reads
// its connection (temporalconn), with mTLS when the stack has certificates, and the codec section the temporal CLI
// reads.
func TestWriteProfileIsWhatTheClientsRead(t *testing.T) {
	dir := t.TempDir()
	certs, err := devcerts.Generate(filepath.Join(dir, "certs"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		certs  *devcerts.Set
		secure string
	}{{"dev", nil, "plaintext"}, {"cluster", &certs, "mTLS"}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".toml")
			require.NoError(t, WriteProfile(path, Profile{Name: tc.name, Comment: "test", Address: "127.0.0.1:7233",
				Certs: tc.certs, CodecURL: "http://localhost:8089", CodecToken: "writer-token-0123456789"}))
			env := map[string]string{"TEMPORAL_CONFIG_FILE": path, "TEMPORAL_PROFILE": tc.name}
			conn, err := temporalconn.LoadConnection(func(k string) string { return env[k] }, nil)
			require.NoError(t, err)
			require.Equal(t, "127.0.0.1:7233", conn.Address())
			require.Equal(t, "default", conn.Namespace())
			require.Equal(t, tc.secure, conn.Secure())
			prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{
				ConfigFilePath: path, ConfigFileProfile: tc.name, DisableEnv: true})
			require.NoError(t, err)
			require.Equal(t, "http://localhost:8089", prof.Codec.Endpoint)
			require.Equal(t, "Bearer writer-token-0123456789", prof.Codec.Auth)
			st, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "it holds a token")
		})
	}
}
