// Package logging builds the slog logger of kycflow's binaries from the environment: JSON lines by default, for
// log collectors, or compact text lines for a person at a terminal (`make run` asks for those).
package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Environment variables every kycflow binary reads.
const (
	EnvLevel  = "KYCFLOW_LOG_LEVEL"
	EnvFormat = "KYCFLOW_LOG_FORMAT"
)

// The formats of EnvFormat.
const (
	FormatJSON = "json"
	FormatText = "text"
)

// Settings are a logger's level and format.
type Settings struct {
	Level  slog.Level
	Format string
}

// FromEnv reads KYCFLOW_LOG_LEVEL (debug, info, warn, error; default info) and KYCFLOW_LOG_FORMAT (json or text;
// default json). Each error names its variable.
func FromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{Format: FormatJSON}
	var errs []error
	if lvl := getenv(EnvLevel); lvl != "" {
		if err := s.Level.UnmarshalText([]byte(lvl)); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want debug, info, warn or error", EnvLevel, lvl))
		}
	}
	if f := getenv(EnvFormat); f != "" {
		if f != FormatJSON && f != FormatText {
			errs = append(errs, fmt.Errorf("%s=%q: want %s or %s", EnvFormat, f, FormatJSON, FormatText))
		} else {
			s.Format = f
		}
	}
	return s, errors.Join(errs...)
}

// New returns a logger writing to w in the settings' format.
func (s Settings) New(w io.Writer) *slog.Logger {
	if s.Format == FormatText {
		return slog.New(NewCompactHandler(w, s.Level))
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: s.Level}))
}

// CompactHandler writes one short line per record, for a person: "15:04:05.000 WARN  message key=value ...".
// Values with spaces or quotes are quoted; the date is left out because a terminal session does not outlive it,
// and so are the tags the Temporal SDK puts on every line of one worker (sdkConstantKeys).
type CompactHandler struct {
	level  slog.Leveler
	mu     *sync.Mutex
	w      io.Writer
	prefix string // attributes from WithAttrs, already formatted
	group  string // dotted group prefix from WithGroup
}

// NewCompactHandler returns a CompactHandler that keeps records at level and above.
func NewCompactHandler(w io.Writer, level slog.Leveler) *CompactHandler {
	return &CompactHandler{level: level, mu: &sync.Mutex{}, w: w}
}

// Enabled reports whether the level is kept.
func (h *CompactHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// Handle writes the record as one line.
func (h *CompactHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	if !r.Time.IsZero() {
		b.WriteString(r.Time.Format("15:04:05.000 "))
	}
	level := r.Level.String()
	b.WriteString(level)
	b.WriteString(strings.Repeat(" ", max(1, 6-len(level))))
	b.WriteString(r.Message)
	b.WriteString(h.prefix)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.group, a)
		return true
	})
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

// WithAttrs returns a handler that adds the attributes to every line.
func (h *CompactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	for _, a := range attrs {
		appendAttr(&b, h.group, a)
	}
	c := *h
	c.prefix += b.String()
	return &c
}

// WithGroup returns a handler that prefixes later keys with the group's name.
func (h *CompactHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group += name + "."
	return &c
}

// sdkConstantKeys are the SDK's tags that are the same on every line a worker writes (its namespace, task queue
// and identity) or that a person does not read (the run ID beside the workflow ID).
var sdkConstantKeys = []string{"Namespace", "TaskQueue", "WorkerID", "RunID"}

func appendAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) || (group == "" && slices.Contains(sdkConstantKeys, a.Key)) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		prefix := group
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			appendAttr(b, prefix, ga)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(group)
	b.WriteString(a.Key)
	b.WriteByte('=')
	b.WriteString(formatValue(a.Value))
}

func formatValue(v slog.Value) string {
	var s string
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindString:
		s = v.String()
	default:
		s = fmt.Sprint(v.Any())
	}
	if s == "" || slices.ContainsFunc([]rune(s), func(r rune) bool { return r <= ' ' || r == '"' || r == '=' || r > '~' }) {
		return strconv.Quote(s)
	}
	return s
}
