package bulk

import (
	"fmt"
	"io"
	"time"
)

// LineProblem is an input value that cannot be sent, and why.
type LineProblem struct {
	Line    int
	Message string
	Fatal   bool // nothing after it could be read
}

// Validation is what the validation pass found.
type Validation struct {
	Format      Format // as read: auto is resolved
	Records     int    // values read, valid or not
	Valid       int
	Invalid     int
	ValidBytes  int64         // partition keys + data of the valid records
	Problems    []LineProblem // the first MaxListedProblems invalid values
	Unreadable  bool          // the input broke off; Problems' last entry says where
	InputBytes  int64         // bytes read from the input
	ElapsedTime time.Duration
}

// Validate reads bulk input once, checking every value against spec,
// and copies the input to spool as it goes, so the records can be sent on a
// second pass without holding them in memory. spec.Check must pass first.
func Validate(r io.Reader, spec Spec, spool io.Writer) (Validation, error) {
	start := time.Now()
	cr := &countingReader{r: r}
	var v Validation
	format, err := Read(io.TeeReader(cr, spool), spec.Format, spec.maxRecordBytes(), func(e Entry) error {
		v.Records++
		rec, msg := spec.prepare(e, false)
		if msg == "" {
			v.Valid++
			v.ValidBytes += int64(rec.size())
			return nil
		}
		v.Invalid++
		v.Unreadable = v.Unreadable || e.Fatal
		if len(v.Problems) < MaxListedProblems {
			v.Problems = append(v.Problems, LineProblem{Line: e.Line, Message: msg, Fatal: e.Fatal})
		}
		return nil
	})
	v.Format = format
	v.InputBytes = cr.n
	v.ElapsedTime = time.Since(start)
	if err != nil {
		return v, fmt.Errorf("stream: read bulk input: %w", err)
	}
	return v, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
