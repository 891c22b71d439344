package stages

import (
	"sync"

	"github.com/sluice-ml/sluice/engine"
)

var (
	once sync.Once
	reg  *engine.Registry
)

// Registry returns the stage catalog. It is built once and is safe for
// concurrent use.
func Registry() *engine.Registry {
	once.Do(func() {
		var types []*engine.StageType
		types = append(types, tableStages()...)
		types = append(types, mlStages()...)
		reg = engine.NewRegistry(types...)
		reg.SetDecoder(DecodeValue)
	})
	return reg
}
