package gateway

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// fastListSeeds are bodies at the edges of what the list fast path
// accepts, for each of the list interfaces.
var fastListSeeds = []string{
	`{"retcode":"0","result":{"agentState":4,"isWorking":false}}`,
	`{"retcode":"0","result":[{"agentState":"8","isWorking":"true"}]}`,
	`{"retcode":"0","result":[{"agentState":1},{"agentState":3}]}`,
	`{"retcode":"0","result":[{"isWorking":true},{"agentState":3}]}`,
	`{"retcode":"0","result":[null,1,"x",[],{"agentState":5}]}`,
	`{"retcode":"0","result":[{},{"agentState":7}]}`,
	`{"retcode":"0","result":{"agentState":" 7 ","isWorking":" TRUE "}}`,
	`{"retcode":"0","result":{"agentState":7,"isWorking":"t"}}`,
	`{"retcode":"0","result":{"agentState":7,"isWorking":1}}`,
	`{"retcode":"0","result":{"agentState":7,"isWorking":-0}}`,
	`{"retcode":"0","result":{"agentState":7,"isWorking":1e0}}`,
	`{"retcode":"0","result":{"agentState":7,"isWorking":{"a":true}}}`,
	`{"retcode":"0","result":{"agentState":7,"isWorking":null}}`,
	`{"retcode":"0","result":{"agentState":7,"isWorking":"\u0074rue"}}`,
	`{"retcode":"0","result":{"AGENTSTATE":7,"IsWorking":false,"agentState":null}}`,
	`{"retcode":"0","result":{"agentState":7,"isWorking":"fal` + "\xff" + `se"}}`,
	`{"retcode":"0","result":{"agentState":7,}}`,
	`{"retcode":"0","result":[{"agentState":7}}`,
	`{"retcode":"0","result":[{"agentState":7},]}`,
	`{"retcode":"0","result":[]}`,
	`{"retcode":"0","result":[ ]}`,
	`{"retcode":"0","result":null}`,
	`{"retcode":"0","result":""}`,
	`{"retcode":"0","result":"x"}`,
	`{"retcode":"0","result":4}`,
	`{"retcode":"0","result":true}`,
	`{"retcode":"0"}`,
	`{"retcode":"100-006","message":"agent not login","result":{"agentState":4}}`,
	`{"retcode":"0","result":[{"deviceNo":20011,"queueSize":"3","queueTime":42,"skillDescrip":"voice"},{"deviceNo":null}]}`,
	`{"retcode":"0","result":[{"deviceNo":"20011","skillDescrip":20011,"pilotNbr":"\u0031"}]}`,
	`{"retcode":"0","result":[{"id":20011,"name":"voice","mediatype":5,"realFlag":"1"},{"id":"x"}]}`,
	`{"retcode":"0","result":[{"agentState":7,"x":[[[[[[[[[1]]]]]]]]]}]}`,
	`{"retcode":0,"message":null,"result":[{"agentState":7}]} `,
	`{"retcode":"0","result":{"agentState":7}} x`,
	`{"result":{"agentState":7},"retcode":"0"}`,
	`{"result":[{"agentState":7},{"agentState":8}],"retcode":"100-006"}`,
	`{"result":5,"retcode":"100-006"}`,
	`{"retcode":"0","result":[{"agentState":7},{"agentState":8}],"result":[{"agentState":9}]}`,
	`{"retcode":"0","result":[{"agentState":7}],"result":null}`,
	`{"retcode":"0","result":[{"agentState":7},{"agentState":8},{"x":[1,{"y":2}]},3]}`,
	`{"retcode":"0","result":[{"agentState":7},{"agentState":8},{"x":[1,{"y":2]}]}`,
	`{"retcode":"0","result":[{"agentState":7},{"agentState":8},]}`,
	`{"retcode":"0","result":nul}`,
}

// listFastMatchesGeneral checks one list decoder's fast path against
// decodeList: whenever the fast path accepts a body, decodeList must
// accept it too and give the same answer.
func listFastMatchesGeneral[T any](t *testing.T, d *listDecoder[T], body []byte) {
	t.Helper()
	fast, ok := d.decodeFast(body)
	if !ok {
		return
	}
	general, err := decodeList(body, d.limit, d.keep)
	if err != nil {
		t.Fatalf("fast path accepted a body decodeList rejects (%v): %q", err, body)
	}
	if !reflect.DeepEqual(fast, *general) {
		t.Fatalf("decoders differ for %q:\nfast    %+v\ngeneral %+v", body, fast, *general)
	}
}

// FuzzDecodeListFastMatchesGeneral is FuzzDecodeFastMatchesGeneral for the
// list interfaces: agentstatus, queryacdstat and agentvdnskill, and a
// limit of two for the truncation.
func FuzzDecodeListFastMatchesGeneral(f *testing.F) {
	for _, seed := range fastListSeeds {
		f.Add([]byte(seed))
	}
	for _, dir := range []string{"FuzzDecodeAgentStatus", "FuzzDecodeACDStat", "FuzzDecodeVDNSkills"} {
		corpus, _ := filepath.Glob(filepath.Join("testdata", "fuzz", dir, "*"))
		for _, path := range corpus {
			if body, err := os.ReadFile(path); err == nil {
				f.Add(body)
			}
		}
	}
	limitTwo := newListDecoder(2, func(s *AgentStatus) bool { return s.State.Valid() })
	f.Fuzz(func(t *testing.T, body []byte) {
		listFastMatchesGeneral(t, &agentStatusList, body)
		listFastMatchesGeneral(t, &limitTwo, body)
		listFastMatchesGeneral(t, &acdStatList, body)
		listFastMatchesGeneral(t, &vdnSkillsList, body)
	})
}

// TestDecodeListFastTakesRealAnswers makes sure the fast path is the one
// taken for the answers a gateway really sends, quirks included.
func TestDecodeListFastTakesRealAnswers(t *testing.T) {
	bodies := map[string][][]byte{}
	for _, name := range []string{"agentstatus-documented.json", "acdstat-documented-shape.json", "acdstat-quirks.json", "vdnskill-documented-shape.json"} {
		iface, _, _ := strings.Cut(name, "-")
		bodies[iface] = append(bodies[iface], []byte(readTestdata(t, name)))
	}
	for _, quirks := range []simulator.Quirks{{}, simulator.MixQuirks(), simulator.AllQuirks()} {
		for iface, more := range simulatedListBodies(t, quirks, 50, 20) {
			bodies[iface] = append(bodies[iface], more...)
		}
	}
	check := map[string]func([]byte) bool{
		"agentstatus": func(body []byte) bool { return takesFastPath(t, &agentStatusList, body) },
		"acdstat":     func(body []byte) bool { return takesFastPath(t, &acdStatList, body) },
		"vdnskill":    func(body []byte) bool { return takesFastPath(t, &vdnSkillsList, body) },
	}
	for iface, list := range bodies {
		if len(list) < 2 {
			t.Errorf("%s: only %d answers", iface, len(list))
		}
		for _, body := range list {
			if !check[iface](body) {
				t.Fatalf("%s: the fast path declined a real answer: %s", iface, body)
			}
		}
	}
}

func takesFastPath[T any](t *testing.T, d *listDecoder[T], body []byte) bool {
	t.Helper()
	if _, ok := d.decodeFast(body); !ok {
		return false
	}
	listFastMatchesGeneral(t, d, body)
	return true
}
