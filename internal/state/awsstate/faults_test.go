package awsstate_test

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/state/awsstate"
	"github.com/kinesis-console/kinesis-console/internal/state/statetest"
)

const attempts = 3

// faultRig is a table and bucket in moto, reached directly (to look) and
// through a fault proxy (to act).
type faultRig struct {
	proxy  *statetest.FaultProxy
	direct *awsstate.Store
	cfg    aws.Config // through the proxy
	table  string
	bucket string
}

func newFaultRig(t *testing.T) *faultRig {
	b := localawstest.Start(t, localaws.KindMoto)
	direct, err := b.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	proxy := statetest.NewFaultProxy(b.Endpoint)
	t.Cleanup(proxy.Close)
	cfg, err := localaws.ConfigFor(t.Context(), proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	table, bucket := fresh(t, direct)
	return &faultRig{proxy: proxy, direct: awsstate.New(direct, table, bucket, awsstate.Options{}), cfg: cfg, table: table, bucket: bucket}
}

// store is a Store through the proxy, with a fresh retryer (its retry
// quota is the store's own).
func (r *faultRig) store(timeout time.Duration) *awsstate.Store {
	return awsstate.New(r.cfg, r.table, r.bucket, awsstate.Options{MaxAttempts: attempts, CallTimeout: timeout, MaxBackoff: 20 * time.Millisecond})
}

// TestFailsClosed: through 500s, throttling, dropped connections and a
// store that does not answer, every write returns an error (never success,
// never claimed), after a bounded number of attempts, within the call
// timeout, and a write that never reached the store left nothing behind.
func TestFailsClosed(t *testing.T) {
	rig := newFaultRig(t)
	ctx := t.Context()
	setup := rig.direct
	if err := setup.CreateJob(ctx, state.Job{ID: "j", Body: []byte("v1")}); err != nil {
		t.Fatal(err)
	}
	seen, _ := setup.Job(ctx, "j")
	held, err := setup.TakeJob(ctx, seen, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := setup.ClaimKey(ctx, state.Key{User: "u", Key: "k-finish", Owner: "r1"}); err != nil || !claimed {
		t.Fatalf("claim: %v, %v", claimed, err)
	}

	type op struct {
		name string
		do   func(s *awsstate.Store) error
		// untouched checks that the write did not happen.
		untouched func(t *testing.T)
	}
	ops := []op{
		{"ClaimKey", func(s *awsstate.Store) error {
			_, claimed, err := s.ClaimKey(ctx, state.Key{User: "u", Key: "k-new", Owner: "r1"})
			if claimed && err == nil {
				return nil
			}
			if claimed {
				t.Errorf("ClaimKey answered claimed with an error: %v", err)
			}
			if err == nil {
				return errors.New("claimed false without an error: lost to whom?")
			}
			return err
		}, func(t *testing.T) {
			if _, err := setup.GetKey(ctx, "u", "k-new"); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("the failed claim left a key: %v", err)
			}
		}},
		{"FinishKey", func(s *awsstate.Store) error {
			return s.FinishKey(ctx, state.Key{User: "u", Key: "k-finish", Owner: "r1", State: state.KeyDone, Answer: []byte("a")})
		}, func(t *testing.T) {
			if k, err := setup.GetKey(ctx, "u", "k-finish"); err != nil || k.State != state.KeyInFlight {
				t.Errorf("after the failed finish: %+v, %v; want in flight", k, err)
			}
		}},
		{"Append", func(s *awsstate.Store) error {
			return s.Append(ctx, "j", state.Entry{Run: 1, Seq: 1, Body: []byte("e")})
		}, func(t *testing.T) {
			if j, err := setup.Journal(ctx, "j"); err != nil || len(j) != 0 {
				t.Errorf("after the failed append: %d entries, %v", len(j), err)
			}
		}},
		{"UpdateJob", func(s *awsstate.Store) error {
			u := held
			u.Body = []byte("v2")
			_, err := s.UpdateJob(ctx, u)
			return err
		}, func(t *testing.T) {
			if j, err := setup.Job(ctx, "j"); err != nil || j.Counter != held.Counter || string(j.Body) != "v1" {
				t.Errorf("after the failed update: %+v, %v", j, err)
			}
		}},
		{"TakeJob", func(s *awsstate.Store) error {
			_, err := s.TakeJob(ctx, held, "r2")
			return err
		}, func(t *testing.T) {
			if j, err := setup.Job(ctx, "j"); err != nil || j.Owner != "r1" || j.Run != held.Run {
				t.Errorf("after the failed take: %+v, %v", j, err)
			}
		}},
		{"SaveFile", func(s *awsstate.Store) error {
			path := statetest.TempPath(t, s, "input")
			if err := os.WriteFile(path, []byte("records"), 0o600); err != nil {
				t.Fatal(err)
			}
			return s.SaveFile(ctx, "j", "input", path)
		}, func(t *testing.T) {
			if _, err := setup.OpenBlob(ctx, "j", "input"); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("the failed save left a blob: %v", err)
			}
		}},
	}
	faults := []struct {
		fault statetest.Fault
		match func(string) bool
		// retried: every attempt reached the proxy (the SDK retries these).
		retried bool
	}{
		{statetest.ServerError, nil, true},
		{statetest.Throttling, nil, true},
		{statetest.ThroughputExceeded, nil, true},
		{statetest.Drop, nil, false},
		{statetest.ServerError, statetest.IsS3, true}, // SaveFile's upload fails after its record
		{statetest.Hang, nil, false},
	}
	for _, f := range faults {
		for _, o := range ops {
			name := o.name + "/" + f.fault.String()
			if f.match != nil {
				if o.name != "SaveFile" {
					continue
				}
				name += " on S3"
			}
			t.Run(name, func(t *testing.T) {
				timeout := 10 * time.Second
				if f.fault == statetest.Hang {
					timeout = 500 * time.Millisecond
				}
				s := rig.store(timeout)
				rig.proxy.Set(f.fault, f.match, -1)
				start := time.Now()
				err := o.do(s)
				took := time.Since(start)
				n := rig.proxy.Faulted()
				rig.proxy.Set(statetest.Pass, nil, -1)
				if err == nil {
					t.Fatalf("%s succeeded through %s", o.name, f.fault)
				}
				if errors.Is(err, state.ErrConflict) || errors.Is(err, state.ErrNotFound) {
					t.Errorf("%s through %s = %v: a store fault taken for an answer", o.name, f.fault, err)
				}
				if n < 1 || n > attempts || (f.retried && n != attempts) {
					t.Errorf("%s through %s: %d attempts, want %s %d", o.name, f.fault, n, map[bool]string{true: "exactly", false: "1 to"}[f.retried], attempts)
				}
				if limit := timeout + 2*time.Second; took > limit {
					t.Errorf("%s through %s took %v, want under %v", o.name, f.fault, took, limit)
				}
				o.untouched(t)
			})
		}
	}
}

// TestLostAnswerIsSafe: a write that landed but whose answer was lost is
// retried by the SDK; the retry's condition fails on the write's own
// result, and the caller is told the safe thing (not claimed, not taken),
// never that a write happened that did not.
func TestLostAnswerIsSafe(t *testing.T) {
	rig := newFaultRig(t)
	ctx := t.Context()
	s := rig.store(10 * time.Second)
	only := func(op string) func(string) bool { return func(o string) bool { return o == op } }

	rig.proxy.Set(statetest.DropAfterForward, only("PutItem"), 1)
	k, claimed, err := s.ClaimKey(ctx, state.Key{User: "u", Key: "k", Owner: "r1"})
	if err != nil || claimed || k.Owner != "r1" || k.State != state.KeyInFlight {
		t.Fatalf("ClaimKey whose answer was lost = %+v, %v, %v; want not claimed, the in-flight record", k, claimed, err)
	}
	if rig.proxy.Faulted() != 1 {
		t.Fatalf("%d answers dropped, want 1", rig.proxy.Faulted())
	}

	if err := rig.direct.CreateJob(ctx, state.Job{ID: "j"}); err != nil {
		t.Fatal(err)
	}
	seen, _ := rig.direct.Job(ctx, "j")
	rig.proxy.Set(statetest.DropAfterForward, only("UpdateItem"), 1)
	if _, err := s.TakeJob(ctx, seen, "r1"); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("TakeJob whose answer was lost = %v, want ErrConflict", err)
	}
	// Every matching request dropped: an error, though the write landed.
	rig.proxy.Set(statetest.DropAfterForward, only("PutItem"), -1)
	if _, claimed, err := s.ClaimKey(ctx, state.Key{User: "u", Key: "k2", Owner: "r1"}); err == nil || claimed {
		t.Fatalf("ClaimKey with every answer lost = %v, %v; want an error", claimed, err)
	}
	rig.proxy.Set(statetest.Pass, nil, -1)
}

// TestSecretAnswerLost: a secret whose PutItem landed but whose answer was
// lost is the stored one, never the bytes the caller made and may not have
// stored; and with every read failing, Secret fails rather than make one.
func TestSecretAnswerLost(t *testing.T) {
	rig := newFaultRig(t)
	ctx := t.Context()
	s := rig.store(10 * time.Second)
	only := func(op string) func(string) bool { return func(o string) bool { return o == op } }

	rig.proxy.Set(statetest.DropAfterForward, only("PutItem"), 1)
	got, err := s.Secret(ctx, "readback-hmac", 32)
	if err != nil {
		t.Fatalf("Secret whose put's answer was lost: %v", err)
	}
	if rig.proxy.Faulted() != 1 {
		t.Fatalf("%d answers dropped, want 1", rig.proxy.Faulted())
	}
	stored, err := rig.direct.Secret(ctx, "readback-hmac", 32)
	if err != nil || !bytes.Equal(got, stored) {
		t.Fatalf("Secret answered %x, the table holds %x (%v)", got, stored, err)
	}

	rig.proxy.Set(statetest.Throttling, only("GetItem"), -1)
	if b, err := s.Secret(ctx, "another", 32); err == nil {
		t.Fatalf("Secret with every read throttled = %x, want an error", b)
	}
	rig.proxy.Set(statetest.Pass, nil, -1)
}
