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
