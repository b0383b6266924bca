package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/kinesis-console/kinesis-console/internal/localaws"
)

// backends are the demo's local AWS. Kinesis is kinesalite: moto's
// PutRecord and PutRecords are not safe under concurrent requests (with 4
// writers, records got one sequence number twice and one of them was
// lost), and the console sends a bulk upload's batches side by side, so on
// moto the demo would say "2,000 written" of a stream that holds fewer.
// kinesalite's writes hold under concurrent requests (TestDemoBulkLosesNothing
// counts them), and it checks requests the way Kinesis does (record and key
// sizes, hash keys), so the demo shows AWS's own errors. A moto that serves one request at a time would be correct
// too, but slow, and keep moto's quirks (it accepts records over 1 MiB).
// moto stays for what kinesalite lacks: STS (the caller identity) and
// Glue's schema registry.
type backends struct {
	moto    *localaws.Backend // STS and Glue
	kinesis *localaws.Backend // kinesalite
}

// ports are where the demo's backends listen; 0 picks a free port.
type ports struct {
	moto, kinesis int
}

// startBackends starts moto and kinesalite, creates the demo streams and
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

	fmt.Fprintln(stdout, "Starting moto (STS and Glue) and kinesalite (Kinesis)...")
	if b.moto, err = localaws.StartMoto(ctx, localaws.Options{Port: p.moto}); err != nil {
		return b, err
	}
	if b.kinesis, err = localaws.StartKinesalite(ctx, localaws.Options{Port: p.kinesis}); err != nil {
		return b, fmt.Errorf("%w (kinesalite needs Node.js and `npm ci --prefix .ci/backends`; make demo runs it)", err)
	}
	fmt.Fprintf(stdout, "Kinesis (kinesalite) is at %s, STS and Glue (moto) at %s; region %s, access key %q, secret %q: "+
		"the console's code snippets need these\n",
		b.kinesis.Endpoint, b.moto.Endpoint, localaws.Region, localaws.AccessKeyID, localaws.SecretAccessKey)

	client, err := b.kinesis.Kinesis(ctx)
	if err != nil {
		return b, err
	}
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

// env is the console's AWS settings, the SDK's own: every service at moto,
// except Kinesis, which AWS_ENDPOINT_URL_KINESIS sends to kinesalite.
func (b *backends) env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + b.moto.Endpoint,
		"AWS_ENDPOINT_URL_KINESIS=" + b.kinesis.Endpoint,
		"AWS_REGION=" + localaws.Region,
		"AWS_ACCESS_KEY_ID=" + localaws.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + localaws.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// stop ends whichever backends started.
func (b *backends) stop() error {
	var errs []error
	for _, be := range []*localaws.Backend{b.kinesis, b.moto} {
		if be != nil {
			errs = append(errs, be.Stop())
		}
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
