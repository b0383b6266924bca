package write

import (
	"testing"

	"golang.org/x/time/rate"
)

// SetShare divides the console's shares of the account's look-up quotas
// among replicas, on the limiters every path pays from, with a burst of at
// least one call.
func TestSetShareDividesQuotas(t *testing.T) {
	e := newEnv(t, nil)
	e.svc.cfg.DescribeRate, e.svc.cfg.TagsRate = 4, 2
	for _, d := range e.svc.Destinations() {
		if d.streams.describe != e.svc.describeQuota {
			t.Fatalf("target %q's stream look-ups pay from another DescribeStreamSummary limiter than the one SetShare divides", d.Name)
		}
	}
	for _, c := range []struct {
		n                        int
		describe, tags           rate.Limit
		describeBurst, tagsBurst int
	}{
		{1, 4, 2, 4, 2},
		{2, 2, 1, 2, 1},
		{8, 0.5, 0.25, 1, 1},
		{0, 4, 2, 4, 2},
	} {
		e.svc.SetShare(c.n)
		dq, tq := e.svc.describeQuota, e.svc.tagsQuota
		if dq.Limit() != c.describe || dq.Burst() != c.describeBurst || tq.Limit() != c.tags || tq.Burst() != c.tagsBurst {
			t.Errorf("share 1/%d: describe %v burst %d, tags %v burst %d; want %v/%d, %v/%d",
				c.n, dq.Limit(), dq.Burst(), tq.Limit(), tq.Burst(), c.describe, c.describeBurst, c.tags, c.tagsBurst)
		}
	}
}
