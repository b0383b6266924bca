package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/kinesis-console/kinesis-console/internal/bulk"
	"github.com/kinesis-console/kinesis-console/internal/identity"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/internal/schema"
	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/web"
)

// targetConfig is one account and region from the config file.
type targetConfig struct {
	Name        string `json:"name"`
	Account     string `json:"account,omitempty"` // a label, e.g. "prod"
	Region      string `json:"region,omitempty"`  // default: the SDK's region
	RoleARN     string `json:"role_arn,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
	SessionName string `json:"session_name,omitempty"`
	// SessionPerUser assumes the role once per signed-in user, with the
	// user as the role session name, so CloudTrail names the person.
	SessionPerUser bool `json:"session_per_user,omitempty"`
	// SourceIdentity also sets the user as the session's source identity
	// (the role's trust policy must allow sts:SetSourceIdentity).
	SourceIdentity bool `json:"source_identity,omitempty"`
}

var (
	targetNameRe = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	roleARNRe    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)
	regionRe     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

func (t targetConfig) validate(i int) error {
	where := fmt.Sprintf("targets[%d]", i)
	switch {
	case !targetNameRe.MatchString(t.Name):
		return fmt.Errorf("%s.name %q: 1-64 letters, digits, '_', '.', ':' or '-'", where, t.Name)
	case t.Region != "" && !regionRe.MatchString(t.Region):
		return fmt.Errorf("%s (%s).region %q is not an AWS region name", where, t.Name, t.Region)
	case t.RoleARN != "" && !roleARNRe.MatchString(t.RoleARN):
		return fmt.Errorf("%s (%s).role_arn %q is not an IAM role ARN", where, t.Name, t.RoleARN)
	case t.RoleARN == "" && (t.ExternalID != "" || t.SessionName != "" || t.SessionPerUser || t.SourceIdentity):
		return fmt.Errorf("%s (%s): external_id, session_name, session_per_user and source_identity need role_arn", where, t.Name)
	case t.SourceIdentity && !t.SessionPerUser:
		return fmt.Errorf("%s (%s): source_identity needs session_per_user", where, t.Name)
	case t.SessionPerUser && t.SessionName != "":
		return fmt.Errorf("%s (%s): session_name and session_per_user exclude each other", where, t.Name)
	}
	return nil
}

// buildTargets makes one web.Target per account and region: the SDK's own
// configuration first, then one per extra region, then the config file's.
// Each has its own clients, so each keeps its own credentials cache.
//
// budget paces every target's reads: one ReadBudget for the whole console.
func buildTargets(base aws.Config, endpoint, regions string, file []targetConfig, opts stream.Options, budget *stream.ReadBudget) ([]web.Target, error) {
	defaultName := "default"
	if base.Region != "" {
		defaultName = base.Region
	}
	targets := []web.Target{newTarget(base, defaultName, "", endpoint, opts, budget)}
	seen := map[string]bool{defaultName: true}
	for _, r := range strings.Split(regions, ",") {
		r = strings.TrimSpace(r)
		if r == "" || seen[r] {
			continue
		}
		if !regionRe.MatchString(r) {
			return nil, fmt.Errorf("-regions: %q is not an AWS region name", r)
		}
		seen[r] = true
		cfg := base.Copy()
		cfg.Region = r
		targets = append(targets, newTarget(cfg, r, "", endpoint, opts, budget))
	}
	for i, tc := range file {
		if err := tc.validate(i); err != nil {
			return nil, fmt.Errorf("-config: %w", err)
		}
		if seen[tc.Name] {
			return nil, fmt.Errorf("-config: targets[%d].name %q is used twice", i, tc.Name)
		}
		seen[tc.Name] = true
		cfg := base.Copy()
		if tc.Region != "" {
			cfg.Region = tc.Region
		}
		caller := cfg // the identity that assumes the role
		if tc.RoleARN != "" {
			session := tc.SessionName
			if session == "" {
				session = "kinesis-console"
			}
			cfg.Credentials = assumeRole(caller, tc, session, "")
		}
		t := newTarget(cfg, tc.Name, tc.Account, endpoint, opts, budget)
		if tc.SessionPerUser {
			t.ForUser = newUserSessions(caller, tc, endpoint, opts, budget).clients
		}
		targets = append(targets, t)
	}
	return targets, nil
}

// newTarget builds a target's clients. endpoint is the Kinesis endpoint the
// SDK's settings point at, shown in the header when it is not AWS's own.
func newTarget(cfg aws.Config, name, account, endpoint string, opts stream.Options, budget *stream.ReadBudget) web.Target {
	kc := kinesis.NewFromConfig(cfg)
	registry := schema.NewRegistry(glue.NewFromConfig(cfg), schema.Options{})
	return web.Target{
		Name:      name,
		Account:   account,
		Region:    cfg.Region,
		Endpoint:  endpoint,
		Publisher: stream.NewPublisher(kc, opts),
		Identity:  identity.NewResolver(sts.NewFromConfig(cfg), identity.Options{}),
		// A bulk batch in flight gets as long as a put: both must be able to
		// finish within the shutdown timeout.
		Bulk:    bulk.NewSender(kc, bulk.Options{RequestTimeout: opts.PutTimeout}),
		Schemas: registry,
		// The records page finds a frame's schema by its version id.
		SchemaVersions: registry,
		StreamTags:     streamTags(kc),
		// Every target's reader pays from the one budget: the console's
		// share of a stream's reads does not grow with its targets or users.
		Browser: stream.NewReader(kc, budget, stream.ReaderOptions{}),
		// The readers page: lease tables, fan-out consumers, Lambda
		// mappings, Firehose and the charts' CloudWatch metrics, with the
		// target's own credentials.
		Readers: readers.New(readers.Clients{DynamoDB: dynamodb.NewFromConfig(cfg), Kinesis: kc,
			Lambda: lambda.NewFromConfig(cfg), Firehose: firehose.NewFromConfig(cfg), CloudWatch: cloudWatch(cfg, endpoint)}, readers.Options{}),
	}
}

// cloudWatch is a target's CloudWatch client. Against an endpoint of its
// own (moto, in the demo) it speaks awsQuery, which CloudWatch still serves:
// moto answers the SDK's default protocol (RPC v2 CBOR) with 404, so the
// demo's charts would always say CloudWatch failed.
func cloudWatch(cfg aws.Config, endpoint string) *cloudwatch.Client {
	if endpoint == "" {
		return cloudwatch.NewFromConfig(cfg)
	}
	return cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
		o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
	})
}

// streamTags reads a stream's tags with ListTagsForStream (the first page
// of 50 holds the confirm tag in any stream with fewer tags than that).
func streamTags(kc *kinesis.Client) web.StreamTagger {
	return func(ctx context.Context, name string) (map[string]string, error) {
		out, err := kc.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("list tags of %s: %w", name, err)
		}
		tags := make(map[string]string, len(out.Tags))
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return tags, nil
	}
}

// assumeRole returns cached credentials for tc's role, assumed by caller.
func assumeRole(caller aws.Config, tc targetConfig, session, sourceIdentity string) aws.CredentialsProvider {
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(caller), tc.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = session
		if tc.ExternalID != "" {
			o.ExternalID = aws.String(tc.ExternalID)
		}
		if sourceIdentity != "" {
			o.SourceIdentity = aws.String(sourceIdentity)
		}
	})
	return aws.NewCredentialsCache(provider)
}

// userSessions keeps one role session, and so one set of clients, per
// signed-in user of a target.
type userSessions struct {
	caller   aws.Config
	tc       targetConfig
	endpoint string
	opts     stream.Options
	budget   *stream.ReadBudget

	mu     sync.Mutex
	byUser map[string]web.Clients
}

// maxUserSessions bounds the cache; past it the oldest sessions are simply
// rebuilt on their next use.
const maxUserSessions = 1000

func newUserSessions(caller aws.Config, tc targetConfig, endpoint string, opts stream.Options, budget *stream.ReadBudget) *userSessions {
	return &userSessions{caller: caller, tc: tc, endpoint: endpoint, opts: opts, budget: budget, byUser: map[string]web.Clients{}}
}

func (u *userSessions) clients(user string) web.Clients {
	u.mu.Lock()
	defer u.mu.Unlock()
	if c, ok := u.byUser[user]; ok {
		return c
	}
	if len(u.byUser) >= maxUserSessions {
		clear(u.byUser)
	}
	name := sessionName(user)
	source := ""
	if u.tc.SourceIdentity {
		source = name
	}
	cfg := u.caller.Copy()
	cfg.Credentials = assumeRole(u.caller, u.tc, name, source)
	t := newTarget(cfg, u.tc.Name, u.tc.Account, u.endpoint, u.opts, u.budget)
	c := web.Clients{Publisher: t.Publisher, Identity: t.Identity, Bulk: t.Bulk, Browser: t.Browser}
	u.byUser[user] = c
	return c
}

var sessionUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)

// sessionName makes a user name fit AWS's role session name and source
// identity rules: 2-64 of [\w+=,.@-]. A name that had to change gets a short
// hash of the original, so two people never share a session name.
func sessionName(user string) string {
	s := sessionUnsafe.ReplaceAllString(user, "-")
	if s == user && len(s) >= 2 && len(s) <= 64 {
		return s
	}
	sum := sha256.Sum256([]byte(user))
	suffix := "-" + hex.EncodeToString(sum[:4])
	return s[:min(len(s), 64-len(suffix))] + suffix
}
