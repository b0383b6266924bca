package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/decode"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/write"
	"github.com/kinesis-console/kinesis-console/views"
)

// FieldReadBackToken is the read-back request's field holding the token the
// put's answer carried.
const FieldReadBackToken = "readback_token"

// readBack handles POST /records/readback: the record form, plus the token
// the put's answer carried. It reads the record back from the stream and
// compares it with what was sent, while the form still holds it. It runs as
// its own request so the put's answer is never held up by it.
//
// Only the token says where to read: the console signed it over the user,
// target, stream, shard, sequence number and what was sent when the put
// succeeded, so a user reads back only records they wrote, never one at a
// sequence number guessed or learnt elsewhere.
func (h *handlers) readBack(c echo.Context) error {
	ctx := c.Request().Context()
	who := h.visitorOf(ctx)
	user, t := who.User, who.Target
	claim, err := h.readBackKeys.verify(ctx, c.FormValue(FieldReadBackToken))
	switch {
	case errors.Is(err, errReadBackExpired):
		return render(c, http.StatusOK, views.ReadBackView(views.ReadBack{Err: "Not read back: this result is more than an hour old; put the record again to check it."}))
	case errors.Is(err, errReadBackNoKey):
		h.deps.Logger.Warn("read-back token not checked", "err", err.Error())
		return render(c, http.StatusOK, views.ReadBackView(views.ReadBack{Err: readBackNoKeyText}))
	}
	if err != nil || claim.User != user.Name || claim.Target != t.Name {
		return echo.NewHTTPError(http.StatusForbidden, "Not read back: a read-back is only for the record you just wrote, on the same target.").SetInternal(err)
	}
	// The policy may have changed since the put: the put's own checks of
	// the stream again.
	ref, r := h.writes.CheckStream(ctx, who, claim.Stream, false)
	if r != nil {
		return echo.NewHTTPError(http.StatusForbidden, r.Message)
	}
	in, _ := bindInput(c)
	rec, errs := in.Validate(stream.MaxRecordBytesLimit)
	sent := claim.Data
	if claim.Shaped != "" {
		sent = claim.Sent // a schema changed the bytes: the form holds what was typed
	}
	if len(errs) > 0 || rec.Stream.String() != claim.Stream || digest([]byte(rec.PartitionKey)) != claim.Key || digest(rec.Data) != sent {
		return render(c, http.StatusOK, views.ReadBackView(views.ReadBack{Err: "Not read back: the form was edited while the put was in flight, so it no longer holds what was sent."}))
	}
	if !h.deps.ReadBackRateLimit.Allow(user.Name, 1) {
		return render(c, http.StatusOK, views.ReadBackView(views.ReadBack{Err: "Not read back: you are reading back faster than this console allows, " +
			"to leave the stream's read limit to its consumers."}))
	}
	ctx, cancel := context.WithTimeout(ctx, write.AWSCallTimeout)
	defer cancel()
	got, err := who.Clients.Publisher.ReadBack(ctx, viewerOf(c), ref, claim.Shard, claim.Sequence)
	if err != nil {
		return render(c, http.StatusOK, views.ReadBackView(views.ReadBack{Err: readBackFailure(err)}))
	}
	v := readBackView(rec, got)
	if claim.Shaped != "" {
		v = shapedReadBackView(v, got, claim.Shaped)
	}
	// What was read is judged against what the token says was written.
	v.Matches = digest(got.Data) == claim.Data && digest([]byte(got.PartitionKey)) == claim.Key
	return render(c, http.StatusOK, views.ReadBackView(v))
}

// shapedReadBackView is the read-back of a record a schema encoded or
// framed: the bytes read are compared with the bytes written, whose hash
// alone the token holds, so a difference is said without a position; the
// data is shown decoded, the frame's payload as a person reads it.
func shapedReadBackView(v views.ReadBack, got stream.ReadRecord, shaped string) views.ReadBack {
	v.Shaped = shaped
	v.SentBytes = len(got.Data)
	v.Difference, v.SentAround, v.GotAround = "the bytes read are not the bytes written (their SHA-256 differs)", "", ""
	if v.PartitionKey != "" && got.PartitionKey != v.PartitionKey {
		v.Difference = "the partition key differs"
	}
	if recs := decode.Decode(got.Data, decode.Options{}); len(recs) == 1 {
		v.Data, v.DataKind = recs[0].Text, recs[0].FormatAttr()
	}
	return v
}

// shapedBy says how a schema changed the bytes of a record ("" when the
// data was written as typed): the read-back and its page say so instead of
// calling the record different.
func shapedBy(cv views.Consumers) string {
	s := cv.Schema
	switch {
	case s == nil:
		return ""
	case s.Format == string(schema.FormatAvro) && s.Framed:
		return "Avro-encoded and framed"
	case s.Format == string(schema.FormatAvro):
		return "Avro-encoded"
	case s.Framed:
		return "framed"
	}
	return ""
}

// readBackToken is what the read-back request sends with the form, and
// what the look at the stream's readers sends: the token for the record
// just written. rec is the record as
// written; typed is the form's data as the user typed it, which differs
// when cv's schema encoded or framed it.
func (h *handlers) readBackToken(ctx context.Context, rec stream.Record, res stream.PutResult, typed []byte, cv views.Consumers) string {
	cl := readBackClaim{
		User: userFrom(ctx).Name, Target: h.targetOf(ctx).Name, Stream: rec.Stream.String(),
		Shard: res.ShardID, Sequence: res.SequenceNumber,
		Key: digest([]byte(rec.PartitionKey)), Data: digest(rec.Data),
	}
	if !bytes.Equal(typed, rec.Data) {
		cl.Sent, cl.Shaped = digest(typed), shapedBy(cv)
		if cl.Shaped == "" {
			cl.Shaped = "changed by its schema"
		}
	}
	tok, err := h.readBackKeys.sign(ctx, cl)
	if err != nil {
		// The record is written: its answer goes without a read-back, and
		// the read-back slot says why.
		h.deps.Logger.Warn("read-back token not signed", "err", err.Error())
		return unsignedToken
	}
	return tok
}

// readBackVals is the read-back request's extra fields, as JSON for hx-vals.
func readBackVals(tok string) string {
	b, err := json.Marshal(map[string]string{FieldReadBackToken: tok})
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return string(b)
}

// readBackTokenTTL is how long a put's answer may be read back: the page
// asks at once, but a result may be reopened later.
const readBackTokenTTL = time.Hour

// readBackClaim is what a read-back token vouches for: who wrote which
// record where, and the SHA-256 of what they sent.
type readBackClaim struct {
	User     string `json:"u"`
	Target   string `json:"t"`
	Stream   string `json:"s"`
	Shard    string `json:"h"`
	Sequence string `json:"n"`
	Key      string `json:"k"` // digest of the partition key
	Data     string `json:"d"` // digest of the data written
	// Sent and Shaped are set when a schema changed the bytes: the digest
	// of the data as the form sent it, and how it was changed
	// ("Avro-encoded", "framed", ...).
	Sent    string `json:"f,omitempty"`
	Shaped  string `json:"w,omitempty"`
	Expires int64  `json:"e"` // Unix seconds
}

// readBackSecret names the read-back key in the state store, and
// readBackKeySize is its length: HMAC-SHA256's output size.
const (
	readBackSecret  = "readback-hmac"
	readBackKeySize = 32
)

// readBackKeys signs read-back tokens with HMAC-SHA256. With a state store
// the key is the store's secret readBackSecret, shared by the console's
// replicas and kept across restarts: behind a load balancer the read-back,
// GET /records/reached and a repeat's answer (which carries the first
// put's token) reach any replica, and must verify there. Without a store
// the key is made at start and tokens die with the process.
//
// The stored key is read on first use, not in New: a console whose store
// does not answer at start still starts (and refuses puts, whose keys need
// the store too), and gets the key once the store answers; from then on
// it is kept for the process's life, so a token costs no store call.
//
// The key is never logged, rendered, audited or put into metrics: whoever
// holds it can sign a token for any record. The store's own access control
// (IAM on the DynamoDB table, the state folder's 0700) protects it.
//
// Rotation is not done. It would take: tokens that name their key (a key
// id beside the MAC); the store holding a current and a previous secret
// (readback-hmac-<n>, and an item naming the current n, moved by a
// conditional write); replicas signing with the current and verifying with
// either, reading the current again every few minutes instead of keeping
// it for life; and the previous one dropped once readBackTokenTTL has
// passed since the last replica moved on. Until then, a key is replaced by
// deleting its item (or file) and restarting every replica: tokens signed
// before (an hour's at most) are then refused as not the console's.
type readBackKeys struct {
	now  func() time.Time
	load func(context.Context) ([]byte, error) // the shared key; nil when key is the process's own
	key  atomic.Pointer[[]byte]
	// loading is held by the one request reading the key from the store;
	// the others wait for it, each only as long as its own context allows.
	loading chan struct{}
}

// newReadBackKeys signs with the key load returns (read once, on first
// use), or with a key of its own, made now, when load is nil.
func newReadBackKeys(load func(context.Context) ([]byte, error)) *readBackKeys {
	k := &readBackKeys{now: time.Now, load: load, loading: make(chan struct{}, 1)}
	if load == nil {
		key := make([]byte, readBackKeySize)
		rand.Read(key) // never fails (crypto/rand)
		k.key.Store(&key)
	}
	return k
}

var (
	errReadBackToken   = errors.New("web: read-back token missing or not the console's")
	errReadBackExpired = errors.New("web: read-back token expired")
	// errReadBackNoKey: the key could not be read from the state store.
	errReadBackNoKey = errors.New("web: read-back key not read from the state store")
)

// unsignedToken stands in a put's answer for the token the console could
// not sign (its store did not answer with the key), so the read-back says
// that instead of calling the token forged. It is not a token: no dot.
const unsignedToken = "unsigned"

// signingKey is the key, read from the store on first use.
func (k *readBackKeys) signingKey(ctx context.Context) ([]byte, error) {
	if key := k.key.Load(); key != nil {
		return *key, nil
	}
	select {
	case k.loading <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", errReadBackNoKey, ctx.Err())
	}
	defer func() { <-k.loading }()
	if key := k.key.Load(); key != nil { // read while this request waited
		return *key, nil
	}
	key, err := k.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errReadBackNoKey, err)
	}
	if len(key) != readBackKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", errReadBackNoKey, len(key), readBackKeySize)
	}
	k.key.Store(&key)
	return key, nil
}

// sign returns the claim, expiring readBackTokenTTL from now, and its MAC,
// each base64url, joined by a dot; errReadBackNoKey when the store does
// not give the key.
func (k *readBackKeys) sign(ctx context.Context, cl readBackClaim) (string, error) {
	key, err := k.signingKey(ctx)
	if err != nil {
		return "", err
	}
	cl.Expires = k.now().Add(readBackTokenTTL).Unix()
	payload, err := json.Marshal(cl)
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(mac(key, p)), nil
}

func mac(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// verify returns the claim of a token this console (any of its replicas)
// signed and that has not expired. A token that is not one is refused
// before the key is looked for; errReadBackNoKey when the store does not
// give the key.
func (k *readBackKeys) verify(ctx context.Context, tok string) (readBackClaim, error) {
	var cl readBackClaim
	if tok == unsignedToken {
		return cl, errReadBackNoKey
	}
	p, sig, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 4096 {
		return cl, errReadBackToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return cl, errReadBackToken
	}
	key, err := k.signingKey(ctx)
	if err != nil {
		return cl, err
	}
	if !hmac.Equal(got, mac(key, p)) {
		return cl, errReadBackToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &cl) != nil {
		return cl, errReadBackToken
	}
	if !k.now().Before(time.Unix(cl.Expires, 0)) {
		return cl, errReadBackExpired
	}
	return cl, nil
}

// digest is the fingerprint a read-back token holds of a key or data: the
// first 128 bits of its SHA-256, base64url. The token's MAC vouches for it;
// the fingerprint only has to tell records apart, and short, it keeps a
// put's answer within one write.
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// readBackNoKeyText is what a read-back or a reader look says when the
// state store did not give the key its token is signed with.
const readBackNoKeyText = "Not read back: the console's state store did not answer with the key read-back tokens are signed with. " +
	"Try again in a moment, or see the record in the stream."

func readBackFailure(err error) string {
	switch {
	case errors.Is(err, stream.ErrNotReadBack):
		return "The record was not found at its sequence number yet."
	case errors.Is(err, stream.ErrBudgetFull):
		return "Not read back: the console is reading as much as it may right now. Try again in a minute."
	case errors.Is(err, context.DeadlineExceeded):
		return "Not read back in time: the console paces its reads of a shard to leave the stream's read limit to its consumers, and others are reading it now."
	}
	var f *stream.Failure
	if errors.As(err, &f) {
		msg := "Could not read the record back: " + f.Title()
		if f.Code != "" {
			msg += " (" + f.Code + " on " + f.Op + ")"
		}
		if f.RequestID != "" {
			msg += ", request id " + f.RequestID
		}
		return msg + "."
	}
	return "Could not read the record back: " + err.Error()
}

func readBackView(rec stream.Record, got stream.ReadRecord) views.ReadBack {
	d := stream.Compare(rec.Data, got.Data)
	data, kind, pretty := describeData(got.Data)
	return views.ReadBack{
		Matches:        d.Same && got.PartitionKey == rec.PartitionKey,
		Difference:     differenceText(d, rec.PartitionKey, got.PartitionKey),
		SentAround:     d.SentAround,
		GotAround:      d.GotAround,
		Data:           data,
		DataKind:       kind,
		Pretty:         pretty,
		PartitionKey:   got.PartitionKey,
		SequenceNumber: got.SequenceNumber,
		ArrivedAt:      got.ApproximateArrivalTimestamp.UTC().Format(time.RFC3339Nano),
		SentBytes:      len(rec.Data),
	}
}

func differenceText(d stream.Difference, sentKey, gotKey string) string {
	if !d.Same {
		return d.String()
	}
	if sentKey != gotKey {
		return "the data is identical but the partition key differs"
	}
	return ""
}

// describeData shows record bytes exactly: as text when they are UTF-8,
// else as base64. JSON gets an indented view beside, when indenting changes
// it; json.Indent only moves white space, so numbers stay as sent.
func describeData(b []byte) (data, kind, pretty string) {
	if !utf8.Valid(b) {
		return base64.StdEncoding.EncodeToString(b), "base64", ""
	}
	var buf bytes.Buffer
	if json.Valid(b) {
		if json.Indent(&buf, b, "", "  ") == nil && buf.String() != string(b) {
			pretty = buf.String()
		}
		return string(b), "JSON", pretty
	}
	return string(b), "text", ""
}
