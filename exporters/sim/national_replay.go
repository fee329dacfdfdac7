package sim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// NationalOptions are the national channel's settings that come from
// minesim's flags rather than the scenario.
type NationalOptions struct {
	// Inbox is the exporter's inbox; each mine writes into Inbox/<mine_id>.
	Inbox string
	// Interval, when set, replaces every mine's real-time interval
	// (per-type intervals included).
	Interval time.Duration
	// StaticInterval, when set, replaces every mine's static interval.
	StaticInterval time.Duration
	// UploadDuration, when not negative, replaces every mine's
	// upload duration.
	UploadDuration time.Duration
	// Backfill is how much history is written at the start: files whose
	// data times lie up to Backfill in the past, so that rules that need
	// 10 minutes of data can fire at once.
	Backfill time.Duration
}

// NationalReplay replays one mine's sample files into the inbox with
// every time stamp shifted to the present, at the configured cadence,
// looping over the samples of each type. Files grow in a few writes and
// end with "||", the way FTP uploads land.
type NationalReplay struct {
	mine   *Mine
	clock  *Clock
	cfg    NationalConfig
	dir    string
	logger *slog.Logger

	samples map[string][]NationalSample
	steps   map[string]float64
	// now is the wall clock; data times follow it, never the scenario
	// speed, since the exporter rejects data times in the future.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// NewNationalReplay loads the samples named in the mine's national
// section. It returns nil and no error when the mine has no such section.
func NewNationalReplay(s *Scenario, m *Mine, opts NationalOptions, logger *slog.Logger) (*NationalReplay, error) {
	var cfg NationalConfig
	ok, err := Decode(&m.National, &cfg)
	if err != nil {
		return nil, fmt.Errorf("mine %s: national section: %w", m.ID, err)
	}
	if !ok {
		return nil, nil
	}
	cfg.SetDefaults()
	if opts.Interval > 0 {
		cfg.Interval = opts.Interval
		cfg.Intervals = nil
	}
	if opts.StaticInterval > 0 {
		cfg.StaticInterval = opts.StaticInterval
	}
	if opts.UploadDuration >= 0 {
		cfg.UploadDuration = opts.UploadDuration
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mine %s: national section: %w", m.ID, err)
	}
	samples, err := LoadNationalSamples(s.Path(cfg.Samples))
	if err != nil {
		return nil, fmt.Errorf("mine %s: %w", m.ID, err)
	}
	return &NationalReplay{
		mine:    m,
		clock:   s.Clock,
		cfg:     cfg,
		dir:     filepath.Join(opts.Inbox, m.ID),
		logger:  logger.With("mine_id", m.ID),
		samples: samples,
		steps:   cumulativeSteps(samples["CDSS"], cfg.CumulativeTypes),
		now:     time.Now,
		sleep:   sleepContext,
	}, nil
}

// feedSchedule is the upload schedule of one file type.
type feedSchedule struct {
	fileType string
	interval time.Duration
	samples  []NationalSample
	// next is the data time of the next file; count is how many files of
	// this type were scheduled so far, which picks the sample and the loop.
	next  time.Time
	count int
}

// Run writes the backfill, then the live files until ctx ends.
func (r *NationalReplay) Run(ctx context.Context, backfill time.Duration) error {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the mine's inbox folder: %w", err)
	}
	start := r.now().Truncate(time.Second)
	schedules := r.schedules(start, backfill)

	// History first, oldest first and without upload pauses, so that the
	// exporter sees it before the live files.
	written := 0
	for {
		f := earliest(schedules)
		if !f.next.Before(start) {
			break
		}
		if err := r.writeNext(ctx, f, 0); err != nil {
			return err
		}
		written++
	}
	r.logger.Info("national backfill written", "files", written, "backfill", backfill, "inbox", r.dir)

	for {
		f := earliest(schedules)
		if err := r.sleep(ctx, f.next.Sub(r.now())); err != nil {
			return err
		}
		if err := r.writeNext(ctx, f, r.cfg.UploadDuration); err != nil {
			return err
		}
	}
}

// schedules sets up one schedule per sample type. Static types start at
// the oldest backfill time so that areas, stations and people are known
// before the first snapshot; real-time types start as many intervals
// before start as fit into backfill.
func (r *NationalReplay) schedules(start time.Time, backfill time.Duration) []*feedSchedule {
	var out []*feedSchedule
	for _, typ := range slices.Sorted(maps.Keys(r.samples)) {
		interval := r.cfg.IntervalOf(typ)
		first := start.Add(-time.Duration(int64(backfill/interval)) * interval)
		if slices.Contains(nationalStaticTypes, typ) {
			first = start.Add(-backfill)
		}
		out = append(out, &feedSchedule{fileType: typ, interval: interval,
			samples: r.samples[typ], next: first})
	}
	return out
}

// earliest returns the schedule due first; static types win ties.
func earliest(schedules []*feedSchedule) *feedSchedule {
	best := schedules[0]
	for _, f := range schedules[1:] {
		if f.next.Before(best.next) ||
			(f.next.Equal(best.next) && slices.Contains(nationalStaticTypes, f.fileType) &&
				!slices.Contains(nationalStaticTypes, best.fileType)) {
			best = f
		}
	}
	return best
}

// writeNext writes the schedule's next file, unless the mine's feed is
// silent, and advances the schedule.
func (r *NationalReplay) writeNext(ctx context.Context, f *feedSchedule, upload time.Duration) error {
	at := f.next
	k := f.count
	f.next = f.next.Add(f.interval)
	f.count++

	elapsed := max(r.clock.Elapsed(), 0)
	if r.mine.In(StateFeedSilent, elapsed) {
		r.logger.Debug("national file skipped: feed_silent", "type", f.fileType, "data_time", at)
		return nil
	}
	sample := &f.samples[k%len(f.samples)]
	loop := k / len(f.samples)
	edit := NationalEdit{
		Shift:      at.Sub(sample.Time),
		SOS:        r.mine.In(StateSOS, elapsed),
		FanStopped: r.mine.In(StateFanStopped, elapsed),
	}
	if f.fileType == "CDSS" && loop > 0 {
		edit.Add = map[string]float64{}
		for point, step := range r.steps {
			edit.Add[point] = step * float64(loop)
		}
	}
	name, data, err := sample.Render(edit)
	if err != nil {
		return err
	}
	path := filepath.Join(r.dir, name)
	if err := UploadFile(ctx, path, data, upload); err != nil {
		if errors.Is(err, fs.ErrExist) {
			r.logger.Warn("national file not written: a file of that name is already in the inbox",
				"file", path)
			return nil
		}
		return err
	}
	r.logger.Debug("national file written", "file", path, "sample", sample.Name, "bytes", len(data))
	return nil
}

// uploadChunks is how many writes a file grows in.
const uploadChunks = 4

// UploadFile writes data to a new file in uploadChunks writes spread over
// duration, the way an FTP upload lands: the file appears empty, grows,
// and is complete only with its last bytes. The chunks are cut at byte
// offsets, possibly inside a character, as network reads are. An
// existing file is never overwritten (fs.ErrExist).
func UploadFile(ctx context.Context, path string, data []byte, duration time.Duration) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", path, err)
	}
	pause := duration / uploadChunks
	size := (len(data) + uploadChunks - 1) / uploadChunks
	for off := 0; off < len(data); off += size {
		if off > 0 && pause > 0 {
			if err := sleepContext(ctx, pause); err != nil {
				// Leave the partial file as a broken upload would.
				f.Close()
				return err
			}
		}
		end := min(off+size, len(data))
		if _, err := f.Write(data[off:end]); err != nil {
			f.Close()
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RunNational replays the national files of every scenario mine that has
// a national section, until ctx ends.
func RunNational(ctx context.Context, s *Scenario, opts NationalOptions, logger *slog.Logger) error {
	if opts.Inbox == "" {
		return errors.New("national inbox is missing")
	}
	var replays []*NationalReplay
	for i := range s.Mines {
		r, err := NewNationalReplay(s, &s.Mines[i], opts, logger)
		if err != nil {
			return err
		}
		if r != nil {
			replays = append(replays, r)
		}
	}
	if len(replays) == 0 {
		return errors.New("no scenario mine has a national section: add national: {samples: DIR} to a mine")
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(replays))
	for _, r := range replays {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx, opts.Backfill); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("mine %s: %w", r.mine.ID, err)
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
