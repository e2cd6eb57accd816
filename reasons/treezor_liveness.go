package reasons

import "github.com/kycflow/kycflow/signals"

// TreezorLiveness is the catalogue of Treezor live verification (Liveness and Certified video), from the
// "Reason codes" table of Treezor's live verification guide. Treezor warns that some codes are sensitive
// regarding AML/CFT without saying which, so every code that points at fraud, tampering, coercion or someone
// else's identity (2301-2307, 2399, 2401-2404) is kept from the user.
var TreezorLiveness = newCatalogue(signals.MethodTreezorLiveness, []Entry{
	row("1201", "Applicant did not have a sufficient connexion", connection),
	row("1301", "Applicant’s document video is too blurry (mostly due to too much movement but if this error persists the camera quality might be at fault)", documentUnreadable),
	row("1302", "Applicant has not presented the front of the document", documentNotShown),
	row("1303", "Applicant has not presented the back of the document", documentNotShown),
	row("1304", "Applicant hides part of the document", documentNotShown),
	row("1305", "Applicant did not present a dynamic view of the document", documentNotShown),
	row("1310", "Applicant’s video of their face is too blurry (mostly due to too much movement but if this error persists the camera quality might be at fault)", face),
	row("1311", "Applicant has not presented a face", face),
	row("1312", "Applicant did not show the full front view of their face", face),
	row("1313", "Applicant did not move to prove the liveness", face),
	// Filed under face: it sits among the face codes, and Yousign files the same text (IDVV_1402) under face capture.
	row("1320", "Applicant performed their id verification under poor lighting conditions", faceLighting),
	row("1901", "Internal non-categorizable error", technical),
	row("1911", "The received videos cannot be played", technical),
	row("2101", "Applicant presented an expired document", documentExpired),
	row("2102", "Applicant presented a document which is not accepted", documentNotAccepted),
	row("2103", "Applicant has submitted a damaged document", documentDamaged),
	row("2201", "Applicant presented a photocopy of the document", copyPresented),
	row("2202", "Applicant presented the document on a screen", copyPresented),
	row("2301", "Applicant has submitted a counterfeit or falsification", fraud),
	row("2302", "Applicant presented a document declared as stolen or lost", fraud),
	row("2303", "Applicant presented the front and back of two different documents", fraud),
	row("2304", "Applicant is not the rightful owner of the document", fraud),
	row("2305", "Applicant presented another person's face", fraud),
	row("2306", "Applicant has altered his/her appearance", fraud),
	row("2307", "Applicant has digitally altered the videos", fraud),
	row("2399", "Generic code when a fraud has been detected within a certified identity verification", fraud),
	// Not labelled fraud, but a mismatch with the expected identity is what the AML/CFT warning is about.
	row("2401", "Applicant’s identity does not match with the expected one", identityMismatch),
	row("2402", "Applicant used a device that has been technically altered", fraud),
	row("2403", "Applicant seems to have performed the check against his will", fraud),
	row("2404", "The applicant has recently performed a fraud attempt", fraud),
})
