package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
)

// backends are the demo's local AWS: one moto for STS (the caller
// identity), Glue's schema registry, the readers' services (DynamoDB,
// Lambda, Firehose, S3, CloudWatch) and Kinesis, with Kinesis reached
// through a gate that serves one request at a time. moto's PutRecord and
// PutRecords are not safe under concurrent requests (with 4 writers,
// records got one sequence number twice and one of them was lost), and the
// console sends a bulk upload's batches side by side: without the gate the
// demo lost records (TestDemoBulkLosesNothing counts them). kinesalite,
// whose writes hold, was tried and left: its GetShardIterator AT_TIMESTAMP
// never answers when no record is that new, which hangs the records page's
// newest-first search (it starts a minute back) on any quiet stream.
type backends struct {
	moto *localaws.Backend // STS, Glue and, behind the gate, Kinesis
	gate *gate
}

// gate serves one request at a time to the backend behind it.
type gate struct {
	mu    sync.Mutex
	proxy *httputil.ReverseProxy
	srv   *http.Server
	url   string
}

// startGate listens on a loopback port (0: a free one) in front of backend.
func startGate(backend string, port int) (*gate, error) {
	target, err := url.Parse(backend)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("demo: the Kinesis gate: %w", err)
	}
	g := &gate{proxy: httputil.NewSingleHostReverseProxy(target), url: "http://" + ln.Addr().String()}
	g.srv = &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = g.srv.Serve(ln) }()
	return g, nil
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.proxy.ServeHTTP(w, r)
}

// ports are where the demo's backends listen; 0 picks a free port.
type ports struct {
	moto, kinesis int
}

// startBackends starts moto and the Kinesis gate, creates the demo streams and
// registers the demo's schemas. On error nothing is left running.
func startBackends(ctx context.Context, p ports, stdout io.Writer) (_ *backends, err error) {
	// A taken port is said now, with the way out, not after a minute of
	// waiting for a backend that cannot listen.
	for _, c := range []struct {
		port      int
		flag, env string
	}{{p.moto, "-moto-port", motoPortEnv}, {p.kinesis, "-kinesis-port", kinesisPortEnv}} {
		if err := portFree(c.port); err != nil {
			return nil, fmt.Errorf("%v: choose another with %s or %s, or 0 for a free one", err, c.flag, c.env)
		}
	}
	b := &backends{}
	defer func() {
		if err != nil {
			err = errors.Join(err, b.stop())
		}
	}()

	fmt.Fprintln(stdout, "Starting moto (STS, Glue, and Kinesis one request at a time)...")
	if b.moto, err = localaws.StartMoto(ctx, localaws.Options{Port: p.moto}); err != nil {
		return b, err
	}
	if b.gate, err = startGate(b.moto.Endpoint, p.kinesis); err != nil {
		return b, err
	}
	fmt.Fprintf(stdout, "Kinesis is at %s, STS and Glue at %s (moto); region %s, access key %q, secret %q: "+
		"the console's code snippets need these\n",
		b.gate.url, b.moto.Endpoint, localaws.Region, localaws.AccessKeyID, localaws.SecretAccessKey)

	kcfg, err := localaws.ConfigFor(ctx, b.gate.url)
	if err != nil {
		return b, err
	}
	client := kinesis.NewFromConfig(kcfg)
	for _, s := range demoStreams {
		if err := localaws.CreateStream(ctx, client, s.name, s.shards); err != nil {
			return b, fmt.Errorf("create demo stream %s: %w", s.name, err)
		}
		fmt.Fprintf(stdout, "Created stream %s (%d shard%s)\n", s.name, s.shards, plural(s.shards))
	}
	cfg, err := b.moto.AWSConfig(ctx)
	if err != nil {
		return b, err
	}
	if err := registerSchemas(ctx, glue.NewFromConfig(cfg)); err != nil {
		return b, err
	}
	return b, nil
}

// startReaders registers the demo's readers and metrics and starts its
// consumer of demo-orders, which reads through the gate as the console
// does and stops when ctx ends (done says when). Only clients that cannot
// be made fail the demo; what moto refuses is logged.
func startReaders(ctx context.Context, b *backends, done *sync.WaitGroup, stdout io.Writer, log *slog.Logger) error {
	gated, err := localaws.ConfigFor(ctx, b.gate.url)
	if err != nil {
		return err
	}
	cfg, err := b.moto.AWSConfig(ctx)
	if err != nil {
		return err
	}
	kc := kinesis.NewFromConfig(gated)
	registerReaders(ctx, readerClients{kinesis: kc, lambda: lambda.NewFromConfig(cfg), firehose: firehose.NewFromConfig(cfg),
		endpoint: b.moto.Endpoint}, stdout, log)
	if err := putMetrics(ctx, b.moto.Endpoint, time.Now()); err != nil {
		log.Error("demo: the charts go without data: moto did not take the metrics", "err", err)
	} else {
		fmt.Fprintf(stdout, "Put %d hours of CloudWatch metrics of the demo streams and readers\n", metricMinutes/60)
	}
	w := newWorker(kc, dynamodb.NewFromConfig(cfg), log)
	done.Go(func() { w.run(ctx) })
	fmt.Fprintf(stdout, "Started %s, a consumer of %s that checkpoints into the lease table %s\n", workerOwner, workerStream, workerTable)
	return nil
}

// env is the console's AWS settings, the SDK's own: every service at moto,
// Kinesis through the gate (AWS_ENDPOINT_URL_KINESIS).
func (b *backends) env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + b.moto.Endpoint,
		"AWS_ENDPOINT_URL_KINESIS=" + b.gate.url,
		"AWS_REGION=" + localaws.Region,
		"AWS_ACCESS_KEY_ID=" + localaws.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + localaws.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// stop ends whichever backends started.
func (b *backends) stop() error {
	var errs []error
	if b.gate != nil {
		errs = append(errs, b.gate.srv.Close())
	}
	if b.moto != nil {
		errs = append(errs, b.moto.Stop())
	}
	return errors.Join(errs...)
}

// The environment variables that choose the backends' ports, as the flags do.
const (
	motoPortEnv    = "KINESIS_CONSOLE_DEMO_MOTO_PORT"
	kinesisPortEnv = "KINESIS_CONSOLE_DEMO_KINESIS_PORT"
)

// parsePort reads a port flag: 0 (a free one) to 65535.
func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("port %q: want 0 (a free port) to 65535", s)
	}
	return n, nil
}

// portFree reports an error when a chosen loopback port is taken.
func portFree(port int) error {
	if port == 0 {
		return nil
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s is taken (%v)", addr, err)
	}
	return ln.Close()
}
