package relay

import (
	"context"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
)

// signalKeyContext carries, in a signal's context, the key Temporal deduplicates it by.
type signalKeyContext struct{}

// withSignalKey has the signal sent with ctx carry key as its request ID. Temporal keeps the request IDs of the
// signals a run received and accepts a second signal with a known one without recording it again, so the same
// signed content signalled twice (a provider's redelivery under a new delivery ID, a replay by someone who kept a
// signed body, two relays taking the same retry) reaches the workflow once, whichever relay took it.
func withSignalKey(ctx context.Context, key string) context.Context {
	if key == "" {
		return ctx
	}
	return context.WithValue(ctx, signalKeyContext{}, key)
}

// SignalDedupDialOption is the dial option every client the relay signals through must carry: it sets the key of
// withSignalKey as the SignalWorkflowExecution request's ID. The SDK's SignalWorkflow has no parameter for it and
// otherwise sends a random one, which deduplicates nothing.
func SignalDedupDialOption() grpc.DialOption {
	return grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if r, ok := req.(*workflowservice.SignalWorkflowExecutionRequest); ok {
			if key, ok := ctx.Value(signalKeyContext{}).(string); ok {
				r.RequestId = key
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	})
}

// signedContentKey is the signal key of a webhook: a digest of the provider, the event name and the bytes its
// signature covers. Delivery IDs are left out on purpose: Treezor's webhook_id and Solaris's Solaris-Webhook-Id
// are outside the signature, so anyone holding one signed body could otherwise have it signalled again under as
// many fresh IDs as they like, each one an event in the run's history (a flood would end the run at Temporal's
// history limit). Equal signed bytes are the same fact from the provider. Solaris's body has no per-event field, so
// a second, real transition to a status it already reported (aborted, pending, aborted again; or a second
// pending_successful after a review canceled) is recorded once: the workflow's reads at the link's end and at
// each review bound show the identification's status, so the outcome is the same, found later.
func signedContentKey(provider, event string, signed []byte) string {
	return "kycflow-webhook-" + bodyDigest([]byte(provider), []byte{'\n'}, []byte(event), []byte{'\n'}, signed)
}
