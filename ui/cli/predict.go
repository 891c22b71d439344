package cli

import (
	"bufio"
	"bytes"
	"encoding/csv"
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
)

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
