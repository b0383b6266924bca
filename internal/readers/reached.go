package readers

// Position is where a record is: its shard, sequence number, and, for a
// user record of a KPL aggregate, its sub-sequence number.
type Position struct {
	ShardID     string
	Sequence    string
	SubSequence int64
}

// State says whether a reader has consumed a record.
type State string

// The states of a record for one reader.
const (
	StateConsumed State = "consumed"
	StatePending  State = "pending"
	// StateUnknown: the reader keeps no position the console can read
	// (enhanced fan-out, Lambda, Firehose), or its lease table says
	// nothing of the record's shard.
	StateUnknown State = "unknown"
)

// Verdict is whether one reader has consumed a record, and why.
type Verdict struct {
	Kind  Kind
	Name  string
	State State
	// ShardID and Checkpoint are the lease that decided a KCL verdict:
	// the record's shard, or a descendant of it.
	ShardID    string
	Checkpoint Checkpoint
	Why        string
}

// Reached says, for each reader in the view, whether it has consumed the
// record at p.
func (v View) Reached(p Position) []Verdict {
	out := make([]Verdict, 0, len(v.Readers))
	for _, r := range v.Readers {
		if r.Kind != KindKCL || r.KCL == nil {
			out = append(out, Verdict{Kind: r.Kind, Name: r.Name, State: StateUnknown,
				Why: "It keeps no position the console can read."})
			continue
		}
		verdict := r.KCL.reached(p)
		verdict.Kind, verdict.Name = r.Kind, r.Name
		out = append(out, verdict)
	}
	return out
}

// reached decides from the leases: the record's own shard's checkpoint at
// or past it, or SHARD_END, means consumed; so does a descendant shard with
// a sequence-number checkpoint, as KCL starts a child shard only once its
// parents are finished. A lease of the shard short of it is pending.
// Without either (no lease, or the lease deleted after its children took
// over and those have not started), the leases say nothing: unknown.
func (k *KCL) reached(p Position) Verdict {
	var own *LeaseState
	for i := range k.Leases {
		if k.Leases[i].ShardID == p.ShardID {
			own = &k.Leases[i]
			break
		}
	}
	if own != nil && own.Checkpoint.AtOrPast(p.Sequence, p.SubSequence) {
		return Verdict{State: StateConsumed, ShardID: own.ShardID, Checkpoint: own.Checkpoint,
			Why: "Its checkpoint on the record's shard is at or past the record."}
	}
	if d := k.startedDescendant(p.ShardID); d != nil {
		return Verdict{State: StateConsumed, ShardID: d.ShardID, Checkpoint: d.Checkpoint,
			Why: "It has moved on to " + d.ShardID + ", a shard that follows the record's."}
	}
	if own != nil {
		return Verdict{State: StatePending, ShardID: own.ShardID, Checkpoint: own.Checkpoint,
			Why: "Its checkpoint on the record's shard is short of the record."}
	}
	why := "Its lease table has no lease for the record's shard."
	if k.Truncated {
		why = "The lease table holds more leases than the console reads at once; the record's shard was not among them."
	}
	return Verdict{State: StateUnknown, ShardID: p.ShardID, Why: why}
}

// startedDescendant finds a lease descended from shard (a child, a child's
// child...) that has checkpointed a record or finished.
func (k *KCL) startedDescendant(shard string) *LeaseState {
	seen := map[string]bool{shard: true}
	frontier := []string{shard}
	for len(frontier) > 0 {
		var next []string
		for i := range k.Leases {
			l := &k.Leases[i]
			if seen[l.ShardID] || !hasParentIn(l.Parents, frontier) {
				continue
			}
			if c := l.Checkpoint; !c.Sentinel() || c.Sequence == ShardEnd {
				return l
			}
			seen[l.ShardID] = true
			next = append(next, l.ShardID)
		}
		frontier = next
	}
	return nil
}

func hasParentIn(parents, shards []string) bool {
	for _, p := range parents {
		for _, s := range shards {
			if p == s {
				return true
			}
		}
	}
	return false
}
