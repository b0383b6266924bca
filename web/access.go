package web

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/write"
)

// requestState is what the middleware learns about a request: its id, its
// user, its target. One per request, in its context, filled in as the
// middleware runs: one context and one request copy instead of three.
type requestState struct {
	id       string
	user     access.User
	signedIn bool
	visitor  *write.Visitor // who writes where (targets.go)
	audited  bool           // the request's write attempt has its audit line
}

type requestStateKey struct{}

func stateOf(ctx context.Context) *requestState {
	st, _ := ctx.Value(requestStateKey{}).(*requestState)
	return st
}

// stateFor returns the request's state, adding it to the request first if
// no middleware has yet.
func stateFor(c echo.Context) *requestState {
	r := c.Request()
	if st := stateOf(r.Context()); st != nil {
		return st
	}
	st := &requestState{}
	c.SetRequest(r.WithContext(context.WithValue(r.Context(), requestStateKey{}, st)))
	return st
}

// authenticate checks the request's sign-in, and hands the guard's checked
// (if any) whether the password was wrong, even if the check panics.
func authenticate(auth *access.Authenticator, r *http.Request, checked func(wrong bool)) (u access.User, err error) {
	if checked != nil {
		defer func() { checked(errors.Is(err, access.ErrBadCredentials)) }()
	}
	return auth.Authenticate(r)
}

// userFrom returns the signed-in user of a request.
func userFrom(ctx context.Context) access.User {
	if st := stateOf(ctx); st != nil && st.signedIn {
		return st.user
	}
	return access.Anonymous
}

// requestIDFrom returns the console's id for a request.
func requestIDFrom(ctx context.Context) string {
	if st := stateOf(ctx); st != nil {
		return st.id
	}
	return ""
}

// assignRequestID gives every request an id made here, never taken from the
// client, and returns it in X-Request-Id so logs and users can name a request.
// An id names a request; it grants nothing, so it comes from the runtime's
// fast random source (ChaCha8, seeded by the OS) rather than from the OS on
// every request.
func assignRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	requestIDHeader := http.CanonicalHeaderKey(echo.HeaderXRequestID)
	return func(c echo.Context) error {
		var b [12]byte
		binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
		binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
		st := stateFor(c)
		st.id = hex.EncodeToString(b[:])
		c.Response().Header()[requestIDHeader] = []string{st.id}
		return next(c)
	}
}

// signIn finds the user of every request but the health check and static
// assets, and refuses requests without a valid sign-in.
func (h *handlers) signIn(next echo.HandlerFunc) echo.HandlerFunc {
	auth := h.deps.Auth
	return func(c echo.Context) error {
		var checked func(wrong bool)
		if auth.Mode() == access.ModeBasic {
			if name, _, ok := c.Request().BasicAuth(); ok {
				var allowed bool
				if allowed, checked = h.deps.SignInGuard.Begin(c.RealIP(), name); !allowed {
					// Refused before the password is checked: guessing stops
					// here, and so does the bcrypt work it would cost.
					h.auditRefusedSignIn(c, errSignInThrottled)
					c.Response().Header().Set("Retry-After", "60")
					return echo.NewHTTPError(http.StatusTooManyRequests, "Too many wrong passwords from your address, for this user name or for many: wait a minute, then sign in again.")
				}
			}
		}
		u, err := authenticate(auth, c.Request(), checked)
		if err != nil {
			h.auditRefusedSignIn(c, err)
			if auth.Mode() == access.ModeBasic {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Basic realm="Kinesis Console", charset="UTF-8"`)
				return echo.NewHTTPError(http.StatusUnauthorized, "Sign in with your console user name and password.").SetInternal(err)
			}
			if errors.Is(err, access.ErrNoCredentials) {
				return echo.NewHTTPError(http.StatusUnauthorized, "Open the console through its sign-in proxy.").SetInternal(err)
			}
			return echo.NewHTTPError(http.StatusForbidden, "Sign-in refused: this request did not come through the trusted sign-in proxy.").SetInternal(err)
		}
		st := stateFor(c)
		st.user, st.signedIn = u, true
		return next(c)
	}
}

var errSignInThrottled = errors.New("too many failed sign-ins")

// auditRefusedSignIn counts a write attempt stopped at sign-in.
func (h *handlers) auditRefusedSignIn(c echo.Context, err error) {
	if !isWriteAttempt(c) {
		return
	}
	code := "NotSignedIn"
	switch {
	case errors.Is(err, access.ErrBadCredentials):
		code = "SignInRefused"
	case errors.Is(err, errSignInThrottled):
		code = "SignInThrottled"
	}
	// Counted per client and minute, not written per attempt: anyone may
	// send them, as fast as they like.
	stateFor(c).audited = true
	h.writes.RefusedSignIn(c.RealIP(), code)
}

// ipExtractor says where a request comes from. Behind trusted proxies their
// X-Forwarded-For is believed; otherwise only the connection's own address.
func ipExtractor(auth *access.Authenticator) echo.IPExtractor {
	prefixes := auth.TrustedProxies()
	if len(prefixes) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range prefixes {
		_, n, err := net.ParseCIDR(p.String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
