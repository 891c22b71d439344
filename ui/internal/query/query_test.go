package query

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func items() map[string]*Item {
	return map[string]*Item{
		"iris": {
			Search:  "#1 iris succeeded accuracy 0.9750",
			Metrics: map[string]float64{"accuracy": 0.975, "f1_macro": 0.97},
			Params:  map[string]map[string]any{"model": {"C": 0.1, "penalty": "l2"}, "split": {"stratify": true}},
			Fields:  map[string][]string{"status": {"succeeded"}, "pipeline": {"iris"}, "tag": {"baseline", "paper"}},
			Started: now.Add(-2 * time.Hour),
		},
		"diabetes": {
			Search:  "#2 diabetes failed r2 0.45",
			Metrics: map[string]float64{"r2": 0.45},
			Params:  map[string]map[string]any{"model": {"alpha": 1.0}},
			Fields:  map[string][]string{"status": {"failed"}, "pipeline": {"diabetes"}},
			Started: now.Add(-10 * 24 * time.Hour),
		},
		"never": {
			Search: "titanic.yaml titanic",
			Fields: map[string][]string{"pipeline": {"titanic"}},
		},
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name, q string
		want    []string // items matched, sorted
	}{
		{"empty", "  ", []string{"diabetes", "iris", "never"}},
		{"free text", "IRIS", []string{"iris"}},
		{"two words are and", "iris failed", nil},
		{"or", "iris or diabetes", []string{"diabetes", "iris"}},
		{"metric", "metric.accuracy>0.9", []string{"iris"}},
		{"metric with spaces", "metric.accuracy >= 0.975", []string{"iris"}},
		{"bare metric", "accuracy>0.9", []string{"iris"}},
		{"metric equal to what is shown", "accuracy=0.9750", []string{"iris"}},
		{"metric below", "r2 < 0.5", []string{"diabetes"}},
		{"missing metric never matches", "r2>=0", []string{"diabetes"}},
		{"metric case", "metric.F1_MACRO>0.5", []string{"iris"}},
		{"param number", "param.model.C=0.1", []string{"iris"}},
		{"param number compares as a number", "param.model.C<1", []string{"iris"}},
		{"param string", "param.model.penalty=L2", []string{"iris"}},
		{"param bool", "param.split.stratify=true", []string{"iris"}},
		{"param not equal", "param.model.alpha!=2", []string{"diabetes"}},
		{"status", "status:failed", []string{"diabetes"}},
		{"tag", "tag:paper", []string{"iris"}},
		{"tag glob", "tag:base*", []string{"iris"}},
		{"pipeline glob", "pipeline:*a*", []string{"diabetes", "never"}},
		{"negation", "-status:failed", []string{"iris", "never"}},
		{"negated text", "-iris", []string{"diabetes", "never"}},
		{"since", "since:7d", []string{"iris"}},
		{"since hours", "since:1h", nil},
		{"since date", "since:2026-11-01", []string{"diabetes", "iris"}},
		{"quoted text", `"accuracy 0.97"`, []string{"iris"}},
		{"or of ands", "status:failed r2<0.1 or tag:paper accuracy>0.9", []string{"iris"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseAt(tt.q, now)
			if err != nil {
				t.Fatalf("ParseAt(%q): %v", tt.q, err)
			}
			var got []string
			for _, name := range []string{"diabetes", "iris", "never"} {
				if q.Match(items()[name]) {
					got = append(got, name)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("query %q matched %v, want %v", tt.q, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("query %q matched %v, want %v", tt.q, got, tt.want)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, q string
		col     int
		msg     string
	}{
		{"no number", "accuracy>", 10, `expected a number after ">"`},
		{"word for a number", "accuracy > high", 12, `expected a number after ">", got "high"`},
		{"unknown field", "iris stauts:failed", 6, `unknown field "stauts"; did you mean status:?`},
		{"field without value", "tag:", 5, `expected a value after ":"`},
		{"field compared", "status=failed", 7, "status takes a value after a colon"},
		{"operator alone", ">0.9", 1, `">" needs a name before it`},
		{"or at the start", "or iris", 1, "or needs a condition on each side"},
		{"or at the end", "iris or", 6, "or needs a condition on each side"},
		{"open quote", `iris "abc`, 6, "a quote is not closed"},
		{"bad param", "param.C=1", 1, "want param.STAGE.NAME"},
		{"bad age", "since:7y", 7, "the unit is one of s, m, h, d, w"},
		{"bang", "accuracy!0.9", 9, `"!" must be followed by "="`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAt(tt.q, now)
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("ParseAt(%q): got %v, want an *Error", tt.q, err)
			}
			if qe.Col != tt.col || !contains(qe.Msg, tt.msg) {
				t.Errorf("ParseAt(%q): got col %d %q, want col %d %q", tt.q, qe.Col, qe.Msg, tt.col, tt.msg)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
