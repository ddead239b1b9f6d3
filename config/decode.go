package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// decoder fills the configuration structs from the parsed document, key by
// key. The YAML library stops at the first value it cannot convert and
// names Go types; decoding each key on its own lets a load report every
// problem of the file, each at the line of the key at fault, in the words
// of agents.yml. Keys are strict: one the structs do not know is an error.
type decoder struct {
	file string
	errs []*Error
	// noAnchors: the file has no & at all, so no node is shared.
	noAnchors bool
}

func (d *decoder) errorf(line int, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// decodeMapping decodes the mapping n into the struct out. where prefixes
// messages (`gateway "main": `), prefix is the dotted path of n itself, and
// special decodes the keys that need their own handling (lists of gateways
// and agents); it reports whether it took the key.
func (d *decoder) decodeMapping(n *yaml.Node, out reflect.Value, where, prefix string, lines *keyLines, special func(key, value *yaml.Node) bool) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		subject := where + strings.TrimSuffix(prefix, ".")
		if prefix == "" {
			subject = strings.TrimSuffix(where, ": ")
		}
		d.errorf(n.Line, "%s must be a mapping of settings, not %s", subject, shape(n, false))
		return
	}
	fields := fieldsOf(out.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.Tag == "!!merge" { // <<: *defaults
			for _, merged := range mergeSources(value) {
				d.decodeMapping(merged, out, where, prefix, lines, special)
			}
			continue
		}
		name := prefix + key.Value
		if first := earlierKey(n.Content[:i], key.Value); first != nil {
			d.errorf(key.Line, "%s%s is given twice (first at line %d)", where, name, first.Line)
			continue
		}
		index, known := fields[key.Value]
		if !known {
			if near := nearestKey(key.Value, fields); near != "" {
				d.errorf(key.Line, "%sunknown key %q (did you mean %q?)", where, name, prefix+near)
			} else {
				d.errorf(key.Line, "%sunknown key %q", where, name)
			}
			continue
		}
		lines.set(name, key.Line)
		if special != nil && special(key, value) {
			continue
		}
		d.decodeValue(key, value, out.FieldByIndex(index), where, name, lines)
	}
}

// earlierKey is the key of the mapping's pairs that is written as key, if
// any: a mapping's own keys (not merged ones, which it may override) must
// differ. Mappings are short; a scan costs less than a map per agent.
func earlierKey(pairs []*yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i].Tag != "!!merge" && pairs[i].Value == key {
			return pairs[i]
		}
	}
	return nil
}

// decodeValue decodes one value. A mapping for a settings struct is
// decoded key by key too, so nested keys are as strict and as well placed
// as the gateway's own; the validation the library would run while
// decoding such a struct is run on the whole gateway afterwards.
func (d *decoder) decodeValue(key, value *yaml.Node, field reflect.Value, where, name string, lines *keyLines) {
	if resolved := resolve(value); resolved.Kind == yaml.MappingNode && isSettings(field.Type()) {
		if field.Kind() == reflect.Pointer {
			field.Set(reflect.New(field.Type().Elem()))
			field = field.Elem()
		}
		d.decodeMapping(resolved, field, where, name+".", lines, nil)
		return
	}
	if err := value.Decode(field.Addr().Interface()); err != nil {
		lines.markBad(name)
		secret := field.Type() == reflect.TypeFor[promconfig.Secret]()
		d.errorf(key.Line, "%s%s must be %s, not %s", where, name, describeType(field.Type()), shape(value, secret))
	}
}

// nearestKey is the known key within two typing mistakes of key, if
// exactly one is that close: "concurency" is "concurrency".
func nearestKey(key string, fields map[string][]int) string {
	best, bestDistance, ties := "", 3, 0
	for known := range fields {
		switch distance := editDistance(key, known); {
		case distance < bestDistance:
			best, bestDistance, ties = known, distance, 1
		case distance == bestDistance:
			ties++
		}
	}
	if ties != 1 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of two short keys.
func editDistance(a, b string) int {
	previous := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current := make([]int, len(b)+1)
		current[0] = i
		for j := 1; j <= len(b); j++ {
			substitution := previous[j-1]
			if a[i-1] != b[j-1] {
				substitution++
			}
			current[j] = min(previous[j]+1, current[j-1]+1, substitution)
		}
		previous = current
	}
	return previous[len(b)]
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func mergeSources(value *yaml.Node) []*yaml.Node {
	value = resolve(value)
	if value.Kind == yaml.SequenceNode {
		return value.Content
	}
	return []*yaml.Node{value}
}

// isSettings reports whether t is a struct of named settings (tls_config,
// basic_auth, ...), rather than a value written as one scalar (a URL).
func isSettings(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && len(fieldsOf(t)) > 0
}

var fieldCache sync.Map // reflect.Type → map[string][]int

// fieldsOf maps each YAML key of the struct type t to its field, following
// inline structs as the YAML library does.
func fieldsOf(t reflect.Type) map[string][]int {
	if cached, ok := fieldCache.Load(t); ok {
		return cached.(map[string][]int)
	}
	fields := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-" || !f.IsExported():
		case strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct:
			for key, index := range fieldsOf(f.Type) {
				fields[key] = append([]int{i}, index...)
			}
		case tag == "":
			// Untagged fields would take their Go name as key; settings
			// structs tag every key, so an untagged field is not one.
		default:
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields[name] = []int{i}
		}
	}
	fieldCache.Store(t, fields)
	return fields
}

// describeType names what a value of type t is written as in agents.yml.
func describeType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[model.Duration](), reflect.TypeFor[time.Duration]():
		return "a duration such as 5s, 1m or 1m30s"
	case reflect.TypeFor[promconfig.URL]():
		return "a URL"
	case reflect.TypeFor[promconfig.TLSVersion]():
		return "a TLS version such as TLS12 or TLS13"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	case reflect.Slice, reflect.Array:
		if element := describeType(t.Elem()); element != "a mapping of settings" {
			return "a list of " + strings.TrimPrefix(strings.TrimPrefix(element, "a "), "an ") + "s"
		}
		return "a list"
	default:
		return "a mapping of settings"
	}
}

// shape shows what was written instead: the value itself when it is short
// and not a secret, else its kind.
func shape(n *yaml.Node, secret bool) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		if !secret && len(n.Value) <= 40 {
			return strconv.Quote(n.Value)
		}
		return "that value"
	default:
		return "empty"
	}
}

// scalarValue is a key's value when it is plain text, for naming gateways
// and agents in messages before the rest is decoded.
func scalarValue(n *yaml.Node, key string) string {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			if v := resolve(n.Content[i+1]); v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
				return v.Value
			}
		}
	}
	return ""
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

// yamlError leads a syntax error with file:line like every other
// configuration error.
func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Msg: yamlLine.ReplaceAllString(msg, "")}
	}
	return &Error{File: name, Msg: msg}
}

// decodeConfig decodes the document: the gateways, each with its agents.
func (d *decoder) decodeConfig(root *yaml.Node, cfg *Config) {
	body := root
	if body.Kind == yaml.DocumentNode && len(body.Content) == 1 {
		body = body.Content[0]
	}
	if body.Kind == 0 || (body.Kind == yaml.ScalarNode && body.Tag == "!!null") {
		return // an empty file: validation says there are no gateways
	}
	d.decodeMapping(body, reflect.ValueOf(cfg).Elem(), "", "", newKeyLines(1), func(key, value *yaml.Node) bool {
		if key.Value != "gateways" {
			return false
		}
		for i, item := range d.list(value, "gateways must be a list of gateways") {
			gw := &Gateway{index: i + 1, line: item.Line, keys: newKeyLines(16)}
			cfg.Gateways = append(cfg.Gateways, gw)
			gw.Name = scalarValue(item, "name")
			d.decodeItem(item, gw, gw.keys, gw.title()+": ", func(key, value *yaml.Node) bool {
				if key.Value != "agents" {
					return false
				}
				items := d.list(value, gw.title()+": agents must be a list of agents")
				// In a file without anchors nothing else refers to an
				// item, so each is let go once decoded: the parsed tree of
				// a large agents.yml is several times the size of the
				// agents it describes.
				release := d.noAnchors
				gw.Agents = make([]*Agent, 0, len(items))
				for j, item := range items {
					agent := &Agent{index: j + 1, line: item.Line, keys: newKeyLines(3)}
					gw.Agents = append(gw.Agents, agent)
					agent.ID = scalarValue(item, "id")
					d.decodeItem(item, agent, agent.keys, gw.title()+": "+agent.title()+": ", nil)
					if release {
						items[j] = nil
					}
				}
				return true
			})
		}
		return true
	})
}

// decodeItem decodes one gateway or agent; an empty item is left for
// validation to report, anything but a mapping is reported here.
func (d *decoder) decodeItem(item *yaml.Node, out any, keys *keyLines, where string, special func(key, value *yaml.Node) bool) {
	if isNull(item) {
		return
	}
	if resolve(item).Kind != yaml.MappingNode {
		keys.markBad("")
	}
	d.decodeMapping(item, reflect.ValueOf(out).Elem(), where, "", keys, special)
}

// list returns the items of a sequence, reporting anything else.
func (d *decoder) list(n *yaml.Node, msg string) []*yaml.Node {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, "%s", msg)
		return nil
	}
	return n.Content
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}
