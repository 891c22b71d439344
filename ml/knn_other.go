//go:build !amd64 || purego

package ml

// knnScan runs the block kernel; see knnScanGo.
func knnScan(q, panels, norms []float64, d, np int, thr *[4]float64, out *[32]float64) (int, uint64) {
	return knnScanGo(q, panels, norms, d, np, thr, out)
}

// knnMin runs the per-panel minimum kernel; see knnMinGo.
func knnMin(q, panels, norms []float64, d, np int, minv []float64, mini []int64) {
	knnMinGo(q, panels, norms, d, np, minv, mini)
}
