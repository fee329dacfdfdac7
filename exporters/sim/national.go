package sim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// National file types that describe the mine's set-up (areas, stations,
// people). The replay writes them at the start and then every
// StaticInterval; every other type is real-time and follows Interval.
var nationalStaticTypes = []string{"RYQY", "RYJZ", "RYXX"}

// NationalConfig is the national section of a scenario mine:
//
//	national:
//	  samples: samples/national/320382000101
//	  interval: 5m
type NationalConfig struct {
	// Samples is the folder of the mine's sample files, named
	// <mine code>_<TYPE>_<yyyyMMddHHmmss>.txt, relative to the scenario
	// file. Required.
	Samples string `yaml:"samples"`
	// Interval is the period of the real-time files (RYSS, JZSS, CDSS and
	// the alarm files). Default 5m.
	Interval time.Duration `yaml:"interval"`
	// Intervals overrides Interval for single file types, for example
	// {CDSS: 1m}.
	Intervals map[string]time.Duration `yaml:"intervals"`
	// StaticInterval is the period of RYQY, RYJZ and RYXX after the first
	// upload at the start. Default 1h.
	StaticInterval time.Duration `yaml:"static_interval"`
	// UploadDuration is how long one live file takes to grow from empty to
	// its closing "||", as an FTP upload does. Default 1s.
	UploadDuration time.Duration `yaml:"upload_duration"`
	// CumulativeTypes are CDSS sensor types whose values are counters
	// (3001 cumulative output in tonnes). Each loop over the samples adds
	// the samples' own rise, so the counter keeps rising. A point's type
	// is the 4 digits before its 3-digit sequence number, as in
	// 32038200020201LJ3001001. Default [3001].
	CumulativeTypes []string `yaml:"cumulative_types"`
}

// SetDefaults fills unset fields with their documented defaults.
func (c *NationalConfig) SetDefaults() {
	if c.Interval == 0 {
		c.Interval = 5 * time.Minute
	}
	if c.StaticInterval == 0 {
		c.StaticInterval = time.Hour
	}
	if c.UploadDuration == 0 {
		c.UploadDuration = time.Second
	}
	if c.CumulativeTypes == nil {
		c.CumulativeTypes = []string{"3001"}
	}
}

// Validate reports invalid fields.
func (c *NationalConfig) Validate() error {
	var errs []error
	if c.Samples == "" {
		errs = append(errs, errors.New("samples is missing: give the folder of the mine's sample files"))
	}
	if c.Interval < time.Second {
		errs = append(errs, fmt.Errorf("interval %s must be at least 1s", c.Interval))
	}
	for typ, d := range c.Intervals {
		if d < time.Second {
			errs = append(errs, fmt.Errorf("intervals.%s %s must be at least 1s", typ, d))
		}
	}
	if c.StaticInterval < time.Second {
		errs = append(errs, fmt.Errorf("static_interval %s must be at least 1s", c.StaticInterval))
	}
	if c.UploadDuration < 0 {
		errs = append(errs, fmt.Errorf("upload_duration %s must not be negative", c.UploadDuration))
	}
	for _, t := range c.CumulativeTypes {
		if len(t) != 4 {
			errs = append(errs, fmt.Errorf("cumulative_types: %q must be a 4-digit sensor type", t))
		}
	}
	return errors.Join(errs...)
}

// IntervalOf returns the upload period of a file type.
func (c *NationalConfig) IntervalOf(fileType string) time.Duration {
	if slices.Contains(nationalStaticTypes, fileType) {
		return c.StaticInterval
	}
	if d, ok := c.Intervals[fileType]; ok {
		return d
	}
	return c.Interval
}

// chinaStandardTime is the zone of every time in national files (UTC+8,
// no daylight saving), fixed so that no tz database is needed.
var chinaStandardTime = time.FixedZone("CST", 8*3600)

const (
	nationalTimeLayout     = "2006-01-02 15:04:05"
	nationalFileTimeLayout = "20060102150405"
)

var (
	nationalNamePattern = regexp.MustCompile(`^(\d{12,})_([A-Za-z]{4})_(\d{14})\.(txt|TXT)$`)
	// nationalTimePattern matches every time stamp in a file: header
	// upload times, record times and the times inside RYSS tracks. Dates
	// without a time (birth month, certificate expiry) do not match and
	// keep their value.
	nationalTimePattern = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`)
)

// NationalSample is one sample file, decoded to UTF-8 and kept with what
// is needed to write it back in its own encoding.
type NationalSample struct {
	Name     string
	MineCode string
	Type     string
	// Time is the time stamp in the file name.
	Time time.Time
	// Text is the content in UTF-8 without a byte order mark.
	Text string

	ext     string
	bom     bool
	gb18030 bool
}

// LoadNationalSamples reads every sample file in dir and returns them by
// file type, each list in order of time. A name that does not follow the
// national pattern is an error, since a misnamed sample would silently
// never be replayed.
func LoadNationalSamples(dir string) (map[string][]NationalSample, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read national samples: %w", err)
	}
	byType := map[string][]NationalSample{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		s, err := readNationalSample(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		byType[s.Type] = append(byType[s.Type], s)
	}
	if len(byType) == 0 {
		return nil, fmt.Errorf("no national sample files in %s", dir)
	}
	for _, list := range byType {
		sort.Slice(list, func(i, j int) bool { return list[i].Time.Before(list[j].Time) })
	}
	return byType, nil
}

func readNationalSample(path string) (NationalSample, error) {
	name := filepath.Base(path)
	m := nationalNamePattern.FindStringSubmatch(name)
	if m == nil {
		return NationalSample{}, fmt.Errorf("sample %s: name must be <mine code>_<TYPE>_<yyyyMMddHHmmss>.txt", path)
	}
	t, err := time.ParseInLocation(nationalFileTimeLayout, m[3], chinaStandardTime)
	if err != nil {
		return NationalSample{}, fmt.Errorf("sample %s: invalid time %q in the name: %w", path, m[3], err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return NationalSample{}, fmt.Errorf("cannot read sample: %w", err)
	}
	s := NationalSample{Name: name, MineCode: m[1], Type: strings.ToUpper(m[2]), Time: t, ext: m[4]}
	utf8BOM := []byte{0xEF, 0xBB, 0xBF}
	switch {
	case bytes.HasPrefix(raw, utf8BOM):
		s.bom = true
		raw = raw[len(utf8BOM):]
	case !utf8.Valid(raw):
		// Older mine systems write GB18030 (or its GBK and GB2312 subsets).
		decoded, err := simplifiedchinese.GB18030.NewDecoder().Bytes(raw)
		if err != nil {
			return NationalSample{}, fmt.Errorf("sample %s is neither UTF-8 nor GB18030: %w", path, err)
		}
		s.gb18030 = true
		raw = decoded
	}
	s.Text = string(raw)
	if !strings.HasSuffix(strings.TrimRight(s.Text, "\r\n"), "||") {
		return NationalSample{}, fmt.Errorf("sample %s does not end with ||: a sample must be a complete file", path)
	}
	return s, nil
}

// NationalEdit changes a sample's text before it is written, for the
// cumulative counters and the scenario states.
type NationalEdit struct {
	// Shift moves every time stamp.
	Shift time.Duration
	// Add is added to the value of CDSS points, by point code.
	Add map[string]float64
	// SOS marks the first card underground in an RYSS file as calling
	// for help (状态 求救).
	SOS bool
	// FanStopped sets CDSS main fan points (sensor type 1010) to 0.
	FanStopped bool
}

// Render returns the file name and content of the sample edited by e, in
// the sample's own encoding, byte order mark and line endings.
func (s *NationalSample) Render(e NationalEdit) (string, []byte, error) {
	text := nationalTimePattern.ReplaceAllStringFunc(s.Text, func(v string) string {
		t, err := time.ParseInLocation(nationalTimeLayout, v, chinaStandardTime)
		if err != nil {
			// Not a valid time (for example month 13): keep it as it is.
			return v
		}
		return t.Add(e.Shift).Format(nationalTimeLayout)
	})
	switch s.Type {
	case "CDSS":
		text = editNationalRecords(text, func(fields []string) {
			if len(fields) < 4 {
				return
			}
			point := strings.TrimSpace(fields[0])
			if add, ok := e.Add[point]; ok && add != 0 {
				fields[3] = addToDecimal(fields[3], add)
			}
			if e.FanStopped && cdssSensorType(point) == "1010" {
				fields[3] = "0"
			}
		})
	case "RYSS":
		if e.SOS {
			done := false
			text = editNationalRecords(text, func(fields []string) {
				// fields: card; name; flag (1 underground); ...; state (index 11).
				if done || len(fields) < 12 || strings.TrimSpace(fields[2]) != "1" {
					return
				}
				fields[11] = "求救"
				done = true
			})
		}
	}

	name := fmt.Sprintf("%s_%s_%s.%s", s.MineCode, s.Type,
		s.Time.Add(e.Shift).In(chinaStandardTime).Format(nationalFileTimeLayout), s.ext)
	data := []byte(text)
	if s.gb18030 {
		encoded, err := simplifiedchinese.GB18030.NewEncoder().Bytes(data)
		if err != nil {
			return "", nil, fmt.Errorf("cannot encode %s back to GB18030: %w", s.Name, err)
		}
		data = encoded
	}
	if s.bom {
		data = append([]byte{0xEF, 0xBB, 0xBF}, data...)
	}
	return name, data, nil
}

// editNationalRecords calls edit with the fields of every record after
// the header and joins them back; separators, CR/LF after "~" and the
// closing "||" stay as they were.
func editNationalRecords(text string, edit func(fields []string)) string {
	records := strings.Split(text, "~")
	for i := 1; i < len(records); i++ {
		body := strings.TrimLeft(records[i], "\r\n")
		lead := records[i][:len(records[i])-len(body)]
		if strings.HasPrefix(body, "||") {
			continue
		}
		fields := strings.Split(body, ";")
		edit(fields)
		records[i] = lead + strings.Join(fields, ";")
	}
	return strings.Join(records, "~")
}

// cdssSensorType returns the 4-digit sensor type of a CDSS point code:
// the digits before its 3-digit sequence number.
func cdssSensorType(point string) string {
	if len(point) < 7 {
		return ""
	}
	return point[len(point)-7 : len(point)-3]
}

// addToDecimal adds add to a decimal field and keeps its number of
// decimals; a field that is not a number stays as it is.
func addToDecimal(field string, add float64) string {
	v, err := strconv.ParseFloat(strings.TrimSpace(field), 64)
	if err != nil {
		return field
	}
	decimals := 0
	if i := strings.IndexByte(field, '.'); i >= 0 {
		decimals = len(strings.TrimSpace(field[i+1:]))
	}
	return strconv.FormatFloat(v+add, 'f', decimals, 64)
}

// cumulativeSteps returns, per cumulative CDSS point, how much one loop
// over the samples adds: the rise from the first to the last sample plus
// one average step, so that the first sample of the next loop continues
// the series. A single sample gives no rise.
func cumulativeSteps(samples []NationalSample, types []string) map[string]float64 {
	if len(samples) < 2 {
		return nil
	}
	first := map[string]float64{}
	last := map[string]float64{}
	for i := range samples {
		editNationalRecords(samples[i].Text, func(fields []string) {
			if len(fields) < 4 {
				return
			}
			point := strings.TrimSpace(fields[0])
			if !slices.Contains(types, cdssSensorType(point)) {
				return
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(fields[3]), 64)
			if err != nil {
				return
			}
			if _, ok := first[point]; !ok {
				first[point] = v
			}
			last[point] = v
		})
	}
	n := float64(len(samples))
	steps := map[string]float64{}
	for point, l := range last {
		rise := l - first[point]
		if rise > 0 {
			steps[point] = rise * n / (n - 1)
		}
	}
	return steps
}
