// Package tracing is kycflow's OpenTelemetry tracing, off unless an OTLP endpoint is configured with the standard
// variables (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTLP over HTTP): a webhook's trace
// runs from the relay's HTTP request through its signal into the workflow's handling of it, and a verification's
// from its start through the workflow, its activities and their provider HTTP calls. Spans carry names, types and
// HTTP methods and statuses, never a payload: the Temporal interceptor records no inputs, and the HTTP spans no
// bodies or query strings.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	"go.uber.org/fx"
)

// The variables that turn tracing on (read by the OTLP exporter with the rest of the OTEL_EXPORTER_OTLP_*).
const (
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
)

// Tracing is a process' tracer: nothing is recorded unless Enabled.
type Tracing struct {
	Enabled  bool
	provider trace.TracerProvider
	shutdown func(context.Context) error
}

// FromEnv sets up tracing for service (kycflow-worker, kycflow-relay, ...) when an endpoint is configured.
func FromEnv(getenv func(string) string, service string) (*Tracing, error) {
	if getenv(EnvEndpoint) == "" && getenv(EnvTracesEndpoint) == "" {
		return &Tracing{provider: noop.NewTracerProvider(), shutdown: func(context.Context) error { return nil }}, nil
	}
	exporter, err := otlptracehttp.New(context.Background())
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter (%s): %w", EnvEndpoint, err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(service)))
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(redactingExporter{exporter}), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	// Trace context only: baggage from a caller would be copied into every signal's header, kept in histories.
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return &Tracing{Enabled: true, provider: tp, shutdown: tp.Shutdown}, nil
}

// Shutdown exports the spans still buffered.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }

// Interceptors are the Temporal client's: they carry the trace through starts, signals, updates, workflows and
// activities (in their headers). None when tracing is off.
func (t *Tracing) Interceptors() ([]interceptor.ClientInterceptor, error) {
	if !t.Enabled {
		return nil, nil
	}
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: t.provider.Tracer("kycflow")})
	if err != nil {
		return nil, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	return []interceptor.ClientInterceptor{i}, nil
}

// Handler wraps a public server's handler in a span per request, named by operation; unchanged when tracing is
// off. The endpoint is public (the providers' webhooks come from the internet): a caller's trace headers start a
// linked trace, never a child of the caller's, so nobody outside decides what is sampled or traced.
func (t *Tracing) Handler(h http.Handler, operation string) http.Handler {
	if !t.Enabled {
		return h
	}
	return otelhttp.NewHandler(h, operation, otelhttp.WithTracerProvider(t.provider), otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }))
}

// Transport wraps a client's transport in a span per request; unchanged when tracing is off.
func (t *Tracing) Transport(rt http.RoundTripper) http.RoundTripper {
	if !t.Enabled {
		return rt
	}
	return otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(t.provider))
}

// Module provides a process' Tracing from the environment, shut down (its last spans exported) when the
// application stops.
func Module(service string) fx.Option {
	return fx.Module("tracing", fx.Provide(func(lc fx.Lifecycle, logger *slog.Logger) (*Tracing, error) {
		t, err := FromEnv(os.Getenv, service)
		if err != nil {
			return nil, err
		}
		if t.Enabled {
			logger.Info("Tracing on: spans exported over OTLP")
		}
		lc.Append(fx.StopHook(t.Shutdown))
		return t, nil
	}))
}

// redactingExporter rewrites the URL an HTTP client span records (url.full) to its host and path with every ID in
// it replaced by ":id" and no query string, before the span leaves the process: a provider's paths and queries
// carry user and session IDs, which a trace backend should not collect. (otelhttp sets the URL after the span
// starts, so a span processor's OnStart cannot see it.)
type redactingExporter struct{ sdktrace.SpanExporter }

// RedactingExporter wraps an exporter so that no span leaves with a provider URL in clear.
func RedactingExporter(e sdktrace.SpanExporter) sdktrace.SpanExporter { return redactingExporter{e} }

func (e redactingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out := make([]sdktrace.ReadOnlySpan, len(spans))
	for i, s := range spans {
		out[i] = s
		if !holdsURL(s) {
			continue
		}
		// A provider call's failure carries its URL too (the HTTP client's error, in the activity's error): in
		// the span's status and its exception events.
		stub := tracetest.SpanStubFromReadOnlySpan(s)
		stub.Attributes = redactAttributes(stub.Attributes)
		stub.Status.Description = redactURLsIn(stub.Status.Description)
		for j := range stub.Events {
			stub.Events[j].Attributes = redactAttributes(stub.Events[j].Attributes)
		}
		out[i] = stub.Snapshot()
	}
	return e.SpanExporter.ExportSpans(ctx, out)
}

// holdsURL reports whether a span records a URL anywhere: its attributes, status or events.
func holdsURL(s sdktrace.ReadOnlySpan) bool {
	has := func(attrs []attribute.KeyValue) bool {
		for _, a := range attrs {
			if a.Key == "url.full" || (a.Value.Type() == attribute.STRING && urlPattern.MatchString(a.Value.AsString())) {
				return true
			}
		}
		return false
	}
	if has(s.Attributes()) || urlPattern.MatchString(s.Status().Description) {
		return true
	}
	for _, ev := range s.Events() {
		if has(ev.Attributes) {
			return true
		}
	}
	return false
}

func redactAttributes(attrs []attribute.KeyValue) []attribute.KeyValue {
	out := make([]attribute.KeyValue, len(attrs))
	for i, a := range attrs {
		out[i] = a
		if a.Value.Type() == attribute.STRING {
			if a.Key == "url.full" {
				out[i] = attribute.String(string(a.Key), RedactURL(a.Value.AsString()))
			} else if v := a.Value.AsString(); urlPattern.MatchString(v) {
				out[i] = attribute.String(string(a.Key), redactURLsIn(v))
			}
		}
	}
	return out
}

// urlPattern finds the URLs in a text, such as an HTTP client's error.
var urlPattern = regexp.MustCompile(`https?://[^\s"']+`)

// redactURLsIn redacts every URL in a text (RedactURL).
func redactURLsIn(text string) string {
	return urlPattern.ReplaceAllStringFunc(text, RedactURL)
}

// idSegment is a path segment that identifies something: it holds a digit (user IDs, UUIDs, references), and is
// not an API version (v1, v3).
var idSegment, apiVersion = regexp.MustCompile(`[0-9]`), regexp.MustCompile(`^v[0-9]+$`)

// RedactURL keeps a URL's scheme, host and path, each path segment holding a digit replaced by ":id", and drops
// its query, fragment and user info.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	segments := strings.Split(u.Path, "/")
	for i, seg := range segments {
		if idSegment.MatchString(seg) && !apiVersion.MatchString(seg) {
			segments[i] = ":id"
		}
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.Join(segments, "/")}).String()
}
