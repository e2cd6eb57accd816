package payloadcodec_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/stretchr/testify/require"

	"github.com/kycflow/kycflow/payloadcodec"
	"github.com/kycflow/kycflow/signals"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func TestRoundTripHidesPersonalData(t *testing.T) {
	c, err := payloadcodec.New(newKey(t))
	require.NoError(t, err)
	dc := payloadcodec.DataConverter(c)
	in := signals.VerificationInput{Method: signals.MethodYousignVideo, SubjectID: "u1", RedirectURL: "https://app.example",
		Yousign: &signals.YousignPerson{FirstName: "Jeanne", LastName: "Dupont"}}
	p, err := dc.ToPayload(in)
	require.NoError(t, err)
	require.False(t, bytes.Contains(p.GetData(), []byte("Dupont")), "the name is not readable in the stored payload")
	var out signals.VerificationInput
	require.NoError(t, dc.FromPayload(p, &out))
	require.Equal(t, in, out)
}

func TestDecodeErrors(t *testing.T) {
	c1, err := payloadcodec.New(newKey(t))
	require.NoError(t, err)
	c2, err := payloadcodec.New(newKey(t))
	require.NoError(t, err)
	p, err := payloadcodec.DataConverter(c1).ToPayload("secret")
	require.NoError(t, err)
	var s string
	require.ErrorContains(t, payloadcodec.DataConverter(c2).FromPayload(p, &s), "encrypted with key", "another key")

	p.Data[len(p.Data)-1] ^= 1
	require.Error(t, payloadcodec.DataConverter(c1).FromPayload(p, &s), "tampered ciphertext")
}

// TestPlaintextFailsClosed: with a key, a plaintext payload (written by a client without the key) is refused with
// an error naming the migration switch; with the switch, histories written before encryption still decode.
func TestPlaintextFailsClosed(t *testing.T) {
	c, err := payloadcodec.New(newKey(t))
	require.NoError(t, err)
	plain, err := payloadcodec.DataConverter(nil).ToPayload("written before encryption")
	require.NoError(t, err)
	var s string
	err = payloadcodec.DataConverter(c).FromPayload(plain, &s)
	require.ErrorIs(t, err, payloadcodec.ErrPlaintext)
	require.ErrorContains(t, err, payloadcodec.EnvAllowPlaintext)

	c.AllowPlaintext = true
	require.NoError(t, payloadcodec.DataConverter(c).FromPayload(plain, &s))
	require.Equal(t, "written before encryption", s)
}

// TestFailuresAreEncrypted: a failure's message may quote a provider about the user; with a key it is encrypted
// in the history (EncodeCommonAttributes) and read back whole by a process with the key.
func TestFailuresAreEncrypted(t *testing.T) {
	c, err := payloadcodec.New(newKey(t))
	require.NoError(t, err)
	fc := payloadcodec.FailureConverter(c)
	f := fc.ErrorToFailure(temporal.NewApplicationError("Treezor: user Alice Oak has an expired document", "ProviderRejected"))
	require.NotContains(t, f.GetMessage(), "Alice", "the message is not in clear")
	require.NotContains(t, f.String(), "Alice Oak")
	back := fc.FailureToError(f)
	require.ErrorContains(t, back, "Alice Oak has an expired document")
}

func TestFromEnv(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(newKey(t))
	tests := []struct {
		name    string
		env     map[string]string
		wantNil bool
		wantErr string
	}{
		{"unset keeps payloads plain", map[string]string{}, true, ""},
		{"valid key", map[string]string{payloadcodec.EnvKey: good}, false, ""},
		{"not base64", map[string]string{payloadcodec.EnvKey: "not a key!"}, false, "not base64"},
		{"wrong size", map[string]string{payloadcodec.EnvKey: base64.StdEncoding.EncodeToString([]byte("short"))}, false, "want 32"},
		{"both set", map[string]string{payloadcodec.EnvKey: good, payloadcodec.EnvKeyFile: "/x"}, false, "not both"},
		{"old keys", map[string]string{payloadcodec.EnvKey: good, payloadcodec.EnvOldKeys: base64.StdEncoding.EncodeToString(newKey(t)) + ", " +
			base64.StdEncoding.EncodeToString(newKey(t))}, false, ""},
		{"a bad old key, named by position", map[string]string{payloadcodec.EnvKey: good, payloadcodec.EnvOldKeys: base64.StdEncoding.EncodeToString(newKey(t)) + ",short"},
			false, "KYCFLOW_PAYLOAD_OLD_KEYS: key 2 is not the base64 of 32 bytes"},
		{"old keys twice", map[string]string{payloadcodec.EnvKey: good, payloadcodec.EnvOldKeys: good, payloadcodec.EnvOldKeysFile: "/x"}, false, "not both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := payloadcodec.FromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.NotContains(t, err.Error(), good, "the key never appears in errors")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantNil, c == nil)
		})
	}
}

// TestKeyRotation: a codec encrypts with its current key and decrypts with any key of its ring, so keys rotate
// without losing the histories the old key wrote; a key outside the ring is refused by its ID, never guessed.
func TestKeyRotation(t *testing.T) {
	oldKey, newKeyBytes, otherKey := newKey(t), newKey(t), newKey(t)
	before, err := payloadcodec.New(oldKey)
	require.NoError(t, err)
	written, err := payloadcodec.DataConverter(before).ToPayload("written with the old key")
	require.NoError(t, err)

	after, err := payloadcodec.New(newKeyBytes, oldKey)
	require.NoError(t, err)
	var s string
	require.NoError(t, payloadcodec.DataConverter(after).FromPayload(written, &s), "an old history still decodes")
	require.Equal(t, "written with the old key", s)

	fresh, err := payloadcodec.DataConverter(after).ToPayload("new")
	require.NoError(t, err)
	require.Error(t, payloadcodec.DataConverter(before).FromPayload(fresh, &s), "new payloads use the new key, which the old ring lacks")
	require.NotEqual(t, before.KeyID(), after.KeyID())

	stranger, err := payloadcodec.New(otherKey)
	require.NoError(t, err)
	err = payloadcodec.DataConverter(stranger).FromPayload(written, &s)
	require.ErrorIs(t, err, payloadcodec.ErrUnknownKey)
	require.ErrorContains(t, err, "encrypted with key "+before.KeyID())
	require.ErrorContains(t, err, payloadcodec.EnvOldKeys, "the error says where old keys go")
}
