// Package signals is kycflow's contract: everything the worker, the relay, the starter and a backend in any
// language must agree on. Workflow types, the task queue, signal, update and query names, their payloads, the
// outcome enum, the search attribute keys and the workflow ID scheme live here and nowhere else.
//
// Nothing in this package does I/O or holds workflow logic; it only names things and shapes data.
package signals

import (
	"errors"
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

// maxSubjectLength bounds every subject ID: it is part of a workflow ID.
const maxSubjectLength = 128

// ValidateSubjectOf checks a subject ID against the form its provider gives it, so that one subject has one
// spelling (one workflow ID) and no personal data can pass for one. Errors name the rule and never echo the value:
// a wrong value may be an e-mail address.
//   - Treezor: a userId, digits without a leading zero ("0042" would be Treezor's user 42, whose webhooks go to
//     another workflow ID), at most 19 digits;
//   - Solaris: a person_id, lower-case letters and digits (Solaris' IDs are hex with a type suffix, "…cper");
//   - Yousign: the backend's opaque reference: letters, digits and . _ : - only (no '@', no spaces).
func ValidateSubjectOf(p Provider, subject string) error {
	if err := ValidateSubject(subject); err != nil {
		return err
	}
	if len(subject) > maxSubjectLength {
		return fmt.Errorf("subject ID is %d bytes long, %d at most", len(subject), maxSubjectLength)
	}
	switch p {
	case ProviderTreezor:
		if len(subject) > 19 || strings.Trim(subject, "0123456789") != "" {
			return errors.New("a Treezor subject ID is the user's userId: at most 19 digits")
		}
		if subject[0] == '0' {
			return errors.New("a Treezor subject ID has no leading zero (Treezor reads a userId with one as the number without it)")
		}
	case ProviderSolaris:
		if strings.Trim(subject, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return errors.New("a Solaris subject ID is the person_id: lower-case letters and digits only")
		}
	default:
		for _, r := range subject {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:-", r)) {
				return errors.New("a Yousign subject ID is the backend's opaque user reference: letters, digits and . _ : - only (never an e-mail address or a name)")
			}
		}
	}
	return nil
}

// ValidateSubject checks that a subject ID is safe to embed in a workflow ID.
func ValidateSubject(subject string) error {
	if subject == "" {
		return fmt.Errorf("subject ID is empty")
	}
	if len(subject) > 200 {
		return fmt.Errorf("subject ID is %d bytes long, 200 at most", len(subject))
	}
	for i, r := range subject {
		if r <= ' ' || r == '/' || r > '~' {
			// The value is not quoted: it may be personal data.
			return fmt.Errorf("subject ID has a character not allowed at byte %d: only printable ASCII without spaces or '/' is allowed", i)
		}
	}
	return nil
}
