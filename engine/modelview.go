package engine

// ModelDescription is a fitted model as people read it: what `sluice
// show` and the workbench's Model screen say of it. The stage catalog
// fills the part a model file holds (stages.DescribeModel); the caller
// that found the model in the store adds where it came from (run, stage,
// file hash and size, aliases) and how its evaluation went (Confusion).
type ModelDescription struct {
	Run         int64
	Stage       string
	Estimator   string // the train stage type
	Task        string // "classification", "regression", "clustering"
	Target      string
	Classes     []string
	Chain       []string // one line per preprocessing step, in order
	Params      map[string]any
	Metrics     map[string]float64
	Confusion   [][]int      // rows: true class, columns: predicted (Classes order)
	Importances []Importance // in the estimator's feature order
	SHA256      string       // of the model file
	Size        int          // bytes of the model file
	Aliases     []string     // NAME@ALIAS addresses pointing at this model
}
