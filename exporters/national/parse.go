// Package national ingests the national networking text files that coal
// mines upload to their provincial platform (personnel positioning and
// safety monitoring): it parses them, derives metrics, serves the current
// values on /metrics and writes every file's samples with its data time
// to VictoriaMetrics.
package national

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/encoding"
)

// File types. RYQY areas, RYJZ stations, RYXX people, RYSS real-time
// snapshot of every card, JZSS station state, CDSS safety-monitoring
// values; RYCS, RYCY, RYXZ and RYQJ are the overtime, over-staffing,
// restricted-area and SOS alarms raised by the mine's own system.
const (
	TypeRYQY = "RYQY"
	TypeRYJZ = "RYJZ"
	TypeRYXX = "RYXX"
	TypeRYSS = "RYSS"
	TypeJZSS = "JZSS"
	TypeCDSS = "CDSS"
	TypeRYCS = "RYCS"
	TypeRYCY = "RYCY"
	TypeRYXZ = "RYXZ"
	TypeRYQJ = "RYQJ"
)

// recordFields is the number of fields of a data record per file type.
// Alarm files carry: card or area code; alarm start; alarm end (empty
// while the alarm lasts); area code; station code.
var recordFields = map[string]int{
	TypeRYQY: 4, TypeRYJZ: 6, TypeRYXX: 9, TypeRYSS: 15, TypeJZSS: 4, TypeCDSS: 7,
	TypeRYCS: 5, TypeRYCY: 5, TypeRYXZ: 5, TypeRYQJ: 5,
}

// typeOrder orders files of one mine with the same data time: reference
// data (areas, stations, people) before the snapshots that refer to it.
var typeOrder = map[string]int{
	TypeRYQY: 0, TypeRYJZ: 1, TypeRYXX: 2, TypeRYSS: 3, TypeJZSS: 4, TypeCDSS: 5,
	TypeRYCS: 6, TypeRYCY: 7, TypeRYXZ: 8, TypeRYQJ: 9,
}

// ryxxHeaderFields is the RYXX header: mine code; mine name; approved
// underground persons; system model; system name; vendor; certificate
// expiry; upload time.
const ryxxHeaderFields = 8

// CST is China Standard Time, the zone of every time in the files. A fixed
// zone, so that no tzdata is needed.
var CST = time.FixedZone("CST", 8*60*60)

// Reasons a file is rejected; each is a mine_source_errors_total reason.
const (
	ReasonInvalidName    = "invalid_name"
	ReasonFolderMismatch = "folder_mismatch"
	ReasonIncomplete     = "incomplete"
	ReasonUndecodable    = "undecodable"
	ReasonInvalidHeader  = "invalid_header"
	ReasonHeaderMismatch = "header_mine_mismatch"
	ReasonFutureTime     = "header_time_in_future"
	ReasonTrailingData   = "trailing_data"
	ReasonDuplicate      = "duplicate"
	ReasonImportRejected = "import_rejected"
	ReasonUnreadable     = "unreadable"
	ReasonTooLarge       = "too_large"
)

// RejectError is a file that cannot be ingested. Reason is a bounded
// snake_case code; Detail says what was wrong and what to do.
type RejectError struct {
	Reason string
	Detail string
}

func (e *RejectError) Error() string { return e.Reason + ": " + e.Detail }

func reject(reason, format string, args ...any) *RejectError {
	return &RejectError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// ErrIncomplete means the file has no closing "||" yet: it may still be
// uploading.
var ErrIncomplete = errors.New(`file has no closing "||" yet`)

// FileName is the parsed name <mine code>_<TYPE>_<yyyyMMddHHmmss>.txt.
type FileName struct {
	Base   string
	MineID string
	Type   string
	// Time is the time in the name, China Standard Time.
	Time time.Time
}

// ParseFileName parses a file's base name. The extension is .txt in any
// case, the mine code has 12 digits and the type is one of the known ones.
func ParseFileName(base string) (FileName, error) {
	fn := FileName{Base: base}
	const ext = ".txt"
	if len(base) < len(ext) || !strings.EqualFold(base[len(base)-len(ext):], ext) {
		return fn, reject(ReasonInvalidName, "file name %q does not end in .txt; expected <mine code>_<TYPE>_<yyyyMMddHHmmss>.txt", base)
	}
	parts := strings.Split(base[:len(base)-len(ext)], "_")
	if len(parts) != 3 {
		return fn, reject(ReasonInvalidName, "file name %q does not match <mine code>_<TYPE>_<yyyyMMddHHmmss>.txt", base)
	}
	if len(parts[0]) != 12 || !allDigits(parts[0]) {
		return fn, reject(ReasonInvalidName, "file name %q: mine code %q is not 12 digits", base, parts[0])
	}
	if _, ok := recordFields[parts[1]]; !ok {
		return fn, reject(ReasonInvalidName, "file name %q: type %q is not one of RYQY, RYJZ, RYXX, RYSS, JZSS, CDSS, RYCS, RYCY, RYXZ, RYQJ", base, parts[1])
	}
	t, err := time.ParseInLocation("20060102150405", parts[2], CST)
	if err != nil || len(parts[2]) != 14 {
		return fn, reject(ReasonInvalidName, "file name %q: time %q is not yyyyMMddHHmmss", base, parts[2])
	}
	fn.MineID, fn.Type, fn.Time = parts[0], parts[1], t
	return fn, nil
}

// File is a parsed national file. Header and record fields are substrings
// of Text: parsing allocates per file, not per field.
type File struct {
	Name FileName
	// Encoding is how the bytes were decoded (utf-8, utf-8-bom, gb18030).
	Encoding string
	// FullWidth is true when full-width separators were normalised.
	FullWidth bool
	Text      string
	Header    []string
	// HeaderTime is the upload time in the header: the file's data time.
	HeaderTime time.Time
	// Records are the data records with the right number of fields.
	Records [][]string
	// DroppedFieldCount counts records with the wrong number of fields.
	DroppedFieldCount int
	// FirstDrop describes the first dropped record, for the log.
	FirstDrop string

	fields []string
}

// Parse decodes and splits a file. enc nil detects the encoding. It
// returns ErrIncomplete when the closing "||" is missing and a
// *RejectError when the file cannot be ingested. Records with the wrong
// field count are dropped and counted; the file goes on.
func Parse(name FileName, raw []byte, enc encoding.Encoding) (*File, error) {
	text, encName, err := decode(raw, enc)
	if err != nil {
		return nil, reject(ReasonUndecodable, "%s: %v", name.Base, err)
	}
	text, fullWidth := normalise(text)
	f := &File{Name: name, Encoding: encName, FullWidth: fullWidth, Text: string(text)}

	body := strings.TrimRight(f.Text, " \t\r\n\x00")
	end := strings.Index(body, "||")
	if end < 0 {
		return nil, ErrIncomplete
	}
	if end+2 != len(body) {
		return nil, reject(ReasonTrailingData, `%s: %d bytes follow the closing "||"; the upload may be corrupt, ask the mine to upload it again`,
			name.Base, len(body)-end-2)
	}
	body = body[:end]

	f.split(body)
	if err := f.checkHeader(); err != nil {
		return nil, err
	}
	return f, nil
}

// split cuts body into records on "~" and fields on ";", dropping records
// whose field count does not match the type. Two counting passes size the
// slices once.
func (f *File) split(body string) {
	f.fields = make([]string, 0, strings.Count(body, ";")+strings.Count(body, "~")+1)
	f.Records = make([][]string, 0, strings.Count(body, "~")+1)
	want := recordFields[f.Name.Type]
	first := true
	for len(body) > 0 {
		var rec string
		i := strings.IndexByte(body, '~')
		if i < 0 {
			rec, body = body, ""
		} else {
			rec, body = body[:i], body[i+1:]
		}
		// Vendors add CR/LF after "~".
		rec = strings.Trim(rec, " \t\r\n")
		if rec == "" {
			continue
		}
		start := len(f.fields)
		for {
			j := strings.IndexByte(rec, ';')
			if j < 0 {
				f.fields = append(f.fields, rec)
				break
			}
			f.fields = append(f.fields, rec[:j])
			rec = rec[j+1:]
		}
		fields := f.fields[start:len(f.fields):len(f.fields)]
		if first {
			f.Header = fields
			first = false
			continue
		}
		if len(fields) != want {
			f.DroppedFieldCount++
			if f.FirstDrop == "" {
				f.FirstDrop = fmt.Sprintf("record %d has %d fields, %s records have %d",
					len(f.Records)+f.DroppedFieldCount, len(fields), f.Name.Type, want)
			}
			f.fields = f.fields[:start]
			continue
		}
		f.Records = append(f.Records, fields)
	}
}

// checkHeader validates the header: mine code first, upload time last, and
// for RYXX the approved persons in field 3.
func (f *File) checkHeader() error {
	h := f.Header
	base := f.Name.Base
	if len(h) < 3 {
		return reject(ReasonInvalidHeader, "%s: header has %d fields, expected at least 3 (mine code;mine name;upload time)", base, len(h))
	}
	if f.Name.Type == TypeRYXX && len(h) != ryxxHeaderFields {
		return reject(ReasonInvalidHeader, "%s: RYXX header has %d fields, expected %d (mine code;mine name;approved underground persons;...;upload time)", base, len(h), ryxxHeaderFields)
	}
	if h[0] != f.Name.MineID {
		return reject(ReasonHeaderMismatch, "%s: header mine code %q differs from the file name's %q", base, h[0], f.Name.MineID)
	}
	t, ok := parseTime(h[len(h)-1])
	if !ok {
		return reject(ReasonInvalidHeader, "%s: header upload time %q is not yyyy-MM-dd HH:mm:ss", base, h[len(h)-1])
	}
	f.HeaderTime = t
	return nil
}

// parseTime parses "yyyy-MM-dd HH:mm:ss" in China Standard Time without
// allocating.
func parseTime(s string) (time.Time, bool) {
	if len(s) != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 ||
		hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, CST), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
