package web

import (
	"errors"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// TestStreamLabel: a stream's name becomes a label only when the answer
// shows the stream exists; made-up names collapse into one value.
func TestStreamLabel(t *testing.T) {
	m := newMetrics()
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"written", nil, "orders"},
		{"throttled", &stream.Failure{Kind: stream.KindThrottled}, "orders"},
		{"outcome unknown", &stream.Failure{Kind: stream.KindOutcomeUnknown}, "orders"},
		{"service error", &stream.Failure{Kind: stream.KindServiceError}, "orders"},
		{"no such stream", &stream.Failure{Kind: stream.KindNotFound}, "(refused)"},
		{"access denied", &stream.Failure{Kind: stream.KindAccessDenied}, "(refused)"},
		{"not a failure", errors.New("web: something else"), "(refused)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.streamLabel("orders", tt.err); got != tt.want {
				t.Errorf("streamLabel = %q, want %q", got, tt.want)
			}
		})
	}
}
