// Package sandbox is a DEVELOPMENT AND TEST TOOL ONLY: a local HTTP server that plays Treezor, Solaris and Yousign
// closely enough that kycflow's real provider clients and the real webhook relay cannot tell the difference. It is
// never deployed: it accepts fixed development credentials, keeps everything in memory, and invents every outcome.
//
// One process plays the three providers under path prefixes:
//
//	{base}/treezor   Treezor: POST /oauth/token, POST /v1/users, GET /v1/users/{id}, POST and PUT
//	                 /v1/users/{id}/kycliveness, POST /v1/users/{id}/qes, POST /v1/users/{id}/videoconference,
//	                 PUT /v1/users/{id}/Kycreview
//	{base}/solaris   Solaris: POST /oauth2/token, POST /v1/persons, GET /v1/persons/{id}, POST and GET
//	                 /v1/persons/{id}/identifications, GET .../identifications/{id}, PATCH .../{id}/request
//	{base}/yousign   Yousign API v3: POST /v3/verifications/identity_videos, GET .../identity_videos/{id}
//	{base}/sessions  the pages identification URLs point to
//	{base}/sandbox   the sandbox's own endpoints: scenarios, config, stats, and a helper that creates a subject
//
// # Scenarios
//
// Outcomes are chosen the way the providers' own sandboxes do it: by a name. IDnow's convention (Solaris' test
// scenarios) puts a prefix and a test case in the person's last name (or first name), such as
// X-AUTOTEST-HAPPYPATH or X-AUTOTEST-FRAUDIDENT; the sandbox applies the same convention to Treezor users (live
// verification, QES, video conference) and to the names of a Yousign verification. Scenarios is the one table of
// every scenario of every method: what the sandbox does and the outcome kycflow must reach. The server, the demo
// (cmd/kycflow-demo) and the end-to-end test (e2e/) all read it.
//
// # Time
//
// Every provider delay is multiplied by Clock.Scale, so a 14-day link or a 24-hour review runs in seconds.
// Clock.Deadlines gives the workflow deadlines that match; a run must pass them in VerificationInput.Deadlines.
//
// # Webhooks and faults
//
// Webhooks go to the relay ({webhook URL}/webhooks/{provider}), signed exactly as the providers sign them, and
// are retried with each provider's backoff when the relay does not acknowledge them. Webhooks that follow one of
// kycflow's calls (Treezor's document.create after PUT kycliveness, user.kycreview after PUT Kycreview) are sent
// only after that call, and the providers' GET endpoints always reflect the state the webhooks describe.
//
// Faults are injected per subject with a first name token such as X-FAULTS-DUP-DROP, or globally (Config.Faults):
// duplicate deliveries, reordered deliveries, a dropped webhook (one the workflow can reconcile by polling), a
// burst of 5xx answers and a 429 with Retry-After. Every fault keeps the scenario's expected outcome.
//
// Nothing personal is logged: log lines carry scenario names, fault names and provider IDs only.
package sandbox
