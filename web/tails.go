package web

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
)

// Default bounds of live tails. Each open tail holds a goroutine per shard
// poll, a connection and a batch of records while it writes: 1,500 tails of
// one user once held 2,889 goroutines and 1,521 file descriptors.
const (
	defaultMaxTailsPerUser = 3
	defaultMaxTails        = 50
)

// tailSlots bounds the live tails open at once, per viewer and for the
// whole console. A tail's slot is given back the moment its handler
// returns, whatever ended it.
type tailSlots struct {
	perViewer, total int

	mu    sync.Mutex
	open  map[string]int // by viewer; only viewers with a tail open
	inUse int
}

func newTailSlots(perViewer, total int) *tailSlots {
	return &tailSlots{perViewer: perViewer, total: total, open: map[string]int{}}
}

// take takes a slot for viewer, or returns the 429 that says why not.
func (s *tailSlots) take(viewer string) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.open[viewer] >= s.perViewer:
		return nil, echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf(
			"You have %d live tails open, the most one person may have on this console: stop one (in another tab?) and start again.", s.open[viewer]))
	case s.inUse >= s.total:
		return nil, echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf(
			"This console is following %d live tails, the most it may at once: try again in a while, or page through the records instead.", s.inUse))
	}
	s.open[viewer]++
	s.inUse++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.inUse--
			// The map keeps only viewers with a tail open, so it is bounded
			// by the console's total whatever names come and go.
			if s.open[viewer]--; s.open[viewer] <= 0 {
				delete(s.open, viewer)
			}
		})
	}, nil
}
