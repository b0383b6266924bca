package identity_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/localaws"
	"github.com/kinesis-console/kinesis-console/internal/localaws/localawstest"
)

// moto answers STS like AWS does for a user in its default account.
func TestCallerAgainstMoto(t *testing.T) {
	t.Parallel()
	b := localawstest.Start(t, localaws.KindMoto)
	// moto loads its STS code on the first call: slow on a busy machine.
	r := identity.NewResolver(localawstest.STS(t, b), identity.Options{Timeout: 30 * time.Second})
	got := r.Caller(t.Context())
	if !got.OK() {
		t.Fatalf("Caller against moto: %q", got.Err)
	}
	if got.Account != "123456789012" || !strings.HasPrefix(got.ARN, "arn:aws:") || !strings.Contains(got.ARN, ":123456789012:") || got.UserID == "" {
		t.Errorf("Caller against moto = %+v, want account 123456789012, its ARN and a user id", got)
	}
}

// kinesalite has no STS: the identity panel must show why, within the timeout.
func TestCallerAgainstKinesalite(t *testing.T) {
	t.Parallel()
	b := localawstest.Start(t, localaws.KindKinesalite)
	const timeout = 3 * time.Second
	r := identity.NewResolver(localawstest.STS(t, b), identity.Options{Timeout: timeout})
	start := time.Now()
	got := r.Caller(t.Context())
	if elapsed := time.Since(start); elapsed > timeout+time.Second {
		t.Errorf("Caller took %s with a %s timeout", elapsed, timeout)
	}
	if got.OK() || got.Err == "" || got.Account != "" || got.ARN != "" {
		t.Errorf("Caller against kinesalite = %+v, want only a reason in Err", got)
	}
	t.Logf("kinesalite's answer to STS: %s", got.Err)
}

// An STS endpoint that takes the request and never answers is cut off by the
// resolver's timeout.
func TestCallerNoAnswer(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	cfg, err := localaws.ConfigFor(t.Context(), "http://"+l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := identity.NewResolver(sts.NewFromConfig(cfg), identity.Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	got := r.Caller(t.Context())
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Caller took %s with a 200ms timeout", elapsed)
	}
	if got.Err != "STS did not answer in time." {
		t.Errorf("Err = %q, want the timeout message", got.Err)
	}
}

// Nothing listening: the reason says STS cannot be reached.
func TestCallerRefused(t *testing.T) {
	t.Parallel()
	cfg, err := localaws.ConfigFor(t.Context(), localawstest.RefusedEndpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	r := identity.NewResolver(sts.NewFromConfig(cfg, func(o *sts.Options) { o.RetryMaxAttempts = 1 }), identity.Options{})
	if got := r.Caller(t.Context()); !strings.HasPrefix(got.Err, "Cannot connect to STS (") {
		t.Errorf("Err = %q, want Cannot connect to STS", got.Err)
	}
}
