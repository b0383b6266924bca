// Package awsstate is the state.Store for a console's replicas behind a
// load balancer: one DynamoDB table holds the job records and their leases,
// the journals, the submission keys and the replicas' heartbeats; one S3
// bucket holds the jobs' blobs and the submission answers too large for an
// item. Every decision two replicas could race on is one conditional write,
// and every read that decides anything is strongly consistent.
//
// # Table
//
// Partition key pk (String), sort key sk (String), on-demand capacity
// (PAY_PER_REQUEST), Time to Live on the attribute expires (Number, epoch
// seconds). Items:
//
//	pk                    sk                      attributes
//	jobs                  <job id>                user, created, until, done, body (B), owner, run, counter, blobs (SS), expires
//	journal#<job id>      <run:10>#<seq:20>       body (B)
//	key#<hex sha256(user)> <submission key>       user, fingerprint, state, owner, answer (B) or answer_s3, until, expires
//	replicas              <replica id>            until, expires
//	secret                <name>                  value (B); no until, no TTL: kept for ever
//
// until (Number, Unix nanoseconds) is when an item stops counting, exactly;
// reads and conditions judge by it, so an expired item that DynamoDB's TTL
// has not deleted yet (that can take days) is already absent. expires is
// the TTL: until rounded up to the second, plus a day on job records, so
// that ListJobs sees an expired job and deletes its journal and blobs
// before DynamoDB forgets the record. Journal items carry no TTL: a job's
// journal goes with the job (DeleteJob, or ListJobs' sweep).
//
// A secret item (the read-back tokens' HMAC key) is readable by anyone with
// the table's GetItem, as the submission answers in it are: the table is
// the console's alone, and IAM on it is what protects them.
//
// # Bucket
//
//	jobs/<job id>/<blob name>         a job's blobs (its checked input, its report)
//	keys/<hex sha256(user)>/<random>  a submission's answer over 300 KB
//
// Give the bucket a lifecycle rule that expires keys/ a day after the
// longest submission-key lifetime (an answer whose key was forgotten by the
// TTL is not deleted otherwise), and jobs/ after the longest job lifetime,
// as a backstop.
//
// # IAM
//
// The console's role needs, on the table (arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE):
// dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem,
// dynamodb:DeleteItem, dynamodb:Query, dynamodb:BatchWriteItem; and on the
// bucket's objects (arn:aws:s3:::BUCKET/*): s3:PutObject, s3:GetObject,
// s3:DeleteObject. No ListBucket: a job record names its blobs. (The test
// and demo helpers CreateTable and CreateBucket need dynamodb:CreateTable,
// DescribeTable, UpdateTimeToLive and s3:CreateBucket; production creates
// both with infrastructure as code.)
//
// # Failures
//
// Calls are retried by the SDK a bounded number of times (Options.MaxAttempts)
// within a per-call deadline (Options.CallTimeout); then the error is
// returned and the caller must act as if the write did not happen. A write
// whose answer was lost and whose retry then fails its condition (a claim,
// a take-over) reports ErrConflict or claimed false: the safe side.
package awsstate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kinesis-console/kinesis-console/internal/ddbitem"
	"github.com/kinesis-console/kinesis-console/internal/state"
)

const (
	// MaxInlineAnswer is the largest answer kept in its key's item; larger
	// ones go to S3 (an item holds 400 KB).
	MaxInlineAnswer = 300 << 10
	// MaxJobs bounds ListJobs: the bulk limits keep far fewer.
	MaxJobs = 10000
	// jobGrace is how much longer than its Expires DynamoDB keeps a job
	// record, for ListJobs to delete its journal and blobs first.
	jobGrace = 24 * time.Hour
	// sweepPerList bounds the expired jobs one ListJobs deletes.
	sweepPerList = 10
)

// Options tune a Store; the zero value is the production setting.
type Options struct {
	// Now is the clock expiry is judged by (time.Now when nil). Replicas
	// never compare clocks for leases; expiry is hours, not seconds.
	Now func() time.Time
	// MaxAttempts bounds the SDK's attempts per call (3 when zero).
	MaxAttempts int
	// CallTimeout bounds each method, retries included (10s when zero), so
	// an unreachable store answers within seconds.
	CallTimeout time.Duration
	// MaxBackoff bounds the SDK's wait between attempts (1s when zero).
	MaxBackoff time.Duration
}

// Store is a state.Store in a DynamoDB table and an S3 bucket. It is safe
// for concurrent use.
type Store struct {
	db      *dynamodb.Client
	s3      *s3.Client
	table   string
	bucket  string
	now     func() time.Time
	timeout time.Duration

	tempOnce sync.Once
	tempDir  string
}

var _ state.Store = (*Store)(nil)

// New returns a Store on table and bucket, which must exist (see
// CreateTable and CreateBucket). When cfg names an endpoint (a local
// backend), S3 is addressed by path rather than by virtual host.
func New(cfg aws.Config, table, bucket string, opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 10 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Second
	}
	retryer := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = opts.MaxAttempts
			o.MaxBackoff = opts.MaxBackoff
		})
	}
	return &Store{
		db: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.Retryer = retryer() }),
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.Retryer = retryer()
			o.UsePathStyle = o.BaseEndpoint != nil // resolved from cfg and AWS_ENDPOINT_URL_S3 by now
		}),
		table: table, bucket: bucket, now: opts.Now, timeout: opts.CallTimeout,
	}
}

// Describe names the table and the bucket.
func (s *Store) Describe() string {
	return fmt.Sprintf("DynamoDB table %s, S3 bucket %s", s.table, s.bucket)
}

// TempDir is a folder of this process's own under the system's temporary
// folder: blobs are uploaded from it.
func (s *Store) TempDir() string {
	s.tempOnce.Do(func() {
		d, err := os.MkdirTemp("", "kinesis-console-state-")
		if err != nil {
			d = os.TempDir()
		}
		s.tempDir = d
	})
	return s.tempDir
}

// Close removes TempDir; the clients hold nothing else.
func (s *Store) Close() error {
	if s.tempDir != "" && s.tempDir != os.TempDir() {
		return os.RemoveAll(s.tempDir)
	}
	return nil
}

func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// Attribute helpers.

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func bin(v []byte) types.AttributeValue   { return &types.AttributeValueMemberB{Value: nonNil(v)} }
func boolean(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk), "sk": str(sk)}
}

func getB(item map[string]types.AttributeValue, name string) []byte {
	if v, ok := item[name].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

func getBool(item map[string]types.AttributeValue, name string) bool {
	v, ok := item[name].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

func getSS(item map[string]types.AttributeValue, name string) []string {
	if v, ok := item[name].(*types.AttributeValueMemberSS); ok {
		return v.Value
	}
	return nil
}

// until is t in Unix nanoseconds, 0 for never.
func until(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUntil(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// ttl is the TTL attribute for t plus grace: epoch seconds, rounded up.
func ttl(t time.Time, grace time.Duration) types.AttributeValue {
	t = t.Add(grace)
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return num(sec)
}

// live says whether an item with attribute until counts at now.
func live(item map[string]types.AttributeValue, now time.Time) bool {
	u := ddbitem.N(item, "until")
	return u == 0 || now.UnixNano() < u
}

// Conditions that an item is there and has not expired; :now is the
// caller's clock in Unix nanoseconds.
const (
	liveCond = "attribute_exists(pk) AND (#until = :zero OR #until > :now)"
	goneCond = "attribute_not_exists(pk) OR (#until <> :zero AND #until <= :now)"
)

// conflict sorts a failed conditional write: ErrNotFound when the item was
// not there (or had expired), ErrConflict when it was, the error itself
// wrapped otherwise.
func (s *Store) conflict(err error, now time.Time, what string) error {
	var cc *types.ConditionalCheckFailedException
	if !errors.As(err, &cc) {
		return fmt.Errorf("awsstate: %s: %w", what, err)
	}
	if len(cc.Item) == 0 || !live(cc.Item, now) {
		return state.ErrNotFound
	}
	return state.ErrConflict
}
