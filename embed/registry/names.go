package registry

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/ragd/ragd/data"
)

// RemotePrefix marks a model served by the OpenAI-compatible server at
// Config.EmbedURL: "remote:<the server's model name>".
const RemotePrefix = "remote:"

// MaxNameLen bounds a model name (remote names included).
const MaxNameLen = 256

// localName is the name of a directory inside the models directory: what
// `ragd models pull` installs (catalog names such as "bge-small-en-v1.5",
// "owner--repo" for other hub repositories) and "use-lite".
var localName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$`)

// NoModel reports whether name means "keyword only" (no embedding model).
func NoModel(name string) bool { return name == "" || name == "none" }

// CheckName validates a model name without touching the file system. A
// local name is 1-128 letters, digits, '_', '.', '+', '-' starting with a
// letter or digit, never "..": it names a directory directly inside the
// models directory. A remote name is RemotePrefix followed by printable
// text (it is sent to the remote server, never used as a path). Errors
// wrap data.ErrInvalid.
func CheckName(name string) error {
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: model name is %d bytes (limit %d)", data.ErrInvalid, len(name), MaxNameLen)
	}
	if rest, ok := strings.CutPrefix(name, RemotePrefix); ok {
		if strings.TrimSpace(rest) == "" {
			return fmt.Errorf("%w: model %q: empty remote model name", data.ErrInvalid, name)
		}
		for _, r := range rest {
			if !unicode.IsPrint(r) {
				return fmt.Errorf("%w: model %q: remote model names are printable text", data.ErrInvalid, name)
			}
		}
		return nil
	}
	if !localName.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("%w: model name %q: use an installed model's name (letters, digits, '_', '.', '+', '-'; no paths) or %s<name>",
			data.ErrInvalid, name, RemotePrefix)
	}
	return nil
}
