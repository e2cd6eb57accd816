// Package pprofserver serves Go's profiler for kycflow's processes when an operator asks for it with
// KYCFLOW_PPROF_ADDR, and never otherwise: profiles reveal code paths and heap contents, so the address should be
// a loopback or otherwise private one. `make bench BENCH_FLAGS=-profile` uses it to profile the worker, the relay
// and the sandbox under load.
package pprofserver

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// EnvAddr names the variable holding the listen address, such as 127.0.0.1:6060.
const EnvAddr = "KYCFLOW_PPROF_ADDR"

// FromEnv starts the profiler on $KYCFLOW_PPROF_ADDR; when it is unset it serves nothing. The returned function
// stops it.
func FromEnv(getenv func(string) string) (stop func(), err error) {
	addr := getenv(EnvAddr)
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", EnvAddr, addr, err)
	}
	srv := &http.Server{Handler: Handler(), ReadHeaderTimeout: 5 * time.Second}
	// The profiler is a diagnostic aid: if it fails, the process it observes carries on without it.
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}

// Handler serves /debug/pprof/ on its own mux, so that nothing else registered on http.DefaultServeMux is exposed.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
