// A tuning stage's record of one fold of one candidate, the typed payload
// its log lines carry (LogLine.Fold), and the text a person reads for it.

package engine

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// CandidateFold is one cross-validation fold of one candidate of a tuning
// stage (grid_search, random_search). A tuning stage logs each with
// StageContext.LogFold: a log line whose text is written by LogLine for a
// person to read, and which carries the fold itself (LogLine.Fold), so the
// workbench keeps a live leaderboard of the candidates as their folds
// finish, from events or from a stored run, without parsing text.
type CandidateFold struct {
	Candidate  int            `json:"candidate"`            // 1-based
	Candidates int            `json:"candidates,omitempty"` // how many candidates in all; 0: unknown
	Fold       int            `json:"fold"`                 // 1-based
	Folds      int            `json:"folds"`                // folds per candidate
	Score      float64        `json:"score"`                // the fold's test score (higher is better)
	Params     map[string]any `json:"params,omitempty"`     // the candidate's parameters
}

// candidatePrefix starts every candidate log line.
const candidatePrefix = "cv candidate "

// LogLine renders the fold as one log line, the score to 6 significant
// digits:
//
//	cv candidate 3/12 fold 2/5 score 0.953333 params {"C":1}
func (c CandidateFold) LogLine() string {
	params, err := json.Marshal(c.Params)
	if err != nil || c.Params == nil {
		params = []byte("{}")
	}
	return fmt.Sprintf("%s%d/%d fold %d/%d score %s params %s", candidatePrefix,
		c.Candidate, c.Candidates, c.Fold, c.Folds, strconv.FormatFloat(c.Score, 'g', 6, 64), params)
}
