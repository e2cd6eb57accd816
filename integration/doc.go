// Package integration holds the tests that run kycflow against a real Temporal dev server (the pinned CLI in
// bin/, started on a free port) with real signals; `make test` runs them, `go test -short` skips them.
package integration
