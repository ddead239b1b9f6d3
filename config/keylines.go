package config

// keyLines is where each key of a gateway or agent was written, nested keys
// as dotted paths (tls_config.ca_file), so validation can point at it, and
// which values could not be decoded, so validation does not report them a
// second time. A short list, not a map: an agent has two or three keys, and
// at ten thousand agents a map each would be megabytes at start-up.
type keyLines struct {
	keys []keyLine
}

type keyLine struct {
	name    string
	line    int
	written bool
	bad     bool
}

// newKeyLines has room for n keys, the most an agent or gateway usually has.
func newKeyLines(n int) *keyLines {
	return &keyLines{keys: make([]keyLine, 0, n)}
}

func (k *keyLines) find(key string) *keyLine {
	if k == nil {
		return nil
	}
	for i := range k.keys {
		if k.keys[i].name == key {
			return &k.keys[i]
		}
	}
	return nil
}

// set records where key was written; a key merged in (<<) and then
// written again takes the later line.
func (k *keyLines) set(key string, line int) {
	if e := k.find(key); e != nil {
		e.line, e.written = line, true
		return
	}
	k.keys = append(k.keys, keyLine{name: key, line: line, written: true})
}

func (k *keyLines) markBad(key string) {
	if e := k.find(key); e != nil {
		e.bad = true
		return
	}
	k.keys = append(k.keys, keyLine{name: key, bad: true})
}

// has reports whether key was written.
func (k *keyLines) has(key string) bool {
	e := k.find(key)
	return e != nil && e.written
}

// empty reports whether no key was written at all.
func (k *keyLines) empty() bool {
	for _, e := range k.keys {
		if e.written {
			return false
		}
	}
	return true
}

// at is the line of key, or fallback when the key was not written.
func (k *keyLines) at(key string, fallback int) int {
	if e := k.find(key); e != nil && e.written {
		return e.line
	}
	return fallback
}

// ok reports whether key was decoded without a problem (or not written).
func (k *keyLines) ok(key string) bool {
	e := k.find(key)
	return e == nil || !e.bad
}
