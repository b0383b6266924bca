package readers_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/readers/readerstest"
)

// scanFunc is a lease table: a function answering Scan.
type scanFunc func(in *dynamodb.ScanInput) (*dynamodb.ScanOutput, error)

func (f scanFunc) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return f(in)
}

// table answers Scan with leases, in pages of at most in.Limit items.
func table(leases func() []readerstest.Lease, scans *int) scanFunc {
	return func(in *dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
		*scans++
		all := leases()
		start := 0
		if k, ok := in.ExclusiveStartKey["leaseKey"].(*types.AttributeValueMemberS); ok {
			for i, l := range all {
				if l.Key() == k.Value {
					start = i + 1
				}
			}
		}
		end := min(len(all), start+int(aws.ToInt32(in.Limit)))
		out := &dynamodb.ScanOutput{}
		for _, l := range all[start:end] {
			out.Items = append(out.Items, l.Item())
		}
		if end < len(all) {
			out.LastEvaluatedKey = map[string]types.AttributeValue{"leaseKey": &types.AttributeValueMemberS{Value: all[end-1].Key()}}
		}
		return out, nil
	}
}

type failing struct{ err error }

func (f failing) Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return nil, f.err
}
func (f failing) ListStreamConsumers(context.Context, *kinesis.ListStreamConsumersInput, ...func(*kinesis.Options)) (*kinesis.ListStreamConsumersOutput, error) {
	return nil, f.err
}
func (f failing) ListEventSourceMappings(context.Context, *lambda.ListEventSourceMappingsInput, ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error) {
	return nil, f.err
}
func (f failing) ListDeliveryStreams(context.Context, *firehose.ListDeliveryStreamsInput, ...func(*firehose.Options)) (*firehose.ListDeliveryStreamsOutput, error) {
	return nil, f.err
}
func (f failing) DescribeDeliveryStream(context.Context, *firehose.DescribeDeliveryStreamInput, ...func(*firehose.Options)) (*firehose.DescribeDeliveryStreamOutput, error) {
	return nil, f.err
}

const ordersARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"

var orders = readers.Stream{Name: "orders", ARN: ordersARN, Tables: []string{"app"}}

func always() bool { return true }

// TestStaleCounter: a lease whose counter stands still across looks for
// StaleAfter is called stale; one that moves, or that is finished, is not;
// a single look never calls anything stale.
func TestStaleCounter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		counter := int64(10)
		scans := 0
		leases := func() []readerstest.Lease {
			return []readerstest.Lease{
				{ShardID: "shardId-000000000000", Checkpoint: "5", Owner: "w", Counter: 99},      // stuck
				{ShardID: "shardId-000000000001", Checkpoint: "5", Owner: "w", Counter: counter}, // renewed
				{ShardID: "shardId-000000000002", Checkpoint: readers.ShardEnd, Owner: "w", Counter: 1},
			}
		}
		f := readers.New(readers.Clients{DynamoDB: table(leases, &scans)}, readers.Options{TTL: 10 * time.Second, StaleAfter: time.Minute})
		stale := func() string {
			v := f.Find(t.Context(), orders, always)
			var s []string
			for _, l := range v.Readers[0].KCL.Leases {
				s = append(s, strconv.FormatBool(l.Stale))
			}
			return strings.Join(s, ",")
		}
		if got := stale(); got != "false,false,false" {
			t.Fatalf("first look: stale %s", got)
		}
		time.Sleep(30 * time.Second)
		counter++
		if got := stale(); got != "false,false,false" {
			t.Fatalf("after 30s: stale %s", got)
		}
		time.Sleep(31 * time.Second)
		counter++
		if got := stale(); got != "true,false,false" {
			t.Fatalf("after 61s: stale %s, want the stuck lease only", got)
		}
		if scans != 3 {
			t.Fatalf("%d scans, want 3 (one a look, past the TTL)", scans)
		}
	})
}

// TestLeaseBounds: a table read in pages stops at MaxLeases or MaxPages and
// says it was cut; every page is paid from the budget, and a refusal fails
// the source as limited.
func TestLeaseBounds(t *testing.T) {
	var many []readerstest.Lease
	for i := range 25 {
		many = append(many, readerstest.Lease{ShardID: "shardId-" + strconv.Itoa(100+i), Checkpoint: "1", Owner: "w"})
	}
	for _, tt := range []struct {
		name       string
		opts       readers.Options
		budget     int
		wantLeases int
		wantCut    bool
		wantScans  int
		wantReason readers.Reason
	}{
		{"all", readers.Options{}, 100, 25, false, 1, ""},
		{"max leases", readers.Options{MaxLeases: 10}, 100, 10, true, 1, ""},
		{"max pages", readers.Options{MaxLeases: 100, MaxPages: 2}, 100, 0, false, 0, ""},
		{"budget", readers.Options{MaxLeases: 10}, 0, 0, false, 0, readers.ReasonLimited},
	} {
		t.Run(tt.name, func(t *testing.T) {
			scans := 0
			db := table(func() []readerstest.Lease { return many }, &scans)
			if tt.name == "max pages" {
				// Pages of 10: two pages hold 20 leases.
				db = func(in *dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
					in.Limit = aws.Int32(10)
					return table(func() []readerstest.Lease { return many }, &scans)(in)
				}
				tt.wantLeases, tt.wantCut, tt.wantScans = 20, true, 2
			}
			budget := tt.budget
			f := readers.New(readers.Clients{DynamoDB: db}, tt.opts)
			v := f.Find(t.Context(), orders, func() bool { budget--; return budget >= 0 })
			if scans != tt.wantScans {
				t.Errorf("%d scans, want %d", scans, tt.wantScans)
			}
			if tt.wantReason != "" {
				if len(v.Failures) != 1 || v.Failures[0].Reason != tt.wantReason || len(v.Readers) != 0 {
					t.Fatalf("failures %+v readers %d, want one %s", v.Failures, len(v.Readers), tt.wantReason)
				}
				return
			}
			k := v.Readers[0].KCL
			if len(k.Leases) != tt.wantLeases || k.Truncated != tt.wantCut {
				t.Fatalf("%d leases, truncated %v; want %d, %v", len(k.Leases), k.Truncated, tt.wantLeases, tt.wantCut)
			}
		})
	}
}

// TestSourceFailures: each source that fails is reported, by reason, beside
// the others; none fails the answer.
func TestSourceFailures(t *testing.T) {
	for _, tt := range []struct {
		code string
		want readers.Reason
	}{
		{"AccessDeniedException", readers.ReasonAccessDenied},
		{"ResourceNotFoundException", readers.ReasonNotFound},
		{"ThrottlingException", readers.ReasonThrottled},
		{"InternalFailure", readers.ReasonFailed},
	} {
		t.Run(tt.code, func(t *testing.T) {
			bad := failing{&smithy.GenericAPIError{Code: tt.code, Message: "no"}}
			scans := 0
			good := table(func() []readerstest.Lease {
				return []readerstest.Lease{{ShardID: "shardId-000000000000", Checkpoint: "1", Owner: "w"}}
			}, &scans)
			// Every source fails but the lease table "app".
			f := readers.New(readers.Clients{DynamoDB: scanSplit{"app": good, "gone": bad}, Kinesis: bad, Lambda: bad, Firehose: bad}, readers.Options{})
			s := orders
			s.Tables = []string{"app", "gone"}
			v := f.Find(t.Context(), s, always)
			if len(v.Readers) != 1 || v.Readers[0].Name != "app" {
				t.Fatalf("readers %+v, want the lease table that answered", v.Readers)
			}
			var got []string
			for _, fl := range v.Failures {
				if fl.Reason != tt.want || fl.Message == "" {
					t.Errorf("%s %s: %s %q, want %s", fl.Source, fl.Name, fl.Reason, fl.Message, tt.want)
				}
				got = append(got, string(fl.Source)+":"+fl.Name)
			}
			if strings.Join(got, " ") != "kcl:gone efo: lambda: firehose:" {
				t.Fatalf("failed sources %q", got)
			}
		})
	}
}

// scanSplit answers each table from its own scanner.
type scanSplit map[string]readers.LeaseScanner

func (s scanSplit) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return s[aws.ToString(in.TableName)].Scan(ctx, in, o...)
}

// TestReached: the verdicts KCL's leases allow, shard by shard.
func TestReached(t *testing.T) {
	const shard0, shard1, child, grandchild = "shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000003"
	seq := "49650000000000000000000000000000000000000000000000000010"
	before := "49650000000000000000000000000000000000000000000000000009"
	after := "49650000000000000000000000000000000000000000000000000011"
	shorter := "9" // fewer digits: a smaller number, whatever its first digit
	for _, tt := range []struct {
		name   string
		leases []readerstest.Lease
		sub    int64
		want   readers.State
		shard  string // the lease that decided
	}{
		{"at the record", []readerstest.Lease{{ShardID: shard0, Checkpoint: seq}}, 0, readers.StateConsumed, shard0},
		{"past it", []readerstest.Lease{{ShardID: shard0, Checkpoint: after}}, 0, readers.StateConsumed, shard0},
		{"short of it", []readerstest.Lease{{ShardID: shard0, Checkpoint: before}}, 0, readers.StatePending, shard0},
		{"fewer digits", []readerstest.Lease{{ShardID: shard0, Checkpoint: shorter}}, 0, readers.StatePending, shard0},
		{"sub-sequence short", []readerstest.Lease{{ShardID: shard0, Checkpoint: seq, SubSequence: 2}}, 3, readers.StatePending, shard0},
		{"sub-sequence at", []readerstest.Lease{{ShardID: shard0, Checkpoint: seq, SubSequence: 3}}, 3, readers.StateConsumed, shard0},
		{"shard end", []readerstest.Lease{{ShardID: shard0, Checkpoint: readers.ShardEnd}}, 0, readers.StateConsumed, shard0},
		{"trim horizon", []readerstest.Lease{{ShardID: shard0, Checkpoint: readers.TrimHorizon}}, 0, readers.StatePending, shard0},
		{"another shard only", []readerstest.Lease{{ShardID: shard1, Checkpoint: after}}, 0, readers.StateUnknown, shard0},
		{"child started, parent lease gone", []readerstest.Lease{{ShardID: child, Checkpoint: "1", Parents: []string{shard0, shard1}}}, 0, readers.StateConsumed, child},
		{"child not started", []readerstest.Lease{{ShardID: shard0, Checkpoint: before}, {ShardID: child, Checkpoint: readers.TrimHorizon, Parents: []string{shard0}}}, 0, readers.StatePending, shard0},
		{"grandchild started", []readerstest.Lease{
			{ShardID: child, Checkpoint: readers.TrimHorizon, Parents: []string{shard0}},
			{ShardID: grandchild, Checkpoint: "1", Parents: []string{child}},
		}, 0, readers.StateConsumed, grandchild},
		{"child of another shard", []readerstest.Lease{{ShardID: shard0, Checkpoint: before}, {ShardID: child, Checkpoint: "1", Parents: []string{shard1}}}, 0, readers.StatePending, shard0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			scans := 0
			f := readers.New(readers.Clients{DynamoDB: table(func() []readerstest.Lease { return tt.leases }, &scans)}, readers.Options{})
			v := f.Find(t.Context(), orders, always)
			got := v.Reached(readers.Position{ShardID: shard0, Sequence: seq, SubSequence: tt.sub})
			if len(got) != 1 || got[0].State != tt.want || got[0].ShardID != tt.shard || got[0].Why == "" {
				t.Fatalf("verdicts %+v, want %s by %s", got, tt.want, tt.shard)
			}
		})
	}
}

// TestTables: a stream's lease tables come from the config's patterns (on
// the target too, when given) and the stream tag, each once.
func TestTables(t *testing.T) {
	apps := []readers.KCLApp{
		{Streams: []string{"orders"}, Table: "a"}, {Streams: []string{"ord*"}, Table: "b"}, {Streams: []string{"clicks"}, Table: "c"},
		{Streams: []string{"orders"}, Table: "prod-only", Targets: []string{"prod*"}},
	}
	got := readers.Tables(apps, "dev", "orders", map[string]string{readers.TableTag: " b, d ,,e"})
	if strings.Join(got, ",") != "a,b,d,e" {
		t.Fatalf("tables %q, want a,b,d,e", got)
	}
	if got := readers.Tables(apps, "prod-eu", "orders", nil); strings.Join(got, ",") != "a,b,prod-only" {
		t.Fatalf("tables on prod-eu %q, want a,b,prod-only", got)
	}
}

// TestTagsFailure: when the stream's tags could not be read, the page says
// lease tables may be missing, beside what was found.
func TestTagsFailure(t *testing.T) {
	scans := 0
	f := readers.New(readers.Clients{DynamoDB: table(func() []readerstest.Lease { return nil }, &scans)}, readers.Options{})
	s := orders
	s.TagsErr = readers.ErrLimited
	v := f.Find(t.Context(), s, always)
	if len(v.Readers) != 1 || len(v.Failures) != 1 || v.Failures[0].Reason != readers.ReasonLimited || v.Failures[0].Source != readers.KindKCL {
		t.Fatalf("readers %+v failures %+v", v.Readers, v.Failures)
	}
}
