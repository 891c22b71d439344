package stages

import (
	"encoding/json"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

// EncodeScore and DecodeScore are a tuning unit's result as JSON, for tests.
func EncodeScore(v float64) ([]byte, error) { return json.Marshal(foldResult{Score: jsonFloat(v)}) }

func DecodeScore(b []byte) (float64, error) {
	var r foldResult
	err := json.Unmarshal(b, &r)
	return float64(r.Score), err
}

// SchemaOf is the schema validation carries in a shape, as a frame.Schema
// (nil: unknown), for tests.
func SchemaOf(s engine.Shape) frame.Schema { return schemaOf(s) }
