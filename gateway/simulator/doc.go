// Package simulator is a simulated Huawei CC-Gateway that answers the agent-side
// "query call information" interface
// (GET /agentgateway/resource/calldata/{agentid}/callinfo).
//
// It exists so the exporter can be demonstrated, tested and benchmarked without
// a contact centre. Every agent runs an automatic call lifecycle (idle, queued,
// ringing, talking, ended) that is computed from the clock on demand, so the
// simulator costs nothing while nobody asks and gives the same answers for the
// same seed and the same clock. Tests can take over single agents (SetCall,
// EndCall, SignOut, SetRetcode, SetFault, RotateGuid) and switch on the quirks a
// real gateway is known or suspected to show (numbers as strings, missing keys,
// unknown enumeration values, error pages, broken connections).
//
// Sessions: by default (AuthPreset) every agent is signed in from the start with
// a fixed Guid, so a configuration can carry the Guids inline. AuthStatic and
// AuthDynamic behave like the gateway's AUTHMODE settings instead: agents sign in
// (PUT .../onlineagent/{agentid}, the Guid in a Set-GUID header), must have their
// events polled (GET .../agentevent/{agentid}) or are signed out, and in dynamic
// mode get a new Guid every GuidInterval that only the poll hands out. Desktop is
// the session owner that does this for a whole fleet and pushes the Guids to the
// exporter.
package simulator
