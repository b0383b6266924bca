// Package ddbitem reads the attributes of a DynamoDB item as the console's
// tables use them: a missing attribute, or one of another type, reads as
// the zero value. The KCL lease tables (internal/readers) and the state
// table (internal/state/awsstate) are read with it.
package ddbitem

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// S is a string attribute's value.
func S(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// N is a number attribute's value as an int64; a number that is not one
// (a fraction, out of range) reads as 0.
func N(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}
