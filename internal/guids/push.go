package guids

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// PushPath is where the push API is mounted.
const PushPath = "/api/v1/guids"

// MaxPushBodyBytes bounds one push: room for some ten thousand agents.
const MaxPushBodyBytes = 1 << 20

// TokenSource yields the bearer token pushes must carry.
type TokenSource interface {
	Token() (string, error)
}

// StaticToken is a token fixed at start, such as one generated in memory.
type StaticToken string

// Token returns the token.
func (t StaticToken) Token() (string, error) { return string(t), nil }

// FileToken reads the token from a file, again whenever the file's size or
// modification time changes, so it can be rotated without a restart.
type FileToken struct {
	path string

	mu      sync.Mutex
	token   string
	modTime time.Time
	size    int64
	read    bool
}

// NewFileToken returns a token source for path; it fails if the file does
// not yield a token now, so a mistake shows at start.
func NewFileToken(path string) (*FileToken, error) {
	t := &FileToken{path: path}
	if _, err := t.Token(); err != nil {
		return nil, err
	}
	return t, nil
}

// maxTokenBytes bounds what is read of the token file.
const maxTokenBytes = 4 << 10

// Token returns the current token. When a changed file cannot be read the
// error is returned and every push is refused until it can.
func (t *FileToken) Token() (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	info, err := os.Stat(t.path)
	if err != nil {
		return "", fmt.Errorf("guid push token file: %w", err)
	}
	if t.read && info.ModTime().Equal(t.modTime) && info.Size() == t.size && time.Since(t.modTime) > 2*time.Second {
		return t.token, nil
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("guid push token file %s is not a regular file", t.path)
	}
	f, err := os.Open(t.path)
	if err != nil {
		return "", fmt.Errorf("guid push token file: %w", err)
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, maxTokenBytes+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("guid push token file: %w", err)
	case len(content) > maxTokenBytes:
		return "", fmt.Errorf("guid push token file %s is larger than %d bytes", t.path, maxTokenBytes)
	}
	token := string(bytes.TrimSpace(content))
	if token == "" {
		return "", fmt.Errorf("guid push token file %s is empty", t.path)
	}
	t.token, t.modTime, t.size, t.read = token, info.ModTime(), info.Size(), true
	return token, nil
}

// PushRequest is the body of a push.
type PushRequest struct {
	Gateway string            `json:"gateway"`
	GUIDs   map[string]string `json:"guids"`
}

// PushAnswer is the body of a successful push.
type PushAnswer struct {
	Accepted int               `json:"accepted"`
	Rejected map[string]string `json:"rejected"`
}

// NewPushHandler serves PUT /api/v1/guids into store, for callers with the
// bearer token of tokens.
func NewPushHandler(store *Store, tokens TokenSource, logger log.Logger) http.Handler {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	return &pushHandler{store: store, tokens: tokens, logger: logger}
}

type pushHandler struct {
	store  *Store
	tokens TokenSource
	logger log.Logger
}

func (h *pushHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", http.MethodPut)
		http.Error(w, "this endpoint requires a PUT request", http.StatusMethodNotAllowed)
		return
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="guid push"`)
		http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
		return
	}
	var req PushRequest
	if status, msg := decodePush(w, r, &req); status != http.StatusOK {
		http.Error(w, msg, status)
		return
	}
	accepted, rejected, err := h.store.Push(req.Gateway, req.GUIDs)
	if errors.Is(err, ErrUnknownGateway) {
		http.Error(w, "unknown gateway: "+ShortID(req.Gateway), http.StatusNotFound)
		return
	}
	level.Debug(h.logger).Log("msg", "Guids pushed", "gateway", req.Gateway, "accepted", accepted, "rejected", len(rejected), "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(PushAnswer{Accepted: accepted, Rejected: rejected})
}

// TokenHeader carries the token where Authorization cannot: when
// --web.config.file requires basic auth, that header holds the password.
const TokenHeader = "X-Guid-Push-Token" //nolint:gosec // a header name, not a credential

// authorized compares the bearer token in constant time; hashing both
// sides first keeps the comparison's time independent of their lengths.
func (h *pushHandler) authorized(r *http.Request) bool {
	const prefix = "Bearer "
	given := r.Header.Get(TokenHeader)
	if header := r.Header.Get("Authorization"); given == "" && len(header) > len(prefix) && strings.EqualFold(header[:len(prefix)], prefix) {
		given = header[len(prefix):]
	}
	if given == "" {
		return false
	}
	want, err := h.tokens.Token()
	if err != nil {
		level.Error(h.logger).Log("msg", "Guid push refused: no token", "err", err)
		return false
	}
	got, expected := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(got[:], expected[:]) == 1
}

// decodePush reads a push body. Its error texts name what is wrong but
// never quote the body, which holds Guids.
func decodePush(w http.ResponseWriter, r *http.Request, req *PushRequest) (int, string) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxPushBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(req)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err == nil {
		if _, trailing := dec.Token(); trailing != io.EOF {
			err = errors.New("trailing data")
		}
	}
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes: push in smaller batches", MaxPushBodyBytes)
	case errors.As(err, &syntax):
		return http.StatusBadRequest, fmt.Sprintf("body is not valid JSON (error at byte %d)", syntax.Offset)
	case errors.As(err, &typeError):
		if typeError.Field == "guids" && typeError.Type.Kind() == reflect.String {
			return http.StatusBadRequest, fmt.Sprintf(`body field "guids" must map agent ids to Guid strings, not to a %s`, typeError.Value)
		}
		return http.StatusBadRequest, fmt.Sprintf("body field %q must be %s, not %s", shorten(typeError.Field), jsonKind(typeError.Type.String()), typeError.Value)
	case err != nil && strings.HasPrefix(err.Error(), "json: unknown field"):
		return http.StatusBadRequest, `body has an unknown field: only "gateway" and "guids" are allowed`
	case errors.Is(err, io.EOF):
		return http.StatusBadRequest, "body is empty"
	case err != nil:
		return http.StatusBadRequest, "body is not valid JSON: " + err.Error()
	case req.Gateway == "":
		return http.StatusBadRequest, `body has no "gateway"`
	case req.GUIDs == nil:
		return http.StatusBadRequest, `body has no "guids" object`
	}
	return http.StatusOK, ""
}

func jsonKind(goType string) string {
	if goType == "string" {
		return "a string"
	}
	return "an object"
}

// shorten cuts a field path that may hold a misplaced Guid as a key.
func shorten(field string) string {
	if len(field) <= 20 {
		return field
	}
	return field[:13] + "..."
}
