//go:build !purego

package ml

// knnCPUID and knnXgetbv are the CPUID and XGETBV instructions.
func knnCPUID(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func knnXgetbv() (eax, edx uint32)

// knnScanAVX2 is knnScanGo in AVX2 and FMA instructions; see knn_amd64.s.
//
//go:noescape
func knnScanAVX2(q, panels, norms *float64, d, np int, thr, out *float64) (p int, mask uint64)

// knnMinAVX2 is knnMinGo in AVX2 and FMA instructions.
//
//go:noescape
func knnMinAVX2(q, panels, norms *float64, d, np int, minv *float64, mini *int64)

// knnAVX2 reports whether the processor and OS support AVX2 and FMA. It
// is set once at start-up and only read after.
var knnAVX2 = knnDetectAVX2()

func knnDetectAVX2() bool {
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	maxLeaf, _, _, _ := knnCPUID(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, c, _ := knnCPUID(1, 0)
	if c&fma == 0 || c&osxsave == 0 || c&avx == 0 {
		return false
	}
	if xcr0, _ := knnXgetbv(); xcr0&6 != 6 { // OS saves SSE and AVX state
		return false
	}
	_, b, _, _ := knnCPUID(7, 0)
	return b&(1<<5) != 0
}

// knnScan runs the block kernel (see knnScanGo) in AVX2 where available.
func knnScan(q, panels, norms []float64, d, np int, thr *[4]float64, out *[32]float64) (int, uint64) {
	if np == 0 {
		return 0, 0
	}
	if knnAVX2 {
		_ = q[4*d-1]
		_ = panels[np*8*d-1]
		_ = norms[np*8-1]
		return knnScanAVX2(&q[0], &panels[0], &norms[0], d, np, &thr[0], &out[0])
	}
	return knnScanGo(q, panels, norms, d, np, thr, out)
}

// knnMin runs the per-panel minimum kernel (see knnMinGo) in AVX2 where
// available.
func knnMin(q, panels, norms []float64, d, np int, minv []float64, mini []int64) {
	if np == 0 {
		return
	}
	if knnAVX2 {
		_ = q[4*d-1]
		_ = panels[np*8*d-1]
		_ = norms[np*8-1]
		_ = minv[np*4-1]
		_ = mini[np*4-1]
		knnMinAVX2(&q[0], &panels[0], &norms[0], d, np, &minv[0], &mini[0])
		return
	}
	knnMinGo(q, panels, norms, d, np, minv, mini)
}
