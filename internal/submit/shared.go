package submit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

// ErrUnavailable: the shared store of keys did not answer (unreachable,
// throttled, broken), so the submission could not be recorded and must not
// be sent: without its key, a repeat at another replica would write again.
var ErrUnavailable = errors.New("submit: the store of submission keys did not answer")

// Shared is the store of keys the console's replicas share: the same key
// sent to replica A, then to B, does its work once, and B answers with A's
// answer. Answers travel through it as JSON, so V must survive
// encoding/json.
type Shared struct {
	Keys state.Keys
	// Replica is this process's id: the owner of the keys it claims.
	Replica string
	// Poll is how often a repeat reads a key another replica has in
	// flight, until it is done; default 200 ms.
	Poll time.Duration
	// InFlightFor bounds how long a repeat waits for a key in flight at
	// another replica, by its own clock and by the key's age: the first
	// submission's work (a put and its retries) ends well within it, so a
	// key in flight longer was left by a replica that died or could not
	// record its answer. The repeat then answers ErrLost, never doing the
	// work again. Default 1 minute.
	InFlightFor time.Duration
	// Timeout bounds one call to the store; default 5 s.
	Timeout time.Duration
}

func (sh Shared) withDefaults() Shared {
	if sh.Poll <= 0 {
		sh.Poll = 200 * time.Millisecond
	}
	if sh.InFlightFor <= 0 {
		sh.InFlightFor = time.Minute
	}
	if sh.Timeout <= 0 {
		sh.Timeout = 5 * time.Second
	}
	return sh
}

// NewSharedStore returns a store that coordinates a key's submissions in
// this process as NewStore's does, and then across replicas through
// sh.Keys. Every first submission claims its key there before its work,
// and fails closed (ErrUnavailable) when the claim cannot be recorded.
func NewSharedStore[V any](lim Limits, sh Shared) *Store[V] {
	s := NewStore[V](lim)
	sh = sh.withDefaults()
	s.shared = &sh
	return s
}

// claimShared makes the local claim c a claim of the shared key too, or
// answers the submission with what the shared key says. Unless c is
// returned, it has ended.
func (s *Store[V]) claimShared(ctx context.Context, c *Claim[V]) (*Claim[V], Answer[V], error) {
	sh := s.shared
	sl, fp := c.e.slot, c.e.fingerprint
	waitedFrom := s.lim.Now()
	for {
		k := state.Key{User: sl.user, Key: sl.key, Fingerprint: fp, State: state.KeyInFlight, Owner: sh.Replica,
			Expires: s.lim.Now().Add(s.lim.TTL)}
		cctx, cancel := context.WithTimeout(ctx, sh.Timeout)
		existing, claimed, err := sh.Keys.ClaimKey(cctx, k)
		cancel()
		if err != nil {
			c.end(canceled)
			return nil, Answer[V]{}, fmt.Errorf("%w: claim: %w", ErrUnavailable, err)
		}
		if claimed {
			c.ctx, c.shared = context.WithoutCancel(ctx), true
			return c, Answer[V]{}, nil
		}
		if existing.Fingerprint == fp && existing.State == state.KeyInFlight {
			existing, err = s.waitShared(ctx, existing, waitedFrom)
			if errors.Is(err, state.ErrNotFound) {
				continue // released: the first sent nothing, so this is a first
			}
			if err != nil {
				c.end(canceled) // the shared key stays the truth for the next repeat
				return nil, Answer[V]{}, err
			}
		}
		switch {
		case existing.Fingerprint != fp:
			c.end(canceled)
			return nil, Answer[V]{}, ErrConflict
		case existing.State != state.KeyDone:
			c.end(lost)
			return nil, Answer[V]{}, ErrLost
		}
		var v V
		if err := json.Unmarshal(existing.Answer, &v); err != nil {
			c.end(canceled)
			return nil, Answer[V]{}, fmt.Errorf("%w (its answer does not decode: %w)", ErrLost, err)
		}
		// Kept here too, so that this replica's next repeats answer at once.
		c.finishLocal(v, int64(len(existing.Answer)))
		return nil, s.repeat(c.e), nil
	}
}

// waitShared polls a key in flight at another replica until it is done or
// lost. It gives up with ErrLost once the key has been in flight for
// InFlightFor, by its age or by this replica's own wait since waitedFrom;
// state.ErrNotFound means the key was released.
func (s *Store[V]) waitShared(ctx context.Context, k state.Key, waitedFrom time.Time) (state.Key, error) {
	sh := s.shared
	t := time.NewTimer(sh.Poll)
	defer t.Stop()
	for k.State == state.KeyInFlight {
		now := s.lim.Now()
		old := !k.Expires.IsZero() && now.Sub(k.Expires.Add(-s.lim.TTL)) >= sh.InFlightFor
		if old || now.Sub(waitedFrom) >= sh.InFlightFor {
			return k, fmt.Errorf("%w (in flight at replica %s for longer than %s)", ErrLost, k.Owner, sh.InFlightFor)
		}
		t.Reset(sh.Poll)
		select {
		case <-ctx.Done():
			return k, ctx.Err()
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, sh.Timeout)
		next, err := sh.Keys.GetKey(cctx, k.User, k.Key)
		cancel()
		if errors.Is(err, state.ErrNotFound) {
			return k, err
		}
		if err != nil {
			return k, fmt.Errorf("%w: read: %w", ErrUnavailable, err)
		}
		k = next
	}
	return k, nil
}

// repeat counts one more repeat of a finished entry and returns its answer.
func (s *Store[V]) repeat(e *entry[V]) Answer[V] {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.repeats++
	return Answer[V]{Value: e.answer, Repeats: e.repeats}
}

// lookupShared reads a finished key's answer from the shared store. A key
// of another shape than NewKey's is never asked for: it names nothing, and
// the store's calls are not a visitor's to spend on made-up names.
func (s *Store[V]) lookupShared(ctx context.Context, user, key string) (Answer[V], bool) {
	if !ValidKey(key) {
		return Answer[V]{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, s.shared.Timeout)
	defer cancel()
	k, err := s.shared.Keys.GetKey(ctx, user, key)
	if err != nil || k.State != state.KeyDone {
		return Answer[V]{}, false
	}
	var v V
	if json.Unmarshal(k.Answer, &v) != nil {
		return Answer[V]{}, false
	}
	return Answer[V]{Value: v}, true
}

// endShared records a claimed key's end in the shared store: done with its
// answer, lost (answer nil), or released (st "").
func (c *Claim[V]) endShared(st state.KeyState, answer *V) error {
	sh, sl := c.s.shared, c.e.slot
	ctx, cancel := context.WithTimeout(c.ctx, sh.Timeout)
	defer cancel()
	if st == "" {
		if err := sh.Keys.ReleaseKey(ctx, sl.user, sl.key, sh.Replica); err != nil {
			return fmt.Errorf("submit: release key: %w", err)
		}
		return nil
	}
	k := state.Key{User: sl.user, Key: sl.key, Fingerprint: c.e.fingerprint, State: st, Owner: sh.Replica,
		Expires: c.s.lim.Now().Add(c.s.lim.TTL)}
	var encErr error
	if answer != nil {
		if k.Answer, encErr = json.Marshal(*answer); encErr != nil {
			// A repeat cannot be told the answer, and must not write.
			k.State, k.Answer = state.KeyLost, nil
			encErr = fmt.Errorf("submit: the answer does not encode, so its key is recorded lost: %w", encErr)
		}
	}
	if err := sh.Keys.FinishKey(ctx, k); err != nil {
		return errors.Join(encErr, fmt.Errorf("submit: finish key as %s: %w", k.State, err))
	}
	return encErr
}
