package common

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/sluice-ml/sluice/engine"
)

// StatusIcon is the one-character mark of a status, the same the command
// line prints.
func StatusIcon(s engine.Status) string {
	switch s {
	case engine.StatusSucceeded:
		return "✓"
	case engine.StatusFailed:
		return "✗"
	case engine.StatusRunning:
		return "●"
	case engine.StatusCancelled, engine.StatusInterrupted:
		return "■"
	case engine.StatusSkipped:
		return "↷"
	case engine.StatusCached:
		return "≡"
	case engine.StatusPending:
	}
	return "○"
}

// Seconds renders a duration in seconds: 12ms, 3.4s, 2m05s, 1h02m; a
// duration that rounds to nothing but is not nothing is <1ms.
func Seconds(s float64) string {
	switch {
	case s < 0:
		return "-"
	case s > 0 && s < 0.0005:
		return "<1ms"
	case s < 0.9995:
		return fmt.Sprintf("%dms", int(s*1000+0.5))
	case s < 59.95:
		return fmt.Sprintf("%.1fs", s)
	case s < 3599.5:
		n := int(s + 0.5)
		return fmt.Sprintf("%dm%02ds", n/60, n%60)
	}
	return fmt.Sprintf("%dh%02dm", int(s)/3600, int(s)%3600/60)
}

// Metric renders a metric value (engine.FormatMetric).
func Metric(v float64) string { return engine.FormatMetric(v) }

// Delta renders a signed difference: +0.0133, -2, ±0.
func Delta(d float64) string {
	if d == 0 {
		return "±0"
	}
	s := Metric(d)
	if d > 0 {
		s = "+" + s
	}
	return s
}

// SortedKeys returns a map's keys, sorted.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MetricsText renders up to max metrics as "name value", sorted by name
// (max 0: all).
func MetricsText(m map[string]float64, max int) string {
	keys := SortedKeys(m)
	var parts []string
	for i, k := range keys {
		if max > 0 && i == max {
			parts = append(parts, fmt.Sprintf("+%d", len(keys)-max))
			break
		}
		parts = append(parts, k+" "+Metric(m[k]))
	}
	return strings.Join(parts, " · ")
}

// MetricsFit is MetricsText in at most w cells: whole "name value"
// pairs in name order, then +N for the pairs left out; a number is never
// cut.
func MetricsFit(m map[string]float64, w int) string {
	keys := SortedKeys(m)
	out := ""
	for i, k := range keys {
		p := k + " " + Metric(m[k])
		if i > 0 {
			p = " · " + p
		}
		need := Width(out) + Width(p)
		if rest := len(keys) - i - 1; rest > 0 {
			need += len(fmt.Sprintf(" · +%d", rest))
		}
		if need > w {
			more := fmt.Sprintf("+%d", len(keys)-i)
			if out != "" {
				more = " · " + more
			}
			return out + more
		}
		out += p
	}
	return out
}

// headlineOrder are the metrics a run's headline prefers, best first.
var headlineOrder = []string{"accuracy", "f1", "f1_macro", "roc_auc", "r2", "rmse", "mae", "mse", "log_loss", "inertia", "rows"}

// Headline picks a run's headline metric from its summary metrics: the
// first of the usual scores it has, else the first by name.
func Headline(m map[string]float64) (string, float64, bool) {
	if len(m) == 0 {
		return "", 0, false
	}
	for _, k := range headlineOrder {
		if v, ok := m[k]; ok {
			return k, v, true
		}
	}
	k := SortedKeys(m)[0]
	return k, m[k], true
}

// HeadlineFit renders the headline metric in at most w cells without
// ever cutting the number: the name gives way first (acc… 0.9667), then
// goes (0.9667). It returns "" when not even the number fits.
func HeadlineFit(m map[string]float64, w int) string {
	k, v, ok := Headline(m)
	if !ok {
		return ""
	}
	return NamedValueFit(k, Metric(v), w)
}

// NamedValueFit renders "name value" in at most w cells, shortening the
// name, never the value (see HeadlineFit).
func NamedValueFit(name, value string, w int) string {
	vw := Width(value)
	switch {
	case Width(name)+1+vw <= w:
		return name + " " + value
	case w-vw-1 >= 4:
		return Truncate(name, w-vw-1) + " " + value
	case vw <= w:
		return value
	}
	return ""
}

// Parts joins parts (each may be styled) in at most w cells, leaving out
// whole parts rather than cutting one: the first part that does not fit,
// and every one after it, give way to " …". The first part is cut if it
// alone is too wide.
func Parts(w int, parts ...string) string {
	out := ""
	for i, p := range parts {
		if i == 0 {
			out = p
			if Width(out) > w {
				return Fit(out, w)
			}
			continue
		}
		if Width(out)+Width(p) > w {
			if Width(out)+2 <= w {
				out += " …"
			}
			return out
		}
		out += p
	}
	return out
}

// Value renders a parameter value as JSON text (strings unquoted when
// plain).
func Value(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Truncate cuts s (which may hold ANSI styles) to w cells with an ellipsis.
func Truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Truncate(s, w, "…")
}

// Fit pads or cuts s to exactly w cells.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// FitMiddle is Fit for plain text that is told apart by its end as much
// as by its start (a stage's metric key). A key whose last dotted part
// fits whole with two letters of the rest keeps it (score.accuracy →
// sc….accuracy); else a cut takes out the middle, stage.residual_mean →
// stag…dual_mean.
func FitMiddle(s string, w int) string {
	if ansi.StringWidth(s) <= w || w < 5 {
		return Fit(s, w)
	}
	r := []rune(s)
	if i := strings.LastIndexByte(s, '.'); i > 0 {
		head, tail := []rune(s[:i]), []rune(s[i:])
		if room := w - 1 - len(tail); room >= 2 && room < len(head) {
			return string(head[:room]) + "…" + string(tail)
		}
	}
	head := (w - 1) / 2
	tail := w - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// FitRight pads s on the left (or cuts it) to exactly w cells.
func FitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	if n := ansi.StringWidth(s); n < w {
		s = strings.Repeat(" ", w-n) + s
	}
	return s
}

// Block fits text into exactly w×h cells: lines cut or padded, missing
// lines added, extra lines dropped.
func Block(text string, w, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = Fit(l, w)
	}
	return strings.Join(lines, "\n")
}

// Width is the printed width of s.
func Width(s string) int { return lipgloss.Width(s) }

// Started renders a start time in the local zone.
func Started(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// Ago renders how long before now t was: 5s ago, 3m ago, 2h ago, 4d ago.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(max(d.Seconds(), 0)))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// Short cuts a hash to 12 characters.
func Short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Bytes renders a size: 512 B, 12.3 KB, 4.5 MB.
func Bytes(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1024/1024)
}

// Plural returns "s" unless n is 1.
func Plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ProgressText is a stage's progress as the command line and the
// workbench show it: "120/1500 trees", "1500 rows", the phase it is in
// ("encoding model"), or both ("refitting best · 40/41 fits").
func ProgressText(p engine.Progress) string {
	count := ""
	switch {
	case p.Total > 0:
		count = strings.TrimSpace(fmt.Sprintf("%d/%d %s", p.Done, p.Total, p.Unit))
	case p.Done > 0:
		count = strings.TrimSpace(fmt.Sprintf("%d %s", p.Done, p.Unit))
	}
	switch {
	case p.Phase == "":
		return count
	case count == "":
		return p.Phase
	}
	return p.Phase + " · " + count
}

// Wrap breaks prose (which may hold ANSI styles) into lines of at most w
// cells at spaces, and cuts a word longer than a line.
func Wrap(s string, w int) string {
	if w <= 0 {
		return s
	}
	return ansi.Wrap(s, w, "")
}

// Fields lays m out as lines of indent, name and value, sorted by name,
// the names aligned; value formats the value of a name.
func Fields[V any](indent string, m map[string]V, value func(name string, v V) string) []string {
	w := 0
	for k := range m {
		w = max(w, Width(k))
	}
	out := make([]string, 0, len(m))
	for _, k := range SortedKeys(m) {
		out = append(out, indent+k+strings.Repeat(" ", w-Width(k))+"  "+value(k, m[k]))
	}
	return out
}
