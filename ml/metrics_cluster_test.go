package ml_test

import (
	"math"
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

// TestAdjustedRandIndex checks values from scikit-learn 1.2.1's
// adjusted_rand_score on the same labels.
func TestAdjustedRandIndex(t *testing.T) {
	tests := []struct {
		name       string
		truth, got []int
		want       float64
	}{
		{"identical", []int{0, 0, 1, 1}, []int{0, 0, 1, 1}, 1},
		{"renamed", []int{0, 0, 1, 1}, []int{1, 1, 0, 0}, 1},
		{"split", []int{0, 0, 1, 2}, []int{0, 0, 1, 1}, 0.5714285714285714},
		{"merged", []int{0, 0, 1, 1}, []int{0, 0, 1, 2}, 0.5714285714285714},
		{"all apart", []int{0, 0, 0, 0}, []int{0, 1, 2, 3}, 0},
		{"crossed", []int{0, 0, 1, 1}, []int{0, 1, 0, 1}, -0.5},
		{"empty", nil, nil, 1},
		{"one row", []int{1}, []int{5}, 1},
		{"one cluster", []int{3, 3, 3}, []int{1, 1, 1}, 1},
		{"negative labels", []int{0, 1, 2, 0, 1, 2, 2, 1}, []int{5, 5, 1, 1, -2, -2, 1, 5}, 0.047619047619047616},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ml.AdjustedRandIndex(tt.truth, tt.got); math.Abs(got-tt.want) > 1e-15 {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAdjustedRandIndexPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("no panic for different lengths")
		}
	}()
	ml.AdjustedRandIndex([]int{1, 2}, []int{1})
}
