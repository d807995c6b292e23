package console

import (
	"fmt"
	"strconv"
	"time"
)

// OverviewPage is a tenant's console home: how the tenant is doing, then
// where its pages are.
type OverviewPage struct {
	Chrome   Chrome
	Name     string
	Slug     string
	Status   string
	LoginURL string
	Sections []NavItem

	Customers string // customers in all, formatted
	CountedAt string // when Customers and Fields were counted, "14:05 UTC"
	Window    string // "2 Nov – 1 Dec 2026"
	// Empty is true when the tenant has neither customers nor activity in
	// the window: the page says so instead of drawing empty charts.
	Empty   bool
	Behind  bool // recent events are still being counted
	SignUps Chart
	SignIns Chart
	Failed  Chart
	Methods []Share // sign-ins by method, most used first
	Fields  []Share // optional fields, filled by how many customers
	// FieldsHref is the registration fields page, for the empty state
	// of Fields; empty when the viewer may not open it.
	FieldsHref string
}

// Share is one row of a breakdown: a label, a count and its share of a
// whole.
type Share struct {
	Label   string
	Count   string // formatted
	Percent string // "37%"
	Width   string // the bar's width in a 0..100 viewBox
}

// NewShare is n of whole, labelled.
func NewShare(label string, n, whole int64) Share {
	s := Share{Label: label, Count: FormatCount(n), Percent: "0%", Width: "0"}
	if whole > 0 {
		p := float64(n) * 100 / float64(whole)
		s.Percent = strconv.Itoa(int(p+0.5)) + "%"
		if p > 0 && p < 0.5 {
			s.Percent = "<1%"
		}
		s.Width = strconv.FormatFloat(p, 'f', 1, 64)
	}
	return s
}

// DayValue is one day of a daily series.
type DayValue struct {
	Day time.Time // UTC midnight
	N   int64
}

// Chart is a server-drawn bar chart of one count per day. Its geometry is
// in the units of a fixed viewBox (ChartWidth x ChartHeight), so it scales
// to any width without overflowing; Title and Desc are its accessible name
// and summary, and Rows carry the same numbers as a table.
type Chart struct {
	ID    string // unique on the page; ids of the title and desc derive from it
	Title string
	Desc  string
	Total string // formatted
	Zero  bool   // no count on any day
	Bars  []Bar
	Ticks []Tick // y axis
	Marks []Mark // x axis labels
	Rows  []Row
}

// Bar is one day's bar.
type Bar struct {
	X, Y, W, H string
	Label      string // "28 Nov: 3", its tooltip
}

// Tick is a y-axis line and its label.
type Tick struct {
	Y, Label string
}

// Mark is an x-axis label; Anchor is its text-anchor, "end" for the last
// day so it stays inside the viewBox.
type Mark struct {
	X, Label, Anchor string
}

// Row is a day of a chart's table.
type Row struct {
	Day   string // "28 Nov 2026"
	ISO   string // 2026-11-28
	Count string
}

// The chart's viewBox and plot area.
const (
	ChartWidth  = 400
	ChartHeight = 180
	plotLeft    = 36.0
	plotRight   = 394.0
	plotTop     = 10.0
	plotBottom  = 150.0
)

// ViewBox is the chart's viewBox attribute.
func (Chart) ViewBox() string { return fmt.Sprintf("0 0 %d %d", ChartWidth, ChartHeight) }

// TitleID and DescID name the chart's <title> and <desc>.
func (c Chart) TitleID() string { return c.ID + "-title" }

// DescID is the id of the chart's <desc>.
func (c Chart) DescID() string { return c.ID + "-desc" }

// Labelledby is the aria-labelledby of the chart's <svg>.
func (c Chart) Labelledby() string { return c.TitleID() + " " + c.DescID() }

// AxisY is where the x axis is drawn.
func (Chart) AxisY() string { return num(plotBottom) }

// AxisLeft and AxisRight are the x axis's ends.
func (Chart) AxisLeft() string { return num(plotLeft) }

// AxisRight is the x axis's right end.
func (Chart) AxisRight() string { return num(plotRight) }

// LabelY is the baseline of the x-axis labels.
func (Chart) LabelY() string { return num(plotBottom + 18) }

// TickX is where the y-axis labels end.
func (Chart) TickX() string { return num(plotLeft - 6) }

// NewChart draws days (oldest first) as bars. noun names what is counted
// ("sign-ups"), for the summary.
func NewChart(id, title, noun string, days []DayValue) Chart {
	c := Chart{ID: id, Title: title}
	var total, peak int64
	var peakDay time.Time
	for _, d := range days {
		total += d.N
		if d.N > peak {
			peak, peakDay = d.N, d.Day
		}
	}
	c.Total, c.Zero = FormatCount(total), total == 0
	top := niceCeil(peak)
	for _, v := range []int64{0, top / 2, top} {
		if v == top/2 && (top%2 != 0 || top < 2) {
			continue
		}
		c.Ticks = append(c.Ticks, Tick{Y: num(plotBottom - float64(v)/float64(top)*(plotBottom-plotTop)), Label: FormatCount(v)})
	}
	if len(days) > 0 {
		slot := (plotRight - plotLeft) / float64(len(days))
		w := slot * 0.7
		for i, d := range days {
			h := float64(d.N) / float64(top) * (plotBottom - plotTop)
			x := plotLeft + float64(i)*slot + (slot-w)/2
			c.Bars = append(c.Bars, Bar{X: num(x), Y: num(plotBottom - h), W: num(w), H: num(h),
				Label: d.Day.Format("2 Jan") + ": " + FormatCount(d.N)})
			c.Rows = append(c.Rows, Row{Day: d.Day.Format("2 Jan 2006"), ISO: d.Day.Format(time.DateOnly), Count: FormatCount(d.N)})
			// A label a week apart, counted back from the last day, so
			// today is always labelled.
			if (len(days)-1-i)%7 == 0 {
				m := Mark{X: num(x + w/2), Label: d.Day.Format("2 Jan"), Anchor: "middle"}
				if i == len(days)-1 {
					m.X, m.Anchor = num(x+w), "end"
				}
				c.Marks = append(c.Marks, m)
			}
		}
		first, last := days[0].Day, days[len(days)-1].Day
		c.Desc = fmt.Sprintf("%s per day from %s to %s (UTC): %s in all", capital(noun), first.Format("2 Jan"), last.Format("2 Jan 2006"), c.Total)
		if peak > 0 {
			c.Desc += fmt.Sprintf(", most on %s (%s)", peakDay.Format("2 Jan"), FormatCount(peak))
		}
		c.Desc += "."
	}
	return c
}

// niceCeil is the smallest of 1, 2, 5, 10, 20, 50… that is at least n
// (and at least 1), so the y axis has round labels.
func niceCeil(n int64) int64 {
	if n <= 1 {
		return 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func capital(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// FormatCount writes n with thousands separators: 1,234,567.
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
