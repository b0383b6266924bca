package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kinesis-console/kinesis-console/internal/identity"
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
	case t.RoleARN == "" && (t.ExternalID != "" || t.SessionName != ""):
		return fmt.Errorf("%s (%s): external_id and session_name need role_arn", where, t.Name)
	}
	return nil
}

// buildTargets makes one web.Target per account and region: the SDK's own
// configuration first, then one per extra region, then the config file's.
// Each has its own clients, so each keeps its own credentials cache.
func buildTargets(base aws.Config, endpoint, regions string, file []targetConfig, opts stream.Options) ([]web.Target, error) {
	defaultName := "default"
	if base.Region != "" {
		defaultName = base.Region
	}
	targets := []web.Target{newTarget(base, defaultName, "", endpoint, opts)}
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
		targets = append(targets, newTarget(cfg, r, "", endpoint, opts))
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
		if tc.RoleARN != "" {
			session := tc.SessionName
			if session == "" {
				session = "kinesis-console"
			}
			provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), tc.RoleARN, func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = session
				if tc.ExternalID != "" {
					o.ExternalID = aws.String(tc.ExternalID)
				}
			})
			cfg.Credentials = aws.NewCredentialsCache(provider)
		}
		targets = append(targets, newTarget(cfg, tc.Name, tc.Account, endpoint, opts))
	}
	return targets, nil
}

// newTarget builds a target's clients. endpoint is the Kinesis endpoint the
// SDK's settings point at, shown in the header when it is not AWS's own.
func newTarget(cfg aws.Config, name, account, endpoint string, opts stream.Options) web.Target {
	kc := kinesis.NewFromConfig(cfg)
	return web.Target{
		Name:      name,
		Account:   account,
		Region:    cfg.Region,
		Endpoint:  endpoint,
		Publisher: stream.NewPublisher(kc, opts),
		Identity:  identity.NewResolver(sts.NewFromConfig(cfg), identity.Options{}),
		Bulk:      stream.NewBulkSender(kc, stream.BulkOptions{}),
	}
}
