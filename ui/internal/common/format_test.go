package common

import "testing"

// TestParts: parts that do not fit give way whole, never cut.
func TestParts(t *testing.T) {
	parts := []string{"RUN 4  diabetes", " · took 157ms", " · seed 42"}
	for _, c := range []struct {
		w    int
		want string
	}{
		{60, "RUN 4  diabetes · took 157ms · seed 42"},
		{38, "RUN 4  diabetes · took 157ms · seed 42"},
		{37, "RUN 4  diabetes · took 157ms …"},
		{30, "RUN 4  diabetes · took 157ms …"},
		{28, "RUN 4  diabetes · took 157ms"},
		{27, "RUN 4  diabetes …"},
		{16, "RUN 4  diabetes"},
		{10, "RUN 4  di…"},
	} {
		if got := Parts(c.w, parts...); got != c.want {
			t.Errorf("Parts(%d) = %q, want %q", c.w, got, c.want)
		}
	}
}

// TestFitMiddle: a cut key keeps its start and its end, and its last
// dotted part whole when it can.
func TestFitMiddle(t *testing.T) {
	for _, c := range []struct {
		s    string
		w    int
		want string
	}{
		{"ridge_score.residual_mean", 30, "ridge_score.residual_mean     "},
		{"ridge_score.residual_mean", 15, "ridge_s…al_mean"},
		{"ridge_score.residual_std", 15, "ridge_s…ual_std"},
		{"abcdef", 4, "abc…"},
		{"score.accuracy", 12, "sc….accuracy"},
		{"boosting_score.f1_macro", 14, "boos….f1_macro"},
	} {
		if got := FitMiddle(c.s, c.w); got != c.want {
			t.Errorf("FitMiddle(%q, %d) = %q, want %q", c.s, c.w, got, c.want)
		}
	}
}

// TestMetricsFit: pairs that do not fit give way whole, counted by +N.
func TestMetricsFit(t *testing.T) {
	m := map[string]float64{"accuracy": 0.9722, "f1_macro": 0.971, "log_loss": 0.0598}
	for _, c := range []struct {
		w    int
		want string
	}{
		{80, "accuracy 0.9722 · f1_macro 0.9710 · log_loss 0.0598"},
		{51, "accuracy 0.9722 · f1_macro 0.9710 · log_loss 0.0598"},
		{50, "accuracy 0.9722 · f1_macro 0.9710 · +1"},
		{38, "accuracy 0.9722 · +2"},
		{10, "+3"},
	} {
		if got := MetricsFit(m, c.w); got != c.want {
			t.Errorf("MetricsFit(%d) = %q, want %q", c.w, got, c.want)
		}
	}
}

func TestSeconds(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    float64
		want string
	}{
		{"nothing", 0, "0ms"},
		{"under a millisecond", 0.0004, "<1ms"},
		{"milliseconds", 0.024, "24ms"},
		{"rounds up to a second", 0.9996, "1.0s"},
		{"seconds", 12.75, "12.8s"},
		{"rounds up to a minute", 59.97, "1m00s"},
		{"minutes", 125, "2m05s"},
		{"hours", 3720, "1h02m"},
		{"unknown", -1, "-"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Seconds(tt.s); got != tt.want {
				t.Errorf("Seconds(%v) = %q, want %q", tt.s, got, tt.want)
			}
		})
	}
}
