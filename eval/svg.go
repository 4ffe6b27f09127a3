package eval

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
)

// palette colours runs and series (colour-blind-safe Okabe–Ito order).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"}

// metricLabels are the x-axis labels of the bar chart, by MetricNames order.
var metricLabels = []string{"nDCG@10", "MAP", "Recall@100", "P@10", "MRR@10"}

// svgDoc accumulates an SVG document.
type svgDoc struct {
	b    bytes.Buffer
	w, h float64
}

func newSVG(w, h float64, title string) *svgDoc {
	s := &svgDoc{w: w, h: h}
	fmt.Fprintf(&s.b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&s.b, "<title>%s</title>\n", esc(title))
	fmt.Fprintf(&s.b, `<rect x="0" y="0" width="%g" height="%g" fill="#ffffff"/>`+"\n", w, h)
	s.text(w/2, 22, "middle", "font-size=\"15\" font-weight=\"bold\"", title)
	return s
}

func esc(s string) string {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return ""
	}
	return b.String()
}

func (s *svgDoc) text(x, y float64, anchor, attrs, t string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s" %s>%s</text>`+"\n", x, y, anchor, attrs, esc(t))
}

func (s *svgDoc) line(x1, y1, x2, y2 float64, stroke string, width float64) {
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%g"/>`+"\n", x1, y1, x2, y2, stroke, width)
}

func (s *svgDoc) rect(x, y, w, h float64, fill, tip string) {
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n", x, y, w, h, fill, esc(tip))
}

func (s *svgDoc) finish(w io.Writer) error {
	s.b.WriteString("</svg>\n")
	if _, err := w.Write(s.b.Bytes()); err != nil {
		return fmt.Errorf("eval: write svg: %w", err)
	}
	return nil
}

// plotArea is the frame of a chart in pixels and the y range it maps.
type plotArea struct {
	left, top, right, bottom float64
	ymin, ymax               float64
}

func (p plotArea) y(v float64) float64 {
	return p.bottom - (v-p.ymin)/(p.ymax-p.ymin)*(p.bottom-p.top)
}

// yAxis draws the y axis with gridlines every step and its label.
func (s *svgDoc) yAxis(p plotArea, step float64, label string) {
	for v := p.ymin; v <= p.ymax+step/2; v += step {
		y := p.y(v)
		s.line(p.left, y, p.right, y, "#e0e0e0", 1)
		s.text(p.left-6, y+4, "end", "", fmt.Sprintf("%.2f", v))
	}
	s.line(p.left, p.top, p.left, p.bottom, "#333333", 1)
	s.line(p.left, p.bottom, p.right, p.bottom, "#333333", 1)
	cy := (p.top + p.bottom) / 2
	fmt.Fprintf(&s.b, `<text x="16" y="%.1f" text-anchor="middle" transform="rotate(-90 16 %.1f)">%s</text>`+"\n", cy, cy, esc(label))
}

// legend draws coloured keys in a row under the plot.
func (s *svgDoc) legend(x, y float64, names, colors []string, lines bool) {
	for i, n := range names {
		if lines {
			s.line(x, y-4, x+18, y-4, colors[i], 2.5)
		} else {
			fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/>`+"\n", x, y-11, colors[i])
		}
		s.text(x+24, y, "start", "", n)
		x += 24 + 7.5*float64(len(n)) + 22
	}
}

// WriteBarChartSVG draws the report's metrics as grouped bars: one group
// per metric, one bar per run, on a 0–1 axis, with a legend of runs. The
// output is a standalone SVG document.
func WriteBarChartSVG(w io.Writer, r *Report) error {
	if r == nil || len(r.Runs) == 0 {
		return fmt.Errorf("%w: nothing to chart", ErrNoQueries)
	}
	nr := len(r.Runs)
	groupW := math.Max(90, float64(nr)*22+30)
	p := plotArea{left: 60, top: 40, bottom: 300, ymin: 0, ymax: 1}
	p.right = p.left + groupW*float64(len(MetricNames))
	width, height := p.right+20, 360.0
	s := newSVG(width, height, fmt.Sprintf("Retrieval quality on %s (%d queries)", r.Dataset, r.Queries))
	s.yAxis(p, 0.2, "score")
	barW := (groupW - 30) / float64(nr)
	names := make([]string, nr)
	colors := make([]string, nr)
	for j, rr := range r.Runs {
		names[j], colors[j] = rr.Mode, palette[j%len(palette)]
	}
	for i, m := range MetricNames {
		gx := p.left + groupW*float64(i) + 15
		for j, rr := range r.Runs {
			v, _ := rr.Get(m)
			v = math.Max(0, math.Min(1, v))
			y := p.y(v)
			s.rect(gx+barW*float64(j), y, barW-2, p.bottom-y, colors[j], fmt.Sprintf("%s %s = %.4f", rr.Mode, metricLabels[i], v))
		}
		s.text(gx+(groupW-30)/2, p.bottom+18, "middle", "", metricLabels[i])
	}
	s.text((p.left+p.right)/2, p.bottom+36, "middle", "", "metric")
	s.legend(p.left, height-10, names, colors, false)
	return s.finish(w)
}

// WriteSweepSVG draws an alpha sweep: mean nDCG@10 on the dev and test
// splits against alpha, with the chosen alpha marked. The output is a
// standalone SVG document.
func WriteSweepSVG(w io.Writer, sw *SweepResult) error {
	if sw == nil || len(sw.Points) == 0 {
		return fmt.Errorf("%w: no sweep points to chart", ErrNoQueries)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, pt := range sw.Points {
		lo = math.Min(lo, math.Min(pt.DevNDCG10, pt.TestNDCG10))
		hi = math.Max(hi, math.Max(pt.DevNDCG10, pt.TestNDCG10))
	}
	step := 0.05
	ymin := math.Max(0, math.Floor(lo/step)*step-step)
	ymax := math.Min(1, math.Ceil(hi/step)*step+step)
	if ymax-ymin > 0.5 {
		step = 0.1
	}
	p := plotArea{left: 60, top: 40, right: 560, bottom: 300, ymin: ymin, ymax: ymax}
	s := newSVG(600, 360, "Convex fusion: nDCG@10 by alpha ("+sw.Spec+")")
	s.yAxis(p, step, "nDCG@10")
	a0, a1 := sw.Points[0].Alpha, sw.Points[len(sw.Points)-1].Alpha
	if a1 == a0 {
		a0, a1 = a0-0.5, a1+0.5
	}
	x := func(a float64) float64 { return p.left + 10 + (a-a0)/(a1-a0)*(p.right-p.left-20) }
	for _, pt := range sw.Points {
		s.line(x(pt.Alpha), p.bottom, x(pt.Alpha), p.bottom+4, "#333333", 1)
		s.text(x(pt.Alpha), p.bottom+18, "middle", "", fmt.Sprintf("%.2f", pt.Alpha))
	}
	s.text((p.left+p.right)/2, p.bottom+36, "middle", "", "alpha (weight of the vector score)")
	series := []struct {
		name string
		get  func(SweepPoint) float64
	}{
		{fmt.Sprintf("dev (%d queries)", sw.DevQueries), func(pt SweepPoint) float64 { return pt.DevNDCG10 }},
		{fmt.Sprintf("test (%d queries)", sw.TestQueries), func(pt SweepPoint) float64 { return pt.TestNDCG10 }},
	}
	names := []string{series[0].name, series[1].name, fmt.Sprintf("chosen alpha %.2f", sw.BestAlpha)}
	colors := []string{palette[0], palette[1], "#777777"}
	bx := x(sw.BestAlpha)
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#777777" stroke-width="1.5" stroke-dasharray="5,4"/>`+"\n", bx, p.top, bx, p.bottom)
	for i, se := range series {
		pts := make([]string, len(sw.Points))
		for j, pt := range sw.Points {
			pts[j] = fmt.Sprintf("%.1f,%.1f", x(pt.Alpha), p.y(se.get(pt)))
		}
		fmt.Fprintf(&s.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"/>`+"\n", strings.Join(pts, " "), colors[i])
		for _, pt := range sw.Points {
			fmt.Fprintf(&s.b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s alpha %.2f: %.4f</title></circle>`+"\n",
				x(pt.Alpha), p.y(se.get(pt)), colors[i], esc(se.name), pt.Alpha, se.get(pt))
		}
	}
	s.legend(p.left, 352, names, colors, true)
	return s.finish(w)
}
