package relay

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSHA256Header(t *testing.T) {
	mac := hmacHex("k", "body")
	tests := []struct {
		name, header string
		ok           bool
	}{
		{"lowercase", "sha256=" + mac, true},
		{"uppercase", "SHA256=" + strings.ToUpper(mac), true},
		{"spaces around", "  sha256 = " + mac + " ", true},
		{"empty", "", false},
		{"no algorithm", mac, false},
		{"other algorithm", "sha1=" + mac, false},
		{"sha512 name", "sha512=" + mac, false},
		{"not hex", "sha256=" + strings.Repeat("z", 64), false},
		{"too short", "sha256=" + mac[:62], false},
		{"too long", "sha256=" + mac + "00", false},
		{"odd length", "sha256=" + mac[:63], false},
		{"base64 instead of hex", "sha256=" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 32))), false},
		{"two signatures", "sha256=" + mac + ",sha256=" + mac, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSHA256Header(tc.header)
			if !tc.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, mac, hex.EncodeToString(got))
		})
	}
}

func TestParseBase64MAC(t *testing.T) {
	mac := hmacBase64("k", "payload")
	for _, ok := range []string{mac, strings.TrimRight(mac, "="), " " + mac + "\n"} {
		got, err := parseBase64MAC(ok)
		require.NoError(t, err, ok)
		require.Len(t, got, sha256.Size)
	}
	for _, bad := range []string{"", "!!!", base64.StdEncoding.EncodeToString([]byte("short")), hmacHex("k", "payload")} {
		_, err := parseBase64MAC(bad)
		require.Error(t, err, bad)
	}
}

func TestMacMatches(t *testing.T) {
	keys := [][]byte{[]byte("one"), []byte("two")}
	msgs := [][]byte{[]byte("raw"), []byte("canonical")}
	sign := func(k, m string) []byte { return hmacSHA256([]byte(k), []byte(m)) }
	require.True(t, macMatches(keys, msgs, sign("one", "raw")))
	require.True(t, macMatches(keys, msgs, sign("two", "canonical")), "any key, any message form")
	require.False(t, macMatches(keys, msgs, sign("three", "raw")))
	require.False(t, macMatches(keys, msgs, sign("one", "other")))
	require.False(t, macMatches(nil, msgs, sign("", "raw")), "no key, no match")
	require.False(t, macMatches(keys, msgs, nil))
	require.False(t, macMatches(keys, msgs, sign("one", "raw")[:16]), "a truncated MAC never matches")
}

func TestVerifyTreezor(t *testing.T) {
	keys := Secrets{"s1", "s2"}.keys()
	require.True(t, verifyTreezor(keys, []byte(rawLivenessPayload), hmacBase64("s2", rawLivenessPayload)), "raw bytes")
	require.True(t, verifyTreezor(keys, []byte(rawLivenessPayload), hmacBase64("s1", canonicalLivenessPayload)), "canonical form")
	require.False(t, verifyTreezor(keys, []byte(rawLivenessPayload), hmacBase64("s3", canonicalLivenessPayload)))
	require.False(t, verifyTreezor(keys, []byte(`{"a":1}`), ""))
	require.False(t, verifyTreezor(keys, []byte("\"\xff\""), hmacBase64("s1", "\"\\ufffd\"")), "no canonical form of invalid UTF-8")
}
