package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/sluice-ml/sluice/engine"
)

// Source reads a stage's artifact (*store.DB does).
type Source interface {
	Artifact(ctx context.Context, run int64, stage, name string) ([]byte, engine.ArtifactInfo, error)
}

// Doc is a run's reports, as `sluice report --json` prints it.
type Doc struct {
	Run          int64   `json:"run"`
	Pipeline     string  `json:"pipeline"`
	Reports      []Stage `json:"reports"`
	Leaderboards []Board `json:"leaderboards"`
}

// Stage is one evaluation stage's report.
type Stage struct {
	Stage   string             `json:"stage"`
	Uses    string             `json:"uses"`
	Metrics map[string]float64 `json:"metrics"`
	Details Details            `json:"details"`
}

// Details are the parts of a report's details the views draw; Raw holds
// all of them as recorded.
type Details struct {
	Model       string         `json:"model,omitempty"`
	TestRows    int            `json:"test_rows,omitempty"`
	Classes     []string       `json:"classes,omitempty"`
	Confusion   [][]int        `json:"confusion_matrix,omitempty"`
	Curves      []Curve        `json:"class_curves,omitempty"`
	Points      *Points        `json:"residual_points,omitempty"`
	Histogram   *Histogram     `json:"residual_histogram,omitempty"`
	Importances []Importance   `json:"feature_importances,omitempty"`
	Raw         map[string]any `json:"-"`
}

// Curve is one class against the rest.
type Curve struct {
	Class            string    `json:"class"`
	FPR              []float64 `json:"fpr"`
	TPR              []float64 `json:"tpr"`
	ROCAUC           float64   `json:"roc_auc"`
	Precision        []float64 `json:"precision"`
	Recall           []float64 `json:"recall"`
	AveragePrecision float64   `json:"average_precision"`
}

// Points are residuals against predictions (a sample of at most 500).
type Points struct {
	Predicted []float64 `json:"predicted"`
	Residual  []float64 `json:"residual"`
}

// Histogram counts residuals in equal bins.
type Histogram struct {
	Edges  []float64 `json:"edges"`
	Counts []int     `json:"counts"`
}

// Importance is one feature's importance.
type Importance struct {
	Feature string  `json:"feature"`
	Value   float64 `json:"importance"`
}

// Board is a tuning stage's leaderboard, best first.
type Board struct {
	Stage      string      `json:"stage"`
	Uses       string      `json:"uses"`
	Candidates []Candidate `json:"candidates"`
}

// Candidate is one parameter set a search tried.
type Candidate struct {
	Rank   int            `json:"rank"`
	Params map[string]any `json:"params"`
	Mean   float64        `json:"mean"`
	Std    float64        `json:"std"`
	Scores []float64      `json:"scores"`
}

// Load reads the reports of run r (of stage only, if not "") from src.
func Load(ctx context.Context, src Source, r *engine.Run, stage string) (*Doc, error) {
	doc := &Doc{Run: r.ID, Pipeline: r.Pipeline, Reports: []Stage{}, Leaderboards: []Board{}}
	found := false
	for _, s := range r.Stages {
		if stage != "" && s.ID != stage {
			continue
		}
		for _, a := range s.Artifacts {
			switch a.Name {
			case "report":
				b, _, err := src.Artifact(ctx, r.ID, s.ID, "report")
				if err != nil {
					return nil, err
				}
				rep, err := decodeReport(b)
				if err != nil {
					return nil, fmt.Errorf("run %d stage %s: report: %w", r.ID, s.ID, err)
				}
				rep.Stage, rep.Uses = s.ID, s.Uses
				doc.Reports = append(doc.Reports, *rep)
				found = true
			case "search":
				b, _, err := src.Artifact(ctx, r.ID, s.ID, "search")
				if err != nil {
					return nil, err
				}
				board, err := decodeSearch(b)
				if err != nil {
					return nil, fmt.Errorf("run %d stage %s: search: %w", r.ID, s.ID, err)
				}
				board.Stage, board.Uses = s.ID, s.Uses
				doc.Leaderboards = append(doc.Leaderboards, *board)
				found = true
			}
		}
	}
	if !found {
		if stage != "" {
			return nil, fmt.Errorf("run %d: stage %q keeps no report or leaderboard: %w", r.ID, stage, engine.ErrNotFound)
		}
		return nil, fmt.Errorf("run %d has no report (an evaluate, cross_validate or tuning stage keeps one): %w", r.ID, engine.ErrNotFound)
	}
	return doc, nil
}

func decodeReport(b []byte) (*Stage, error) {
	var raw struct {
		Metrics map[string]float64 `json:"metrics"`
		Details json.RawMessage    `json:"details"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	st := &Stage{Metrics: raw.Metrics}
	if len(raw.Details) > 0 {
		if err := json.Unmarshal(raw.Details, &st.Details); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw.Details, &st.Details.Raw); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func decodeSearch(b []byte) (*Board, error) {
	var res struct {
		Candidates []struct {
			Params map[string]any `json:"params"`
			Scores []float64      `json:"split_test_scores"`
			Mean   float64        `json:"mean_test_score"`
			Std    float64        `json:"std_test_score"`
			Rank   int            `json:"rank_test_score"`
		} `json:"candidates"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, err
	}
	if len(res.Candidates) == 0 {
		return nil, errors.New("no candidates")
	}
	board := &Board{}
	for _, c := range res.Candidates {
		board.Candidates = append(board.Candidates, Candidate{Rank: c.Rank, Params: c.Params, Mean: c.Mean, Std: c.Std, Scores: c.Scores})
	}
	sort.SliceStable(board.Candidates, func(i, j int) bool { return board.Candidates[i].Rank < board.Candidates[j].Rank })
	return board, nil
}

// MarshalJSON writes the details as recorded (every key), so --json
// loses nothing the stage kept.
func (d Details) MarshalJSON() ([]byte, error) {
	if d.Raw != nil {
		return json.Marshal(d.Raw)
	}
	type plain Details
	return json.Marshal(plain(d))
}
