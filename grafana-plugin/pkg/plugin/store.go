package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minewatch/minewatch/grafana-plugin/pkg/plan"
)

// maxPlanBytes bounds a plan read from disk or the network. The largest
// real plans expected (a few thousand tunnel segments) are a few MB.
const maxPlanBytes = 32 << 20

var mineIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// ErrPlanNotFound is returned for a mine with no plan in any source.
var ErrPlanNotFound = errors.New("plan not found")

// Store loads mine plans from a folder of <mine_id>.geojson files, falling
// back to a URL template, and keeps validated plans until the file changes.
type Store struct {
	folder string
	url    string
	client *http.Client

	mu    sync.Mutex
	cache map[string]cachedPlan
}

type cachedPlan struct {
	modTime time.Time
	size    int64
	plan    *plan.Plan
}

// NewStore returns a store reading folder and then url; either may be empty.
func NewStore(folder, url string, client *http.Client) *Store {
	return &Store{folder: folder, url: url, client: client, cache: map[string]cachedPlan{}}
}

// Entry is the state of one plan file in the folder.
type Entry struct {
	MineID   string `json:"mine_id"`
	File     string `json:"file"`
	Tunnels  int    `json:"tunnels"`
	Areas    int    `json:"areas"`
	Stations int    `json:"stations"`
	Error    string `json:"error,omitempty"`
}

// List validates every <mine_id>.geojson in the folder. A file that fails
// validation is listed with its error; only an unreadable folder fails.
func (s *Store) List(ctx context.Context) ([]Entry, error) {
	if s.folder == "" {
		return nil, nil
	}
	dirEntries, err := os.ReadDir(s.folder)
	if err != nil {
		return nil, fmt.Errorf("cannot read plans folder %s: %w; check plansFolder in the app settings", s.folder, err)
	}
	var out []Entry
	for _, d := range dirEntries {
		name := d.Name()
		mineID, ok := strings.CutSuffix(name, ".geojson")
		if d.IsDir() || !ok {
			continue
		}
		e := Entry{MineID: mineID, File: name}
		if !mineIDPattern.MatchString(mineID) {
			e.Error = fmt.Sprintf("plan file %s: the name must be the 12-digit mine code followed by .geojson", name)
			out = append(out, e)
			continue
		}
		p, err := s.Get(ctx, mineID)
		if err != nil {
			e.Error = err.Error()
		} else {
			e.Tunnels, e.Areas, e.Stations = p.Tunnels, p.Areas, p.Stations
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MineID < out[j].MineID })
	return out, nil
}

// Get returns the validated plan of a mine. It returns ErrPlanNotFound
// (wrapped) when no source has one, and *plan.ValidationError for a plan
// that fails validation.
func (s *Store) Get(ctx context.Context, mineID string) (*plan.Plan, error) {
	if !mineIDPattern.MatchString(mineID) {
		return nil, fmt.Errorf("mine id %q is not a 12-digit mine code", mineID)
	}
	if s.folder != "" {
		p, err := s.fromFile(mineID)
		if !errors.Is(err, os.ErrNotExist) {
			return p, err
		}
	}
	if s.url != "" {
		return s.fromURL(ctx, mineID)
	}
	return nil, fmt.Errorf("mine %s: %w in %s; add %s.geojson there", mineID, ErrPlanNotFound, s.folderName(), mineID)
}

func (s *Store) folderName() string {
	if s.folder == "" {
		return "any source (no plansFolder or plansUrl is set)"
	}
	return "plans folder " + s.folder
}

func (s *Store) fromFile(mineID string) (*plan.Plan, error) {
	path := filepath.Join(s.folder, mineID+".geojson")
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Size() > maxPlanBytes {
		return nil, fmt.Errorf("plan file %s is %d bytes, more than the %d allowed", path, info.Size(), maxPlanBytes)
	}

	s.mu.Lock()
	c, ok := s.cache[mineID]
	s.mu.Unlock()
	if ok && c.modTime.Equal(info.ModTime()) && c.size == info.Size() {
		return c.plan, nil
	}

	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read plan file: %w", err)
	}
	p, err := plan.Parse(path, data, mineID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cache[mineID] = cachedPlan{modTime: info.ModTime(), size: info.Size(), plan: p}
	s.mu.Unlock()
	return p, nil
}

func (s *Store) fromURL(ctx context.Context, mineID string) (*plan.Plan, error) {
	url := strings.ReplaceAll(s.url, "{mine_id}", mineID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("plan URL %s is invalid: %w", url, err)
	}
	req.Header.Set("Accept", "application/geo+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching plan of mine %s from %s failed: %w", mineID, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("mine %s: %w at %s (HTTP 404)", mineID, ErrPlanNotFound, url)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching plan of mine %s from %s failed: HTTP %s", mineID, url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxPlanBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading plan of mine %s from %s failed: %w", mineID, url, err)
	}
	if len(data) > maxPlanBytes {
		return nil, fmt.Errorf("plan of mine %s at %s is larger than the %d bytes allowed", mineID, url, maxPlanBytes)
	}
	return plan.Parse(url, data, mineID)
}
