package relay

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCanonicalPHP(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"compact stays", `{"a":1}`, `{"a":1}`},
		{"whitespace between tokens goes", " { \"a\" :\t[ 1 ,\r\n2 ] , \"b\" : { } , \"c\":[ ] } ", `{"a":[1,2],"b":{},"c":[]}`},
		{"whitespace inside strings stays", `{"a":"x y  z"}`, `{"a":"x y  z"}`},
		{"key order and duplicates are kept", `{"b":1,"a":2,"b":3}`, `{"b":1,"a":2,"b":3}`},
		{"slash is escaped", `{"url":"https://x.y/z"}`, `{"url":"https:\/\/x.y\/z"}`},
		{"escaped slash stays escaped", `"a\/b"`, `"a\/b"`},
		{"slash in a key too", `{"a/b":1}`, `{"a\/b":1}`},
		{"non-ASCII as lowercase \\u", `"Zoë Müller"`, `"Zo\u00eb M\u00fcller"`},
		{"above U+FFFF as a surrogate pair", `"😀"`, `"\ud83d\ude00"`},
		{"uppercase escapes become lowercase", `"\u00E9\uD83D\uDE00"`, `"\u00e9\ud83d\ude00"`},
		{"escaped ASCII is written plainly", `"\u0041\u0020\u007e"`, `"A ~"`},
		{"escaped slash and quote forms", `"\u002f\u0022\u005c"`, `"\/\"\\"`},
		{"control characters", `"\b\f\n\r\t\u0001\u001F"`, `"\b\f\n\r\t\u0001\u001f"`},
		{"short escapes for control characters", `"\u0008\u000c\u000a\u000d\u0009"`, `"\b\f\n\r\t"`},
		{"HTML characters stay plain (unlike Go's encoder)", `"<a href='x'>&amp;</a>"`, `"<a href='x'>&amp;<\/a>"`},
		{"Go's HTML escapes are undone", `"\u003c\u003e\u0026"`, `"<>&"`},
		{"DEL stays plain", "\"\x7f\"", "\"\x7f\""},
		{"line separators are escaped like any non-ASCII", "\"\u2028\u2029\"", `"\u2028\u2029"`},
		{"lone surrogate escape kept", `"\ud800x"`, `"\ud800x"`},
		{"numbers keep their text", `[0,-0,1.50,1e5,1E+05,-2.5e-3,12345678901234567890]`, `[0,-0,1.50,1e5,1E+05,-2.5e-3,12345678901234567890]`},
		{"literals", `[true,false,null]`, `[true,false,null]`},
		{"scalar at top level", ` "x" `, `"x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canonicalPHP([]byte(tc.in))
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
			again, err := canonicalPHP(got)
			require.NoError(t, err)
			require.Equal(t, string(got), string(again), "idempotent")
		})
	}
}

func TestCanonicalPHPMatchesTreezorRecipe(t *testing.T) {
	got, err := canonicalPHP([]byte(rawLivenessPayload))
	require.NoError(t, err)
	require.Equal(t, canonicalLivenessPayload, string(got), "the form Treezor's Python recipe produces")
}

func TestCanonicalPHPRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"only spaces", "  "},
		{"trailing data", `{"a":1} x`},
		{"two values", `1 2`},
		{"trailing comma", `[1,]`},
		{"missing colon", `{"a" 1}`},
		{"non-string key", `{1:2}`},
		{"unterminated string", `"abc`},
		{"unterminated object", `{"a":1`},
		{"raw control character", "\"a\x01b\""},
		{"raw newline", "\"a\nb\""},
		{"invalid escape", `"\x41"`},
		{"short unicode escape", `"\u12"`},
		{"non-hex unicode escape", `"\u12g4"`},
		{"invalid UTF-8", "\"\xff\""},
		{"UTF-8 encoded surrogate", "\"\xed\xa0\x80\""},
		{"leading zero", `[01]`},
		{"bare minus", `-`},
		{"dot without digits", `1.`},
		{"exponent without digits", `1e`},
		{"plus sign", `+1`},
		{"misspelt literal", `nul`},
		{"single quotes", `{'a':1}`},
		{"too deep", strings.Repeat("[", maxCanonicalDepth+1) + strings.Repeat("]", maxCanonicalDepth+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := canonicalPHP([]byte(tc.in))
			require.Error(t, err)
		})
	}
	deepest := strings.Repeat("[", maxCanonicalDepth) + strings.Repeat("]", maxCanonicalDepth)
	_, err := canonicalPHP([]byte(deepest))
	require.NoError(t, err, "json_encode's own depth limit is accepted")
}

// checkCanonical states what must hold of canonicalPHP for any input; the fuzz target and the tests share it.
func checkCanonical(t *testing.T, in []byte) {
	out, err := canonicalPHP(in)
	if err != nil {
		if json.Valid(in) && !strings.Contains(err.Error(), "nested deeper") && !strings.Contains(err.Error(), "invalid UTF-8") {
			t.Fatalf("valid JSON %q rejected: %v", in, err)
		}
		return
	}
	if !json.Valid(in) {
		t.Fatalf("accepted invalid JSON %q", in)
	}
	for i, b := range out {
		if b < 0x20 || b >= 0x80 {
			t.Fatalf("byte %d of %q is not ASCII without control characters", i, out)
		}
	}
	if i := unescapedSlash(out); i >= 0 {
		t.Fatalf("unescaped / at %d in %q", i, out)
	}
	again, err := canonicalPHP(out)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("not idempotent: %q -> %q (%v)", out, again, err)
	}
	// Same JSON value: numbers compared by their text, strings after decoding.
	if a, b := decodeAny(t, in), decodeAny(t, out); !jsonEqual(a, b) {
		t.Fatalf("value changed: %q -> %q", in, out)
	}
}

// unescapedSlash is the index of a "/" not written as "\/", or -1.
func unescapedSlash(out []byte) int {
	for i := 0; i < len(out); i++ {
		switch out[i] {
		case '\\':
			i++
		case '/':
			return i
		}
	}
	return -1
}

func decodeAny(t *testing.T, b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

func jsonEqual(a, b any) bool {
	ab, err1 := json.Marshal(a)
	bb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ab, bb)
}

func TestCanonicalPHPProperties(t *testing.T) {
	for _, in := range []string{rawLivenessPayload, canonicalLivenessPayload, solarisBody, yousignBody,
		`{"a":"\u00e9\/\"\\","b":[1,2.50,{"c":null}]}`, "\"\u2028\"", `"\ud800"`} {
		checkCanonical(t, []byte(in))
	}
}
