package national

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// journal records the files whose samples VictoriaMetrics accepted, as
// lines "<mine>/<file name> <sha256 of the bytes>". A file is moved out of
// the inbox after its line is on disk, so a crash between the write and
// the move never imports the file twice: the next run finds the line and
// only moves the file.
type journal struct {
	path    string
	entries map[string]bool
}

func journalKey(mineID, base string, raw []byte) string {
	sum := sha256.Sum256(raw)
	return mineID + "/" + base + " " + hex.EncodeToString(sum[:])
}

// openJournal loads the journal in dir and rewrites it without the entries
// whose file has left the inbox, so it stays as small as the backlog.
func openJournal(dir, inbox string) (*journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create state folder %s: %w", dir, err)
	}
	j := &journal{path: filepath.Join(dir, "imported.log"), entries: map[string]bool{}}
	data, err := os.ReadFile(j.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cannot read import journal: %w", err)
	}
	var kept []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		name, _, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if _, err := os.Stat(filepath.Join(inbox, filepath.FromSlash(name))); err != nil {
			continue
		}
		j.entries[line] = true
		kept = append(kept, line)
	}

	tmp := j.path + ".tmp"
	body := strings.Join(kept, "\n")
	if body != "" {
		body += "\n"
	}
	if err := writeSynced(tmp, []byte(body)); err != nil {
		return nil, fmt.Errorf("cannot rewrite import journal: %w", err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		return nil, fmt.Errorf("cannot rewrite import journal: %w", err)
	}
	return j, nil
}

func (j *journal) has(key string) bool { return j.entries[key] }

// add appends key and syncs it to disk before returning.
func (j *journal) add(key string) error {
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("cannot open import journal %s: %w", j.path, err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("cannot append to import journal %s: %w", j.path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cannot sync import journal %s: %w", j.path, err)
	}
	j.entries[key] = true
	return f.Close()
}

func writeSynced(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
