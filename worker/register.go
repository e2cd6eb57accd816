package worker

import (
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
	"github.com/kycflow/kycflow/workflows"
)

// Activities are the activity structs the worker serves.
type Activities struct {
	Treezor *activities.Treezor
	Solaris *activities.Solaris
	Yousign *activities.Yousign
}

// Register registers every kycflow workflow under its contract name, and the activities. Tests and replayers use
// it too, so what they run is what production runs.
func Register(r sdkworker.Registry, acts Activities) {
	RegisterWorkflows(r)
	r.RegisterActivity(acts.Treezor)
	r.RegisterActivity(acts.Solaris)
	r.RegisterActivity(acts.Yousign)
}

// RegisterWorkflows registers the workflows alone, for replayers.
func RegisterWorkflows(r sdkworker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(workflows.TreezorLiveness, workflow.RegisterOptions{Name: signals.WorkflowTreezorLiveness})
	r.RegisterWorkflowWithOptions(workflows.TreezorQES, workflow.RegisterOptions{Name: signals.WorkflowTreezorQES})
	r.RegisterWorkflowWithOptions(workflows.TreezorVideoConference, workflow.RegisterOptions{Name: signals.WorkflowTreezorVideoConference})
	r.RegisterWorkflowWithOptions(workflows.SolarisIDnow, workflow.RegisterOptions{Name: signals.WorkflowSolarisIDnow})
	r.RegisterWorkflowWithOptions(workflows.YousignVideo, workflow.RegisterOptions{Name: signals.WorkflowYousignVideo})
	r.RegisterWorkflowWithOptions(workflows.ReferenceAlias, workflow.RegisterOptions{Name: signals.AliasWorkflowType})
}
