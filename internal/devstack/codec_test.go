package devstack

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
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
