package stream

import (
	"errors"
	"testing"

	"github.com/kinesis-console/kinesis-console/internal/stream/streamtest"
)

// TestClassifyAnswerWithoutCode: an error answer with no AWS error code (a
// proxy's HTML page, a backend that crashed) was answered, so it is never
// "outcome unknown"; from 400 up it is classified by its status alone.
func TestClassifyAnswerWithoutCode(t *testing.T) {
	tests := []struct {
		status   int
		wantKind Kind
		mayHave  bool
	}{
		{status: 400, wantKind: KindOther},
		{status: 403, wantKind: KindOther},
		{status: 499, wantKind: KindOther},
		{status: 500, wantKind: KindServiceError, mayHave: true},
		{status: 502, wantKind: KindServiceError, mayHave: true},
		// Below 400 no error answer came: what is left is a broken exchange.
		{status: 399, wantKind: KindOutcomeUnknown, mayHave: true},
	}
	for _, tt := range tests {
		f := Classify("PutRecord", streamtest.SDKError(errors.New("deserialization failed: <html>"), tt.status, "req-9"), 1)
		if f.Kind != tt.wantKind || (f.Outcome() == Unknown) != tt.mayHave {
			t.Errorf("status %d: Kind %d, MayHaveWritten %v; want %d, %v", tt.status, f.Kind, (f.Outcome() == Unknown), tt.wantKind, tt.mayHave)
		}
		if f.HTTPStatus != tt.status || f.RequestID != "req-9" || f.Code != "" {
			t.Errorf("status %d: HTTPStatus %d, RequestID %q, Code %q", tt.status, f.HTTPStatus, f.RequestID, f.Code)
		}
	}
}
