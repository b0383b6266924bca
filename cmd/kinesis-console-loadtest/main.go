// Command kinesis-console-loadtest puts records through a real console from
// many concurrent users against a local Kinesis backend, then reads every
// shard back and checks that each record the console said it wrote is there.
// It prints requests/s and latency percentiles, and exits non-zero unless
// every put was answered 200 and every one of them is found in the stream:
// a 403, 422 or 429 under load is as much a failure as a 5xx.
//
//	go run ./cmd/kinesis-console-loadtest -users 20 -requests 50
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kinesis-console-loadtest:", err)
		os.Exit(1)
	}
}

type result struct {
	status   int
	latency  time.Duration
	shardID  string
	sequence string
	err      error
}

var (
	shardRe    = regexp.MustCompile(`data-testid="shard-id">([^<]+)<`)
	sequenceRe = regexp.MustCompile(`data-testid="sequence-number">([0-9]+)<`)
)

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	users := fs.Int("users", 20, "concurrent users")
	requests := fs.Int("requests", 50, "puts per user")
	backend := fs.String("backend", localaws.KindKinesalite, "local backend: moto, kinesalite or kinesis-local")
	shards := fs.Int("shards", 4, "shards of the load test stream")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}

	b, err := localaws.Start(ctx, *backend, localaws.Options{})
	if err != nil {
		return err
	}
	defer b.Stop()
	client, err := b.Kinesis(ctx)
	if err != nil {
		return err
	}
	const streamName = "load-test"
	if err := localaws.CreateStream(ctx, client, streamName, *shards); err != nil {
		return err
	}
	sc, err := b.STS(ctx)
	if err != nil {
		return err
	}

	// The console as cmd/kinesis-console wires it, on a loopback port. No
	// rate limit: the point is to load the console, not its limiter.
	handler, err := web.New(web.Deps{
		Publisher: stream.NewPublisher(client, stream.Options{}),
		Identity:  identity.NewResolver(sc, identity.Options{}),
		Region:    localaws.Region,
		Endpoint:  b.Endpoint,
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	defer handler.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	fmt.Fprintf(stdout, "load test: %d users x %d puts against the console on %s (%s, %d shards)\n", *users, *requests, base, *backend, *shards)
	httpClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *users}}
	results := make([][]result, *users)
	start := time.Now()
	var wg sync.WaitGroup
	for u := range *users {
		wg.Go(func() {
			for i := range *requests {
				if ctx.Err() != nil {
					return
				}
				results[u] = append(results[u], put(ctx, httpClient, base, streamName, u, i))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	all := slices.Concat(results...)
	var latencies []time.Duration
	for _, r := range all {
		if r.err == nil {
			latencies = append(latencies, r.latency)
		}
	}
	slices.Sort(latencies)
	t := tallyOf(all)
	fmt.Fprintf(stdout, "requests: %d in %s: %.0f requests/s\n", len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds())
	fmt.Fprintf(stdout, "latency: p50 %s, p90 %s, p99 %s, max %s\n", pct(latencies, 50), pct(latencies, 90), pct(latencies, 99), pct(latencies, 100))
	fmt.Fprintf(stdout, "statuses: %s; transport errors: %d\n", statusSummary(t.statuses), t.transport)

	found, err := readAll(ctx, client, streamName)
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	fmt.Fprintf(stdout, "read back: %d records in the stream; %d of %d written records found\n", len(found), countFound(t.written, found), len(t.written))
	return verdict(*users**requests, t, found)
}

// tally is what the console answered to the puts.
type tally struct {
	statuses  map[int]int    // answers by status
	transport int            // puts that got no answer
	written   map[string]int // "shard/sequence" of each 200, and how many 200s named it
}

func tallyOf(all []result) tally {
	t := tally{statuses: map[int]int{}, written: map[string]int{}}
	for _, r := range all {
		if r.err != nil {
			t.transport++
			continue
		}
		t.statuses[r.status]++
		if r.status == http.StatusOK {
			t.written[r.shardID+"/"+r.sequence]++
		}
	}
	return t
}

// verdict fails the run unless each of the want puts was answered 200 with
// a record of its own, and every such record is found in the stream.
func verdict(want int, t tally, found map[string]bool) error {
	if want < 1 {
		return errors.New("no puts were asked for: -users and -requests must be at least 1")
	}
	var problems []error
	if ok := t.statuses[http.StatusOK]; ok != want {
		problems = append(problems, fmt.Errorf("%d of %d puts answered 200 (statuses: %s; transport errors: %d)",
			ok, want, statusSummary(t.statuses), t.transport))
	}
	for k, n := range t.written {
		if n > 1 {
			problems = append(problems, fmt.Errorf("%d answers named the same record %s", n, k))
		}
	}
	if missing := len(t.written) - countFound(t.written, found); missing > 0 {
		problems = append(problems, fmt.Errorf("%d records answered 200 but are not in the stream", missing))
	}
	return errors.Join(problems...)
}

// statusSummary lists the answers by status, lowest first: "200×180, 429×20".
func statusSummary(statuses map[int]int) string {
	if len(statuses) == 0 {
		return "none"
	}
	codes := slices.Sorted(maps.Keys(statuses))
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d×%d", c, statuses[c])
	}
	return strings.Join(parts, ", ")
}

func countFound(written map[string]int, found map[string]bool) int {
	n := 0
	for k := range written {
		if found[k] {
			n++
		}
	}
	return n
}

func put(ctx context.Context, c *http.Client, base, streamName string, user, i int) result {
	form := url.Values{
		"stream":        {streamName},
		"data":          {fmt.Sprintf(`{"user":%d,"i":%d,"at":%q}`, user, i, time.Now().Format(time.RFC3339Nano))},
		"partition_key": {fmt.Sprintf("user-%d-%d", user, i)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/records", strings.NewReader(form.Encode()))
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return result{err: err}
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := result{status: resp.StatusCode, latency: time.Since(start), err: err}
	if m := shardRe.FindSubmatch(body); m != nil {
		r.shardID = string(m[1])
	}
	if m := sequenceRe.FindSubmatch(body); m != nil {
		r.sequence = string(m[1])
	}
	if r.status == http.StatusOK && (r.shardID == "" || r.sequence == "") {
		r.err = errors.New("200 without a shard id and sequence number")
	}
	return r
}

// readAll reads every shard from TRIM_HORIZON to its end and returns the
// "shard/sequence" of each record.
func readAll(ctx context.Context, client *kinesis.Client, name string) (map[string]bool, error) {
	out := map[string]bool{}
	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	for _, s := range shards.Shards {
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(name), ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			return nil, err
		}
		iter := it.ShardIterator
		for iter != nil {
			page, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				return nil, err
			}
			for _, r := range page.Records {
				out[aws.ToString(s.ShardId)+"/"+aws.ToString(r.SequenceNumber)] = true
			}
			if len(page.Records) == 0 && aws.ToInt64(page.MillisBehindLatest) == 0 {
				break
			}
			iter = page.NextShardIterator
		}
	}
	return out, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(min(i, len(sorted))-1, 0)].Round(10 * time.Microsecond)
}
