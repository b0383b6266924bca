// Package kcllease writes KCL lease tables item for item as KCL itself
// writes them. The console only reads lease tables (internal/readers); this
// package is for those that must write them as a real KCL worker would: the
// tests that check the console's reading against KCL's format rather than
// against its own idea of it, and the demo's consumer. It keeps its own
// attribute names on purpose: sharing internal/readers' names would let a
// misspelt one pass on both sides.
//
// The format is taken from KCL's source (awslabs/amazon-kinesis-client,
// software.amazon.kinesis.leases): dynamodb/DynamoDBLeaseSerializer.java
// (attribute names and types; the table is keyed by leaseKey alone, a
// string, as DynamoDBLeaseRefresher creates it),
// dynamodb/DynamoDBMultiStreamLeaseSerializer.java and MultiStreamLease.java
// (multi-stream leases: leaseKey "<stream identifier>:<shard id>", plus
// streamName and shardId attributes), common/StreamIdentifier.java (the
// identifier "<account>:<stream>:<creation epoch>").
package kcllease

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The checkpoints KCL writes that are not sequence numbers
// (checkpoint/SentinelCheckpoint.java).
const (
	TrimHorizon = "TRIM_HORIZON"
	Latest      = "LATEST"
	ShardEnd    = "SHARD_END"
)

// fullRange is a shard's hash key range when a lease does not name one.
const (
	minHashKey = "0"
	maxHashKey = "340282366920938463463374607431768211455"
)

// Lease is a lease as a KCL worker writes it.
type Lease struct {
	// StreamID, for a multi-stream application, is the stream identifier
	// account:stream:epoch; "" writes a single-stream lease.
	StreamID      string
	ShardID       string
	Checkpoint    string // a sequence number or TRIM_HORIZON, LATEST, AT_TIMESTAMP, SHARD_END
	SubSequence   int64
	Owner         string // "" writes no leaseOwner, as KCL does for a lease nobody holds
	Counter       int64  // leaseCounter: every take, renewal and checkpoint adds one
	OwnerSwitches int64  // ownerSwitchesSinceCheckpoint: a take adds one, a checkpoint resets it
	Parents       []string
	// StartingHashKey and EndingHashKey are the shard's hash key range
	// (KCL 2.x+ writes them); "" writes the whole range.
	StartingHashKey, EndingHashKey string
}

// Key is the lease's leaseKey.
func (l Lease) Key() string {
	if l.StreamID == "" {
		return l.ShardID
	}
	return l.StreamID + ":" + l.ShardID
}

// Item is the lease as KCL's serializer makes it.
func (l Lease) Item() map[string]types.AttributeValue {
	start, end := l.StartingHashKey, l.EndingHashKey
	if start == "" && end == "" {
		start, end = minHashKey, maxHashKey
	}
	item := map[string]types.AttributeValue{
		"leaseKey":                     &types.AttributeValueMemberS{Value: l.Key()},
		"leaseCounter":                 &types.AttributeValueMemberN{Value: strconv.FormatInt(l.Counter, 10)},
		"ownerSwitchesSinceCheckpoint": &types.AttributeValueMemberN{Value: strconv.FormatInt(l.OwnerSwitches, 10)},
		"checkpoint":                   &types.AttributeValueMemberS{Value: l.Checkpoint},
		"checkpointSubSequenceNumber":  &types.AttributeValueMemberN{Value: strconv.FormatInt(l.SubSequence, 10)},
		"startingHashKey":              &types.AttributeValueMemberS{Value: start},
		"endingHashKey":                &types.AttributeValueMemberS{Value: end},
	}
	if l.Owner != "" {
		item["leaseOwner"] = &types.AttributeValueMemberS{Value: l.Owner}
	}
	if len(l.Parents) > 0 {
		item["parentShardId"] = &types.AttributeValueMemberSS{Value: l.Parents}
	}
	if l.StreamID != "" {
		item["streamName"] = &types.AttributeValueMemberS{Value: l.StreamID}
		item["shardId"] = &types.AttributeValueMemberS{Value: l.ShardID}
	}
	return item
}

// Table is the part of *dynamodb.Client the writers call.
type Table interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ Table = (*dynamodb.Client)(nil)

// CreateTable creates a lease table keyed as KCL keys it. A table that
// exists already is no error, as for KCL's createLeaseTableIfNotExists.
func CreateTable(ctx context.Context, db Table, name string) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("leaseKey"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("leaseKey"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if _, exists := errors.AsType[*types.ResourceInUseException](err); err != nil && !exists {
		return fmt.Errorf("kcllease: create lease table %s: %w", name, err)
	}
	return nil
}

// Put writes the whole lease, as KCL's createLeaseIfNotExists and
// updateLease leave it.
func Put(ctx context.Context, db Table, table string, l Lease) error {
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: l.Item()}); err != nil {
		return fmt.Errorf("kcllease: put lease %s into %s: %w", l.Key(), table, err)
	}
	return nil
}
