package frame

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unsafe"
)

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// bstr views b as a string without copying. The result must not outlive b
// or be kept after b changes.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// number is the result of scanning a decimal number.
type number struct {
	mant  uint64 // first up to 19 significant digits
	exp   int    // decimal exponent applied to mant
	neg   bool
	isInt bool // no '.', no exponent
	trunc bool // more than 19 significant digits
}

// scanNumber scans a decimal number [+-]digits[.digits][(e|E)[+-]digits]
// starting at b[i]. It returns the index just past it, or -1 when b[i:] does
// not start with a well-formed number.
func scanNumber(b []byte, i int, n *number) int {
	*n = number{isInt: true}
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		n.neg = b[i] == '-'
		i++
	}
	digits, nd := 0, 0
	var m uint64
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		digits++
		if m == 0 && c == 0 {
			continue
		}
		if nd < 19 {
			m = m*10 + uint64(c)
			nd++
		} else {
			n.exp++
			if c != 0 {
				n.trunc = true
			}
		}
	}
	if i < len(b) && b[i] == '.' {
		n.isInt = false
		i++
		for ; i < len(b); i++ {
			c := b[i] - '0'
			if c > 9 {
				break
			}
			digits++
			if m == 0 && c == 0 {
				n.exp--
				continue
			}
			if nd < 19 {
				m = m*10 + uint64(c)
				nd++
				n.exp--
			} else if c != 0 {
				n.trunc = true
			}
		}
	}
	if digits == 0 {
		return -1
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		n.isInt = false
		i++
		eneg := false
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			eneg = b[i] == '-'
			i++
		}
		if i >= len(b) || b[i]-'0' > 9 {
			return -1
		}
		e := 0
		for ; i < len(b); i++ {
			c := b[i] - '0'
			if c > 9 {
				break
			}
			if e < 100000 {
				e = e*10 + int(c)
			}
		}
		if eneg {
			e = -e
		}
		n.exp += e
	}
	n.mant = m
	return i
}

// float converts a scanned number; ok is false when the exact fast path
// does not apply and strconv must decide.
func (n *number) float() (float64, bool) {
	if n.trunc || n.mant>>53 != 0 {
		return 0, false
	}
	f := float64(n.mant)
	switch {
	case n.mant == 0:
	case n.exp == 0:
	case n.exp > 0 && n.exp <= 22:
		f *= pow10[n.exp]
	case n.exp < 0 && n.exp >= -22:
		f /= pow10[-n.exp]
	default:
		return 0, false
	}
	if n.neg {
		f = -f
	}
	return f, true
}

// int converts a scanned integer literal; ok is false when it may not fit
// in an int64 (strconv must decide).
func (n *number) int() (int64, bool) {
	if !n.isInt || n.trunc || n.exp != 0 || n.mant >= 1e18 {
		return 0, false
	}
	if n.neg {
		return -int64(n.mant), true
	}
	return int64(n.mant), true
}

// parseFloatText parses b as a float the way ReadCSV does: decimal syntax as
// strconv.ParseFloat accepts it, and inf/infinity/nan in any case with an
// optional sign; hexadecimal floats and underscores are rejected.
func parseFloatText(b []byte) (float64, bool) {
	var n number
	if end := scanNumber(b, 0, &n); end == len(b) {
		if f, ok := n.float(); ok {
			return f, true
		}
	} else {
		// Only the special names get past here.
		for _, c := range b {
			if c >= '0' && c <= '9' || c == '.' || c == 'x' || c == 'X' || c == '_' {
				return 0, false
			}
		}
	}
	f, err := strconv.ParseFloat(bstr(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true // ±Inf or 0, as strconv rounds
		}
		return 0, false
	}
	return f, true
}

// parseIntText parses b as a decimal int64.
func parseIntText(b []byte) (int64, bool) {
	var n number
	if end := scanNumber(b, 0, &n); end != len(b) || !n.isInt {
		return 0, false
	}
	if v, ok := n.int(); ok {
		return v, true
	}
	v, err := strconv.ParseInt(bstr(b), 10, 64)
	return v, err == nil
}

// parseBoolText parses true or false in any case.
func parseBoolText(b []byte) (bool, bool) {
	switch len(b) {
	case 4:
		if (b[0]|0x20) == 't' && (b[1]|0x20) == 'r' && (b[2]|0x20) == 'u' && (b[3]|0x20) == 'e' {
			return true, true
		}
	case 5:
		if (b[0]|0x20) == 'f' && (b[1]|0x20) == 'a' && (b[2]|0x20) == 'l' && (b[3]|0x20) == 's' && (b[4]|0x20) == 'e' {
			return false, true
		}
	}
	return false, false
}

// parseTimeText parses an RFC 3339 time or a 2006-01-02 date as Unix
// nanoseconds; ok is false for other text and for times that int64
// nanoseconds cannot hold.
func parseTimeText(b []byte) (int64, bool) {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' || b[0]-'0' > 9 {
		return 0, false
	}
	if len(b) == 10 {
		if ns, ok, sure := parseDateFast(b); sure {
			return ns, ok
		}
	}
	var t time.Time
	var err error
	if len(b) == 10 {
		t, err = time.Parse(time.DateOnly, bstr(b))
	} else {
		t, err = time.Parse(time.RFC3339Nano, bstr(b))
	}
	if err != nil {
		return 0, false
	}
	return unixNano(t)
}

// parseDateFast parses a 2006-01-02 date without time.Parse. sure is
// false when it leaves the text to time.Parse: a year outside 1700–2200
// (where int64 nanoseconds may not hold the date) or a non-digit.
func parseDateFast(b []byte) (ns int64, ok, sure bool) {
	if len(b) < 10 {
		return 0, false, false
	}
	y0, y1, y2, y3 := b[0]-'0', b[1]-'0', b[2]-'0', b[3]-'0'
	m0, m1, d0, d1 := b[5]-'0', b[6]-'0', b[8]-'0', b[9]-'0'
	if y0 > 9 || y1 > 9 || y2 > 9 || y3 > 9 || m0 > 9 || m1 > 9 || d0 > 9 || d1 > 9 {
		return 0, false, false
	}
	y := int(y0)*1000 + int(y1)*100 + int(y2)*10 + int(y3)
	m := int(m0)*10 + int(m1)
	day := int(d0)*10 + int(d1)
	if y < 1700 || y > 2200 {
		return 0, false, false
	}
	first := yearStart[y-1700]
	leap := yearStart[y-1700+1]-first == 366
	if m < 1 || m > 12 || day < 1 || day > daysIn(m, leap) {
		return 0, false, true
	}
	days := int(first) + daysBefore[m] + day - 1
	if leap && m > 2 {
		days++
	}
	return int64(days) * 86400e9, true, true
}

// yearStart[i] is the day of 1 January of year 1700+i counted from
// 1970-01-01, for the years parseDateFast reads and the one after.
var yearStart = func() (t [502]int32) {
	for i := range t {
		y := 1700 + i
		py := y - 1
		// Whole years, and the leap days before y less those before 1970.
		t[i] = int32(365*(y-1970) + (py/4 - py/100 + py/400) - 477)
	}
	return t
}()

// daysBefore[m] is the number of days in a common year before month m.
var daysBefore = [13]int{0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}

func daysIn(m int, leap bool) int {
	switch m {
	case 2:
		if leap {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseAs parses b as a value of type t (not String) and returns it as raw
// bits: float64 bits, int64, 0/1 or Unix nanoseconds.
func parseAs(b []byte, t Type) (uint64, bool) {
	switch t {
	case Float:
		f, ok := parseFloatText(b)
		return math.Float64bits(f), ok
	case Int:
		v, ok := parseIntText(b)
		return uint64(v), ok
	case Bool:
		v, ok := parseBoolText(b)
		if v {
			return 1, ok
		}
		return 0, ok
	case Time:
		v, ok := parseTimeText(b)
		return uint64(v), ok
	case String: // the caller keeps text as it is
	}
	return 0, false
}

// scanSimple scans [+-]digits[.digits] with at most 19 digits at b[i]: the
// common case, fast. It returns the digits as an integer m, the number of
// digits after the point (-1 when there is no point) and the index just
// past the number, or end = -1 when the text needs scanNumber (exponent,
// more digits, or no number).
func scanSimple(b []byte, i int) (m uint64, frac int, end int, neg bool) {
	n := len(b)
	if i < n {
		if b[i] == '-' {
			neg = true
			i++
		} else if b[i] == '+' {
			i++
		}
	}
	start := i
	m, i = digitRun(b, i, 0)
	digits := i - start
	frac = -1
	if i < n && b[i] == '.' {
		i++
		fs := i
		m, i = digitRun(b, i, m)
		frac = i - fs
		digits += frac
	}
	if digits == 0 || digits > 19 || i < n && b[i]|0x20 == 'e' {
		return 0, 0, -1, false
	}
	return m, frac, i, neg
}

// pow10u holds the powers of ten that digitRun multiplies by.
var pow10u = [9]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// digitRun reads the decimal digits at b[i:] onto m (m*10 + digit for
// each, wrapping like that loop) and returns m and the index past them.
// It takes eight bytes at a time where it can: their digits are found
// with one carry trick and summed with three multiplications.
func digitRun(b []byte, i int, m uint64) (uint64, int) {
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:]) ^ 0x3030303030303030
		// A byte of x is a digit's value when it is at most 9: adding
		// 0x76 then sets its top bit, or it had it, for any other. A carry
		// out of a byte only reaches later bytes, past the first non-digit.
		nd := ((x + 0x7676767676767676) | x) & 0x8080808080808080
		k := bits.TrailingZeros64(nd) / 8 // leading digits, 0 to 8
		if k == 0 {
			return m, i
		}
		v := x << (64 - 8*uint(k)) // the k digits, most significant first, after zeros
		v = v*10 + v>>8
		v = ((v&0x000000FF000000FF)*(100+1000000<<32) + (v>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
		m = m*pow10u[k] + v
		i += k
		if k < 8 {
			return m, i
		}
	}
	for i < len(b) {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		m = m*10 + uint64(c)
		i++
	}
	return m, i
}
