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
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

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

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
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
	u := getN(item, "until")
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

// Jobs.

func jobItem(j state.Job) map[string]types.AttributeValue {
	item := key("jobs", j.ID)
	item["user"] = str(j.User)
	item["created"] = num(until(j.Created))
	item["until"] = num(until(j.Expires))
	item["done"] = boolean(j.Done)
	item["body"] = bin(j.Body)
	item["owner"] = str(j.Owner)
	item["run"] = num(int64(j.Run))
	item["counter"] = num(j.Counter)
	if !j.Expires.IsZero() {
		item["expires"] = ttl(j.Expires, jobGrace)
	}
	return item
}

func jobOf(item map[string]types.AttributeValue) state.Job {
	return state.Job{
		ID:      getS(item, "sk"),
		User:    getS(item, "user"),
		Created: fromUntil(getN(item, "created")),
		Expires: fromUntil(getN(item, "until")),
		Done:    getBool(item, "done"),
		Body:    getB(item, "body"),
		Owner:   getS(item, "owner"),
		Run:     int(getN(item, "run")),
		Counter: getN(item, "counter"),
	}
}

// CreateJob stores a new job; ErrConflict if its ID is taken (even by an
// expired job not deleted yet).
func (s *Store) CreateJob(ctx context.Context, j state.Job) error {
	if j.ID == "" {
		return errors.New("awsstate: create job: empty id")
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.table,
		Item:                jobItem(j),
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var cc *types.ConditionalCheckFailedException
	if errors.As(err, &cc) {
		return state.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("awsstate: create job %s: %w", j.ID, err)
	}
	return nil
}

// UpdateJob writes j's Body, Done and Expires and bumps Counter if j.Owner
// and j.Run still hold the job; ErrConflict if not.
func (s *Store) UpdateJob(ctx context.Context, j state.Job) (state.Job, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	now := s.now()
	set := "SET body = :body, done = :done, #until = :until, #counter = #counter + :one"
	values := map[string]types.AttributeValue{
		":body": bin(j.Body), ":done": boolean(j.Done), ":until": num(until(j.Expires)),
		":one": num(1), ":o": str(j.Owner), ":r": num(int64(j.Run)), ":zero": num(0), ":now": num(now.UnixNano()),
	}
	names := map[string]string{"#until": "until", "#counter": "counter", "#owner": "owner", "#run": "run"}
	if j.Expires.IsZero() {
		set += " REMOVE expires"
	} else {
		set += ", #expires = :expires"
		values[":expires"] = ttl(j.Expires, jobGrace)
		names["#expires"] = "expires"
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 key("jobs", j.ID),
		UpdateExpression:                    &set,
		ConditionExpression:                 aws.String(liveCond + " AND #owner = :o AND #run = :r"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		return state.Job{}, s.conflict(err, now, "update job "+j.ID)
	}
	return jobOf(out.Attributes), nil
}

// TakeJob makes owner the job's runner, Run one higher, if its Counter and
// Run still equal seen's; ErrConflict if not.
func (s *Store) TakeJob(ctx context.Context, seen state.Job, owner string) (state.Job, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	now := s.now()
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key("jobs", seen.ID),
		UpdateExpression:    aws.String("SET #owner = :owner, #run = #run + :one"),
		ConditionExpression: aws.String(liveCond + " AND #counter = :c AND #run = :r"),
		ExpressionAttributeNames: map[string]string{
			"#until": "until", "#counter": "counter", "#owner": "owner", "#run": "run",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":owner": str(owner), ":one": num(1), ":c": num(seen.Counter), ":r": num(int64(seen.Run)),
			":zero": num(0), ":now": num(now.UnixNano()),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		return state.Job{}, s.conflict(err, now, "take job "+seen.ID)
	}
	return jobOf(out.Attributes), nil
}

// jobRecord reads a job's item, expired or not; ErrNotFound when absent.
func (s *Store) jobRecord(ctx context.Context, id string) (map[string]types.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key("jobs", id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("awsstate: read job %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return nil, state.ErrNotFound
	}
	return out.Item, nil
}

// Job reads one job; ErrNotFound when absent or expired.
func (s *Store) Job(ctx context.Context, id string) (state.Job, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	item, err := s.jobRecord(ctx, id)
	if err != nil {
		return state.Job{}, err
	}
	if !live(item, s.now()) {
		return state.Job{}, state.ErrNotFound
	}
	return jobOf(item), nil
}

// ListJobs returns every job that has not expired, oldest first (one
// paginated Query, at most MaxJobs), and deletes a few expired ones with
// their journals and blobs.
func (s *Store) ListJobs(ctx context.Context) ([]state.Job, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	now := s.now()
	jobs := []state.Job{}
	var expired []string
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("jobs")},
		ConsistentRead:            aws.Bool(true),
	})
	seen := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("awsstate: list jobs: %w", err)
		}
		for _, item := range page.Items {
			if seen++; seen > MaxJobs {
				return nil, fmt.Errorf("awsstate: list jobs: more than %d jobs in table %s", MaxJobs, s.table)
			}
			if !live(item, now) {
				expired = append(expired, getS(item, "sk"))
				continue
			}
			jobs = append(jobs, jobOf(item))
		}
	}
	for _, id := range expired[:min(len(expired), sweepPerList)] {
		if err := s.deleteJob(ctx, id); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(jobs, func(a, b state.Job) int { return a.Created.Compare(b.Created) })
	return jobs, nil
}

// DeleteJob forgets a job with its journal and blobs; deleting a job that
// is not there is no error.
func (s *Store) DeleteJob(ctx context.Context, id string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.deleteJob(ctx, id)
}

// deleteJob deletes the record last, so that a delete cut short is found
// and done again.
func (s *Store) deleteJob(ctx context.Context, id string) error {
	item, err := s.jobRecord(ctx, id)
	if errors.Is(err, state.ErrNotFound) {
		item = nil
	} else if err != nil {
		return err
	}
	for _, name := range getSS(item, "blobs") {
		if _, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(blobKey(id, name))}); err != nil {
			return fmt.Errorf("awsstate: delete job %s: blob %s: %w", id, name, err)
		}
	}
	if err := s.deleteJournal(ctx, id); err != nil {
		return err
	}
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key("jobs", id)}); err != nil {
		return fmt.Errorf("awsstate: delete job %s: %w", id, err)
	}
	return nil
}

func (s *Store) deleteJournal(ctx context.Context, id string) error {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(journalPK(id))},
		ProjectionExpression:      aws.String("pk, sk"),
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("awsstate: delete journal of %s: %w", id, err)
		}
		for batch := range slices.Chunk(page.Items, 25) {
			reqs := make([]types.WriteRequest, len(batch))
			for i, item := range batch {
				reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: item}}
			}
			if err := s.batchWrite(ctx, reqs); err != nil {
				return fmt.Errorf("awsstate: delete journal of %s: %w", id, err)
			}
		}
	}
	return nil
}

// batchWrite writes reqs, sending what DynamoDB left unprocessed again a
// few times.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for range 5 {
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{s.table: reqs},
		})
		if err != nil {
			return err
		}
		if reqs = out.UnprocessedItems[s.table]; len(reqs) == 0 {
			return nil
		}
	}
	return fmt.Errorf("%d deletes still unprocessed", len(reqs))
}

// Journals.

func journalPK(id string) string { return "journal#" + id }

func entrySK(run int, seq int64) string { return fmt.Sprintf("%010d#%020d", run, seq) }

// Append adds e to job id's journal.
func (s *Store) Append(ctx context.Context, id string, e state.Entry) error {
	if e.Run < 0 || e.Seq < 0 {
		return errors.New("awsstate: append: negative run or seq")
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	item := key(journalPK(id), entrySK(e.Run, e.Seq))
	item["body"] = bin(e.Body)
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("awsstate: append to %s: %w", id, err)
	}
	return nil
}

// Journal reads job id's journal in (Run, Seq) order.
func (s *Store) Journal(ctx context.Context, id string) ([]state.Entry, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(journalPK(id))},
		ConsistentRead:            aws.Bool(true),
	})
	out := []state.Entry{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("awsstate: journal of %s: %w", id, err)
		}
		for _, item := range page.Items {
			var e state.Entry
			if _, err := fmt.Sscanf(getS(item, "sk"), "%d#%d", &e.Run, &e.Seq); err != nil {
				return nil, fmt.Errorf("awsstate: journal of %s: bad sort key %q", id, getS(item, "sk"))
			}
			e.Body = getB(item, "body")
			out = append(out, e)
		}
	}
	return out, nil
}

// Blobs.

func blobKey(id, name string) string { return "jobs/" + id + "/" + name }

// SaveFile uploads the file at path as job id's blob name, then removes
// the file. The job record names the blob first, so DeleteJob finds it.
func (s *Store) SaveFile(ctx context.Context, id, name, path string) error {
	if name == "" {
		return errors.New("awsstate: save file: empty blob name")
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	now := s.now()
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 key("jobs", id),
		UpdateExpression:                    aws.String("ADD blobs :name"),
		ConditionExpression:                 aws.String(liveCond),
		ExpressionAttributeNames:            map[string]string{"#until": "until"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":name": &types.AttributeValueMemberSS{Value: []string{name}}, ":zero": num(0), ":now": num(now.UnixNano())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		if err := s.conflict(err, now, "save "+name); errors.Is(err, state.ErrConflict) {
			return state.ErrNotFound // the job expired: liveCond alone failed
		} else {
			return err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("awsstate: save %s: %w", name, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("awsstate: save %s: %w", name, err)
	}
	if _, err := s.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: aws.String(blobKey(id, name)), Body: f, ContentLength: aws.Int64(info.Size()),
	}); err != nil {
		return fmt.Errorf("awsstate: save %s of %s: %w", name, id, err)
	}
	f.Close()
	os.Remove(path)
	return nil
}

// OpenBlob reads job id's blob name; ErrNotFound. The read is not bounded
// by CallTimeout (a report may take long to stream): ctx bounds it.
func (s *Store) OpenBlob(ctx context.Context, id, name string) (io.ReadCloser, error) {
	return s.getObject(ctx, blobKey(id, name))
}

func (s *Store) getObject(ctx context.Context, k string) (io.ReadCloser, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &k})
	if err != nil {
		var nsk *s3types.NoSuchKey
		var api smithy.APIError
		if errors.As(err, &nsk) || (errors.As(err, &api) && api.ErrorCode() == "NotFound") {
			return nil, state.ErrNotFound
		}
		return nil, fmt.Errorf("awsstate: read s3://%s/%s: %w", s.bucket, k, err)
	}
	return out.Body, nil
}

// Keys.

func hashHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func keyPK(user string) string { return "key#" + hashHex(user) }

func keyItem(k state.Key) map[string]types.AttributeValue {
	item := key(keyPK(k.User), k.Key)
	item["user"] = str(k.User)
	item["fingerprint"] = str(k.Fingerprint)
	item["state"] = str(string(k.State))
	item["owner"] = str(k.Owner)
	item["until"] = num(until(k.Expires))
	if !k.Expires.IsZero() {
		item["expires"] = ttl(k.Expires, 0)
	}
	return item
}

// keyOf reads a key's item, fetching its answer from S3 when it is there.
func (s *Store) keyOf(ctx context.Context, item map[string]types.AttributeValue) (state.Key, error) {
	k := state.Key{
		User:        getS(item, "user"),
		Key:         getS(item, "sk"),
		Fingerprint: getS(item, "fingerprint"),
		State:       state.KeyState(getS(item, "state")),
		Owner:       getS(item, "owner"),
		Answer:      getB(item, "answer"),
		Expires:     fromUntil(getN(item, "until")),
	}
	if ref := getS(item, "answer_s3"); ref != "" {
		r, err := s.getObject(ctx, ref)
		if err != nil {
			return state.Key{}, fmt.Errorf("awsstate: answer of key %q: %w", k.Key, errors.Join(err, errors.New("stored in s3 but unreadable")))
		}
		defer r.Close()
		if k.Answer, err = io.ReadAll(r); err != nil {
			return state.Key{}, fmt.Errorf("awsstate: answer of key %q: %w", k.Key, err)
		}
	}
	return k, nil
}

// ClaimKey records k in flight unless a live record of it exists, which it
// returns then with claimed false.
func (s *Store) ClaimKey(ctx context.Context, k state.Key) (state.Key, bool, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	k.State, k.Answer = state.KeyInFlight, nil
	now := s.now()
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                keyItem(k),
		ConditionExpression:                 aws.String(goneCond),
		ExpressionAttributeNames:            map[string]string{"#until": "until"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":zero": num(0), ":now": num(now.UnixNano())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return k, true, nil
	}
	var cc *types.ConditionalCheckFailedException
	if !errors.As(err, &cc) {
		return state.Key{}, false, fmt.Errorf("awsstate: claim key: %w", err)
	}
	item := cc.Item
	if len(item) == 0 { // a DynamoDB that does not return the item: read it
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: &s.table, Key: key(keyPK(k.User), k.Key), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return state.Key{}, false, fmt.Errorf("awsstate: claim key: read the claim that won: %w", err)
		}
		if item = out.Item; len(item) == 0 {
			return state.Key{}, false, errors.New("awsstate: claim key: lost to a claim that is gone: try again")
		}
	}
	existing, err := s.keyOf(ctx, item)
	if err != nil {
		return state.Key{}, false, err
	}
	return existing, false, nil
}

// FinishKey sets a claimed key's State and Answer (and Expires, when k's
// is set) if k.Owner holds it in flight; ErrConflict if not.
func (s *Store) FinishKey(ctx context.Context, k state.Key) error {
	if k.State != state.KeyDone && k.State != state.KeyLost {
		return fmt.Errorf("awsstate: finish key: state %q is not done or lost", k.State)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	now := s.now()
	set := "SET #state = :state"
	values := map[string]types.AttributeValue{
		":state": str(string(k.State)), ":o": str(k.Owner), ":inflight": str(string(state.KeyInFlight)),
		":zero": num(0), ":now": num(now.UnixNano()),
	}
	names := map[string]string{"#until": "until", "#state": "state", "#owner": "owner"}
	var ref string
	if len(k.Answer) > MaxInlineAnswer {
		// A name of its own: a losing FinishKey must not overwrite the
		// winner's answer before its condition fails.
		ref = "keys/" + hashHex(k.User) + "/" + rand.Text()
		if _, err := s.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.bucket, Key: &ref, Body: bytes.NewReader(k.Answer), ContentLength: aws.Int64(int64(len(k.Answer))),
		}); err != nil {
			return fmt.Errorf("awsstate: finish key: store the answer: %w", err)
		}
		set += ", answer_s3 = :ref"
		values[":ref"] = str(ref)
	} else if k.Answer != nil {
		set += ", answer = :answer"
		values[":answer"] = bin(k.Answer)
	}
	if !k.Expires.IsZero() {
		set += ", #until = :until, #expires = :expires"
		values[":until"], values[":expires"] = num(until(k.Expires)), ttl(k.Expires, 0)
		names["#expires"] = "expires"
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 key(keyPK(k.User), k.Key),
		UpdateExpression:                    &set,
		ConditionExpression:                 aws.String(liveCond + " AND #owner = :o AND #state = :inflight"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		if ref != "" {
			s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &ref})
		}
		return s.conflict(err, now, "finish key")
	}
	return nil
}

// ReleaseKey forgets a key that owner holds in flight; ErrConflict if
// another holds it or it is finished, ErrNotFound if there is none.
func (s *Store) ReleaseKey(ctx context.Context, user, k, owner string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	now := s.now()
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           &s.table,
		Key:                                 key(keyPK(user), k),
		ConditionExpression:                 aws.String(liveCond + " AND #owner = :o AND #state = :inflight"),
		ExpressionAttributeNames:            map[string]string{"#until": "until", "#state": "state", "#owner": "owner"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":o": str(owner), ":inflight": str(string(state.KeyInFlight)), ":zero": num(0), ":now": num(now.UnixNano())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		return s.conflict(err, now, "release key")
	}
	return nil
}

// GetKey reads a key; ErrNotFound when there is none or it expired.
func (s *Store) GetKey(ctx context.Context, user, k string) (state.Key, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(keyPK(user), k), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return state.Key{}, fmt.Errorf("awsstate: read key: %w", err)
	}
	if len(out.Item) == 0 || !live(out.Item, s.now()) {
		return state.Key{}, state.ErrNotFound
	}
	return s.keyOf(ctx, out.Item)
}

// Replicas.

// Heartbeat says replica id is alive until ttl from now.
func (s *Store) Heartbeat(ctx context.Context, id string, d time.Duration) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	end := s.now().Add(d)
	item := key("replicas", id)
	item["until"] = num(until(end))
	item["expires"] = ttl(end, 0)
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("awsstate: heartbeat: %w", err)
	}
	return nil
}

// CountReplicas counts the replicas whose heartbeat is live, at least 1.
func (s *Store) CountReplicas(ctx context.Context) (int, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	now := s.now()
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("replicas")},
		ConsistentRead:            aws.Bool(true),
	})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("awsstate: count replicas: %w", err)
		}
		for _, item := range page.Items {
			if live(item, now) {
				n++
			}
		}
	}
	return max(n, 1), nil
}

// Secrets.

// Secret returns the secret called name: the item (pk "secret", sk name)
// read strongly consistently, or, when there is none, size random bytes
// put with attribute_not_exists(pk). The loser of a race between replicas
// gets the winner's bytes from its failed condition (or a second
// consistent read). Two calls when the secret is new, one after.
func (s *Store) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	if err := state.CheckSecret(name, size); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	b, err := s.readSecret(ctx, name)
	if errors.Is(err, state.ErrNotFound) {
		b, err = s.putSecret(ctx, name, size)
	}
	if err != nil {
		return nil, err
	}
	if len(b) != size {
		return nil, fmt.Errorf("awsstate: secret %q is %d bytes, want %d", name, len(b), size)
	}
	return b, nil
}

func (s *Store) readSecret(ctx context.Context, name string) ([]byte, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key("secret", name), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("awsstate: read secret %q: %w", name, err)
	}
	if len(out.Item) == 0 {
		return nil, state.ErrNotFound
	}
	return getB(out.Item, "value"), nil
}

func (s *Store) putSecret(ctx context.Context, name string, size int) ([]byte, error) {
	b := make([]byte, size)
	rand.Read(b) // never fails (crypto/rand)
	item := key("secret", name)
	item["value"] = bin(b)
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var cc *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return b, nil
	case !errors.As(err, &cc):
		// A put whose answer was lost may have stored b: the next call
		// reads what is there, never b from memory.
		return nil, fmt.Errorf("awsstate: make secret %q: %w", name, err)
	case len(cc.Item) > 0:
		return getB(cc.Item, "value"), nil
	}
	return s.readSecret(ctx, name) // a DynamoDB that does not return the item
}
