package engine

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
	_ "time/tzdata" // timezone: works on machines without a zoneinfo database

	"github.com/sluice-ml/sluice/engine/timetable"
)

// Catchup says what a scheduler does with intervals that came due while
// no scheduler was running.
type Catchup string

// Catch-up policies.
const (
	CatchupNone   Catchup = "none"   // skip every missed interval
	CatchupLatest Catchup = "latest" // run only the newest missed interval
	CatchupAll    Catchup = "all"    // run every missed interval, oldest first
)

// Overlap says what a scheduler does when a run comes due while the
// previous run of the same pipeline is still going.
type Overlap string

// Overlap policies.
const (
	OverlapSkip          Overlap = "skip"           // do not start the new run
	OverlapQueue         Overlap = "queue"          // start it when the running one ends
	OverlapCancelRunning Overlap = "cancel_running" // cancel the running one, then start
)

// FileTrigger starts a run when a file matching Glob appears or changes
// and then stays unchanged for Settle.
type FileTrigger struct {
	Glob   string        // relative to the pipeline's folder
	Settle time.Duration // default 5s
	Pos    Pos
}

// Newest returns the file matching the trigger's glob under dir that was
// modified last, relative to dir with forward slashes; "" when none does.
func (t *FileTrigger) Newest(dir string) string {
	matches, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(t.Glob)))
	best, bestMod := "", time.Time{}
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if best == "" || fi.ModTime().After(bestMod) || (fi.ModTime().Equal(bestMod) && m > best) {
			best, bestMod = m, fi.ModTime()
		}
	}
	if best == "" {
		return ""
	}
	rel, err := filepath.Rel(dir, best)
	if err != nil {
		return ""
	}
	return filepath.ToSlash(rel)
}

// DefaultSettle is how long a triggering file must stay unchanged when the
// pipeline does not say.
const DefaultSettle = 5 * time.Second

// Automation is when a pipeline runs on its own: its schedule (nil: none)
// and its file trigger (nil: none), with their policies.
type Automation struct {
	Schedule *timetable.Timetable
	Location *time.Location // timezone:, default UTC
	Catchup  Catchup
	Overlap  Overlap
	Trigger  *FileTrigger
}

// Scheduled reports whether the pipeline runs on its own at all.
func (a *Automation) Scheduled() bool { return a.Schedule != nil || a.Trigger != nil }

// parseAutomation reads schedule:, timezone:, catchup:, overlap: and
// trigger: from the root of a pipeline file.
func (s *Spec) parseAutomation(root *node, add func(Pos, string, ...any)) {
	a := &s.Automation
	a.Location, a.Catchup, a.Overlap = time.UTC, CatchupLatest, OverlapSkip
	if n, p, ok := root.get("timezone"); ok && n.kind != nodeNull {
		name, isStr := n.value.(string)
		if !isStr || strings.TrimSpace(name) == "" {
			add(orPos(n.pos, p), "timezone wants an IANA time zone name like Europe/Paris, got %s", n.describe())
		} else if loc, err := time.LoadLocation(name); err != nil || strings.EqualFold(name, "local") {
			add(orPos(n.pos, p), "timezone %q: not an IANA time zone name (like UTC, Europe/Paris or America/New_York)", name)
		} else {
			a.Location = loc
		}
	}
	if n, p, ok := root.get("schedule"); ok && n.kind != nodeNull {
		expr, isStr := n.value.(string)
		if !isStr || n.kind != nodeScalar {
			add(orPos(n.pos, p), "schedule wants cron (5 fields), a preset like @daily, or @every DURATION, got %s", n.describe())
		} else if tt, err := timetable.Parse(expr, a.Location); err != nil {
			pos := orPos(n.pos, p)
			if pe, isPE := err.(*timetable.ParseError); isPE {
				pos = s.offsetInScalar(pos, expr, pe.Offset)
			}
			add(pos, "%v", err)
		} else {
			a.Schedule = tt
		}
	}
	enum := func(key string, allowed []string, set func(string)) {
		n, p, ok := root.get(key)
		if !ok || n.kind == nodeNull {
			return
		}
		v, isStr := n.value.(string)
		if !isStr || !contains(allowed, v) {
			msg := fmt.Sprintf("%s wants one of %s, got %s", key, strings.Join(allowed, ", "), n.describe())
			if isStr {
				if d := didYouMean(v, allowed); d != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", d)
				}
			}
			add(orPos(n.pos, p), "%s", msg)
			return
		}
		set(v)
	}
	enum("catchup", []string{"none", "latest", "all"}, func(v string) { a.Catchup = Catchup(v) })
	enum("overlap", []string{"skip", "queue", "cancel_running"}, func(v string) { a.Overlap = Overlap(v) })
	if n, p, ok := root.get("trigger"); ok && n.kind != nodeNull {
		s.parseTrigger(n, orPos(n.pos, p), add)
	}
	_, _, hasSchedule := root.get("schedule")
	_, _, hasTrigger := root.get("trigger")
	for _, key := range []string{"catchup", "overlap"} {
		if _, p, ok := root.get(key); ok && !hasSchedule && !hasTrigger {
			add(p, "%s applies to a schedule or trigger, and this pipeline has neither", key)
		}
	}
}

func (s *Spec) parseTrigger(n *node, pos Pos, add func(Pos, string, ...any)) {
	if n.kind != nodeMap {
		add(pos, "trigger wants a mapping like {files: \"incoming/*.csv\", settle: 5s}, got %s", n.describe())
		return
	}
	known := []string{"files", "settle"}
	for i, k := range n.keys {
		if !contains(known, k) {
			msg := fmt.Sprintf("unknown trigger field %q", k)
			if d := didYouMean(k, known); d != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", d)
			}
			add(n.keyPos[i], "%s", msg)
		}
	}
	t := &FileTrigger{Settle: DefaultSettle, Pos: pos}
	ok := true
	if v, p, has := n.get("files"); !has {
		add(pos, "trigger is missing files (a glob relative to the pipeline, like incoming/*.csv)")
		ok = false
	} else if g, isStr := v.value.(string); !isStr || strings.TrimSpace(g) == "" {
		add(orPos(v.pos, p), "trigger files wants a glob like incoming/*.csv, got %s", v.describe())
		ok = false
	} else if _, err := path.Match(g, ""); err != nil {
		add(orPos(v.pos, p), "trigger files %q: bad glob: %v", g, err)
		ok = false
	} else {
		t.Glob = g
	}
	if v, p, has := n.get("settle"); has {
		d, err := time.ParseDuration(fmt.Sprint(v.value))
		if _, isStr := v.value.(string); !isStr || err != nil || d < 0 {
			add(orPos(v.pos, p), "trigger settle wants a duration like 5s, got %s", v.describe())
			ok = false
		} else {
			t.Settle = d
		}
	}
	if ok {
		s.Automation.Trigger = t
	}
}

// offsetInScalar moves pos, the start of a scalar holding text, to the
// byte offset off inside it, when the scalar sits on one line as written
// (plain or quoted).
func (s *Spec) offsetInScalar(pos Pos, text string, off int) Pos {
	if off == 0 || pos.Line == 0 {
		return pos
	}
	lines := strings.Split(string(s.Source), "\n")
	if pos.Line > len(lines) {
		return pos
	}
	line := lines[pos.Line-1]
	col := pos.Col - 1
	if col < 0 || col > len(line) {
		return pos
	}
	rest := line[col:]
	if strings.HasPrefix(rest, `"`) || strings.HasPrefix(rest, `'`) {
		rest, col = rest[1:], col+1
	}
	if !strings.HasPrefix(rest, text) {
		return pos
	}
	return Pos{Line: pos.Line, Col: col + off + 1}
}

// ScheduleState is what the schedulers sharing a store know of one
// pipeline: the newest interval handled, the trigger files already run
// for, and which scheduler is running the pipeline now (its lease).
type ScheduleState struct {
	Pipeline string            `json:"pipeline"`
	Last     time.Time         `json:"last,omitzero"`    // logical time of the newest interval started or skipped
	Files    map[string]string `json:"files,omitempty"`  // trigger file → SHA-256 of the content a run was started for
	Holder   string            `json:"holder,omitempty"` // the scheduler running the pipeline now; "" none
	Expires  time.Time         `json:"expires,omitzero"` // when the holder's lease lapses unless renewed
}

// Held reports whether a scheduler other than holder holds the lease at now.
func (s *ScheduleState) Held(holder string, now time.Time) bool {
	return s.Holder != "" && s.Holder != holder && now.Before(s.Expires)
}
