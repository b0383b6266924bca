package access

import (
	"fmt"
	"path"
	"slices"
)

// The actions a rule can grant.
const (
	ActionPut  = "put"  // write records: the form, bulk uploads, resends
	ActionRead = "read" // browse, tail and export a stream's records
)

// Rule lets some users or groups put and read records on streams whose
// names match a pattern.
type Rule struct {
	Users   []string `json:"users,omitempty"`   // user names or emails; "*" is every signed-in user
	Groups  []string `json:"groups,omitempty"`  // groups from the proxy's groups header
	Streams []string `json:"streams"`           // path.Match patterns on the stream name, e.g. "orders-*"
	Targets []string `json:"targets,omitempty"` // path.Match patterns on the target name; none means every target
	// Actions the rule grants, ActionPut and ActionRead; none means both,
	// so rules written before reading existed keep their meaning.
	Actions []string `json:"actions,omitempty"`
}

// Policy says who may write and read where. With no rules everyone may write
// everywhere (unless read-only); once any rule is configured, whatever no
// rule allows is denied.
type Policy struct {
	ReadOnly bool   `json:"read_only,omitempty"`
	Rules    []Rule `json:"rules,omitempty"`
}

// Validate checks every pattern, so a typo fails at start, not at a write.
func (p Policy) Validate() error {
	for i, r := range p.Rules {
		if len(r.Streams) == 0 {
			return fmt.Errorf("access: permissions rule %d lists no streams", i+1)
		}
		if len(r.Users) == 0 && len(r.Groups) == 0 {
			return fmt.Errorf("access: permissions rule %d names no users or groups", i+1)
		}
		for _, s := range r.Streams {
			if _, err := path.Match(s, ""); err != nil {
				return fmt.Errorf("access: permissions rule %d: stream pattern %q: %w", i+1, s, err)
			}
		}
		for _, a := range r.Actions {
			if a != ActionPut && a != ActionRead {
				return fmt.Errorf("access: permissions rule %d: unknown action %q (use %q or %q)", i+1, a, ActionPut, ActionRead)
			}
		}
		for _, s := range r.Targets {
			if _, err := path.Match(s, ""); err != nil {
				return fmt.Errorf("access: permissions rule %d: target pattern %q: %w", i+1, s, err)
			}
		}
	}
	return nil
}

// Decision is the answer to "may this user write to this stream?".
type Decision struct {
	Allowed bool
	Reason  string // why not, in words
}

// CanWrite decides whether u may put records on the named stream of the
// named target (account and region).
func (p Policy) CanWrite(u User, target, streamName string) Decision {
	if p.ReadOnly {
		return Decision{Reason: "The console is read-only: nobody can write through it."}
	}
	if len(p.Rules) == 0 {
		return Decision{Allowed: true}
	}
	for _, r := range p.Rules {
		if r.grants(ActionPut) && r.covers(u) && r.onTarget(target) && matchAny(r.Streams, streamName) {
			return Decision{Allowed: true}
		}
	}
	return Decision{Reason: fmt.Sprintf("%s may not write to stream %q on %s.", u.Name, streamName, target)}
}

// CanRead decides whether u may read the records of the named stream of the
// named target. Read-only mode does not stop reading: it is about writes.
func (p Policy) CanRead(u User, target, streamName string) Decision {
	if len(p.Rules) == 0 {
		return Decision{Allowed: true}
	}
	for _, r := range p.Rules {
		if r.grants(ActionRead) && r.covers(u) && r.onTarget(target) && matchAny(r.Streams, streamName) {
			return Decision{Allowed: true}
		}
	}
	return Decision{Reason: fmt.Sprintf("%s may not read stream %q on %s.", u.Name, streamName, target)}
}

// CanWriteAny reports whether u may write to some stream of the target at
// all, so the page can hide the form from people who may not use it.
func (p Policy) CanWriteAny(u User, target string) bool {
	if p.ReadOnly {
		return false
	}
	if len(p.Rules) == 0 {
		return true
	}
	return slices.ContainsFunc(p.Rules, func(r Rule) bool { return r.grants(ActionPut) && r.covers(u) && r.onTarget(target) })
}

// grants says whether the rule grants the action; a rule that lists no
// actions grants them all.
func (r Rule) grants(action string) bool {
	return len(r.Actions) == 0 || slices.Contains(r.Actions, action)
}

func (r Rule) covers(u User) bool {
	for _, name := range r.Users {
		if name == "*" || name == u.Name || (u.Email != "" && name == u.Email) {
			return true
		}
	}
	for _, g := range r.Groups {
		if slices.Contains(u.Groups, g) {
			return true
		}
	}
	return false
}

func (r Rule) onTarget(target string) bool {
	return len(r.Targets) == 0 || matchAny(r.Targets, target)
}

func matchAny(patterns []string, name string) bool {
	for _, pattern := range patterns {
		if ok, _ := path.Match(pattern, name); ok {
			return true
		}
	}
	return false
}
