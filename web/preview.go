package web

import (
	"errors"
	"math/big"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/views"
)

// preview handles GET /records/preview: which open shard a record with the
// typed partition key (or ExplicitHashKey) will land on. refresh=1 reloads
// the shard map.
func (h *handlers) preview(c echo.Context) error {
	return render(c, http.StatusOK, views.ShardPreviewView(h.previewView(c)))
}

func (h *handlers) previewView(c echo.Context) views.ShardPreview {
	name := c.QueryParam(field.Stream)
	pk := c.QueryParam(field.PartitionKey)
	ehk := c.QueryParam(field.ExplicitHashKey)
	if name == "" || (pk == "" && ehk == "") {
		return views.ShardPreview{Empty: true}
	}
	// Permission first, as for a put: a denied user learns nothing from
	// validation.
	ctx := c.Request().Context()
	v := h.visitorOf(ctx)
	ref, r := h.writes.CheckStream(ctx, v, name, false)
	if r != nil {
		return views.ShardPreview{Err: r.Message}
	}
	var key *big.Int
	source := "partition key"
	if ehk != "" {
		k, msg := stream.ParseExplicitHashKey(ehk)
		if msg != "" {
			return views.ShardPreview{Err: msg}
		}
		key, source = k, "ExplicitHashKey"
	} else {
		if msg := stream.CheckPartitionKey(pk); msg != "" {
			return views.ShardPreview{Err: msg}
		}
		key = stream.HashKey(pk)
	}
	shards, at, err := h.writes.Shards(ctx, v, ref, c.QueryParam("refresh") == "1")
	if errors.Is(err, write.ErrLookUpsLimited) {
		return views.ShardPreview{Err: lookUpsLimitedText}
	}
	if err != nil {
		return views.ShardPreview{Err: "No shard preview: " + failureText(err)}
	}
	p := views.ShardPreview{Source: source, HashKey: key.String(), RefreshedAgo: time.Since(at).Round(time.Second).String()}
	for _, s := range shards {
		if s.Open {
			p.OpenShards++
		}
	}
	s, ok := stream.ShardFor(shards, key)
	if !ok {
		p.NoShard = true
		return p
	}
	p.ShardID, p.StartHashKey, p.EndHashKey = s.ID, s.StartHashKey.String(), s.EndHashKey.String()
	return p
}
