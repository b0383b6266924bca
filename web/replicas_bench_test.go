package web_test

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/state/statetest"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/internal/submit"
	"github.com/kinesis-console/kinesis-console/internal/webtest"
	"github.com/kinesis-console/kinesis-console/web"
)

// BenchmarkPutSharedKeys measures what running replicas costs a put from
// the record form: the same put (POST /records with a submission key, to
// the htmx fragment) through a console whose keys live in DynamoDB (moto,
// as replicas share them) and through one with the local store (keys in
// memory), interleaved in a random order in one run, both writing to one
// kinesalite stream. It reports each one's p50 and p99, their ratios
// (dynamodb-vs-local-p50), and the HTTP calls the store took per put
// (counted by a pass-through proxy in front of moto, whose loopback hop is
// in the DynamoDB times too).
func BenchmarkPutSharedKeys(b *testing.B) {
	kin := localawstest.Start(b, "kinesalite")
	client := localawstest.Kinesis(b, kin)
	localawstest.CreateStream(b, client, "bench", 4)
	moto := localawstest.Start(b, localaws.KindMoto)
	proxy := statetest.NewFaultProxy(moto.Endpoint)
	b.Cleanup(proxy.Close)
	store := replicaStore(b, moto, proxy.URL())

	console := func(keys state.Keys) *httptest.Server {
		srv := httptest.NewServer(newConsole(b, web.Deps{
			Publisher: stream.NewPublisher(client, stream.Options{}),
			Identity:  webtest.KnownIdentity,
			Region:    "us-east-1",
			Keys:      keys,
			Replica:   "bench",
		}))
		b.Cleanup(srv.Close)
		return srv
	}
	local, shared := console(nil), console(store)
	httpClient := local.Client()
	post := func(base string, i int) {
		form := url.Values{field.Stream: {"bench"}, field.Data: {`{"event":"bench","n":1}`}, field.DataFormat: {"json"},
			field.PartitionKey: {"k" + string(rune('a'+i%26))}, field.SubmissionKey: {submit.NewKey()}}
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
			b.Fatalf("status %d from %s", resp.StatusCode, base)
		}
	}
	for i := range 20 { // warm connections and caches
		post(local.URL, i)
		post(shared.URL, i)
	}
	proxy.ResetOps()

	var onLocal, onDynamo []time.Duration
	timed := func(base string, i int) time.Duration {
		start := time.Now()
		post(base, i)
		return time.Since(start)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for _, k := range rand.Perm(2) {
			if k == 0 {
				onLocal = append(onLocal, timed(local.URL, i))
			} else {
				onDynamo = append(onDynamo, timed(shared.URL, i))
			}
		}
	}
	b.StopTimer()
	calls := len(proxy.Ops())
	slices.Sort(onLocal)
	slices.Sort(onDynamo)
	b.ReportMetric(ms(percentile(onLocal, 50)), "local-p50-ms")
	b.ReportMetric(ms(percentile(onDynamo, 50)), "dynamodb-p50-ms")
	b.ReportMetric(ms(percentile(onDynamo, 99)), "dynamodb-p99-ms")
	b.ReportMetric(ms(percentile(onDynamo, 50))/ms(percentile(onLocal, 50)), "dynamodb-vs-local-p50")
	b.ReportMetric(ms(percentile(onDynamo, 99))/ms(percentile(onLocal, 99)), "dynamodb-vs-local-p99")
	b.ReportMetric(float64(calls)/float64(len(onDynamo)), "store-calls/put")
}
