package ddbitem

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestAttributes(t *testing.T) {
	item := map[string]types.AttributeValue{
		"s": &types.AttributeValueMemberS{Value: "shardId-000000000001"},
		"n": &types.AttributeValueMemberN{Value: "42"},
		"f": &types.AttributeValueMemberN{Value: "1.5"},
	}
	if got := S(item, "s"); got != "shardId-000000000001" {
		t.Errorf("S = %q", got)
	}
	if got := N(item, "n"); got != 42 {
		t.Errorf("N = %d", got)
	}
	for _, name := range []string{"missing", "n"} {
		if got := S(item, name); got != "" {
			t.Errorf("S(%s) = %q, want empty: missing or not a string", name, got)
		}
	}
	for _, name := range []string{"missing", "s", "f"} {
		if got := N(item, name); got != 0 {
			t.Errorf("N(%s) = %d, want 0: missing, not a number or not an integer", name, got)
		}
	}
}
