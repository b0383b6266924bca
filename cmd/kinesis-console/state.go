package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/state/awsstate"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
)

// defaultStateDir is the local disk store's folder: the user's cache
// folder, or the system's temporary one when there is none.
func defaultStateDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "kinesis-console")
	}
	return filepath.Join(os.TempDir(), "kinesis-console")
}

// minStateLease is the shortest lease a job's runner may have: shorter,
// a store call's own latency eats the time it may send in.
const minStateLease = 2 * time.Second

// checkState refuses a table without a bucket or the other way round: a
// console half on DynamoDB would keep submission keys where its replicas
// see them and bulk uploads where they do not.
func checkState(s settings) error {
	if (s.stateTable == "") != (s.stateBucket == "") {
		return fmt.Errorf("-state-table %q and -state-bucket %q go together: set both for replicas (DynamoDB and S3), or neither for the local disk (-state-dir)",
			s.stateTable, s.stateBucket)
	}
	if s.stateLease < minStateLease {
		return fmt.Errorf("-state-lease %v: at least %v (a runner beats three times a lease, and pauses sending when its last beat is about two-thirds of one old)", s.stateLease, minStateLease)
	}
	if s.replicas < 0 {
		return fmt.Errorf("-replicas %d: the number of replicas sharing the read budgets, or 0 to count them by their heartbeats", s.replicas)
	}
	return nil
}

// openState opens the console's durable state: DynamoDB and S3 when a
// table and a bucket are named (shared: replicas claim submission keys
// there), otherwise the local disk, which one process uses (its keys stay
// in memory, as one process needs no more). The AWS clients take cfg as
// the SDK loaded it, so a local backend's AWS_ENDPOINT_URL (moto serves
// DynamoDB and S3 beside Kinesis), or AWS_ENDPOINT_URL_DYNAMODB and
// AWS_ENDPOINT_URL_S3, apply as they do for every client of the console.
func openState(s settings, cfg aws.Config) (st state.Store, shared bool, err error) {
	if s.stateTable != "" {
		return awsstate.New(cfg, s.stateTable, s.stateBucket, awsstate.Options{}), true, nil
	}
	d, err := disk.Open(s.stateDir, disk.Options{})
	if err != nil {
		return nil, false, fmt.Errorf("-state-dir %s: %w", s.stateDir, err)
	}
	return d, false, nil
}

// newReplicaID names this process among the replicas: the host's name, for
// people reading the logs and the table, and randomness, for a restart.
func newReplicaID() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e || r == '#' {
			return -1
		}
		return r
	}, host)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	if len(host) > 64 {
		host = host[:64]
	}
	if host == "" {
		return hex.EncodeToString(b[:])
	}
	return host + "-" + hex.EncodeToString(b[:])
}

// Heartbeats: every replica says it is alive this often, for this long.
const (
	heartbeatEvery = 10 * time.Second
	heartbeatTTL   = 3 * heartbeatEvery
)

// keepShare keeps the console's share of the read budgets at 1/N, by
// calling apply with N now and whenever it changes, until ctx ends: N is
// fixed when more than 0 (-replicas), otherwise the replicas whose
// heartbeats are live in the store. It beats this replica's heart every
// tick either way. A store that does not answer keeps the last N: shares
// then err on the side they were on.
func keepShare(ctx context.Context, logger *slog.Logger, replicas state.Replicas, id string, fixed int, tick <-chan time.Time, apply func(n int)) {
	n := 0
	for {
		next := fixed
		if err := replicas.Heartbeat(ctx, id, heartbeatTTL); err != nil && ctx.Err() == nil {
			logger.Warn("replica heartbeat", "replica", id, "err", err.Error())
		}
		if fixed <= 0 {
			count, err := replicas.CountReplicas(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				logger.Warn("counting replicas", "err", err.Error())
				next = n
			case err == nil:
				next = max(count, 1)
			}
		}
		if next > 0 && next != n {
			apply(next)
			logger.Info("read budget share", "replicas", next, "share", fmt.Sprintf("1/%d", next), "counted", fixed <= 0)
			n = next
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}
