package engine_test

import (
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// TestStageRules pins the id, retries and timeout rules the pipeline
// file and the composer's fields share.
func TestStageRules(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		id string
		ok bool
	}{{"load", true}, {"fit_model-2", true}, {"Load", false}, {"a b", false}, {"", false}} {
		if err := engine.CheckStageID(tt.id); (err == nil) != tt.ok {
			t.Errorf("CheckStageID(%q) = %v, want ok %v", tt.id, err, tt.ok)
		}
	}
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{{"", 0, true}, {" 3 ", 3, true}, {"100", 100, true}, {"101", 0, false}, {"-1", 0, false}, {"two", 0, false}} {
		got, err := engine.ParseRetries(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseRetries(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{{"", 0, true}, {"30s", 30 * time.Second, true}, {"0s", 0, false}, {"-1m", 0, false}, {"soon", 0, false}} {
		got, err := engine.ParseTimeout(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseTimeout(%q) = %s, %v; want %s, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
