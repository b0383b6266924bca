package readers

import (
	"sync"
	"time"
)

// maxCached bounds each cache: the streams and tables a team looks at.
const maxCached = 1000

// cache keeps answers, and failures, for ttl: a page reloaded, or several
// people looking at one stream, do not repeat the same calls.
type cache[T any] struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cacheEntry[T]
}

type cacheEntry[T any] struct {
	value   T
	fail    *Failure
	expires time.Time
}

func newCache[T any](ttl time.Duration) *cache[T] {
	return &cache[T]{ttl: ttl, entries: map[string]cacheEntry[T]{}}
}

// get returns key's fresh entry.
func (c *cache[T]) get(key string) (T, *Failure, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !time.Now().Before(e.expires) {
		var zero T
		return zero, nil, false
	}
	return e.value, e.fail, true
}

// put keeps key's answer, or its failure; a refusal of the caller's own
// budget is not kept, as it says nothing about AWS. Past maxCached the
// expired entries go, then, if that was not enough, all of them.
func (c *cache[T]) put(key string, v T, fail *Failure) {
	if fail != nil && fail.Reason == ReasonLimited {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= maxCached {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCached {
			clear(c.entries)
		}
	}
	c.entries[key] = cacheEntry[T]{value: v, fail: fail, expires: now.Add(c.ttl)}
}

// maxCounters bounds the lease counters remembered: two tables of 10,000
// leases each, with room to spare.
const maxCounters = 50_000

// counters remember each lease's counter and since when it has had that
// value, across looks, so that a lease nobody renews can be called out.
type counters struct {
	mu   sync.Mutex
	seen map[string]counterSeen
}

type counterSeen struct {
	counter  int64
	since    time.Time // first look that saw this value
	lastLook time.Time
}

func newCounters() *counters { return &counters{seen: map[string]counterSeen{}} }

// look records a look at a lease's counter at now, and returns since when
// it has had this value.
func (c *counters) look(key string, counter int64, now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.seen[key]
	if ok && s.counter == counter {
		s.lastLook = now
		c.seen[key] = s
		return s.since
	}
	if !ok && len(c.seen) >= maxCounters {
		// Forget the leases not looked at for an hour, then, if need be, all.
		for k, s := range c.seen {
			if now.Sub(s.lastLook) > time.Hour {
				delete(c.seen, k)
			}
		}
		if len(c.seen) >= maxCounters {
			clear(c.seen)
		}
	}
	c.seen[key] = counterSeen{counter: counter, since: now, lastLook: now}
	return now
}
