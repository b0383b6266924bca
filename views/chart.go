package views

// Charts drawn on the server as inline SVG: a series of points becomes a
// polyline in a fixed viewBox (so it scales to any width, a phone's
// included), with the largest and smallest value on the left, a tick a
// time on the bottom, and the moment of the user's put marked. Colours
// come from the stylesheet's variables through classes, so dark mode needs
// nothing here.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The chart's viewBox and the plot area inside it, in SVG user units.
const (
	ChartWidth  = 320
	ChartHeight = 140
	plotLeft    = 48
	plotRight   = ChartWidth - 8
	plotTop     = 10
	plotBottom  = ChartHeight - 22
)

// ChartPoint is one value at one time.
type ChartPoint struct {
	At    time.Time
	Value float64
}

// ChartSeries is what a chart is made of.
type ChartSeries struct {
	ID     string // unique on the page: the chart's element ids derive from it
	Metric string // the metric's name, e.g. IncomingRecords
	Reader string // the reader a lag metric is of; "" for the stream's own
	Unit   string // e.g. "records per minute", "ms"
	Window string // e.g. "last 3 hours"
	From   time.Time
	To     time.Time
	Points []ChartPoint // oldest first
	// Mark is the moment of the user's put; zero for none.
	Mark time.Time
}

// Chart is a series laid out for the SVG.
type Chart struct {
	ChartSeries
	Title   string // the metric, and the reader it is of
	Summary string // the text alternative: what the chart shows, in words
	Empty   bool
	// Line is the polyline's points ("x,y x,y"); Dot is a lone point's
	// place, when there is only one.
	Line   string
	Dot    *ChartXY
	YMax   string // the top of the axis, as text
	YMin   string
	Ticks  []ChartTick
	Marker *ChartTick
	Rows   []ChartRow // the table view
}

// ChartXY is a place in the viewBox.
type ChartXY struct{ X, Y float64 }

// ChartTick is a labelled place on the time axis.
type ChartTick struct {
	X      float64
	Label  string
	Anchor string // text-anchor: start, middle or end
}

// ChartRow is one point, as the table shows it.
type ChartRow struct{ Time, Value string }

// NewChart lays s out. The y axis runs from 0 (or the smallest value, when
// below 0) to the largest value; the x axis from s.From to s.To.
func NewChart(s ChartSeries) Chart {
	c := Chart{ChartSeries: s, Title: s.Metric}
	if s.Reader != "" {
		c.Title = s.Metric + " of " + s.Reader
	}
	span := s.To.Sub(s.From)
	if span <= 0 {
		span = time.Minute
	}
	x := func(t time.Time) float64 {
		f := float64(t.Sub(s.From)) / float64(span)
		return round1(plotLeft + math.Min(1, math.Max(0, f))*(plotRight-plotLeft))
	}
	for h := s.From.Truncate(time.Hour); !h.After(s.To); h = h.Add(time.Hour) {
		if h.Before(s.From) {
			continue
		}
		c.Ticks = append(c.Ticks, tickAt(x(h), h.UTC().Format("15:04")))
	}
	if !s.Mark.IsZero() && !s.Mark.Before(s.From) && !s.Mark.After(s.To) {
		m := tickAt(x(s.Mark), "your put "+s.Mark.UTC().Format("15:04"))
		c.Marker = &m
	}
	head := c.Title + ", " + s.Window + ": "
	if len(s.Points) == 0 {
		c.Empty = true
		c.Summary = head + "no data."
		if c.Marker != nil {
			c.Summary += " Your put at " + s.Mark.UTC().Format("15:04") + " is marked."
		}
		return c
	}
	lo, hi := 0.0, math.Inf(-1)
	top := s.Points[0]
	for _, p := range s.Points {
		lo = math.Min(lo, p.Value)
		if p.Value > hi {
			hi, top = p.Value, p
		}
	}
	if hi <= lo {
		hi = lo + 1 // a flat line at 0 sits on the axis, not in the middle
	}
	y := func(v float64) float64 {
		return round1(plotBottom - (v-lo)/(hi-lo)*(plotBottom-plotTop))
	}
	var b strings.Builder
	for i, p := range s.Points {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s,%s", num(x(p.At)), num(y(p.Value)))
		c.Rows = append(c.Rows, ChartRow{Time: p.At.UTC().Format("15:04"), Value: FormatNumber(p.Value)})
	}
	c.Line = b.String()
	if len(s.Points) == 1 {
		c.Dot = &ChartXY{X: x(s.Points[0].At), Y: y(s.Points[0].Value)}
	}
	c.YMax, c.YMin = FormatNumber(hi), FormatNumber(lo)
	last := s.Points[len(s.Points)-1]
	c.Summary = fmt.Sprintf("%smax %s %s at %s, now %s.", head, FormatNumber(top.Value), s.Unit, top.At.UTC().Format("15:04"), FormatNumber(last.Value))
	if c.Marker != nil {
		c.Summary += " Your put at " + s.Mark.UTC().Format("15:04") + " is marked."
	}
	return c
}

// tickAt is a tick whose label stays inside the viewBox near its edges.
func tickAt(x float64, label string) ChartTick {
	t := ChartTick{X: x, Label: label, Anchor: "middle"}
	half := float64(len(label)) * 3 // about half the label's width at the chart's font size
	switch {
	case x-half < 0:
		t.Anchor = "start"
	case x+half > ChartWidth:
		t.Anchor = "end"
	}
	return t
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// num writes a coordinate without exponent or trailing zeros.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// FormatNumber writes n for people: thousands separated by commas, whole
// numbers without decimals, others with at most two.
func FormatNumber(n float64) string {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	neg := n < 0
	n = math.Abs(n)
	whole := math.Floor(n)
	frac := ""
	if f := n - whole; f > 0.005 {
		s := strconv.FormatFloat(f, 'f', 2, 64) // "0.25"
		if s == "1.00" {
			whole++
		} else {
			frac = strings.TrimRight(s[1:], "0")
		}
	}
	digits := strconv.FormatFloat(whole, 'f', 0, 64)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String() + frac
}

// ViewBox is the charts' viewBox attribute.
func ViewBox() string { return fmt.Sprintf("0 0 %d %d", ChartWidth, ChartHeight) }
