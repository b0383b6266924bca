package awsstate

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kinesis-console/kinesis-console/internal/state"
)

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
