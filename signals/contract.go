// Package signals is kycflow's contract: everything the worker, the relay, the starter and a backend in any
// language must agree on. Workflow types, the task queue, signal, update and query names, their payloads, the
// outcome enum, the search attribute keys and the workflow ID scheme live here and nowhere else.
//
// Nothing in this package does I/O or holds workflow logic; it only names things and shapes data.
package signals

import (
	"fmt"
	"strings"
)

// TaskQueue is the task queue every kycflow workflow and activity runs on.
const TaskQueue = "kycflow"

// Provider is the identity-verification vendor behind a method.
type Provider string

// The providers kycflow talks to.
const (
	ProviderTreezor Provider = "treezor"
	ProviderSolaris Provider = "solaris"
	ProviderYousign Provider = "yousign"
)

// Method is one verification method a backend can ask for.
type Method string

// The five methods. The string values are part of the contract (inputs, search attributes, CLI).
const (
	// MethodTreezorLiveness is Treezor live verification: Liveness or Certified video (PVID).
	MethodTreezorLiveness Method = "treezor-liveness"
	// MethodTreezorQES is Treezor's qualified electronic signature identification (IDnow-backed).
	MethodTreezorQES Method = "treezor-qes"
	// MethodTreezorVideoConference is Treezor's video conference identification (IDnow-backed).
	MethodTreezorVideoConference Method = "treezor-videoconference"
	// MethodSolarisIDnow is Solaris' IDnow video identification.
	MethodSolarisIDnow Method = "solaris-idnow"
	// MethodYousignVideo is Yousign's video identity verification.
	MethodYousignVideo Method = "yousign-video"
)

// Methods lists every method in a stable order.
var Methods = []Method{
	MethodTreezorLiveness, MethodTreezorQES, MethodTreezorVideoConference, MethodSolarisIDnow, MethodYousignVideo,
}

// Workflow type names, one per method. Backends in other languages start workflows by these names.
const (
	WorkflowTreezorLiveness        = "TreezorLivenessVerification"
	WorkflowTreezorQES             = "TreezorQESVerification"
	WorkflowTreezorVideoConference = "TreezorVideoConferenceVerification"
	WorkflowSolarisIDnow           = "SolarisIDnowVerification"
	WorkflowYousignVideo           = "YousignVideoVerification"
)

// ParseMethod turns user input into a Method, naming the valid ones when it is not.
func ParseMethod(s string) (Method, error) {
	for _, m := range Methods {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, len(Methods))
	for i, m := range Methods {
		names[i] = string(m)
	}
	return "", fmt.Errorf("unknown verification method %q (one of: %s)", s, strings.Join(names, ", "))
}

// Provider is the vendor that runs the method.
func (m Method) Provider() Provider {
	switch m {
	case MethodTreezorLiveness, MethodTreezorQES, MethodTreezorVideoConference:
		return ProviderTreezor
	case MethodSolarisIDnow:
		return ProviderSolaris
	case MethodYousignVideo:
		return ProviderYousign
	}
	return ""
}

// WorkflowType is the registered workflow type name for the method.
func (m Method) WorkflowType() string {
	switch m {
	case MethodTreezorLiveness:
		return WorkflowTreezorLiveness
	case MethodTreezorQES:
		return WorkflowTreezorQES
	case MethodTreezorVideoConference:
		return WorkflowTreezorVideoConference
	case MethodSolarisIDnow:
		return WorkflowSolarisIDnow
	case MethodYousignVideo:
		return WorkflowYousignVideo
	}
	return ""
}

// WorkflowID is the deterministic ID of the verification of one subject at one provider.
//
// The subject is the provider's own identifier (Treezor userId, Solaris person_id) or, for Yousign, the backend's
// opaque user reference; never a name or e-mail, since workflow IDs show in the UI and in logs unencrypted.
//
// The ID is per provider, not per method: Treezor reviews KYC per user, so two Treezor methods running at once for
// one user would race on the same review. A second start for the same subject joins the running verification
// (and is refused if it asks for another method), and the relay can find the workflow from a webhook that names
// only the user (user.kycreview, document.create).
func WorkflowID(p Provider, subject string) string {
	return "kyc/" + string(p) + "/" + subject
}

// ValidateSubject checks that a subject ID is safe to embed in a workflow ID.
func ValidateSubject(subject string) error {
	if subject == "" {
		return fmt.Errorf("subject ID is empty")
	}
	if len(subject) > 200 {
		return fmt.Errorf("subject ID is %d bytes long, 200 at most", len(subject))
	}
	for _, r := range subject {
		if r <= ' ' || r == '/' || r > '~' {
			return fmt.Errorf("subject ID %q contains %q: only printable ASCII without spaces or '/' is allowed", subject, r)
		}
	}
	return nil
}
