// Package access decides who is using the console and what they may do:
// sign-in (none, basic auth against bcrypt hashes, or a header set by a
// trusted reverse proxy), per-stream write permissions with a read-only
// switch, per-user rate limits, and the audit trail of every write attempt.
// Whoever reaches the console writes with the server's IAM role, so these
// decisions are enforced here, on the server, never in the page.
package access

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Mode is how users sign in.
type Mode string

// The sign-in modes.
const (
	ModeNone  Mode = "none"  // everyone is "anonymous"; only safe on loopback
	ModeBasic Mode = "basic" // HTTP basic auth against a bcrypt password file
	ModeProxy Mode = "proxy" // a header set by a trusted reverse proxy (oauth2-proxy and the like)
)

// ParseMode checks a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "", ModeNone:
		return ModeNone, nil
	case ModeBasic, ModeProxy:
		return m, nil
	}
	return "", fmt.Errorf("access: sign-in mode %q: want none, basic or proxy", s)
}

// User is the person behind a request.
type User struct {
	Name   string
	Email  string
	Groups []string
	// SignedIn says a sign-in (basic or proxy) vouched for the user: a
	// person, not the Anonymous of sign-in off, whatever the name. A user
	// may well be called "anonymous".
	SignedIn bool
}

// Anonymous is the user when sign-in is off.
var Anonymous = User{Name: "anonymous"}

// ErrNoCredentials means the request carried no sign-in at all.
var ErrNoCredentials = errors.New("access: not signed in")

// ErrBadCredentials means the request's sign-in was wrong or not trusted.
var ErrBadCredentials = errors.New("access: sign-in refused")

// Authenticator finds the user of a request.
type Authenticator struct {
	mode Mode

	users map[string][]byte // basic: user name -> bcrypt hash
	// dummy is checked for unknown users, at the file's highest cost, so a
	// failed sign-in takes as long whether or not the user exists.
	dummy []byte
	// remembered are the name and password pairs bcrypt accepted lately:
	// a browser sends them with every request, and bcrypt costs tens of
	// milliseconds of CPU each time. It saves bcrypt only: the sign-in guard
	// is asked first all the same, or a guesser could try passwords against
	// it without limit while the user is signed in.
	remembered *credentialCache

	userHeader, emailHeader, groupsHeader string
	trusted                               []netip.Prefix
}

// ProxyConfig names the headers a trusted proxy sets and where it may connect from.
type ProxyConfig struct {
	UserHeader     string // default X-Forwarded-User
	EmailHeader    string // default X-Forwarded-Email
	GroupsHeader   string // default X-Forwarded-Groups (comma-separated)
	TrustedProxies []netip.Prefix
}

// NewNone signs nobody in: every request is Anonymous.
func NewNone() *Authenticator { return &Authenticator{mode: ModeNone} }

// NewBasic checks HTTP basic auth against an htpasswd-style file of
// "user:bcrypt-hash" lines (htpasswd -B). Blank lines and # comments are skipped.
func NewBasic(passwords io.Reader) (*Authenticator, error) {
	users := map[string][]byte{}
	cost := bcrypt.DefaultCost
	sc := bufio.NewScanner(passwords)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("access: password file line %d: want user:bcrypt-hash", n)
		}
		c, err := bcrypt.Cost([]byte(hash))
		if err != nil {
			return nil, fmt.Errorf("access: password file line %d (user %q): not a bcrypt hash (create it with htpasswd -B)", n, name)
		}
		cost = max(cost, c)
		users[name] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("access: read password file: %w", err)
	}
	if len(users) == 0 {
		return nil, errors.New("access: the password file has no users")
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("kinesis-console"), cost)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	return &Authenticator{mode: ModeBasic, users: users, dummy: dummy, remembered: newCredentialCache(rememberFor, 4096)}, nil
}

// rememberFor is how long a password bcrypt accepted is taken without
// checking it again.
const rememberFor = 5 * time.Minute

// TrustForwardedFor makes a basic-auth console behind a reverse proxy tell
// its clients apart: on connections from these addresses X-Forwarded-For
// gives the client's address, for audit lines and the sign-in throttle.
// Who is signed in never depends on it.
func (a *Authenticator) TrustForwardedFor(prefixes []netip.Prefix) {
	if a.mode == ModeBasic {
		a.trusted = prefixes
	}
}

// NewProxy trusts the user header only on connections from the trusted
// proxies; the same header from anywhere else is refused.
func NewProxy(cfg ProxyConfig) (*Authenticator, error) {
	if len(cfg.TrustedProxies) == 0 {
		return nil, errors.New("access: proxy sign-in needs at least one trusted proxy address")
	}
	a := &Authenticator{
		mode:         ModeProxy,
		userHeader:   orDefault(cfg.UserHeader, "X-Forwarded-User"),
		emailHeader:  orDefault(cfg.EmailHeader, "X-Forwarded-Email"),
		groupsHeader: orDefault(cfg.GroupsHeader, "X-Forwarded-Groups"),
		trusted:      cfg.TrustedProxies,
	}
	return a, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Mode returns the sign-in mode.
func (a *Authenticator) Mode() Mode { return a.mode }

// TrustedProxies returns the addresses whose forwarding headers are believed.
func (a *Authenticator) TrustedProxies() []netip.Prefix { return a.trusted }

// Authenticate returns the request's user, or ErrNoCredentials or ErrBadCredentials.
func (a *Authenticator) Authenticate(r *http.Request) (User, error) {
	switch a.mode {
	case ModeBasic:
		name, pass, ok := r.BasicAuth()
		if !ok {
			return User{}, ErrNoCredentials
		}
		hash, known := a.users[name]
		if !known {
			_ = bcrypt.CompareHashAndPassword(a.dummy, []byte(pass))
			return User{}, ErrBadCredentials
		}
		if a.remembered.has(name, pass) {
			return User{Name: name, SignedIn: true}, nil
		}
		if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
			return User{}, ErrBadCredentials
		}
		a.remembered.add(name, pass)
		return User{Name: name, SignedIn: true}, nil
	case ModeProxy:
		name := strings.TrimSpace(r.Header.Get(a.userHeader))
		email := strings.TrimSpace(r.Header.Get(a.emailHeader))
		if !a.fromTrustedProxy(r) {
			// A proxy header from anywhere else is a spoofing attempt or a
			// misconfiguration; either way nobody is signed in.
			return User{}, ErrBadCredentials
		}
		// A proxy that adds its header to the client's own, rather than
		// replacing it, sends two: which is the proxy's cannot be told, so
		// neither is believed.
		for _, h := range []string{a.userHeader, a.emailHeader, a.groupsHeader} {
			if len(r.Header.Values(h)) > 1 {
				return User{}, ErrBadCredentials
			}
		}
		if name == "" {
			name = email
		}
		if name == "" {
			return User{}, ErrNoCredentials
		}
		return User{Name: name, Email: email, Groups: splitList(r.Header.Get(a.groupsHeader)), SignedIn: true}, nil
	}
	return Anonymous, nil
}

// fromTrustedProxy looks at the connection's own address, never at
// X-Forwarded-For, which anyone can write.
func (a *Authenticator) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range a.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ParsePrefixes reads a comma-separated list of addresses or CIDR prefixes.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range splitList(s) {
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("access: trusted proxy %q: not an address or CIDR prefix", part)
		}
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// credentialCache remembers name and password pairs for a while. It holds
// HMACs of them under a key made at start, never the passwords.
type credentialCache struct {
	key [32]byte
	ttl time.Duration
	now func() time.Time

	mu  sync.Mutex
	set expiringSet[[32]byte]
}

func newCredentialCache(ttl time.Duration, maxEntries int) *credentialCache {
	c := &credentialCache{ttl: ttl, now: time.Now, set: newExpiringSet[[32]byte](maxEntries)}
	if _, err := rand.Read(c.key[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return c
}

func (c *credentialCache) mac(name, pass string) [32]byte {
	m := hmac.New(sha256.New, c.key[:])
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(len(name))))
	m.Write([]byte(name))
	m.Write([]byte(pass))
	var k [32]byte
	m.Sum(k[:0])
	return k
}

func (c *credentialCache) has(name, pass string) bool {
	k := c.mac(name, pass)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set.has(k, c.now())
}

func (c *credentialCache) add(name, pass string) {
	k := c.mac(name, pass)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.set.add(k, now.Add(c.ttl), now) // only right passwords get here: any may make room
}

// expiringSet remembers keys until a time each, at most max of them: past
// that, expired keys make room first, then any. Its owner locks it.
type expiringSet[K comparable] struct {
	max   int
	until map[K]time.Time
}

func newExpiringSet[K comparable](maxKeys int) expiringSet[K] {
	return expiringSet[K]{max: maxKeys, until: map[K]time.Time{}}
}

func (s expiringSet[K]) has(k K, now time.Time) bool {
	until, ok := s.until[k]
	if ok && !now.Before(until) {
		delete(s.until, k)
		return false
	}
	return ok
}

func (s expiringSet[K]) add(k K, until, now time.Time) {
	if _, ok := s.until[k]; !ok && len(s.until) >= s.max {
		for old, u := range s.until {
			if !now.Before(u) {
				delete(s.until, old)
			}
		}
		for old := range s.until {
			if len(s.until) < s.max {
				break
			}
			delete(s.until, old)
		}
	}
	s.until[k] = until
}
