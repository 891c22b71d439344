package runview

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// board is a tuning stage's leaderboard, built from its candidate-fold
// log lines as the folds finish.
type board struct {
	cands      map[int]*candidate
	candidates int
	folds      int
	done       int
}

type candidate struct {
	n      int
	params map[string]any
	scores map[int]float64
}

func (b *board) add(c engine.CandidateFold) {
	b.candidates = max(b.candidates, c.Candidates)
	b.folds = max(b.folds, c.Folds)
	x := b.cands[c.Candidate]
	if x == nil {
		x = &candidate{n: c.Candidate, params: c.Params, scores: map[int]float64{}}
		b.cands[c.Candidate] = x
	}
	if _, dup := x.scores[c.Fold]; !dup {
		b.done++
	}
	x.scores[c.Fold] = c.Score
}

func (c *candidate) mean() float64 {
	s := 0.0
	for _, v := range c.scores {
		s += v
	}
	return s / float64(len(c.scores))
}

// variance is the population variance of the fold scores (ddof=0, as
// scikit-learn's std_test_score).
func (c *candidate) variance() float64 {
	mu, s := c.mean(), 0.0
	for _, v := range c.scores {
		s += (v - mu) * (v - mu)
	}
	return s / float64(len(c.scores))
}

// ranked returns the candidates best mean first (ties: lower number).
func (b *board) ranked() []*candidate {
	out := make([]*candidate, 0, len(b.cands))
	for _, c := range b.cands {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		mi, mj := out[i].mean(), out[j].mean()
		if mi != mj {
			return mi > mj
		}
		return out[i].n < out[j].n
	})
	return out
}

func (m *Model) boardLines(w *watched, n int) []string {
	st := m.ctx.Styles
	id := m.boardStage(w)
	b := w.boards[id]
	total := b.candidates * b.folds
	title := st.Header.Render("LEADERBOARD") + st.Subtle.Render(fmt.Sprintf("  %s · %d/%d candidates · %d/%d folds", id, len(b.cands), b.candidates, b.done, total))
	out := []string{common.Fit(title, m.w)}
	if n < 2 {
		return out[:n]
	}
	out = append(out, st.Header.Render(common.Fit(fmt.Sprintf("  %-4s %-8s %-8s %-6s %s", "#", "MEAN", "± STD", "FOLDS", "PARAMS"), m.w)))
	for i, c := range b.ranked() {
		if len(out) >= n {
			break
		}
		params := make([]string, 0, len(c.params))
		for _, k := range common.SortedKeys(c.params) {
			params = append(params, k+"="+common.Value(c.params[k]))
		}
		line := fmt.Sprintf("  %-4d %-8s %-8s %-6s %s", i+1, fmt.Sprintf("%.4f", c.mean()), fmt.Sprintf("%.4f", math.Sqrt(c.variance())), fmt.Sprintf("%d/%d", len(c.scores), b.folds), strings.Join(params, " "))
		if i == 0 {
			line = st.Best.Render(line)
		}
		out = append(out, common.Fit(line, m.w))
	}
	return out
}
