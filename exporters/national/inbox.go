package national

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/text/encoding"

	"github.com/minewatch/minewatch/exporters/health"
	"github.com/minewatch/minewatch/exporters/registry"
	"github.com/minewatch/minewatch/exporters/vmimport"
)

// sourceName is the source label of the health metrics.
const sourceName = "national"

// File outcomes in mine_national_files_total.
const (
	OutcomeDone     = "done"
	OutcomeRejected = "rejected"
)

// Modes in mine_national_card_positions_total.
const (
	PositionTunnel  = "tunnel"
	PositionStation = "station"
)

// Flags in mine_national_flagged_files_total.
const (
	FlagUnregisteredMine = "unregistered_mine"
	FlagFutureTime       = "header_time_in_future"
)

// Deps are what a Source needs from the exporter.
type Deps struct {
	Registry *registry.Holder
	Health   *health.Health
	Metrics  prometheus.Registerer
	Logger   *slog.Logger
	Now      func() time.Time
	// VM writes samples with their data time; nil serves /metrics only.
	VM *vmimport.Client
}

// Source watches the inbox and ingests every file exactly once.
type Source struct {
	cfg      Config
	deps     Deps
	enc      encoding.Encoding
	state    *State
	counters *counters
	log      *slog.Logger

	journal *journal
	// waiting holds incomplete files already logged, so each is logged once.
	waiting map[string]bool
	backoff vmimport.Backoff
}

// New builds the source and registers its metrics. It touches no files;
// Run does.
func New(cfg Config, deps Deps) (*Source, error) {
	enc, err := decoderFor(cfg.Encoding)
	if err != nil {
		return nil, err
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Registry == nil {
		deps.Registry = registry.NewHolder(nil)
	}
	s := &Source{cfg: cfg, deps: deps, enc: enc, state: NewState(deps.Registry),
		log: deps.Logger.With("source", sourceName), waiting: map[string]bool{},
		backoff: vmimport.Backoff{Min: cfg.RetryMin, Max: cfg.RetryMax}}
	s.state.log = s.log
	s.counters, err = newCounters(deps.Metrics)
	if err != nil {
		return nil, fmt.Errorf("register national counters: %w", err)
	}
	if err := deps.Metrics.Register(s.state); err != nil {
		return nil, fmt.Errorf("register national collector: %w", err)
	}
	return s, nil
}

// Run watches the inbox until ctx ends. File system notifications start a
// pass at once; a full rescan every rescan_interval catches what they
// miss, and a failed write to VictoriaMetrics is retried with backoff.
func (s *Source) Run(ctx context.Context) error {
	if err := s.open(); err != nil {
		return err
	}

	wake := make(chan struct{}, 1)
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		s.log.Warn("file system notifications unavailable, relying on rescans",
			"inbox", s.cfg.Inbox, "rescan_interval", s.cfg.RescanInterval, "err", err)
	} else {
		defer watcher.Close()
		s.watchFolders(watcher)
		go s.forwardEvents(ctx, watcher, wake)
	}
	s.log.Info("national inbox watcher started", "inbox", s.cfg.Inbox, "victoriametrics", s.deps.VM != nil)

	rescan := time.NewTicker(s.cfg.RescanInterval)
	defer rescan.Stop()
	for {
		retry := s.pass(ctx)
		if watcher != nil {
			s.watchFolders(watcher)
		}
		if !s.wait(ctx, wake, rescan.C, retry) {
			s.log.Info("national inbox watcher stopped", "inbox", s.cfg.Inbox)
			return nil
		}
	}
}

// open creates the folders, loads the journal and the mine plans, and
// restores the current values from done/.
func (s *Source) open() error {
	for _, dir := range []string{s.cfg.Inbox, s.cfg.doneDir(), s.cfg.rejectedDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("cannot create folder %s: %w", dir, err)
		}
	}
	j, err := openJournal(s.cfg.stateDir(), s.cfg.Inbox)
	if err != nil {
		return err
	}
	s.journal = j
	s.loadPlans()
	s.restore()
	return nil
}

// loadPlans loads the mine plans of plans_dir into the state. A plan that
// cannot be used is logged and counted, and its mine's cards stay at their
// stations. Ingest goes on either way.
func (s *Source) loadPlans() {
	if s.cfg.PlansDir == "" {
		return
	}
	plans, skipped, errs, err := loadPlans(s.cfg.PlansDir)
	if err != nil {
		s.log.Error("mine plans not loaded", "plans_dir", s.cfg.PlansDir, "err", err)
		return
	}
	for _, name := range skipped {
		s.log.Warn("file in plans_dir ignored: its name is not <12-digit mine code>.geojson",
			"plans_dir", s.cfg.PlansDir, "file", name)
	}
	for _, e := range errs {
		s.log.Error("mine plan not used, cards of this mine stay at their stations",
			"mine_id", e.mineID, "file", e.file, "reason", e.reason, "err", e.err)
		s.deps.Health.Error(e.mineID, sourceName, "plan", e.reason)
	}
	for _, id := range sortedKeys(plans) {
		s.log.Info("mine plan loaded", "mine_id", id, "file", plans[id].file,
			"tunnels", len(plans[id].tunnels))
	}
	s.state.setPlans(plans, s.cfg.PlanToleranceMeters)
}

// wait blocks until a notification, a rescan tick or the retry time; it
// returns false when ctx ended.
func (s *Source) wait(ctx context.Context, wake <-chan struct{}, rescan <-chan time.Time, retry time.Duration) bool {
	var retryC <-chan time.Time
	if retry > 0 {
		timer := time.NewTimer(retry)
		defer timer.Stop()
		retryC = timer.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-wake:
		// Let a burst of events from one upload settle.
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	case <-rescan:
	case <-retryC:
	}
	return true
}

// watchFolders adds the inbox and every mine folder to the watcher;
// adding a watched folder again is harmless.
func (s *Source) watchFolders(w *fsnotify.Watcher) {
	if err := w.Add(s.cfg.Inbox); err != nil {
		s.log.Warn("cannot watch inbox", "inbox", s.cfg.Inbox, "err", err)
	}
	for _, dir := range s.mineFolders() {
		if err := w.Add(filepath.Join(s.cfg.Inbox, dir)); err != nil {
			s.log.Warn("cannot watch mine folder", "mine_id", dir, "err", err)
		}
	}
}

func (s *Source) forwardEvents(ctx context.Context, w *fsnotify.Watcher, wake chan<- struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Op&fsnotify.Create != 0 {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					_ = w.Add(ev.Name)
				}
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			s.log.Warn("file system notification error, the next rescan covers it", "inbox", s.cfg.Inbox, "err", err)
		}
	}
}

// mineFolders lists the inbox's sub-folders except the done, rejected and
// state folders and hidden ones.
func (s *Source) mineFolders() []string {
	entries, err := os.ReadDir(s.cfg.Inbox)
	if err != nil {
		s.log.Error("cannot list inbox", "inbox", s.cfg.Inbox, "err", err)
		return nil
	}
	skip := map[string]bool{}
	for _, dir := range []string{s.cfg.doneDir(), s.cfg.rejectedDir(), s.cfg.stateDir()} {
		skip[filepath.Clean(dir)] = true
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || skip[filepath.Join(s.cfg.Inbox, e.Name())] {
			continue
		}
		out = append(out, e.Name())
	}
	return out
}

// pending is a file waiting in a mine folder.
type pending struct {
	folder string
	path   string
	name   FileName
	err    error
}

// pass handles every file in the inbox, each mine's files in data-time
// order. It returns the wait before a retry when VictoriaMetrics failed,
// else 0.
func (s *Source) pass(ctx context.Context) time.Duration {
	for _, folder := range s.mineFolders() {
		files := s.listFolder(folder)
		for _, p := range files {
			if ctx.Err() != nil {
				return 0
			}
			if err := s.handle(ctx, p); err != nil {
				wait := s.backoff.Next()
				s.log.Warn("write to VictoriaMetrics failed, file stays in the inbox",
					"mine_id", p.folder, "file", p.name.Base, "retry_in", wait, "err", err)
				s.deps.Health.Failure(p.folder, sourceName, "victoriametrics", "import_failed")
				return wait
			}
		}
	}
	s.backoff.Reset()
	return 0
}

// listFolder returns a mine folder's files sorted by the time in their
// name, reference types first at equal times. Hidden files and names
// ending in .part or .tmp (uploads in progress) are left alone.
func (s *Source) listFolder(folder string) []pending {
	dir := filepath.Join(s.cfg.Inbox, folder)
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.log.Error("cannot list mine folder", "mine_id", folder, "folder", dir, "err", err)
		return nil
	}
	var files []pending
	for _, e := range entries {
		base := e.Name()
		if e.IsDir() || strings.HasPrefix(base, ".") || strings.HasSuffix(base, ".part") ||
			strings.HasSuffix(base, ".tmp") || strings.HasSuffix(base, ".reason") {
			continue
		}
		fn, err := ParseFileName(base)
		files = append(files, pending{folder: folder, path: filepath.Join(dir, base), name: fn, err: err})
	}
	sort.SliceStable(files, func(i, j int) bool {
		a, b := files[i].name, files[j].name
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if typeOrder[a.Type] != typeOrder[b.Type] {
			return typeOrder[a.Type] < typeOrder[b.Type]
		}
		return a.Base < b.Base
	})
	return files
}

// handle ingests, rejects or leaves one file. It returns an error only
// when writing to VictoriaMetrics failed and the file must be retried.
func (s *Source) handle(ctx context.Context, p pending) error {
	mineID, typ, base := p.folder, "unknown", filepath.Base(p.path)
	if p.err != nil {
		s.reject(p, mineID, typ, p.err)
		return nil
	}
	typ = p.name.Type
	if p.name.MineID != p.folder {
		s.reject(p, mineID, typ, reject(ReasonFolderMismatch,
			"%s is in the folder of mine %s but names mine %s; upload it to its own mine's folder", base, p.folder, p.name.MineID))
		return nil
	}

	if info, err := os.Stat(p.path); err == nil && info.Size() > s.cfg.MaxFileBytes {
		delete(s.waiting, p.path)
		s.reject(p, mineID, typ, reject(ReasonTooLarge,
			"%s has %d bytes, more than max_file_bytes (%d); national files are far smaller, so check the upload",
			base, info.Size(), s.cfg.MaxFileBytes))
		return nil
	}
	raw, err := os.ReadFile(p.path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Error("cannot read file, trying again at the next pass", "mine_id", mineID, "file", base, "err", err)
			s.deps.Health.Error(mineID, sourceName, typ, ReasonUnreadable)
		}
		return nil
	}
	if s.isDuplicate(p) {
		s.reject(p, mineID, typ, reject(ReasonDuplicate,
			"%s was already ingested (see %s); a file is imported once, so re-uploads are set aside",
			base, filepath.Join(s.cfg.doneDir(), mineID, base)))
		return nil
	}

	f, err := Parse(p.name, raw, s.enc)
	if errors.Is(err, ErrIncomplete) {
		s.handleIncomplete(p)
		return nil
	}
	delete(s.waiting, p.path)
	if err != nil {
		s.reject(p, mineID, typ, err)
		return nil
	}

	now := s.deps.Now()
	var flags []string
	if f.HeaderTime.After(now.Add(s.cfg.FutureTolerance)) {
		ahead := f.HeaderTime.Sub(now).Round(time.Second)
		if s.cfg.FutureAction == FutureReject {
			s.reject(p, mineID, typ, reject(ReasonFutureTime,
				"%s: header time %s is %s ahead of this server's clock (tolerance %s); check the mine system's clock and upload again",
				base, f.HeaderTime.Format(time.DateTime), ahead, s.cfg.FutureTolerance))
			return nil
		}
		flags = append(flags, FlagFutureTime)
	}
	if s.deps.Registry.Load().Mine(mineID) == nil {
		flags = append(flags, FlagUnregisteredMine)
	}

	c, invalid := decodeContent(f)
	if s.deps.VM != nil {
		key := journalKey(mineID, base, raw)
		if !s.journal.has(key) {
			body := appendImport(nil, s.state.samples(mineID, c, nil))
			if err := s.deps.VM.Write(ctx, body); err != nil {
				if !vmimport.IsPermanent(err) {
					return err
				}
				s.reject(p, mineID, typ, reject(ReasonImportRejected, "%s: %v", base, err))
				return nil
			}
			if err := s.journal.add(key); err != nil {
				// The samples are stored; without the journal line a crash
				// before the move would import them again.
				s.log.Error("cannot record the import", "mine_id", mineID, "file", base, "err", err)
			}
		}
	}

	applied := s.state.apply(mineID, c)
	if err := s.move(p.path, filepath.Join(s.cfg.doneDir(), mineID, base)); err != nil {
		s.log.Error("cannot move ingested file to done, trying again at the next pass",
			"mine_id", mineID, "file", base, "err", err)
		s.deps.Health.Error(mineID, sourceName, typ, "move_failed")
		return nil
	}

	s.counters.files.WithLabelValues(mineID, typ, OutcomeDone).Inc()
	records := s.counters.records
	records.WithLabelValues(mineID, typ, RecordOK).Add(float64(len(f.Records) - invalid))
	if f.DroppedFieldCount > 0 {
		records.WithLabelValues(mineID, typ, RecordWrongFieldCount).Add(float64(f.DroppedFieldCount))
	}
	if invalid > 0 {
		records.WithLabelValues(mineID, typ, RecordInvalidValue).Add(float64(invalid))
	}
	for _, flag := range flags {
		s.counters.flagged.WithLabelValues(mineID, typ, flag).Inc()
	}
	if ryss, ok := c.(*ryssContent); ok {
		onTunnel, atStation := s.state.countPositions(mineID, ryss)
		s.counters.positions.WithLabelValues(mineID, PositionTunnel).Add(float64(onTunnel))
		s.counters.positions.WithLabelValues(mineID, PositionStation).Add(float64(atStation))
	}
	s.deps.Health.Success(mineID, sourceName, typ, now)
	s.log.Info("national file ingested", "mine_id", mineID, "file", base, "type", typ,
		"data_time", f.HeaderTime.Format(time.DateTime), "encoding", f.Encoding,
		"records", len(f.Records)-invalid, "dropped_field_count", f.DroppedFieldCount,
		"dropped_invalid", invalid, "first_drop", f.FirstDrop, "flags", flags, "current", applied)
	return nil
}

// isDuplicate reports whether a file of the same name was already
// ingested and is not merely waiting for its move after a crash.
func (s *Source) isDuplicate(p pending) bool {
	_, err := os.Stat(filepath.Join(s.cfg.doneDir(), p.folder, filepath.Base(p.path)))
	return err == nil
}

// handleIncomplete leaves a file without "||" in the inbox until it has
// not changed for incomplete_timeout, then rejects it.
func (s *Source) handleIncomplete(p pending) {
	info, err := os.Stat(p.path)
	if err != nil {
		return
	}
	age := s.deps.Now().Sub(info.ModTime())
	if age <= s.cfg.IncompleteTimeout {
		if !s.waiting[p.path] {
			s.waiting[p.path] = true
			s.log.Info("file has no closing || yet, waiting for the upload to finish",
				"mine_id", p.folder, "file", p.name.Base, "incomplete_timeout", s.cfg.IncompleteTimeout)
		}
		return
	}
	delete(s.waiting, p.path)
	s.reject(p, p.folder, p.name.Type, reject(ReasonIncomplete,
		`%s has no closing "||" and has not changed for %s; the upload was cut off, ask the mine to upload it again`,
		p.name.Base, age.Round(time.Second)))
}

// reject moves a file to rejected/<mine>/ and writes the reason beside it.
func (s *Source) reject(p pending, mineID, typ string, err error) {
	reason, detail := ReasonInvalidHeader, err.Error()
	var rej *RejectError
	if errors.As(err, &rej) {
		reason, detail = rej.Reason, rej.Detail
	}
	base := filepath.Base(p.path)
	dest := s.freeName(filepath.Join(s.cfg.rejectedDir(), p.folder, base))
	if err := s.move(p.path, dest); err != nil {
		s.log.Error("cannot move rejected file, trying again at the next pass", "mine_id", mineID, "file", base, "err", err)
		return
	}
	text := fmt.Sprintf("file: %s\nreason: %s\ndetail: %s\nrejected_at: %s\n",
		base, reason, detail, s.deps.Now().Format(time.RFC3339))
	if err := writeSynced(dest+".reason", []byte(text)); err != nil {
		s.log.Error("cannot write reason file", "mine_id", mineID, "file", dest+".reason", "err", err)
	}
	s.counters.files.WithLabelValues(mineID, typ, OutcomeRejected).Inc()
	if typ == "unknown" {
		// A file whose name gives no type belongs to no feed, so it is
		// counted without marking a target down that nothing resets.
		s.deps.Health.Error(mineID, sourceName, typ, reason)
	} else {
		s.deps.Health.Failure(mineID, sourceName, typ, reason)
	}
	s.log.Warn("national file rejected", "mine_id", mineID, "file", base, "reason", reason,
		"detail", detail, "moved_to", dest)
}

// freeName returns path, or path with a numeric suffix when a file of that
// name exists, so that nothing is overwritten.
func (s *Source) freeName(path string) string {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return path
	}
	for i := 1; ; i++ {
		candidate := fmt.Sprintf("%s.%d", path, i)
		if _, err := os.Stat(candidate); errors.Is(err, fs.ErrNotExist) {
			return candidate
		}
	}
}

// move renames src to dst, creating dst's folder; across file systems it
// copies, syncs and then removes src.
func (s *Source) move(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	err := os.Rename(src, dst)
	if err == nil {
		return nil
	}
	var linkErr *os.LinkError
	if !errors.As(err, &linkErr) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst + ".tmp")
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Rename(dst+".tmp", dst); err != nil {
		return err
	}
	return os.Remove(src)
}

// restore loads the newest ingested file of each type of every mine from
// done/, so that /metrics shows current values right after a restart. It
// writes nothing to VictoriaMetrics and counts nothing.
func (s *Source) restore() {
	mines, err := os.ReadDir(s.cfg.doneDir())
	if err != nil {
		return
	}
	for _, m := range mines {
		if !m.IsDir() {
			continue
		}
		newest := map[string]FileName{}
		entries, _ := os.ReadDir(filepath.Join(s.cfg.doneDir(), m.Name()))
		for _, e := range entries {
			fn, err := ParseFileName(e.Name())
			if err != nil || fn.MineID != m.Name() {
				continue
			}
			if cur, ok := newest[fn.Type]; !ok || fn.Time.After(cur.Time) {
				newest[fn.Type] = fn
			}
		}
		for _, typ := range sortedKeysByOrder(newest) {
			fn := newest[typ]
			raw, err := os.ReadFile(filepath.Join(s.cfg.doneDir(), m.Name(), fn.Base))
			if err != nil {
				continue
			}
			f, err := Parse(fn, raw, s.enc)
			if err != nil {
				continue
			}
			c, _ := decodeContent(f)
			s.state.apply(m.Name(), c)
		}
	}
}

func sortedKeysByOrder(m map[string]FileName) []string {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return typeOrder[keys[i]] < typeOrder[keys[j]] })
	return keys
}
