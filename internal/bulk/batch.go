package bulk

import "sync"

type pendingRecord struct {
	rec          Record
	res          Result
	written      bool
	unknownSends int // sends whose outcome is unknown
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

// bulkBatch is a run of input records: those to send, and those settled
// without sending (invalid, or not sent), both in line order.
type bulkBatch struct {
	seq     int
	recs    []*pendingRecord
	settled []Result
	bytes   int // partition keys and data of recs
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

// add puts r in the batch being packed; when r does not fit, it first
// returns the batch so far, to be sent.
func (b *batcher) add(r *pendingRecord) []*pendingRecord {
	var full []*pendingRecord
	size := r.rec.size()
	if len(b.recs) > 0 && (len(b.recs) >= b.maxRecords || b.bytes+size > b.maxBytes) {
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
