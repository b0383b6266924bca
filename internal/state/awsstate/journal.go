package awsstate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kinesis-console/kinesis-console/internal/ddbitem"
	"github.com/kinesis-console/kinesis-console/internal/state"
)

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
			if _, err := fmt.Sscanf(ddbitem.S(item, "sk"), "%d#%d", &e.Run, &e.Seq); err != nil {
				return nil, fmt.Errorf("awsstate: journal of %s: bad sort key %q", id, ddbitem.S(item, "sk"))
			}
			e.Body = getB(item, "body")
			out = append(out, e)
		}
	}
	return out, nil
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
