package gateway

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// fastDecodeSeeds are bodies at the edges of what the fast path accepts.
var fastDecodeSeeds = []string{
	`{"retcode":"0","result":{"callid":"1-1","begintime":1700000000000}}`,
	` {"retcode" : 0 , "message":null, "result" : [ {"callid":1} ] } `,
	`{"retcode":"0","result":[]}`,
	`{"retcode":"0","result":[null]}`,
	`{"retcode":"0","result":[{"callid":"1"},{"callid":"2"}]}`,
	`{"retcode":"0","result":""}`,
	`{"retcode":"0","result":"x"}`,
	`{"retcode":"0","result":{}}`,
	`{"retcode":"0","result":5}`,
	`{"retcode":"100-006","result":5}`,
	`{"retcode":null}`,
	`{"retcode":"0","retcode":null}`,
	`{"retcode":"","result":{"callid":"1"}}`,
	`{"retcode":true}`,
	`{"RETCODE":"0","Result":{"CallID":"1-1","MEDIATYPE":"5","Trace":{"TALKBEGINTIME":"17"}}}`,
	`{"retcode":"0","result":{"callſkill":"voice","callid":"1","\u0063allid":"2"}}`,
	`{"retcode":"0","result":{"callid":"1","mediaType":5,"mediaType":null}}`,
	`{"retcode":"0","result":{"callid":"1","trace":{"talkBeginTime":5},"trace":null}}`,
	`{"retcode":"0","result":{"callid":"1","trace":[1,2,{"a":[]}]}}`,
	`{"result":{"callid":"1-1","begintime":1700000000000},"retcode":"0"}`,
	`{"result":{"callid":"1-1"},"retcode":"100-006","message":"agent not login"}`,
	`{"result":[{"callid":"1"},{"callid":"2"}],"retcode":"100-006"}`,
	`{"result":"x","retcode":"100-006"}`,
	`{"retcode":"0","result":{"callid":"1"},"result":null}`,
	`{"retcode":"0","result":null,"result":[{"callid":"2"}]}`,
	`{"retcode":"0","result":[ ] }`,
	`{"retcode":"0","result":[{"callid":"1"} ] , "message":"ok"}`,
	`{"retcode":"0","result":nul}`,
	`{"retcode":"0","result":"\u0000"}`,
	`{"retcode":"0","result":{"callid":"1","begintime":" 1.7e12 ","endtime":"0x10","logontimes":"1_0"}}`,
	`{"retcode":"0","result":{"callid":"1","begintime":-0,"endtime":1e400,"logontimes":-1.5}}`,
	`{"retcode":"0","result":{"callid":"caf\u00e9","callskill":"语音"}}`,
	`{"retcode":"0","result":{"callid":"a\"b"}}`,
	"{\"retcode\":\"0\",\"result\":{\"callid\":\"\xff\"}}",
	`{"retcode":"0","result":{"callid":"1"}} x`,
	`{"retcode":"0","result":{"callid":"1",}}`,
	`{"retcode":"0","result":{"callid":01}}`,
	`{"retcode":"0","result":{"callid":"1","x":[[[[[[[[[[1]]]]]]]]]]}}`,
	`{"retcode":"0","result":{"callid":"1","x":tru}}`,
	`{"retcode":"0","result":{"callid":"1","x":"\u12"}}`,
	"\u00a0{\"retcode\":\"0\"}",
	`[{"retcode":"0"}]`,
	``,
}

// FuzzDecodeFastMatchesGeneral checks the fast path against the general
// decoder: whenever the fast path accepts a body, the general decoder must
// accept it too and produce the same answer.
func FuzzDecodeFastMatchesGeneral(f *testing.F) {
	for _, seed := range fastDecodeSeeds {
		f.Add([]byte(seed))
	}
	corpus, _ := filepath.Glob("testdata/fuzz/FuzzDecodeAnswer/*")
	for _, path := range corpus {
		if body, err := os.ReadFile(path); err == nil {
			f.Add(body)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeFast(body)
		if !ok {
			return
		}
		general, err := decodeGeneral(body)
		if err != nil {
			t.Fatalf("fast path accepted a body the general decoder rejects (%v): %q", err, body)
		}
		if !reflect.DeepEqual(fast, general) {
			t.Fatalf("decoders differ for %q:\nfast    %+v %+v\ngeneral %+v %+v", body, fast, fast.Call, general, general.Call)
		}
	})
}

// TestDecodeFastTakesRealAnswers makes sure the fast path is the one taken
// for what a gateway really sends, quirks included, so the speed measured
// by the benchmarks is the speed of real scrapes.
func TestDecodeFastTakesRealAnswers(t *testing.T) {
	seed, err := os.ReadFile("testdata/seed-example.json")
	if err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{seed}
	for _, quirks := range []simulator.Quirks{{}, simulator.MixQuirks(), simulator.AllQuirks()} {
		bodies = append(bodies, simulatedBodies(t, quirks, 50, 20)...)
	}
	bodies = append(bodies, []byte(`{"retcode":"100-006","message":"agent not login","result":""}`))
	for _, body := range bodies {
		fast, ok := decodeFast(body)
		if !ok {
			t.Fatalf("fast path declined a real answer: %s", body)
		}
		general, err := decodeGeneral(body)
		if err != nil || !reflect.DeepEqual(fast, general) {
			t.Fatalf("decoders differ (%v) for %s", err, body)
		}
	}
}

// TestDecodeAnswerKeepsNoReference: the client reads answers into recycled
// buffers, so nothing decoded may point into the body.
func TestDecodeAnswerKeepsNoReference(t *testing.T) {
	bodies := append([]string{}, fastDecodeSeeds...)
	seed, err := os.ReadFile("testdata/seed-example.json")
	if err != nil {
		t.Fatal(err)
	}
	bodies = append(bodies, string(seed), `{"retcode":"0","result":[{"callid":"\u0031-1","callskill":"v\"oice"}]}`)
	for _, body := range bodies {
		want, wantErr := DecodeAnswer([]byte(body))
		buf := []byte(body)
		got, gotErr := DecodeAnswer(buf)
		for i := range buf {
			buf[i] = 'x'
		}
		if !reflect.DeepEqual(got, want) || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("answer to %q changed when its body was overwritten: %+v, want %+v", body, got, want)
		}
	}
}
