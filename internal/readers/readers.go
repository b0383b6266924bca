// Package readers finds who reads a Kinesis stream and how far each has
// got: KCL applications (their DynamoDB lease tables), enhanced fan-out
// consumers, Lambda event source mappings and Firehose delivery streams;
// and, for one record, whether each has consumed it. It knows nothing of
// HTTP. Every AWS call is asked of the caller's budget first and answered
// from a short, bounded cache when it can be; a source that fails is
// reported beside the others and never fails the whole answer.
package readers

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Kind is a kind of reader.
type Kind string

// The kinds of reader.
const (
	KindKCL      Kind = "kcl"
	KindEFO      Kind = "efo"
	KindLambda   Kind = "lambda"
	KindFirehose Kind = "firehose"
)

// TableTag is the stream tag that names a stream's KCL lease tables,
// comma-separated: kinesis-console:kcl-table=orders-processor,audit.
const TableTag = "kinesis-console:kcl-table"

// KCLApp is a config entry naming a KCL application's lease table and the
// streams it reads (path.Match patterns on the name), on the targets named
// (patterns too; none means every target).
type KCLApp struct {
	Streams []string `json:"streams"`
	Table   string   `json:"table"`
	Targets []string `json:"targets,omitempty"`
}

// LeaseScanner scans a KCL lease table; *dynamodb.Client is one.
type LeaseScanner interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// ConsumerLister lists a stream's enhanced fan-out consumers; *kinesis.Client is one.
type ConsumerLister interface {
	ListStreamConsumers(ctx context.Context, in *kinesis.ListStreamConsumersInput, optFns ...func(*kinesis.Options)) (*kinesis.ListStreamConsumersOutput, error)
}

// MappingLister lists Lambda event source mappings; *lambda.Client is one.
type MappingLister interface {
	ListEventSourceMappings(ctx context.Context, in *lambda.ListEventSourceMappingsInput, optFns ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error)
}

// DeliveryStreams lists and describes Firehose delivery streams; *firehose.Client is one.
type DeliveryStreams interface {
	ListDeliveryStreams(ctx context.Context, in *firehose.ListDeliveryStreamsInput, optFns ...func(*firehose.Options)) (*firehose.ListDeliveryStreamsOutput, error)
	DescribeDeliveryStream(ctx context.Context, in *firehose.DescribeDeliveryStreamInput, optFns ...func(*firehose.Options)) (*firehose.DescribeDeliveryStreamOutput, error)
}

var (
	_ LeaseScanner    = (*dynamodb.Client)(nil)
	_ ConsumerLister  = (*kinesis.Client)(nil)
	_ MappingLister   = (*lambda.Client)(nil)
	_ DeliveryStreams = (*firehose.Client)(nil)
)

// Clients are the AWS clients of one account and region; a nil client's
// source is not read.
type Clients struct {
	DynamoDB LeaseScanner
	Kinesis  ConsumerLister
	Lambda   MappingLister
	Firehose DeliveryStreams
	// CloudWatch reads the stream's and its readers' metrics.
	CloudWatch MetricReader
}

// Options bound and tune a Finder; the zero value is fine.
type Options struct {
	// MaxLeases bounds the leases read from one table in one look
	// (default 10,000), MaxPages the Scan pages (default 20).
	MaxLeases int
	MaxPages  int
	// MaxDeliveryStreams bounds the Firehose delivery streams looked at
	// (default 200).
	MaxDeliveryStreams int
	// TTL is how long an answer is reused (default 15s).
	TTL time.Duration
	// StaleAfter is how long a lease's counter may stand still before the
	// lease is called stale (default 60s; KCL renews every few seconds).
	StaleAfter time.Duration
	// CallTimeout bounds one AWS call (default 10s).
	CallTimeout time.Duration
	// MetricsTTL is how long the metrics are reused (default 60s: they
	// have one point a minute).
	MetricsTTL time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxLeases <= 0 {
		o.MaxLeases = 10_000
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 20
	}
	if o.MaxDeliveryStreams <= 0 {
		o.MaxDeliveryStreams = 200
	}
	if o.TTL <= 0 {
		o.TTL = 15 * time.Second
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = time.Minute
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 10 * time.Second
	}
	if o.MetricsTTL <= 0 {
		o.MetricsTTL = time.Minute
	}
	return o
}

// Finder finds the readers of the streams of one account and region.
type Finder struct {
	c    Clients
	opts Options

	tables     *cache[tableScan]
	consumers  *cache[[]Reader]
	mappings   *cache[[]Reader]
	deliveries *cache[[]string]       // delivery stream names reading from streams
	sources    *cache[deliverySource] // a delivery stream's source, by name
	charts     *cache[Metrics]        // by stream, readers and minute
	counters   *counters
}

// New makes a Finder.
func New(c Clients, opts Options) *Finder {
	opts = opts.withDefaults()
	return &Finder{
		c: c, opts: opts,
		tables:     newCache[tableScan](opts.TTL),
		consumers:  newCache[[]Reader](opts.TTL),
		mappings:   newCache[[]Reader](opts.TTL),
		deliveries: newCache[[]string](opts.TTL),
		// A delivery stream's source cannot change: only its existence can.
		sources:  newCache[deliverySource](10 * opts.TTL),
		charts:   newCache[Metrics](opts.MetricsTTL),
		counters: newCounters(),
	}
}

// Stream is the stream whose readers are looked for.
type Stream struct {
	Name string
	ARN  string // "" when unknown: the sources that need it say so
	// Tables are its KCL applications' lease tables (see Tables).
	Tables []string
	// TagsErr is why the stream's tags, which may name more lease tables,
	// could not be read.
	TagsErr error
}

// View is a stream's readers, as far as each source told.
type View struct {
	Stream   string
	Readers  []Reader
	Failures []Failure
	At       time.Time
	// Metrics are the stream's and its readers' CloudWatch metrics; nil
	// when the target reads none.
	Metrics *Metrics
}

// Reader is one reader of a stream.
type Reader struct {
	Kind Kind
	Name string
	KCL  *KCL      // KindKCL
	EFO  *Consumer // KindEFO
	// KindLambda
	Lambda *Mapping
	// KindFirehose
	Firehose *Delivery
}

// KCL is a KCL application's state, from its lease table.
type KCL struct {
	Table  string
	Leases []LeaseState // sorted by shard id
	// Truncated: the table holds more leases than one look reads.
	Truncated bool
}

// LeaseState is a lease with what two looks at it over time tell.
type LeaseState struct {
	Lease
	NoOwner bool // no worker holds it (a finished shard's lease is not flagged)
	// Stale: the counter has not moved for StaleAfter, across looks since
	// CounterSince; the worker holding it has stopped renewing it.
	Stale        bool
	CounterSince time.Time
	// Lag is how far the checkpoint is behind the shard's newest record,
	// once MeasureLag has looked; the zero value is not looked at.
	Lag Lag
}

// Consumer is an enhanced fan-out consumer.
type Consumer struct {
	ARN     string
	Status  string
	Created time.Time
}

// Mapping is a Lambda event source mapping on the stream.
type Mapping struct {
	UUID             string
	Function         string // the function's name
	FunctionARN      string
	State            string
	StartingPosition string
	BatchSize        int32
	LastResult       string
	OnFailure        string // the on-failure destination's ARN
}

// Delivery is a Firehose delivery stream reading the stream.
type Delivery struct {
	ARN     string
	Status  string
	Created time.Time
}

// Find looks up every reader of s. allow is asked before each AWS call (the
// caller's look-up budget); a call it refuses makes its source fail as
// limited. Sources are read side by side; each one's failure is reported
// in the view's Failures.
func (f *Finder) Find(ctx context.Context, s Stream, allow func() bool) View {
	if allow == nil {
		allow = func() bool { return true }
	}
	v := View{Stream: s.Name, At: time.Now()}
	var mu sync.Mutex
	add := func(rs []Reader, fs []Failure) {
		mu.Lock()
		defer mu.Unlock()
		v.Readers = append(v.Readers, rs...)
		v.Failures = append(v.Failures, fs...)
	}
	var wg sync.WaitGroup
	if s.TagsErr != nil {
		add(nil, []Failure{failureOf(KindKCL, "", "ListTagsForStream", s.TagsErr,
			"The stream's tags (the lease tables named by "+TableTag+")")})
	}
	if f.c.DynamoDB != nil {
		for _, t := range s.Tables {
			wg.Go(func() { add(f.kcl(ctx, s, t, allow)) })
		}
	}
	if f.c.Kinesis != nil {
		wg.Go(func() { add(f.efo(ctx, s, allow)) })
	}
	if f.c.Lambda != nil {
		wg.Go(func() { add(f.lambda(ctx, s, allow)) })
	}
	if f.c.Firehose != nil {
		wg.Go(func() { add(f.firehose(ctx, s, allow)) })
	}
	wg.Wait()
	order := map[Kind]int{KindKCL: 0, KindEFO: 1, KindLambda: 2, KindFirehose: 3}
	slices.SortStableFunc(v.Readers, func(a, b Reader) int {
		if d := order[a.Kind] - order[b.Kind]; d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	slices.SortStableFunc(v.Failures, func(a, b Failure) int {
		if d := order[a.Source] - order[b.Source]; d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	if f.c.CloudWatch != nil {
		m := f.metrics(ctx, s.Name, v.Readers, allow)
		v.Metrics = &m
	}
	return v
}

// Tables names the lease tables of a stream's KCL applications: the
// config's, then the stream tag's, each once.
func Tables(apps []KCLApp, target, streamName string, tags map[string]string) []string {
	var out []string
	add := func(t string) {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, app := range apps {
		if matchAny(app.Streams, streamName) && (len(app.Targets) == 0 || matchAny(app.Targets, target)) {
			add(app.Table)
		}
	}
	for _, t := range strings.Split(tags[TableTag], ",") {
		add(t)
	}
	return out
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// tableNameRe is DynamoDB's rule for table names.
var tableNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// Validate checks a config entry; i is its index, for the message.
func (a KCLApp) Validate(i int) error {
	if !tableNameRe.MatchString(a.Table) {
		return fmt.Errorf("kcl_applications[%d].table %q: a DynamoDB table name, 3-255 letters, digits, '_', '.' or '-'", i, a.Table)
	}
	if len(a.Streams) == 0 {
		return fmt.Errorf("kcl_applications[%d] (%s): streams must name at least one pattern", i, a.Table)
	}
	for _, p := range append(slices.Clone(a.Streams), a.Targets...) {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("kcl_applications[%d] (%s): pattern %q: %w", i, a.Table, p, err)
		}
	}
	return nil
}
