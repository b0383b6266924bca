package readers

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// tableScan is one look at a lease table: every lease read, with what the
// looks so far say of each counter.
type tableScan struct {
	leases    []LeaseState
	truncated bool
}

// kcl reads one lease table and keeps the leases of s.
func (f *Finder) kcl(ctx context.Context, s Stream, table string, allow func() bool) ([]Reader, []Failure) {
	scan, fail, ok := f.tables.get(table)
	if !ok {
		scan, fail = f.scan(ctx, table, allow)
		f.tables.put(table, scan, fail)
	}
	if fail != nil {
		return nil, []Failure{*fail}
	}
	var all []Lease
	byKey := map[string]LeaseState{}
	for _, l := range scan.leases {
		all = append(all, l.Lease)
		byKey[l.Key] = l
	}
	k := &KCL{Table: table, Truncated: scan.truncated}
	for _, l := range leasesOf(all, s.Name, accountOf(s.ARN)) {
		k.Leases = append(k.Leases, byKey[l.Key])
	}
	return []Reader{{Kind: KindKCL, Name: table, KCL: k}}, nil
}

// scan reads a lease table in pages, at most MaxLeases leases in MaxPages
// pages, each page paid from allow.
func (f *Finder) scan(ctx context.Context, table string, allow func() bool) (tableScan, *Failure) {
	var out tableScan
	what := "Lease table " + table
	proj, names := projection()
	in := &dynamodb.ScanInput{TableName: aws.String(table), ProjectionExpression: aws.String(proj), ExpressionAttributeNames: names}
	for page := 0; ; page++ {
		if page == f.opts.MaxPages || len(out.leases) >= f.opts.MaxLeases {
			out.truncated = true
			break
		}
		if !allow() {
			fail := failureOf(KindKCL, table, "Scan", ErrLimited, what)
			return out, &fail
		}
		in.Limit = aws.Int32(int32(min(f.opts.MaxLeases-len(out.leases), 1000)))
		callCtx, cancel := context.WithTimeout(ctx, f.opts.CallTimeout)
		res, err := f.c.DynamoDB.Scan(callCtx, in)
		cancel()
		if err != nil {
			fail := failureOf(KindKCL, table, "Scan", err, what)
			return out, &fail
		}
		now := time.Now()
		for _, item := range res.Items {
			l, ok := parseLease(item)
			if !ok {
				continue
			}
			since := f.counters.look(table+"\x00"+l.Key, l.Counter, now)
			finished := l.Checkpoint.Sequence == ShardEnd
			out.leases = append(out.leases, LeaseState{
				Lease: l, NoOwner: l.Owner == "" && !finished, CounterSince: since,
				Stale: !finished && l.Owner != "" && now.Sub(since) >= f.opts.StaleAfter,
			})
		}
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	slices.SortFunc(out.leases, func(a, b LeaseState) int {
		if c := strings.Compare(a.StreamID, b.StreamID); c != 0 {
			return c
		}
		return strings.Compare(a.ShardID, b.ShardID)
	})
	return out, nil
}

// projection names the lease attributes to read, through placeholders
// (some, like checkpoint, are not reserved words today, but may become so).
func projection() (string, map[string]string) {
	names := map[string]string{}
	var parts []string
	for i, a := range leaseAttributes {
		p := "#a" + string(rune('a'+i))
		names[p] = a
		parts = append(parts, p)
	}
	return strings.Join(parts, ","), names
}

// accountOf is the account in a stream ARN, "" when there is none.
func accountOf(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}
