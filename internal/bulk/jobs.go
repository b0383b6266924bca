package bulk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kinesis-console/kinesis-console/internal/field"
	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/state/disk"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// Limits of the job engine.
const (
	// MaxUploadBytes caps one upload; it is spooled to disk, so this bounds
	// disk, not memory.
	MaxUploadBytes = 1 << 30
	// DefaultMaxActive bounds uploads being checked, waiting or sending at once.
	DefaultMaxActive = 8
	// DefaultMaxActivePerUser bounds one user's share of them, so one user's
	// waiting uploads cannot lock everybody else out.
	DefaultMaxActivePerUser = 2
	// DefaultCheckedTTL is how long a checked upload waits to be sent or discarded.
	DefaultCheckedTTL = 30 * time.Minute
	// DefaultDoneTTL is how long a finished job's report stays downloadable.
	DefaultDoneTTL = time.Hour
	// maxGone bounds the ids remembered as expired, to answer "gone" rather
	// than "no such upload" for a while.
	maxGone = 1000
	// maxJobsListed is how many of a user's recent uploads Jobs lists.
	maxJobsListed = 10
	// maxVerifying bounds the jobs that read back at once: each reads up
	// to scanShards shards, each with scanShare of the read memory, so two
	// take at most half of the default 64 MiB.
	maxVerifying = 2
	// maxDonePerUser bounds the finished jobs (and report files) kept for
	// one user: past it, the oldest go before their hour is up, so many
	// small uploads cannot pile up jobs and files.
	maxDonePerUser = 20
)

// Errors a Manager returns; the web layer turns them into answers.
var (
	ErrBusy         = errors.New("bulk: too many uploads in progress")
	ErrUserBusy     = errors.New("bulk: too many uploads in progress for this user")
	ErrShuttingDown = errors.New("bulk: the console is shutting down")
	ErrNoJob        = errors.New("bulk: no such upload")
	ErrGone         = errors.New("bulk: the upload has expired")
	ErrNotDone      = errors.New("bulk: the upload is still sending")
	ErrVerifying    = errors.New("bulk: the upload is being read back from the stream")
	ErrNoScanner    = errors.New("bulk: reading the stream back is not set up for this upload")
)

// RecordSender sends checked records; *Sender is the real one.
type RecordSender interface {
	Send(ctx context.Context, spec Spec, src io.Reader, opts SendOptions) (Summary, error)
}

var _ RecordSender = (*Sender)(nil)

// Config sets up a Manager; the zero value gives sensible defaults.
type Config struct {
	// Dir is where the default Store keeps its folder,
	// kinesis-console-state; "" is the system's temporary folder.
	Dir              string
	Logger           *slog.Logger
	MaxActive        int
	MaxActivePerUser int
	CheckedTTL       time.Duration
	DoneTTL          time.Duration
	// RateLimit, when set, holds each user's jobs to the console's per-user
	// write rate: it is asked before every PutRecords call.
	RateLimit Limiter
	// Memory, when set, is the console's read memory: each shard a
	// verification reads at once takes its share of it.
	Memory *stream.MemoryBudget
	// OnResult receives the result of every record of a job that was sent,
	// invalid ones included: the audit trail and the metrics. It is called
	// from the job's goroutine.
	OnResult func(j *Job, r Result)
	// Store keeps the jobs, their journals, inputs and reports, where they
	// outlive this process and every replica sharing the store sees them;
	// nil: a store on the local disk in Dir, which the Manager closes.
	Store state.Store
	// Replica names this process among those sharing the Store; default
	// a random id.
	Replica string
	// Lease is how long a running job's heartbeat may stand still before
	// another replica takes the job over (see lease.go); default
	// DefaultLease.
	Lease time.Duration
	// Revive gives a job read from the store the parts of its Upload that
	// do not keep (Sender, Scanner, and Spec.Transform when transform says
	// it had one), so that this replica can start or resume it; nil: only
	// jobs checked by this process run here. It may block (a console not
	// yet wired); its error leaves the job for a later look.
	Revive func(up *Upload, transform bool) error
}

// Limiter is a per-user budget of records: *access.RateLimiter.
type Limiter interface {
	// Allow takes n records from the user's budget, or reports it spent.
	Allow(user string, n int) bool
	// Wait blocks until the user may send n records, or ctx ends.
	Wait(ctx context.Context, user string, n int) error
}

// Upload is what a user asked to send.
type Upload struct {
	User      string
	Source    string // where the user connected from, for the audit trail
	RequestID string // the console's id of the upload request
	Target    string
	// Where is where Target sent when the upload was checked (its region
	// and endpoint): a console resumes a stored upload only where the
	// same-named target still sends (Config.Revive checks).
	Where         string
	Sender        RecordSender
	Spec          Spec
	Rate          float64 // records per second the user asked for; 0 is none
	ResendUnknown bool
	SendValidOnly bool
	Name          string // the file's name, or "pasted records"
	// Scanner reads the stream back to verify the job; nil leaves every
	// upload unverified.
	Scanner Scanner
	// Verify reads the stream back once sending ends (see verify.go).
	Verify bool
	// Replaced describes, for this upload's page, the user's checked upload
	// that this one replaced: it was discarded unsent (see Discard).
	Replaced string
}

// Manager runs bulk jobs: it checks uploads into spool files, sends them in
// the background, keeps their reports, and forgets them when they expire.
type Manager struct {
	cfg      Config
	store    state.Store // the jobs, for every replica
	ownStore bool        // made by NewManager: Close closes it
	quit     chan struct{}
	quitOnce sync.Once
	loop     sync.WaitGroup
	watched  map[string]watched // other replicas' jobs, by id (resume.go)
	warned   map[string]bool    // jobs that could not be resumed, said once (resume.go)

	mu      sync.Mutex
	jobs    map[string]*Job
	active  map[string]int // per user: uploads being checked, waiting or sending
	total   int
	gone    []string // ids of expired jobs, oldest first, at most maxGone
	closing bool
	drained bool // StopAll saw every job stop sending
	// verifying bounds the jobs reading back at once (maxVerifying).
	verifying chan struct{}
	sendings  sync.WaitGroup
}

// stateFolder is the default Store's folder in Config.Dir.
const stateFolder = "kinesis-console-state"

// NewManager opens the job store (the local disk's by default) and starts
// looking for unfinished jobs to resume: at once, then every Lease/2.
func NewManager(cfg Config) (*Manager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxActive <= 0 {
		cfg.MaxActive = DefaultMaxActive
	}
	if cfg.MaxActivePerUser <= 0 {
		cfg.MaxActivePerUser = DefaultMaxActivePerUser
	}
	if cfg.CheckedTTL <= 0 {
		cfg.CheckedTTL = DefaultCheckedTTL
	}
	if cfg.DoneTTL <= 0 {
		cfg.DoneTTL = DefaultDoneTTL
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Replica == "" {
		cfg.Replica = uuid.NewString()
	}
	m := &Manager{cfg: cfg, store: cfg.Store, jobs: map[string]*Job{}, active: map[string]int{},
		verifying: make(chan struct{}, maxVerifying), quit: make(chan struct{}), watched: map[string]watched{}, warned: map[string]bool{}}
	if m.store == nil {
		parent := cfg.Dir
		if parent == "" {
			parent = os.TempDir()
		}
		st, err := disk.Open(filepath.Join(parent, stateFolder), disk.Options{})
		if err != nil {
			return nil, fmt.Errorf("bulk: job store: %w", err)
		}
		m.store, m.ownStore = st, true
	}
	m.loop.Go(m.resumeLoop)
	return m, nil
}

// Dir is where the Manager makes its temporary files: the store's TempDir.
func (m *Manager) Dir() string { return m.store.TempDir() }

// Store is the job store.
func (m *Manager) Store() state.Store { return m.store }

// reserve counts an upload against the caps before any of it is read, so
// uploads arriving together cannot all pass the check.
func (m *Manager) reserve(user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closing:
		return ErrShuttingDown
	case m.total >= m.cfg.MaxActive:
		return ErrBusy
	case m.active[user] >= m.cfg.MaxActivePerUser:
		return ErrUserBusy
	}
	m.total++
	m.active[user]++
	return nil
}

// release gives back a reservation; m.mu is held.
func (m *Manager) release(user string) {
	m.total--
	if m.active[user]--; m.active[user] <= 0 {
		delete(m.active, user)
	}
}

// Check reads an upload once, checking every record against its spec while
// spooling it to disk, and registers the job. It does not send: see Start.
// A spec that fails Check, or input with no valid record, is a
// stream.FieldErrors error.
func (m *Manager) Check(up Upload, src io.Reader) (*Job, error) {
	if errs := up.Spec.Check(); len(errs) > 0 {
		return nil, errs
	}
	if err := m.reserve(up.User); err != nil {
		return nil, err
	}
	j, err := m.check(up, src)
	if err != nil {
		m.mu.Lock()
		m.release(up.User)
		m.mu.Unlock()
		return nil, err
	}
	m.register(j)
	return j, nil
}

func (m *Manager) check(up Upload, src io.Reader) (*Job, error) {
	spool, err := os.CreateTemp(m.store.TempDir(), "*.input")
	if err != nil {
		return nil, fmt.Errorf("bulk: spool: %w", err)
	}
	defer os.Remove(spool.Name()) // gone once saved
	w := bufio.NewWriterSize(spool, 256<<10)
	v, err := Validate(src, up.Spec, w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := spool.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = noneValid(v)
	}
	if err != nil {
		return nil, err
	}
	up.Spec.Format = v.Format
	now := time.Now()
	j := &Job{
		Upload: up, ID: uuid.NewString(), Check: v, created: now, expires: now.Add(m.cfg.CheckedTTL),
		state: StateChecked, done: make(chan struct{}), changed: make(chan struct{}),
	}
	// The job and its input go to the store before anyone hears of it, so
	// that its Start, page, report or Cancel may reach any replica.
	body, err := j.body()
	if err != nil {
		return nil, err
	}
	ctx, cancel := m.storeCtx()
	defer cancel()
	j.stored = state.Job{ID: j.ID, User: up.User, Created: now, Expires: j.expires, Body: body}
	if err := m.store.CreateJob(ctx, j.stored); err != nil {
		return nil, fmt.Errorf("bulk: the job store could not be written: %w", err)
	}
	if err := m.store.SaveFile(ctx, j.ID, blobInput, spool.Name()); err != nil {
		_ = m.store.DeleteJob(ctx, j.ID)
		return nil, fmt.Errorf("bulk: the job store could not be written: %w", err)
	}
	return j, nil
}

// noneValid explains an upload that holds nothing to send.
func noneValid(v Validation) error {
	if v.Records == 0 {
		return stream.FieldErrors{{Field: field.Records, Message: "No records found: the input holds no JSON values."}}
	}
	if v.Valid == 0 {
		return stream.FieldErrors{{Field: field.Records, Message: fmt.Sprintf("None of the %d records can be sent. The first problem, on line %d: %s", v.Records, v.Problems[0].Line, v.Problems[0].Message)}}
	}
	return nil
}

// register makes a checked job reachable; unsent, it expires after CheckedTTL.
func (m *Manager) register(j *Job) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.expiry = time.AfterFunc(time.Until(j.expires), func() { m.removeIf(j, expired) })
	m.jobs[j.ID] = j
}

// trimDone forgets a user's oldest finished jobs beyond maxDonePerUser.
func (m *Manager) trimDone(user string) {
	m.mu.Lock()
	var done []*Job
	for _, j := range m.jobs {
		if j.User == user && j.Status().State == StateDone {
			done = append(done, j)
		}
	}
	m.mu.Unlock()
	if len(done) <= maxDonePerUser {
		return
	}
	slices.SortFunc(done, func(a, b *Job) int { return a.created.Compare(b.created) })
	for _, j := range done[:len(done)-maxDonePerUser] {
		m.removeIf(j, isDone)
	}
}

// isDone holds for a job that has finished sending; j.mu is held.
func isDone(j *Job) bool { return j.state == StateDone }

// removeIf forgets a job and deletes it from the store if ok(j) holds,
// checked under the locks Start takes, so that a job is never removed
// just as it starts sending. It reports whether it removed the job.
func (m *Manager) removeIf(j *Job, ok func(*Job) bool) bool {
	m.mu.Lock()
	j.mu.Lock()
	if m.jobs[j.ID] != j || j.state == StateSending || j.state == StateVerifying || !ok(j) {
		j.mu.Unlock()
		m.mu.Unlock()
		return false
	}
	delete(m.jobs, j.ID)
	checked := j.state == StateChecked
	if checked {
		m.release(j.User)
	}
	if j.expiry != nil {
		j.expiry.Stop()
	}
	m.forgetLocked(j.User, j.ID)
	report := j.report
	j.mu.Unlock()
	m.mu.Unlock()
	if report != "" {
		_ = os.Remove(report)
	}
	ctx, cancel := m.storeCtx()
	defer cancel()
	if sj, err := m.store.Job(ctx, j.ID); checked && err == nil && sj.Run > 0 {
		return true // started on another replica since: it is that one's now
	}
	if err := m.store.DeleteJob(ctx, j.ID); err != nil {
		m.cfg.Logger.Warn("bulk: could not delete a job from the store; it expires there", "job", j.ID, "err", err.Error())
	}
	return true
}

// forgetLocked remembers a job as gone; m.mu is held.
func (m *Manager) forgetLocked(user, id string) {
	if len(m.gone) == maxGone {
		m.gone = slices.Delete(m.gone, 0, 1)
	}
	m.gone = append(m.gone, user+"\x00"+id)
}

// expired holds for a job whose time is up; j.mu is held.
func expired(j *Job) bool { return !time.Now().Before(j.expires) }

// unsent holds for a checked job that was never started; j.mu is held.
func unsent(j *Job) bool { return j.state == StateChecked }
