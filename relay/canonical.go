package relay

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// canonicalPHP rewrites one JSON value the way PHP's json_encode writes it with its default flags, which is the
// form Treezor signs: no whitespace between tokens, "/" escaped as "\/", every non-ASCII character as a lowercase
// \uXXXX escape (a UTF-16 surrogate pair above U+FFFF), control characters as \b \f \n \r \t or \u00XX, and every
// other ASCII character as itself. It works on the received tokens: keys keep their order and duplicates, numbers
// keep their exact text (PHP's float formatting cannot be re-derived, and Treezor already wrote them), and escapes
// in the input are decoded then written again in PHP's form.
//
// It fails on anything that is not exactly one valid JSON value, on invalid UTF-8 (json_encode refuses it too),
// and beyond maxCanonicalDepth nested containers (json_encode's default depth).
func canonicalPHP(in []byte) ([]byte, error) {
	c := canonicalizer{in: in, out: make([]byte, 0, len(in)+len(in)/4)}
	c.skipSpace()
	if err := c.value(0); err != nil {
		return nil, err
	}
	c.skipSpace()
	if c.pos != len(c.in) {
		return nil, c.errorf("data after the JSON value")
	}
	return c.out, nil
}

const maxCanonicalDepth = 512

type canonicalizer struct {
	in  []byte
	pos int
	out []byte
}

func (c *canonicalizer) errorf(format string, args ...any) error {
	return fmt.Errorf("json at byte %d: %s", c.pos, fmt.Sprintf(format, args...))
}

func (c *canonicalizer) skipSpace() {
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

func (c *canonicalizer) value(depth int) error {
	if c.pos >= len(c.in) {
		return c.errorf("unexpected end")
	}
	switch b := c.in[c.pos]; {
	case b == '{':
		return c.container(depth, '}', true)
	case b == '[':
		return c.container(depth, ']', false)
	case b == '"':
		return c.str()
	case b == 't':
		return c.literal("true")
	case b == 'f':
		return c.literal("false")
	case b == 'n':
		return c.literal("null")
	case b == '-' || (b >= '0' && b <= '9'):
		return c.number()
	default:
		return c.errorf("unexpected character %q", b)
	}
}

// container copies an object (keys) or an array, the opening byte being at c.pos.
func (c *canonicalizer) container(depth int, closing byte, keys bool) error {
	if depth >= maxCanonicalDepth {
		return c.errorf("nested deeper than %d", maxCanonicalDepth)
	}
	c.out = append(c.out, c.in[c.pos])
	c.pos++
	c.skipSpace()
	if c.pos < len(c.in) && c.in[c.pos] == closing {
		c.out = append(c.out, closing)
		c.pos++
		return nil
	}
	for {
		c.skipSpace()
		if keys {
			if c.pos >= len(c.in) || c.in[c.pos] != '"' {
				return c.errorf("object key expected")
			}
			if err := c.str(); err != nil {
				return err
			}
			c.skipSpace()
			if c.pos >= len(c.in) || c.in[c.pos] != ':' {
				return c.errorf("':' expected")
			}
			c.out = append(c.out, ':')
			c.pos++
			c.skipSpace()
		}
		if err := c.value(depth + 1); err != nil {
			return err
		}
		c.skipSpace()
		if c.pos >= len(c.in) {
			return c.errorf("unexpected end")
		}
		switch c.in[c.pos] {
		case ',':
			c.out = append(c.out, ',')
			c.pos++
		case closing:
			c.out = append(c.out, closing)
			c.pos++
			return nil
		default:
			return c.errorf("',' or %q expected", closing)
		}
	}
}

func (c *canonicalizer) literal(word string) error {
	if len(c.in)-c.pos < len(word) || string(c.in[c.pos:c.pos+len(word)]) != word {
		return c.errorf("invalid literal")
	}
	c.out = append(c.out, word...)
	c.pos += len(word)
	return nil
}

// number checks JSON's number grammar and copies the text unchanged.
func (c *canonicalizer) number() error {
	start := c.pos
	digits := func() int {
		n := 0
		for c.pos < len(c.in) && c.in[c.pos] >= '0' && c.in[c.pos] <= '9' {
			c.pos++
			n++
		}
		return n
	}
	if c.in[c.pos] == '-' {
		c.pos++
	}
	if c.pos < len(c.in) && c.in[c.pos] == '0' {
		c.pos++
	} else if digits() == 0 {
		return c.errorf("invalid number")
	}
	if c.pos < len(c.in) && c.in[c.pos] == '.' {
		c.pos++
		if digits() == 0 {
			return c.errorf("invalid number")
		}
	}
	if c.pos < len(c.in) && (c.in[c.pos] == 'e' || c.in[c.pos] == 'E') {
		c.pos++
		if c.pos < len(c.in) && (c.in[c.pos] == '+' || c.in[c.pos] == '-') {
			c.pos++
		}
		if digits() == 0 {
			return c.errorf("invalid number")
		}
	}
	c.out = append(c.out, c.in[start:c.pos]...)
	return nil
}

// str decodes a string token at c.pos and writes it in PHP's form.
func (c *canonicalizer) str() error {
	c.pos++ // opening quote
	c.out = append(c.out, '"')
	for {
		if c.pos >= len(c.in) {
			return c.errorf("unterminated string")
		}
		b := c.in[c.pos]
		switch {
		case b == '"':
			c.pos++
			c.out = append(c.out, '"')
			return nil
		case b == '\\':
			if err := c.escape(); err != nil {
				return err
			}
		case b < 0x20:
			return c.errorf("control character in string")
		case b < utf8.RuneSelf:
			c.pos++
			c.writeUnit(uint16(b))
		default:
			r, size := utf8.DecodeRune(c.in[c.pos:])
			if r == utf8.RuneError && size <= 1 {
				return c.errorf("invalid UTF-8")
			}
			c.pos += size
			if r >= 0x10000 {
				hi, lo := utf16.EncodeRune(r)
				c.writeUnit(uint16(hi))
				c.writeUnit(uint16(lo))
			} else {
				c.writeUnit(uint16(r))
			}
		}
	}
}

// escape decodes one escape sequence (the backslash at c.pos) and writes the UTF-16 unit it stands for. A \u
// escape is one unit: a surrogate pair is two escapes and comes out as two, a lone surrogate as itself.
func (c *canonicalizer) escape() error {
	if c.pos+1 >= len(c.in) {
		return c.errorf("unterminated escape")
	}
	var unit uint16
	switch e := c.in[c.pos+1]; e {
	case '"', '\\', '/':
		unit = uint16(e)
	case 'b':
		unit = '\b'
	case 'f':
		unit = '\f'
	case 'n':
		unit = '\n'
	case 'r':
		unit = '\r'
	case 't':
		unit = '\t'
	case 'u':
		if c.pos+6 > len(c.in) {
			return c.errorf("short \\u escape")
		}
		for _, h := range c.in[c.pos+2 : c.pos+6] {
			v, ok := hexValue(h)
			if !ok {
				return c.errorf("invalid \\u escape")
			}
			unit = unit<<4 | uint16(v)
		}
		c.pos += 6
		c.writeUnit(unit)
		return nil
	default:
		return c.errorf("invalid escape")
	}
	c.pos += 2
	c.writeUnit(unit)
	return nil
}

const lowerHex = "0123456789abcdef"

// writeUnit writes one UTF-16 code unit the way json_encode does.
func (c *canonicalizer) writeUnit(u uint16) {
	switch {
	case u == '"':
		c.out = append(c.out, '\\', '"')
	case u == '\\':
		c.out = append(c.out, '\\', '\\')
	case u == '/':
		c.out = append(c.out, '\\', '/')
	case u == '\b':
		c.out = append(c.out, '\\', 'b')
	case u == '\f':
		c.out = append(c.out, '\\', 'f')
	case u == '\n':
		c.out = append(c.out, '\\', 'n')
	case u == '\r':
		c.out = append(c.out, '\\', 'r')
	case u == '\t':
		c.out = append(c.out, '\\', 't')
	case u >= 0x20 && u < utf8.RuneSelf:
		c.out = append(c.out, byte(u))
	default:
		c.out = append(c.out, '\\', 'u', lowerHex[u>>12], lowerHex[u>>8&0xf], lowerHex[u>>4&0xf], lowerHex[u&0xf])
	}
}

func hexValue(h byte) (byte, bool) {
	switch {
	case h >= '0' && h <= '9':
		return h - '0', true
	case h >= 'a' && h <= 'f':
		return h - 'a' + 10, true
	case h >= 'A' && h <= 'F':
		return h - 'A' + 10, true
	}
	return 0, false
}
