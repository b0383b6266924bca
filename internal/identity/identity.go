// Package identity answers "who is the console writing as?" with STS
// GetCallerIdentity, cached briefly and bounded by a short timeout so a slow or
// broken STS never holds up a page.
package identity

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// STSAPI is the part of *sts.Client the resolver calls.
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

var _ STSAPI = (*sts.Client)(nil)

// Caller is the AWS identity the console acts as. When STS could not say,
// Err holds the reason and the other fields are empty.
type Caller struct {
	Account string
	ARN     string
	UserID  string
	Err     string
	Fetched time.Time
}

// OK reports whether the identity is known.
func (c Caller) OK() bool { return c.Err == "" }

// Options tune a Resolver; zero values give the defaults.
type Options struct {
	TTL        time.Duration // how long a known identity is reused; default 5m
	FailureTTL time.Duration // how long a failure is reused; default 15s
	Timeout    time.Duration // bound on one STS call; default 3s
	Now        func() time.Time
}

// Resolver caches the caller identity.
type Resolver struct {
	api  STSAPI
	opts Options

	mu     sync.Mutex
	cached Caller
	valid  time.Time // cached is good until then
}

// NewResolver builds a Resolver over an STS client.
func NewResolver(api STSAPI, opts Options) *Resolver {
	if opts.TTL <= 0 {
		opts.TTL = 5 * time.Minute
	}
	if opts.FailureTTL <= 0 {
		opts.FailureTTL = 15 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Resolver{api: api, opts: opts}
}

// Caller returns the cached identity, asking STS when the cache is stale.
// Concurrent callers share one STS call.
func (r *Resolver) Caller(ctx context.Context) Caller {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	if now.Before(r.valid) {
		return r.cached
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.Timeout)
	defer cancel()
	out, err := r.api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		r.cached = Caller{Err: describe(err), Fetched: now}
		r.valid = now.Add(r.opts.FailureTTL)
		return r.cached
	}
	r.cached = Caller{
		Account: aws.ToString(out.Account),
		ARN:     aws.ToString(out.Arn),
		UserID:  aws.ToString(out.UserId),
		Fetched: now,
	}
	r.valid = now.Add(r.opts.TTL)
	return r.cached
}

// Forget drops the cached identity, so the next call asks STS again.
func (r *Resolver) Forget() {
	r.mu.Lock()
	r.valid = time.Time{}
	r.mu.Unlock()
}
