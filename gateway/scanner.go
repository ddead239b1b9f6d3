package gateway

import "unicode/utf8"

// fastMaxDepth is as deep as the fast path goes; a real answer nests four
// levels at most.
const fastMaxDepth = 8

// scanner walks one JSON text for the fast decoder, checking JSON's grammar
// as it goes. Every method returns false on anything unexpected, leaving
// the decision (and the wording of any error) to the general decoder.
type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// space skips JSON white space (not Unicode white space).
func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) atEnd() bool {
	s.space()
	return s.i == len(s.b)
}

// literal consumes word if it comes next.
func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// object walks an object, calling member for each key with the scanner at
// the start of the value; member must consume the value.
func (s *scanner) object(member func(key []byte) bool) bool {
	if s.peek() != '{' {
		return false
	}
	empty, ok := s.open('}')
	if !ok || empty {
		return ok
	}
	for {
		s.space()
		key, escaped, ok := s.str()
		if !ok || escaped {
			return false
		}
		s.space()
		if s.peek() != ':' {
			return false
		}
		s.i++
		s.space()
		if !member(key) {
			return false
		}
		if more, ok := s.next('}'); !more {
			return ok
		}
	}
}

// array walks an array, skipping its elements.
func (s *scanner) array() bool {
	empty, ok := s.open(']')
	if !ok || empty {
		return ok
	}
	for {
		s.space()
		if !s.skip() {
			return false
		}
		if more, ok := s.next(']'); !more {
			return ok
		}
	}
}

// open enters the object or array at the scanner, reporting whether it
// is empty (and then already left).
func (s *scanner) open(end byte) (empty, ok bool) {
	if s.depth++; s.depth > fastMaxDepth {
		return false, false
	}
	s.i++
	s.space()
	if s.peek() == end {
		s.i++
		s.depth--
		return true, true
	}
	return false, true
}

// next moves past the comma before another member or element (more), or
// past the end of the object or array (ok without more).
func (s *scanner) next(end byte) (more, ok bool) {
	s.space()
	switch s.peek() {
	case ',':
		s.i++
		return true, true
	case end:
		s.i++
		s.depth--
		return false, true
	default:
		return false, false
	}
}

// skip consumes one value of any kind, checking its syntax.
func (s *scanner) skip() bool {
	switch c := s.peek(); {
	case c == '{':
		return s.object(func([]byte) bool { return s.skip() })
	case c == '[':
		return s.array()
	case c == '"':
		_, _, ok := s.str()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || isDigit(c):
		_, ok := s.number()
		return ok
	default:
		return false
	}
}

// str consumes a string and returns its raw content and whether it has
// escapes, checking the escapes and the absence of control characters.
func (s *scanner) str() (content []byte, escaped, ok bool) {
	if s.peek() != '"' {
		return nil, false, false
	}
	start := s.i + 1
	for i := start; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], escaped, true
		case c == '\\':
			escaped = true
			i++
			if i >= len(s.b) {
				return nil, false, false
			}
			switch s.b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s.b) || !isHex(s.b[i+1]) || !isHex(s.b[i+2]) || !isHex(s.b[i+3]) || !isHex(s.b[i+4]) {
					return nil, false, false
				}
				i += 4
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

// plainString is a string value whose decoded form is its raw content: no
// escapes and valid UTF-8 (encoding/json would replace invalid bytes).
func (s *scanner) plainString() ([]byte, bool) {
	content, escaped, ok := s.str()
	if !ok || escaped || !utf8.Valid(content) {
		return nil, false
	}
	return content, true
}

// number consumes a number in JSON's grammar and returns it.
func (s *scanner) number() ([]byte, bool) {
	start, i := s.i, s.i
	if i < len(s.b) && s.b[i] == '-' {
		i++
	}
	switch {
	case i < len(s.b) && s.b[i] == '0':
		i++
	case i < len(s.b) && s.b[i] >= '1' && s.b[i] <= '9':
		for i < len(s.b) && isDigit(s.b[i]) {
			i++
		}
	default:
		return nil, false
	}
	if i < len(s.b) && s.b[i] == '.' {
		i++
		if i >= len(s.b) || !isDigit(s.b[i]) {
			return nil, false
		}
		for i < len(s.b) && isDigit(s.b[i]) {
			i++
		}
	}
	if i < len(s.b) && (s.b[i] == 'e' || s.b[i] == 'E') {
		i++
		if i < len(s.b) && (s.b[i] == '+' || s.b[i] == '-') {
			i++
		}
		if i >= len(s.b) || !isDigit(s.b[i]) {
			return nil, false
		}
		for i < len(s.b) && isDigit(s.b[i]) {
			i++
		}
	}
	s.i = i
	return s.b[start:i], true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
