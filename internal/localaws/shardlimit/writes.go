package shardlimit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"
)

// maxEntries is the most records one PutRecords may carry.
const maxEntries = 500

// entry is one record of a write, as far as the limits care.
type entry struct {
	Data            []byte // base64 in the JSON, as the SDK sends it
	PartitionKey    string
	ExplicitHashKey *string
}

// size is what the entry costs of its shard's byte rate.
func (e entry) size() int64 { return int64(len(e.Data) + len(e.PartitionKey)) }

// verdict is what admit decided for one entry.
type verdict struct {
	shard string // "" when no open shard holds its hash key: it passes uncharged
	size  int64
	ok    bool // it may go to the backend
}

// entryResult is the part of a PutRecords result entry or a PutRecord
// answer that the proxy reads.
type entryResult struct {
	SequenceNumber string
	ShardId        string
	ErrorCode      string
	EncryptionType string
}

// learnTimeout bounds a ListShards the proxy makes for a write.
const learnTimeout = 10 * time.Second

// admit decides, entry by entry and in order, which entries their shards
// can take now, and charges those entries to their shards' buckets.
func (p *Proxy) admit(ctx context.Context, name string, es []entry, keys []*big.Int) (*streamState, []verdict, error) {
	st := p.stream(name)
	st.mu.Lock()
	defer st.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, learnTimeout)
	defer cancel()
	now := p.now()
	learnt := false
	if st.stale(now, p.ttl) {
		if err := st.learn(ctx, p.kinesis, now); err != nil {
			if errors.Is(err, errNoStream) {
				// Keep no state for names that are not streams. (Lock
				// order: a stream's mu, then p.mu; never the other way.)
				p.mu.Lock()
				delete(p.streams, name)
				p.mu.Unlock()
			}
			return nil, nil, err
		}
		learnt = true
	}
	ids := make([]string, len(es))
	for i, k := range keys {
		id, ok := st.route(k)
		if !ok && !learnt {
			// The stream changed under the proxy: learn it once more.
			if err := st.learn(ctx, p.kinesis, now); err != nil {
				return nil, nil, err
			}
			learnt = true
			id, ok = st.route(k)
		}
		if !ok {
			p.log.Warn("shardlimit: no open shard holds a hash key; passing the entry unthrottled", "stream", name, "hash_key", k.String())
		}
		ids[i] = id
	}
	vs := make([]verdict, len(es))
	for i, e := range es {
		vs[i] = verdict{shard: ids[i], size: e.size(), ok: true}
		if ids[i] != "" {
			vs[i].ok = st.bucket(ids[i], p.limits, now).take(p.limits, now, vs[i].size)
		}
	}
	return st, vs, nil
}

// refund gives back the charges of entries the backend did not write.
func (p *Proxy) refund(st *streamState, vs []verdict) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, v := range vs {
		if b, ok := st.buckets[v.shard]; ok && v.ok {
			b.refund(p.limits, v.size)
		}
	}
}

// countThrottled adds throttled entries to the stats.
func (p *Proxy) countThrottled(name string, vs []verdict) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, v := range vs {
		if !v.ok {
			p.count(name, v.shard, 0, 0, 1)
		}
	}
}

// countWritten adds an entry the backend wrote to the stats, and notes
// when the backend put it on another shard than the proxy charged.
func (p *Proxy) countWritten(name string, v verdict, res entryResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	shard := v.shard
	if shard == "" {
		shard = res.ShardId
	} else if res.ShardId != shard {
		p.stats.Misrouted++
		p.log.Warn("shardlimit: the backend wrote to another shard than the proxy charged",
			"stream", name, "charged", shard, "written", res.ShardId)
	}
	p.count(name, shard, 1, v.size, 0)
}

// readEntry reads an entry and where it belongs; false when Kinesis would
// refuse it, for the backend to say so.
func readEntry(raw []byte) (entry, *big.Int, bool) {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, nil, false
	}
	k, ok := hashKeyOf(e.PartitionKey, e.ExplicitHashKey)
	return e, k, ok
}

// putRecords throttles the entries of a PutRecords that are over their
// shards' budgets, sends the rest to the backend as one smaller
// PutRecords, and merges both into one answer in the request's order.
func (p *Proxy) putRecords(w http.ResponseWriter, r *http.Request, body []byte) {
	fault := p.takeFault(true)
	var req struct {
		StreamName string
		StreamARN  string
		Records    []json.RawMessage
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Records) == 0 || len(req.Records) > maxEntries {
		p.pass(w, r, body, fault)
		return
	}
	name, ok := streamName(req.StreamName, req.StreamARN)
	if !ok {
		p.pass(w, r, body, fault)
		return
	}
	es := make([]entry, len(req.Records))
	keys := make([]*big.Int, len(req.Records))
	for i, raw := range req.Records {
		if es[i], keys[i], ok = readEntry(raw); !ok {
			p.pass(w, r, body, fault)
			return
		}
	}
	st, vs, err := p.admit(r.Context(), name, es, keys)
	if err != nil {
		p.admitFailed(w, r, body, fault, err)
		return
	}
	p.countThrottled(name, vs)

	results := make([]json.RawMessage, len(es))
	failed := 0
	var kept []json.RawMessage
	var keptVerdicts []verdict
	for i, v := range vs {
		if v.ok {
			kept = append(kept, req.Records[i])
			keptVerdicts = append(keptVerdicts, v)
			continue
		}
		failed++
		results[i] = p.throttledEntry(name, v.shard)
	}

	var backend *answer
	encryption := ""
	if len(kept) > 0 {
		fwd := body
		if len(kept) < len(es) {
			if fwd, err = withRecords(body, kept); err != nil {
				p.refund(st, keptVerdicts)
				p.answerError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
				return
			}
		}
		backend, err = p.forward(r, fwd)
		if err != nil {
			p.refund(st, keptVerdicts)
			p.backendFailed(w, r, err)
			return
		}
		if backend.status != http.StatusOK {
			p.refund(st, keptVerdicts)
			p.finish(w, fault, func() { relay(w, backend, backend.body) })
			return
		}
		var out struct {
			Records        []json.RawMessage
			EncryptionType string
		}
		if err := json.Unmarshal(backend.body, &out); err != nil || len(out.Records) != len(kept) {
			p.refund(st, keptVerdicts)
			p.log.Warn("shardlimit: unexpected PutRecords answer from the backend", "body", string(backend.body), "err", err)
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		encryption = out.EncryptionType
		var unwritten []verdict
		j := 0
		for i := range results {
			if results[i] != nil {
				continue
			}
			v := keptVerdicts[j]
			results[i] = out.Records[j]
			j++
			var res entryResult
			if err := json.Unmarshal(results[i], &res); err != nil || res.ErrorCode != "" || res.SequenceNumber == "" {
				failed++
				unwritten = append(unwritten, v)
				continue
			}
			p.countWritten(name, v, res)
		}
		p.refund(st, unwritten)
		st.rememberEncryption(encryption)
	} else {
		encryption = st.lastEncryption()
	}

	merged, err := json.Marshal(struct {
		FailedRecordCount int
		Records           []json.RawMessage
		EncryptionType    string `json:",omitempty"`
	}{failed, results, encryption})
	if err != nil {
		p.answerError(w, http.StatusInternalServerError, "InternalFailure", "shardlimit: "+err.Error())
		return
	}
	p.finish(w, fault, func() {
		if backend != nil {
			relay(w, backend, merged)
			return
		}
		p.answer(w, http.StatusOK, merged)
	})
}

// putRecord throttles a PutRecord over its shard's budget with the error
// Kinesis answers, and passes the others.
func (p *Proxy) putRecord(w http.ResponseWriter, r *http.Request, body []byte) {
	fault := p.takeFault(false)
	var req struct {
		StreamName string
		StreamARN  string
	}
	e, key, ok := readEntry(body)
	if !ok || json.Unmarshal(body, &req) != nil {
		p.pass(w, r, body, fault)
		return
	}
	name, ok := streamName(req.StreamName, req.StreamARN)
	if !ok {
		p.pass(w, r, body, fault)
		return
	}
	st, vs, err := p.admit(r.Context(), name, []entry{e}, []*big.Int{key})
	if err != nil {
		p.admitFailed(w, r, body, fault, err)
		return
	}
	if !vs[0].ok {
		p.countThrottled(name, vs)
		p.finish(w, fault, func() {
			p.answerError(w, http.StatusBadRequest, "ProvisionedThroughputExceededException", p.throttleMessage(name, vs[0].shard))
		})
		return
	}
	a, err := p.forward(r, body)
	if err != nil {
		p.refund(st, vs)
		p.backendFailed(w, r, err)
		return
	}
	var res entryResult
	if a.status != http.StatusOK || json.Unmarshal(a.body, &res) != nil || res.SequenceNumber == "" {
		p.refund(st, vs)
	} else {
		p.countWritten(name, vs[0], res)
		st.rememberEncryption(res.EncryptionType)
	}
	p.finish(w, fault, func() { relay(w, a, a.body) })
}

// admitFailed answers a write whose shards the proxy could not learn: one
// to a stream the backend does not have goes there to be refused.
func (p *Proxy) admitFailed(w http.ResponseWriter, r *http.Request, body []byte, fault Fault, err error) {
	if errors.Is(err, errNoStream) {
		p.pass(w, r, body, fault)
		return
	}
	p.log.Warn("shardlimit: cannot learn the shards", "err", err)
	p.answerError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
}

// pass forwards a write the proxy does not throttle (one the backend will
// refuse) unchanged.
func (p *Proxy) pass(w http.ResponseWriter, r *http.Request, body []byte, fault Fault) {
	a, err := p.forward(r, body)
	if err != nil {
		p.backendFailed(w, r, err)
		return
	}
	p.finish(w, fault, func() { relay(w, a, a.body) })
}

// finish answers a write with reply, unless a fault spoils it.
func (p *Proxy) finish(w http.ResponseWriter, fault Fault, reply func()) {
	switch fault {
	case LoseAnswer:
		// Closes the connection without a response (net/http's own way).
		panic(http.ErrAbortHandler)
	case HoldAnswer:
		p.mu.Lock()
		p.held++
		release := p.release
		p.mu.Unlock()
		<-release
		p.mu.Lock()
		p.held--
		p.mu.Unlock()
	}
	reply()
}

// withRecords is a PutRecords body with other records; every other field
// stays as the client sent it.
func withRecords(body []byte, records []json.RawMessage) ([]byte, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("shardlimit: rewrite PutRecords: %w", err)
	}
	rs, err := json.Marshal(records)
	if err != nil {
		return nil, fmt.Errorf("shardlimit: rewrite PutRecords: %w", err)
	}
	req["Records"] = rs
	out, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("shardlimit: rewrite PutRecords: %w", err)
	}
	return out, nil
}

// throttleMessage is Kinesis's own wording.
func (p *Proxy) throttleMessage(stream, shardID string) string {
	return fmt.Sprintf("Rate exceeded for shard %s in stream %s under account %s.", shardID, stream, p.account)
}

// throttledEntry is a PutRecords result entry for a throttled record.
func (p *Proxy) throttledEntry(stream, shardID string) json.RawMessage {
	b, _ := json.Marshal(struct{ ErrorCode, ErrorMessage string }{
		"ProvisionedThroughputExceededException", p.throttleMessage(stream, shardID),
	})
	return b
}

// answerError writes an error the way Kinesis's JSON protocol does, which
// the SDK reads by its __type.
func (p *Proxy) answerError(w http.ResponseWriter, status int, errType, message string) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{errType, message})
	p.answer(w, status, b)
}

// answer writes a reply of the proxy's own with the headers Kinesis sends.
func (p *Proxy) answer(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	h.Set("x-amzn-RequestId", requestID())
	var id2 [48]byte
	_, _ = rand.Read(id2[:])
	h.Set("x-amz-id-2", base64.StdEncoding.EncodeToString(id2[:]))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// requestID is a random id in the UUID shape AWS uses.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (st *streamState) rememberEncryption(t string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if t != "" {
		st.encryption = t
	}
}

func (st *streamState) lastEncryption() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.encryption
}
