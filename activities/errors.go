// Package activities holds the Temporal activities: thin methods over the provider clients of its sub-packages,
// which own HTTP, authentication and error classification.
package activities

import "go.temporal.io/sdk/temporal"

func nonRetryable(msg, errType string) error {
	return temporal.NewNonRetryableApplicationError(msg, errType, nil)
}

// ErrTypeNotConfigured: the worker has no credentials for the provider a workflow asked for.
const ErrTypeNotConfigured = "ProviderNotConfigured"

// notConfigured fails a call at once rather than letting Temporal retry what no retry can fix.
func notConfigured(provider, env string) error {
	return nonRetryable(provider+" is not configured on this worker (set "+env+" and its credentials)", ErrTypeNotConfigured)
}
