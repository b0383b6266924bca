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
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kinesis-console/kinesis-console/internal/access"
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
	bodyLimit         int64
	regions           string
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (settings, error) {
	var s settings
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.addr, "addr", envOr(getenv, "KINESIS_CONSOLE_ADDR", "127.0.0.1:8080"),
		"address to listen on (env KINESIS_CONSOLE_ADDR)")
	fs.BoolVar(&s.allowNonLocal, "allow-non-loopback", getenv("KINESIS_CONSOLE_ALLOW_NON_LOOPBACK") == "true",
		"allow listening on a non-loopback address: anyone who reaches it writes with the server's AWS credentials (env KINESIS_CONSOLE_ALLOW_NON_LOOPBACK=true)")
	fs.DurationVar(&s.putTimeout, "put-timeout", 15*time.Second, "bound on one PutRecord, retries included")
	fs.DurationVar(&s.shutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish on shutdown")
	fs.TextVar(&s.logLevel, "log-level", slog.LevelInfo, "log level: DEBUG, INFO, WARN, ERROR")
	fs.BoolVar(&s.showVersion, "version", false, "print the version and exit")
	fs.StringVar(&s.configFile, "config", getenv("KINESIS_CONSOLE_CONFIG"), "optional JSON config file with permissions (env KINESIS_CONSOLE_CONFIG)")
	fs.StringVar(&s.authMode, "auth", envOr(getenv, "KINESIS_CONSOLE_AUTH", "none"), "sign-in: none, basic or proxy (env KINESIS_CONSOLE_AUTH)")
	fs.StringVar(&s.basicAuthFile, "basic-auth-file", getenv("KINESIS_CONSOLE_BASIC_AUTH_FILE"), "with -auth basic: file of user:bcrypt-hash lines (env KINESIS_CONSOLE_BASIC_AUTH_FILE)")
	fs.StringVar(&s.trustedProxies, "trusted-proxies", getenv("KINESIS_CONSOLE_TRUSTED_PROXIES"), "comma-separated addresses or CIDRs of the reverse proxy in front: with -auth proxy its user headers are believed, with -auth basic its X-Forwarded-For (env KINESIS_CONSOLE_TRUSTED_PROXIES)")
	fs.StringVar(&s.proxyUserHeader, "proxy-user-header", "X-Forwarded-User", "with -auth proxy: header holding the user name")
	fs.StringVar(&s.proxyEmailHeader, "proxy-email-header", "X-Forwarded-Email", "with -auth proxy: header holding the user's email")
	fs.StringVar(&s.proxyGroupsHeader, "proxy-groups-header", "X-Forwarded-Groups", "with -auth proxy: header holding the user's groups, comma-separated")
	fs.BoolVar(&s.readOnly, "read-only", getenv("KINESIS_CONSOLE_READ_ONLY") == "true", "refuse every write (env KINESIS_CONSOLE_READ_ONLY=true)")
	fs.StringVar(&s.auditLog, "audit-log", envOr(getenv, "KINESIS_CONSOLE_AUDIT_LOG", "-"), "where audit lines go: a file, - for stdout, empty for nowhere (env KINESIS_CONSOLE_AUDIT_LOG)")
	fs.Float64Var(&s.rateLimit, "rate-limit", 10, "records per second each user may put; 0 turns the limit off")
	fs.IntVar(&s.rateBurst, "rate-burst", 20, "records a user may put at once before -rate-limit applies")
	fs.Float64Var(&s.bulkRateLimit, "bulk-rate-limit", 1000, "records per second each user may send by bulk upload (one shard's write limit); 0 turns the limit off")
	fs.Float64Var(&s.readBackRate, "readback-rate-limit", 2, "read-backs per second each user may make (burst 5); they spend the stream's read limit of 5 a second per shard; 0 turns the limit off")
	fs.StringVar(&s.regions, "regions", getenv("KINESIS_CONSOLE_REGIONS"), "more regions to offer, comma-separated, with the same credentials (env KINESIS_CONSOLE_REGIONS)")
	fs.Int64Var(&s.bodyLimit, "max-body-bytes", 4<<20, "largest request body accepted; larger ones get 413")
	if err := fs.Parse(args[1:]); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return s, nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
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
	targets, err := buildTargets(cfg, endpoint, s.regions, fileCfg.Targets, stream.Options{PutTimeout: s.putTimeout})
	if err != nil {
		return err
	}

	handler := web.New(web.Deps{
		Targets:   targets,
		Logger:    logger,
		BodyLimit: s.bodyLimit,
		Auth:      auth,
		Policy:    policy,
		Audit:     access.NewAuditor(auditOut),
		RateLimit: access.NewRateLimiter(s.rateLimit, s.rateBurst),
		// A burst of one full PutRecords batch, so a batch never waits on itself.
		BulkRateLimit:     access.NewRateLimiter(s.bulkRateLimit, max(int(s.bulkRateLimit), 500)),
		ReadBackRateLimit: access.NewRateLimiter(s.readBackRate, 5),
		// 10 wrong passwords for a user name from one address, then one more a
		// minute: online guessing gets nowhere, and nobody else is locked out.
		SignInGuard: access.NewSignInGuard(10, time.Minute),
	})

	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
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
	// Bulk uploads first: they stop at their next batch, and their progress
	// streams then end, which the server's shutdown waits for.
	if err := handler.StopBulk(shutdownCtx); err != nil {
		logger.Warn("shutdown", "err", err.Error())
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
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
		return fmt.Errorf("-addr %q is not a loopback address and sign-in is off: anyone who reaches it could write with this server's AWS credentials; "+
			"turn on sign-in (-auth basic or -auth proxy), or pass -allow-non-loopback (KINESIS_CONSOLE_ALLOW_NON_LOOPBACK=true) to do it anyway", addr)
	}
	return nil
}
