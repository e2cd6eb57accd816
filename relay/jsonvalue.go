package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Lenient readers over decoded JSON. Providers write the same field as a string in one event and a number in
// another (Treezor's kycReview "2" and documentId 77), and spell keys in several styles, so fields are read from
// map[string]json.RawMessage by a list of candidate names, and scalars accept both forms.

// jsonObject is a JSON object with its values kept raw.
type jsonObject map[string]json.RawMessage

// errNotObject is returned for a value that should be a JSON object and is not.
var errNotObject = errors.New("not a JSON object")

// decodeObject reads a JSON object; null, arrays and scalars are errors.
func decodeObject(raw []byte) (jsonObject, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errNotObject
	}
	var o jsonObject
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, errNotObject
	}
	return o, nil
}

// firstObject reads an object, or the first element of an array of objects; ok is false otherwise.
func firstObject(raw []byte) (jsonObject, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil || len(items) == 0 {
			return nil, false
		}
		raw = items[0]
	}
	o, err := decodeObject(raw)
	return o, err == nil
}

// lookup returns the value of the first candidate key present with a non-null value.
func (o jsonObject) lookup(keys ...string) (json.RawMessage, string, bool) {
	for _, k := range keys {
		v, ok := o[k]
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		if len(v) == 0 || string(v) == "null" {
			continue
		}
		return v, k, true
	}
	return nil, "", false
}

// has reports whether any candidate key is present (even null).
func (o jsonObject) has(keys ...string) bool {
	for _, k := range keys {
		if _, ok := o[k]; ok {
			return true
		}
	}
	return false
}

// text reads a string, or a number as its exact text; a missing or null field is "".
func (o jsonObject) text(keys ...string) (string, error) {
	v, key, ok := o.lookup(keys...)
	if !ok {
		return "", nil
	}
	s, ok := scalarText(v)
	if !ok {
		return "", fmt.Errorf("%s: want a string or a number", key)
	}
	return s, nil
}

// integer reads an integer written as a number or as a string; a missing, null or empty field is nil.
func (o jsonObject) integer(keys ...string) (*int, error) {
	v, key, ok := o.lookup(keys...)
	if !ok {
		return nil, nil
	}
	s, ok := scalarText(v)
	if !ok {
		return nil, fmt.Errorf("%s: want an integer", key)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return &n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return nil, fmt.Errorf("%s: want an integer", key)
	}
	n := int(f)
	return &n, nil
}

// scalarText is a JSON string's value or a JSON number's text.
func scalarText(v json.RawMessage) (string, bool) {
	if len(v) == 0 {
		return "", false
	}
	switch c := v[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	case c == '-' || (c >= '0' && c <= '9'):
		var n json.Number
		if json.Unmarshal(v, &n) != nil {
			return "", false
		}
		return n.String(), true
	}
	return "", false
}

// parseTimestamp reads an emission time written as a Unix epoch (string or number, seconds with an optional
// fraction, or a count of milli-, 10^-4-, micro- or nanoseconds told apart by magnitude) or as RFC 3339. It
// returns the zero time for anything else: the time only orders events, it never decides whether one is taken.
func parseTimestamp(v json.RawMessage) time.Time {
	s, ok := scalarText(bytes.TrimSpace(v))
	if !ok {
		return time.Time{}
	}
	return parseTimestampText(s)
}

func parseTimestampText(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || len(intPart) > 19 || len(frac) > 30 || !allDigits(intPart) || !allDigits(frac) {
		return time.Time{}
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	// Units per second, by magnitude: a date between 2001 and 2286 in each unit falls in its own range.
	var perSecond int64
	switch {
	case n < 1e11:
		perSecond = 1
	case n < 1e13:
		perSecond = 1e3
	case n < 1e14:
		perSecond = 1e4
	case n < 1e16:
		perSecond = 1e6
	default:
		perSecond = 1e9
	}
	nsPerUnit := int64(time.Second) / perSecond
	nsec := (n % perSecond) * nsPerUnit
	if frac != "" {
		// The fraction of one unit, to nanosecond precision.
		if len(frac) > 9 {
			frac = frac[:9]
		}
		f, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		nsec += f * nsPerUnit / int64(time.Second)
	}
	return time.Unix(n/perSecond, nsec).UTC()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
