// Package payloadcodec encrypts Temporal payloads (workflow inputs and results, signal, update and query
// arguments, activity inputs and outputs) with AES-256-GCM. Yousign needs the user's names in the workflow input,
// and outcomes carry provider reasons: with a key set, neither is readable in Temporal's database, its UI or an
// exported history. Search attributes are never encrypted, which is why they hold no personal data.
//
// Every process that talks to the namespace (worker, relay, starter, CLI) must use the same key.
package payloadcodec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// EnvKey holds the base64 encoding of a 32-byte key; EnvKeyFile names a file holding it. EnvAllowPlaintext=true
// lets a process with a key read plaintext payloads: only to migrate histories written before encryption was
// turned on, since it also lets a client without the key write personal data in clear.
// EnvOldKeys (or EnvOldKeysFile, one per line) holds earlier keys, comma-separated base64: payloads they encrypted
// still decrypt, nothing new is encrypted with them. Rotate by making the current key an old one and setting a new
// current key, in every process; drop an old key once no history that needs it is kept.
const (
	EnvKey            = "KYCFLOW_PAYLOAD_KEY"
	EnvKeyFile        = "KYCFLOW_PAYLOAD_KEY_FILE"
	EnvOldKeys        = "KYCFLOW_PAYLOAD_OLD_KEYS"
	EnvOldKeysFile    = "KYCFLOW_PAYLOAD_OLD_KEYS_FILE"
	EnvAllowPlaintext = "KYCFLOW_PAYLOAD_ALLOW_PLAINTEXT"
)

const (
	metadataEncoding = "binary/encrypted"
	metadataKeyID    = "encryption-key-id"
)

// Codec encrypts payloads with its current AES-256-GCM key and decrypts those of any key in its ring (the current
// one and older ones), found by the key ID each payload carries. It fails closed: a plaintext payload is refused
// unless AllowPlaintext is set, so a backend or CLI that lacks the key cannot have the worker run on names and URLs
// it wrote in clear.
type Codec struct {
	aead  cipher.AEAD
	keyID string
	// ring holds every key's cipher by key ID, the current one included.
	ring map[string]cipher.AEAD
	// AllowPlaintext accepts plaintext payloads (EnvAllowPlaintext): the migration switch for histories written
	// before encryption was turned on.
	AllowPlaintext bool
}

// ErrPlaintext is the error for a plaintext payload reaching a codec that does not allow them.
var ErrPlaintext = fmt.Errorf("a plaintext payload reached a process that has %s: a client without the key wrote it "+
	"(every process of the namespace needs the same key; set %s=true only to read histories written before encryption)",
	EnvKey, EnvAllowPlaintext)

// ErrUnknownKey is the error for a payload encrypted with a key that is not in the codec's ring.
var ErrUnknownKey = fmt.Errorf("decode payload: unknown key")

// New makes a codec that encrypts with a 32-byte key and decrypts with it and the old keys.
func New(key []byte, old ...[]byte) (*Codec, error) {
	aead, id, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	c := &Codec{aead: aead, keyID: id, ring: map[string]cipher.AEAD{id: aead}}
	for i, k := range old {
		a, oldID, err := newAEAD(k)
		if err != nil {
			return nil, fmt.Errorf("old key %d: %w", i+1, err)
		}
		c.ring[oldID] = a
	}
	return c, nil
}

func newAEAD(key []byte) (cipher.AEAD, string, error) {
	if len(key) != 32 {
		return nil, "", fmt.Errorf("payload key is %d bytes, want 32 (AES-256)", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", fmt.Errorf("payload key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, "", fmt.Errorf("payload key: %w", err)
	}
	// The key ID lets an operator see which key wrote a payload without revealing the key.
	sum := sha256.Sum256(key)
	return aead, hex.EncodeToString(sum[:4]), nil
}

// KeyID is the ID of the key the codec encrypts with (never the key).
func (c *Codec) KeyID() string { return c.keyID }

// FromEnv reads the key from the environment: nil without error when none is set (payloads stay plain).
func FromEnv(getenv func(string) string) (*Codec, error) {
	raw, path := getenv(EnvKey), getenv(EnvKeyFile)
	switch {
	case raw != "" && path != "":
		return nil, fmt.Errorf("set %s or %s, not both", EnvKey, EnvKeyFile)
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKeyFile, err)
		}
		raw = strings.TrimSpace(string(b))
	case raw == "":
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: not base64 (generate one with `openssl rand -base64 32`)", EnvKey)
	}
	old, err := oldKeysFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	c, err := New(key, old...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvKey, err)
	}
	switch v := getenv(EnvAllowPlaintext); v {
	case "", "false":
	case "true":
		c.AllowPlaintext = true
	default:
		return nil, fmt.Errorf("%s=%q: want true or false", EnvAllowPlaintext, v)
	}
	return c, nil
}

// oldKeysFromEnv reads the old keys: comma-separated in EnvOldKeys, or one per line in EnvOldKeysFile. Errors say
// which key (by position), never a key.
func oldKeysFromEnv(getenv func(string) string) ([][]byte, error) {
	raw, path, name := getenv(EnvOldKeys), getenv(EnvOldKeysFile), EnvOldKeys
	var list []string
	switch {
	case raw != "" && path != "":
		return nil, fmt.Errorf("set %s or %s, not both", EnvOldKeys, EnvOldKeysFile)
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvOldKeysFile, err)
		}
		list, name = strings.Split(string(b), "\n"), EnvOldKeysFile
	case raw != "":
		list = strings.Split(raw, ",")
	}
	var keys [][]byte
	for _, item := range list {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(item)
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("%s: key %d is not the base64 of 32 bytes", name, len(keys)+1)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// DataConverter wraps Temporal's default converter with the codec; a nil codec keeps the default.
func DataConverter(c *Codec) converter.DataConverter {
	if c == nil {
		return converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter encrypts failures' messages and stack traces too (EncodeCommonAttributes), with the codec: an
// error text may quote what a provider said about the user. A nil codec keeps Temporal's default.
func FailureConverter(c *Codec) converter.FailureConverter {
	if c == nil {
		return temporal.GetDefaultFailureConverter()
	}
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: DataConverter(c), EncodeCommonAttributes: true,
	})
}

// Encode encrypts each payload, whole (data and metadata), into a new payload.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		// Room for the sealed output, so Seal appends the ciphertext in place.
		n := c.aead.NonceSize()
		nonce := make([]byte, n, n+len(plain)+c.aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("encode payload: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(metadataEncoding),
				metadataKeyID:              []byte(c.keyID),
			},
			Data: c.aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode decrypts the payloads this codec encrypted. A plaintext payload is refused (ErrPlaintext), unless
// AllowPlaintext lets histories written before encryption was turned on replay.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != metadataEncoding {
			if !c.AllowPlaintext {
				return nil, ErrPlaintext
			}
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[metadataKeyID])
		aead, ok := c.ring[id]
		if !ok {
			return nil, fmt.Errorf("%w: encrypted with key %s, this process has key %s and %d old one(s) (%s)",
				ErrUnknownKey, id, c.keyID, len(c.ring)-1, EnvOldKeys)
		}
		data := p.GetData()
		n := aead.NonceSize()
		if len(data) < n {
			return nil, fmt.Errorf("decode payload: ciphertext too short")
		}
		plain, err := aead.Open(nil, data[:n], data[n:], nil)
		if err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
		var decoded commonpb.Payload
		if err := proto.Unmarshal(plain, &decoded); err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
		out[i] = &decoded
	}
	return out, nil
}

// Encrypted reports whether a payload is one a codec encrypted.
func Encrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == metadataEncoding
}

// KeyIDOf is the ID of the key an encrypted payload names (never the key).
func KeyIDOf(p *commonpb.Payload) string { return string(p.GetMetadata()[metadataKeyID]) }
