package cli

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

func (e *env) extraCmds() []*cobra.Command {
	return []*cobra.Command{e.compareCmd(), e.exportCmd(), e.predictCmd()}
}

func (e *env) compareCmd() *cobra.Command {
	var all, asJSON, md, asCSV bool
	cmd := &cobra.Command{
		Use:   "compare RUN RUN...",
		Short: "Set runs side by side: parameters that differ, metrics with the best marked",
		Long: `Compare prints runs as columns and keys as rows, so many parameters still read
down the page: the parameters that differ between the runs (--all for every
one), every metric with its delta against the first run and the best marked
(★; higher or lower is better by metric), and the first stage whose
fingerprint differs, where the runs' results start to part.`,
		Example: "  sluice compare 3 4\n  sluice compare latest 1 --all --md",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			var runs []*engine.Run
			for _, a := range args {
				id, err := e.parseRunRef(db, a)
				if err != nil {
					return err
				}
				r, err := db.Run(e.ctx, id)
				if err != nil {
					return usageErr(err)
				}
				runs = append(runs, r)
			}
			c := engine.Compare(runs, all)
			switch {
			case asJSON:
				return writeCompareJSON(e.stdout, c)
			case md:
				writeCompareTable(e.stdout, c, "md", all)
			case asCSV:
				return writeCompareCSV(e.stdout, c)
			default:
				writeCompareTable(e.stdout, c, "text", all)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "show every parameter, not only those that differ")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	cmd.Flags().BoolVar(&md, "md", false, "print the comparison as a Markdown table")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print the comparison as CSV")
	cmd.MarkFlagsMutuallyExclusive("json", "md", "csv")
	return cmd
}

// compareRows flattens a comparison into (section, key, cells) rows.
func compareRows(c *engine.Comparison) (header []string, rows [][]string) {
	header = []string{"", "key"}
	for _, id := range c.Runs {
		header = append(header, fmt.Sprintf("run %d", id))
	}
	// Tags and notes, when a run has any.
	tagged, noted := false, false
	for i := range c.Runs {
		tagged = tagged || len(c.Tags[i]) > 0
		noted = noted || c.Notes[i] != ""
	}
	if tagged {
		row := []string{"run", "tags"}
		for _, t := range c.Tags {
			row = append(row, strings.Join(t, " "))
		}
		rows = append(rows, row)
	}
	if noted {
		row := []string{"run", "note"}
		for _, n := range c.Notes {
			row = append(row, n)
		}
		rows = append(rows, row)
	}
	for _, p := range c.Params {
		row := []string{"param", p.Key}
		for _, v := range p.Values {
			if v == "" {
				v = "—"
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	for _, m := range c.Metrics {
		row := []string{"metric", m.Key}
		for i, v := range m.Values {
			cell := "—"
			if v != nil {
				cell = common.Metric(*v)
				if i > 0 && m.Deltas[i] != nil && *m.Deltas[i] != 0 {
					cell += fmt.Sprintf(" (%+.4g)", *m.Deltas[i])
				}
				if i == m.Best {
					cell += " ★"
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	return header, rows
}

func writeCompareTable(w io.Writer, c *engine.Comparison, style string, all bool) {
	header, rows := compareRows(c)
	if style == "md" {
		fmt.Fprintf(w, "| %s |\n", strings.Join(header[1:], " | "))
		fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(header)-1))
		for _, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(r[1:], " | "))
		}
	} else {
		tw := newTable(w)
		fmt.Fprintln(tw, strings.Join(header[1:], "\t"))
		section := ""
		for _, r := range rows {
			if r[0] != section {
				section = r[0]
				label := map[string]string{"run": "RUN", "param": "PARAMETERS (that differ)", "metric": "METRICS (Δ vs first run, ★ best)"}[section]
				if section == "param" && all {
					label = "PARAMETERS (all)"
				}
				fmt.Fprintf(tw, "%s\n", label)
			}
			fmt.Fprintln(tw, "  "+strings.Join(r[1:], "\t"))
		}
		tw.Flush()
		if len(c.Params) == 0 && !all {
			fmt.Fprintln(w, "no parameter differs (--all shows every one)")
		}
	}
	if c.FirstDiff != "" {
		fmt.Fprintf(w, "\nfirst stage whose fingerprint differs: %s\n", c.FirstDiff)
	} else {
		fmt.Fprintln(w, "\nevery stage's fingerprint matches: the runs did the same work")
	}
}

func writeCompareCSV(w io.Writer, c *engine.Comparison) error {
	header, rows := compareRows(c)
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"section"}, header[1:]...)); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeCompareJSON(w io.Writer, c *engine.Comparison) error {
	type param struct {
		Key     string   `json:"key"`
		Values  []string `json:"values"`
		Differs bool     `json:"differs"`
	}
	type metric struct {
		Key            string     `json:"key"`
		Values         []*float64 `json:"values"`
		Deltas         []*float64 `json:"deltas"`
		Best           *int64     `json:"best_run"`
		HigherIsBetter bool       `json:"higher_is_better"`
	}
	doc := struct {
		Runs      []int64    `json:"runs"`
		Tags      [][]string `json:"tags"`
		Notes     []string   `json:"notes"`
		Params    []param    `json:"params"`
		Metrics   []metric   `json:"metrics"`
		FirstDiff string     `json:"first_differing_stage"`
	}{Runs: c.Runs, Tags: make([][]string, len(c.Runs)), Notes: c.Notes, Params: []param{}, Metrics: []metric{}, FirstDiff: c.FirstDiff}
	for i, t := range c.Tags {
		doc.Tags[i] = append([]string{}, t...)
	}
	for _, p := range c.Params {
		doc.Params = append(doc.Params, param{p.Key, p.Values, p.Differs})
	}
	for _, m := range c.Metrics {
		mm := metric{Key: m.Key, Values: m.Values, Deltas: m.Deltas, HigherIsBetter: m.HigherIsBetter}
		if m.Best >= 0 {
			id := c.Runs[m.Best]
			mm.Best = &id
		}
		doc.Metrics = append(doc.Metrics, mm)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // print <, > and & as written
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// modelArtifact finds a run's model: the given stage's, or the last model
// in pipeline order.
func (e *env) modelArtifact(db *store.DB, run *engine.Run, stage string) ([]byte, engine.ArtifactInfo, error) {
	var candidates []string
	for _, s := range run.Stages {
		for _, a := range s.Artifacts {
			if a.Name == "model" {
				candidates = append(candidates, s.ID)
			}
		}
	}
	if len(candidates) == 0 {
		return nil, engine.ArtifactInfo{}, usageErr(fmt.Errorf("run %d has no fitted model", run.ID))
	}
	if stage == "" {
		stage = candidates[len(candidates)-1]
		// export_model passes a model through; prefer the stage that fitted it.
		for _, s := range run.Stages {
			if s.ID == stage && s.Uses == "export_model" && len(s.Needs) == 1 {
				stage = s.Needs[0]
			}
		}
	} else if !containsString(candidates, stage) {
		return nil, engine.ArtifactInfo{}, usageErr(fmt.Errorf("run %d has no model from stage %q (models: %s)", run.ID, stage, strings.Join(candidates, ", ")))
	}
	data, info, err := db.Artifact(e.ctx, run.ID, stage, "model")
	if err != nil {
		return nil, info, usageErr(err)
	}
	return data, info, nil
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// exportModel writes a run's model file to path atomically, in the
// named format (stages.ModelFileSluice, the file as the run kept it, or
// stages.ModelFileJSON), and returns the SHA-256 of what it wrote.
func (e *env) exportModel(db *store.DB, id int64, stage, path string, allowOutside bool, format string) (string, string, error) {
	path, err := engine.OutputPath(".", path, allowOutside)
	if err != nil {
		return "", "", usageErr(err)
	}
	run, err := db.Run(e.ctx, id)
	if err != nil {
		return "", "", usageErr(err)
	}
	data, info, err := e.modelArtifact(db, run, stage)
	if err != nil {
		return "", "", err
	}
	p, err := stages.LoadModel(fmt.Sprintf("run %d stage %s", id, info.Stage), data)
	if err != nil {
		return "", "", usageErr(err)
	}
	sum := info.SHA256
	if format == stages.ModelFileJSON || !bytes.HasPrefix(data, []byte(stages.ModelFormat+" 2\n")) {
		if data, err = stages.EncodeModelFile(p, format); err != nil {
			return "", "", usageErr(err)
		}
		h := sha256.Sum256(data)
		sum = hex.EncodeToString(h[:])
	}
	err = frame.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return "", "", usageErr(err)
	}
	return sum, info.Stage, nil
}

func (e *env) exportCmd() *cobra.Command {
	var stage, out, format string
	var allowOutside bool
	cmd := &cobra.Command{
		Use:   "export MODEL -o FILE",
		Short: "Write a run's fitted model to a file that predicts on raw rows",
		Long: `Export writes the model a run fitted (the last one in pipeline order, or
--stage's) as one self-describing, versioned, checksummed file: input schema,
preprocessing chain, estimator, metrics and where it came from. The default
format (sluice, model format 2) packs the learned values compactly; --format
json writes model format 1, one JSON document. sluice predict reads both.
The file is written atomically; a path outside the current folder needs
--allow-outside. MODEL is RUN (a run number or latest), RUN:STAGE or
NAME@ALIAS.`,
		Example: "  sluice export latest -o iris.model\n  sluice export 4 --stage forest --format json -o forest.json\n  sluice export iris@champion -o champion.model",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErr(errors.New("export needs -o FILE"))
			}
			if format != stages.ModelFileSluice && format != stages.ModelFileJSON {
				return usageErr(fmt.Errorf("--format %q: want %s or %s", format, stages.ModelFileSluice, stages.ModelFileJSON))
			}
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			ref, err := engine.ParseModelRef(args[0])
			if err != nil {
				return usageErr(err)
			}
			if stage != "" {
				if ref.Stage != "" && ref.Stage != stage {
					return usageErr(fmt.Errorf("%s names stage %s, --stage %s", args[0], ref.Stage, stage))
				}
				ref.Stage = stage
			}
			run, st, err := db.ResolveModel(e.ctx, ref)
			if err != nil {
				return usageErr(err)
			}
			id := run.ID
			sum, st, err := e.exportModel(db, id, st, out, allowOutside, format)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote %s (run %d, stage %s, sha256 %s)\n", out, id, st, sum)
			return nil
		},
	}
	cmd.Flags().StringVar(&stage, "stage", "", "the stage whose model to export (default: the last model)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write")
	cmd.Flags().StringVar(&format, "format", stages.ModelFileSluice, "file format: sluice (model format 2) or json (model format 1)")
	cmd.Flags().BoolVar(&allowOutside, "allow-outside", false, "allow a path outside the current folder (symbolic links followed)")
	return cmd
}

func (e *env) predictCmd() *cobra.Command {
	var out string
	var allowOutside bool
	var maxLine int64
	cmd := &cobra.Command{
		Use:   "predict MODEL FILE.csv|-",
		Short: "Predict on raw rows with an exported model",
		Long: `Predict reads raw rows (the columns the model was trained on; extra columns
are ignored) and appends the prediction and, for classifiers, one probability
column per class. With - it reads CSV (header first) or JSONL from stdin and
writes one prediction per input line as soon as the line arrives.`,
		Example: "  sluice predict iris.model.json sample-data/iris.csv -o predictions.csv\n  tail -f events.jsonl | sluice predict model.json -",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, name, err := e.modelBytes(args[0])
			if err != nil {
				return err
			}
			p, err := stages.LoadModel(name, data)
			if err != nil {
				return usageErr(err)
			}
			if args[1] == "-" {
				if maxLine < 1 {
					return usageErr(fmt.Errorf("--max-line %d: want a positive number of bytes", maxLine))
				}
				return e.predictStream(p, int(maxLine))
			}
			if out != "" {
				if out, err = engine.OutputPath(".", out, allowOutside); err != nil {
					return usageErr(err)
				}
			}
			return e.predictFile(p, args[1], out)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the rows with predictions here (default: stdout)")
	cmd.Flags().BoolVar(&allowOutside, "allow-outside", false, "allow -o outside the current folder (symbolic links followed)")
	cmd.Flags().Int64Var(&maxLine, "max-line", 16<<20, "with -, the longest input line in bytes; a longer one is answered with an error")
	return cmd
}

func readHeader(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	h, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	if len(h) > 0 {
		h[0] = strings.TrimPrefix(h[0], "\ufeff")
	}
	return h, nil
}

func (e *env) predictFile(p *stages.Predictor, in, out string) error {
	header, records, err := readRecords(in)
	if err != nil {
		return usageErr(err)
	}
	rows, err := frame.ReadCSVFile(in, frame.ReadOptions{Schema: p.ReadSchema(header)})
	if err != nil {
		return usageErr(err)
	}
	if rows.NumRows() != len(records) {
		return usageErr(fmt.Errorf("%s: read %d rows as a table but %d as CSV records", in, rows.NumRows(), len(records)))
	}
	pred, err := p.Predict(rows)
	if err != nil {
		return usageErr(fmt.Errorf("%s: %w", in, err))
	}
	// The input's cells are copied as written (0 stays 0, 6.10 stays
	// 6.10); the predictions follow, formatted as in stream mode.
	name := "prediction"
	if slices.Contains(header, name) {
		name = p.File.Target + "_prediction"
	}
	write := func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(append(append(slices.Clip(header), name), p.ProbaColumns()...)); err != nil {
			return err
		}
		for i, rec := range records {
			if err := cw.Write(append(slices.Clip(rec), predictionCells(p, pred, i)...)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	if out == "" {
		w := bufio.NewWriter(e.stdout)
		if err := write(w); err != nil {
			return err
		}
		return w.Flush()
	}
	if err := frame.WriteFileAtomic(out, write); err != nil {
		return usageErr(err)
	}
	fmt.Fprintf(e.stderr, "wrote %d predictions to %s\n", len(records), out)
	return nil
}

// readRecords reads a CSV file's header and records as written.
func readRecords(path string) ([]string, [][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	var records [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return header, records, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		records = append(records, rec)
	}
}

// predictionCells are row i's prediction and class probabilities as
// text, the same in file and stream mode: the label (or the value in its
// shortest form), then each probability rounded to 6 decimals.
func predictionCells(p *stages.Predictor, pred *stages.Prediction, i int) []string {
	cells := []string{pred.Labels[i]}
	for j := range p.ProbaColumns() {
		cells = append(cells, strconv.FormatFloat(round6(pred.Proba.At(i, j)), 'f', -1, 64))
	}
	return cells
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// predictStream answers one line at a time: CSV (first line the header)
// or JSONL (each line an object), one prediction written and flushed per
// input line.
// readLine reads one line of at most max bytes (its newline included).
// A longer line is read to its end and discarded: it comes back as
// tooLong with its length, and memory stays bounded by max.
func readLine(in *bufio.Reader, max int) (line string, tooLong bool, n int, err error) {
	var buf []byte
	for {
		chunk, err := in.ReadSlice('\n')
		n += len(chunk)
		if !tooLong {
			if len(buf)+len(chunk) > max {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return string(buf), tooLong, n, err
	}
}

func (e *env) predictStream(p *stages.Predictor, maxLine int) error {
	in := bufio.NewReaderSize(e.stdin, 1<<16)
	w := bufio.NewWriter(e.stdout)
	var header []string
	jsonl := false
	started := false
	probaCols := p.ProbaColumns()
	lineNo, rowsSeen, failed := 0, 0, 0
	for {
		line, tooLong, size, err := readLine(in, maxLine)
		if tooLong {
			lineNo++
			rowsSeen++
			failed++
			msg := fmt.Sprintf("the line is %d bytes, longer than --max-line %d", size, maxLine)
			fmt.Fprintf(e.stderr, "stdin:%d: %s\n", lineNo, msg)
			if jsonl {
				b, _ := json.Marshal(map[string]any{"line": lineNo, "error": msg})
				fmt.Fprintf(w, "%s\n", b)
			} else if started {
				fmt.Fprintln(w)
			} else {
				return usageErr(fmt.Errorf("stdin:1: header: %s", msg))
			}
			if ferr := w.Flush(); ferr != nil {
				return ferr
			}
			goto next
		}
		if len(line) > 0 {
			lineNo++
			text := strings.TrimRight(line, "\r\n")
			if lineNo == 1 {
				text = strings.TrimPrefix(text, "\ufeff")
			}
			if strings.TrimSpace(text) == "" {
				goto next
			}
			if !started {
				started = true
				jsonl = strings.HasPrefix(strings.TrimSpace(text), "{")
				if !jsonl {
					r := csv.NewReader(strings.NewReader(text))
					if header, err = r.Read(); err != nil {
						return usageErr(fmt.Errorf("stdin:1: header: %v", err))
					}
					fmt.Fprintln(w, strings.Join(append([]string{"prediction"}, probaCols...), ","))
					w.Flush()
					goto next
				}
			}
			rowsSeen++
			if perr := e.predictLine(p, w, header, text, jsonl, lineNo, probaCols); perr != nil {
				failed++
				where, msg := lineError(lineNo, perr)
				fmt.Fprintf(e.stderr, "%s: %s\n", where, msg)
				if jsonl {
					b, _ := json.Marshal(map[string]any{"line": lineNo, "error": msg})
					fmt.Fprintf(w, "%s\n", b)
				} else {
					fmt.Fprintln(w)
				}
			}
			if ferr := w.Flush(); ferr != nil {
				return ferr
			}
		}
	next:
		if err == io.EOF {
			if ferr := w.Flush(); ferr != nil {
				return ferr
			}
			if failed > 0 {
				// Every line was answered; the exit status says some
				// answers are errors.
				return usageErr(fmt.Errorf("%d of %d rows failed", failed, rowsSeen))
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// lineError places a stream line's error at that line of stdin: a parse
// error keeps its column (its own line number counts within the one-row
// table it was read as), any other error names the line alone.
func lineError(lineNo int, err error) (where, msg string) {
	var pe *frame.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("stdin:%d:%d", lineNo, pe.Col), pe.Err.Error()
	}
	return fmt.Sprintf("stdin:%d", lineNo), err.Error()
}

func (e *env) predictLine(p *stages.Predictor, w *bufio.Writer, header []string, text string, jsonl bool, lineNo int, probaCols []string) error {
	var rows *frame.Frame
	var err error
	if jsonl {
		var obj map[string]any
		if err := json.Unmarshal([]byte(text), &obj); err != nil {
			return fmt.Errorf("not a JSON object: %v", err)
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		rows, err = frame.ReadJSONL(strings.NewReader(text), frame.ReadOptions{Name: "stdin", Schema: p.ReadSchema(keys)})
	} else {
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		cw.Write(header)
		cw.Flush()
		b.WriteString(text)
		b.WriteByte('\n')
		rows, err = frame.ReadCSV(&b, frame.ReadOptions{Name: "stdin", Schema: p.ReadSchema(header)})
	}
	if err != nil {
		return err
	}
	pred, err := p.Predict(rows)
	if err != nil {
		return err
	}
	if jsonl {
		doc := map[string]any{"prediction": pred.Labels[0]}
		if p.File.Task == "regression" {
			doc["prediction"] = pred.Values[0]
		}
		if len(probaCols) > 0 {
			proba := map[string]float64{}
			for j, c := range p.File.Classes {
				proba[c] = round6(pred.Proba.At(0, j))
			}
			doc["proba"] = proba
		}
		b, _ := json.Marshal(doc)
		w.Write(b)
		return w.WriteByte('\n')
	}
	cw := csv.NewWriter(w)
	cw.Write(predictionCells(p, pred, 0))
	cw.Flush()
	return cw.Error()
}
