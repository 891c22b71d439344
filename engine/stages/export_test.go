package stages

import "encoding/json"

// EncodeScore and DecodeScore are a tuning unit's result as JSON, for tests.
func EncodeScore(v float64) ([]byte, error) { return json.Marshal(foldResult{Score: jsonFloat(v)}) }

func DecodeScore(b []byte) (float64, error) {
	var r foldResult
	err := json.Unmarshal(b, &r)
	return float64(r.Score), err
}
