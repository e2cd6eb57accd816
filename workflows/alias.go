package workflows

import "go.temporal.io/sdk/workflow"

// ReferenceAlias is the workflow behind a provider reference's alias (signals.AliasWorkflowID). Its run is
// started with a delay of signals.AliasLife and holds the verification's run in its memo; only its existence and
// memo matter, so when the delay is over it ends at once.
func ReferenceAlias(workflow.Context) error { return nil }
