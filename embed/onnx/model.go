package onnx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/wordpiece"
)

// modelDir is what a Hugging Face model directory says about a model.
type modelDir struct {
	dir       string
	onnxPath  string
	hidden    int
	maxPos    int
	numLabels int
	tok       *wordpiece.Tokenizer
	// From sentence-transformers files; empty when absent.
	pooling   string
	normalize bool
	maxSeq    int
}

// hfConfig is the part of config.json ragd needs.
type hfConfig struct {
	HiddenSize   int               `json:"hidden_size"`
	MaxPositions int               `json:"max_position_embeddings"`
	NumLabels    int               `json:"num_labels"`
	ID2Label     map[string]string `json:"id2label"`
}

func badModel(format string, args ...any) error {
	return fmt.Errorf("%w: %s", embed.ErrBadModel, fmt.Sprintf(format, args...))
}

// loadModelDir reads config, tokenizer, ONNX path and pooling files.
func loadModelDir(dir string) (*modelDir, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: model directory %s does not exist", embed.ErrModelNotFound, dir)
		}
		return nil, badModel("%v", err)
	}
	if !st.IsDir() {
		return nil, badModel("%s is not a directory", dir)
	}
	m := &modelDir{dir: dir}
	var hc hfConfig
	if err := readJSON(filepath.Join(dir, "config.json"), &hc); err != nil {
		return nil, err
	}
	if hc.HiddenSize <= 0 {
		return nil, badModel("%s: config.json has no positive hidden_size", dir)
	}
	m.hidden, m.maxPos = hc.HiddenSize, hc.MaxPositions
	m.numLabels = hc.NumLabels
	if m.numLabels == 0 {
		m.numLabels = len(hc.ID2Label)
	}

	for _, p := range []string{"onnx/model.onnx", "model.onnx"} {
		if fi, err := os.Stat(filepath.Join(dir, p)); err == nil && !fi.IsDir() {
			m.onnxPath = filepath.Join(dir, p)
			break
		}
	}
	if m.onnxPath == "" {
		return nil, badModel("%s: neither onnx/model.onnx nor model.onnx exists", dir)
	}

	if tj := filepath.Join(dir, "tokenizer.json"); fileExists(tj) {
		m.tok, err = wordpiece.LoadTokenizerJSON(tj)
	} else if vt := filepath.Join(dir, "vocab.txt"); fileExists(vt) {
		m.tok, err = wordpiece.LoadVocabTxt(vt, vocabOptions(dir))
	} else {
		return nil, badModel("%s: neither tokenizer.json nor vocab.txt exists", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", embed.ErrBadModel, dir, err)
	}

	if err := m.readSentenceTransformers(); err != nil {
		return nil, err
	}
	return m, nil
}

// vocabOptions reads do_lower_case from tokenizer_config.json, if present.
func vocabOptions(dir string) wordpiece.Options {
	o := wordpiece.DefaultOptions()
	var tc struct {
		DoLowerCase *bool `json:"do_lower_case"`
		MaxLength   int   `json:"model_max_length"`
	}
	if readJSON(filepath.Join(dir, "tokenizer_config.json"), &tc) == nil {
		if tc.DoLowerCase != nil {
			o.Lowercase = *tc.DoLowerCase
			o.StripAccents = *tc.DoLowerCase
		}
		if tc.MaxLength > 0 && tc.MaxLength < 1<<20 {
			o.MaxLength = tc.MaxLength
		}
	}
	return o
}

// readSentenceTransformers reads modules.json, the pooling config and
// sentence_bert_config.json when the directory has them.
func (m *modelDir) readSentenceTransformers() error {
	var sb struct {
		MaxSeqLength int `json:"max_seq_length"`
	}
	if p := filepath.Join(m.dir, "sentence_bert_config.json"); fileExists(p) {
		if err := readJSON(p, &sb); err != nil {
			return err
		}
		m.maxSeq = sb.MaxSeqLength
	}
	p := filepath.Join(m.dir, "modules.json")
	if !fileExists(p) {
		return nil
	}
	var mods []struct {
		Path string `json:"path"`
		Type string `json:"type"`
	}
	if err := readJSON(p, &mods); err != nil {
		return err
	}
	for _, mod := range mods {
		switch mod.Type {
		case "sentence_transformers.models.Normalize":
			m.normalize = true
		case "sentence_transformers.models.Pooling":
			var pc struct {
				CLS  bool `json:"pooling_mode_cls_token"`
				Mean bool `json:"pooling_mode_mean_tokens"`
				Max  bool `json:"pooling_mode_max_tokens"`
				Sqrt bool `json:"pooling_mode_mean_sqrt_len_tokens"`
			}
			if err := readJSON(filepath.Join(m.dir, mod.Path, "config.json"), &pc); err != nil {
				return err
			}
			switch {
			case pc.CLS && !pc.Mean && !pc.Max && !pc.Sqrt:
				m.pooling = PoolCLS
			case pc.Mean && !pc.CLS && !pc.Max && !pc.Sqrt:
				m.pooling = PoolMean
			default:
				return badModel("%s: pooling config %+v unsupported (only a single cls or mean mode)", m.dir, pc)
			}
		}
	}
	return nil
}

// maxTokens resolves the truncation length.
func (m *modelDir) maxTokens(override int) int {
	n := override
	if n == 0 {
		n = m.maxSeq
	}
	if n == 0 {
		n = m.tok.MaxLength()
	}
	if m.maxPos > 0 && (n <= 0 || n > m.maxPos) {
		n = m.maxPos
	}
	return n
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %w", embed.ErrBadModel, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s: %w", embed.ErrBadModel, path, err)
	}
	return nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}
