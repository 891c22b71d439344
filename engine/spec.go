package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Spec is a pipeline file as written, with the position of every part so
// problems can be reported as file:line:col.
type Spec struct {
	File        string // path as given (used in messages)
	Dir         string // directory that relative paths are resolved against
	Source      []byte // the file's bytes
	Name        string
	Description string
	Seed        uint64
	Stages      []*StageSpec

	// Automation is when the pipeline runs on its own (schedule:,
	// timezone:, catchup:, overlap:, trigger:).
	Automation Automation
	// Context is the run the parameters were last resolved for.
	Context RunContext

	root *node
	// Overrides are the --set assignments applied, in order.
	Overrides []string
}

// StageSpec is one entry of `stages:`.
type StageSpec struct {
	ID       string
	Uses     string
	With     map[string]any // raw values as written (after overrides)
	Needs    []string       // explicit edges; nil with NeedsSet false means "the previous stage"
	NeedsSet bool
	Retries  int
	Timeout  time.Duration

	Pos      Pos            // the `- id:` item
	IDPos    Pos            // the id value
	UsesPos  Pos            // the uses value
	WithPos  map[string]Pos // each parameter's value
	NeedsPos []Pos          // each needs entry
	// withKeyPos holds each parameter key's position.
	withKeyPos map[string]Pos
	// resolved holds the parameters whose templates Resolve worked out.
	resolved map[string]any
}

var idPattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

// The rules of a stage's id, retries and timeout, for the pipeline file
// and for the composer's fields alike.

// MaxRetries is the most retries a stage may ask for.
const MaxRetries = 100

// CheckStageID returns an error unless id is a valid stage id: one or
// more lower-case letters, digits, _ and -.
func CheckStageID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("id %q may only hold lower-case letters, digits, _ and -", id)
	}
	return nil
}

// errRetries and errTimeout say what retries and timeout want.
var (
	errRetries = fmt.Errorf("retries wants an integer in [0, %d]", MaxRetries)
	errTimeout = errors.New("timeout wants a positive duration like 30s or 5m")
)

// ParseRetries reads a stage's retries as typed ("" is 0).
func ParseRetries(s string) (int, error) {
	if s = strings.TrimSpace(s); s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > MaxRetries {
		return 0, errRetries
	}
	return n, nil
}

// ParseTimeout reads a stage's timeout as typed ("" is none).
func ParseTimeout(s string) (time.Duration, error) {
	if s = strings.TrimSpace(s); s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errTimeout
	}
	return d, nil
}

// Hash returns the hex SHA-256 of the file's bytes.
func (s *Spec) Hash() string {
	h := sha256.Sum256(s.Source)
	return hex.EncodeToString(h[:])
}

// Stage returns the stage with the given id.
func (s *Spec) Stage(id string) (*StageSpec, bool) {
	for _, st := range s.Stages {
		if st.ID == id {
			return st, true
		}
	}
	return nil, false
}

// LoadSpec reads and parses the pipeline file at path. It returns an
// ErrorList of *SpecError for every structural problem it finds; the
// stage catalog is checked later by Validate.
//
// Only a regular file is opened (a FIFO or device named by mistake would
// block or never end), and at most MaxSpecBytes of it are read.
func LoadSpec(path string) (*Spec, error) {
	src, err := ReadRegularFile(path, MaxSpecBytes)
	if err != nil {
		return nil, ErrorList{{File: path, Pos: Pos{}, Msg: fmt.Sprintf("cannot read pipeline file: %v", unwrapPathError(err)), Err: ErrNoFile}}
	}
	return ParseSpec(path, src)
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// ParseSpec parses a pipeline file's bytes. file names it in messages, and
// its directory is where relative paths resolve.
func ParseSpec(file string, src []byte) (*Spec, error) {
	dir := filepath.Dir(file)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	s := &Spec{File: file, Dir: dir, Source: src}
	root, err := parseYAML(file, src)
	if err != nil {
		if se, ok := err.(*SpecError); ok {
			return nil, ErrorList{se}
		}
		return nil, err
	}
	s.root = root
	var errs ErrorList
	add := func(p Pos, format string, args ...any) {
		errs = append(errs, &SpecError{File: file, Pos: p, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid})
	}
	if root.kind != nodeMap {
		add(root.pos, "a pipeline file is a mapping with name and stages, got %s", root.describe())
		return nil, errs
	}
	var known []string
	for _, f := range specFields {
		known = append(known, f.name)
	}
	for i, k := range root.keys {
		if !contains(known, k) {
			msg := fmt.Sprintf("unknown field %q", k)
			if d := didYouMean(k, known); d != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", d)
			} else {
				msg += fmt.Sprintf(" (a pipeline file takes %s)", strings.Join(known, ", "))
			}
			add(root.keyPos[i], "%s", msg)
		}
	}
	if _, _, ok := root.get("name"); !ok {
		add(root.pos, "missing required field name")
	}
	for _, f := range specFields {
		if f.parse == nil {
			continue
		}
		if n, p, ok := root.get(f.name); ok {
			f.parse(s, n, orPos(n.pos, p), add)
		}
	}
	s.parseAutomation(root, add)
	stagesNode, sp, ok := root.get("stages")
	switch {
	case !ok:
		add(root.pos, "missing required field stages")
	case stagesNode.kind != nodeSeq:
		add(orPos(stagesNode.pos, sp), "stages wants a list of stages, got %s", stagesNode.describe())
	case len(stagesNode.items) == 0:
		add(orPos(stagesNode.pos, sp), "stages is empty: a pipeline needs at least one stage")
	case len(stagesNode.items) > MaxStages:
		add(stagesNode.items[MaxStages].pos, "a pipeline holds at most %d stages, this one has %d", MaxStages, len(stagesNode.items))
	default:
		for _, item := range stagesNode.items {
			st, stErrs := parseStage(file, item)
			errs = append(errs, stErrs...)
			if st != nil {
				s.Stages = append(s.Stages, st)
			}
		}
	}
	if len(errs) > 0 {
		return s, errs.sorted()
	}
	return s, nil
}

// specFields are the top-level keys of a pipeline file, each with the
// parser of its value (nil: parsed in ParseSpec itself). Any other key is
// an error with a did-you-mean. A new top-level key is one entry here.
var specFields = []struct {
	name  string
	parse func(s *Spec, n *node, pos Pos, add func(Pos, string, ...any))
}{
	{"name", func(s *Spec, n *node, pos Pos, add func(Pos, string, ...any)) {
		if v, isStr := n.value.(string); n.kind != nodeScalar || !isStr || strings.TrimSpace(v) == "" {
			add(pos, "name wants a non-empty string, got %s", n.describe())
		} else {
			s.Name = v
		}
	}},
	{"description", func(s *Spec, n *node, pos Pos, add func(Pos, string, ...any)) {
		if n.kind == nodeNull {
			return
		}
		if v, isStr := n.value.(string); isStr {
			s.Description = v
		} else {
			add(pos, "description wants a string, got %s", n.describe())
		}
	}},
	{"seed", func(s *Spec, n *node, pos Pos, add func(Pos, string, ...any)) {
		if v, isInt := n.value.(int64); isInt && v >= 0 {
			s.Seed = uint64(v)
		} else {
			add(pos, "seed wants a non-negative integer, got %s", n.describe())
		}
	}},
	{"stages", nil},
	// The automation keys depend on each other (a schedule is read in its
	// timezone), so parseAutomation reads them together.
	{"schedule", nil},
	{"timezone", nil},
	{"catchup", nil},
	{"overlap", nil},
	{"trigger", nil},
}

func orPos(p, fallback Pos) Pos {
	if p.Line == 0 {
		return fallback
	}
	return p
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

func parseStage(file string, n *node) (*StageSpec, ErrorList) {
	var errs ErrorList
	add := func(p Pos, format string, args ...any) {
		errs = append(errs, &SpecError{File: file, Pos: p, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid})
	}
	if n.kind != nodeMap {
		add(n.pos, "a stage is a mapping with id and uses, got %s", n.describe())
		return nil, errs
	}
	st := &StageSpec{Pos: n.pos, With: map[string]any{}, WithPos: map[string]Pos{}, withKeyPos: map[string]Pos{}}
	known := []string{"id", "uses", "with", "needs", "retries", "timeout"}
	for i, k := range n.keys {
		if !contains(known, k) {
			msg := fmt.Sprintf("unknown stage field %q", k)
			if d := didYouMean(k, known); d != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", d)
			}
			add(n.keyPos[i], "%s", msg)
		}
	}
	if v, p, ok := n.get("id"); !ok {
		add(n.pos, "stage is missing its id")
	} else {
		st.IDPos = orPos(v.pos, p)
		id, isStr := v.value.(string)
		if i, isInt := v.value.(int64); isInt {
			id, isStr = fmt.Sprint(i), true
		}
		switch {
		case !isStr || v.kind != nodeScalar:
			add(st.IDPos, "id wants a name like load or fit_model, got %s", v.describe())
		case CheckStageID(id) != nil:
			add(st.IDPos, "%v", CheckStageID(id))
			st.ID = id
		default:
			st.ID = id
		}
	}
	if v, p, ok := n.get("uses"); !ok {
		add(n.pos, "stage %s is missing uses (the stage type)", orName(st.ID))
	} else {
		st.UsesPos = orPos(v.pos, p)
		if u, isStr := v.value.(string); isStr && u != "" {
			st.Uses = u
		} else {
			add(st.UsesPos, "uses wants a stage type name, got %s", v.describe())
		}
	}
	if v, p, ok := n.get("with"); ok && v.kind != nodeNull {
		if v.kind != nodeMap {
			add(orPos(v.pos, p), "with wants a mapping of parameters, got %s", v.describe())
		} else if len(v.keys) > MaxParams {
			add(v.keyPos[MaxParams], "a stage takes at most %d parameters, this one sets %d", MaxParams, len(v.keys))
		} else {
			for i, k := range v.keys {
				st.With[k] = v.vals[i].plain()
				st.WithPos[k] = orPos(v.vals[i].pos, v.keyPos[i])
				st.withKeyPos[k] = v.keyPos[i]
			}
		}
	}
	if v, p, ok := n.get("needs"); ok {
		st.NeedsSet = true
		switch v.kind {
		case nodeNull:
			// needs: (empty) means no inputs.
		case nodeScalar:
			if s, isStr := v.value.(string); isStr {
				st.Needs = []string{s}
				st.NeedsPos = []Pos{orPos(v.pos, p)}
			} else {
				add(orPos(v.pos, p), "needs wants a list of stage ids, got %s", v.describe())
			}
		case nodeSeq:
			st.Needs = []string{}
			for _, it := range v.items {
				s, isStr := it.value.(string)
				if !isStr {
					add(it.pos, "needs wants stage ids, got %s", it.describe())
					continue
				}
				st.Needs = append(st.Needs, s)
				st.NeedsPos = append(st.NeedsPos, it.pos)
			}
		default:
			add(orPos(v.pos, p), "needs wants a list of stage ids, got %s", v.describe())
		}
	}
	if v, p, ok := n.get("retries"); ok {
		if r, isInt := v.value.(int64); isInt && r >= 0 && r <= MaxRetries {
			st.Retries = int(r)
		} else {
			add(orPos(v.pos, p), "%v, got %s", errRetries, v.describe())
		}
	}
	if v, p, ok := n.get("timeout"); ok {
		s, isStr := v.value.(string)
		d, err := ParseTimeout(s)
		if !isStr || err != nil || d == 0 {
			add(orPos(v.pos, p), "%v, got %s", errTimeout, v.describe())
		} else {
			st.Timeout = d
		}
	}
	return st, errs
}

func orName(id string) string {
	if id == "" {
		return "(no id)"
	}
	return id
}

// Override is one `--set STAGE.PARAM=VALUE` assignment.
type Override struct {
	Stage, Param string
	Value        any
	Text         string // as given
}

// ParseOverride parses "STAGE.PARAM=VALUE"; VALUE is read as YAML, so
// 0.5 is a number, true a bool and [1, 2] a list.
func ParseOverride(s string) (Override, error) {
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return Override{}, fmt.Errorf("--set %s: want STAGE.PARAM=VALUE", s)
	}
	key, val := s[:eq], s[eq+1:]
	dot := strings.IndexByte(key, '.')
	if dot <= 0 || dot == len(key)-1 {
		return Override{}, fmt.Errorf("--set %s: want STAGE.PARAM=VALUE", s)
	}
	v, err := ParseValue(val)
	if err != nil {
		return Override{}, fmt.Errorf("--set %s: value: %v", s, err)
	}
	return Override{Stage: key[:dot], Param: key[dot+1:], Value: v, Text: s}, nil
}

// Apply sets each override on the spec. An override naming a stage that
// does not exist is an error; parameters are checked by Validate, whose
// messages name the --set argument.
func (s *Spec) Apply(overrides []Override) error {
	for _, o := range overrides {
		st, ok := s.Stage(o.Stage)
		if !ok {
			ids := make([]string, len(s.Stages))
			for i, x := range s.Stages {
				ids[i] = x.ID
			}
			msg := fmt.Sprintf("--set %s: no stage %q in this file", o.Text, o.Stage)
			if d := didYouMean(o.Stage, ids); d != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", d)
			} else {
				msg += fmt.Sprintf(" (it has %s)", strings.Join(ids, ", "))
			}
			// Placed at the stages key, as every other problem is placed
			// in the file.
			var pos Pos
			if s.root != nil {
				_, pos, _ = s.root.get("stages")
			}
			return ErrorList{{File: s.File, Pos: pos, Msg: msg, Err: ErrInvalid}}
		}
		st.With[o.Param] = o.Value
		st.WithPos[o.Param] = Pos{}
		st.withKeyPos[o.Param] = Pos{}
		s.Overrides = append(s.Overrides, o.Text)
	}
	return nil
}
