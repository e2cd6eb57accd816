package solaris

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kycflow/kycflow/activities/providerhttp"
	"github.com/kycflow/kycflow/signals"
)

// MaxNameLength is the longest first_name or last_name Solaris accepts, in characters.
const MaxNameLength = 50

// nameAllowedPunctuation are the characters other than letters, combining marks and the space that a name may
// hold: hyphens (Jean-Luc, and Solaris' sandbox test names X-MANUALTEST-HAPPYPATH), apostrophes (O'Brien,
// 't Hooft, typographic or not) and periods (abbreviated name parts).
const nameAllowedPunctuation = "-'’."

// CreatePerson creates a person resource (POST /v1/persons) and returns its person_id.
//
// Before any call, the mandatory data points of seed 003's "POST Create person" must all be there (salutation,
// names, birth date, nationality, address, mobile number and both consent timestamps: "you must pass each
// timestamp"), and first_name and last_name must follow Solaris' sanitization rules (see CheckName). A person
// that fails either is a non-retryable InvalidArgument naming every field at fault, never quoting a value.
//
// Solaris does not make this call idempotent: every successful call creates a new person. It is meant for the
// backend's signup flow, not for an activity that Temporal may retry.
func (c *Client) CreatePerson(ctx context.Context, p signals.SolarisPerson) (string, error) {
	const op = "solaris: create person"
	var problems []string
	if missing := p.MissingFields(); len(missing) > 0 {
		problems = append(problems, "missing mandatory "+strings.Join(missing, ", "))
	}
	for _, field := range []struct{ name, value string }{{"first_name", p.FirstName}, {"last_name", p.LastName}} {
		if err := CheckName(field.name, field.value); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return "", providerhttp.InvalidArgument(op, strings.Join(problems, "; "))
	}

	resp, body, err := c.send(ctx, providerhttp.Request{Op: op, Method: http.MethodPost, Path: "/v1/persons", Body: p})
	if err != nil {
		return "", err
	}
	if err := providerhttp.Classify(resp, body, op); err != nil {
		// Solaris' validation messages may quote what it rejected.
		return "", redactError(err, personalValues(p)...)
	}
	// The response is the whole person, personal data included: only its ID is decoded.
	var person struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &person); err != nil {
		return "", providerhttp.InvalidResponse(op, "the response is not the expected person object")
	}
	if problem := providerhttp.IDProblem(person.ID); problem != "" {
		return "", providerhttp.InvalidResponse(op, "the person ID "+problem)
	}
	return person.ID, nil
}

// personalValues are the fields of p that identify the person, for redaction. Codes such as the nationality
// or the salutation are not: redacting "DE" would garble Solaris' messages about allowed countries.
func personalValues(p signals.SolarisPerson) []string {
	values := []string{p.FirstName, p.LastName, p.Email, p.Mobile, p.BirthDate, p.BirthCity}
	if a := p.Address; a != nil {
		values = append(values, a.Line1, a.Line2, a.PostalCode, a.City)
	}
	return values
}

// CheckName checks a first_name or last_name (field names it in the error) against the sanitization rules
// Solaris documents for them: at most 50 characters, not starting with whitespace, no symbols or emojis.
//
// Solaris does not list the characters it accepts, so the rule is spelled out here as letters of any script,
// combining marks (accents written as separate code points), the space, hyphens, apostrophes and periods.
// Digits are refused too: names must be given as printed on the identity document, where they have none. The
// name must not be empty.
//
// The error never quotes the name, which is personal data; it may give the position of the offending
// character.
func CheckName(field, name string) error {
	if name == "" {
		return fmt.Errorf("%s is required", field)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return fmt.Errorf("%s is %d characters long, Solaris accepts at most %d", field, n, MaxNameLength)
	}
	if first, _ := utf8.DecodeRuneInString(name); unicode.IsSpace(first) {
		return fmt.Errorf("%s must not start with whitespace", field)
	}
	pos := 0
	for _, r := range name {
		pos++
		if !nameRune(r) {
			return fmt.Errorf("%s has a character Solaris does not accept at position %d: only letters, spaces, "+
				"hyphens, apostrophes and periods are allowed (no digits, symbols or emojis)", field, pos)
		}
	}
	return nil
}

func nameRune(r rune) bool {
	switch {
	case r == ' ', strings.ContainsRune(nameAllowedPunctuation, r):
		return true
	case unicode.Is(unicode.Variation_Selector, r):
		// Variation selectors are combining marks, but their job is to turn the character before them into an
		// emoji (U+FE0F).
		return false
	default:
		return unicode.IsLetter(r) || unicode.IsMark(r)
	}
}
