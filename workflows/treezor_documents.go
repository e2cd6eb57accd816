package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/kycflow/kycflow/activities"
	"github.com/kycflow/kycflow/signals"
)

// awaitAllDocuments waits, before the KYC review is requested, for the document.create webhook of every document
// Treezor holds for this session. Seed 001: "Treezor sends you as many document.create webhooks as there are
// documents for the user's live verification. You can make your KYC Review request only once you've received all
// the document creation webhooks." Seed 002 (QES; video conference alike): "The verification documents are
// automatically created once the qes.finalized webhook is received." Neither says how many there are, so the
// workflow lists the user's documents created since the session opened (GET /v1/documents) and waits until each
// has its webhook, listing again whenever a new webhook arrives (a document may be created after a listing). With
// needSynthesis, the live verification's synthesis document (26 or 34) must be among them. Past the review bound
// the verification is overdue and lists again on the backoff schedule.
func (f *treezorFlow) awaitAllDocuments(ctx workflow.Context, needSynthesis bool) *signals.Outcome {
	deadline := workflow.Now(ctx).Add(time.Duration(f.deadlines.Review))
	if f.step != signals.StepCollectingDocuments {
		f.enterStep(ctx, signals.StepCollectingDocuments, deadline)
	}
	var (
		listed     []signals.Document
		listedOnce bool
		// listedWith is how many document.create webhooks the run had when the last listing was asked for. A
		// webhook that arrives while a listing is in flight may announce a document Treezor created after the
		// listing read; only a new listing shows it.
		listedWith int
	)
	// list reads Treezor's listing; a failed read keeps the last one (a listing is an aid: the webhooks decide).
	// The overdue reads are not gathering: the last one, at the overdue limit, may conclude the run.
	list := func(ctx workflow.Context, gathering bool) {
		listedWith = len(f.events.documents)
		req := activities.TreezorDocumentsRequest{UserID: f.input.SubjectID, Since: f.events.sessionOpenedAt.Add(-emissionSlack)}
		var got []signals.Document
		if err := f.readProvider(ctx, gathering, reconcileOptions, "list the user's documents", tz.ListDocuments, req, &got); err != nil {
			if !f.interrupted(err) {
				f.logger.Warn("Listing the user's documents failed; going by their webhooks", "error", err)
			}
			return
		}
		listed, listedOnce = got, true
	}
	complete := func() bool {
		if !listedOnce {
			// No listing yet: the webhooks alone, as before the listing (the synthesis document, or any).
			return (needSynthesis && f.hasSynthesisDocument()) || (!needSynthesis && len(f.events.documents) > 0)
		}
		return len(listed) > 0 && f.receivedAll(listed) && (!needSynthesis || f.hasSynthesisDocument())
	}
	// Past the review bound, a listing that shows the documents (the synthesis among them) is enough: a lost
	// document.create would otherwise hold the review for the whole overdue limit though Treezor has the document.
	listingShowsThem := func() bool {
		if !listedOnce || len(listed) == 0 {
			return false
		}
		if !needSynthesis {
			return true
		}
		for _, d := range listed {
			if isSynthesisDocument(d.TypeID) {
				return true
			}
		}
		return false
	}
	for {
		list(ctx, workflow.Now(ctx).Before(deadline)) // past the bound, overdue: the run may conclude after it
		if o := f.stoppedDuringRead(); o != nil {
			return o
		}
		if complete() {
			return nil
		}
		seen := len(f.events.documents)
		if f.changes.relistDocuments {
			seen = listedWith // one that came during the listing wakes the wait at once
		}
		got, err := f.awaitProvider(ctx, deadline, "document.create of every document", func() bool {
			return len(f.events.documents) > seen || complete() || (f.overdue != nil && listingShowsThem())
		}, func(ctx workflow.Context) { list(ctx, false) })
		if o := f.stopped(err); o != nil {
			return o
		}
		if !got {
			return &signals.Outcome{
				Status: signals.OutcomeReviewTimeout,
				Detail: fmt.Sprintf("%d of %d documents announced by document.create within %s", f.countReceived(listed), len(listed), f.overdueText()),
			}
		}
		if complete() {
			return nil
		}
		if !workflow.Now(ctx).Before(deadline) && listingShowsThem() {
			f.logger.Warn("Requesting the KYC review past the bound with document.create webhooks missing: Treezor lists the documents",
				"received", f.countReceived(listed), "listed", len(listed))
			return nil
		}
	}
}

// receivedAll reports whether every listed document has had its document.create webhook.
func (f *treezorFlow) receivedAll(listed []signals.Document) bool {
	return f.countReceived(listed) == len(listed)
}

func (f *treezorFlow) countReceived(listed []signals.Document) int {
	n := 0
	for _, d := range listed {
		for _, got := range f.events.documents {
			if got.DocumentID == d.ID {
				n++
				break
			}
		}
	}
	return n
}

// awaitTransfer is Treezor's extra validation step, for a verification with SEPAValidation: a validated SEPA
// transfer into the user's wallet before the KYC review is requested. Seed 001: Liveness "Requires a video of the
// end user, their identity proof, and a SEPA transfer into their Treezor Wallet as an extra validation step";
// seed 002: QES in Germany "requires a SEPA transfer into the user's Wallet as an extra validation step". The
// transfer is the user's to make, at any time from the start (a payin.create or payin.update that came before
// this step counts), so its bound (Deadlines.Transfer, from the start, plus the grace for webhook latency)
// concludes: the verification ends expired.
//
// The user may also pay shortly before the backend starts the verification; that payin's webhooks were answered
// "unwanted" (no run to take them), and a webhook may be lost, while Treezor still holds the payin. So the step
// reads the wallet's validated transfers made since transferWindowStart (getPayins) when it begins and once more
// before it concludes expired (changes.readTransfers). A failed read leaves the webhooks to decide, as before.
func (f *treezorFlow) awaitTransfer(ctx workflow.Context) *signals.Outcome {
	if f.input.SEPAValidation == nil || !f.changes.sepaTransfer {
		return nil
	}
	limit := time.Duration(f.deadlines.Transfer)
	deadline := f.startedAt.Add(limit)
	got := func() bool { return f.events.transfer != nil }
	var readAt time.Time
	// The read at the bound is not gathering: the step concludes expired right after it when it finds nothing.
	read := func(gathering bool) *signals.Outcome {
		if !f.changes.readTransfers || got() || workflow.Now(ctx).Equal(readAt) {
			return nil // the read of this very moment already said
		}
		readAt = workflow.Now(ctx)
		f.readTransfers(ctx, gathering)
		return f.stoppedDuringRead()
	}
	if o := read(workflow.Now(ctx).Before(deadline.Add(time.Duration(f.deadlines.Grace)))); o != nil {
		return o
	}
	if !got() {
		f.enterStep(ctx, signals.StepAwaitingTransfer, deadline)
	}
	ok, err := f.waitUntil(ctx, deadline.Add(time.Duration(f.deadlines.Grace)), "SEPA validation transfer (payin)", got)
	if o := f.stopped(err); o != nil {
		return o
	}
	if !ok {
		if o := read(false); o != nil {
			return o
		}
	}
	if !got() {
		return &signals.Outcome{Status: signals.OutcomeExpired, UserMayRetry: true,
			Detail: fmt.Sprintf("no validated SEPA transfer into the user's wallet within %s of the start", limit)}
	}
	return nil
}

// readTransfers reads the validated SEPA transfers Treezor holds for the verification's wallet, made since
// transferWindowStart, and keeps the first, as its webhook would have. gathering: see readProvider.
func (f *treezorFlow) readTransfers(ctx workflow.Context, gathering bool) {
	req := activities.TreezorTransfersRequest{WalletID: f.input.SEPAValidation.WalletID, Since: f.transferWindowStart()}
	var transfers []signals.TreezorPayinEvent
	if err := f.readProvider(ctx, gathering, reconcileOptions, "list the wallet's validated transfers", tz.ListValidatedTransfers, req, &transfers); err != nil {
		if !f.interrupted(err) {
			f.logger.Warn("Listing the wallet's transfers failed; going by their webhooks", "error", err)
		}
		return
	}
	for _, t := range transfers { // the client already dropped those made before req.Since
		f.keepTransfer(t)
	}
}
