package frame

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestParseDateFast compares the date fast path with time.Parse on
// every calendar text from 1699 to 2201, valid or not (days 00–32 of
// months 00–13).
func TestParseDateFast(t *testing.T) {
	for y := 1699; y <= 2201; y++ {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				s := fmt.Sprintf("%04d-%02d-%02d", y, m, d)
				tm, err := time.Parse(time.DateOnly, s)
				ns, ok, sure := parseDateFast([]byte(s))
				if !sure {
					if y >= 1700 && y <= 2200 {
						t.Fatalf("%s: fast path declined", s)
					}
					continue
				}
				if ok != (err == nil) {
					t.Fatalf("%s: fast path ok %v, time.Parse error %v", s, ok, err)
				}
				if ok && ns != tm.UnixNano() {
					t.Fatalf("%s: %d, want %d", s, ns, tm.UnixNano())
				}
			}
		}
	}
	for _, s := range []string{"2024-0a-01", "20x4-01-01", "2024-01-0 "} {
		if _, ok, sure := parseDateFast([]byte(s)); ok || sure {
			t.Errorf("%s: ok %v sure %v, want the slow path", s, ok, sure)
		}
	}
}

// TestLastQuotedBoundary compares the backward search with a forward
// scan that tracks quotes, on random text of quotes, newlines and
// letters.
func TestLastQuotedBoundary(t *testing.T) {
	naive := func(buf []byte) int {
		inq, last := false, 0
		for i, c := range buf {
			switch {
			case c == '"':
				inq = !inq
			case c == '\n' && !inq:
				last = i + 1
			}
		}
		return last
	}
	seed := uint64(1)
	for trial := 0; trial < 5000; trial++ {
		n := trial % 60
		buf := make([]byte, n)
		for i := range buf {
			seed = seed*6364136223846793005 + 1442695040888963407
			buf[i] = "ab,\"\n"[seed>>61%5]
		}
		if got, want := lastQuotedBoundary(buf), naive(buf); got != want {
			t.Fatalf("%q: got %d, want %d", buf, got, want)
		}
	}
}

// TestDigitRun checks digitRun against the digit-at-a-time loop it
// replaces, on runs of every length at every offset, with what follows
// them, and on overflowing runs.
func TestDigitRun(t *testing.T) {
	loop := func(b []byte, i int, m uint64) (uint64, int) {
		for i < len(b) && b[i]-'0' <= 9 {
			m = m*10 + uint64(b[i]-'0')
			i++
		}
		return m, i
	}
	rng := rand.New(rand.NewPCG(3, 9))
	tails := []string{"", ",", ".", "\n", "/", ":", "a", "\x00", "\xff", "e5"}
	for trial := 0; trial < 20000; trial++ {
		var b []byte
		for range rng.IntN(4) {
			b = append(b, "x,"[rng.IntN(2)])
		}
		i := len(b)
		for range rng.IntN(30) {
			b = append(b, byte('0'+rng.IntN(10)))
		}
		b = append(b, tails[rng.IntN(len(tails))]...)
		for range rng.IntN(10) {
			b = append(b, byte(rng.IntN(256)))
		}
		m0 := rng.Uint64() >> rng.IntN(64)
		wm, wi := loop(b, i, m0)
		if gm, gi := digitRun(b, i, m0); gm != wm || gi != wi {
			t.Fatalf("%q from %d onto %d: got %d, %d; want %d, %d", b, i, m0, gm, gi, wm, wi)
		}
	}
}

// TestQuoteAt checks quoteAt against bytes.IndexByte at every offset.
func TestQuoteAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 9))
	for trial := 0; trial < 2000; trial++ {
		b := make([]byte, rng.IntN(80))
		for i := range b {
			b[i] = "ab\"\n,\x00\xff\xa2"[rng.IntN(8)]
			if rng.IntN(4) != 0 {
				b[i] = 'x'
			}
		}
		for i := 0; i <= len(b); i++ {
			want := bytes.IndexByte(b[i:], '"')
			if want >= 0 {
				want += i
			}
			if got := quoteAt(b, i); got != want {
				t.Fatalf("%q from %d: got %d, want %d", b, i, got, want)
			}
		}
	}
}
