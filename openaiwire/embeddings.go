package openaiwire

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/ragd/ragd/data"
)

// MaxEmbeddingInputs bounds the number of texts in one embeddings request.
const MaxEmbeddingInputs = 2048

// EmbeddingInput is the "input" field: a string or an array of strings.
// Token-id arrays are rejected with data.ErrUnsupported.
type EmbeddingInput []string

// UnmarshalJSON accepts "text" or ["a", "b"].
func (in *EmbeddingInput) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*in = EmbeddingInput{one}
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%w: input must be a string or an array of strings", data.ErrInvalid)
	}
	out := make(EmbeddingInput, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return fmt.Errorf("%w: input[%d]: token arrays are not supported, send text", data.ErrUnsupported, i)
		}
	}
	*in = out
	return nil
}

// EmbeddingsRequest is the body of POST /v1/embeddings.
type EmbeddingsRequest struct {
	Model string         `json:"model"`
	Input EmbeddingInput `json:"input"`
	// EncodingFormat is "float" (default) or "base64" (little-endian float32s).
	EncodingFormat string `json:"encoding_format,omitempty"`
	// Dimensions asks for truncated vectors; ragd rejects any value other
	// than the model's own dimensions (checked by the caller).
	Dimensions *int   `json:"dimensions,omitempty"`
	User       string `json:"user,omitempty"`
}

// Validate checks the request; errors wrap data.ErrInvalid.
func (r *EmbeddingsRequest) Validate() error {
	if len(r.Input) == 0 {
		return fmt.Errorf("%w: input must not be empty", data.ErrInvalid)
	}
	if len(r.Input) > MaxEmbeddingInputs {
		return fmt.Errorf("%w: more than %d inputs", data.ErrInvalid, MaxEmbeddingInputs)
	}
	for i, s := range r.Input {
		if s == "" {
			return fmt.Errorf("%w: input[%d] is empty", data.ErrInvalid, i)
		}
	}
	switch r.EncodingFormat {
	case "", "float", "base64":
	default:
		return fmt.Errorf("%w: encoding_format %q (want float or base64)", data.ErrInvalid, r.EncodingFormat)
	}
	if r.Dimensions != nil && *r.Dimensions <= 0 {
		return fmt.Errorf("%w: dimensions must be positive", data.ErrInvalid)
	}
	return nil
}

// EmbeddingVector is one vector, written as a JSON array of floats or, when
// Base64 is set, as a base64 string of little-endian float32s.
type EmbeddingVector struct {
	Values []float32
	Base64 bool
}

// MarshalJSON writes the array or the base64 string.
func (v EmbeddingVector) MarshalJSON() ([]byte, error) {
	if !v.Base64 {
		if v.Values == nil {
			return []byte("[]"), nil
		}
		// Written by hand, digit for digit what encoding/json writes for a
		// []float32: json.Marshal here would format every float and the
		// caller's encoder would then scan the result again.
		out := make([]byte, 0, 2+len(v.Values)*12)
		out = append(out, '[')
		for i, x := range v.Values {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("embedding contains NaN or Inf")
			}
			if i > 0 {
				out = append(out, ',')
			}
			out = appendFloat32(out, x)
		}
		return append(out, ']'), nil
	}
	buf := make([]byte, 4*len(v.Values))
	for i, x := range v.Values {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(buf))
}

// appendFloat32 appends x as encoding/json writes a float32: the shortest
// decimal that reads back as x, in exponent form below 1e-6 and from 1e21
// on, with a one-digit negative exponent not zero-padded.
func appendFloat32(b []byte, x float32) []byte {
	abs := math.Abs(float64(x))
	format := byte('f')
	if abs != 0 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, float64(x), format, -1, 32)
	if format == 'e' {
		// e-09 -> e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// UnmarshalJSON reads either form.
func (v *EmbeddingVector) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw)%4 != 0 {
			return fmt.Errorf("%w: embedding is not base64 float32 data", data.ErrInvalid)
		}
		v.Base64 = true
		v.Values = make([]float32, len(raw)/4)
		for i := range v.Values {
			v.Values[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return nil
	}
	v.Base64 = false
	return json.Unmarshal(b, &v.Values)
}

// EmbeddingData is one embedding of the response.
type EmbeddingData struct {
	Object string `json:"object"`
	// Index is the input's position; a client takes the data's own
	// position when a server leaves it out.
	Index     *int            `json:"index"`
	Embedding EmbeddingVector `json:"embedding"`
}

// EmbeddingsUsage is the usage of an embeddings response.
type EmbeddingsUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// EmbeddingsResponse is the body of the embeddings reply.
type EmbeddingsResponse struct {
	Object string          `json:"object"`
	Data   []EmbeddingData `json:"data"`
	Model  string          `json:"model"`
	Usage  EmbeddingsUsage `json:"usage"`
}

// NewEmbeddingsResponse builds the reply for vectors in input order.
// encodingFormat is the request's ("" or "float", or "base64").
func NewEmbeddingsResponse(model string, vectors [][]float32, promptTokens int, encodingFormat string) EmbeddingsResponse {
	resp := EmbeddingsResponse{
		Object: "list", Model: model, Data: make([]EmbeddingData, len(vectors)),
		Usage: EmbeddingsUsage{PromptTokens: promptTokens, TotalTokens: promptTokens},
	}
	for i, v := range vectors {
		resp.Data[i] = EmbeddingData{Object: "embedding", Index: &i, Embedding: EmbeddingVector{Values: v, Base64: encodingFormat == "base64"}}
	}
	return resp
}
