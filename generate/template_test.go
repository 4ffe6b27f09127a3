package generate

import (
	"strings"
	"testing"
)

var convo = []Message{
	{Role: "system", Content: "SYS"},
	{Role: "user", Content: "Hi"},
	{Role: "assistant", Content: "Hello!"},
	{Role: "user", Content: "Bye?"},
}

func TestTemplateRender(t *testing.T) {
	tests := []struct {
		name string
		msgs []Message
		gen  bool
		want string
	}{
		{TemplateLlama2, convo, true,
			"[INST] <<SYS>>\nSYS\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye? [/INST]"},
		{TemplateLlama2, convo[1:2], true, "[INST] Hi [/INST]"},
		{TemplateMistral, convo, true,
			"[INST] SYS\n\nHi [/INST] Hello!</s>[INST] Bye? [/INST]"},
		{TemplateMistral, convo[1:2], false, "[INST] Hi [/INST]"},
		{TemplateLlama3, convo, true,
			"<|start_header_id|>system<|end_header_id|>\n\nSYS<|eot_id|>" +
				"<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
				"<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>" +
				"<|start_header_id|>user<|end_header_id|>\n\nBye?<|eot_id|>" +
				"<|start_header_id|>assistant<|end_header_id|>\n\n"},
		{TemplateLlama3, convo[1:2], false, "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"},
		{TemplateChatML, convo, true,
			"<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" +
				"<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye?<|im_end|>\n<|im_start|>assistant\n"},
		{TemplateChatML, convo[1:2], false, "<|im_start|>user\nHi<|im_end|>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, ok := LookupTemplate(tt.name)
			if !ok {
				t.Fatalf("LookupTemplate(%q) not found", tt.name)
			}
			if got := tmpl.Render(tt.msgs, tt.gen); got != tt.want {
				t.Errorf("Render =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestTemplateNeverEmitsLeadingBOS(t *testing.T) {
	for name := range builtinTemplates {
		tmpl, _ := LookupTemplate(name)
		got := tmpl.Render(convo, true)
		if tmpl.BOS != "" && strings.HasPrefix(got, tmpl.BOS) {
			t.Errorf("%s: render starts with BOS %q", name, tmpl.BOS)
		}
		if len(tmpl.Stop) == 0 {
			t.Errorf("%s: no stop texts", name)
		}
	}
}

func TestTemplateFor(t *testing.T) {
	// Fragments in the style of tokenizer.chat_template values from GGUF files.
	const (
		jinjaLlama2  = `{% if messages[0]['role'] == 'system' %}{% set system_message = '<<SYS>>\n' + messages[0]['content'] | trim + '\n<</SYS>>\n\n' %}{% endif %}{{ bos_token + '[INST] ' + content | trim + ' [/INST]' }}`
		jinjaMistral = `{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}`
		jinjaLlama3  = `{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}`
		jinjaChatML  = `{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}`
	)
	tests := []struct {
		name, gguf, want string
	}{
		{"llama-2", "", TemplateLlama2},
		{"Llama_3", "", TemplateLlama3},
		{"mistral-instruct", "", TemplateMistral},
		{"qwen2", "", TemplateChatML},
		{"ChatML", jinjaLlama3, TemplateChatML}, // a known name wins over detection
		{"", jinjaLlama2, TemplateLlama2},
		{"", jinjaMistral, TemplateMistral},
		{"", jinjaLlama3, TemplateLlama3},
		{"", jinjaChatML, TemplateChatML},
		{"unknown-family", jinjaMistral, TemplateMistral},
		{"", "{{ messages }}", TemplateChatML},
		{"", "", TemplateChatML},
	}
	for _, tt := range tests {
		if got := TemplateFor(tt.name, tt.gguf).Name; got != tt.want {
			t.Errorf("TemplateFor(%q, %.30q) = %q, want %q", tt.name, tt.gguf, got, tt.want)
		}
	}
	if _, ok := DetectTemplate("{{ messages }}"); ok {
		t.Error("DetectTemplate recognised a template without family markers")
	}
}

func TestZeroTemplateRendersChatML(t *testing.T) {
	var zero Template
	if !zero.IsZero() {
		t.Fatal("zero template not IsZero")
	}
	chatml, _ := LookupTemplate("chatml")
	if got, want := zero.Render(convo, true), chatml.Render(convo, true); got != want {
		t.Errorf("zero Render = %q, want ChatML %q", got, want)
	}
}
