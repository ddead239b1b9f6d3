package simulator

import (
	"encoding/json"
	"strconv"
)

// The bodies of the queue and state interfaces, keys in the documented order.

func agentStatusBody(code int, working, quoted bool) []byte {
	w := successStart()
	w.key("result")
	w.open()
	w.key("agentState")
	w.integer(int64(code), quoted)
	w.key("isWorking")
	switch {
	case quoted:
		w.str(strconv.FormatBool(working))
	default:
		w.raw(strconv.FormatBool(working))
	}
	w.close()
	w.close()
	return w.b
}

func vdnSkillsBody() []byte {
	w := successStart()
	w.key("result")
	w.b = append(w.b, '[')
	for i, sk := range vdnSkills {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.open()
		w.key("name")
		w.str(sk.name)
		w.key("id")
		w.integer(int64(sk.id), false)
		w.key("mediatype")
		w.integer(int64(sk.mediaType), false)
		w.key("serviceType")
		w.integer(0, false)
		w.key("realFlag")
		w.integer(1, false)
		w.close()
	}
	w.b = append(w.b, ']')
	w.close()
	return w.b
}

// acdStatBody reports the requested queues in the order asked; ids that are not skill queues of the
// VDN are left out.
func acdStatBody(stats []QueueStat, requested []json.Number, quoted func(key uint64) bool) []byte {
	w := successStart()
	w.key("result")
	w.b = append(w.b, '[')
	first := true
	for _, raw := range requested {
		id, err := raw.Int64()
		if err != nil {
			continue
		}
		for i, st := range stats {
			if int64(st.SkillID) != id {
				continue
			}
			if !first {
				w.b = append(w.b, ',')
			}
			first = false
			q := quoted(uint64(st.SkillID)) //nolint:gosec // a positive id as hash input
			w.open()
			w.key("pilotNbr")
			w.str(accessCodes[i%len(accessCodes)])
			for _, f := range []struct {
				key   string
				value int64
			}{
				{"deviceNo", int64(st.SkillID)},
				{"queueSize", int64(st.CallsWaiting)},
				{"queueTime", int64(st.LongestWait.Seconds())},
				{"loadFactor", 0},
				{"estWaitTime", 0},
				{"loggedOnAgents", int64(st.AgentsSignedIn)},
				{"availAgents", int64(st.AgentsAvailable)},
				{"transferFlg", 0},
				{"transferDeviceType", 0},
				{"transferDeviceNo", 0},
			} {
				w.key(f.key)
				w.integer(f.value, q)
			}
			w.key("skillDescrip")
			w.str(st.Name)
			w.close()
		}
	}
	w.b = append(w.b, ']')
	w.close()
	return w.b
}

// successStart opens a success envelope up to its result.
func successStart() *jsonWriter {
	w := &jsonWriter{b: make([]byte, 0, 512)}
	w.open()
	w.key("message")
	w.str("")
	w.key("retcode")
	w.str(retcodeOK)
	return w
}
