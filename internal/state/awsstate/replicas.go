package awsstate

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

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
