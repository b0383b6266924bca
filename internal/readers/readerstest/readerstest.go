// Package readerstest writes KCL lease tables for tests, item for item as
// KCL itself writes them (through internal/kcllease, which the demo's
// consumer writes with too), so the console's reading of them is checked
// against KCL's format rather than against its own idea of it.
package readerstest

import (
	"context"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/kcllease"
)

// Lease is a lease as a KCL worker writes it.
type Lease = kcllease.Lease

// Table is the part of *dynamodb.Client the helpers call.
type Table = kcllease.Table

// CreateLeaseTable creates a lease table keyed as KCL keys it.
func CreateLeaseTable(t testing.TB, db Table, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kcllease.CreateTable(ctx, db, name); err != nil {
		t.Fatal(err)
	}
}

// PutLeases writes leases into a table, each as one PutItem, as KCL's
// createLeaseIfNotExists and updateLease leave them.
func PutLeases(t testing.TB, db Table, table string, leases ...Lease) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, l := range leases {
		if err := kcllease.Put(ctx, db, table, l); err != nil {
			t.Fatal(err)
		}
	}
}
