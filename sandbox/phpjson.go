package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// phpJSON encodes v the way PHP's json_encode does with its default flags, the form Treezor writes and signs:
// compact, "/" escaped as "\/", every non-ASCII character as a lowercase \uXXXX escape (a surrogate pair above
// U+FFFF), and <, > and & as themselves. Field order is the struct's, so payloads are built from structs.
func phpJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return phpEscape(bytes.TrimRight(buf.Bytes(), "\n"))
}

// phpEscape rewrites the strings of compact JSON from encoding/json in PHP's form. Escapes already present are
// kept (json.Encoder writes control characters and U+2028/U+2029 escaped, as PHP does).
func phpEscape(in []byte) ([]byte, error) {
	out := make([]byte, 0, len(in)+len(in)/8)
	inString := false
	for i := 0; i < len(in); {
		c := in[i]
		switch {
		case !inString:
			if c == '"' {
				inString = true
			}
			out = append(out, c)
			i++
		case c == '\\':
			if i+1 >= len(in) {
				return nil, fmt.Errorf("json: dangling escape")
			}
			out = append(out, c, in[i+1])
			i += 2
		case c == '"':
			inString = false
			out = append(out, c)
			i++
		case c == '/':
			out = append(out, '\\', '/')
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(in[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, fmt.Errorf("json: invalid UTF-8")
			}
			if r > 0xFFFF {
				hi, lo := utf16.EncodeRune(r)
				out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
			i += size
		}
	}
	return out, nil
}
