package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Settings
		wantErr []string
	}{
		{"defaults", nil, Settings{Level: slog.LevelInfo, Format: FormatJSON}, nil},
		{"text at debug", map[string]string{EnvLevel: "debug", EnvFormat: "text"}, Settings{Level: slog.LevelDebug, Format: FormatText}, nil},
		{"both wrong, both named", map[string]string{EnvLevel: "loud", EnvFormat: "xml"}, Settings{},
			[]string{`KYCFLOW_LOG_LEVEL="loud"`, `KYCFLOW_LOG_FORMAT="xml": want json or text`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, w := range tt.wantErr {
					require.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestTextFormatIsOneCompactLine(t *testing.T) {
	var buf bytes.Buffer
	log := Settings{Level: slog.LevelInfo, Format: FormatText}.New(&buf)
	log.With("provider", "treezor").WithGroup("req").Warn("Webhook refused", "status", 401, "reason", "bad signature", "took", 3*time.Millisecond)
	log.Debug("not kept")
	log.Info("Started Worker", "Namespace", "default", "TaskQueue", "kycflow", "WorkerID", "1@vm@", "WorkflowID", "kyc/treezor/1")
	line := buf.String()
	require.Equal(t, 2, strings.Count(line, "\n"), line)
	require.Regexp(t, `^\d\d:\d\d:\d\d\.\d{3} WARN  Webhook refused provider=treezor req\.status=401 req\.reason="bad signature" req\.took=3ms\n`+
		`\d\d:\d\d:\d\d\.\d{3} INFO  Started Worker WorkflowID=kyc/treezor/1\n$`, line)
}

func TestJSONFormatStaysTheDefault(t *testing.T) {
	var buf bytes.Buffer
	Settings{}.New(&buf).Info("hello", "k", "v")
	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	require.Equal(t, "hello", rec["msg"])
	require.Equal(t, "v", rec["k"])
}
