package ml

import "fmt"

// AdjustedRandIndex is the Rand index of two clusterings of the same rows
// adjusted for chance, as scikit-learn's adjusted_rand_score: 1 for
// identical partitions (whatever the label values), about 0 for random
// ones, negative for worse than random. Labels are arbitrary integers.
// Two empty clusterings score 1. It panics if the lengths differ.
func AdjustedRandIndex(labelsTrue, labelsPred []int) float64 {
	if len(labelsTrue) != len(labelsPred) {
		panic(fmt.Sprintf("ml: AdjustedRandIndex: %d true labels, %d predicted", len(labelsTrue), len(labelsPred)))
	}
	n := int64(len(labelsTrue))
	type pair struct{ a, b int }
	cont := map[pair]int64{}
	rows := map[int]int64{}
	cols := map[int]int64{}
	for i, a := range labelsTrue {
		b := labelsPred[i]
		cont[pair{a, b}]++
		rows[a]++
		cols[b]++
	}
	// Pair counts as scikit-learn's pair_confusion_matrix (ordered pairs).
	var sumSq, rowSq, colSq int64
	for _, v := range cont {
		sumSq += v * v
	}
	for _, v := range rows {
		rowSq += v * v
	}
	for _, v := range cols {
		colSq += v * v
	}
	tp := sumSq - n
	fp := colSq - sumSq
	fn := rowSq - sumSq
	tn := n*n - fp - fn - sumSq
	if fn == 0 && fp == 0 {
		return 1
	}
	ftp, ffp, ffn, ftn := float64(tp), float64(fp), float64(fn), float64(tn)
	return 2 * (ftp*ftn - ffn*ffp) / ((ftp+ffn)*(ffn+ftn) + (ftp+ffp)*(ffp+ftn))
}
