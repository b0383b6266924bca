package bulk

// A job as the state store keeps it: the Body of its state.Job is this
// package's JSON of everything its page needs, so that any replica can
// show it, follow it, start it or finish it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// Blob names of a job in the store.
const (
	blobInput  = "input"  // the checked input, as read
	blobReport = "report" // the per-record report, once done
	blobCancel = "cancel" // a Cancel asked on a replica that does not run the job
)

// Resume is one time a job was taken over after its runner stopped.
type Resume struct {
	// Interrupted is when its runner was last heard of (by that runner's
	// clock: for the page, never for a decision).
	Interrupted time.Time
	// Restart: the runner's process is known dead (the console restarted on
	// the same disk); otherwise its lease ran out.
	Restart bool
	// Shutdown: the runner handed the job over as its console shut down
	// (Interrupted is then when it did).
	Shutdown bool
	At       time.Time // when this run took the job over
	Kept     int       // records the journal had settled: kept as they were
	// Read is how many records were in flight when the runner stopped,
	// settled by reading the stream: Found written, Resent not there (sent
	// again), Ambiguous there more often than sent (reported unknown).
	Read, Found, Resent, Ambiguous int
	// Err says why the in-flight records could not be read back (they are
	// reported unknown, never sent again).
	Err string `json:",omitempty"`
}

// storedUpload is an Upload without its live parts (sender, scanner,
// transform), which Config.Revive gives back.
type storedUpload struct {
	User, Source, RequestID, Target, Where, Name, Replaced string
	Stream                                                 stream.StreamRef
	Format                                                 Format
	PartitionKey, ExplicitHashKey                          KeySource
	MaxRecordBytes                                         int
	Transform                                              bool // the spec had one: Revive must give it back
	Scanner                                                bool
	Rate                                                   float64
	ResendUnknown, SendValidOnly, Verify                   bool
}

// jobBody is a job's Body in the store.
type jobBody struct {
	Upload        storedUpload
	Check         Validation
	State         State
	Canceling     bool
	Held          bool
	Summary       Summary
	Err           string `json:",omitempty"`
	SendStart     time.Time
	Beat          time.Time // when the runner wrote this, by its clock
	Progress      Snapshot
	Verify        Verification
	VerifyErr     string `json:",omitempty"`
	Conflicts     []Conflict
	ConflictCount int
	Expires       time.Time
	Resumes       []Resume
	// HandedOver: the runner stopped it unfinished as its console shut
	// down, for the next to finish. Reported: that runner had given
	// Config.OnResult every record the journal settles (see handover.go).
	HandedOver bool `json:",omitempty"`
	Reported   bool `json:",omitempty"`
}

func storeUpload(up Upload) storedUpload {
	s := up.Spec
	return storedUpload{
		User: up.User, Source: up.Source, RequestID: up.RequestID, Target: up.Target, Where: up.Where, Name: up.Name, Replaced: up.Replaced,
		Stream: s.Stream, Format: s.Format, PartitionKey: s.PartitionKey, ExplicitHashKey: s.ExplicitHashKey,
		MaxRecordBytes: s.MaxRecordBytes, Transform: s.Transform != nil, Scanner: up.Scanner != nil,
		Rate: up.Rate, ResendUnknown: up.ResendUnknown, SendValidOnly: up.SendValidOnly, Verify: up.Verify,
	}
}

// upload is the stored upload without its live parts.
func (s storedUpload) upload() Upload {
	return Upload{
		User: s.User, Source: s.Source, RequestID: s.RequestID, Target: s.Target, Where: s.Where, Name: s.Name, Replaced: s.Replaced,
		Spec: Spec{Stream: s.Stream, Format: s.Format, PartitionKey: s.PartitionKey, ExplicitHashKey: s.ExplicitHashKey, MaxRecordBytes: s.MaxRecordBytes},
		Rate: s.Rate, ResendUnknown: s.ResendUnknown, SendValidOnly: s.SendValidOnly, Verify: s.Verify,
	}
}

// body is the job as it is now, for the store.
func (j *Job) body() ([]byte, error) {
	st := j.Status()
	j.mu.Lock()
	b := jobBody{
		Upload: storeUpload(j.Upload), Check: j.Check, State: st.State, Canceling: st.Canceling, Held: st.Held,
		Summary: st.Summary, SendStart: j.sendStart, Beat: time.Now(), Progress: st.Progress, Verify: st.Verify,
		Conflicts: st.Conflicts, ConflictCount: st.ConflictCount, Expires: st.Expires, Resumes: j.resumes,
		HandedOver: j.handedOver, Reported: j.reported,
	}
	j.mu.Unlock()
	if st.Err != nil {
		b.Err = st.Err.Error()
	}
	if st.Verify.Err != nil {
		b.VerifyErr = st.Verify.Err.Error()
		b.Verify.Err = nil
	}
	if f := b.Summary.Stopped; f != nil {
		c := *f
		c.Err = nil // an interface JSON cannot read back; the rest says it
		b.Summary.Stopped = &c
	}
	out, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("bulk: encode job: %w", err)
	}
	return out, nil
}

func decodeBody(sj state.Job) (jobBody, error) {
	var b jobBody
	if err := json.Unmarshal(sj.Body, &b); err != nil {
		return b, fmt.Errorf("bulk: job %s in the store: %w", sj.ID, err)
	}
	return b, nil
}

// status is the stored job's status.
func (b jobBody) status() JobStatus {
	st := JobStatus{State: b.State, Canceling: b.Canceling, Held: b.Held, Progress: b.Progress, Summary: b.Summary,
		Expires: b.Expires, Verify: b.Verify, Conflicts: b.Conflicts, ConflictCount: b.ConflictCount, Resumes: b.Resumes,
		HandingOver: b.HandedOver && b.State == StateSending}
	if b.Err != "" {
		st.Err = errors.New(b.Err)
	}
	if b.VerifyErr != "" {
		st.Verify.Err = errors.New(b.VerifyErr)
	}
	return st
}

// jobOf makes a Job of a stored one: remote, its status read from the
// store (see Job.refresh), until this replica runs it.
func (m *Manager) jobOf(sj state.Job) (*Job, error) {
	b, err := decodeBody(sj)
	if err != nil {
		return nil, err
	}
	j := &Job{
		Upload: b.Upload.upload(), ID: sj.ID, Check: b.Check, created: sj.Created, stored: sj, remote: true,
		remoteSt: b.status(), remoteUp: b.Upload, sendStart: b.SendStart, resumes: b.Resumes,
		state: b.State, expires: b.Expires, done: make(chan struct{}), changed: make(chan struct{}),
	}
	j.Spec.Format = b.Check.Format
	if b.State == StateDone {
		close(j.done)
	}
	j.refresh = func(ctx context.Context) { m.refresh(ctx, j) }
	return j, nil
}

// refresh reads a remote job's status from the store again.
func (m *Manager) refresh(ctx context.Context, j *Job) {
	sj, err := m.store.Job(ctx, j.ID)
	if err != nil {
		return // the last status stands; an expired job is gone at the next look-up
	}
	b, err := decodeBody(sj)
	if err != nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if sj.Counter == j.stored.Counter && sj.Run == j.stored.Run {
		return
	}
	j.stored, j.remoteSt, j.state, j.expires, j.resumes = sj, b.status(), b.State, b.Expires, b.Resumes
	j.notify()
	if b.State == StateDone {
		select {
		case <-j.done:
		default:
			close(j.done)
		}
	}
}

// storeCtx bounds one call to the store made outside a request.
func (m *Manager) storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), m.cfg.Lease)
}
