package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/kinesis-console/kinesis-console/internal/access"
)

// fileConfig is the optional -config file, for what does not fit in flags.
type fileConfig struct {
	Permissions access.Policy  `json:"permissions"`
	Targets     []targetConfig `json:"targets"`
	// What consumers expect: schemas, templates, typed confirmations.
	Schemas   []schemaConfig   `json:"schemas"`
	Templates []templateConfig `json:"templates"`
	Confirm   []confirmConfig  `json:"confirm"`
}

// loadFileConfig reads a JSON config file; unknown keys are errors, so a
// typo fails at start and names the setting.
func loadFileConfig(path string) (fileConfig, error) {
	var cfg fileConfig
	if path == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("-config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("-config %s: %w", path, err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return cfg, fmt.Errorf("-config %s: more than one JSON value", path)
	}
	if err := cfg.Permissions.Validate(); err != nil {
		return cfg, fmt.Errorf("-config %s: permissions: %w", path, err)
	}
	return cfg, nil
}

// buildAuth makes the authenticator the settings ask for.
func buildAuth(s settings) (*access.Authenticator, error) {
	mode, err := access.ParseMode(s.authMode)
	if err != nil {
		return nil, fmt.Errorf("-auth: %w", err)
	}
	switch mode {
	case access.ModeBasic:
		if s.basicAuthFile == "" {
			return nil, fmt.Errorf("-auth basic needs -basic-auth-file (user:bcrypt-hash lines, e.g. from htpasswd -B)")
		}
		f, err := os.Open(s.basicAuthFile)
		if err != nil {
			return nil, fmt.Errorf("-basic-auth-file: %w", err)
		}
		defer f.Close()
		a, err := access.NewBasic(f)
		if err != nil {
			return nil, fmt.Errorf("-basic-auth-file %s: %w", s.basicAuthFile, err)
		}
		prefixes, err := access.ParsePrefixes(s.trustedProxies)
		if err != nil {
			return nil, fmt.Errorf("-trusted-proxies: %w", err)
		}
		a.TrustForwardedFor(prefixes)
		return a, nil
	case access.ModeProxy:
		prefixes, err := access.ParsePrefixes(s.trustedProxies)
		if err != nil {
			return nil, fmt.Errorf("-trusted-proxies: %w", err)
		}
		a, err := access.NewProxy(access.ProxyConfig{UserHeader: s.proxyUserHeader, EmailHeader: s.proxyEmailHeader,
			GroupsHeader: s.proxyGroupsHeader, TrustedProxies: prefixes})
		if err != nil {
			return nil, fmt.Errorf("-auth proxy: %w (set -trusted-proxies)", err)
		}
		return a, nil
	}
	return access.NewNone(), nil
}

// openAudit opens the audit destination: "-" is stdout, "" is off.
func openAudit(path string, stdout io.Writer) (io.Writer, func() error, error) {
	switch path {
	case "", "none": // "none" also works from the environment, where empty is unset
		return nil, func() error { return nil }, nil
	case "-":
		return stdout, func() error { return nil }, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("-audit-log: %w", err)
	}
	return f, f.Close, nil
}
