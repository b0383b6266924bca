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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kinesis-console/kinesis-console/internal/ddbitem"
	"github.com/kinesis-console/kinesis-console/internal/state"
)

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
		User:        ddbitem.S(item, "user"),
		Key:         ddbitem.S(item, "sk"),
		Fingerprint: ddbitem.S(item, "fingerprint"),
		State:       state.KeyState(ddbitem.S(item, "state")),
		Owner:       ddbitem.S(item, "owner"),
		Answer:      getB(item, "answer"),
		Expires:     fromUntil(ddbitem.N(item, "until")),
	}
	if ref := ddbitem.S(item, "answer_s3"); ref != "" {
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
