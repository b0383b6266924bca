package views_test

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/kinesis-console/kinesis-console/views"
)

var chartFrom = time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)

func series(points ...views.ChartPoint) views.ChartSeries {
	return views.ChartSeries{ID: "chart-0", Metric: "IncomingRecords", Unit: "records per minute", Window: "last 3 hours",
		From: chartFrom, To: chartFrom.Add(3 * time.Hour), Points: points}
}

func at(min int, v float64) views.ChartPoint {
	return views.ChartPoint{At: chartFrom.Add(time.Duration(min) * time.Minute), Value: v}
}

// TestNewChartScalesPoints: the x axis runs from the window's start (48)
// to its end (312), the y axis from 0 at the bottom (118) to the largest
// value at the top (10); the summary names the largest value, when it
// was, and the last.
func TestNewChartScalesPoints(t *testing.T) {
	c := views.NewChart(series(at(0, 0), at(90, 1204), at(180, 310)))
	if want := "48,118 180,10 312,90.2"; c.Line != want {
		t.Errorf("line %q, want %q", c.Line, want)
	}
	if c.YMax != "1,204" || c.YMin != "0" {
		t.Errorf("y axis %q..%q, want 0..1,204", c.YMin, c.YMax)
	}
	if want := "IncomingRecords, last 3 hours: max 1,204 records per minute at 13:30, now 310."; c.Summary != want {
		t.Errorf("summary %q\nwant %q", c.Summary, want)
	}
	var ticks []string
	for _, tk := range c.Ticks {
		ticks = append(ticks, tk.Label+"@"+views.FormatNumber(tk.X)+":"+tk.Anchor)
	}
	if want := "12:00@48:middle 13:00@136:middle 14:00@224:middle 15:00@312:end"; strings.Join(ticks, " ") != want {
		t.Errorf("ticks %q, want %q", strings.Join(ticks, " "), want)
	}
	if c.Empty || c.Dot != nil || c.Marker != nil || len(c.Rows) != 3 || c.Rows[1] != (views.ChartRow{Time: "13:30", Value: "1,204"}) {
		t.Errorf("empty %v, dot %v, marker %v, rows %v", c.Empty, c.Dot, c.Marker, c.Rows)
	}
	// A flat series of zeros lies on the axis, not in the middle.
	if c := views.NewChart(series(at(0, 0), at(180, 0))); c.Line != "48,118 312,118" {
		t.Errorf("flat line %q", c.Line)
	}
	// A lone point is a dot where it belongs.
	if c := views.NewChart(series(at(45, 7))); c.Dot == nil || *c.Dot != (views.ChartXY{X: 114, Y: 10}) {
		t.Errorf("lone point's dot %v", c.Dot)
	}
}

// TestNewChartEmpty: no points says "no data", in the summary and on the
// picture, and draws no line and no table.
func TestNewChartEmpty(t *testing.T) {
	c := views.NewChart(series())
	if !c.Empty || c.Line != "" || len(c.Rows) != 0 {
		t.Fatalf("empty %v, line %q, rows %d", c.Empty, c.Line, len(c.Rows))
	}
	if want := "IncomingRecords, last 3 hours: no data."; c.Summary != want {
		t.Fatalf("summary %q, want %q", c.Summary, want)
	}
	_, doc := render(t, views.ReadersAreaView(views.ReadersArea{Stream: "s", ChartsShown: true, Charts: []views.Chart{c}}))
	chart := one(t, doc, testid("metric-chart"))
	if chart.Find(testid("chart-no-data")).Length() != 1 || chart.Find("polyline").Length() != 0 || chart.Find("table").Length() != 0 {
		t.Fatal("an empty chart should say no data, with neither line nor table")
	}
}

// TestNewChartMarker: the put's moment is a line at its place in time;
// outside the window it is not drawn.
func TestNewChartMarker(t *testing.T) {
	s := series(at(0, 1), at(180, 2))
	s.Mark = chartFrom.Add(135 * time.Minute)
	c := views.NewChart(s)
	if c.Marker == nil || c.Marker.X != 246 || c.Marker.Label != "your put 14:15" {
		t.Fatalf("marker %+v, want at x 246", c.Marker)
	}
	if !strings.HasSuffix(c.Summary, " Your put at 14:15 is marked.") {
		t.Errorf("summary %q does not mention the put", c.Summary)
	}
	_, doc := render(t, views.ReadersAreaView(views.ReadersArea{Stream: "s", ChartsShown: true, Charts: []views.Chart{c}}))
	if x := one(t, doc, testid("chart-marker")).AttrOr("data-x", ""); x != "246" {
		t.Errorf("rendered marker at %q", x)
	}
	s.Mark = chartFrom.Add(-time.Minute)
	if c := views.NewChart(s); c.Marker != nil {
		t.Errorf("a put before the window is marked at %v", c.Marker.X)
	}
}

// TestChartRendering: a figure per metric named by data-metric; the SVG
// is an image labelled by its title and described by the summary shown
// under it; the table holds every point.
func TestChartRendering(t *testing.T) {
	c := views.NewChart(series(at(0, 0), at(90, 1204), at(180, 310)))
	_, doc := render(t, views.ReadersAreaView(views.ReadersArea{Stream: "s", ChartsShown: true, Charts: []views.Chart{c}}))
	fig := one(t, doc, testid("metric-chart"))
	if fig.AttrOr("data-metric", "") != "IncomingRecords" {
		t.Errorf("data-metric %q", fig.AttrOr("data-metric", ""))
	}
	svg := fig.Find("svg")
	if svg.AttrOr("role", "") != "img" || svg.AttrOr("viewBox", "") != "0 0 320 140" {
		t.Errorf("svg role %q viewBox %q", svg.AttrOr("role", ""), svg.AttrOr("viewBox", ""))
	}
	if got := doc.Find("#" + svg.AttrOr("aria-labelledby", "-")).Text(); got != "IncomingRecords" {
		t.Errorf("labelled by %q", got)
	}
	if got := doc.Find("#" + svg.AttrOr("aria-describedby", "-")).Text(); got != c.Summary {
		t.Errorf("described by %q", got)
	}
	if got := fig.Find("polyline").AttrOr("points", ""); got != c.Line {
		t.Errorf("points %q", got)
	}
	var rows []string
	fig.Find(testid("chart-point")).Each(func(_ int, r *goquery.Selection) {
		rows = append(rows, r.Find("td").First().Text()+"="+r.Find("td").Last().Text())
	})
	if want := "12:00=0 13:30=1,204 15:00=310"; strings.Join(rows, " ") != want {
		t.Errorf("table %q, want %q", strings.Join(rows, " "), want)
	}
}

func TestFormatNumber(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 7: "7", 1204: "1,204", 1234567: "1,234,567", 2.25: "2.25", 2.5: "2.5", 999.999: "1,000", -1500: "-1,500"} {
		if got := views.FormatNumber(in); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", in, got, want)
		}
	}
}
