package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/internal/tracing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://acme.api.treezor.com/v1/users/1796033355908/kycliveness", "https://acme.api.treezor.com/v1/users/:id/kycliveness"},
		{"https://acme.api.treezor.com/v1/documents?createdDateFrom=2026-11-30&userId=42", "https://acme.api.treezor.com/v1/documents"},
		{"https://api.solarisbank.de/v1/persons/a1b2c3/identifications/9f8e/request", "https://api.solarisbank.de/v1/persons/:id/identifications/:id/request"},
		{"https://user:pass@api.yousign.app/v3/verifications#x", "https://api.yousign.app/v3/verifications"},
		{"https://acme.api.treezor.com/oauth/token", "https://acme.api.treezor.com/oauth/token"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, tracing.RedactURL(tc.in), tc.in)
	}
}

func TestOffWithoutAnEndpoint(t *testing.T) {
	tr, err := tracing.FromEnv(func(string) string { return "" }, "kycflow-test")
	require.NoError(t, err)
	require.False(t, tr.Enabled)
	interceptors, err := tr.Interceptors()
	require.NoError(t, err)
	require.Empty(t, interceptors, "no interceptor: nothing recorded, nothing exported")
}

// TestExportedSpansCarryNoProviderIDs: what leaves the process has every provider URL redacted, in attributes, the
// status (a failed call's error) and exception events alike.
func TestExportedSpansCarryNoProviderIDs(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracing.RedactingExporter(exporter)))
	_, span := tp.Tracer("t").Start(context.Background(), "HTTP GET")
	failure := `GET https://acme.api.treezor.com/v1/users/1796033355908?accessTag=x giving up after 5 attempts`
	span.SetAttributes(attribute.String("url.full", "https://acme.api.treezor.com/v1/users/1796033355908?accessTag=x"))
	span.RecordError(errors.New(failure))
	span.SetStatus(codes.Error, failure)
	span.End()
	spans := exporter.GetSpans()
	require.Len(t, spans, 1)
	s := spans[0]
	text := fmt.Sprint(s.Attributes, s.Status.Description, s.Events)
	require.NotContains(t, text, "1796033355908")
	require.NotContains(t, text, "accessTag")
	require.Contains(t, text, "https://acme.api.treezor.com/v1/users/:id")
}
