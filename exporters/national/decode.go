package national

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Encodings reported in File.Encoding.
const (
	EncodingUTF8    = "utf-8"
	EncodingUTF8BOM = "utf-8-bom"
	EncodingGB18030 = "gb18030"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decoderFor maps a configured encoding name to a decoder; nil means
// detect. Every GB label maps to GB18030 explicitly: GB18030 is a superset
// of GBK and GB2312, the IANA index of golang.org/x/text returns a nil
// encoding for "GB2312", and its HZ-GB-2312 decoder would eat "~".
func decoderFor(name string) (encoding.Encoding, error) {
	switch strings.ToLower(strings.ReplaceAll(name, "_", "-")) {
	case "", "auto":
		return nil, nil
	case "utf-8", "utf8":
		return encoding.Nop, nil
	case "gb18030", "gbk", "gb2312", "cp936", "euc-cn", "gb-2312":
		return simplifiedchinese.GB18030, nil
	}
	return nil, fmt.Errorf("encoding %q is not supported: use auto, utf-8, gb18030, gbk or gb2312", name)
}

// decode turns raw file bytes into UTF-8 text before anything is split,
// because a GB18030 character may carry "~" (0x7E) or "|" (0x7C) as its
// second byte. With enc nil the encoding is detected: a UTF-8 BOM or valid
// UTF-8 means UTF-8, anything else GB18030. The result may share raw.
func decode(raw []byte, enc encoding.Encoding) ([]byte, string, error) {
	if bytes.HasPrefix(raw, utf8BOM) {
		return raw[len(utf8BOM):], EncodingUTF8BOM, nil
	}
	if enc == encoding.Nop || (enc == nil && utf8.Valid(raw)) {
		return raw, EncodingUTF8, nil
	}
	text, err := simplifiedchinese.GB18030.NewDecoder().Bytes(raw)
	if err != nil {
		return nil, "", fmt.Errorf("cannot decode as GB18030: %w", err)
	}
	return text, EncodingGB18030, nil
}

// Full-width separators that some vendors' systems write in place of the
// ASCII ones (U+FF1B, U+FF5E, U+FF5C).
var fullWidth = strings.NewReplacer("；", ";", "～", "~", "｜", "|")

// normalise replaces full-width separators. It returns text unchanged,
// without copying, when there are none.
func normalise(text []byte) ([]byte, bool) {
	if !bytes.Contains(text, []byte("；")) && !bytes.Contains(text, []byte("～")) &&
		!bytes.Contains(text, []byte("｜")) {
		return text, false
	}
	return []byte(fullWidth.Replace(string(text))), true
}
