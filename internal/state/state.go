// Package state keeps what must outlive one console process and be shared
// by a console's replicas: bulk jobs (their records, the journal of their
// batches, their runners' leases, their input and reports), submission
// keys, the replicas' heartbeats, and the secrets they sign with.
//
// Two backends implement Store:
//   - the local disk (package state/disk), the default: one console, whose
//     jobs survive a restart on the same disk;
//   - DynamoDB and S3 (package state/awsstate), for replicas behind a load
//     balancer: the table holds job records, journals, leases, submission
//     keys and heartbeats; the bucket holds uploaded input and reports.
//
// There is no home-made consensus here: every decision two replicas could
// race on is one conditional write (a claim of a submission key, the take
// over of a job's lease), and a lease is kept by a heartbeat that bumps a
// counter. A replica takes a job over only after it has watched the
// counter stand still for the lease time by its own clock (as the Kinesis
// Client Library does), so replicas never compare their clocks.
//
// Every method fails closed: an error means the write may not have
// happened, and the caller must not act as if it had (a put whose key
// could not be recorded is not sent).
package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Errors a Store returns; anything else is the store being unreachable,
// throttled or broken (wrap and show it: it is never a reason to go on).
var (
	// ErrNotFound: no such job, key or blob (or it expired).
	ErrNotFound = errors.New("state: not found")
	// ErrConflict: a conditional write lost: the key is claimed already,
	// the job's lease is another replica's, the job exists already.
	ErrConflict = errors.New("state: conditional write lost")
)

// Store is the console's durable state.
type Store interface {
	Jobs
	Journals
	Blobs
	Keys
	Replicas
	Secrets
	// Describe names the backend for the log and the about page:
	// "local disk /path" or "DynamoDB table T, S3 bucket B".
	Describe() string
	// TempDir is where the console makes its temporary files (spools
	// being checked, a blob fetched to be read): inside the state folder
	// for the local disk, so a rename saves them.
	TempDir() string
	Close() error
}

// Job is a bulk job's durable record. Body is the bulk package's own
// encoding of the job (its upload, spec, check, status, summary, progress);
// the store does not read it. Keep it under 300 KB (DynamoDB's item limit
// is 400 KB).
type Job struct {
	ID      string
	User    string
	Created time.Time
	// Expires is when the store may forget the job, its journal and its
	// blobs (a DynamoDB TTL; the local disk sweeps). Zero: never.
	Expires time.Time
	// Done: the job needs no runner any more.
	Done bool
	Body []byte
	// Owner is the replica running the job ("" when none is), Run counts
	// the times it was taken (its first run is 1), Counter is bumped by
	// every UpdateJob: the heartbeat another replica watches.
	Owner   string
	Run     int
	Counter int64
}

// Jobs are the bulk jobs' records and their runners' leases.
type Jobs interface {
	// CreateJob stores a new job; ErrConflict if its ID is taken.
	CreateJob(ctx context.Context, j Job) error
	// UpdateJob writes j's Body, Done, Expires and bumps Counter, if
	// j.Owner still holds the job (the stored Owner equals j.Owner and
	// the stored Run equals j.Run); ErrConflict otherwise: the lease is
	// lost and the caller must stop sending at once. It returns the job
	// as stored.
	UpdateJob(ctx context.Context, j Job) (Job, error)
	// TakeJob makes owner the job's runner with Run one higher, if the
	// stored Counter and Run still equal seen's (the caller watched them
	// stand still for the lease time, or the job has no Owner);
	// ErrConflict if another replica moved first. Release is TakeJob
	// with owner "".
	TakeJob(ctx context.Context, seen Job, owner string) (Job, error)
	// Job reads one job; ErrNotFound.
	Job(ctx context.Context, id string) (Job, error)
	// ListJobs returns every job the store keeps (the bulk limits bound
	// how many): a user's list, and the unfinished ones to resume.
	ListJobs(ctx context.Context) ([]Job, error)
	// DeleteJob forgets a job with its journal and its blobs; a job that
	// is not there is no error.
	DeleteJob(ctx context.Context, id string) error
}

// Entry is one line of a job's journal. Run and Seq order the journal:
// the job's runner numbers its entries 1, 2, 3... within its Run, and
// writes an entry for a record only after the record's previous entry was
// written.
type Entry struct {
	Run  int
	Seq  int64
	Body []byte // the bulk package's encoding; under 300 KB
}

// Journals are the jobs' journals: before a batch is sent, which records
// are in flight; after, what Kinesis answered.
type Journals interface {
	// Append adds e to job id's journal. It is durable when it returns.
	Append(ctx context.Context, id string, e Entry) error
	// Journal reads job id's journal in (Run, Seq) order.
	Journal(ctx context.Context, id string) ([]Entry, error)
}

// Blobs are a job's files: its checked input and its report.
type Blobs interface {
	// SaveFile moves the file at path (made in TempDir) into the store as
	// job id's blob name; path is gone or may be removed afterwards.
	SaveFile(ctx context.Context, id, name, path string) error
	// OpenBlob reads job id's blob name; ErrNotFound.
	OpenBlob(ctx context.Context, id, name string) (io.ReadCloser, error)
}

// KeyState is where a submission is.
type KeyState string

// The states of a submission key.
const (
	KeyInFlight KeyState = "in-flight" // claimed: its put is being made
	KeyDone     KeyState = "done"      // answered: Answer is what a repeat gets
	KeyLost     KeyState = "lost"      // ended without an answer: a repeat must not write
)

// Key is one submission key of one user.
type Key struct {
	User, Key   string
	Fingerprint string // of the submission's content: another content is a conflict
	State       KeyState
	Owner       string // the replica that claimed it
	Answer      []byte // when done; any size (the AWS backend keeps large ones in S3)
	Expires     time.Time
}

// Keys are the submission keys: one submission, one record, across
// replicas.
type Keys interface {
	// ClaimKey records k (State KeyInFlight) unless a live record of
	// (k.User, k.Key) exists: then it returns that record and
	// claimed false. A record whose Expires has passed is not live, even
	// if the store has not deleted it yet. A claim whose answer was lost
	// and was retried may come back claimed false with k's own record:
	// the safe side.
	ClaimKey(ctx context.Context, k Key) (existing Key, claimed bool, err error)
	// FinishKey sets a claimed key's State (KeyDone with its Answer, or
	// KeyLost), and its Expires when k's is set, if k.Owner still holds it
	// in flight; ErrConflict if not, ErrNotFound if no live key is there.
	FinishKey(ctx context.Context, k Key) error
	// ReleaseKey forgets a key claimed by owner that wrote nothing, so
	// sending again is a first submission; ErrConflict if another owner
	// holds it or it is finished, ErrNotFound if no live key is there.
	ReleaseKey(ctx context.Context, user, key, owner string) error
	// GetKey reads a key; ErrNotFound.
	GetKey(ctx context.Context, user, key string) (Key, error)
}

// Replicas are the consoles sharing a store, for the read budgets that
// must add up: each replica spends 1/N of the console's share.
type Replicas interface {
	// Heartbeat says replica id is alive, until ttl from now.
	Heartbeat(ctx context.Context, id string, ttl time.Duration) error
	// CountReplicas counts the replicas whose heartbeat is live (at least
	// 1: the caller). The local disk always answers 1.
	CountReplicas(ctx context.Context) (int, error)
}

// Secrets are keys the replicas must share: the read-back token's HMAC key,
// so that a token signed at one replica verifies at another, and after a
// restart.
//
// A secret is as safe as the store: whoever may read the store (the DynamoDB
// table's GetItem, the state folder) may read it, and forge what it signs.
// The store is the console's own, as its submission answers and jobs are:
// its access control (IAM on the table, the folder's 0700) protects them all.
// Never log, render or export a secret's bytes.
type Secrets interface {
	// Secret returns the secret called name, size random bytes from
	// crypto/rand that the first caller of any replica made and stored
	// with a conditional write; every later caller, racing or not, gets
	// the same bytes. It never expires. A stored secret of another size
	// is an error, not a new secret: the name is taken.
	Secret(ctx context.Context, name string, size int) ([]byte, error)
}

// CheckSecret refuses a secret name that is not a short plain name
// (letters, digits, '-', '_', '.') and a size outside 16..1024 bytes: both
// become a file name or an item's key, and a secret shorter than 128 bits
// is not one.
func CheckSecret(name string, size int) error {
	if size < 16 || size > 1024 {
		return fmt.Errorf("state: secret %q: size %d, want 16 to 1024 bytes", name, size)
	}
	if name == "" || len(name) > 100 || name[0] == '.' {
		return fmt.Errorf("state: bad secret name %q", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("state: bad secret name %q", name)
		}
	}
	return nil
}
