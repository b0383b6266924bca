package bulk

// Verification: the console's word is the stream's word. After a job has
// sent, it reads the stream back and checks every record Kinesis
// acknowledged: per shard, from the lowest sequence number the job was
// given to the highest, matching each acknowledgement's shard and sequence
// number and the SHA-256 of the data sent against what the shard holds.
// Records whose send had no answer (outcome unknown) are looked for by
// partition key and data among the records that arrived since the job
// started. Every GetRecords call is paid from the console's read budget.

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// Scanner reads a stream back, paying each read from the console's read
// budget: *stream.Reader.
type Scanner interface {
	ShardSpans(ctx context.Context, ref stream.StreamRef) ([]stream.ShardSpan, error)
	Scan(ctx context.Context, req stream.ScanRequest, fn func([]stream.StoredRecord) bool) (stream.ScanStats, error)
}

var _ Scanner = (*stream.Reader)(nil)

// VerifyState is where a job's read-back verification is.
type VerifyState string

// The states of a verification.
const (
	VerifyNone       VerifyState = ""           // not asked for (a job not sent yet)
	VerifyRunning    VerifyState = "verifying"  // reading the stream
	VerifyVerified   VerifyState = "verified"   // every acknowledged record is in the stream, byte for byte
	VerifyProblems   VerifyState = "problems"   // some are missing, differ, or were given one place twice
	VerifySkipped    VerifyState = "skipped"    // the user chose not to verify
	VerifyIncomplete VerifyState = "incomplete" // canceled, or the stream could not be read to the end
)

// Verification is how reading a job back went, or is going.
type Verification struct {
	State VerifyState
	// Total is how many records are looked for: those Kinesis acknowledged
	// and those whose outcome was unknown. Checked is how many are settled.
	Total, Checked int
	Verified       int // acknowledged, and found byte for byte
	Missing        int // acknowledged, and not in the stream
	Mismatched     int // acknowledged, and the stream holds other bytes there
	Conflicts      int // given a place that cannot be true, and not found there
	Found          int // outcome unknown, found exactly once: written
	NotFound       int // outcome unknown, not in the stream: not written
	Ambiguous      int // outcome unknown, and the stream holds other copies of the same record
	// Problems are the first MaxListedFailures lines that are not verified.
	Problems []int
	// Calls counts GetRecords calls; Shards the shards read.
	Calls, Shards int
	Started       time.Time
	Elapsed       time.Duration
	Err           error // why it is incomplete
}

// defaultVerifyWindow bounds the acknowledgements held in memory at once
// (about 170 bytes each): a larger job is verified a window at a time, each
// reading its shards from its own lowest sequence number to its highest.
const defaultVerifyWindow = 100_000

// unknownSlack widens the search for records of unknown outcome: a record
// may carry an arrival time a little before the job started by the
// console's clock.
const unknownSlack = 5 * time.Second

// The outcome of one report line, as verification found it.
type lineOutcome uint8

const (
	lineUntouched lineOutcome = iota
	lineVerified
	lineMissing
	lineMismatch
	lineConflict
	lineFound    // unknown outcome, found once
	lineNotFound // unknown outcome, not in the stream
	lineAmbiguous
)

type lineDetail struct {
	shard, seq string
	other      int // the other line given the same place, 0 for none
	msg        string
}

// verifyRun is one verification of one job.
type verifyRun struct {
	scan   Scanner
	ref    stream.StreamRef
	viewer string
	since  time.Time
	window int
	memory *stream.MemoryBudget // nil: not bounded by the console's read memory

	spans    map[string]stream.ShardSpan
	outcomes []lineOutcome // by record index in the report
	details  map[int]lineDetail

	mu      sync.Mutex
	pubMu   sync.Mutex
	checked atomic.Int64
	calls   atomic.Int64
	shards  map[string]bool
	publish func(Verification)
	status  Verification
}

// ackEntry is one acknowledged record looked for.
type ackEntry struct {
	idx   int // record index in the report
	line  int
	pk    string // the partition key, for a record of unknown outcome
	shard string
	seq   string
	sum   [32]byte
}

// placeKey names a shard and sequence number in 16 bytes.
func placeKey(shard, seq string) [16]byte {
	h := fnv.New128a()
	_, _ = io.WriteString(h, shard)
	_, _ = h.Write([]byte{0})
	_, _ = io.WriteString(h, seq)
	var k [16]byte
	h.Sum(k[:0])
	return k
}

// dataSum is the hex SHA-256 of a record's data, as the report gives it.
func dataSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// verifyReport reads the stream back for the records of the report at path
// and rewrites the report with what it found. publish receives the running
// status. It returns the final status; the summary is updated to match.
func verifyReport(ctx context.Context, scan Scanner, memory *stream.MemoryBudget, ref stream.StreamRef, viewer string, since time.Time, path string, records int, sum *Summary, publish func(Verification)) Verification {
	v := &verifyRun{
		scan: scan, ref: ref, viewer: viewer, since: since, window: defaultVerifyWindow, memory: memory,
		outcomes: make([]lineOutcome, records), details: map[int]lineDetail{},
		shards: map[string]bool{}, publish: publish,
	}
	return v.verify(ctx, path, sum)
}

func (v *verifyRun) verify(ctx context.Context, path string, sum *Summary) Verification {
	v.status = Verification{State: VerifyRunning, Started: time.Now()}
	err := v.run(ctx, path)
	st := v.snapshot()
	st.Elapsed = time.Since(st.Started)
	if err == nil {
		err = v.rewrite(path, sum, &st)
	}
	switch {
	case err != nil:
		st.State, st.Err = VerifyIncomplete, err
	case st.Missing+st.Mismatched+st.Conflicts+st.NotFound+st.Ambiguous > 0:
		st.State = VerifyProblems
	default:
		st.State = VerifyVerified
	}
	return st
}

// snapshot is the status now.
func (v *verifyRun) snapshot() Verification {
	v.mu.Lock()
	defer v.mu.Unlock()
	st := v.status
	st.Checked = int(v.checked.Load())
	st.Calls = int(v.calls.Load())
	st.Shards = len(v.shards)
	st.Problems = slices.Clone(st.Problems)
	return st
}

func (v *verifyRun) report() {
	if v.publish == nil {
		return
	}
	// One at a time, the snapshot taken inside: the page's count never
	// goes back.
	v.pubMu.Lock()
	defer v.pubMu.Unlock()
	v.publish(v.snapshot())
}

// run does the reading: windows of acknowledged records, then the unknown ones.
func (v *verifyRun) run(ctx context.Context, path string) error {
	if err := v.loadSpans(ctx); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("bulk: report: %w", err)
	}
	defer f.Close()
	// The first pass only counts, so the page can say "n of total".
	var unknown []ackEntry
	total := 0
	if err := eachResult(f, func(_ int, r Result) error {
		switch {
		case acknowledged(r), undecided(r):
			total++
		}
		return nil
	}); err != nil {
		return err
	}
	v.mu.Lock()
	v.status.Total = total
	v.mu.Unlock()
	v.report()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("bulk: report: %w", err)
	}
	var window []ackEntry
	err = eachResult(f, func(idx int, r Result) error {
		switch {
		case acknowledged(r):
			e := ackEntry{idx: idx, line: r.Line, shard: r.ShardID, seq: r.SequenceNumber}
			if _, err := hex.Decode(e.sum[:], []byte(r.DataSHA256)); err != nil || len(r.DataSHA256) != 64 {
				return fmt.Errorf("bulk: report line %d has no data digest", r.Line)
			}
			window = append(window, e)
			if len(window) == v.window {
				if err := v.verifyWindow(ctx, window); err != nil {
					return err
				}
				window = window[:0]
			}
		case undecided(r):
			e := ackEntry{idx: idx, line: r.Line, pk: r.PartitionKey}
			if _, err := hex.Decode(e.sum[:], []byte(r.DataSHA256)); err != nil || len(r.DataSHA256) != 64 {
				return fmt.Errorf("bulk: report line %d has no data digest", r.Line)
			}
			unknown = append(unknown, e)
		}
		return nil
	})
	if err == nil && len(window) > 0 {
		err = v.verifyWindow(ctx, window)
	}
	if err == nil && len(unknown) > 0 {
		err = v.findUnknown(ctx, f, unknown)
	}
	v.report()
	return err
}

// loadSpans learns the stream's shards and their sequence number ranges.
func (v *verifyRun) loadSpans(ctx context.Context) error {
	spans, err := v.scan.ShardSpans(ctx, v.ref)
	if err != nil {
		return fmt.Errorf("list the shards: %w", err)
	}
	v.spans = map[string]stream.ShardSpan{}
	for _, s := range spans {
		v.spans[s.ID] = s
	}
	return nil
}

// scanShare is what one shard's scan takes of the console's read memory:
// a GetRecords answer of about stream.ScanAnswerBytes, which the SDK holds
// about three times over while it decodes it, and the batch handed on.
const scanShare = 4 * stream.ScanAnswerBytes

// takeMemory takes a scan's share of the console's read memory, waiting
// for it as long as ctx allows (verification is in no hurry; the records
// page's readers are), and returns how to give it back.
func (v *verifyRun) takeMemory(ctx context.Context) (func(), error) {
	if v.memory == nil {
		return func() {}, nil
	}
	g, err := v.memory.Take(ctx, scanShare, scanShare, 0)
	if err != nil {
		return nil, fmt.Errorf("wait for read memory: %w", err)
	}
	return g.Release, nil
}

// acknowledged holds for a line Kinesis gave a place to: what verification
// looks for at that place, again on a later verification (a record found
// missing then may be there now).
func acknowledged(r Result) bool {
	switch r.Status {
	case StatusWritten, StatusConflict, StatusMissing, StatusMismatch:
		return r.SequenceNumber != ""
	}
	return false
}

// undecided holds for a line whose send had no answer, or that an earlier
// verification did not find: looked for by its key and data.
func undecided(r Result) bool {
	return r.Status == StatusUnknown || r.Status == StatusFailed && r.ErrorCode == codeNotInStream
}

// codeNotInStream is the error code of a line verification did not find.
const codeNotInStream = "NotInStream"

// eachResult calls fn with every line of a report and its index.
func eachResult(r io.Reader, fn func(idx int, res Result) error) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 256<<10))
	for idx := 0; ; idx++ {
		var res Result
		if err := dec.Decode(&res); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("bulk: report: %w", err)
		}
		if err := fn(idx, res); err != nil {
			return err
		}
	}
}

// settle records one line's outcome; v.mu is held.
func (v *verifyRun) settle(e ackEntry, o lineOutcome, d lineDetail) {
	v.outcomes[e.idx] = o
	if d != (lineDetail{}) {
		v.details[e.idx] = d
	}
	v.checked.Add(1)
	st := &v.status
	switch o {
	case lineVerified:
		st.Verified++
		return
	case lineFound:
		st.Found++
		return
	case lineMissing:
		st.Missing++
	case lineMismatch:
		st.Mismatched++
	case lineConflict:
		st.Conflicts++
	case lineNotFound:
		st.NotFound++
	case lineAmbiguous:
		st.Ambiguous++
	}
	if len(st.Problems) < MaxListedFailures {
		st.Problems = append(st.Problems, e.line)
	}
}

// verifyWindow checks one window of acknowledged records, shard by shard,
// a few shards at a time.
func (v *verifyRun) verifyWindow(ctx context.Context, window []ackEntry) error {
	byShard := map[string][]ackEntry{}
	for _, e := range window {
		byShard[e.shard] = append(byShard[e.shard], e)
	}
	return eachShard(slices.Sorted(maps.Keys(byShard)), func(id string) error {
		return v.verifyShard(ctx, id, byShard[id])
	})
}

// scanShards is how many shards a verification reads at once.
const scanShards = 2

// eachShard runs fn for every shard, scanShards at a time, and joins
// their errors.
func eachShard(ids []string, fn func(id string) error) error {
	errs := make([]error, len(ids))
	sem := make(chan struct{}, scanShards)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = fn(id)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// verifyShard reads one shard from the lowest sequence number of entries to
// the highest and settles each entry.
func (v *verifyRun) verifyShard(ctx context.Context, shard string, entries []ackEntry) error {
	span, ok := v.spans[shard]
	v.mu.Lock()
	v.shards[shard] = true
	var look []ackEntry
	for _, e := range entries {
		switch {
		case !ok:
			v.settle(e, lineMissing, lineDetail{msg: "Kinesis named shard " + shard + ", which the stream does not have."})
		case stream.CheckSequenceNumberForOrdering(e.seq) != "" || !span.Holds(e.seq):
			v.settle(e, lineConflict, lineDetail{msg: "Kinesis gave it sequence number " + e.seq + ", outside the range of " + shard + ": that cannot be true, and the stream does not hold it there."})
		default:
			look = append(look, e)
		}
	}
	v.mu.Unlock()
	v.report()
	if len(look) == 0 {
		return nil
	}
	slices.SortFunc(look, func(a, b ackEntry) int {
		return cmp.Or(stream.CompareSequenceNumbers(a.seq, b.seq), cmp.Compare(a.line, b.line))
	})
	bySeq := map[string][]ackEntry{}
	for _, e := range look {
		bySeq[e.seq] = append(bySeq[e.seq], e)
	}
	last := look[len(look)-1].seq
	release, err := v.takeMemory(ctx)
	if err != nil {
		return err
	}
	defer release()
	for i := 0; i < len(look); {
		from := look[i].seq
		stats, err := v.scan.Scan(ctx, stream.ScanRequest{Stream: v.ref, ShardID: shard, AtSequenceNumber: from, Viewer: v.viewer},
			func(batch []stream.StoredRecord) bool {
				v.mu.Lock()
				defer v.mu.Unlock()
				for _, rec := range batch {
					if stream.CompareSequenceNumbers(rec.SequenceNumber, last) > 0 {
						return false
					}
					if es, ok := bySeq[rec.SequenceNumber]; ok {
						v.match(es, rec)
						delete(bySeq, rec.SequenceNumber)
					}
				}
				return len(bySeq) > 0
			})
		v.calls.Add(int64(stats.Calls))
		var f *stream.Failure
		if err != nil && stats.Calls == 0 && errors.As(err, &f) && f.Code == "InvalidArgumentException" {
			// Kinesis refuses to start at a sequence number that is not
			// this shard's (one it gave on another shard): an impossible
			// answer, which must not stop the rest being verified.
			v.mu.Lock()
			for _, e := range bySeq[from] {
				v.settle(e, lineConflict, lineDetail{msg: "Kinesis gave it sequence number " + from + " on " + shard + ", which that shard refuses to read from: it cannot be true."})
			}
			delete(bySeq, from)
			v.mu.Unlock()
			for i < len(look) && look[i].seq == from {
				i++
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s back: %w", shard, err)
		}
		break
	}
	v.mu.Lock()
	for _, es := range bySeq {
		for _, e := range es {
			d := lineDetail{msg: "Kinesis acknowledged it at " + shard + "/" + e.seq + ", but the shard holds no record there."}
			if len(es) > 1 {
				d.other = otherLine(es, e)
			}
			v.settle(e, lineMissing, d)
		}
	}
	v.mu.Unlock()
	v.report()
	return nil
}

// match settles the entries Kinesis acknowledged at one place with the
// record the shard holds there; v.mu is held. With more than one entry
// (an impossible answer), the one whose bytes the shard holds is written
// and the others are missing.
func (v *verifyRun) match(es []ackEntry, rec stream.StoredRecord) {
	got := sha256.Sum256(rec.Data)
	held := -1
	for i, e := range es {
		if e.sum == got {
			held = i
			break
		}
	}
	for i, e := range es {
		switch {
		case i == held && len(es) == 1:
			v.settle(e, lineVerified, lineDetail{})
		case i == held:
			v.settle(e, lineVerified, lineDetail{other: otherLine(es, e), msg: "Kinesis gave another line the same sequence number; the stream holds this one."})
		case held >= 0:
			v.settle(e, lineMissing, lineDetail{other: es[held].line, msg: fmt.Sprintf("Kinesis acknowledged it at %s/%s, where the stream holds line %d.", rec.ShardID, rec.SequenceNumber, es[held].line)})
		default:
			v.settle(e, lineMismatch, lineDetail{other: otherLine(es, e), msg: fmt.Sprintf("The stream holds other bytes at %s/%s (SHA-256 %x).", rec.ShardID, rec.SequenceNumber, got[:8])})
		}
	}
}

// otherLine is a line of es other than e's, or 0.
func otherLine(es []ackEntry, e ackEntry) int {
	for _, o := range es {
		if o.line != e.line {
			return o.line
		}
	}
	return 0
}

// rewrite writes each line of the report again with what verification
// found, and brings the summary's counts in line with it.
func (v *verifyRun) rewrite(path string, sum *Summary, st *Verification) error {
	s := *sum // the summary changes only with the report
	err := rewriteReport(path, func(idx int, r *Result) {
		if idx < len(v.outcomes) {
			applyOutcome(r, v.outcomes[idx], v.details[idx], &s)
		}
	})
	if err != nil {
		return err
	}
	s.Verified = st.Verified + st.Found
	*sum = s
	return nil
}
