package pprofserver

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestFromEnv(t *testing.T) {
	addr := freeAddr(t)
	tests := []struct {
		name   string
		env    map[string]string
		serves bool
	}{
		{name: "unset serves nothing", env: map[string]string{}},
		{name: "an address serves the profiler", env: map[string]string{EnvAddr: addr}, serves: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop, err := FromEnv(func(k string) string { return tt.env[k] })
			require.NoError(t, err)
			defer stop()
			resp, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
			if !tt.serves {
				require.Error(t, err, "nothing listens")
				return
			}
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Contains(t, string(body), "heap profile")
		})
	}
}

func TestFromEnvRejectsABadAddress(t *testing.T) {
	_, err := FromEnv(func(string) string { return "not an address" })
	require.ErrorContains(t, err, EnvAddr)
}
