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

// Details are a report's details, typed as the engine reads them.
type Details = engine.ReportDetails

// Curve is one class against the rest.
type Curve = engine.ClassCurve

// Points are residuals against predictions.
type Points = engine.ResidualPoints

// Histogram counts residuals in equal bins.
type Histogram = engine.ResidualHistogram

// Importance is one feature's importance.
type Importance = engine.Importance

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
	rep, err := engine.DecodeReport(b)
	if err != nil {
		return nil, err
	}
	return &Stage{Metrics: rep.Metrics, Details: rep.Details}, nil
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
