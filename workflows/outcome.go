package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/reasons"
	"github.com/kycflow/kycflow/signals"
)

// userMessage is the user-safe text for a set of explained reasons; empty when there are none.
func userMessage(rs []signals.Reason) string {
	if len(rs) == 0 {
		return ""
	}
	return reasons.UserMessage(rs)
}

// outcomeUserMessage is the text a backend can show the end user as is. Fraud suspicion is never disclosed: it
// reads as a plain refusal.
func outcomeUserMessage(o signals.Outcome) string {
	if o.Status != signals.OutcomeFraudSuspected && o.Status != signals.OutcomeApproved {
		if msg := userMessage(o.Reasons); msg != "" {
			return msg
		}
	}
	switch o.Status {
	case signals.OutcomeApproved:
		return "Your identity has been verified."
	case signals.OutcomeRefused, signals.OutcomeFraudSuspected:
		return "We could not verify your identity."
	case signals.OutcomeAborted:
		return "The identification was not completed. You can start it again."
	case signals.OutcomeCanceled:
		return "The identification could not be completed. Please try again."
	case signals.OutcomeExpired:
		return "The identification link has expired. Please start a new identification."
	case signals.OutcomeReviewTimeout:
		return "Your identification is still under review. We will get back to you."
	case signals.OutcomeCancelled:
		return "The identification was cancelled."
	}
	// A failure: "try again later" only where a later attempt can succeed. A provider that refused the request
	// (an unknown user, a feature not enabled, bad credentials) refuses it again until someone fixes it.
	if o.UserMayRetry {
		return "The identification could not be completed because of a technical problem. Please try again later."
	}
	return "The identification could not be started because of a technical problem on our side. Please contact support."
}

// anyRetryable reports whether the user may succeed by trying again: some reason says so and none is fraud.
func anyRetryable(rs []signals.Reason) bool {
	retry := false
	for _, r := range rs {
		if r.Category == signals.CategoryFraud {
			return false
		}
		retry = retry || r.UserMayRetry
	}
	return retry
}

// failureOutcome turns an activity error that exhausted its retries into a failed outcome with a typed cause.
func failureOutcome(err error, what string) signals.Outcome {
	o := signals.Outcome{
		Status: signals.OutcomeFailed,
		Cause:  signals.CauseProviderUnavailable,
		Detail: what + ": " + err.Error(),
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case providerhttp.ErrTypeUserDataIncomplete:
			o.Cause = signals.CauseUserDataIncomplete
			o.UserMayRetry = true
			o.UserMessage = "Some of your personal details are missing. Please complete your profile and try again."
		case providerhttp.ErrTypeUnavailable, providerhttp.ErrTypeRateLimited, providerhttp.ErrTypeUnexpectedStatus:
			o.Cause = signals.CauseProviderUnavailable
			o.UserMayRetry = true
		default:
			o.Cause = signals.CauseProviderRejected
		}
		return o
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		o.UserMayRetry = true
	}
	return o
}
