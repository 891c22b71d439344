package stages

import "github.com/sluice-ml/sluice/engine"

// tableStages are the extract, transform and load stage types.
func tableStages() []*engine.StageType {
	return []*engine.StageType{
		// extract
		readCSVStage(),
		readJSONLStage(),
		readParquetStage(),
		readSQLStage(),
		execStage(),
		// transform
		selectStage(),
		dropStage(),
		renameStage(),
		filterStage(),
		deriveStage(),
		castStage(),
		dropnaStage(),
		fillnaStage(),
		dedupeStage(),
		sortStage(),
		sampleStage(),
		joinStage(),
		concatStage(),
		// load
		writeCSVStage(),
		writeJSONLStage(),
		writeParquetStage(),
		writeSQLStage(),
	}
}
