package sandbox

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fault is a fault the sandbox injects for a subject. None changes a scenario's expected outcome: they test that
// kycflow reaches it anyway.
type Fault string

// The faults.
const (
	// FaultDuplicate delivers every webhook twice (same body, same event ID), the second time right after the first.
	FaultDuplicate Fault = "DUP"
	// FaultReorder delivers the webhooks of each sequence of steps in reverse order, once the last one happened
	// (a step meant to come after a deadline is never held back).
	FaultReorder Fault = "REORDER"
	// FaultDrop never delivers the subject's first webhook that a workflow can make up for by polling (Treezor's
	// user.kycreview decision, a final Solaris status, Yousign's done): the workflow's reconciliation must.
	FaultDrop Fault = "DROP"
	// FaultBurst answers the first three API calls about the subject with 503, 502 and 500.
	FaultBurst Fault = "BURST"
	// FaultLimit answers the first API call about the subject with 429 and Retry-After: 2.
	FaultLimit Fault = "LIMIT"
)

// AllFaults lists the faults in a stable order.
var AllFaults = []Fault{FaultDuplicate, FaultReorder, FaultDrop, FaultBurst, FaultLimit}

// FaultsPrefix starts the first-name token that selects faults for a subject: X-FAULTS-DUP-REORDER.
const FaultsPrefix = "X-FAULTS-"

// burstStatuses are the answers of a BURST, in order: two that HTTP clients retry in-process, then one they do not.
var burstStatuses = []int{http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusInternalServerError}

// RetryAfter is the Retry-After of a LIMIT answer. It is real time: clients honour it with their own clocks.
const RetryAfter = 2 * time.Second

// FaultToken is the first-name token that selects faults, "" for none.
func FaultToken(faults []Fault) string {
	if len(faults) == 0 {
		return ""
	}
	parts := make([]string, len(faults))
	for i, f := range faults {
		parts[i] = string(f)
	}
	return FaultsPrefix + strings.Join(parts, "-")
}

// FaultsFromNames reads the faults a subject's names select.
func FaultsFromNames(first, last string) []Fault {
	var out []Fault
	for _, word := range strings.Fields(first + " " + last) {
		rest, ok := strings.CutPrefix(strings.ToUpper(word), FaultsPrefix)
		if !ok {
			continue
		}
		for _, part := range strings.Split(rest, "-") {
			if f, ok := parseFault(part); ok && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

func parseFault(s string) (Fault, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	for _, f := range AllFaults {
		if string(f) == s {
			return f, true
		}
	}
	return "", false
}

// FaultRate applies a fault to a share of the subjects.
type FaultRate struct {
	Fault Fault
	// Probability that a new subject gets the fault, in (0, 1].
	Probability float64
}

// GlobalFaults apply to every subject, on top of the faults its names select.
type GlobalFaults []FaultRate

// ParseGlobalFaults reads a list such as "dup,reorder=0.5,limit=0.1": a fault alone applies to every subject, with
// a probability to that share of them.
func ParseGlobalFaults(spec string) (GlobalFaults, error) {
	var out GlobalFaults
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, prob, hasProb := strings.Cut(item, "=")
		f, ok := parseFault(name)
		if !ok {
			return nil, fmt.Errorf("fault %q: want one of %s", name, faultNames())
		}
		p := 1.0
		if hasProb {
			v, err := strconv.ParseFloat(strings.TrimSpace(prob), 64)
			if err != nil || v <= 0 || v > 1 {
				return nil, fmt.Errorf("fault %s=%s: want a probability in (0, 1]", f, prob)
			}
			p = v
		}
		out = append(out, FaultRate{Fault: f, Probability: p})
	}
	return out, nil
}

func faultNames() string {
	names := make([]string, len(AllFaults))
	for i, f := range AllFaults {
		names[i] = strings.ToLower(string(f))
	}
	return strings.Join(names, ", ")
}

// String writes the list back in ParseGlobalFaults' form.
func (g GlobalFaults) String() string {
	parts := make([]string, len(g))
	for i, r := range g {
		parts[i] = strings.ToLower(string(r.Fault))
		if r.Probability < 1 {
			parts[i] += "=" + strconv.FormatFloat(r.Probability, 'g', -1, 64)
		}
	}
	return strings.Join(parts, ",")
}

// draw picks the global faults a new subject gets.
func (g GlobalFaults) draw() []Fault {
	var out []Fault
	for _, r := range g {
		if r.Probability >= 1 || rand.Float64() < r.Probability {
			out = append(out, r.Fault)
		}
	}
	return out
}

// apiFaults is what a subject's API faults still have in store.
type apiFaults struct {
	burst        int
	limitPending bool
	limitedAt    time.Time
}

func newAPIFaults(faults []Fault) apiFaults {
	var a apiFaults
	if slices.Contains(faults, FaultBurst) {
		a.burst = len(burstStatuses)
	}
	a.limitPending = slices.Contains(faults, FaultLimit)
	return a
}
