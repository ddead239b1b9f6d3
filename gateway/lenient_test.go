package gateway

import (
	"math"
	"testing"
)

// TestNumberKeepsValues checks the packed Number: every int64 but the
// smallest comes back as it went in, the zero Number is unknown, and so is
// the one value it cannot hold, also when the gateway sends it.
func TestNumberKeepsValues(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 15, 1476838963000, math.MaxInt64, math.MinInt64 + 1} {
		n := NumberOf(v)
		if got := n.Value(); !n.Valid() || got != v {
			t.Errorf("NumberOf(%d) = %d (valid %v)", v, got, n.Valid())
		}
	}
	for name, n := range map[string]Number{
		"zero Number":         {},
		"smallest int64":      NumberOf(math.MinInt64),
		"decoded from JSON":   numberFromText([]byte("-9223372036854775808")),
		"decoded from string": decodedNumber(t, `"-9223372036854775808"`),
	} {
		if n.Valid() || n.Value() != 0 || n.String() != "unknown" {
			t.Errorf("%s: valid %v, value %d, %q; want unknown", name, n.Valid(), n.Value(), n)
		}
	}
}

func decodedNumber(t *testing.T, raw string) Number {
	t.Helper()
	var n Number
	if err := n.UnmarshalJSON([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	return n
}
