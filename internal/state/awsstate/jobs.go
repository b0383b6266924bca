package awsstate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kinesis-console/kinesis-console/internal/ddbitem"
	"github.com/kinesis-console/kinesis-console/internal/state"
)

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
		ID:      ddbitem.S(item, "sk"),
		User:    ddbitem.S(item, "user"),
		Created: fromUntil(ddbitem.N(item, "created")),
		Expires: fromUntil(ddbitem.N(item, "until")),
		Done:    getBool(item, "done"),
		Body:    getB(item, "body"),
		Owner:   ddbitem.S(item, "owner"),
		Run:     int(ddbitem.N(item, "run")),
		Counter: ddbitem.N(item, "counter"),
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
				expired = append(expired, ddbitem.S(item, "sk"))
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
