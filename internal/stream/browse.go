package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// ReaderOptions tune a Reader; the zero value gives the defaults.
type ReaderOptions struct {
	// MaxCallsPerShard bounds the GetRecords calls one page makes on one
	// shard, empty batches and every search window included. Default 10.
	MaxCallsPerShard int
	// MaxPageBytes bounds the data and partition keys a page holds, and
	// what is kept of one shard while reading. Default 16 MiB.
	MaxPageBytes int
	// MaxAttempts bounds how often one call is made when Kinesis answers
	// that the shard is over its read limit. Default 5.
	MaxAttempts int
	// BaseBackoff is the first wait after a throttling answer; it doubles
	// each time, with jitter, up to MaxBackoff. Defaults 100ms and 2s.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Concurrency is how many shards are read at once. Default 4.
	Concurrency int
	// TailIdle ends a Tail that has seen no new record for this long.
	// Default 10 minutes.
	TailIdle time.Duration
	// Clock is the time source for backoff, the newest-record search and
	// the tail's idle bound. Default the system clock.
	Clock Clock
}

// Reader reads what any producer wrote to a stream, as a guest: every
// GetRecords call is paid from a ReadBudget shared by the whole console.
type Reader struct {
	api      KinesisAPI
	budget   *ReadBudget
	opts     ReaderOptions
	readOpts []func(*kinesis.Options)
	sizes    recordSizes
}

// NewReader wraps a Kinesis client; budget is shared by every Reader of
// the console (nil gives the Reader a default budget of its own).
func NewReader(api KinesisAPI, budget *ReadBudget, opts ReaderOptions) *Reader {
	if opts.MaxCallsPerShard <= 0 {
		opts.MaxCallsPerShard = 10
	}
	if opts.MaxPageBytes <= 0 {
		opts.MaxPageBytes = 16 << 20
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 2 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.TailIdle <= 0 {
		opts.TailIdle = 10 * time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if budget == nil {
		budget = NewReadBudget(BudgetOptions{Clock: opts.Clock})
	}
	return &Reader{api: api, budget: budget, opts: opts, readOpts: []func(*kinesis.Options){leaveThrottlingToReader}}
}

// StoredRecord is a record as it is stored in a shard. Its data is not
// decoded here. (GetRecords does not return a record's ExplicitHashKey.)
type StoredRecord struct {
	ShardID        string
	SequenceNumber string
	PartitionKey   string
	Arrival        time.Time // ApproximateArrivalTimestamp, to the millisecond, UTC
	Data           []byte
	EncryptionType string // empty when the backend does not say
}

func (s StoredRecord) key() recordKey {
	return recordKey{arrival: s.Arrival, shard: s.ShardID, seq: s.SequenceNumber}
}

// BrowseRequest asks for one page of a stream's records.
type BrowseRequest struct {
	Stream StreamRef
	// From is where the page starts; ignored when Cursor is set. The
	// sequence positions need exactly one shard in Shards.
	From Position
	// Shards limits the page to these shards and, after a reshard, their
	// descendants. Empty means every shard Kinesis still keeps.
	Shards []string
	// Limit is how many records the page shows: 0 means
	// DefaultBrowseLimit; at most MaxBrowseLimit.
	Limit int
	// Viewer is who reads, for the read budget.
	Viewer string
	// Cursor, from an earlier page's Newer or Older, continues from there.
	Cursor *Cursor
	// MaxBytes, when above 0, bounds this page's data and partition keys
	// below the Reader's MaxPageBytes: the share of the console's read
	// memory the request was given.
	MaxBytes int
}

// ShardStatus says how reading one shard went for a page.
type ShardStatus struct {
	ShardID   string
	Parents   []string // the shards it was split or merged from
	Open      bool     // still takes writes
	Shown     int      // records of this shard on the page
	Calls     int      // GetRecords calls made
	CaughtUp  bool     // nothing newer at the time it was read
	Ended     bool     // closed, and read to its end
	Throttled int      // throttling answers met
	Note      string   // for the user, when something is worth saying
}

// BrowsePage is one page of records, oldest first, in Browse's order:
// arrival time, then shard id, then sequence number as an integer.
type BrowsePage struct {
	Records []StoredRecord
	// CaughtUp means that when the page was read there was nothing newer
	// than its last record on any of its shards.
	CaughtUp bool
	// Calls is the GetRecords calls the page spent, over all shards.
	Calls int
	// Throttled means Kinesis answered some calls that the shard was over
	// its read limit; Incomplete means a shard could not be read as far as
	// the page needed (throttled to the end, or out of calls), so records
	// may be missing. The ShardStatus notes say which.
	Throttled  bool
	Incomplete bool
	Shards     []ShardStatus
	// Newer continues after this page's last records, shard by shard.
	Newer Cursor
	// Older leads to the records before this page's first one; nil when
	// there are none, or the page is empty.
	Older *Cursor
}

// searchWindows are how far back the newest-record search looks, step by
// step, before it reads from TRIM_HORIZON.
var searchWindows = [...]time.Duration{time.Minute, 15 * time.Minute, time.Hour, 24 * time.Hour}

// Browse reads one page of records.
//
// From TRIM_HORIZON, LATEST, AT_TIMESTAMP or a sequence number, and with a
// newer Cursor, every shard is read forward from its start, following
// NextShardIterator through empty batches, until it has Limit records, is
// caught up (MillisBehindLatest 0), is closed (no NextShardIterator), or has
// spent MaxCallsPerShard calls. The shards' records are merged and the
// first Limit kept.
//
// The newest records (PositionNewest, and an older Cursor, which is the
// newest records before a point) cannot be read directly: Kinesis only
// reads forward. So Browse reads backwards in windows that do not overlap:
// AT_TIMESTAMP now-1m to the end, then now-15m to now-1m, now-1h to
// now-15m, now-24h to now-1h, and last TRIM_HORIZON to now-24h, stopping
// at the first window after which Limit records are in hand, and keeps the
// newest Limit. A quiet shard costs one call per window; all windows share
// the MaxCallsPerShard calls, so the search is bounded (a shard that holds
// more in a window than those calls read is noted, and the page marked
// incomplete).
//
// Shards are listed with ListShards, closed parents of a reshard among
// them, and descendants of the chosen shards are read too, so no record is
// lost across a reshard.
func (r *Reader) Browse(ctx context.Context, req BrowseRequest) (BrowsePage, error) {
	if err := checkBrowse(&req); err != nil {
		return BrowsePage{}, err
	}
	listed, err := r.listShards(ctx, req.Stream)
	if err != nil {
		return BrowsePage{}, err
	}
	sel, err := selectShards(listed, req.Shards)
	if err != nil {
		return BrowsePage{}, err
	}
	readStart := r.opts.Clock.Now().Truncate(time.Millisecond).UTC()
	p := &pageRun{r: r, req: req, shards: sel, readStart: readStart}
	newest := req.From.kind() == PositionNewest
	if req.Cursor != nil {
		newest = req.Cursor.older
	}
	if newest {
		err = p.newest(ctx)
	} else {
		err = p.forward(ctx)
	}
	if err != nil {
		return BrowsePage{}, err
	}
	return p.page(), nil
}

// checkBrowse checks a request before any AWS call, and fills defaults.
func checkBrowse(req *BrowseRequest) error {
	var errs FieldErrors
	if req.Stream.Name == "" {
		errs = append(errs, FieldError{Field: "stream", Message: "Choose a stream."})
	}
	switch {
	case req.Limit == 0:
		req.Limit = DefaultBrowseLimit
	case req.Limit < 0 || req.Limit > MaxBrowseLimit:
		errs = append(errs, FieldError{Field: "limit", Message: fmt.Sprintf("Show 1 to %d records a page.", MaxBrowseLimit)})
	}
	if len(req.Shards) > MaxBrowseShards {
		errs = append(errs, FieldError{Field: "shard", Message: fmt.Sprintf("Choose at most %d shards.", MaxBrowseShards)})
	}
	for _, s := range req.Shards {
		if msg := CheckShardID(s); msg != "" {
			errs = append(errs, FieldError{Field: "shard", Message: msg})
			break
		}
	}
	if req.Cursor == nil {
		switch req.From.kind() {
		case PositionNewest, PositionTrimHorizon, PositionLatest:
		case PositionAtTimestamp:
			if req.From.Timestamp.IsZero() {
				errs = append(errs, FieldError{Field: "at", Message: "Give the time to start from."})
			}
		case PositionAtSequence, PositionAfterSequence:
			if !sequenceNumberRe.MatchString(req.From.SequenceNumber) {
				errs = append(errs, FieldError{Field: "at", Message: "A sequence number is digits only, without leading zeros."})
			}
			if len(req.Shards) != 1 {
				errs = append(errs, FieldError{Field: "shard", Message: "A sequence number belongs to one shard: choose that shard."})
			}
		default:
			errs = append(errs, FieldError{Field: "from", Message: "Unknown starting position."})
		}
	}
	if errs != nil {
		return errs
	}
	return nil
}

// selectShards picks the shards to read: the chosen ones (or all) and every
// descendant of them that Kinesis still lists, in listing order.
func selectShards(listed []listedShard, chosen []string) ([]listedShard, error) {
	want := map[string]bool{}
	for _, id := range chosen {
		if !slices.ContainsFunc(listed, func(s listedShard) bool { return s.id == id }) {
			return nil, FieldErrors{{Field: "shard", Message: fmt.Sprintf("The stream has no shard %s (any more).", id)}}
		}
		want[id] = true
	}
	for grew := true; grew && len(chosen) > 0; {
		grew = false
		for _, s := range listed {
			if !want[s.id] && slices.ContainsFunc(s.parents, func(p string) bool { return want[p] }) {
				want[s.id], grew = true, true
			}
		}
	}
	var sel []listedShard
	for _, s := range listed {
		if CheckShardID(s.id) != "" {
			continue // not a shard id the console can name in a cursor
		}
		if len(chosen) == 0 || want[s.id] {
			sel = append(sel, s)
		}
	}
	if len(sel) > MaxBrowseShards {
		return nil, FieldErrors{{Field: "shard", Message: fmt.Sprintf("The stream has %d shards; choose at most %d to read.", len(sel), MaxBrowseShards)}}
	}
	return sel, nil
}

// pageRun is one Browse in progress.
type pageRun struct {
	r         *Reader
	req       BrowseRequest
	shards    []listedShard
	readStart time.Time

	status    []ShardStatus
	starts    []start
	records   []StoredRecord // merged, in order, cut to the page
	cut       []bool         // per shard: records read but not shown (newer than the page)
	caughtUp  bool
	hasOlder  bool
	throttled bool
	partial   bool
}

func (p *pageRun) initStatus() {
	p.status = make([]ShardStatus, len(p.shards))
	p.cut = make([]bool, len(p.shards))
	for i, s := range p.shards {
		p.status[i] = ShardStatus{ShardID: s.id, Parents: s.parents, Open: s.open}
	}
}

// account adds one shard's read to its status, and returns its fatal error.
func (p *pageRun) account(i int, res shardRead) error {
	st := &p.status[i]
	st.Calls += res.calls
	st.Throttled += res.throttle
	st.Ended = st.Ended || res.ended
	if res.throttle > 0 {
		p.throttled = true
	}
	var f *Failure
	switch {
	case res.err == nil:
	case errors.As(res.err, &f) && f.Kind == KindThrottled:
		p.partial = true
		st.Note = fmt.Sprintf("Kinesis throttled the reads %d times and the console stopped; this shard's records may be missing.", res.throttle)
		return nil
	default:
		return res.err
	}
	if res.spent {
		p.partial = true
		st.Note = fmt.Sprintf("The shard was not read to the end in %d calls; records may be missing.", p.r.opts.MaxCallsPerShard)
	}
	return nil
}

// startFor is where a shard starts in a forward read, and whether it has
// nothing left to read (closed and finished on an earlier page).
func (p *pageRun) startFor(s listedShard) (start, bool) {
	if c := p.req.Cursor; c != nil {
		for _, cs := range c.shards {
			switch {
			case cs.id != s.id:
			case cs.finished:
				return start{}, true
			case cs.at:
				return start{typ: types.ShardIteratorTypeAtSequenceNumber, seq: cs.seq}, false
			default:
				return start{typ: types.ShardIteratorTypeAfterSequenceNumber, seq: cs.seq}, false
			}
		}
		if c.baseTrimHorizon {
			return start{typ: types.ShardIteratorTypeTrimHorizon}, false
		}
		return start{typ: types.ShardIteratorTypeAtTimestamp, timestamp: c.baseTime}, false
	}
	from := p.req.From
	switch from.kind() {
	case PositionTrimHorizon:
		return start{typ: types.ShardIteratorTypeTrimHorizon}, false
	case PositionLatest:
		return start{typ: types.ShardIteratorTypeLatest}, false
	case PositionAtTimestamp:
		return start{typ: types.ShardIteratorTypeAtTimestamp, timestamp: from.Timestamp}, false
	}
	if s.id != p.req.Shards[0] {
		// A descendant of the chosen shard: all of it comes after.
		return start{typ: types.ShardIteratorTypeTrimHorizon}, false
	}
	return start{typ: types.ShardIteratorType(from.kind()), seq: from.SequenceNumber}, false
}

// eachShard runs fn for 0..n-1, Concurrency at a time.
func (r *Reader) eachShard(n int, fn func(i int)) {
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// leaveThrottlingToReader stops the SDK from retrying a throttled read on
// its own: the Reader backs off itself, and counts every throttling answer
// so that the page can say it met some. Other errors keep the SDK's retries.
func leaveThrottlingToReader(o *kinesis.Options) {
	if v2, ok := o.Retryer.(aws.RetryerV2); ok {
		o.Retryer = noThrottleRetryer{v2}
	}
}

type noThrottleRetryer struct{ aws.RetryerV2 }

func (n noThrottleRetryer) IsErrorRetryable(err error) bool {
	if Classify("", err, 0).Kind == KindThrottled {
		return false
	}
	return n.RetryerV2.IsErrorRetryable(err)
}
