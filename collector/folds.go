package collector

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// Label values taken from gateway answers (retcodes, leave reasons, skill
// names and ids, media types and call types) are bounded, so a buggy or hostile gateway sending a new
// value in every answer cannot grow the exporter, or Prometheus, without
// limit: a value outside its documented form, or beyond the first few
// distinct values of its label on a gateway, becomes "other", and
// agentgateway_label_values_folded_total counts every such replacement.

// otherLabelValue replaces a folded label value.
const otherLabelValue = "other"

// The distinct values kept per label and gateway; far above what a real
// gateway sends (some 20 retcodes and 60 leave reasons are documented).
const (
	maxRetcodes     = 64
	maxLeaveReasons = 128
	maxSkills       = 256
	maxCallCodes    = 64 // media types and call types
)

// keptLeaveReasons are always kept, beyond the limit: the values that are
// not gateway codes, and the common codes the shipped rules single out.
var keptLeaveReasons = func() map[string]bool {
	kept := map[string]bool{}
	for _, key := range presetLeaveReasons {
		kept[key.reason] = true
	}
	return kept
}()

// labelFolds are one gateway's bounded labels. They live as long as the
// gateway is configured, across reloads.
type labelFolds struct {
	retcode, reason, skill, skillID, mediaType, callFeature labelFold

	// calls are the distinct label sets of agentgateway_call_info seen so
	// far, each held once: every observation of a call points to one, and
	// ten thousand agents need only a few dozen.
	calls keyTable[callLabels]
}

// maxCallLabelSets bounds the shared label sets; beyond it (a gateway
// that keeps sending new values within the bounds of every label) each
// observation carries its own.
const maxCallLabelSets = 4096

func newLabelFolds() *labelFolds {
	return &labelFolds{
		// The session retcodes drive the signed_out state and its alert.
		retcode:     labelFold{label: "retcode", limit: maxRetcodes, valid: isRetcode, kept: gateway.SignedOut},
		reason:      labelFold{label: "reason", limit: maxLeaveReasons, valid: isSmallCode, kept: func(v string) bool { return keptLeaveReasons[v] }},
		skill:       labelFold{label: "skill", limit: maxSkills, valid: isSkillName},
		skillID:     labelFold{label: "skill_id", limit: maxSkills, valid: isCode},
		mediaType:   labelFold{label: "media_type", limit: maxCallCodes, valid: isSmallCode},
		callFeature: labelFold{label: "call_feature", limit: maxCallCodes, valid: isSmallCode},
		calls:       keyTable[callLabels]{limit: maxCallLabelSets},
	}
}

// all lists the folds in the order of their label values.
func (f *labelFolds) all() []*labelFold {
	return []*labelFold{&f.callFeature, &f.mediaType, &f.reason, &f.retcode, &f.skill, &f.skillID}
}

// callLabels are a call's label values in agentgateway_call_info.
type callLabels struct{ callFeature, mediaType, skill, skillID string }

func (f *labelFolds) callLabels(call *gateway.CallInfo) *callLabels {
	l := callLabels{
		callFeature: f.callFeature.value(numberLabel(call.CallFeature)),
		mediaType:   f.mediaType.value(numberLabel(call.MediaType)),
		skill:       f.skill.value(string(call.CallSkill)),
		skillID:     f.skillID.value(numberLabel(call.CallSkillID)),
	}
	// The values may point into the answer; a held set must not keep an
	// answer alive.
	return f.calls.intern(l, func(l callLabels) callLabels {
		return callLabels{strings.Clone(l.callFeature), strings.Clone(l.mediaType), strings.Clone(l.skill), strings.Clone(l.skillID)}
	})
}

// labelFold bounds the values of one label on one gateway.
type labelFold struct {
	label string
	limit int
	valid func(string) bool
	// kept are documented values, kept whatever the limit (optional).
	kept func(string) bool

	mu     sync.RWMutex
	seen   map[string]struct{}
	folded atomic.Uint64
}

// value returns v if it is kept, or otherLabelValue, counting the
// replacement. "" (the gateway gave nothing) is kept. Values already seen,
// all of them on a steady gateway, cost a read lock and a lookup.
func (f *labelFold) value(v string) string {
	if v == "" || f.kept != nil && f.kept(v) {
		return v
	}
	f.mu.RLock()
	_, seen := f.seen[v]
	f.mu.RUnlock()
	if seen {
		return v
	}
	if !f.valid(v) {
		f.folded.Add(1)
		return otherLabelValue
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, seen := f.seen[v]; seen {
		return v
	}
	if len(f.seen) >= f.limit {
		f.folded.Add(1)
		return otherLabelValue
	}
	if f.seen == nil {
		f.seen = map[string]struct{}{}
	}
	f.seen[strings.Clone(v)] = struct{}{}
	return v
}

// lookup is value for a value already offered (and counted) once, such as
// the skill of a call seen in an earlier answer: it admits and counts
// nothing.
func (f *labelFold) lookup(v string) string {
	if v == "" || f.kept != nil && f.kept(v) {
		return v
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if _, seen := f.seen[v]; seen {
		return v
	}
	return otherLabelValue
}

// isRetcode: the gateway's codes are NNN-NNN.
func isRetcode(v string) bool {
	return len(v) == 7 && v[3] == '-' && allDigits(v[:3]) && allDigits(v[4:])
}

// isSmallCode: leave reasons are documented from 0 to 89, media types and
// call types below 100; 0 to 999 leaves room for newer versions.
func isSmallCode(v string) bool { return len(v) <= 3 && isCode(v) }

// isCode: a non-negative whole number, as numberLabel writes it.
func isCode(v string) bool { return len(v) <= 10 && allDigits(v) }

// isSkillName: a skill queue's name is short printable text.
func isSkillName(v string) bool {
	if len(v) > 128 || !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
