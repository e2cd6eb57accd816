package starter_test

import (
	"context"
	"errors"
	"log"
	"os"

	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/starter"
)

// A signup backend starts a verification and branches on what went wrong. The README shows this example; it is
// compiled here so that it cannot drift from the API.
func ExampleStarter_Start() {
	ctx := context.Background()
	signupRequestID := "signup-7f3a"               // the backend's own idempotency key for this attempt
	opts, err := starter.OptionsFromEnv(os.Getenv) // TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KYCFLOW_PAYLOAD_KEY
	if err != nil {
		log.Fatal(err)
	}
	s, err := starter.Dial(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	v, ident, err := s.Start(ctx, signals.VerificationInput{Method: signals.MethodTreezorLiveness, SubjectID: "123456"},
		starter.IdempotencyKey(signupRequestID))
	switch {
	case err == nil:
		log.Printf("send the user to %s (valid until %s); keep %s", ident.URL, ident.ExpiresAt, v.WorkflowID)
	case errors.Is(err, starter.ErrUserDataIncomplete):
		// Ask the user to complete their profile at the provider, then start again.
	case errors.Is(err, starter.ErrMethodMismatch):
		// Another method is running for this user: wait for it or cancel it.
	case errors.Is(err, starter.ErrTemporalUnavailable), errors.Is(err, starter.ErrProviderUnavailable),
		errors.Is(err, starter.ErrTimeout):
		// Nothing is lost: retry the same call later.
	case errors.Is(err, starter.ErrProviderRejected), errors.Is(err, starter.ErrInvalidRequest):
		// Retrying fails the same way: fix the subject or the configuration (the error names the provider's answer).
		log.Printf("verification cannot start: %v", err)
	default:
		log.Printf("verification failed to start: %v", err)
	}
	// Later: s.Status, s.Renew, s.Cancel and s.Wait(ctx, starter.Verification{WorkflowID: v.WorkflowID}).
}
