package schema

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// Glue is the one call the registry makes; *glue.Client has it.
type Glue interface {
	GetSchemaVersion(ctx context.Context, in *glue.GetSchemaVersionInput, opts ...func(*glue.Options)) (*glue.GetSchemaVersionOutput, error)
}

var _ Glue = (*glue.Client)(nil)

// Options tune a Registry's cache.
type Options struct {
	// TTL is how long a schema version is reused; default 1 minute. A
	// numbered version never changes, but "latest" does when a version is
	// registered, and a deleted version should stop being written.
	TTL time.Duration
	// MaxEntries bounds the cache; default 256. Past it, the cache is
	// emptied: the set of schemas is small and named by the operator.
	MaxEntries int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Registry reads schema versions from Glue and keeps them briefly.
type Registry struct {
	glue Glue
	opts Options

	mu      sync.Mutex
	entries map[Ref]entry
	byID    map[string]entry // by schema version id, for frames read from a stream
}

type entry struct {
	schema  *Schema
	expires time.Time
}

// NewRegistry returns a Registry reading through client.
func NewRegistry(client Glue, opts Options) *Registry {
	if opts.TTL <= 0 {
		opts.TTL = time.Minute
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 256
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Registry{glue: client, opts: opts, entries: map[Ref]entry{}, byID: map[string]entry{}}
}

// ErrNotFound is wrapped by Get when the registry, schema or version does
// not exist.
var ErrNotFound = errors.New("schema: not found")

// Get returns the compiled schema version ref names, from the cache while
// it is fresh. Errors are not cached: the operator may be fixing them.
func (r *Registry) Get(ctx context.Context, ref Ref) (*Schema, error) {
	now := r.opts.Now()
	r.mu.Lock()
	e, ok := r.entries[ref]
	r.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.schema, nil
	}
	s, err := r.fetch(ctx, ref)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.entries) >= r.opts.MaxEntries {
		for k, old := range r.entries {
			if !now.Before(old.expires) {
				delete(r.entries, k)
			}
		}
		if len(r.entries) >= r.opts.MaxEntries {
			clear(r.entries)
		}
	}
	r.entries[ref] = entry{schema: s, expires: now.Add(r.opts.TTL)}
	return s, nil
}

func (r *Registry) fetch(ctx context.Context, ref Ref) (*Schema, error) {
	in := &glue.GetSchemaVersionInput{
		SchemaId:            &types.SchemaId{RegistryName: aws.String(ref.Registry), SchemaName: aws.String(ref.Schema)},
		SchemaVersionNumber: &types.SchemaVersionNumber{LatestVersion: true},
	}
	if ref.Version > 0 {
		in.SchemaVersionNumber = &types.SchemaVersionNumber{VersionNumber: aws.Int64(ref.Version)}
	}
	out, err := r.glue.GetSchemaVersion(ctx, in)
	if err != nil {
		var nf *types.EntityNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("schema: %s: %w (%s)", ref, ErrNotFound, aws.ToString(nf.Message))
		}
		return nil, fmt.Errorf("schema: read %s from Glue: %w", ref, err)
	}
	if out.Status != "" && out.Status != types.SchemaVersionStatusAvailable {
		return nil, fmt.Errorf("schema: %s is %s, not AVAILABLE", ref, out.Status)
	}
	return Compile(ref, aws.ToString(out.SchemaVersionId), aws.ToInt64(out.VersionNumber),
		Format(out.DataFormat), aws.ToString(out.SchemaDefinition))
}

// ErrLookUpRefused is returned by VersionByID when its allow said no.
var ErrLookUpRefused = errors.New("schema: look-up refused by the caller's budget")

// VersionByID returns the compiled schema version with the id a frame
// read from a stream names, from the cache while it is fresh. allow, when
// set, is asked before each call to Glue; a refusal is ErrLookUpRefused.
// The version's Ref names its registry, schema and number.
func (r *Registry) VersionByID(ctx context.Context, versionID string, allow func() bool) (*Schema, error) {
	now := r.opts.Now()
	r.mu.Lock()
	e, ok := r.byID[versionID]
	r.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.schema, nil
	}
	if allow != nil && !allow() {
		return nil, ErrLookUpRefused
	}
	out, err := r.glue.GetSchemaVersion(ctx, &glue.GetSchemaVersionInput{SchemaVersionId: aws.String(versionID)})
	if err != nil {
		var nf *types.EntityNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("schema: version id %s: %w (%s)", versionID, ErrNotFound, aws.ToString(nf.Message))
		}
		return nil, fmt.Errorf("schema: read version id %s from Glue: %w", versionID, err)
	}
	ref := Ref{Version: aws.ToInt64(out.VersionNumber)}
	if arn := aws.ToString(out.SchemaArn); arn != "" {
		// arn:aws:glue:region:account:schema/registry/schema
		if i := strings.Index(arn, ":schema/"); i >= 0 {
			if reg, name, found := strings.Cut(arn[i+len(":schema/"):], "/"); found {
				ref.Registry, ref.Schema = reg, name
			}
		}
	}
	s, err := Compile(ref, aws.ToString(out.SchemaVersionId), ref.Version, Format(out.DataFormat), aws.ToString(out.SchemaDefinition))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.byID) >= r.opts.MaxEntries {
		clear(r.byID)
	}
	r.byID[versionID] = entry{schema: s, expires: now.Add(r.opts.TTL)}
	return s, nil
}
