package sandbox_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/sandbox"
	"github.com/kycflow/kycflow/signals"
)

func TestFaultsFromNames(t *testing.T) {
	require.Equal(t, "X-FAULTS-DUP-REORDER-DROP-BURST-LIMIT", sandbox.FaultToken(sandbox.AllFaults))
	first := sandbox.SyntheticFirstName(sandbox.AllFaults)
	require.LessOrEqual(t, len(first), 50, "fits Solaris' 50 characters")
	require.Equal(t, sandbox.AllFaults, sandbox.FaultsFromNames(first, "X-AUTOTEST-HAPPYPATH"))
	require.Equal(t, []sandbox.Fault{sandbox.FaultDrop}, sandbox.FaultsFromNames("Ada x-faults-drop-bogus", "Doe"))
	require.Empty(t, sandbox.FaultsFromNames("Ada", "Doe"))

	g, err := sandbox.ParseGlobalFaults(" dup, limit=0.25 ")
	require.NoError(t, err)
	require.Equal(t, sandbox.GlobalFaults{{Fault: sandbox.FaultDuplicate, Probability: 1}, {Fault: sandbox.FaultLimit, Probability: 0.25}}, g)
	require.Equal(t, "dup,limit=0.25", g.String())
	for _, bad := range []string{"nope", "dup=0", "dup=2", "dup=x"} {
		_, err := sandbox.ParseGlobalFaults(bad)
		require.Error(t, err, bad)
	}
}

// TestReorderAndDuplicate: the QES events arrive last first, each twice; the relay passes every delivery on and the
// workflow's deduplication by event ID is what keeps them apart.
func TestReorderAndDuplicate(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	user := h.userFor(signals.MethodTreezorQES, "HAPPYPATH", sandbox.FaultDuplicate, sandbox.FaultReorder)
	ident, err := h.tz.InitiateQES(bg(), user, "")
	require.NoError(t, err)
	got := h.waitSignals(6, forWorkflow("by-reference/"+ident.ID))
	var order []string
	ids := map[string]int{}
	for _, s := range got {
		ev := s.Payload.(signals.TreezorIdentEvent)
		if ids[ev.EventID]++; ids[ev.EventID] == 1 {
			order = append(order, s.Name)
		}
	}
	require.Equal(t, []string{"qes.finalized", "qes.processing", "qes.created"}, order)
	for id, n := range ids {
		require.Equal(t, 2, n, "event %s delivered twice", id)
	}
	st := h.stats("treezor/" + user)
	require.Equal(t, 1, st.Reordered)
	require.Equal(t, 4, st.Duplicated, "the three qes.* events and the document created after qes.finalized")
	require.Equal(t, []sandbox.Fault{sandbox.FaultDuplicate, sandbox.FaultReorder}, st.Faults)
}

// TestDrop: the KYC review decision never arrives, but the user's state has it, for the workflow to reconcile.
func TestDrop(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	user := h.userFor(signals.MethodTreezorLiveness, "HAPPYPATH", sandbox.FaultDrop)
	wf := signals.WorkflowID(signals.ProviderTreezor, user)
	_, err := h.tz.InitiateLiveness(bg(), user, "")
	require.NoError(t, err)
	h.waitSignals(2, forWorkflow(wf))
	require.NoError(t, h.tz.RetrieveLivenessDocuments(bg(), user))
	h.waitSignals(2, named(wf, signals.SignalTreezorDocumentCreate))
	_, err = h.tz.RequestKYCReview(bg(), user, "")
	require.NoError(t, err)
	h.waitSignals(1, named(wf, signals.SignalTreezorKycReview))
	require.Eventually(t, func() bool {
		kyc, err := h.tz.GetUserKYC(bg(), user)
		return err == nil && kyc.KycReview == signals.KycReviewValidated
	}, 5*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	reviews := h.matching(named(wf, signals.SignalTreezorKycReview))
	require.Len(t, reviews, 1, "only the intermediate review event arrives")
	require.Equal(t, signals.KycReviewOpen, reviews[0].Payload.(signals.TreezorKycReviewEvent).KycReview)
	require.Equal(t, 1, h.stats("treezor/"+user).Dropped)
}

func TestAPIBurstAndRateLimit(t *testing.T) {
	h := newHarness(t, sandbox.Config{})
	first, last := sandbox.SyntheticFirstName([]sandbox.Fault{sandbox.FaultLimit, sandbox.FaultBurst}), sandbox.AutotestPrefix+"VERIFIED"

	// 429 first: the Retry-After (2 s) is beyond the client's in-process wait, so it goes back to Temporal.
	_, err := h.ys.CreateVerification(bg(), first, last, "https://signup.example.test/done")
	require.Equal(t, providerhttp.ErrTypeRateLimited, errType(err), "%v", err)
	// Then 503 and 502, which the client retries in-process, and 500, which it does not.
	_, err = h.ys.CreateVerification(bg(), first, last, "https://signup.example.test/done")
	require.Equal(t, providerhttp.ErrTypeUnavailable, errType(err), "%v", err)
	v, err := h.ys.CreateVerification(bg(), first, last, "https://signup.example.test/done")
	require.NoError(t, err)
	h.waitSignals(1, forWorkflow("by-reference/"+v.ID))

	st := h.stats("yousign/" + sandbox.NameKey(first, last))
	require.Equal(t, 1, st.Faulted429)
	require.Equal(t, 3, st.Faulted5xx)
	require.Equal(t, 5, st.APICalls)
	require.Greater(t, float64(st.RetryAfterWaited), 0.0)

	// The raw answer carries Retry-After.
	user := h.userFor(signals.MethodTreezorLiveness, "HAPPYPATH", sandbox.FaultLimit)
	resp := h.raw(http.MethodGet, "/treezor/v1/users/"+user)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "2", resp.Header.Get("Retry-After"))
}

// headers lists a header of the deliveries to a path, in order (once the sandbox counted them, the relay's front
// has recorded them).
func (h *harness) headers(path, name string) []string {
	var out []string
	for _, d := range h.deliveries(func(d delivery) bool { return d.Path == path }) {
		out = append(out, d.Header.Get(name))
	}
	return out
}

func (h *harness) raw(method, path string) *http.Response {
	h.t.Helper()
	tok := h.treezorToken()
	req, _ := http.NewRequest(method, h.api.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	resp.Body.Close()
	return resp
}

// TestDeliveryRetries: a webhook the relay refuses is delivered again with the provider's backoff and attempt
// counter, until it is acknowledged; Treezor retries 5xx only.
func TestDeliveryRetries(t *testing.T) {
	var mu sync.Mutex
	refused := map[string]int{}
	h := newHarness(t, sandbox.Config{})
	h.refuse = func(r *http.Request, body []byte) int {
		mu.Lock()
		defer mu.Unlock()
		key := r.URL.Path + string(body)
		if strings.Contains(string(body), "kycliveness.update") {
			return http.StatusUnauthorized // Treezor does not retry a 4xx
		}
		if refused[key] < 2 {
			refused[key]++
			return http.StatusServiceUnavailable
		}
		return 0
	}
	v, err := h.ys.CreateVerification(bg(), "Ada", sandbox.AutotestPrefix+"FAILED", "https://signup.example.test/done")
	require.NoError(t, err)
	h.waitSignals(1, forWorkflow("by-reference/"+v.ID))
	key := "yousign/" + sandbox.NameKey("Ada", sandbox.AutotestPrefix+"FAILED")
	require.Eventually(t, func() bool { return h.stats(key).Acknowledged == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, []string{"0", "1", "2"}, h.headers("/webhooks/yousign", "X-Yousign-Retry"))
	st := h.stats(key)
	require.Equal(t, 3, st.Deliveries)
	require.Equal(t, 2, st.Refused)
	require.Equal(t, 2, st.Retried)

	person, err := h.sol.CreatePerson(bg(), solarisPerson("Ada", "HAPPYPATH"))
	require.NoError(t, err)
	id, err := h.sol.CreateIdentification(bg(), person, "", nil)
	require.NoError(t, err)
	h.waitSignals(1, forWorkflow("by-reference/"+id.ID))
	require.Eventually(t, func() bool { return h.stats("solaris/"+person).Acknowledged == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, []string{"1", "2", "3"}, h.headers("/webhooks/solaris", "Solaris-Webhook-Attempt"))

	user := h.userFor(signals.MethodTreezorLiveness, "HAPPYPATH")
	_, err = h.tz.InitiateLiveness(bg(), user, "")
	require.NoError(t, err)
	h.waitSignals(1, forWorkflow(signals.WorkflowID(signals.ProviderTreezor, user)))
	// create: refused twice, then accepted; update: refused with 401 once, and given up.
	require.Eventually(t, func() bool {
		st := h.stats("treezor/" + user)
		return st.Deliveries == 3+1 && st.GaveUp == 1 && st.Acknowledged == 1
	}, 5*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	require.Equal(t, 4, h.stats("treezor/"+user).Deliveries, "no more deliveries")
}

func TestGlobalFaults(t *testing.T) {
	h := newHarness(t, sandbox.Config{Faults: sandbox.GlobalFaults{{Fault: sandbox.FaultDuplicate, Probability: 1}}})
	user := h.userFor(signals.MethodTreezorLiveness, "LINKEXPIRED", sandbox.FaultDrop)
	st := h.stats("treezor/" + user)
	require.True(t, slices.Contains(st.Faults, sandbox.FaultDuplicate))
	require.True(t, slices.Contains(st.Faults, sandbox.FaultDrop))
}
