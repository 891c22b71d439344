// Package query is the search language of the workbench's lists and of
// `sluice runs --where`.
//
// # Overview
//
// A query is words separated by spaces; every word must match (AND),
// and the word `or` separates alternatives:
//
//	iris accuracy>0.9                 free text and a metric
//	metric.r2 >= 0.5                  spaces around the operator are fine
//	param.model.C=0.1                 a parameter after overrides
//	status:failed or tag:baseline     either
//	pipeline:iris* since:7d -tag:junk glob, age, negation
//
// Free text matches, case-insensitively, anywhere in the text an item
// offers (its number, name, file, status, metrics, tags, note). A bare
// NAME OP NUMBER (accuracy>0.9) is a metric comparison. KEY:VALUE
// compares a field: status, tag, pipeline, sweep, uses, kind, group;
// VALUE may hold * and ? as in a shell glob. since:7d (also h, m, w, or a
// date 2026-01-31) keeps items started within that time. A leading -
// negates a word. Quotes keep spaces in one word: "random forest".
//
// Parse checks the whole query before anything is matched; an *Error
// names the column (1-based, in runes) where it went wrong.
//
// # Subjects
//
// Query.Match takes a Subject: each list adapts its rows to it (a run, a
// pipeline file, a stage type). A field a subject does not have never
// matches, so `metric.accuracy>0.9` on the catalog finds nothing rather
// than failing.
//
// # Concurrency
//
// A Query is immutable after Parse and safe for concurrent use.
package query
