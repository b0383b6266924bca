// Command kinesis-console serves a browser console for putting records into
// Amazon Kinesis Data Streams and seeing that they landed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/state"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kinesis-console:", err)
		os.Exit(1)
	}
}

// settings are the console's own options; AWS settings come from the SDK's
// standard environment and shared config.
type settings struct {
	addr            string
	allowNonLocal   bool
	allowedHosts    string
	shutdownTimeout time.Duration
	putTimeout      time.Duration
	logLevel        slog.Level
	showVersion     bool

	configFile        string
	authMode          string
	basicAuthFile     string
	trustedProxies    string
	proxyUserHeader   string
	proxyEmailHeader  string
	proxyGroupsHeader string
	readOnly          bool
	auditLog          string
	rateLimit         float64
	rateBurst         int
	bulkRateLimit     float64
	readBackRate      float64
	lookupRate        float64
	readPerViewer     float64
	readPerShard      float64
	readMemoryMiB     int64
	maxTailsPerUser   int
	describeRate      float64
	tagsRate          float64
	maxTails          int
	bodyLimit         int64
	regions           string
	stateDir          string
	stateLease        time.Duration
	stateTable        string
	stateBucket       string
	replicas          int
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (settings, error) {
	var s settings
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.BoolVar(&s.allowNonLocal, "allow-non-loopback", false,
		"allow listening on a non-loopback address with sign-in off: anyone who reaches it writes with the server's AWS credentials")
	fs.StringVar(&s.allowedHosts, "allowed-hosts", "",
		"more Host names the console answers, comma-separated (name, or name:port), for use behind a DNS name; * answers any (needs sign-in)")
	fs.DurationVar(&s.putTimeout, "put-timeout", 15*time.Second, "bound on one PutRecord, retries included, and on one PutRecords call of a bulk upload")
	fs.DurationVar(&s.shutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish on shutdown; longer than -put-timeout")
	fs.TextVar(&s.logLevel, "log-level", slog.LevelInfo, "log level: DEBUG, INFO, WARN, ERROR")
	fs.BoolVar(&s.showVersion, "version", false, "print the version and exit")
	fs.StringVar(&s.configFile, "config", "", "optional JSON config file with permissions and targets")
	fs.StringVar(&s.authMode, "auth", "none", "sign-in: none, basic or proxy")
	fs.StringVar(&s.basicAuthFile, "basic-auth-file", "", "with -auth basic: file of user:bcrypt-hash lines")
	fs.StringVar(&s.trustedProxies, "trusted-proxies", "", "comma-separated addresses or CIDRs of the reverse proxy in front: with -auth proxy its user headers are believed, with -auth basic its X-Forwarded-For")
	fs.StringVar(&s.proxyUserHeader, "proxy-user-header", "X-Forwarded-User", "with -auth proxy: header holding the user name")
	fs.StringVar(&s.proxyEmailHeader, "proxy-email-header", "X-Forwarded-Email", "with -auth proxy: header holding the user's email")
	fs.StringVar(&s.proxyGroupsHeader, "proxy-groups-header", "X-Forwarded-Groups", "with -auth proxy: header holding the user's groups, comma-separated")
	fs.BoolVar(&s.readOnly, "read-only", false, "refuse every write")
	fs.StringVar(&s.auditLog, "audit-log", "-", "where audit lines go: a file, - for stdout, none (or empty) for nowhere")
	fs.Float64Var(&s.rateLimit, "rate-limit", 10, "records per second each user may put; 0 turns the limit off")
	fs.IntVar(&s.rateBurst, "rate-burst", 20, "records a user may put at once before -rate-limit applies")
	fs.Float64Var(&s.bulkRateLimit, "bulk-rate-limit", 0, "records per second each user may send by bulk upload; 0 is the stream's capacity (open shards × each shard's write limit), which every upload is paced to anyway")
	fs.Float64Var(&s.readBackRate, "readback-rate-limit", 2, "read-backs per second each user may make (burst 5); they spend the stream's read limit of 5 a second per shard; 0 turns the limit off")
	fs.Float64Var(&s.lookupRate, "lookup-rate-limit", 5, "stream look-ups reaching AWS (summary, shard preview) per second each user may make (burst 10); DescribeStreamSummary has an account-wide quota of 20 a second; 0 turns the limit off")
	fs.Float64Var(&s.readPerViewer, "read-rate-per-viewer", 1, "GetRecords calls per second one viewer of the records page and tail may make on one shard")
	fs.Float64Var(&s.readPerShard, "read-rate-per-shard", 2, "GetRecords calls per second the whole console may make on one shard, all viewers together (Kinesis allows 5, shared with the stream's consumers)")
	fs.Float64Var(&s.describeRate, "describe-rate-limit", web.DefaultDescribeRate, "DescribeStreamSummary calls per second the whole console may make, every user and path together (summary, put over 1 MiB, bulk upload): the account's quota is 20 a second for every client")
	fs.Float64Var(&s.tagsRate, "tags-rate-limit", web.DefaultTagsRate, "ListTagsForStream calls per second the whole console may make (the confirm tag): the account's quota is 5 a second for every client")
	fs.IntVar(&s.maxTailsPerUser, "max-tails-per-user", 3, "live tails one user (or, with sign-in off, one address) may have open at once; more get 429")
	fs.IntVar(&s.maxTails, "max-tails", 50, "live tails the whole console may have open at once; more get 429")
	fs.Int64Var(&s.readMemoryMiB, "read-memory", web.DefaultReadMemory>>20, "MiB the console may hold at once for the records it reads and renders (pages, exports), shared by every viewer: a page takes up to 16 MiB, and waits or shows less when the rest is taken")
	fs.StringVar(&s.regions, "regions", "", "more regions to offer, comma-separated, with the same credentials")
	fs.Int64Var(&s.bodyLimit, "max-body-bytes", 4<<20, "largest request body accepted; larger ones get 413")
	fs.StringVar(&s.stateDir, "state-dir", defaultStateDir(), "folder of the console's durable state (bulk jobs) on the local disk, when -state-table and -state-bucket are not set")
	fs.StringVar(&s.stateTable, "state-table", "", "DynamoDB table of the state replicas share (jobs, submission keys, heartbeats); with -state-bucket")
	fs.StringVar(&s.stateBucket, "state-bucket", "", "S3 bucket of the state replicas share (bulk inputs and reports); with -state-table")
	fs.DurationVar(&s.stateLease, "state-lease", bulk.DefaultLease, "how long a bulk upload's runner may go silent before another replica (or this console, restarted) takes the upload over and finishes it")
	fs.IntVar(&s.replicas, "replicas", 0, "replicas of the console sharing the read budgets and look-up quotas (each spends 1/N); 0 counts them by their heartbeats in the state store (the local disk counts 1)")
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "version" {
			f.Usage += " (env " + envName(f.Name) + ")"
		}
	})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of %s:\nEvery flag but -version can be given in the environment instead, as KINESIS_CONSOLE_<FLAG>; a flag given on the command line wins.\n", args[0])
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := setFromEnv(fs, getenv); err != nil {
		return s, err
	}
	return s, nil
}

// checkTimeouts refuses timeouts that would cut off a put at shutdown.
func checkTimeouts(s settings) error {
	if s.putTimeout <= 0 {
		return fmt.Errorf("-put-timeout %s: must be more than 0", s.putTimeout)
	}
	if s.shutdownTimeout <= s.putTimeout {
		return fmt.Errorf("-shutdown-timeout %s must be longer than -put-timeout %s: a put or bulk batch in flight at shutdown must have time to finish",
			s.shutdownTimeout, s.putTimeout)
	}
	return nil
}

// checkReadRates refuses read rates the budget could not keep: a rate of 0
// would mean the budget's default, not no reads.
func checkReadRates(s settings) error {
	if s.readPerViewer <= 0 {
		return fmt.Errorf("-read-rate-per-viewer %g: must be more than 0", s.readPerViewer)
	}
	if s.readPerShard <= 0 {
		return fmt.Errorf("-read-rate-per-shard %g: must be more than 0", s.readPerShard)
	}
	if s.readPerShard > 5 {
		return fmt.Errorf("-read-rate-per-shard %g: Kinesis allows 5 GetRecords calls a second per shard, for every consumer together", s.readPerShard)
	}
	if s.describeRate <= 0 || s.describeRate > 20 {
		return fmt.Errorf("-describe-rate-limit %g: more than 0 and at most 20, the account's DescribeStreamSummary quota", s.describeRate)
	}
	if s.tagsRate <= 0 || s.tagsRate > 5 {
		return fmt.Errorf("-tags-rate-limit %g: more than 0 and at most 5, the account's ListTagsForStream quota", s.tagsRate)
	}
	if s.maxTailsPerUser < 1 || s.maxTails < s.maxTailsPerUser {
		return fmt.Errorf("-max-tails-per-user %d, -max-tails %d: at least 1, and the console's bound at least one user's", s.maxTailsPerUser, s.maxTails)
	}
	if s.readMemoryMiB < 4 {
		return fmt.Errorf("-read-memory %d: at least 4 MiB, so that a page of records fits", s.readMemoryMiB)
	}
	return nil
}

// envName is the environment variable for a flag: -put-timeout is
// KINESIS_CONSOLE_PUT_TIMEOUT.
func envName(flagName string) string {
	return "KINESIS_CONSOLE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// setFromEnv sets every flag not given on the command line from its
// environment variable, when that is set and not empty. A bad value fails
// naming the variable.
func setFromEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] || f.Name == "version" {
			return
		}
		name := envName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("%s=%q (the environment's -%s): %w", name, v, f.Name, serr)
		}
	})
	return err
}

// run wires the console together and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if s.showVersion {
		fmt.Fprintln(stdout, "kinesis-console", version)
		return nil
	}
	if err := checkTimeouts(s); err != nil {
		return err
	}
	if err := checkReadRates(s); err != nil {
		return err
	}
	if err := checkState(s); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: s.logLevel}))

	auth, err := buildAuth(s)
	if err != nil {
		return err
	}
	fileCfg, err := loadFileConfig(s.configFile)
	if err != nil {
		return err
	}
	policy := fileCfg.Permissions
	policy.ReadOnly = policy.ReadOnly || s.readOnly
	if err := checkListenAddr(s.addr, s.allowNonLocal || auth.Mode() != access.ModeNone); err != nil {
		return err
	}
	auditOut, closeAudit, err := openAudit(s.auditLog, stdout)
	if err != nil {
		return err
	}
	defer closeAudit()

	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	endpoint := getenv("AWS_ENDPOINT_URL_KINESIS")
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL")
	}
	budget := stream.NewReadBudget(stream.BudgetOptions{PerViewer: s.readPerViewer, PerShard: s.readPerShard})
	targets, err := buildTargets(cfg, endpoint, s.regions, fileCfg.Targets, stream.Options{PutTimeout: s.putTimeout, ReadBudget: budget}, budget)
	if err != nil {
		return err
	}
	consumers, err := buildConsumers(fileCfg)
	if err != nil {
		return err
	}
	if err := checkRuleTargets(s.configFile, policy, targets); err != nil {
		return err
	}
	store, shared, err := openState(s, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			logger.Warn("closing the state store", "err", err.Error())
		}
	}()
	replica := newReplicaID()
	logger.Info("state", "store", store.Describe(), "replica", replica, "shared_keys", shared)
	var keys state.Keys // one process: its submission keys stay in memory
	if shared {
		keys = store
	}

	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	defer ln.Close()
	// The port is the one listened on, which "-addr host:0" leaves to the system.
	hosts, err := hostPolicy(s.addr, ln.Addr(), s.allowedHosts, auth.Mode())
	if err != nil {
		return err
	}

	// Refused sign-ins are counted per client and minute: the minute in
	// progress is written at shutdown, not lost.
	auditor := access.NewAuditor(auditOut)
	defer auditor.Flush()
	handler, err := web.New(web.Deps{
		Hosts:     hosts,
		Targets:   targets,
		Rules:     consumers,
		Logger:    logger,
		BodyLimit: s.bodyLimit,
		Auth:      auth,
		Policy:    policy,
		Audit:     auditor,
		RateLimit: access.NewRateLimiter(s.rateLimit, s.rateBurst),
		// A burst of one full PutRecords batch, so a batch never waits on itself.
		BulkRateLimit:     access.NewRateLimiter(s.bulkRateLimit, max(int(s.bulkRateLimit), 500)),
		ReadBackRateLimit: access.NewRateLimiter(s.readBackRate, 5),
		LookupRateLimit:   access.NewRateLimiter(s.lookupRate, 10),
		ReadMemory:        stream.NewMemoryBudget(s.readMemoryMiB << 20),
		MaxTailsPerUser:   s.maxTailsPerUser,
		DescribeRate:      s.describeRate,
		TagsRate:          s.tagsRate,
		MaxTails:          s.maxTails,
		// 10 wrong passwords for a user name from one address, then one more a
		// minute, and 100 from one address over all names: online guessing
		// gets nowhere, and users signed in from that address stay in.
		SignInGuard: access.NewSignInGuard(10, time.Minute),
		State:       store,
		Keys:        keys,
		Replica:     replica,
		JobLease:    s.stateLease,
	})
	if err != nil {
		return err
	}
	defer func() {
		// Bulk uploads' files hold record data: they go with the console.
		if err := handler.Close(); err != nil {
			logger.Warn("shutdown", "err", err.Error())
		}
	}()

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	url := "http://" + ln.Addr().String()
	logger.Info("serving", "url", url, "targets", len(targets), "region", cfg.Region, "endpoint", endpoint, "version", version)
	fmt.Fprintf(stdout, "Kinesis Console is at %s\n", url)

	// With N replicas each spends 1/N of the read budget and the look-up
	// quotas, so that together they spend what one console would.
	shareCtx, stopShare := context.WithCancel(ctx)
	shareDone := make(chan struct{})
	go func() {
		defer close(shareDone)
		tick := time.NewTicker(heartbeatEvery)
		defer tick.Stop()
		keepShare(shareCtx, logger, store, replica, s.replicas, tick.C, func(n int) {
			budget.SetShare(n)
			handler.SetShare(n)
		})
	}()
	defer func() { stopShare(); <-shareDone }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: letting in-flight requests finish", "timeout", s.shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownTimeout)
	defer cancel()
	// Both at once: the server stops taking connections and waits for the
	// requests in flight, while bulk uploads stop at their next batch; their
	// progress streams then end, which the server's shutdown also waits for.
	bulkStopped := make(chan error, 1)
	go func() { bulkStopped <- handler.StopBulk(shutdownCtx) }()
	err = srv.Shutdown(shutdownCtx)
	if berr := <-bulkStopped; berr != nil {
		logger.Warn("shutdown", "err", berr.Error())
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// checkListenAddr refuses a non-loopback address unless told otherwise:
// whoever reaches the console writes with the server's credentials.
func checkListenAddr(addr string, allowNonLocal bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if allowNonLocal {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q is not a loopback address and sign-in is off: anyone who reaches it could write with this server's AWS credentials. "+
			"Choose sign-in: -auth basic|proxy (in a container: -e KINESIS_CONSOLE_AUTH=basic -e KINESIS_CONSOLE_BASIC_AUTH_FILE=..., "+
			"or -e KINESIS_CONSOLE_AUTH=proxy -e KINESIS_CONSOLE_TRUSTED_PROXIES=...); "+
			"or, if you really mean a console anyone who reaches it can write through, -allow-non-loopback "+
			"(in a container: -e KINESIS_CONSOLE_ALLOW_NON_LOOPBACK=true)", addr)
	}
	return nil
}
