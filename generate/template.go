package generate

import (
	"strings"
)

// Template names understood by TemplateFor.
const (
	TemplateLlama2  = "llama2"
	TemplateMistral = "mistral"
	TemplateLlama3  = "llama3"
	TemplateChatML  = "chatml"
)

// Template renders a chat as the single prompt string a completion model
// expects. Render never emits the beginning-of-sequence token: tokenizers
// add it themselves (llama.cpp does for these families); BOS names it for
// backends that must add it by hand. Special tokens later in the prompt
// ("</s>", "<|eot_id|>", "<|im_start|>") are literal text that the backend
// must tokenize with special-token parsing enabled.
//
// The zero Template renders ChatML.
type Template struct {
	// Name is one of the Template* constants.
	Name string
	// BOS is the family's beginning-of-sequence token text.
	BOS string
	// Stop lists the end-of-turn texts a generation should stop at.
	Stop []string

	render func(msgs []Message, gen bool) string
}

// Render formats msgs in the template's family format. With
// addGenerationPrompt the prompt ends with the header of an assistant turn,
// ready for the model to continue. The [INST] families (Llama-2, Mistral)
// close a user turn with "[/INST]", so the flag changes nothing for them.
func (t Template) Render(msgs []Message, addGenerationPrompt bool) string {
	if t.render == nil {
		return renderChatML(msgs, addGenerationPrompt)
	}
	return t.render(msgs, addGenerationPrompt)
}

// IsZero reports whether t is the zero Template.
func (t Template) IsZero() bool { return t.Name == "" && t.render == nil }

var builtinTemplates = map[string]Template{
	TemplateLlama2:  {Name: TemplateLlama2, BOS: "<s>", Stop: []string{"</s>", "[INST]"}, render: renderLlama2},
	TemplateMistral: {Name: TemplateMistral, BOS: "<s>", Stop: []string{"</s>", "[INST]"}, render: renderMistral},
	TemplateLlama3:  {Name: TemplateLlama3, BOS: "<|begin_of_text|>", Stop: []string{"<|eot_id|>", "<|end_of_text|>"}, render: renderLlama3},
	TemplateChatML:  {Name: TemplateChatML, Stop: []string{"<|im_end|>"}, render: renderChatML},
}

var templateAliases = map[string]string{
	"llama2": TemplateLlama2, "llama2chat": TemplateLlama2, "llama": TemplateLlama2,
	"mistral": TemplateMistral, "mistralinstruct": TemplateMistral, "mixtral": TemplateMistral,
	"llama3": TemplateLlama3, "llama31": TemplateLlama3, "llama32": TemplateLlama3, "llama3instruct": TemplateLlama3,
	"chatml": TemplateChatML, "qwen": TemplateChatML, "qwen2": TemplateChatML,
}

// LookupTemplate returns the built-in template with the given name or alias
// ("llama-2", "Llama3", "mistral-instruct", "chatml", "qwen2", ...).
func LookupTemplate(name string) (Template, bool) {
	key := strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.', ' ':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(name)))
	canon, ok := templateAliases[key]
	if !ok {
		return Template{}, false
	}
	return builtinTemplates[canon], true
}

// DetectTemplate recognises the family of a Jinja chat template, as found in
// a GGUF file's tokenizer.chat_template, by the special tokens it writes. It
// does not evaluate Jinja.
func DetectTemplate(jinja string) (Template, bool) {
	switch {
	case jinja == "":
		return Template{}, false
	case strings.Contains(jinja, "<|im_start|>"):
		return builtinTemplates[TemplateChatML], true
	case strings.Contains(jinja, "<|start_header_id|>") || strings.Contains(jinja, "<|eot_id|>"):
		return builtinTemplates[TemplateLlama3], true
	case strings.Contains(jinja, "<<SYS>>"):
		return builtinTemplates[TemplateLlama2], true
	case strings.Contains(jinja, "[INST]"):
		return builtinTemplates[TemplateMistral], true
	}
	return Template{}, false
}

// TemplateFor picks a chat template: by name when name is a known template,
// else detected from the GGUF chat template string, else ChatML, the most
// widely understood format.
func TemplateFor(name, ggufTemplate string) Template {
	if t, ok := LookupTemplate(name); ok {
		return t
	}
	if t, ok := DetectTemplate(ggufTemplate); ok {
		return t
	}
	return builtinTemplates[TemplateChatML]
}

// splitSystem joins the system messages (they go in the first turn of the
// [INST] families) and returns the others in order.
func splitSystem(msgs []Message) (string, []Message) {
	var sys []string
	var rest []Message
	for _, m := range msgs {
		if m.Role == "system" {
			if s := strings.TrimSpace(m.Content); s != "" {
				sys = append(sys, s)
			}
			continue
		}
		rest = append(rest, m)
	}
	return strings.Join(sys, "\n\n"), rest
}

// renderLlama2 writes Meta's Llama-2 chat format:
//
//	[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] {user} [/INST]
func renderLlama2(msgs []Message, _ bool) string {
	sys, rest := splitSystem(msgs)
	var b strings.Builder
	first := true
	open := func() {
		if !first {
			b.WriteString("<s>")
		}
		b.WriteString("[INST] ")
		if first && sys != "" {
			b.WriteString("<<SYS>>\n")
			b.WriteString(sys)
			b.WriteString("\n<</SYS>>\n\n")
		}
		first = false
	}
	for _, m := range rest {
		c := strings.TrimSpace(m.Content)
		if m.Role == "assistant" {
			if first {
				open()
				b.WriteString("[/INST]")
			}
			b.WriteString(" ")
			b.WriteString(c)
			b.WriteString(" </s>")
			continue
		}
		open()
		b.WriteString(c)
		b.WriteString(" [/INST]")
	}
	if first && sys != "" {
		open()
		b.WriteString("[/INST]")
	}
	return b.String()
}

// renderMistral writes the Mistral-instruct format, which has no system
// role: the system text leads the first user turn.
//
//	[INST] {system}\n\n{user} [/INST] {assistant}</s>[INST] {user} [/INST]
func renderMistral(msgs []Message, _ bool) string {
	sys, rest := splitSystem(msgs)
	var b strings.Builder
	first := true
	for _, m := range rest {
		c := strings.TrimSpace(m.Content)
		if m.Role == "assistant" {
			b.WriteString(" ")
			b.WriteString(c)
			b.WriteString("</s>")
			continue
		}
		b.WriteString("[INST] ")
		if first && sys != "" {
			b.WriteString(sys)
			b.WriteString("\n\n")
		}
		first = false
		b.WriteString(c)
		b.WriteString(" [/INST]")
	}
	if first && sys != "" {
		b.WriteString("[INST] ")
		b.WriteString(sys)
		b.WriteString(" [/INST]")
	}
	return b.String()
}

// renderLlama3 writes the Llama-3 header format:
//
//	<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>
func renderLlama3(msgs []Message, gen bool) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("<|start_header_id|>")
		b.WriteString(m.Role)
		b.WriteString("<|end_header_id|>\n\n")
		b.WriteString(strings.TrimSpace(m.Content))
		b.WriteString("<|eot_id|>")
	}
	if gen {
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	}
	return b.String()
}

// renderChatML writes ChatML:
//
//	<|im_start|>{role}\n{content}<|im_end|>\n
func renderChatML(msgs []Message, gen bool) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("<|im_start|>")
		b.WriteString(m.Role)
		b.WriteString("\n")
		b.WriteString(m.Content)
		b.WriteString("<|im_end|>\n")
	}
	if gen {
		b.WriteString("<|im_start|>assistant\n")
	}
	return b.String()
}
