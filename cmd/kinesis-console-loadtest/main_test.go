package main

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestVerdict: the load test passes only when every put was answered 200
// with a record of its own and every such record is in the stream. Refusals
// under load (403, 422, 429) fail it as a 5xx does.
func TestVerdict(t *testing.T) {
	ok := func(shard, seq string) result {
		return result{status: http.StatusOK, shardID: shard, sequence: seq}
	}
	status := func(code int) result { return result{status: code} }
	inStream := map[string]bool{"s0/1": true, "s0/2": true, "s1/3": true}
	tests := []struct {
		name    string
		want    int
		results []result
		found   map[string]bool
		wantErr []string // each must be in the error; none means a pass
	}{
		{name: "all 200 and found", want: 3, results: []result{ok("s0", "1"), ok("s0", "2"), ok("s1", "3")}, found: inStream},
		{name: "one 429", want: 3, results: []result{ok("s0", "1"), ok("s0", "2"), status(http.StatusTooManyRequests)}, found: inStream,
			wantErr: []string{"2 of 3 puts answered 200 (statuses: 200×2, 429×1; transport errors: 0)"}},
		{name: "403 and 422", want: 3, results: []result{ok("s0", "1"), status(http.StatusForbidden), status(http.StatusUnprocessableEntity)}, found: inStream,
			wantErr: []string{"1 of 3 puts answered 200 (statuses: 200×1, 403×1, 422×1; transport errors: 0)"}},
		{name: "a 500", want: 2, results: []result{ok("s0", "1"), status(http.StatusInternalServerError)}, found: inStream,
			wantErr: []string{"1 of 2 puts answered 200 (statuses: 200×1, 500×1; transport errors: 0)"}},
		{name: "a transport error", want: 2, results: []result{ok("s0", "1"), {err: errors.New("connection reset")}}, found: inStream,
			wantErr: []string{"1 of 2 puts answered 200 (statuses: 200×1; transport errors: 1)"}},
		{name: "a put never made", want: 3, results: []result{ok("s0", "1"), ok("s0", "2")}, found: inStream,
			wantErr: []string{"2 of 3 puts answered 200 (statuses: 200×2; transport errors: 0)"}},
		{name: "a 200 not in the stream", want: 2, results: []result{ok("s0", "1"), ok("s1", "9")}, found: inStream,
			wantErr: []string{"1 records answered 200 but are not in the stream"}},
		{name: "two answers name one record", want: 2, results: []result{ok("s0", "1"), ok("s0", "1")}, found: inStream,
			wantErr: []string{"2 answers named the same record s0/1"}},
		{name: "nothing answered", want: 2, results: nil, found: inStream,
			wantErr: []string{"0 of 2 puts answered 200 (statuses: none; transport errors: 0)"}},
		{name: "nothing asked", want: 0, results: nil, found: inStream,
			wantErr: []string{"no puts were asked for"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verdict(tt.want, tallyOf(tt.results), tt.found)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("verdict = %v, want a pass", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("verdict passed, want %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("verdict = %q, want %q in it", err, w)
				}
			}
		})
	}
}

func TestStatusSummary(t *testing.T) {
	for _, tt := range []struct {
		in   map[int]int
		want string
	}{
		{nil, "none"},
		{map[int]int{200: 5}, "200×5"},
		{map[int]int{503: 1, 200: 180, 429: 19}, "200×180, 429×19, 503×1"},
	} {
		if got := statusSummary(tt.in); got != tt.want {
			t.Errorf("statusSummary(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
