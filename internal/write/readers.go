package write

import (
	"context"
	"errors"

	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// ErrNoReaders is a target that does not look up readers.
var ErrNoReaders = errors.New("write: this target does not look up readers")

// Readers finds the readers of a stream of v's target: its summary (for
// the ARN) and tags (for the lease tables they name) from the caches, then
// each source, every AWS call paid from v's look-up budget. The caller has
// checked that v may read the stream. Only a stream that cannot be
// described for want of budget, or does not exist, is an error: any other
// failure is a source's, reported in the view. Each KCL lease's lag is
// read with v's Browser, paid from the read budget as viewer's (bounded
// per page by lag), when the target reads records.
func (s *Service) Readers(ctx context.Context, v *Visitor, viewer string, ref stream.StreamRef, lag readers.LagOptions) (readers.View, error) {
	t := v.Target
	if t.Readers == nil {
		return readers.View{}, ErrNoReaders
	}
	rs := readers.Stream{Name: ref.Name}
	sum, err := s.Summary(ctx, v, ref)
	var f *stream.Failure
	switch {
	case errors.Is(err, ErrLookUpsLimited):
		return readers.View{}, err
	case errors.As(err, &f) && f.Kind == stream.KindNotFound:
		return readers.View{}, err
	case err == nil:
		rs.ARN = sum.ARN
	}
	var tags map[string]string
	if t.StreamTags != nil {
		tags, err = t.tags.lookup(ctx, t.StreamTags, ref.Name, s.tagLookUpAllowed(ctx, v))
		if errors.Is(err, ErrLookUpsLimited) {
			err = readers.ErrLimited
		}
		rs.TagsErr = err
	}
	rs.Tables = readers.Tables(s.cfg.Rules.KCLApps, t.Name, ref.Name, tags)
	view := t.Readers.Find(ctx, rs, s.LookUpAllowed(v))
	if b := v.Clients.Browser; b != nil && !lag.Skip {
		readers.MeasureLag(ctx, &view, func(ctx context.Context, shardID, after string, limit int) (stream.ShardLag, error) {
			return b.Behind(ctx, viewer, ref, shardID, after, limit)
		}, lag)
	}
	return view, nil
}
