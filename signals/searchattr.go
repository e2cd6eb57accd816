package signals

import "go.temporal.io/sdk/temporal"

// Custom search attributes. All Keyword, none holds personal data. They must be registered on the Temporal
// namespace (the dev server's --search-attribute flags, or `temporal operator search-attribute create`).
var (
	AttrMethod            = temporal.NewSearchAttributeKeyKeyword("KycMethod")
	AttrProvider          = temporal.NewSearchAttributeKeyKeyword("KycProvider")
	AttrStep              = temporal.NewSearchAttributeKeyKeyword("KycStep")
	AttrOutcome           = temporal.NewSearchAttributeKeyKeyword("KycOutcome")
	AttrProviderReference = temporal.NewSearchAttributeKeyKeyword("KycProviderReference")
)

// SearchAttributes lists every custom attribute, for registering them.
var SearchAttributes = []temporal.SearchAttributeKeyKeyword{
	AttrMethod, AttrProvider, AttrStep, AttrOutcome, AttrProviderReference,
}

// InitialSearchAttributes are what a verification of method shows from its start (its method, provider and first
// step): the starter sets them with the start, so that the workflow need not upsert them, which would cost a
// billable action and a visibility write.
func InitialSearchAttributes(method Method) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		AttrMethod.ValueSet(string(method)),
		AttrProvider.ValueSet(string(method.Provider())),
		AttrStep.ValueSet(string(StepInitiating)),
	)
}
