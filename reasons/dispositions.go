package reasons

import "github.com/kycflow/kycflow/signals"

// disposition is kycflow's judgement on a reason code: what went wrong, whether the user can succeed by trying
// again, and what the user may be told. A code is showable exactly when it has a user message, so the two can
// never disagree. The catalogues share these presets so that one kind of problem reads the same to the user
// whichever provider reported it.
type disposition struct {
	category    signals.ReasonCategory
	retry       bool
	userMessage string
}

// hidden is for codes the user must not be told about, or that are too vague to explain usefully; the backend
// still learns from UserMayRetry whether to offer another attempt.
func hidden(category signals.ReasonCategory, retry bool) disposition {
	return disposition{category: category, retry: retry}
}

// The texts shown to users. Neutral and actionable: they never say why a check failed beyond what the user can
// fix, and none of them is used for a fraud suspicion.
const (
	msgAbandoned          = "The identity verification was not completed. You can start it again whenever you are ready."
	msgDocumentNotAtHand  = "Please have your identity document at hand, then start the identity verification again."
	msgCameraAccess       = "The identity verification needs access to your camera. Please allow camera access and try again."
	msgTermsDenied        = "The terms and conditions must be accepted to verify your identity. You can start again whenever you are ready."
	msgRecordingDenied    = "The video call must be recorded to verify your identity. You can start again whenever you are ready."
	msgSessionExpired     = "The identity verification session expired. Please start it again."
	msgConnection         = "Your internet connection was not good enough. Please try again with a stable connection."
	msgAudio              = "The sound quality was not good enough. Please try again in a quiet place with a working microphone."
	msgVideo              = "The video quality was not good enough. Please try again in a quiet, well-lit place with a working camera."
	msgTechnical          = "A technical problem occurred. Please try again."
	msgBrowser            = "Your browser does not support video. Please try again with an up-to-date browser or another device."
	msgNoCamera           = "Your device has no camera. Please try again with a device that has a camera."
	msgDocumentUnreadable = "Your document was not readable. Please try again in good light, avoiding reflections and holding it still."
	msgDocumentNotShown   = "Your document was not fully visible. Please show the whole document, front and back, as instructed, and try again."
	msgSecurityFeatures   = "The security features of your document could not be checked. Please try again and tilt your document slowly when asked."
	msgDocumentExpired    = "Your identity document has expired. Please try again with a valid document."
	msgDocumentNotOK      = "This type of identity document is not accepted. Please try again with another, accepted identity document."
	msgDocumentDamaged    = "Your identity document appears to be damaged. Please try again with an undamaged document."
	msgAdditionalDocument = "An additional document is required. Please have it at hand and try again."
	msgAdditionalUnusable = "Your additional document could not be used. Please try again with a valid, undamaged document in good light."
	msgProofOfAddress     = "A proof of address is required. Please have a recent one at hand and try again."
	msgPhoto              = "The pictures were not clear enough. Please try again in good light with a working camera."
	msgLighting           = "The lighting was too poor. Please try again in a well-lit place."
	msgFace               = "Your face was not clearly visible. Please try again in good light, facing the camera and following the on-screen instructions."
	msgFaceCovered        = "Your face was partly covered. Please remove anything covering your face and try again."
	msgCaptureTimeout     = "The capture could not be completed in time. Please try again and follow the on-screen instructions."
	msgCodeIncorrect      = "The code you entered was not correct. Please try again and enter the code you receive."
	msgCodeNotDelivered   = "The verification code could not be delivered. Please check your phone number and try again."
	msgPhoneNumber        = "Your phone number appears to be incorrect. Please check it, then try again."
	msgLanguage           = "The video identification is only available in German or English."
	msgApplicantInPerson  = "The identity verification must be completed by the applicant in person. Please try again."
)

var (
	// fraud: suspicions must not be revealed to the user, and a retry is for compliance to decide, not the user.
	fraud = hidden(signals.CategoryFraud, false)

	abandoned           = disposition{signals.CategoryUserAbandoned, true, msgAbandoned}
	abandonedNoDocument = disposition{signals.CategoryUserAbandoned, true, msgDocumentNotAtHand}
	abandonedCamera     = disposition{signals.CategoryUserAbandoned, true, msgCameraAccess}
	abandonedTerms      = disposition{signals.CategoryUserAbandoned, true, msgTermsDenied}
	abandonedRecording  = disposition{signals.CategoryUserAbandoned, true, msgRecordingDenied}
	sessionExpired      = disposition{signals.CategoryExpired, true, msgSessionExpired}

	connection = disposition{signals.CategoryConnection, true, msgConnection}
	audio      = disposition{signals.CategoryConnection, true, msgAudio}
	video      = disposition{signals.CategoryConnection, true, msgVideo}

	technical        = disposition{signals.CategoryTechnical, true, msgTechnical}
	browser          = disposition{signals.CategoryTechnical, true, msgBrowser}
	noCamera         = disposition{signals.CategoryTechnical, true, msgNoCamera}
	codeNotDelivered = disposition{signals.CategoryTechnical, true, msgCodeNotDelivered}

	documentUnreadable     = disposition{signals.CategoryDocument, true, msgDocumentUnreadable}
	documentNotShown       = disposition{signals.CategoryDocument, true, msgDocumentNotShown}
	documentLighting       = disposition{signals.CategoryDocument, true, msgLighting}
	documentPhoto          = disposition{signals.CategoryDocument, true, msgPhoto}
	documentCaptureTimeout = disposition{signals.CategoryDocument, true, msgCaptureTimeout}
	securityFeatures       = disposition{signals.CategoryDocument, true, msgSecurityFeatures}
	documentExpired        = disposition{signals.CategoryDocument, true, msgDocumentExpired}
	documentNotAccepted    = disposition{signals.CategoryDocument, true, msgDocumentNotOK}
	documentDamaged        = disposition{signals.CategoryDocument, true, msgDocumentDamaged}
	additionalDocument     = disposition{signals.CategoryDocument, true, msgAdditionalDocument}
	additionalUnusable     = disposition{signals.CategoryDocument, true, msgAdditionalUnusable}
	proofOfAddress         = disposition{signals.CategoryDocument, true, msgProofOfAddress}
	// copyPresented: a photocopy or a screen instead of the document. The providers do not call it fraud, but
	// IDnow-backed tables list the same thing as a fraud warning (paper print, digital document), so kycflow
	// neither explains it nor invites a retry.
	copyPresented = hidden(signals.CategoryDocument, false)

	face               = disposition{signals.CategorySelfie, true, msgFace}
	faceCovered        = disposition{signals.CategorySelfie, true, msgFaceCovered}
	faceLighting       = disposition{signals.CategorySelfie, true, msgLighting}
	faceCaptureTimeout = disposition{signals.CategorySelfie, true, msgCaptureTimeout}

	codeIncorrect     = disposition{signals.CategoryOther, true, msgCodeIncorrect}
	phoneNumber       = disposition{signals.CategoryOther, true, msgPhoneNumber}
	language          = disposition{signals.CategoryEligibility, false, msgLanguage}
	applicantInPerson = disposition{signals.CategoryIdentity, true, msgApplicantInPerson}
	// identityMismatch: the identity or the data differ from what was declared. Not called fraud by the
	// providers, but too close to it to explain to the user or to invite a retry.
	identityMismatch = hidden(signals.CategoryIdentity, false)
	underage         = hidden(signals.CategoryEligibility, false)
	// otherRetryable: vague catch-all codes; a retry may work but there is nothing useful to tell the user.
	otherRetryable    = hidden(signals.CategoryOther, true)
	documentRetryable = hidden(signals.CategoryDocument, true)
	otherFinal        = hidden(signals.CategoryOther, false)
)

// row builds an entry with the provider's code and message and kycflow's disposition.
func row(code, message string, d disposition) Entry {
	return Entry{
		Code:         code,
		Message:      message,
		Category:     d.category,
		UserMayRetry: d.retry,
		UserShowable: d.userMessage != "",
		UserMessage:  d.userMessage,
	}
}

// described builds an entry from a table that has a description beside the message.
func described(code, message, description string, d disposition) Entry {
	e := row(code, message, d)
	e.Description = description
	return e
}

// group marks every row of one provider table with the table's name.
func group(name string, rows ...Entry) []Entry {
	for i := range rows {
		rows[i].Groups = []string{name}
	}
	return rows
}
