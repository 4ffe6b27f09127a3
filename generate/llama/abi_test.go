package llama

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/ragd/ragd/generate"
)

// Sizes and offsets measured with gcc (sizeof/offsetof, linux/amd64) on
// include/llama.h of the llama.cpp source bundled in npm
// node-llama-cpp@3.22.1 (llama/gitRelease.bundle, llama.cpp release
// "v0.5.0", llama_version() "0.5.0-dev").
func TestStructLayout(t *testing.T) {
	var mp modelParams
	var cp contextParams
	var b batch
	tests := []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(llama_model_params)", unsafe.Sizeof(mp), 80},
		{"llama_model_params.n_gpu_layers", unsafe.Offsetof(mp.nGPULayers), 16},
		{"llama_model_params.main_gpu", unsafe.Offsetof(mp.mainGPU), 32},
		{"llama_model_params.tensor_split", unsafe.Offsetof(mp.tensorSplit), 40},
		{"llama_model_params.kv_overrides", unsafe.Offsetof(mp.kvOverrides), 64},
		{"llama_model_params.vocab_only", unsafe.Offsetof(mp.vocabOnly), 72},
		{"llama_model_params.load_mtp", unsafe.Offsetof(mp.loadMTP), 77},
		{"sizeof(llama_context_params)", unsafe.Sizeof(cp), 160},
		{"llama_context_params.n_threads", unsafe.Offsetof(cp.nThreads), 28},
		{"llama_context_params.flash_attn_type", unsafe.Offsetof(cp.flashAttnType), 52},
		{"llama_context_params.rope_freq_base", unsafe.Offsetof(cp.ropeFreqBase), 56},
		{"llama_context_params.cb_eval", unsafe.Offsetof(cp.cbEval), 88},
		{"llama_context_params.type_k", unsafe.Offsetof(cp.typeK), 104},
		{"llama_context_params.abort_callback", unsafe.Offsetof(cp.abortCallback), 112},
		{"llama_context_params.embeddings", unsafe.Offsetof(cp.embeddings), 128},
		{"llama_context_params.kv_unified", unsafe.Offsetof(cp.kvUnified), 133},
		{"llama_context_params.samplers", unsafe.Offsetof(cp.samplers), 136},
		{"llama_context_params.ctx_other", unsafe.Offsetof(cp.ctxOther), 152},
		{"sizeof(llama_batch)", unsafe.Sizeof(b), 56},
		{"llama_batch.token", unsafe.Offsetof(b.token), 8},
		{"llama_batch.logits", unsafe.Offsetof(b.logits), 48},
		{"sizeof(llama_chat_message)", unsafe.Sizeof(chatMessage{}), 16},
		{"sizeof(llama_logit_bias)", unsafe.Sizeof(logitBias{}), 8},
		// From llama.h's declarations (not measured with gcc); the grammar
		// acceptance test exercises them through llama_sampler_apply.
		{"sizeof(llama_token_data)", unsafe.Sizeof(tokenData{}), 12},
		{"sizeof(llama_token_data_array)", unsafe.Sizeof(tokenDataArray{}), 32},
		{"llama_token_data_array.size", unsafe.Offsetof(tokenDataArray{}.size), 8},
		{"llama_token_data_array.selected", unsafe.Offsetof(tokenDataArray{}.selected), 16},
		{"llama_token_data_array.sorted", unsafe.Offsetof(tokenDataArray{}.sorted), 24},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

// TestDefaultParams reads the library's own defaults through the mirrors:
// every known default must land in the field the header puts it in, which
// a shifted layout would scramble.
func TestDefaultParams(t *testing.T) {
	m := tinyModel(t)
	mp := m.lib.modelDefaultParams()
	if mp.nGPULayers != -1 || mp.splitMode != 1 || mp.devices != 0 || mp.vocabOnly || !mp.useExtraBufts || mp.checkTensors {
		t.Errorf("model defaults scrambled: %+v", mp)
	}
	cp := m.lib.ctxDefaultParams()
	checks := []struct {
		name      string
		got, want any
	}{
		{"n_ctx", cp.nCtx, uint32(512)},
		{"n_batch", cp.nBatch, uint32(2048)},
		{"n_ubatch", cp.nUbatch, uint32(512)},
		{"n_seq_max", cp.nSeqMax, uint32(1)},
		{"n_threads", cp.nThreads, int32(4)},
		{"n_threads_batch", cp.nThreadsBatch, int32(4)},
		{"rope_scaling_type", cp.ropeScalingType, int32(-1)},
		{"yarn_ext_factor", cp.yarnExtFactor, float32(-1)},
		{"yarn_attn_factor", cp.yarnAttnFactor, float32(-1)},
		{"abort_callback", cp.abortCallback, uintptr(0)},
		{"embeddings", cp.embeddings, false},
		{"offload_kqv", cp.offloadKQV, true},
		{"op_offload", cp.opOffload, true},
		{"swa_full", cp.swaFull, true},
		{"kv_unified", cp.kvUnified, false},
		{"samplers", cp.samplers, uintptr(0)},
		{"ctx_other", cp.ctxOther, uintptr(0)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("context default %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if err := checkVersion(m.lib.version); err != nil {
		t.Errorf("loaded library version: %v", err)
	}
}

func TestCheckVersion(t *testing.T) {
	tests := []struct {
		v  string
		ok bool
	}{
		{"0.5.0-dev", true},
		{"0.5.0", true},
		{"0.5.0+cuda", true},
		{"0.5.1", false},
		{"0.5.01", false},
		{"0.4.9-dev", false},
		{"b6000", false},
		{"", false},
	}
	for _, tc := range tests {
		err := checkVersion(tc.v)
		if (err == nil) != tc.ok {
			t.Errorf("checkVersion(%q) = %v, want ok=%v", tc.v, err, tc.ok)
		}
		if err != nil && !errors.Is(err, generate.ErrUnavailable) {
			t.Errorf("checkVersion(%q) error does not wrap ErrUnavailable: %v", tc.v, err)
		}
	}
}
