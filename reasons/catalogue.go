// Package reasons holds the reason-code catalogues of the verification providers, transcribed from their
// documentation, and turns the codes a provider sends into signals.Reason values.
//
// The catalogues are data in Go code rather than files read at run time so that a worker cannot start with a
// missing or edited table, and so that every change to a provider's text goes through review. Each entry keeps
// the provider's own code and text verbatim (the tests compare them with the original documentation) and adds
// kycflow's judgement: a category, whether the user may retry, and whether anything may be shown to the user.
package reasons

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kycflow/kycflow/signals"
)

// Answer is a yes/no column of a provider's table. Its zero value means the provider did not say, which keeps
// "not documented" apart from "no" for tables that leave cells blank (IDnow writes "-") or have no such column.
type Answer int8

// The values of an Answer.
const (
	AnswerUnstated Answer = iota
	AnswerNo
	AnswerYes
)

// String makes an Answer readable in logs and test failures.
func (a Answer) String() string {
	switch a {
	case AnswerNo:
		return "no"
	case AnswerYes:
		return "yes"
	default:
		return "unstated"
	}
}

// Entry is one reason code of a provider's catalogue.
type Entry struct {
	// Code and Message are the provider's code and text exactly as documented (whitespace trimmed). For IDnow the
	// code is the failure-reason name and the message its description; for Yousign the message is the description.
	Code    string
	Message string
	// Description is the provider's longer explanation where the table has one beside the message (Treezor QES
	// and video conference). Internal: it may describe a fraud suspicion.
	Description string
	// Groups are the provider's tables or statuses that list the code: "aborted", "canceled", "fraud", "final",
	// "inconclusive", "failed". A code can be in more than one (Yousign IDVV_1201); Treezor live verification has
	// a single table and no group.
	Groups []string
	// ProviderCategory is the provider's own classification of the code: IDnow's category, Yousign's type.
	ProviderCategory string
	// Permanent and CausedByUser are IDnow's columns of the same names.
	Permanent    Answer
	CausedByUser Answer

	Category signals.ReasonCategory
	// UserMayRetry: the user can succeed by trying again.
	UserMayRetry bool
	// UserShowable: UserMessage may be shown to the end user. Never true for a fraud suspicion, which must not be
	// revealed to the user.
	UserShowable bool
	// UserMessage is short, neutral, end-user-facing English; empty unless UserShowable.
	UserMessage string
}

// InGroup reports whether the provider lists the code in the named table or status.
func (e Entry) InGroup(group string) bool {
	return slices.Contains(e.Groups, group)
}

// Catalogue is one provider method's table of reason codes.
type Catalogue struct {
	// Name is the signals.Method the catalogue belongs to.
	Name    string
	entries map[string]Entry
	sorted  []Entry
}

// newCatalogue builds a catalogue from the provider's tables in documentation order. A code listed in two tables
// is merged into one entry with both groups, as long as both rows agree; any other duplicate is a transcription
// error, and panicking at package initialisation keeps it from ever reaching a worker.
func newCatalogue(method signals.Method, tables ...[]Entry) *Catalogue {
	c := &Catalogue{Name: string(method), entries: map[string]Entry{}}
	for _, table := range tables {
		for _, e := range table {
			if e.UserShowable != (e.UserMessage != "") {
				panic(fmt.Sprintf("reasons: %s %s: user message and showable flag disagree", method, e.Code))
			}
			if e.Category == signals.CategoryFraud && (e.UserShowable || e.UserMayRetry) {
				panic(fmt.Sprintf("reasons: %s %s: a fraud reason must be neither showable nor retryable", method, e.Code))
			}
			prev, dup := c.entries[e.Code]
			if !dup {
				c.entries[e.Code] = e
				continue
			}
			if !sameApartFromGroups(prev, e) {
				panic(fmt.Sprintf("reasons: %s %s: listed twice with different content", method, e.Code))
			}
			prev.Groups = append(slices.Clip(prev.Groups), e.Groups...)
			c.entries[e.Code] = prev
		}
	}
	for _, e := range c.entries {
		c.sorted = append(c.sorted, e)
	}
	slices.SortFunc(c.sorted, func(a, b Entry) int { return strings.Compare(a.Code, b.Code) })
	return c
}

func sameApartFromGroups(a, b Entry) bool {
	return a.Code == b.Code && a.Message == b.Message && a.Description == b.Description &&
		a.ProviderCategory == b.ProviderCategory && a.Permanent == b.Permanent && a.CausedByUser == b.CausedByUser &&
		a.Category == b.Category && a.UserMayRetry == b.UserMayRetry && a.UserShowable == b.UserShowable &&
		a.UserMessage == b.UserMessage
}

// copyEntry gives callers their own Groups so that they cannot alter the catalogue through the returned slice.
func copyEntry(e Entry) Entry {
	e.Groups = slices.Clone(e.Groups)
	return e
}

// Lookup returns the entry for a provider code. Surrounding whitespace is ignored because codes arrive from JSON
// numbers and strings alike; case is not, since no provider documents case-insensitive codes.
func (c *Catalogue) Lookup(code string) (Entry, bool) {
	if c == nil {
		return Entry{}, false
	}
	e, ok := c.entries[strings.TrimSpace(code)]
	if !ok {
		return Entry{}, false
	}
	return copyEntry(e), true
}

// Entries returns every entry sorted by code.
func (c *Catalogue) Entries() []Entry {
	if c == nil {
		return nil
	}
	out := make([]Entry, len(c.sorted))
	for i, e := range c.sorted {
		out[i] = copyEntry(e)
	}
	return out
}

// Len is the number of distinct codes, which is less than the number of documented rows when a code is listed
// in two tables.
func (c *Catalogue) Len() int {
	if c == nil {
		return 0
	}
	return len(c.sorted)
}

// Explain maps a provider code, and the message the provider sent with it (possibly empty), to a signals.Reason.
// A code the catalogue does not know is kept verbatim rather than dropped, so that operators still see it, and
// is neither shown to the user nor retryable, since nothing is known about it.
func (c *Catalogue) Explain(code, providerMessage string) signals.Reason {
	e, ok := c.Lookup(code)
	if !ok {
		return signals.Reason{
			Code:     code,
			Message:  providerMessage,
			Category: signals.CategoryUnknown,
		}
	}
	return signals.Reason{
		Code:         e.Code,
		Message:      e.Message,
		Category:     e.Category,
		UserMayRetry: e.UserMayRetry,
		UserShowable: e.UserShowable,
		UserMessage:  e.UserMessage,
		Known:        true,
	}
}

// Withheld keeps reasons for operators while nothing of them may reach the user: not showable, no user message,
// not retryable. For a decision the provider forbids explaining (Solaris: "No reason can be disclosed for the final
// failed status").
func Withheld(rs []signals.Reason) []signals.Reason {
	out := make([]signals.Reason, len(rs))
	for i, r := range rs {
		r.UserShowable, r.UserMessage, r.UserMayRetry = false, "", false
		out[i] = r
	}
	return out
}

// GenericUserMessage is shown when no reason has anything showable. It says nothing about why, so it is safe
// whatever the reasons were, fraud suspicions included.
const GenericUserMessage = "We could not complete your identity verification."

// UserMessage combines reasons into one text that is safe to show the end user: the user messages of the
// showable reasons, deduplicated, in order, or GenericUserMessage when none is showable.
//
// Only texts written in these catalogues are ever returned: a Reason built or altered elsewhere could carry
// anything in UserMessage (a provider message, an IDnow reference), and the user must never see that. Fraud
// reasons are skipped even if marked showable, for the same reason.
func UserMessage(rs []signals.Reason) string {
	var parts []string
	for _, r := range rs {
		if !r.UserShowable || r.Category == signals.CategoryFraud || !knownUserMessages[r.UserMessage] {
			continue
		}
		if !slices.Contains(parts, r.UserMessage) {
			parts = append(parts, r.UserMessage)
		}
	}
	if len(parts) == 0 {
		return GenericUserMessage
	}
	return strings.Join(parts, " ")
}

// knownUserMessages is every user message of every catalogue: the only texts UserMessage may return.
var knownUserMessages = collectUserMessages(TreezorLiveness, TreezorQES, TreezorVideoConference, IDnow, Yousign)

func collectUserMessages(cs ...*Catalogue) map[string]bool {
	m := map[string]bool{}
	for _, c := range cs {
		for _, e := range c.sorted {
			if e.UserShowable && e.Category != signals.CategoryFraud {
				m[e.UserMessage] = true
			}
		}
	}
	return m
}
