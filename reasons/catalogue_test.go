package reasons_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kycflow/kycflow/reasons"
	"github.com/kycflow/kycflow/signals"
)

var catalogues = []struct {
	name string
	cat  *reasons.Catalogue
}{
	{"treezor liveness", reasons.TreezorLiveness},
	{"treezor qes", reasons.TreezorQES},
	{"treezor video conference", reasons.TreezorVideoConference},
	{"solaris idnow", reasons.IDnow},
	{"yousign", reasons.Yousign},
}

func allEntries() []reasons.Entry {
	var all []reasons.Entry
	for _, c := range catalogues {
		all = append(all, c.cat.Entries()...)
	}
	return all
}

func codeRange(prefix string, from, to int) []string {
	var codes []string
	for i := from; i <= to; i++ {
		codes = append(codes, fmt.Sprintf("%s%d", prefix, i))
	}
	return codes
}

func TestCatalogueSizes(t *testing.T) {
	tests := []struct {
		cat       *reasons.Catalogue
		name      string
		wantCodes int
		// wantRows counts documented rows: Yousign lists IDVV_1201 under both of its statuses.
		wantRows int
	}{
		{reasons.TreezorLiveness, "treezor-liveness", 30, 30},
		{reasons.TreezorQES, "treezor-qes", 77, 77},
		{reasons.TreezorVideoConference, "treezor-videoconference", 60, 60},
		{reasons.IDnow, "solaris-idnow", 59, 59},
		{reasons.Yousign, "yousign-video", 41, 42},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cat.Name != tt.name {
				t.Errorf("Name = %q, want %q", tt.cat.Name, tt.name)
			}
			entries := tt.cat.Entries()
			if tt.cat.Len() != tt.wantCodes || len(entries) != tt.wantCodes {
				t.Errorf("Len() = %d, len(Entries()) = %d, want %d", tt.cat.Len(), len(entries), tt.wantCodes)
			}
			rows := 0
			for _, e := range entries {
				rows += max(1, len(e.Groups))
			}
			if rows != tt.wantRows {
				t.Errorf("documented rows = %d, want %d", rows, tt.wantRows)
			}
			if !slices.IsSortedFunc(entries, func(a, b reasons.Entry) int { return strings.Compare(a.Code, b.Code) }) {
				t.Error("Entries() is not sorted by code")
			}
		})
	}
}

func TestGroups(t *testing.T) {
	tests := []struct {
		cat   *reasons.Catalogue
		group string
		codes []string
	}{
		{reasons.TreezorQES, "aborted", codeRange("", 3001, 3021)},
		{reasons.TreezorQES, "canceled", codeRange("", 3101, 3141)},
		{reasons.TreezorQES, "fraud", codeRange("", 3201, 3215)},
		{reasons.TreezorVideoConference, "aborted", codeRange("", 4001, 4015)},
		{reasons.TreezorVideoConference, "canceled", codeRange("", 4101, 4130)},
		{reasons.TreezorVideoConference, "final", codeRange("", 4201, 4215)},
	}
	for _, tt := range tests {
		t.Run(tt.cat.Name+"/"+tt.group, func(t *testing.T) {
			for _, code := range tt.codes {
				if e, ok := tt.cat.Lookup(code); !ok || !e.InGroup(tt.group) {
					t.Errorf("%s: found %v, groups %v; want in %q", code, ok, e.Groups, tt.group)
				}
			}
		})
	}
	e, _ := reasons.Yousign.Lookup("IDVV_1201")
	if !e.InGroup("inconclusive") || !e.InGroup("failed") {
		t.Errorf("IDVV_1201 groups = %v, want inconclusive and failed", e.Groups)
	}
}

// TestFraudCodes pins the codes the providers call fraud or fraud suspicion, so that a later edit cannot quietly
// turn one into something shown to the user.
func TestFraudCodes(t *testing.T) {
	tests := []struct {
		cat   *reasons.Catalogue
		codes []string
	}{
		{reasons.TreezorLiveness, append(codeRange("", 2301, 2307), "2399", "2402", "2403", "2404")},
		{reasons.TreezorQES, codeRange("", 3201, 3215)},
		{reasons.TreezorVideoConference, codeRange("", 4201, 4215)},
		{reasons.IDnow, []string{"NO_ESIGN_FRAUD", "OTHER_ABUSE"}},
		{reasons.Yousign, append(codeRange("IDVV_", 2301, 2307), "IDVV_2311", "IDVV_2402", "IDVV_2403")},
	}
	for _, tt := range tests {
		t.Run(tt.cat.Name, func(t *testing.T) {
			for _, code := range tt.codes {
				e, ok := tt.cat.Lookup(code)
				if !ok || e.Category != signals.CategoryFraud {
					t.Errorf("%s: found %v, category %q; want fraud", code, ok, e.Category)
				}
			}
		})
	}
}

func TestFraudIsNeverShownNorRetryable(t *testing.T) {
	n := 0
	for _, e := range allEntries() {
		if e.Category != signals.CategoryFraud {
			continue
		}
		n++
		if e.UserShowable || e.UserMessage != "" || e.UserMayRetry {
			t.Errorf("%s: showable %v, user message %q, retry %v", e.Code, e.UserShowable, e.UserMessage, e.UserMayRetry)
		}
	}
	if n == 0 {
		t.Fatal("no fraud entries at all")
	}
}

func TestUserMessageMatchesShowable(t *testing.T) {
	for _, e := range allEntries() {
		if e.UserShowable != (e.UserMessage != "") {
			t.Errorf("%s: showable %v with user message %q", e.Code, e.UserShowable, e.UserMessage)
		}
		if l := strings.ToLower(e.UserMessage); strings.Contains(l, "fraud") || strings.Contains(l, "suspic") {
			t.Errorf("%s: user message %q talks about fraud", e.Code, e.UserMessage)
		}
		if e.Category == "" || e.Category == signals.CategoryUnknown {
			t.Errorf("%s: category %q", e.Code, e.Category)
		}
	}
}

func TestAbortedByUserIsRetryable(t *testing.T) {
	for _, e := range allEntries() {
		if e.Category == signals.CategoryUserAbandoned && (!e.UserMayRetry || !e.UserShowable) {
			t.Errorf("%s: abandoned but retry %v, showable %v", e.Code, e.UserMayRetry, e.UserShowable)
		}
	}
}

func TestExplainKnown(t *testing.T) {
	for _, c := range catalogues {
		for _, e := range c.cat.Entries() {
			got := c.cat.Explain(e.Code, "whatever the provider sent")
			want := signals.Reason{
				Code: e.Code, Message: e.Message, Category: e.Category, UserMayRetry: e.UserMayRetry,
				UserShowable: e.UserShowable, UserMessage: e.UserMessage, Known: true,
			}
			if got != want {
				t.Errorf("%s %s: Explain = %+v, want %+v", c.name, e.Code, got, want)
			}
		}
	}
	if got := reasons.TreezorLiveness.Explain(" 2101 ", ""); !got.Known || got.Code != "2101" {
		t.Errorf("code with surrounding spaces: %+v", got)
	}
}

func TestExplainUnknownKeepsCodeVerbatim(t *testing.T) {
	tests := []struct {
		cat           *reasons.Catalogue
		code, message string
	}{
		{reasons.TreezorLiveness, "9999", "Brand new reason"},
		{reasons.TreezorLiveness, "", ""},
		{reasons.TreezorQES, "3216", "WARNING_SOMETHING_NEW"},
		{reasons.TreezorVideoConference, "1201", "a liveness code on the wrong method"},
		{reasons.IDnow, "tech_audio", "codes are case-sensitive"},
		{reasons.Yousign, "IDVV_9999", ""},
		{nil, "2301", "no catalogue at all"},
	}
	for _, tt := range tests {
		name := "nil"
		if tt.cat != nil {
			name = tt.cat.Name
		}
		t.Run(name+"/"+tt.code, func(t *testing.T) {
			got := tt.cat.Explain(tt.code, tt.message)
			want := signals.Reason{Code: tt.code, Message: tt.message, Category: signals.CategoryUnknown}
			if got != want {
				t.Errorf("Explain = %+v, want %+v", got, want)
			}
		})
	}
}

func TestLookupReturnsACopy(t *testing.T) {
	e, _ := reasons.Yousign.Lookup("IDVV_1201")
	e.Groups[0] = "tampered"
	if again, _ := reasons.Yousign.Lookup("IDVV_1201"); again.Groups[0] == "tampered" {
		t.Error("changing a returned entry changed the catalogue")
	}
}

func explain(c *reasons.Catalogue, codes ...string) []signals.Reason {
	var rs []signals.Reason
	for _, code := range codes {
		rs = append(rs, c.Explain(code, ""))
	}
	return rs
}

func TestUserMessage(t *testing.T) {
	blurry, _ := reasons.TreezorLiveness.Lookup("1301")
	expired, _ := reasons.TreezorLiveness.Lookup("2101")
	tests := []struct {
		name string
		rs   []signals.Reason
		want string
	}{
		{"no reasons", nil, reasons.GenericUserMessage},
		{"only fraud", explain(reasons.TreezorLiveness, "2301", "2399"), reasons.GenericUserMessage},
		{"only unknown", explain(reasons.TreezorLiveness, "9999"), reasons.GenericUserMessage},
		{"one showable", explain(reasons.TreezorLiveness, "1301"), blurry.UserMessage},
		{"deduplicated, in order", explain(reasons.TreezorLiveness, "2101", "1301", "2101", "1301"),
			expired.UserMessage + " " + blurry.UserMessage},
		{"fraud beside a showable reason", explain(reasons.TreezorLiveness, "2305", "1301", "2404"), blurry.UserMessage},
		{"forged fraud reason marked showable",
			[]signals.Reason{{Code: "x", Category: signals.CategoryFraud, UserShowable: true, UserMessage: blurry.UserMessage}},
			reasons.GenericUserMessage},
		{"text not from a catalogue",
			[]signals.Reason{{Code: "x", Category: signals.CategoryDocument, UserShowable: true, UserMessage: "Your IDnow reference is TST-KCCEY"}},
			reasons.GenericUserMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reasons.UserMessage(tt.rs); got != tt.want {
				t.Errorf("UserMessage = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestUserMessageNeverLeaksFraud combines every reason of a catalogue, fraud and all, and checks that no fraud
// entry's text reaches the user, nor any provider text at all.
func TestUserMessageNeverLeaksFraud(t *testing.T) {
	for _, c := range catalogues {
		t.Run(c.name, func(t *testing.T) {
			var rs []signals.Reason
			var fraudTexts []string
			for _, e := range c.cat.Entries() {
				rs = append(rs, c.cat.Explain(e.Code, "provider text "+e.Code))
				if e.Category == signals.CategoryFraud {
					fraudTexts = append(fraudTexts, e.Message, e.Code)
					if e.Description != "" {
						fraudTexts = append(fraudTexts, e.Description)
					}
					if got := reasons.UserMessage([]signals.Reason{c.cat.Explain(e.Code, "")}); got != reasons.GenericUserMessage {
						t.Errorf("%s alone: UserMessage = %q, want the generic message", e.Code, got)
					}
				}
			}
			forged := signals.Reason{Code: "TST-KCCEY", Message: "IDnow reference TST-KCCEY", UserShowable: true, UserMessage: "Reference TST-KCCEY"}
			msg := reasons.UserMessage(append(rs, forged))
			for _, text := range append(fraudTexts, "TST-KCCEY", "provider text") {
				if strings.Contains(msg, text) {
					t.Errorf("user message %q contains %q", msg, text)
				}
			}
		})
	}
}
