package bulk

import "sync"

type pendingRecord struct {
	idx          int // its place in the input, from 0: the report's order
	rec          Record
	res          Result
	shard        string // where it is queued: the shard it maps to, "" unknown
	charge       int    // what it holds of the memory budget until reported
	written      bool
	unknownSends int    // sends whose outcome is unknown
	code, msg    string // why its last send did not write it
}

// finish settles a record that will not be sent again.
func (p *pendingRecord) finish(code, msg string) {
	p.res.PossiblyDuplicated = p.unknownSends+btoi(p.written) >= 2
	switch {
	case p.written:
		p.res.Status = StatusWritten
		p.res.ErrorCode, p.res.ErrorMessage = "", ""
		return
	case p.unknownSends > 0:
		p.res.Status = StatusUnknown
	case p.res.Attempts == 0:
		p.res.Status = StatusNotSent
	default:
		p.res.Status = StatusFailed
	}
	p.res.ErrorCode, p.res.ErrorMessage = code, msg
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// byteBudget is a counting semaphore over bytes. A request larger than the
// whole budget waits until nothing else holds any, then goes alone.
type byteBudget struct {
	mu   sync.Mutex
	cond *sync.Cond
	max  int
	used int
}

func newByteBudget(max int) *byteBudget {
	b := &byteBudget{max: max}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *byteBudget) acquire(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used > 0 && b.used+n > b.max {
		b.cond.Wait()
	}
	b.used += n
}

// tryAcquire takes n if it can without waiting.
func (b *byteBudget) tryAcquire(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used > 0 && b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) release(n int) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

// batcher packs records into PutRecords calls: at most maxRecords records
// and maxBytes of partition keys and data a call.
type batcher struct {
	maxRecords int
	maxBytes   int
	recs       []*pendingRecord
	bytes      int
}

// cuts says whether a record of size bytes would not fit in the batch being
// packed, which must then go first.
func (b *batcher) cuts(size int) bool {
	return len(b.recs) > 0 && (len(b.recs) >= b.maxRecords || b.bytes+size > b.maxBytes)
}

// add puts r in the batch being packed; when r does not fit, it first
// returns the batch so far, to be sent.
func (b *batcher) add(r *pendingRecord) []*pendingRecord {
	var full []*pendingRecord
	size := r.rec.size()
	if b.cuts(size) {
		full = b.take()
	}
	b.recs = append(b.recs, r)
	b.bytes += size
	return full
}

// take returns the batch being packed and starts a new one.
func (b *batcher) take() []*pendingRecord {
	out := b.recs
	b.recs, b.bytes = nil, 0
	return out
}
