// Package serve scores rows over HTTP with sluice models, speaking
// MLflow's scoring protocol so that existing clients work.
//
// # Overview
//
// A Server serves one or more models by name. POST /invocations (the
// first model) and POST /models/NAME/invocations take a JSON body with
// dataframe_split ({"columns": [...], "data": [[...], ...]}),
// dataframe_records ([{"col": value, ...}, ...]) or instances (a list of
// records, or of rows when there is one input column), or a CSV body
// (Content-Type: text/csv, header first), and answer
// {"predictions": [...]}: class labels or numbers. With ?probabilities=true
// (or "params": {"probabilities": true}) a classifier's answer also has
// "classes" and "probabilities" (one row per input row). GET /ping and
// /health answer 200 once the models are loaded; /version names each
// model, its address, run, stage and SHA-256.
//
// Rows are read by the same code as `sluice predict`:
// stages.Predictor.ReadRows frames a CSV body, RecordRows the records of
// a JSON body (the model's input schema decides each column's type), so
// the predictions are the same, bit for bit. This package reads MLflow's
// envelope around the rows and writes the answer.
//
// # Concurrency
//
// A model's address may be an alias (iris@champion). Every Refresh the
// server resolves each address again; when it names other model bytes,
// the new model is loaded and swapped in atomically. A request holds the
// model it started with, so a swap never fails a request in flight.
//
// # Errors
//
// A malformed body is answered 400 with {"error_code": "BAD_REQUEST",
// "message": ...} naming the JSON position (dataframe_split.data[3]),
// the row (dataframe_records row 1, counted from 0) or the CSV line and
// column (body:2:5) and the column at fault; a body over MaxBody is 413;
// an unknown model 404.
package serve
