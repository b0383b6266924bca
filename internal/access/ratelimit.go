package access

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimiter bounds each user's writes in records per second, so one person
// (or one script behind one account) cannot use up a shard's throughput for
// everybody.
type RateLimiter struct {
	perSecond rate.Limit
	burst     int

	mu    sync.Mutex
	users map[string]*userLimiter
}

type userLimiter struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewRateLimiter allows each user perSecond records a second with bursts of
// burst; perSecond <= 0 turns limiting off.
func NewRateLimiter(perSecond float64, burst int) *RateLimiter {
	if burst < 1 {
		burst = 1
	}
	return &RateLimiter{perSecond: rate.Limit(perSecond), burst: burst, users: map[string]*userLimiter{}}
}

// Allow takes n records from user's budget, or reports that it is spent.
func (r *RateLimiter) Allow(user string, n int) bool {
	if r == nil || r.perSecond <= 0 {
		return true
	}
	now := time.Now()
	return r.limiterFor(user, now).AllowN(now, n)
}

// Wait blocks until user may put n more records, or ctx ends.
func (r *RateLimiter) Wait(ctx context.Context, user string, n int) error {
	if r == nil || r.perSecond <= 0 {
		return nil
	}
	lim := r.limiterFor(user, time.Now())
	for n > 0 {
		k := min(n, r.burst)
		if err := lim.WaitN(ctx, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

func (r *RateLimiter) limiterFor(user string, now time.Time) *rate.Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	u, ok := r.users[user]
	if !ok {
		if len(r.users) > 10000 {
			r.forgetIdle(now)
		}
		u = &userLimiter{lim: rate.NewLimiter(r.perSecond, r.burst)}
		r.users[user] = u
	}
	u.seen = now
	return u.lim
}

// forgetIdle drops users idle for a minute, so the map stays small.
func (r *RateLimiter) forgetIdle(now time.Time) {
	for name, u := range r.users {
		if now.Sub(u.seen) > time.Minute {
			delete(r.users, name)
		}
	}
}
