package awsstate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

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
