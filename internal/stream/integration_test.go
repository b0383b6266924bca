package stream_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// backend is one running local backend with the streams the tests write to.
type backend struct {
	kind    string
	b       *localaws.Backend
	pub     *stream.Publisher
	main    string // 4 shards
	single  string // 1 shard
	mainARN string
}

// TestBackends runs the publisher against every local backend: the real SDK
// over real HTTP. Each backend is started once for this package (kinesis-local
// slows down as its shards fill, so it is never shared across packages).
func TestBackends(t *testing.T) {
	for _, kind := range localawstest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			b := localawstest.Start(t, kind)
			client := localawstest.Kinesis(t, b)
			be := &backend{
				kind:   kind,
				b:      b,
				pub:    stream.NewPublisher(client, stream.Options{}),
				main:   "it-four-shards",
				single: "it.one_shard-1",
			}
			localawstest.CreateStream(t, client, be.main, 4)
			localawstest.CreateStream(t, client, be.single, 1)

			t.Run("ListAndDescribe", be.testListAndDescribe)
			t.Run("PutAndReadBack", be.testPutAndReadBack)
			t.Run("ExplicitHashKey", be.testExplicitHashKey)
			t.Run("ShardForPartitionKeys", be.testShardForPartitionKeys)
			t.Run("UnknownStream", be.testUnknownStream)
			t.Run("StreamARN", be.testStreamARN)
			t.Run("ThrottledTwiceThenWritten", be.testThrottledTwiceThenWritten)
		})
	}
}

func (be *backend) testListAndDescribe(t *testing.T) {
	ctx := t.Context()
	names, err := be.pub.ListStreams(ctx)
	if err != nil {
		t.Fatalf("ListStreams: %v", err)
	}
	for _, want := range []string{be.main, be.single} {
		if !slices.Contains(names, want) {
			t.Errorf("ListStreams = %q, missing %q", names, want)
		}
	}

	for _, tc := range []struct {
		name   string
		shards int
	}{{be.main, 4}, {be.single, 1}} {
		s, err := be.pub.Describe(ctx, stream.StreamRef{Name: tc.name})
		if err != nil {
			t.Fatalf("Describe(%s): %v", tc.name, err)
		}
		if s.Name != tc.name || s.Status != "ACTIVE" || !s.Active() || s.OpenShards != tc.shards {
			t.Errorf("Describe(%s) = name %q status %q open shards %d, want %q ACTIVE %d",
				tc.name, s.Name, s.Status, s.OpenShards, tc.name, tc.shards)
		}
		wantARN := "arn:aws:kinesis:" + localaws.Region + ":"
		if !strings.HasPrefix(s.ARN, wantARN) || !strings.HasSuffix(s.ARN, ":stream/"+tc.name) {
			t.Errorf("Describe(%s).ARN = %q, want %s...:stream/%s", tc.name, s.ARN, wantARN, tc.name)
		}
		if s.CapacityMode != "PROVISIONED" || s.RetentionHours != 24 || s.EncryptionType != "NONE" || s.MaxRecordBytes != stream.DefaultMaxRecordBytes {
			t.Errorf("Describe(%s) = mode %q retention %dh encryption %q max record %d, want PROVISIONED 24h NONE %d",
				tc.name, s.CapacityMode, s.RetentionHours, s.EncryptionType, s.MaxRecordBytes, stream.DefaultMaxRecordBytes)
		}
		if tc.name == be.main {
			be.mainARN = s.ARN
		}

		shards, err := be.pub.Shards(ctx, stream.StreamRef{Name: tc.name})
		if err != nil {
			t.Fatalf("Shards(%s): %v", tc.name, err)
		}
		checkShardsCoverHashSpace(t, shards, tc.shards)
	}
}

// checkShardsCoverHashSpace checks that the open shards split 0..2^128-1
// into n ranges without gap or overlap.
func checkShardsCoverHashSpace(t *testing.T, shards []stream.Shard, n int) {
	t.Helper()
	open := slices.DeleteFunc(slices.Clone(shards), func(s stream.Shard) bool { return !s.Open })
	if len(open) != n {
		t.Fatalf("%d open shards, want %d: %+v", len(open), n, shards)
	}
	slices.SortFunc(open, func(a, b stream.Shard) int { return a.StartHashKey.Cmp(b.StartHashKey) })
	if open[0].StartHashKey.Sign() != 0 {
		t.Errorf("first shard starts at %s, want 0", open[0].StartHashKey)
	}
	if open[n-1].EndHashKey.Cmp(stream.MaxHashKey) != 0 {
		t.Errorf("last shard ends at %s, want 2^128-1", open[n-1].EndHashKey)
	}
	for i := 1; i < n; i++ {
		next := new(big.Int).Add(open[i-1].EndHashKey, big.NewInt(1))
		if open[i].StartHashKey.Cmp(next) != 0 {
			t.Errorf("shard %s starts at %s, want %s (just after %s)", open[i].ID, open[i].StartHashKey, next, open[i-1].ID)
		}
	}
}

func (be *backend) testPutAndReadBack(t *testing.T) {
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	for _, tc := range []struct {
		name string
		in   stream.Input
		want []byte
	}{
		{
			name: "json",
			in:   stream.Input{Data: `{"order": 42, "items": ["a", "b"], "note": "grüße"}`, Format: stream.FormatJSON, PartitionKey: "customer-1"},
			want: []byte(`{"order": 42, "items": ["a", "b"], "note": "grüße"}`),
		},
		{
			name: "text with CRLF",
			in:   stream.Input{Data: "line one\r\nline two\r\n", Format: stream.FormatText, PartitionKey: "ключ-🔑"},
			want: []byte("line one\nline two\n"),
		},
		{
			name: "binary as base64",
			in:   stream.Input{Data: base64.StdEncoding.EncodeToString(binary), Format: stream.FormatBase64, PartitionKey: "bytes"},
			want: binary,
		},
		{
			name: "one-shard stream",
			in:   stream.Input{Stream: be.single, Data: `[]`, PartitionKey: "x"},
			want: []byte(`[]`),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			if tc.in.Stream == "" {
				tc.in.Stream = be.main
			}
			rec, res := be.put(t, tc.in)
			if res.Stream != rec.Stream {
				t.Errorf("PutResult.Stream = %+v, want %+v", res.Stream, rec.Stream)
			}
			if res.ShardID == "" || res.SequenceNumber == "" {
				t.Errorf("PutResult without ShardID %q or SequenceNumber %q", res.ShardID, res.SequenceNumber)
			}
			// Every backend sends x-amzn-RequestId.
			if res.RequestID == "" {
				t.Errorf("PutResult.RequestID empty; headers %v", res.Headers)
			}
			if res.HTTPStatus != http.StatusOK || res.Attempts != 1 {
				t.Errorf("PutResult HTTPStatus %d Attempts %d, want 200 and 1", res.HTTPStatus, res.Attempts)
			}
			if !slices.ContainsFunc(res.Headers, func(h stream.Header) bool { return h.Name == "Content-Type" && h.Value != "" }) {
				t.Errorf("PutResult.Headers %v lack Content-Type", res.Headers)
			}
			if !slices.IsSortedFunc(res.Headers, func(a, b stream.Header) int { return strings.Compare(a.Name, b.Name) }) {
				t.Errorf("PutResult.Headers not sorted: %v", res.Headers)
			}
			if res.Latency <= 0 {
				t.Errorf("PutResult.Latency = %s", res.Latency)
			}

			got, err := be.pub.ReadBack(ctx, "viewer", rec.Stream, res.ShardID, res.SequenceNumber)
			if err != nil {
				t.Fatalf("ReadBack: %v", err)
			}
			if !bytes.Equal(got.Data, tc.want) {
				t.Errorf("read back data %q, want %q", got.Data, tc.want)
			}
			if got.PartitionKey != tc.in.PartitionKey || got.SequenceNumber != res.SequenceNumber {
				t.Errorf("read back partition key %q seq %s, want %q %s", got.PartitionKey, got.SequenceNumber, tc.in.PartitionKey, res.SequenceNumber)
			}
			// Only kinesis-local sends EncryptionType (AWS does too).
			wantEnc := map[string]string{localaws.KindKinesisLocal: "NONE"}[be.kind]
			if res.EncryptionType != wantEnc || got.EncryptionType != wantEnc {
				t.Errorf("EncryptionType put %q read %q, want %q", res.EncryptionType, got.EncryptionType, wantEnc)
			}
			if got.ApproximateArrivalTimestamp.IsZero() {
				t.Error("read back record has no ApproximateArrivalTimestamp")
			}
		})
	}
}

func (be *backend) testExplicitHashKey(t *testing.T) {
	shards, err := be.pub.Shards(t.Context(), stream.StreamRef{Name: be.main})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shards {
		beforeEnd := new(big.Int).Sub(s.EndHashKey, big.NewInt(1))
		for _, key := range []*big.Int{s.StartHashKey, beforeEnd, s.EndHashKey} {
			t.Run(s.ID+" "+key.String(), func(t *testing.T) {
				// moto 5.2.1 looks a key up with start <= key < end though it
				// reports EndingHashKey inclusive, as AWS does: a key equal to
				// any shard's EndingHashKey (2^128-1 among them) finds no
				// shard and gets HTTP 500. kinesalite, kinesis-local and AWS
				// take it.
				if be.kind == localaws.KindMoto && key.Cmp(s.EndHashKey) == 0 {
					rec, errs := stream.Input{Stream: be.main, Data: `{}`, PartitionKey: "same", ExplicitHashKey: key.String()}.Validate(0)
					if errs != nil {
						t.Fatal(errs)
					}
					_, err := be.pub.Put(t.Context(), rec)
					if f := asFailure(t, err); f.Kind != stream.KindServiceError || f.HTTPStatus != http.StatusInternalServerError || f.Outcome() != stream.Unknown {
						t.Errorf("moto's HTTP 500: kind %v status %d (%v), want KindServiceError 500", f.Kind, f.HTTPStatus, err)
					}
					t.Skip("moto answers an ExplicitHashKey equal to a shard's EndingHashKey with HTTP 500")
				}
				if want, ok := stream.ShardFor(shards, key); !ok || want.ID != s.ID {
					t.Errorf("ShardFor(%s) = %q, %v; want %q", key, want.ID, ok, s.ID)
				}
				// The same partition key everywhere: the explicit key decides.
				_, res := be.put(t, stream.Input{Stream: be.main, Data: `{}`, PartitionKey: "same", ExplicitHashKey: key.String()})
				if res.ShardID != s.ID {
					t.Errorf("ExplicitHashKey %s went to %s, want %s", key, res.ShardID, s.ID)
				}
			})
		}
	}
}

func (be *backend) testShardForPartitionKeys(t *testing.T) {
	shards, err := be.pub.Shards(t.Context(), stream.StreamRef{Name: be.main})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for range 50 {
		pk := randomKey(t)
		predicted, ok := stream.ShardFor(shards, stream.HashKey(pk))
		if !ok {
			t.Fatalf("ShardFor(HashKey(%q)): no shard", pk)
		}
		_, res := be.put(t, stream.Input{Stream: be.main, Data: `{"k":1}`, PartitionKey: pk})
		if res.ShardID != predicted.ID {
			t.Errorf("partition key %q (hash %s) went to %s, ShardFor said %s", pk, stream.HashKey(pk), res.ShardID, predicted.ID)
		}
		seen[res.ShardID]++
	}
	// 50 random keys miss one of 4 quarters with odds of about 4*(3/4)^50.
	if len(seen) != 4 {
		t.Errorf("50 random keys reached %d shards, want 4: %v", len(seen), seen)
	}
}

// randomKey returns a partition key of 1 to 64 random characters, some
// outside ASCII, so the hash sees more than hex digits.
func randomKey(t *testing.T) string {
	t.Helper()
	var b [48]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	key := hex.EncodeToString(b[:1+int(b[0])%47])
	if b[1]%3 == 0 {
		key += "-é"
	}
	return key
}

func (be *backend) testUnknownStream(t *testing.T) {
	ctx := t.Context()
	rec, errs := stream.Input{Stream: "no-such-stream", Data: `{}`, PartitionKey: "k"}.Validate(0)
	if errs != nil {
		t.Fatal(errs)
	}
	_, err := be.pub.Put(ctx, rec)
	f := asFailure(t, err)
	if f.Kind != stream.KindNotFound || f.Op != "PutRecord" || f.Code != "ResourceNotFoundException" || f.Attempts != 1 {
		t.Errorf("Put to an unknown stream: kind %v op %q code %q attempts %d, want KindNotFound PutRecord ResourceNotFoundException 1 (%v)",
			f.Kind, f.Op, f.Code, f.Attempts, err)
	}
	if f.HTTPStatus != http.StatusBadRequest || f.RequestID == "" || (f.Outcome() == stream.Unknown) {
		t.Errorf("Put to an unknown stream: status %d request id %q may have written %v, want 400, an id, false",
			f.HTTPStatus, f.RequestID, (f.Outcome() == stream.Unknown))
	}

	_, err = be.pub.Describe(ctx, stream.StreamRef{Name: "no-such-stream"})
	if f := asFailure(t, err); f.Kind != stream.KindNotFound {
		t.Errorf("Describe of an unknown stream: kind %v (%v), want KindNotFound", f.Kind, err)
	}
}

func (be *backend) testStreamARN(t *testing.T) {
	if be.mainARN == "" {
		t.Fatal("no ARN from ListAndDescribe")
	}
	ctx := t.Context()
	// kinesalite 3.3.3 predates the StreamARN parameters: it wants StreamName.
	if be.kind == localaws.KindKinesalite {
		rec, errs := stream.Input{Stream: be.mainARN, Data: `{}`, PartitionKey: "k"}.Validate(0)
		if errs != nil {
			t.Fatal(errs)
		}
		_, err := be.pub.Put(ctx, rec)
		if f := asFailure(t, err); f.Kind != stream.KindInvalidArgument || f.Code != "ValidationException" {
			t.Errorf("kinesalite Put by ARN: kind %v code %q (%v), want KindInvalidArgument ValidationException", f.Kind, f.Code, err)
		}
		t.Skip("kinesalite 3.3.3 does not take StreamARN: 400 ValidationException (streamName must not be null)")
	}
	rec, res := be.put(t, stream.Input{Stream: be.mainARN, Data: `{"by":"arn"}`, PartitionKey: "arn-key"})
	if rec.Stream.ARN != be.mainARN || rec.Stream.Name != be.main {
		t.Fatalf("Validate(ARN).Stream = %+v", rec.Stream)
	}
	got, err := be.pub.ReadBack(ctx, "viewer", rec.Stream, res.ShardID, res.SequenceNumber)
	if err != nil {
		t.Fatalf("ReadBack by ARN: %v", err)
	}
	if string(got.Data) != `{"by":"arn"}` {
		t.Errorf("read back by ARN %q", got.Data)
	}
	s, err := be.pub.Describe(ctx, rec.Stream)
	if err != nil || s.Name != be.main {
		t.Errorf("Describe by ARN = %q, %v", s.Name, err)
	}
	shards, err := be.pub.Shards(ctx, rec.Stream)
	if err != nil || len(shards) != 4 {
		t.Errorf("Shards by ARN = %d shards, %v", len(shards), err)
	}
}

// A throttled write is retried, since Kinesis refused it: two throttling
// answers, then the real backend takes it on the third attempt.
func (be *backend) testThrottledTwiceThenWritten(t *testing.T) {
	target, err := url.Parse(be.b.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := requests.Add(1); n <= 2 {
			throttle(w, fmt.Sprintf("throttled-%d", n))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	pub := stream.NewPublisher(kinesisClient(t, srv.URL), stream.Options{MaxAttempts: 5, MaxBackoff: 5 * time.Millisecond})
	rec, errs := stream.Input{Stream: be.main, Data: `{"after":"throttling"}`, PartitionKey: "retry"}.Validate(0)
	if errs != nil {
		t.Fatal(errs)
	}
	res, err := pub.Put(t.Context(), rec)
	if err != nil {
		t.Fatalf("Put through a throttling proxy: %v", err)
	}
	if res.Attempts != 3 || requests.Load() != 3 {
		t.Errorf("Attempts = %d, proxy saw %d requests; want 3 and 3", res.Attempts, requests.Load())
	}
	if res.HTTPStatus != http.StatusOK || res.RequestID == "" || strings.HasPrefix(res.RequestID, "throttled-") {
		t.Errorf("PutResult status %d request id %q, want 200 and the backend's id", res.HTTPStatus, res.RequestID)
	}
	got, err := be.pub.ReadBack(t.Context(), "viewer", rec.Stream, res.ShardID, res.SequenceNumber)
	if err != nil || string(got.Data) != `{"after":"throttling"}` {
		t.Errorf("ReadBack after throttling = %q, %v", got.Data, err)
	}
}

// put validates in and writes it, failing the test on any error.
func (be *backend) put(t *testing.T, in stream.Input) (stream.Record, stream.PutResult) {
	t.Helper()
	rec, errs := in.Validate(stream.DefaultMaxRecordBytes)
	if errs != nil {
		t.Fatalf("Validate(%+v): %v", in, errs)
	}
	res, err := be.pub.Put(t.Context(), rec)
	if err != nil {
		t.Fatalf("Put(%+v): %v", in, err)
	}
	return rec, res
}

// throttle answers like Kinesis when a shard is over its write limit.
func throttle(w http.ResponseWriter, requestID string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(http.StatusBadRequest)
	_, _ = io.WriteString(w, `{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard shardId-000000000000 in stream s under account 123456789012."}`)
}

func kinesisClient(t *testing.T, endpoint string) *kinesis.Client {
	t.Helper()
	cfg, err := localaws.ConfigFor(t.Context(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return kinesis.NewFromConfig(cfg)
}

func asFailure(t *testing.T, err error) *stream.Failure {
	t.Helper()
	var f *stream.Failure
	if !errors.As(err, &f) {
		t.Fatalf("error %v (%T) is not a *stream.Failure", err, err)
	}
	return f
}

func validRecord(t *testing.T) stream.Record {
	t.Helper()
	rec, errs := stream.Input{Stream: "s", Data: `{"a":1}`, PartitionKey: "k"}.Validate(0)
	if errs != nil {
		t.Fatal(errs)
	}
	return rec
}

// A refused connection never reached Kinesis: it is retried, and reported as
// unreachable, with nothing written.
func TestPutConnectionRefused(t *testing.T) {
	t.Parallel()
	endpoint := localawstest.RefusedEndpoint(t)

	pub := stream.NewPublisher(kinesisClient(t, endpoint), stream.Options{MaxAttempts: 3, MaxBackoff: time.Millisecond})
	_, err := pub.Put(t.Context(), validRecord(t))
	f := asFailure(t, err)
	if f.Kind != stream.KindUnreachable || (f.Outcome() == stream.Unknown) || f.Attempts != 3 {
		t.Errorf("connection refused: kind %v attempts %d may have written %v (%v), want KindUnreachable, 3, false",
			f.Kind, f.Attempts, (f.Outcome() == stream.Unknown), err)
	}
}

// A request that was sent but never answered may have been written: it must
// be reported as such, and never resent.
func TestPutNoAnswer(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	received := make(chan struct{}, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				n, _ := c.Read(buf)
				if n > 0 {
					received <- struct{}{}
				}
				_, _ = io.Copy(io.Discard, c) // read on, never answer
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })

	pub := stream.NewPublisher(kinesisClient(t, "http://"+l.Addr().String()), stream.Options{PutTimeout: 300 * time.Millisecond, MaxBackoff: time.Millisecond})
	start := time.Now()
	_, err = pub.Put(t.Context(), validRecord(t))
	elapsed := time.Since(start)
	f := asFailure(t, err)
	if f.Kind != stream.KindOutcomeUnknown || f.Outcome() != stream.Unknown || f.Attempts != 1 {
		t.Errorf("no answer: kind %v attempts %d may have written %v (%v), want KindOutcomeUnknown, 1, true",
			f.Kind, f.Attempts, (f.Outcome() == stream.Unknown), err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("server saw %d connections, want 1 (no resend)", n)
	}
	select {
	case <-received:
	default:
		t.Error("server received no request bytes")
	}
	if elapsed > 5*time.Second {
		t.Errorf("Put took %s with a 300ms PutTimeout", elapsed)
	}
}

// Throttling on every attempt gives up after MaxAttempts, and says nothing
// was written. MaxAttempts holds even when the client was given its own
// (AWS_MAX_ATTEMPTS, retry_max_attempts in the AWS config file).
func TestPutAlwaysThrottled(t *testing.T) {
	t.Parallel()
	for _, clientMax := range []int{0, 10} {
		t.Run(fmt.Sprintf("client max attempts %d", clientMax), func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				throttle(w, fmt.Sprintf("throttled-%d", requests.Add(1)))
			}))
			t.Cleanup(srv.Close)

			client := kinesis.New(kinesisClient(t, srv.URL).Options(), func(o *kinesis.Options) { o.RetryMaxAttempts = clientMax })
			pub := stream.NewPublisher(client, stream.Options{MaxAttempts: 4, MaxBackoff: time.Millisecond})
			_, err := pub.Put(t.Context(), validRecord(t))
			f := asFailure(t, err)
			if f.Kind != stream.KindThrottled || f.Attempts != 4 || requests.Load() != 4 || (f.Outcome() == stream.Unknown) {
				t.Errorf("always throttled: kind %v attempts %d requests %d may have written %v (%v), want KindThrottled, 4, 4, false",
					f.Kind, f.Attempts, requests.Load(), (f.Outcome() == stream.Unknown), err)
			}
			if f.Code != "ProvisionedThroughputExceededException" || f.HTTPStatus != http.StatusBadRequest || f.RequestID != "throttled-4" {
				t.Errorf("always throttled: code %q status %d request id %q, want the last answer's", f.Code, f.HTTPStatus, f.RequestID)
			}
			if !strings.Contains(f.Explanation(), "tried 4 times") {
				t.Errorf("Explanation %q does not give the attempts", f.Explanation())
			}
		})
	}
}

// When the deadline strikes while waiting to retry a throttled write, every
// attempt was refused: the record was not written, and the user must not be
// told it may have been.
func TestPutThrottledUntilDeadline(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		// The SDK waits at least this long before the next attempt, so the
		// deadline below falls in the wait, not during a request.
		w.Header().Set("x-amz-retry-after", "5000")
		throttle(w, "throttled")
	}))
	t.Cleanup(srv.Close)

	pub := stream.NewPublisher(kinesisClient(t, srv.URL), stream.Options{PutTimeout: 500 * time.Millisecond, MaxAttempts: 5, MaxBackoff: 10 * time.Millisecond})
	_, err := pub.Put(t.Context(), validRecord(t))
	f := asFailure(t, err)
	if f.Kind != stream.KindThrottled || (f.Outcome() == stream.Unknown) || f.Attempts != 1 || requests.Load() != 1 {
		t.Errorf("throttled until the deadline: kind %v attempts %d requests %d may have written %v (%v), want KindThrottled, 1, 1, false",
			f.Kind, f.Attempts, requests.Load(), (f.Outcome() == stream.Unknown), err)
	}
	// The deadline's error carries no answer; the failure keeps the status
	// of the last answer that came.
	if f.HTTPStatus != http.StatusBadRequest {
		t.Errorf("HTTP status %d, want the last answer's 400", f.HTTPStatus)
	}
}

// An error answer without an AWS error code (a proxy's HTML page) is an
// answer: a 5xx may have been written, a 4xx was refused.
func TestPutUnreadableErrorAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status  int
		want    stream.Kind
		mayHave bool
	}{
		{http.StatusInternalServerError, stream.KindServiceError, true},
		{http.StatusBadGateway, stream.KindServiceError, true},
		{http.StatusForbidden, stream.KindOther, false},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, "<html><body>Something went wrong</body></html>")
			}))
			t.Cleanup(srv.Close)

			pub := stream.NewPublisher(kinesisClient(t, srv.URL), stream.Options{MaxBackoff: time.Millisecond})
			_, err := pub.Put(t.Context(), validRecord(t))
			f := asFailure(t, err)
			if f.Kind != tc.want || f.HTTPStatus != tc.status || (f.Outcome() == stream.Unknown) != tc.mayHave || f.Attempts != 1 || requests.Load() != 1 {
				t.Errorf("HTML %d: kind %v status %d may have written %v attempts %d requests %d (%v); want kind %v, %v, 1 attempt",
					tc.status, f.Kind, f.HTTPStatus, (f.Outcome() == stream.Unknown), f.Attempts, requests.Load(), err, tc.want, tc.mayHave)
			}
		})
	}
}

// Canceling the caller's context is reported as such.
func TestPutCanceled(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices the client hang up only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(t.Context())
	pub := stream.NewPublisher(kinesisClient(t, srv.URL), stream.Options{})
	rec := validRecord(t)
	done := make(chan error, 1)
	go func() {
		_, err := pub.Put(ctx, rec)
		done <- err
	}()
	<-arrived
	cancel()
	f := asFailure(t, <-done)
	if f.Kind != stream.KindCanceled {
		t.Errorf("canceled put: kind %v (%v), want KindCanceled", f.Kind, f.Err)
	}
}
