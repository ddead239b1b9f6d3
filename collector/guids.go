package collector

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway"
	"github.com/agentgateway/agentgateway_exporter/internal/guids"
)

// reasonNoGUID marks an agent that had no usable Guid: none supplied yet,
// or the last one older than guid_ttl. No query is sent for it.
const reasonNoGUID gateway.Reason = "no_guid"

var errNoGUID = errors.New("no usable Guid: none supplied yet, or the last one is older than guid_ttl")

// racyWindow covers the coarsest common file timestamp granularity (2 s):
// a file read this soon after its last change is read again next time,
// since a same-size rewrite in the same timestamp tick would leave size
// and modification time unchanged.
const racyWindow = 2 * time.Second

// fileStamp is what a Guid file looked like when it was last read, so it
// is read again only when it changed (or changed moments ago).
type fileStamp struct {
	modTime time.Time
	size    int64
	racy    bool
	seen    bool
	// missing is set while the file cannot be found, to log that once.
	missing bool
}

func (s *fileStamp) unchanged(info os.FileInfo) bool {
	return s.seen && !s.racy && info.ModTime().Equal(s.modTime) && info.Size() == s.size
}

// guidReader offers the content of Guid files (guid_file, guid_dir) to
// agents' cells and counts each read as an update.
type guidReader struct {
	store   *guids.Store
	gateway string
	logger  log.Logger
}

// read reads the file at path, described by info, if it changed since
// stamp, and offers its Guid as supplied at its modification time (never
// later than now). A file that cannot be used leaves the cell as it was.
func (r guidReader) read(path string, info os.FileInfo, stamp *fileStamp, cell *guids.Cell, source guids.Source, agentID string) {
	if stamp.unchanged(info) {
		return
	}
	sameAsBefore := stamp.seen && info.ModTime().Equal(stamp.modTime) && info.Size() == stamp.size
	stamp.modTime, stamp.size, stamp.seen, stamp.missing = info.ModTime(), info.Size(), true, false
	stamp.racy = time.Since(info.ModTime()) < racyWindow
	guid, err := config.ReadGUIDFile(path)
	if err == nil {
		err = guids.Validate(guid)
	}
	if err != nil {
		if !sameAsBefore {
			r.store.Count(r.gateway, source, false)
			level.Warn(r.logger).Log("msg", "cannot use Guid file, keeping the previous Guid", "gateway", r.gateway, "agent_id", agentID, "err", err)
		}
		return
	}
	at := info.ModTime()
	if now := r.store.Now(); at.After(now) {
		at = now // a file from the future (clock skew, or a test clock) counts as supplied now
	}
	if current, currentAt, _ := cell.Get(); sameAsBefore && current == guid && currentAt.Equal(at) {
		return // a re-read inside the racy window found nothing new
	}
	cell.Offer(guid, source, at)
	r.store.Count(r.gateway, source, true)
}

// guidFile follows one agent's guid_file.
type guidFile struct {
	path  string
	mu    sync.Mutex
	stamp fileStamp
}

func (f *guidFile) poll(r guidReader, cell *guids.Cell, agentID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	info, err := os.Stat(f.path)
	if err != nil {
		if !f.stamp.missing {
			f.stamp.missing = true
			level.Warn(r.logger).Log("msg", "cannot read guid_file, keeping the previous Guid", "gateway", r.gateway, "agent_id", agentID, "err", err)
		}
		return
	}
	r.read(f.path, info, &f.stamp, cell, guids.SourceFile, agentID)
}

// guidDir follows a gateway's guid_dir: the directory is listed once per
// scrape and each entry named by a configured agent id is stat'ed; only
// files that changed are opened.
type guidDir struct {
	path   string
	mu     sync.Mutex
	stamps map[string]*fileStamp
	failed bool
}

func newGUIDDir(path string) *guidDir {
	return &guidDir{path: path, stamps: map[string]*fileStamp{}}
}

// refresh offers every new or changed file's Guid to its agent, and
// withdraws the Guid of an agent whose file was removed.
func (d *guidDir) refresh(r guidReader, agent func(id string) *agentTarget) {
	d.mu.Lock()
	defer d.mu.Unlock()
	entries, err := readDirUnsorted(d.path)
	if err != nil {
		if !d.failed {
			d.failed = true
			level.Warn(r.logger).Log("msg", "cannot list guid_dir, keeping the Guids read from it", "gateway", r.gateway, "err", err)
		}
		return
	}
	d.failed = false
	present := make(map[string]bool, len(entries))
	for _, entry := range entries {
		a := agent(entry.Name())
		if a == nil {
			continue
		}
		path := filepath.Join(d.path, entry.Name())
		var info os.FileInfo
		if entry.Type()&fs.ModeSymlink != 0 {
			info, err = os.Stat(path)
		} else {
			info, err = entry.Info()
		}
		if err != nil {
			continue // removed since the listing, or a dangling link
		}
		present[a.id] = true
		stamp := d.stamps[a.id]
		if stamp == nil {
			stamp = &fileStamp{}
			d.stamps[a.id] = stamp
		}
		if !info.Mode().IsRegular() {
			if !stamp.missing {
				stamp.seen, stamp.missing = false, true
				r.store.Count(r.gateway, guids.SourceDir, false)
				level.Warn(r.logger).Log("msg", "guid_dir entry is not a regular file, ignored", "gateway", r.gateway, "agent_id", a.id)
			}
			continue
		}
		r.read(path, info, stamp, a.cell, guids.SourceDir, a.id)
	}
	for id := range d.stamps {
		if !present[id] {
			delete(d.stamps, id)
			if a := agent(id); a != nil {
				a.cell.Withdraw(guids.SourceDir)
				level.Info(r.logger).Log("msg", "Guid file removed from guid_dir, Guid withdrawn", "gateway", r.gateway, "agent_id", id)
			}
		}
	}
}

// readDirUnsorted lists a directory without sorting it: at thousands of
// agents the order does not matter and the sort would.
func readDirUnsorted(path string) ([]fs.DirEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// usableGUID returns the Guid to send for the agent, or false when it has
// none or the last one is older than the gateway's guid_ttl.
func (gw *gatewayTarget) usableGUID(e *Exporter, a *agentTarget) (string, bool) {
	if a.file != nil {
		a.file.poll(gw.guidReader(e), a.cell, a.id)
	}
	guid, at, ok := a.cell.Get()
	if !ok {
		return "", false
	}
	if ttl := time.Duration(gw.cfg.GUIDTTL); ttl > 0 && e.guids.Now().Sub(at) > ttl {
		return "", false
	}
	return guid, true
}

// adoptHeaderGUID takes a Guid the gateway handed out in a Set-GUID header.
func (gw *gatewayTarget) adoptHeaderGUID(e *Exporter, a *agentTarget, sent, received string) {
	if received == "" || received == sent {
		return
	}
	if err := guids.Validate(received); err != nil {
		e.guids.Count(gw.name, guids.SourceHeader, false)
		level.Warn(e.logger()).Log("msg", "unusable Guid in a Set-GUID header, ignored", "gateway", gw.name, "agent_id", a.id, "err", err)
		return
	}
	a.cell.Offer(received, guids.SourceHeader, e.guids.Now())
	e.guids.Count(gw.name, guids.SourceHeader, true)
}

func (gw *gatewayTarget) guidReader(e *Exporter) guidReader {
	return guidReader{store: e.guids, gateway: gw.name, logger: e.logger()}
}

// noGUID is the observation of an agent that was not queried for want of
// a usable Guid.
func noGUID(now time.Time) *observation {
	return &observation{sentAt: now, err: &gateway.QueryError{Reason: reasonNoGUID, Err: errNoGUID}}
}
