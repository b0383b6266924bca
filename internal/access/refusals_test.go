package access

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// lockedBuffer is a bytes.Buffer the minute's timer may write to while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		out = append(out, m)
	}
	return out
}

// TestRefusedSignInsAreCountedPerClientAndMinute: refused sign-ins, which
// anyone may send as fast as they like, make one audit line per client,
// reason and minute with a count, written when the minute is over, not one
// line per attempt; and the clients counted apart in a minute are bounded.
func TestRefusedSignInsAreCountedPerClientAndMinute(t *testing.T) {
	tests := []struct {
		name      string
		send      map[string]int // source -> refusals in the minute
		wantLines int
		wantCount map[string]float64
	}{
		{"one guesser", map[string]int{"192.0.2.7": 500}, 1, map[string]float64{"192.0.2.7": 500}},
		{"two clients", map[string]int{"192.0.2.7": 50, "198.51.100.1": 3}, 2, map[string]float64{"192.0.2.7": 50, "198.51.100.1": 3}},
		{"many clients", func() map[string]int {
			m := map[string]int{}
			for i := range maxRefusalClients + 100 {
				m[fmt.Sprintf("10.0.%d.%d", i/256, i%256)] = 2
			}
			return m
		}(), maxRefusalClients + 1, map[string]float64{otherClients: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var out lockedBuffer
				a := NewAuditor(&out)
				time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute))) // the bubble's clock: start on a minute
				for source, n := range tt.send {
					for range n {
						a.RefusedSignIn(source, "SignInRefused")
					}
				}
				if got := out.lines(t); len(got) != 0 {
					t.Fatalf("%d lines before the minute is over, want none", len(got))
				}
				time.Sleep(time.Minute) // the bubble's clock: the minute ends
				synctest.Wait()
				got := out.lines(t)
				if len(got) != tt.wantLines {
					t.Fatalf("%d lines, want %d", len(got), tt.wantLines)
				}
				for _, line := range got {
					if line["msg"] != "refused sign-ins" || line["error_code"] != "SignInRefused" || line["result"] != "denied" {
						t.Errorf("line %v", line)
					}
					if want, ok := tt.wantCount[line["source"].(string)]; ok && line["count"] != want {
						t.Errorf("%v: count %v, want %v", line["source"], line["count"], want)
					}
				}
				// A new minute counts afresh.
				a.RefusedSignIn("192.0.2.7", "SignInThrottled")
				a.Flush()
				if got := out.lines(t); len(got) != tt.wantLines+1 || got[len(got)-1]["count"] != float64(1) {
					t.Errorf("after the next minute's refusal and Flush: %v", got[len(got)-1])
				}
			})
		})
	}
}
