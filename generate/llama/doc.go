// Package llama runs GGUF language models in process with llama.cpp,
// implementing generate.Generator and generate.TokenCounter.
//
// # Libraries
//
// The llama.cpp shared libraries are not linked at build time: they are
// opened at run time with purego, so ragd builds with CGO_ENABLED=0. They
// come from the npm package @node-llama-cpp/linux-x64@3.22.1 (installed by
// scripts/setup.sh, i.e. npm install in node/): libllama.v0.5.0.so,
// libggml.v0.5.0.so, libggml-base.so and one libggml-cpu-<variant>.so per
// CPU family, of which ggml picks the best at run time. Config.LibDir
// names the directory; DefaultLibDir and LibDirCandidates give the usual
// places. The GPU build (@node-llama-cpp/linux-x64-cuda, files named
// libllama.cuda.v0.5.0.so, needing a CUDA 13 runtime) is picked when
// Config.GPULayers is non-zero and its files are in LibDir.
//
// The libraries load once per process, in the order llama.cpp needs: the
// log callback (llama.cpp's output goes to the injected *slog.Logger at
// debug level), then ggml_backend_load_all_from_path, then
// llama_backend_init. llama_version() must be in the "0.5.0" family, since
// the structs passed by value (llama_model_params, llama_context_params,
// llama_batch) are mirrored byte for byte from that version's llama.h.
//
// # Models and slots
//
// Load checks the file with package gguf before llama.cpp sees it (a
// missing or malformed file is generate.ErrBadModel; llama.cpp may abort
// the process on garbage). The weights are shared; each of Config.Slots
// slots owns a context with its own KV cache of Config.ContextSize tokens,
// used by one request at a time. Up to Config.QueueSize more requests wait
// for a slot; beyond that Generate fails at once with
// generate.ErrOverloaded.
//
// # Generation
//
// A request's Prompt is used verbatim; Messages are rendered by
// Config.Render when set, else by llama.cpp's built-in chat templates (not
// Jinja) matched against the GGUF tokenizer.chat_template, else ChatML.
// Temperature 0 is greedy decoding; otherwise top-k (default 40), top-p,
// temperature and a distribution sampler seeded by Request.Seed. Tokens
// stream as they are sampled; text that might begin a stop sequence, or
// an incomplete UTF-8 character, is held back until it is resolved, so a
// stop string is never emitted. Generation ends at an end-of-generation
// token or a stop sequence ("stop"), at MaxTokens or a full context
// ("length"), or when ctx ends ("cancelled", also interrupting a long
// prompt decode through llama.cpp's abort callback).
//
// Threads: ggml's worker threads spin while waiting for each other, so on
// a machine shared with other busy processes Config.Threads above the
// number of idle cores slows decoding down sharply.
package llama
