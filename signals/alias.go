package signals

import "time"

// A reference alias lets the relay find the verification a provider reference belongs to with one strongly
// consistent call (DescribeWorkflowExecution) instead of a visibility query. Visibility is eventually consistent
// and rate limited (a production server allows 10 requests per second per namespace by default), so a webhook that
// comes right after the provider issued its reference, or in a burst, would otherwise be answered 503 and wait for
// the provider's retry.
//
// The activity that receives the reference from the provider (Solaris's identification, Yousign's verification,
// Treezor's QES or video conference identification) starts a workflow of type AliasWorkflowType under
// AliasWorkflowID(provider, reference), before it returns, with the verification's run in its memo (AliasMemoKey).
// The alias starts delayed by AliasLife, so it stays open (Running, with no task to run and nothing cached on a
// worker) for as long as a verification can last, and closes on its own after that; a closed workflow is deleted
// after the namespace's retention, which is usually shorter than a verification. Aliases never touch the
// verification's own history.
const (
	AliasWorkflowType = "kycflow.ReferenceAlias"
	AliasMemoKey      = "verification"
	// AliasLife covers a verification's longest life: a 14-day IDnow link, the review bound and the overdue
	// limit, with room for an operator's extension. Past it, the relay falls back to the visibility query.
	AliasLife = 60 * 24 * time.Hour
)

// AliasWorkflowID is the alias of a provider reference: "kyc-ref/<provider>/<reference>".
func AliasWorkflowID(p Provider, reference string) string {
	return "kyc-ref/" + string(p) + "/" + reference
}

// AliasTarget is the alias's memo: the run the reference belongs to.
type AliasTarget struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
}
