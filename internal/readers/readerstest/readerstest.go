// Package readerstest writes KCL lease tables for tests, item for item as
// KCL itself writes them, so the console's reading of them is checked
// against KCL's format rather than against its own idea of it.
//
// The format is taken from KCL's source (awslabs/amazon-kinesis-client,
// software.amazon.kinesis.leases): dynamodb/DynamoDBLeaseSerializer.java
// (attribute names and types; the table is keyed by leaseKey alone, a
// string, as DynamoDBLeaseRefresher creates it),
// dynamodb/DynamoDBMultiStreamLeaseSerializer.java and MultiStreamLease.java
// (multi-stream leases: leaseKey "<stream identifier>:<shard id>", plus
// streamName and shardId attributes), common/StreamIdentifier.java (the
// identifier "<account>:<stream>:<creation epoch>").
package readerstest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
	Counter       int64
	OwnerSwitches int64
	Parents       []string
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
	item := map[string]types.AttributeValue{
		"leaseKey":                     &types.AttributeValueMemberS{Value: l.Key()},
		"leaseCounter":                 &types.AttributeValueMemberN{Value: strconv.FormatInt(l.Counter, 10)},
		"ownerSwitchesSinceCheckpoint": &types.AttributeValueMemberN{Value: strconv.FormatInt(l.OwnerSwitches, 10)},
		"checkpoint":                   &types.AttributeValueMemberS{Value: l.Checkpoint},
		"checkpointSubSequenceNumber":  &types.AttributeValueMemberN{Value: strconv.FormatInt(l.SubSequence, 10)},
		// KCL 2.x+ writes each lease's hash key range; the console does not read it.
		"startingHashKey": &types.AttributeValueMemberS{Value: "0"},
		"endingHashKey":   &types.AttributeValueMemberS{Value: "340282366920938463463374607431768211455"},
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

// Table is the part of *dynamodb.Client the helpers call.
type Table interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// CreateLeaseTable creates a lease table keyed as KCL keys it.
func CreateLeaseTable(t testing.TB, db Table, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("leaseKey"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("leaseKey"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create lease table %s: %v", name, err)
	}
}

// PutLeases writes leases into a table, each as one PutItem, as KCL's
// createLeaseIfNotExists and updateLease leave them.
func PutLeases(t testing.TB, db Table, table string, leases ...Lease) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, l := range leases {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: l.Item()}); err != nil {
			t.Fatalf("put lease %s into %s: %v", l.Key(), table, err)
		}
	}
}
