package llama

// Go mirrors of the llama.cpp structs passed by value through purego.
//
// purego copies these structs byte for byte and does not insert C padding,
// so every field, including explicit padding, is laid out exactly as the C
// compiler lays out the header's structs on linux/amd64. The layouts are
// those of include/llama.h in the llama.cpp source bundled with npm
// node-llama-cpp@3.22.1 (llama.cpp "v0.5.0", llama_version() "0.5.0-dev"),
// measured with gcc's sizeof/offsetof; abi_test.go asserts them. A
// different llama.cpp version may change them: that is why Load refuses a
// library whose llama_version() is not in the pinned family.

// headerVersion is the llama_version() family these layouts belong to.
const headerVersion = "0.5.0"

// modelParams mirrors struct llama_model_params (80 bytes). Fields ragd
// never touches are kept, named after the header, so the ones it does use
// land at the C offsets.
//
//nolint:unused // mirrors the C struct layout
type modelParams struct {
	devices             uintptr // ggml_backend_dev_t *
	tensorBuftOverrides uintptr // const struct llama_model_tensor_buft_override *
	nGPULayers          int32
	splitMode           int32 // enum llama_split_mode
	loadMode            int32 // enum llama_load_mode
	lazyMode            int32 // enum llama_lazy_mode
	mainGPU             int32
	_                   [4]byte
	tensorSplit         uintptr // const float *
	progressCallback    uintptr
	progressUserData    uintptr
	kvOverrides         uintptr
	vocabOnly           bool
	checkTensors        bool
	useExtraBufts       bool
	noHost              bool
	noAlloc             bool
	loadMTP             bool
	_                   [2]byte
}

// contextParams mirrors struct llama_context_params (160 bytes); unused
// fields are kept for the layout, as in modelParams.
//
//nolint:unused // mirrors the C struct layout
type contextParams struct {
	nCtx              uint32
	nBatch            uint32
	nUbatch           uint32
	nSeqMax           uint32
	nRsSeq            uint32
	nOutputsMax       uint32
	nOutputsMaxPerSeq uint32
	nThreads          int32
	nThreadsBatch     int32
	ctxType           int32 // enum llama_context_type
	ropeScalingType   int32 // enum llama_rope_scaling_type
	poolingType       int32 // enum llama_pooling_type
	attentionType     int32 // enum llama_attention_type
	flashAttnType     int32 // enum llama_flash_attn_type
	ropeFreqBase      float32
	ropeFreqScale     float32
	yarnExtFactor     float32
	yarnAttnFactor    float32
	yarnBetaFast      float32
	yarnBetaSlow      float32
	yarnOrigCtx       uint32
	defragThold       float32
	cbEval            uintptr
	cbEvalUserData    uintptr
	typeK             int32 // enum ggml_type
	typeV             int32
	abortCallback     uintptr // ggml_abort_callback
	abortCallbackData uintptr
	embeddings        bool
	offloadKQV        bool
	noPerf            bool
	opOffload         bool
	swaFull           bool
	kvUnified         bool
	_                 [2]byte
	samplers          uintptr // struct llama_sampler_seq_config *
	nSamplers         uintptr // size_t
	ctxOther          uintptr // struct llama_context *
}

// batch mirrors struct llama_batch (56 bytes). ragd fills it the way
// llama_batch_get_one does: tokens only, positions and outputs implicit.
//
//nolint:unused // mirrors the C struct layout
type batch struct {
	nTokens int32
	_       [4]byte
	token   uintptr // llama_token *
	embd    uintptr // float *
	pos     uintptr // llama_pos *
	nSeqID  uintptr // int32_t *
	seqID   uintptr // llama_seq_id **
	logits  uintptr // int8_t *
}

// chatMessage mirrors struct llama_chat_message (16 bytes).
type chatMessage struct {
	role    *byte
	content *byte
}

// logitBias mirrors llama_logit_bias (8 bytes).
type logitBias struct {
	token int32
	bias  float32
}

// tokenData mirrors llama_token_data (12 bytes).
//
//nolint:unused // mirrors the C struct layout
type tokenData struct {
	id    int32
	logit float32
	p     float32
}

// tokenDataArray mirrors llama_token_data_array (32 bytes), passed by
// pointer to llama_sampler_apply.
//
//nolint:unused // mirrors the C struct layout
type tokenDataArray struct {
	data     *tokenData
	size     uintptr
	selected int64
	sorted   bool
	_        [7]byte
}

// defaultSeed is LLAMA_DEFAULT_SEED: the dist sampler picks a random seed.
const defaultSeed = 0xFFFFFFFF
