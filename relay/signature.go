package relay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// Signature verification. Every comparison is constant-time (hmac.Equal), every candidate key and message is
// tried (no early exit that would tell which key matched), and no key means no match.

// parseSHA256Header reads a "sha256=<hex>" signature header (Solaris-Webhook-Signature, X-Yousign-Signature-256)
// into the 32-byte MAC. The algorithm name is case-insensitive and so are the hex digits.
func parseSHA256Header(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, errors.New("signature header is missing")
	}
	algo, digest, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(algo), "sha256") {
		return nil, errors.New(`signature header is not "sha256=<hex>"`)
	}
	mac, err := hex.DecodeString(strings.TrimSpace(digest))
	if err != nil || len(mac) != sha256.Size {
		return nil, errors.New("signature is not 64 hex digits")
	}
	return mac, nil
}

// parseSolarisSignature reads Solaris-Webhook-Signature. Solaris documents only "Payloads are signed with HMAC
// SHA-256"; the "sha256=<hex>" layout comes from a third-party mock, so the bare 64-hex-digit layout is accepted
// too. Either way the MAC must match: accepting a layout never weakens the check.
func parseSolarisSignature(v string) ([]byte, error) {
	if _, _, prefixed := strings.Cut(v, "="); prefixed {
		return parseSHA256Header(v)
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, errors.New("signature header is missing")
	}
	mac, err := hex.DecodeString(v)
	if err != nil || len(mac) != sha256.Size {
		return nil, errors.New(`signature header is neither "sha256=<hex>" nor 64 hex digits`)
	}
	return mac, nil
}

// verifyMAC checks a parsed MAC against HMAC-SHA256(key, body) for every key.
func verifyMAC(keys [][]byte, mac, body []byte) error {
	if !macMatches(keys, [][]byte{body}, mac) {
		return errors.New("signature does not match")
	}
	return nil
}

// verifySHA256Header checks a "sha256=<hex>" signature header against HMAC-SHA256(key, body) for every key. It
// returns nil when one matches, and otherwise an error whose text is the reason to report as unauthorized.
func verifySHA256Header(keys [][]byte, header string, body []byte) error {
	mac, err := parseSHA256Header(header)
	if err != nil {
		return err
	}
	return verifyMAC(keys, mac, body)
}

// parseBase64MAC reads Treezor's object_payload_signature: a base64 HMAC-SHA256 (padding optional).
func parseBase64MAC(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, errors.New("object_payload_signature is missing")
	}
	mac, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		mac, err = base64.RawStdEncoding.DecodeString(v)
	}
	if err != nil || len(mac) != sha256.Size {
		return nil, errors.New("object_payload_signature is not a base64 HMAC-SHA256")
	}
	return mac, nil
}

// macMatches reports whether HMAC-SHA256(key, message) equals want for any key and any message.
func macMatches(keys [][]byte, messages [][]byte, want []byte) bool {
	match := 0
	for _, k := range keys {
		for _, m := range messages {
			if hmac.Equal(hmacSHA256(k, m), want) {
				match = 1
			}
		}
	}
	return match == 1 && len(want) == sha256.Size
}

func hmacSHA256(key, message []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(message)
	return h.Sum(nil)
}
