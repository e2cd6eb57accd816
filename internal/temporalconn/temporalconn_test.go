package temporalconn

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

func TestCompression(t *testing.T) {
	tests := []struct {
		value   string
		want    client.GrpcCompression
		wantErr string
	}{
		{value: "", want: &client.GrpcCompressionNone{}},
		{value: "none", want: &client.GrpcCompressionNone{}},
		{value: "gzip", want: &client.GrpcCompressionGzip{}},
		{value: "GZIP", wantErr: `TEMPORAL_GRPC_COMPRESSION="GZIP": want none or gzip`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := Compression(func(string) string { return tt.value })
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.IsType(t, tt.want, got)
		})
	}
}
