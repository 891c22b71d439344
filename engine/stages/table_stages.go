package stages

import "github.com/sluice-ml/sluice/engine"

// tableStages are the extract, transform and load stage types.
func tableStages() []*engine.StageType { return nil }
