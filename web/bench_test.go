package web_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// BenchmarkPutRoundTrip measures, side by side in one run against
// kinesalite, the console's put (POST /records to the htmx fragment), a bare
// net/http handler that only parses the form and calls PutRecord (what any
// server in front of the SDK costs), and the Go SDK's own PutRecord. It
// reports p50 and p99 of each and their ratios. Target: the console's p50
// within putRoundTripTarget times the bare handler's (console-vs-bare-p50);
// ratio-to-1.25x-target is that ratio over the target, met at 1 or below.
func BenchmarkPutRoundTrip(b *testing.B) {
	backend := localawstest.Start(b, "kinesalite")
	client := localawstest.Kinesis(b, backend)
	localawstest.CreateStream(b, client, "bench", 4)
	srv := httptest.NewServer(newConsole(b, web.Deps{
		Publisher: stream.NewPublisher(client, stream.Options{}),
		Identity:  identity.NewResolver(localawstest.STS(b, backend), identity.Options{}),
		Region:    "us-east-1",
	}))
	b.Cleanup(srv.Close)
	httpClient := srv.Client()
	ctx := context.Background()
	data := `{"event":"bench","n":1}`

	// The bare hop: an HTTP handler that only calls PutRecord. It shows what
	// any server in front of the SDK costs, apart from the console's own work.
	hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := client.PutRecord(r.Context(), &kinesis.PutRecordInput{
			StreamName: aws.String("bench"), Data: []byte(r.FormValue("data")), PartitionKey: aws.String(r.FormValue("partition_key")),
		}); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	b.Cleanup(hop.Close)

	sdkPut := func(i int) {
		if _, err := client.PutRecord(ctx, &kinesis.PutRecordInput{
			StreamName: aws.String("bench"), Data: []byte(data), PartitionKey: aws.String(fmt.Sprint("k", i)),
		}); err != nil {
			b.Fatal(err)
		}
	}
	post := func(base string, i int) {
		form := url.Values{"stream": {"bench"}, "data": {data}, "partition_key": {fmt.Sprint("k", i)}}
		req, _ := http.NewRequest(http.MethodPost, base+"/records", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		resp, err := httpClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	// Warm every path (connections, caches) before timing.
	for i := range 20 {
		sdkPut(i)
		post(hop.URL, i)
		post(srv.URL, i)
	}

	var sdk, bare, console []time.Duration
	b.ResetTimer()
	timed := func(put func()) time.Duration {
		start := time.Now()
		put()
		return time.Since(start)
	}
	for i := 0; b.Loop(); i++ {
		// Interleaved, so all three see the same machine and backend state,
		// in a random order each time, so none always follows the same one:
		// a fixed order (SDK, bare hop, console) flattered the console by
		// about 0.04, as the hop just before it warmed the same server code.
		for _, k := range rand.Perm(3) {
			switch k {
			case 0:
				sdk = append(sdk, timed(func() { sdkPut(i) }))
			case 1:
				bare = append(bare, timed(func() { post(hop.URL, i) }))
			case 2:
				console = append(console, timed(func() { post(srv.URL, i) }))
			}
		}
	}
	b.StopTimer()
	slices.Sort(sdk)
	slices.Sort(bare)
	slices.Sort(console)
	b.ReportMetric(ms(percentile(sdk, 50)), "sdk-p50-ms")
	b.ReportMetric(ms(percentile(bare, 50)), "bare-p50-ms")
	b.ReportMetric(ms(percentile(console, 50)), "console-p50-ms")
	b.ReportMetric(ms(percentile(console, 99)), "console-p99-ms")
	b.ReportMetric(ms(percentile(bare, 50))/ms(percentile(sdk, 50)), "bare-vs-sdk-p50")
	b.ReportMetric(ms(percentile(console, 50))/ms(percentile(sdk, 50)), "console-vs-sdk-p50")
	b.ReportMetric(ms(percentile(console, 50))/ms(percentile(bare, 50)), "console-vs-bare-p50")
	b.ReportMetric(ms(percentile(console, 99))/ms(percentile(bare, 99)), "console-vs-bare-p99")
	b.ReportMetric(ms(percentile(console, 50))/ms(percentile(bare, 50))/putRoundTripTarget, "ratio-to-1.25x-target")
}

// putRoundTripTarget is the decided bound on the put's console-vs-bare-p50:
// the answer keeps the boto3 view, the proof and the read-back token, which
// cost about 0.15 over a bare handler, and plain code holds it (issue 24).
const putRoundTripTarget = 1.25

// BenchmarkPageRender1000Streams measures GET / for an account with 1,000
// streams (the list cached, as it is between page loads), and reports the
// ratio to the 5 ms target.
func BenchmarkPageRender1000Streams(b *testing.B) {
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("team-%03d-events-%d", i%97, i)
	}
	h := newConsole(b, web.Deps{
		Publisher: &webtest.Publisher{OnListStreams: func(context.Context) ([]string, error) { return names, nil }},
		Identity:  webtest.KnownIdentity,
		Region:    "eu-west-1",
		Hosts:     exampleHost,
	})
	req := httptest.NewRequest(http.MethodGet, "/?stream=team-001-events-1", nil)
	h.ServeHTTP(httptest.NewRecorder(), req) // fill the stream cache
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.StopTimer()
	perOp := b.Elapsed().Seconds() / float64(b.N) * 1000
	b.ReportMetric(perOp, "ms/page")
	b.ReportMetric(perOp/5, "ratio-to-5ms-target")
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(min(i, len(sorted))-1, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
