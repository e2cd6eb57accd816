// Package activities holds the Temporal activities: thin methods over the provider clients of its sub-packages,
// which own HTTP, authentication and error classification.
package activities

import "go.temporal.io/sdk/temporal"

func nonRetryable(msg, errType string) error {
	return temporal.NewNonRetryableApplicationError(msg, errType, nil)
}
