package stages_test

import (
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
)

// A stage type that writes a file must say so to the stage cache: reused
// only while its file is unchanged, or never. One that declares plain
// reuse would be cached with its file deleted.
func TestStagesThatWriteFilesDeclareTheirCachePolicy(t *testing.T) {
	t.Parallel()
	for _, st := range stages.Registry().Types() {
		writes := false
		for _, p := range st.Params {
			if p.Type == engine.TypePath && p.Output {
				writes = true
			}
		}
		if writes && st.Cache == engine.CacheReuse {
			t.Errorf("%s writes a file but declares cache policy %q", st.Name, st.Cache)
		}
	}
	for name, want := range map[string]engine.CachePolicy{
		"exec":         engine.CacheNever,
		"write_csv":    engine.CacheVerifyWrites,
		"write_jsonl":  engine.CacheVerifyWrites,
		"export_model": engine.CacheVerifyWrites,
		"read_csv":     engine.CacheReuse,
	} {
		st, ok := stages.Registry().Lookup(name)
		if !ok {
			t.Errorf("no stage type %s", name)
			continue
		}
		if st.Cache != want {
			t.Errorf("%s: cache policy %q, want %q", name, st.Cache, want)
		}
	}
}
