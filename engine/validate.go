package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Plan is a validated pipeline: every stage resolved against the catalog,
// its parameters typed and defaulted, its inputs wired, ready to run.
type Plan struct {
	Spec   *Spec
	Stages []*PlannedStage // in file order
	order  []int           // a topological order, stable in file order
	decode DecodeFunc      // the registry's, to load stored outputs
}

// PlannedStage is one stage of a Plan.
type PlannedStage struct {
	Index  int
	Spec   *StageSpec
	Type   *StageType
	Params Params
	Inputs []string // ids of the stages it reads, in order
	Shape  Shape    // what validation knows of its output
	Seed   uint64

	badParams bool // a parameter failed its checks: skip the type's Check
	badNeeds  bool // a needs entry was wrong: skip the arity check
}

// Stage returns the planned stage with the given id.
func (p *Plan) Stage(id string) (*PlannedStage, bool) {
	for _, s := range p.Stages {
		if s.Spec.ID == id {
			return s, true
		}
	}
	return nil, false
}

// Order returns the stages in a topological order (inputs first), stable
// in file order.
func (p *Plan) Order() []*PlannedStage {
	out := make([]*PlannedStage, len(p.order))
	for i, k := range p.order {
		out[i] = p.Stages[k]
	}
	return out
}

// ResolvedParams returns every stage's parameters after defaults and
// overrides, keyed by stage id, as recorded with a run.
func (p *Plan) ResolvedParams() map[string]map[string]any {
	out := make(map[string]map[string]any, len(p.Stages))
	for _, s := range p.Stages {
		m := make(map[string]any, len(s.Params))
		for k, v := range s.Params {
			if d, ok := v.(interface{ String() string }); ok {
				if _, isStr := v.(string); !isStr {
					m[k] = d.String()
					continue
				}
			}
			m[k] = v
		}
		out[s.Spec.ID] = m
	}
	return out
}

// StageSeed derives a stage's seed from the pipeline seed and the stage id,
// so adding or reordering other stages does not change it.
func StageSeed(pipelineSeed uint64, stageID string) uint64 {
	h := sha256.Sum256([]byte(fmt.Sprintf("sluice-seed/%d/%s", pipelineSeed, stageID)))
	return binary.BigEndian.Uint64(h[:8])
}

// Validate checks a parsed spec against the catalog and returns the plan.
// It reports every problem at once as an ErrorList of *SpecError, each at
// file:line:col: unknown stage types and parameters (with a did-you-mean),
// wrong types, values out of range, duplicate or malformed ids, missing
// or cyclic needs, wrong kinds of input, missing input files, and what
// each stage type's Check finds against the columns flowing into it.
//
// Parameters are resolved for spec.Context first (see Spec.Resolve).
func Validate(spec *Spec, reg *Registry) (*Plan, error) {
	v := &validator{spec: spec, reg: reg, plan: &Plan{Spec: spec, decode: reg.decode}, byID: map[string]int{}}
	if err := spec.Resolve(spec.Context); err != nil {
		var list ErrorList
		if errors.As(err, &list) {
			v.errs = append(v.errs, list...)
		}
	}
	v.stages()
	v.wire()
	if !v.cyclic {
		v.shapes()
	}
	if len(v.errs) > 0 {
		return nil, v.errs.sorted()
	}
	return v.plan, nil
}

// LoadPlan parses the file at path, applies overrides and validates it
// for validation only (see RunContext).
func LoadPlan(path string, reg *Registry, overrides []Override) (*Plan, error) {
	return LoadPlanFor(path, reg, overrides, RunContext{})
}

// LoadPlanFor parses the file at path, applies overrides, resolves the
// parameters' templates for rc and validates the result.
func LoadPlanFor(path string, reg *Registry, overrides []Override, rc RunContext) (*Plan, error) {
	spec, err := LoadSpec(path)
	if err != nil {
		return nil, err
	}
	if err := spec.Apply(overrides); err != nil {
		return nil, err
	}
	spec.Context = rc
	return Validate(spec, reg)
}

type validator struct {
	spec   *Spec
	reg    *Registry
	plan   *Plan
	errs   ErrorList
	byID   map[string]int
	cyclic bool
}

func (v *validator) add(p Pos, sentinel error, format string, args ...any) {
	v.errs = append(v.errs, &SpecError{File: v.spec.File, Pos: p, Msg: fmt.Sprintf(format, args...), Err: sentinel})
}

// paramPos is where a parameter's value is, or the stage when the value
// came from --set (no position) or was never written.
func paramPos(st *StageSpec, name string) Pos {
	if p, ok := st.WithPos[name]; ok && p.Line > 0 {
		return p
	}
	return orPos(st.UsesPos, st.Pos)
}

func paramLabel(st *StageSpec, name string) string {
	if p, ok := st.WithPos[name]; ok && p.Line == 0 {
		return fmt.Sprintf("--set %s.%s: ", st.ID, name)
	}
	return ""
}

func (v *validator) stages() {
	names := v.reg.Names()
	for i, st := range v.spec.Stages {
		ps := &PlannedStage{Index: i, Spec: st, Params: Params{}, Seed: StageSeed(v.spec.Seed, st.ID)}
		v.plan.Stages = append(v.plan.Stages, ps)
		if st.ID != "" {
			if j, dup := v.byID[st.ID]; dup {
				v.add(st.IDPos, ErrInvalid, "duplicate stage id %q (first used on line %d)", st.ID, v.spec.Stages[j].IDPos.Line)
			} else {
				v.byID[st.ID] = i
			}
		}
		if st.Uses == "" {
			continue
		}
		t, ok := v.reg.Lookup(st.Uses)
		if !ok {
			msg := fmt.Sprintf("unknown stage type %q", st.Uses)
			if d := didYouMean(st.Uses, names); d != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", d)
			} else {
				msg += " (sluice stages lists the catalog)"
			}
			v.add(st.UsesPos, ErrUnknownStage, "%s", msg)
			continue
		}
		ps.Type = t
		v.params(ps)
	}
}

func (v *validator) params(ps *PlannedStage) {
	st, t := ps.Spec, ps.Type
	keys := make([]string, 0, len(st.With))
	for k := range st.With {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var declared []string
	for _, p := range t.Params {
		declared = append(declared, p.Name)
	}
	suggested := map[string]bool{}
	for _, k := range keys {
		p, ok := t.Param(k)
		if !ok {
			msg := fmt.Sprintf("%s%s has no parameter %q", paramLabel(st, k), t.Name, k)
			if d := didYouMean(k, declared); d != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", d)
				suggested[d] = true
			} else if len(declared) == 0 {
				msg += " (it takes none)"
			} else {
				msg += fmt.Sprintf(" (it takes %s)", strings.Join(declared, ", "))
			}
			pos := st.withKeyPos[k]
			if pos.Line == 0 {
				pos = paramPos(st, k)
			}
			v.add(pos, ErrUnknownParam, "%s", msg)
			ps.badParams = true
			continue
		}
		raw, _ := st.Param(k)
		val, err := coerce(p, raw)
		if err != nil {
			v.add(paramPos(st, k), ErrInvalid, "%s%v", paramLabel(st, k), err)
			ps.badParams = true
			continue
		}
		ps.Params[k] = val
	}
	for i := range t.Params {
		p := &t.Params[i]
		if _, set := st.With[p.Name]; set {
			continue
		}
		if p.Required {
			ps.badParams = true
			if !suggested[p.Name] { // the did-you-mean above already points at it
				v.add(orPos(st.UsesPos, st.Pos), ErrInvalid, "%s needs parameter %s (%s)", t.Name, p.Name, p.Doc)
			}
			continue
		}
		if p.Default != nil {
			val, _ := coerce(p, p.Default)
			ps.Params[p.Name] = val
		}
	}
}

func (v *validator) wire() {
	ids := make([]string, 0, len(v.plan.Stages))
	for _, ps := range v.plan.Stages {
		if ps.Spec.ID != "" {
			ids = append(ids, ps.Spec.ID)
		}
	}
	for i, ps := range v.plan.Stages {
		st := ps.Spec
		if !st.NeedsSet {
			// needs omitted: the previous stage, when the type takes input.
			if i > 0 && (ps.Type == nil || ps.Type.MaxIn != 0) && v.plan.Stages[i-1].Spec.ID != "" {
				ps.Inputs = []string{v.plan.Stages[i-1].Spec.ID}
			}
			continue
		}
		seen := map[string]bool{}
		for j, n := range st.Needs {
			pos := st.Pos
			if j < len(st.NeedsPos) {
				pos = st.NeedsPos[j]
			}
			if n == st.ID {
				v.add(pos, ErrCycle, "stage %s needs itself", st.ID)
				ps.badNeeds = true
				continue
			}
			if seen[n] {
				v.add(pos, ErrInvalid, "stage %s lists %q twice in needs", st.ID, n)
				ps.badNeeds = true
				continue
			}
			seen[n] = true
			if _, ok := v.byID[n]; !ok {
				msg := fmt.Sprintf("stage %s needs %q, which is not a stage in this file", st.ID, n)
				if d := didYouMean(n, ids); d != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", d)
				}
				v.add(pos, ErrMissingNeed, "%s", msg)
				ps.badNeeds = true
				continue
			}
			ps.Inputs = append(ps.Inputs, n)
		}
	}
	v.order()
}

// order computes a topological order (Kahn's algorithm, ties by file
// order) and reports every stage caught in a cycle.
func (v *validator) order() {
	n := len(v.plan.Stages)
	indeg := make([]int, n)
	out := make([][]int, n)
	for i, ps := range v.plan.Stages {
		for _, in := range ps.Inputs {
			j := v.byID[in]
			out[j] = append(out[j], i)
			indeg[i]++
		}
	}
	var order []int
	done := make([]bool, n)
	for len(order) < n {
		next := -1
		for i := 0; i < n; i++ {
			if !done[i] && indeg[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		done[next] = true
		order = append(order, next)
		for _, k := range out[next] {
			indeg[k]--
		}
	}
	if len(order) < n {
		v.cyclic = true
		var members []string
		for i := 0; i < n; i++ {
			if !done[i] {
				members = append(members, v.plan.Stages[i].Spec.ID)
			}
		}
		for i := 0; i < n; i++ {
			if done[i] || !v.plan.Stages[i].Spec.NeedsSet {
				continue
			}
			st := v.plan.Stages[i].Spec
			pos := st.Pos
			if len(st.NeedsPos) > 0 {
				pos = st.NeedsPos[0]
			}
			v.add(pos, ErrCycle, "needs form a cycle through %s", strings.Join(members, " → "))
			break
		}
		return
	}
	v.plan.order = order
}

func article(k Kind) string {
	if k == KindNone {
		return "nothing"
	}
	return "a " + k.String()
}

// shapes checks arity and kinds along every edge, input files, and runs
// each stage type's Check with the shapes flowing in.
func (v *validator) shapes() {
	outputs := map[string]string{} // resolved output path → stage id
	for _, k := range v.plan.order {
		ps := v.plan.Stages[k]
		t := ps.Type
		if t == nil {
			continue
		}
		st := ps.Spec
		ok := !ps.badParams
		n := len(ps.Inputs)
		switch {
		case ps.badNeeds:
			ok = false
		case t.MaxIn == 0 && n > 0:
			v.add(needsPos(st), ErrWiring, "%s takes no input, but stage %s is wired to %s", t.Name, st.ID, strings.Join(ps.Inputs, ", "))
			ok = false
		case n < t.MinIn:
			if n == 0 {
				v.add(orPos(st.UsesPos, st.Pos), ErrWiring, "%s takes %s; stage %s has no input (put a stage before it or set needs)", t.Name, article(t.In), st.ID)
			} else {
				v.add(needsPos(st), ErrWiring, "%s takes at least %d inputs, stage %s has %d", t.Name, t.MinIn, st.ID, n)
			}
			ok = false
		case t.MaxIn >= 0 && n > t.MaxIn:
			v.add(needsPos(st), ErrWiring, "%s takes at most %d input(s), stage %s has %d", t.Name, t.MaxIn, st.ID, n)
			ok = false
		}
		in := make([]Shape, 0, n)
		for j, id := range ps.Inputs {
			up := v.plan.Stages[v.byID[id]]
			if up.Type == nil {
				ok = false
				continue
			}
			if up.Shape.Kind != t.In {
				pos := needsPos(st)
				if j < len(st.NeedsPos) {
					pos = st.NeedsPos[j]
				}
				hint := kindHint(t.In, up.Shape.Kind)
				v.add(pos, ErrWiring, "%s takes %s, but stage %s (%s) gives %s%s", t.Name, article(t.In), id, up.Type.Name, article(up.Shape.Kind), hint)
				ok = false
			}
			in = append(in, up.Shape)
		}
		// Paths: inputs must exist unless an upstream stage writes them.
		for i := range t.Params {
			p := &t.Params[i]
			if p.Type != TypePath {
				continue
			}
			val := ps.Params.String(p.Name)
			if val == "" {
				continue
			}
			abs := ResolvePath(v.spec.Dir, val)
			if p.Output {
				outputs[abs] = st.ID
				if _, err := OutputPath(v.spec.Dir, val, ps.Params.Bool(AllowOutsideParam)); err != nil {
					v.add(paramPos(st, p.Name), ErrInvalid, "%s%s: %v", paramLabel(st, p.Name), p.Name, err)
					ok = false
				}
			}
			if p.Input {
				if _, made := outputs[abs]; made {
					continue
				}
				templated := v.spec.Context.ValidateOnly() && st.Templated(p.Name)
				if p.Glob {
					if _, err := ExpandInput(v.spec.Dir, val); err != nil {
						if !templated {
							v.add(paramPos(st, p.Name), ErrNoFile, "%s%s: %v", paramLabel(st, p.Name), p.Name, err)
						}
						ok = false
					}
				} else if fi, err := os.Stat(abs); err != nil && templated {
					ok = false // a file named by the logical time need not exist before its run
				} else if err != nil {
					v.add(paramPos(st, p.Name), ErrNoFile, "%s%s: no such file %s", paramLabel(st, p.Name), p.Name, val)
					ok = false
				} else if fi.IsDir() {
					v.add(paramPos(st, p.Name), ErrNoFile, "%s%s: %s is a directory, not a file", paramLabel(st, p.Name), p.Name, val)
					ok = false
				}
			}
		}
		ps.Shape = Shape{Kind: t.Out}
		if ok && t.In == t.Out && len(in) == 1 {
			ps.Shape = in[0]
		}
		if t.Check == nil || !ok {
			continue
		}
		params := make(Params, len(ps.Params))
		for key, val := range ps.Params {
			params[key] = val
		}
		shape, errs := t.Check(params, in, CheckEnv{Dir: v.spec.Dir})
		for _, err := range errs {
			var pe *ParamError
			if errors.As(err, &pe) {
				v.add(paramPos(st, pe.Param), ErrInvalid, "%s%s: %s", paramLabel(st, pe.Param), pe.Param, pe.Msg)
			} else {
				v.add(orPos(st.UsesPos, st.Pos), ErrInvalid, "stage %s (%s): %v", st.ID, t.Name, err)
			}
		}
		if len(errs) == 0 {
			shape.Kind = t.Out
			ps.Shape = shape
		}
	}
}

func needsPos(st *StageSpec) Pos {
	if len(st.NeedsPos) > 0 {
		return st.NeedsPos[0]
	}
	return orPos(st.UsesPos, st.Pos)
}

func kindHint(want, got Kind) string {
	switch {
	case want == KindSplit && got == KindTable:
		return " (put a split stage between them)"
	case want == KindModel && got == KindSplit:
		return " (put a train or tune stage between them)"
	case want == KindTable && got == KindSplit:
		return " (table stages go before the split)"
	case want == KindModel && got == KindReport:
		return " (an evaluate stage ends its branch: give needs the model stage)"
	}
	return ""
}

// ResolvePath resolves p against dir unless it is absolute.
func ResolvePath(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}
