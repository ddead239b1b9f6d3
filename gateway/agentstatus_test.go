package gateway

import "testing"

func TestDecodeAgentStatus(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantErr     bool
		wantRetcode string
		wantState   string // "" when no state is known
		wantWorking string // "true", "false" or "?"
	}{
		{name: "documented example", body: readTestdata(t, "agentstatus-documented.json"), wantRetcode: "0", wantState: StateIdle, wantWorking: "false"},
		{name: "documented list", body: `{"retcode":"0","result":[{"agentState":8,"isWorking":false}]}`, wantRetcode: "0", wantState: StateRest, wantWorking: "false"},
		{name: "strings", body: `{"retcode":"0","result":{"agentState":"7","isWorking":"true"}}`, wantRetcode: "0", wantState: StateTalking, wantWorking: "true"},
		{name: "bool as number", body: `{"retcode":"0","result":{"agentState":5,"isWorking":1}}`, wantRetcode: "0", wantState: StateWrapUp, wantWorking: "true"},
		{name: "pre-rest", body: `{"retcode":"0","result":{"agentState":9}}`, wantRetcode: "0", wantState: StatePreRest, wantWorking: "?"},
		{name: "busy", body: `{"retcode":"0","result":{"agentState":3,"isWorking":"yes"}}`, wantRetcode: "0", wantState: StateBusy, wantWorking: "?"},
		{name: "signed out", body: `{"retcode":"0","result":{"agentState":2}}`, wantRetcode: "0", wantState: StateSignedOut, wantWorking: "?"},
		{name: "reserved idle code", body: `{"retcode":"0","result":{"agentState":6}}`, wantRetcode: "0", wantState: StateIdle, wantWorking: "?"},
		{name: "unknown code 0", body: `{"retcode":"0","result":{"agentState":0,"isWorking":false}}`, wantRetcode: "0", wantWorking: "false"},
		{name: "reserved signed-in code", body: `{"retcode":"0","result":{"agentState":1}}`, wantRetcode: "0", wantWorking: "?"},
		{name: "undocumented code", body: `{"retcode":"0","result":{"agentState":42}}`, wantRetcode: "0", wantWorking: "?"},
		{name: "state unreadable", body: `{"retcode":"0","result":{"agentState":"idle","isWorking":false}}`, wantRetcode: "0"},
		{name: "empty object", body: `{"retcode":"0","result":{}}`, wantRetcode: "0"},
		{name: "null", body: `{"retcode":"0","result":null}`, wantRetcode: "0"},
		{name: "empty list", body: `{"retcode":"0","result":[]}`, wantRetcode: "0"},
		{name: "error", body: `{"retcode":"000-002","message":"bad url","result":""}`, wantRetcode: "000-002"},
		{name: "error with a state", body: `{"retcode":"100-006","result":{"agentState":4}}`, wantRetcode: "100-006"},
		{name: "number result", body: `{"retcode":"0","result":4}`, wantErr: true},
		{name: "not JSON", body: `agent not login`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, ok := decodeCase(t, tt.body, tt.wantErr, tt.wantRetcode, DecodeAgentStatus)
			if !ok {
				return
			}
			if tt.wantState == "" && tt.wantWorking == "" {
				if answer.Status != nil {
					t.Fatalf("status = %+v, want none", answer.Status)
				}
				return
			}
			if answer.Status == nil {
				t.Fatal("no status decoded")
			}
			name, ok := answer.Status.Name()
			expect(t, "state", name, tt.wantState)
			expect(t, "state known", ok, tt.wantState != "")
			working := "?"
			if answer.Status.Working.Valid {
				working = map[bool]string{true: "true", false: "false"}[answer.Status.Working.Value]
			}
			expect(t, "working", working, tt.wantWorking)
		})
	}
}

// TestAgentStateNames checks that every name the table can produce is
// listed for the collector, and that no listed name is unreachable.
func TestAgentStateNames(t *testing.T) {
	listed := map[string]bool{}
	for _, name := range AgentStateNames {
		if listed[name] {
			t.Errorf("%q listed twice", name)
		}
		listed[name] = true
	}
	reached := map[string]bool{}
	for code := range int64(20) {
		if name, ok := (AgentStatus{State: num(code)}).Name(); ok {
			if !listed[name] {
				t.Errorf("code %d gives %q, which AgentStateNames lacks", code, name)
			}
			reached[name] = true
		}
	}
	for name := range listed {
		if !reached[name] {
			t.Errorf("%q is listed but no code gives it", name)
		}
	}
}

func TestBool(t *testing.T) {
	for raw, want := range map[string]Bool{
		`true`: {true, true}, `false`: {false, true}, `"true"`: {true, true}, `"False"`: {false, true},
		`1`: {true, true}, `"0"`: {false, true}, `" true "`: {true, true},
		`null`: {}, `""`: {}, `"t"`: {}, `"yes"`: {}, `2`: {}, `{}`: {}, `"`: {},
	} {
		var got Bool
		if err := got.UnmarshalJSON([]byte(raw)); err != nil || got != want {
			t.Errorf("Bool(%s) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
}
