package schema_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/kinesis-console/kinesis-console/internal/schema"
)

// glueFunc is a fake Glue: one function answers every call.
type glueFunc func(*glue.GetSchemaVersionInput) (*glue.GetSchemaVersionOutput, error)

func (f glueFunc) GetSchemaVersion(_ context.Context, in *glue.GetSchemaVersionInput, _ ...func(*glue.Options)) (*glue.GetSchemaVersionOutput, error) {
	return f(in)
}

func TestRegistryCaches(t *testing.T) {
	calls := 0
	var asked []*types.SchemaVersionNumber
	fake := glueFunc(func(in *glue.GetSchemaVersionInput) (*glue.GetSchemaVersionOutput, error) {
		calls++
		asked = append(asked, in.SchemaVersionNumber)
		if aws.ToString(in.SchemaId.SchemaName) == "missing" {
			return nil, &types.EntityNotFoundException{Message: aws.String("no such schema")}
		}
		return &glue.GetSchemaVersionOutput{SchemaVersionId: aws.String(versionID), VersionNumber: aws.Int64(2),
			DataFormat: types.DataFormatJson, SchemaDefinition: aws.String(`{"type": "object"}`), Status: types.SchemaVersionStatusAvailable}, nil
	})
	now := time.Unix(1000, 0)
	reg := schema.NewRegistry(fake, schema.Options{TTL: time.Minute, MaxEntries: 2, Now: func() time.Time { return now }})
	ctx := context.Background()
	latest := schema.Ref{Registry: "r", Schema: "s"}

	s, err := reg.Get(ctx, latest)
	if err != nil || s.VersionID != versionID || s.VersionNumber != 2 {
		t.Fatalf("%+v %v", s, err)
	}
	if !asked[0].LatestVersion || asked[0].VersionNumber != nil {
		t.Fatalf("latest asked as %+v", asked[0])
	}
	if _, err := reg.Get(ctx, latest); err != nil || calls != 1 {
		t.Fatalf("a fresh entry was fetched again: calls=%d", calls)
	}
	now = now.Add(time.Minute)
	if _, err := reg.Get(ctx, latest); err != nil || calls != 2 {
		t.Fatalf("an expired entry was reused: calls=%d", calls)
	}
	if _, err := reg.Get(ctx, schema.Ref{Registry: "r", Schema: "s", Version: 3}); err != nil {
		t.Fatal(err)
	}
	if v := asked[2]; v.LatestVersion || aws.ToInt64(v.VersionNumber) != 3 {
		t.Fatalf("version 3 asked as %+v", v)
	}

	// A third entry in a cache of two: the cache stays bounded, and still answers.
	if _, err := reg.Get(ctx, schema.Ref{Registry: "r", Schema: "t"}); err != nil {
		t.Fatal(err)
	}
	before := calls
	if _, err := reg.Get(ctx, schema.Ref{Registry: "r", Schema: "t"}); err != nil || calls != before {
		t.Fatalf("the newest entry was not kept: calls %d -> %d", before, calls)
	}

	// Not found is said as such, and not cached.
	for range 2 {
		_, err = reg.Get(ctx, schema.Ref{Registry: "r", Schema: "missing"})
		if !errors.Is(err, schema.ErrNotFound) {
			t.Fatalf("want ErrNotFound, got %v", err)
		}
	}
	if calls != before+2 {
		t.Fatalf("an error was cached: calls %d -> %d", before, calls)
	}
}

func TestRegistryRefusesUnavailableVersions(t *testing.T) {
	fake := glueFunc(func(*glue.GetSchemaVersionInput) (*glue.GetSchemaVersionOutput, error) {
		return &glue.GetSchemaVersionOutput{SchemaVersionId: aws.String(versionID), DataFormat: types.DataFormatJson,
			SchemaDefinition: aws.String(`{}`), Status: types.SchemaVersionStatusDeleting}, nil
	})
	if _, err := schema.NewRegistry(fake, schema.Options{}).Get(context.Background(), schema.Ref{Registry: "r", Schema: "s"}); err == nil {
		t.Fatal("a version being deleted was used")
	}
}

// A Registry with zero Options keeps a schema version for a minute and up
// to 256 of them.
func TestRegistryDefaults(t *testing.T) {
	calls := 0
	fake := glueFunc(func(*glue.GetSchemaVersionInput) (*glue.GetSchemaVersionOutput, error) {
		calls++
		return &glue.GetSchemaVersionOutput{SchemaVersionId: aws.String(versionID), DataFormat: types.DataFormatJson,
			SchemaDefinition: aws.String(`{}`), Status: types.SchemaVersionStatusAvailable}, nil
	})
	now := time.Unix(1000, 0)
	reg := schema.NewRegistry(fake, schema.Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	get := func(i int) {
		t.Helper()
		if _, err := reg.Get(ctx, schema.Ref{Registry: "r", Schema: fmt.Sprint("s", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 256 {
		get(i)
	}
	now = now.Add(time.Minute - time.Nanosecond)
	for i := range 256 {
		get(i)
	}
	if calls != 256 {
		t.Fatalf("256 versions read twice within a minute: %d calls, want 256", calls)
	}
	now = now.Add(time.Nanosecond)
	get(0)
	if calls != 257 {
		t.Fatalf("a version a minute old was reused: %d calls, want 257", calls)
	}
}

// Past MaxEntries the cache first drops what has expired, and is emptied
// only when that leaves it full.
func TestRegistryBound(t *testing.T) {
	calls := 0
	fake := glueFunc(func(*glue.GetSchemaVersionInput) (*glue.GetSchemaVersionOutput, error) {
		calls++
		return &glue.GetSchemaVersionOutput{SchemaVersionId: aws.String(versionID), DataFormat: types.DataFormatJson,
			SchemaDefinition: aws.String(`{}`), Status: types.SchemaVersionStatusAvailable}, nil
	})
	now := time.Unix(1000, 0)
	reg := schema.NewRegistry(fake, schema.Options{TTL: time.Minute, MaxEntries: 2, Now: func() time.Time { return now }})
	ctx := context.Background()
	// fetched gets a ref and says whether that called Glue.
	fetched := func(name string) bool {
		t.Helper()
		before := calls
		if _, err := reg.Get(ctx, schema.Ref{Registry: "r", Schema: name}); err != nil {
			t.Fatal(err)
		}
		return calls > before
	}
	// Full of fresh entries: a third empties the cache.
	fetched("a")
	fetched("b")
	fetched("c")
	if !fetched("a") || !fetched("b") {
		t.Fatal("a cache of 2 held 3 fresh versions")
	}
	// b expired, c fresh: a third drops only b.
	now = now.Add(30 * time.Second)
	fetched("c")
	now = now.Add(30 * time.Second)
	fetched("d")
	if fetched("c") {
		t.Fatal("a fresh version was dropped along with an expired one")
	}
}
