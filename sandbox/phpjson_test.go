package sandbox

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPHPJSON(t *testing.T) {
	got, err := phpJSON(struct {
		Text  string `json:"text"`
		Items []any  `json:"items"`
	}{"é/<>&\u2028😀\n\"\\", []any{1, "a/b", nil}})
	require.NoError(t, err)
	// What PHP's json_encode writes with its default flags.
	require.Equal(t, `{"text":"\u00e9\/<>&\u2028\ud83d\ude00\n\"\\","items":[1,"a\/b",null]}`, string(got))

	again, err := phpEscape(got)
	require.NoError(t, err)
	require.Equal(t, string(got), string(again), "escaping is idempotent")
}
