package readers

import "slices"

// Summary is a stream's readers at a glance: how many of each kind, and
// the leases a person debugging "my service did not get it" should look at
// first.
type Summary struct {
	Total  int
	ByKind map[Kind]int
	// NoOwner and Stale name the leases ("table shard") no worker holds,
	// and those whose worker has stopped renewing them.
	NoOwner []string
	Stale   []string
	// Failed counts the sources that could not be read.
	Failed int
}

// Summary counts the view's readers by kind and calls out the leases that
// need a look.
func (v View) Summary() Summary {
	s := Summary{Total: len(v.Readers), ByKind: map[Kind]int{}, Failed: len(v.Failures)}
	for _, r := range v.Readers {
		s.ByKind[r.Kind]++
		if r.KCL == nil {
			continue
		}
		for _, l := range r.KCL.Leases {
			if l.NoOwner {
				s.NoOwner = append(s.NoOwner, r.Name+" "+l.ShardID)
			}
			if l.Stale {
				s.Stale = append(s.Stale, r.Name+" "+l.ShardID)
			}
		}
	}
	return s
}

// ShardMark is the newest of a batch's records on one shard, and how many
// of its records are there: a bulk job's records, shard by shard.
type ShardMark struct {
	ShardID  string
	Sequence string // the highest sequence number the batch was given on the shard
	Records  int
}

// Tally is how many of a batch's records one reader has consumed.
type Tally struct {
	Kind  Kind
	Name  string
	State State // consumed: all of them; pending: some shard short; unknown: it keeps no position, or no lease says
	// Consumed counts the records of the shards whose highest record is
	// consumed (KCL checkpoints in order, so the rest of the shard is
	// too); Total every record of the batch.
	Consumed, Total int
	// PendingShards are the shards still short of the batch's highest record.
	PendingShards []string
	Why           string
}

// Tally says, for each reader, how many of a batch's records it has
// consumed: a shard's records count once its checkpoint is at or past the
// batch's highest sequence number there.
func (v View) Tally(marks []ShardMark) []Tally {
	total := 0
	for _, m := range marks {
		total += m.Records
	}
	out := make([]Tally, 0, len(v.Readers))
	for _, r := range v.Readers {
		t := Tally{Kind: r.Kind, Name: r.Name, Total: total}
		if r.Kind != KindKCL || r.KCL == nil {
			t.State, t.Why = StateUnknown, "It keeps no position the console can read."
			out = append(out, t)
			continue
		}
		for _, m := range marks {
			switch r.KCL.reached(Position{ShardID: m.ShardID, Sequence: m.Sequence}).State {
			case StateConsumed:
				t.Consumed += m.Records
			case StatePending:
				t.PendingShards = append(t.PendingShards, m.ShardID)
			}
		}
		slices.Sort(t.PendingShards)
		switch {
		case t.Consumed == total:
			t.State, t.Why = StateConsumed, "Its checkpoints are at or past the batch's last record on every shard."
		case len(t.PendingShards) > 0:
			t.State, t.Why = StatePending, "Its checkpoint is short of the batch's last record on some shards."
		default:
			t.State, t.Why = StateUnknown, "Its lease table has no lease for the batch's shards."
		}
		out = append(out, t)
	}
	return out
}
