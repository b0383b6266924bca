package identity_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kinesis-console/kinesis-console/internal/identity"
)

// stsFunc is a fake STS: the function answers GetCallerIdentity.
type stsFunc func(ctx context.Context) (*sts.GetCallerIdentityOutput, error)

func (f stsFunc) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return f(ctx)
}

var _ identity.STSAPI = stsFunc(nil)

// clock is a settable time source for Options.Now.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }
func newClock() *clock                   { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func callerOutput(n int32) *sts.GetCallerIdentityOutput {
	return &sts.GetCallerIdentityOutput{
		Account: aws.String("123456789012"),
		Arn:     aws.String(fmt.Sprintf("arn:aws:iam::123456789012:user/u%d", n)),
		UserId:  aws.String("AIDAEXAMPLE"),
	}
}

func TestCallerCachesForTTL(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts identity.Options
		ttl  time.Duration
	}{
		{"default TTL", identity.Options{}, 5 * time.Minute},
		{"TTL set", identity.Options{TTL: time.Minute}, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			var calls atomic.Int32
			tc.opts.Now = clk.Now
			r := identity.NewResolver(stsFunc(func(context.Context) (*sts.GetCallerIdentityOutput, error) {
				return callerOutput(calls.Add(1)), nil
			}), tc.opts)

			first := r.Caller(t.Context())
			if !first.OK() || first.Account != "123456789012" || first.ARN != "arn:aws:iam::123456789012:user/u1" || first.UserID != "AIDAEXAMPLE" {
				t.Fatalf("first Caller = %+v", first)
			}
			if !first.Fetched.Equal(clk.Now()) {
				t.Errorf("Fetched = %s, want %s", first.Fetched, clk.Now())
			}
			clk.Advance(tc.ttl - time.Nanosecond)
			if got := r.Caller(t.Context()); got != first || calls.Load() != 1 {
				t.Errorf("just before the TTL: %+v after %d calls, want the cached %+v after 1", got, calls.Load(), first)
			}
			clk.Advance(time.Nanosecond)
			if got := r.Caller(t.Context()); got.ARN != "arn:aws:iam::123456789012:user/u2" || calls.Load() != 2 {
				t.Errorf("at the TTL: %+v after %d calls, want a fresh identity after 2", got, calls.Load())
			}
		})
	}
}

func TestCallerCachesFailureForFailureTTL(t *testing.T) {
	clk := newClock()
	var calls atomic.Int32
	r := identity.NewResolver(stsFunc(func(context.Context) (*sts.GetCallerIdentityOutput, error) {
		if calls.Add(1) == 1 {
			return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
		}
		return callerOutput(2), nil
	}), identity.Options{TTL: time.Hour, FailureTTL: 10 * time.Second, Now: clk.Now})

	failed := r.Caller(t.Context())
	if failed.OK() || failed.Err == "" || failed.Account != "" || failed.ARN != "" {
		t.Fatalf("failed Caller = %+v, want only Err", failed)
	}
	clk.Advance(10*time.Second - time.Nanosecond)
	if got := r.Caller(t.Context()); got != failed || calls.Load() != 1 {
		t.Errorf("within FailureTTL: %+v after %d calls, want the cached failure after 1", got, calls.Load())
	}
	clk.Advance(time.Nanosecond)
	if got := r.Caller(t.Context()); !got.OK() || calls.Load() != 2 {
		t.Errorf("after FailureTTL: %+v after %d calls, want success after 2", got, calls.Load())
	}
}

func TestForget(t *testing.T) {
	var calls atomic.Int32
	r := identity.NewResolver(stsFunc(func(context.Context) (*sts.GetCallerIdentityOutput, error) {
		return callerOutput(calls.Add(1)), nil
	}), identity.Options{Now: newClock().Now})
	r.Caller(t.Context())
	r.Caller(t.Context())
	r.Forget()
	if got := r.Caller(t.Context()); calls.Load() != 2 || got.ARN != "arn:aws:iam::123456789012:user/u2" {
		t.Errorf("after Forget: %+v after %d calls, want a fresh identity after 2", got, calls.Load())
	}
}

// Callers that arrive while STS is being asked wait for that one answer.
func TestConcurrentCallersShareOneCall(t *testing.T) {
	var calls atomic.Int32
	entered := make(chan struct{})
	release := make(chan struct{})
	r := identity.NewResolver(stsFunc(func(context.Context) (*sts.GetCallerIdentityOutput, error) {
		if calls.Add(1) == 1 {
			close(entered)
		}
		<-release
		return callerOutput(calls.Load()), nil
	}), identity.Options{Now: newClock().Now})

	var wg sync.WaitGroup
	results := make([]identity.Caller, 8)
	for i := range results {
		wg.Go(func() { results[i] = r.Caller(t.Context()) })
	}
	<-entered
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("%d STS calls for %d concurrent callers, want 1", calls.Load(), len(results))
	}
	for i, got := range results {
		if got != results[0] || !got.OK() {
			t.Errorf("caller %d got %+v, want %+v", i, got, results[0])
		}
	}
}

// One STS call is bounded by Options.Timeout, and not by the page's request:
// a canceled request still fills the cache for the next one.
func TestCallerTimeout(t *testing.T) {
	var sawCanceled atomic.Bool
	r := identity.NewResolver(stsFunc(func(ctx context.Context) (*sts.GetCallerIdentityOutput, error) {
		sawCanceled.Store(ctx.Err() != nil)
		<-ctx.Done()
		return nil, fmt.Errorf("operation error STS: GetCallerIdentity: %w", ctx.Err())
	}), identity.Options{Timeout: 30 * time.Millisecond})

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	got := r.Caller(ctx)
	if elapsed := time.Since(start); elapsed < 30*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("Caller returned after %s, want about the 30ms timeout", elapsed)
	}
	if sawCanceled.Load() {
		t.Error("STS was called with the caller's canceled context")
	}
	if got.Err != "STS did not answer in time." {
		t.Errorf("Err = %q", got.Err)
	}
}

func TestFailureMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"expired", &smithy.GenericAPIError{Code: "ExpiredToken", Message: "expired"}, "The credentials have expired (ExpiredToken)."},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}, "Not allowed to call sts:GetCallerIdentity (AccessDenied)."},
		{"other API error", &smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "bad token"}, "STS refused: InvalidClientTokenId: bad token"},
		{"deadline", fmt.Errorf("wrapped: %w", context.DeadlineExceeded), "STS did not answer in time."},
		{"dns", &net.DNSError{Name: "sts.example.invalid", Err: "no such host"}, "Cannot resolve the STS endpoint's host name (sts.example.invalid)."},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}, "Cannot connect to STS (connect: connection refused)."},
		{"no credentials", errors.New("get identity: failed to retrieve credentials: no provider"), "No AWS credentials were found."},
		{"other", errors.New("boom"), "STS failed: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := identity.NewResolver(stsFunc(func(context.Context) (*sts.GetCallerIdentityOutput, error) {
				return nil, tc.err
			}), identity.Options{})
			if got := r.Caller(t.Context()); got.Err != tc.want || got.OK() {
				t.Errorf("Err = %q, want %q", got.Err, tc.want)
			}
		})
	}
}
