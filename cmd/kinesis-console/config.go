package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/readers"
	"github.com/kinesis-console/kinesis-console/web"
)

// fileConfig is the optional -config file, for what does not fit in flags.
type fileConfig struct {
	Permissions access.Policy  `json:"permissions"`
	Targets     []targetConfig `json:"targets"`
	// What consumers expect: schemas, templates, typed confirmations.
	Schemas   []schemaConfig   `json:"schemas"`
	Templates []templateConfig `json:"templates"`
	Confirm   []confirmConfig  `json:"confirm"`
	// The lease tables of the KCL applications reading streams, for the
	// readers page (a stream tag can name them too).
	KCLApplications []readers.KCLApp `json:"kcl_applications"`
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

// hostPolicy says which Host headers the console answers, against DNS
// rebinding: its loopback names and the address it listens on, with the
// port it listens on; a console listening on every interface also answers
// any IP address and localhost on any port, since its clients reach it by
// its addresses and through port mappings it cannot know; and the names in
// -allowed-hosts. "*" there answers any Host, which only sign-in makes safe:
// with sign-in off it would hand the console to any web page its users open.
func hostPolicy(addr string, listening net.Addr, allowed string, mode access.Mode) (web.HostPolicy, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return web.HostPolicy{}, fmt.Errorf("-addr %q: %w", addr, err)
	}
	_, port, err := net.SplitHostPort(listening.String())
	if err != nil {
		return web.HostPolicy{}, fmt.Errorf("-addr %q: %w", addr, err)
	}
	var p web.HostPolicy
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		p.Names = append(p.Names, net.JoinHostPort(name, port))
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		p.AnyIP = true
	} else {
		p.Names = append(p.Names, net.JoinHostPort(host, port))
	}
	for _, name := range strings.Split(allowed, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			continue
		case name == "*":
			if mode == access.ModeNone {
				return web.HostPolicy{}, errors.New("-allowed-hosts \"*\" answers any Host, so with sign-in off any web page a user opens " +
					"could write through the console (DNS rebinding): list the names instead, or turn on sign-in (-auth basic or -auth proxy)")
			}
			p.Any = true
		case !hostNameRe.MatchString(name):
			return web.HostPolicy{}, fmt.Errorf("-allowed-hosts: %q is not a host name or host:port (no scheme, no path)", name)
		default:
			p.Names = append(p.Names, name)
		}
	}
	return p, nil
}

// hostNameRe is a host as a Host header carries it: a DNS name or IPv4
// address, or an IPv6 address in brackets, with an optional port.
var hostNameRe = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// checkRuleTargets makes every target a permissions rule names match one of
// the console's targets: a rule for a target that does not exist is a typo
// (or a target since removed), and would silently allow nothing.
func checkRuleTargets(configFile string, p access.Policy, targets []web.Target) error {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	for i, r := range p.Rules {
		for _, pattern := range r.Targets {
			if !slices.ContainsFunc(names, func(n string) bool { ok, _ := path.Match(pattern, n); return ok }) {
				return fmt.Errorf("-config %s: permissions rule %d names target %q, which matches none of this console's targets (%s)",
					configFile, i+1, pattern, strings.Join(names, ", "))
			}
		}
	}
	return nil
}
