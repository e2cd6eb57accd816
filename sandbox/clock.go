package sandbox

import (
	"fmt"
	"math"
	"time"

	"github.com/kycflow/kycflow/signals"
)

// DefaultTimeScale compresses provider time so that the whole scenario table runs in well under a minute: a
// minute becomes 1.2 ms, a day 1.7 s, a 14-day IDnow link 24 s.
const DefaultTimeScale = 2e-5

// DefaultMinDeadline is the shortest deadline Clock.Deadline hands out. Below it, the time a webhook takes from the
// sandbox through the relay into the workflow would decide outcomes instead of the scenario.
const DefaultMinDeadline = 2 * time.Second

// Clock turns provider time into real time. The sandbox schedules every provider delay through it, and the
// demo and the tests take their workflow deadlines from it, so that both sides compress time the same way.
type Clock struct {
	// Scale multiplies every provider delay: 1 is real time, DefaultTimeScale runs a day in 1.7 s.
	Scale float64
	// MinDeadline is the floor of a compressed workflow deadline, and the margin by which an event meant to come
	// after a deadline comes after it.
	MinDeadline time.Duration
}

// NewClock validates a scale and returns a Clock with the default MinDeadline.
func NewClock(scale float64) (Clock, error) {
	if math.IsNaN(scale) || scale <= 0 || scale > 1 {
		return Clock{}, fmt.Errorf("time scale %v: want more than 0 and at most 1 (1 is real time)", scale)
	}
	return Clock{Scale: scale, MinDeadline: DefaultMinDeadline}, nil
}

// Duration is the real time a provider delay takes.
func (c Clock) Duration(d time.Duration) time.Duration {
	if c.Scale <= 0 {
		return d
	}
	return time.Duration(float64(d) * c.Scale)
}

// Deadline compresses a workflow deadline (a URL's validity, the review bound), never below MinDeadline.
func (c Clock) Deadline(d time.Duration) time.Duration {
	return max(c.Duration(d), c.MinDeadline)
}

// PastDeadline is the real delay of an event the provider sends after a workflow deadline of d has passed: the
// compressed deadline plus a margin that covers the webhook's trip to the workflow.
func (c Clock) PastDeadline(d time.Duration) time.Duration {
	return c.Deadline(d) + c.MinDeadline
}

// Deadlines are the workflow deadlines that match this clock for a method: the method's defaults (15 minutes or
// 14 days of URL validity, the 24-hour review bound, Yousign's 7 days), compressed. Pass them in
// VerificationInput.Deadlines, or a scenario meant to reach a deadline waits for the real one.
func (c Clock) Deadlines(m signals.Method) signals.Deadlines {
	d := signals.Deadlines{}.WithDefaults(m)
	out := signals.Deadlines{
		URLValidity:  signals.Duration(c.Deadline(time.Duration(d.URLValidity))),
		Review:       signals.Duration(c.Deadline(time.Duration(d.Review))),
		OverdueLimit: signals.Duration(c.Deadline(time.Duration(d.OverdueLimit))),
		Grace:        signals.Duration(c.Deadline(time.Duration(d.Grace))),
		Transfer:     signals.Duration(c.Deadline(time.Duration(d.Transfer))),
	}
	if d.Verification != 0 {
		out.Verification = signals.Duration(c.Deadline(time.Duration(d.Verification)))
	}
	return out
}
