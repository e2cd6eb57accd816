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
const (
	EnvKey            = "KYCFLOW_PAYLOAD_KEY"
	EnvKeyFile        = "KYCFLOW_PAYLOAD_KEY_FILE"
	EnvAllowPlaintext = "KYCFLOW_PAYLOAD_ALLOW_PLAINTEXT"
)

const (
	metadataEncoding = "binary/encrypted"
	metadataKeyID    = "encryption-key-id"
)

// Codec encrypts and decrypts payloads with one AES-256-GCM key. It fails closed: a plaintext payload is refused
// unless AllowPlaintext is set, so a backend or CLI that lacks the key cannot have the worker run on names and URLs
// it wrote in clear.
type Codec struct {
	aead  cipher.AEAD
	keyID string
	// AllowPlaintext accepts plaintext payloads (EnvAllowPlaintext): the migration switch for histories written
	// before encryption was turned on.
	AllowPlaintext bool
}

// ErrPlaintext is the error for a plaintext payload reaching a codec that does not allow them.
var ErrPlaintext = fmt.Errorf("a plaintext payload reached a process that has %s: a client without the key wrote it "+
	"(every process of the namespace needs the same key; set %s=true only to read histories written before encryption)",
	EnvKey, EnvAllowPlaintext)

// New makes a codec from a 32-byte key.
func New(key []byte) (*Codec, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("payload key is %d bytes, want 32 (AES-256)", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("payload key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("payload key: %w", err)
	}
	// The key ID lets an operator see which key wrote a payload without revealing the key.
	sum := sha256.Sum256(key)
	return &Codec{aead: aead, keyID: hex.EncodeToString(sum[:4])}, nil
}

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
	c, err := New(key)
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
		if id := string(p.GetMetadata()[metadataKeyID]); id != c.keyID {
			return nil, fmt.Errorf("decode payload: encrypted with key %s, this process has key %s", id, c.keyID)
		}
		data := p.GetData()
		n := c.aead.NonceSize()
		if len(data) < n {
			return nil, fmt.Errorf("decode payload: ciphertext too short")
		}
		plain, err := c.aead.Open(nil, data[:n], data[n:], nil)
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
