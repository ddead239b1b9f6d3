package simulator

// Randomness is derived by hashing (seed, purpose, agent, window, call) instead of drawing from a
// shared generator, so an answer depends only on the seed and the clock and never on which agents
// were asked before, or in what order.

// Purposes keep independent draws apart even when the other inputs are equal.
const (
	purposeWindow uint64 = iota + 1
	purposeCall
	purposeGUID
	purposeQuirk
	purposeLastCallKey
	purposeNoCall
	purposeManual
)

// mix64 is the splitmix64 finaliser: a cheap bijection with good avalanche.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// bits turns a signed number into a hash input. Wrapping is intended: the sign is one more bit to mix.
func bits(x int64) uint64 {
	return uint64(x) //nolint:gosec // reinterpreting the bits, not converting a quantity
}

func hashOf(parts ...uint64) uint64 {
	h := uint64(0x6a09e667f3bcc908)
	for _, p := range parts {
		h = mix64(h ^ p)
	}
	return h
}

// hashString is FNV-1a, enough to turn an agent id into a hash input.
func hashString(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}

// drawer is a splitmix64 stream started from a hash, for a fixed sequence of draws about one thing.
type drawer struct{ state uint64 }

func newDrawer(parts ...uint64) drawer { return drawer{state: hashOf(parts...)} }

func (d *drawer) next() uint64 {
	d.state += 0x9e3779b97f4a7c15
	z := d.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a number in [0, 1).
func (d *drawer) float() float64 { return float64(d.next()>>11) / (1 << 53) }

// intn returns a number in [0, n).
func (d *drawer) intn(n int) int { return int(d.float() * float64(n)) }

// chance is true with probability percent/100.
func (d *drawer) chance(percent int) bool { return d.intn(100) < percent }

type weightedInt struct{ value, weight int }

func (d *drawer) pick(choices []weightedInt) int {
	total := 0
	for _, c := range choices {
		total += c.weight
	}
	n := d.intn(total)
	for _, c := range choices {
		if n < c.weight {
			return c.value
		}
		n -= c.weight
	}
	return choices[len(choices)-1].value
}

// spread draws uniformly from mean*(1-fraction) .. mean*(1+fraction), in milliseconds.
func (d *drawer) spread(meanMillis int64, fraction float64) int64 {
	return int64(float64(meanMillis) * (1 - fraction + 2*fraction*d.float()))
}
