package simulator

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// The simulator sits under the exporter's benchmarks, so its own cost per answer must stay small
// next to the exporter's.
func BenchmarkServeHTTP(b *testing.B) {
	for _, tc := range []struct {
		name   string
		quirks Quirks
	}{
		{"documented shape", Quirks{}},
		{"mixed quirks", MixQuirks()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			clock := NewManualClock(testStart)
			s := New(Options{Now: clock.Now, Quirks: tc.quirks})
			ids := s.AgentIDs()
			requests := make([]*http.Request, len(ids))
			for i, id := range ids {
				requests[i] = httptest.NewRequest(http.MethodGet, callInfoPath(id, true), nil)
				requests[i].Header.Set("Guid", s.Guid(id))
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := next.Add(1)
					if n%1000 == 0 {
						clock.Advance(time.Second)
					}
					rec := httptest.NewRecorder()
					s.ServeHTTP(rec, requests[int(n)%len(requests)])
					if rec.Code != http.StatusOK {
						b.Errorf("HTTP %d", rec.Code)
						return
					}
				}
			})
		})
	}
}
