package web

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/access"
	"github.com/kinesis-console/kinesis-console/internal/stream"
)

// requestState is what the middleware learns about a request: its id, its
// user, its target. One per request, in its context, filled in as the
// middleware runs: one context and one request copy instead of three.
type requestState struct {
	id       string
	user     access.User
	signedIn bool
	target   *target
	audited  bool // the request's write attempt has its audit line
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
	h.deps.Audit.RefusedSignIn(c.RealIP(), code)
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

// visitor is who a request comes from and where it writes, as the
// middleware resolved them: a handler reads it once and passes it down,
// rather than each check deriving the same facts from the context again.
type visitor struct {
	user    access.User
	target  *target
	clients Clients // the AWS clients this user writes with on the target
}

// visitorOf returns the request's visitor.
func (h *handlers) visitorOf(ctx context.Context) visitor {
	u, t := userFrom(ctx), h.targetOf(ctx)
	return visitor{user: u, target: t, clients: t.clientsFor(u)}
}

// canWrite asks the policy whether the request's user may write to the
// named stream of the request's target.
func (h *handlers) canWrite(ctx context.Context, streamName string) access.Decision {
	return h.mayWrite(h.visitorOf(ctx), streamName)
}

// mayWrite asks the policy whether v may write to the named stream.
func (h *handlers) mayWrite(v visitor, streamName string) access.Decision {
	return h.deps.Policy.CanWrite(v.user, v.target.Name, streamName)
}

// checkARN is arnProblem for the request's visitor.
func (h *handlers) checkARN(ctx context.Context, ref stream.StreamRef) string {
	return h.arnProblem(ctx, h.visitorOf(ctx), ref)
}

// codeWrongAccountOrRegion is the audit code of a write refused for what
// arnProblem says, on every path.
const codeWrongAccountOrRegion = "WrongAccountOrRegion"

// arnProblem makes sure a stream given by ARN lies where v's target writes:
// its region, and the account the console writes as there. Without it an
// ARN could send a write to another account or region than the header
// shows; cross-account writes get a target of their own.
func (h *handlers) arnProblem(ctx context.Context, v visitor, ref stream.StreamRef) string {
	if ref.ARN == "" {
		return ""
	}
	t := v.target
	if ref.Region != t.Region {
		return fmt.Sprintf("This ARN is in region %s, but %s writes to %s. Pick the target for %s, or give the stream's name.", ref.Region, t.Name, t.Region, ref.Region)
	}
	caller := v.clients.Identity.Caller(ctx)
	if caller.Account == "" {
		// Fail closed: with STS unreachable the ARN's account cannot be
		// compared, and a write to it could go to another account.
		return fmt.Sprintf("The console cannot tell which account %s writes as right now (STS did not answer), so it cannot check this ARN's account. Give the stream's name instead, or try again in a moment.", t.Name)
	}
	if ref.Account != caller.Account {
		return fmt.Sprintf("This ARN is in account %s, but %s writes as account %s. Pick the target for that account.", ref.Account, t.Name, caller.Account)
	}
	return ""
}
