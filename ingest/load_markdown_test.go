package ingest

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func loadString(t *testing.T, name, src string) Parsed {
	t.Helper()
	ps, err := LoadReader(context.Background(), strings.NewReader(src), name, "", LoadOptions{})
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	if len(ps) != 1 {
		t.Fatalf("load %s: %d docs", name, len(ps))
	}
	checkParsed(t, ps[0])
	return ps[0]
}

// sectionView is a section as the text it covers, for readable tests.
type sectionView struct {
	Path string
	Text string
}

func viewSections(p Parsed) []sectionView {
	var out []sectionView
	for _, s := range p.Sections {
		out = append(out, sectionView{strings.Join(s.Headings, " > "), p.Doc.Text[s.Start:s.End]})
	}
	return out
}

func TestMarkdownSections(t *testing.T) {
	src := "Preamble line.\n\n" +
		"# Guide\n\nIntro.\n\n" +
		"## Install\n\nRun it.\n\n" +
		"### Linux ###\n\napt install ragd\n\n" +
		"### macOS\n\nbrew install\n\n" +
		"## Use\n\nSearch.\n\n" +
		"# Appendix\n\nEnd.\n"
	p := loadString(t, "g.md", src)
	if p.Doc.Title != "Guide" {
		t.Errorf("title %q, want Guide", p.Doc.Title)
	}
	want := []sectionView{
		{"Guide", "Guide\n\nIntro."},
		{"Guide > Install", "Install\n\nRun it."},
		{"Guide > Install > Linux", "Linux\n\napt install ragd"},
		{"Guide > Install > macOS", "macOS\n\nbrew install"},
		{"Guide > Use", "Use\n\nSearch."},
		{"Appendix", "Appendix\n\nEnd."},
	}
	if got := viewSections(p); !reflect.DeepEqual(got, want) {
		t.Errorf("sections\n got %q\nwant %q", got, want)
	}
	if !strings.HasPrefix(p.Doc.Text, "Preamble line.\n\nGuide") {
		t.Errorf("text starts %q", p.Doc.Text[:30])
	}
}

func TestMarkdownReadableText(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"link", "See [the docs](https://example.invalid/docs \"Docs\") now.", "See the docs now."},
		{"link with parens", "A [wiki](https://w.invalid/a_(b)) link.", "A wiki link."},
		{"reference link", "Read [this][ref].\n\n[ref]: https://x.invalid/", "Read this."},
		{"image", "![a diagram](img/d.png) follows", "a diagram follows"},
		{"image in link", "[![badge](b.svg)](https://ci.invalid)", "badge"},
		{"autolink", "Mail <me@x.invalid> or <https://x.invalid>.", "Mail me@x.invalid or https://x.invalid."},
		{"emphasis", "**bold**, *it*, __b__, _i_, ~~gone~~", "bold, it, b, i, gone"},
		{"snake case kept", "use snake_case_names and 2 * 3", "use snake_case_names and 2 * 3"},
		{"inline code kept", "call `f(*x, [y])` here", "call f(*x, [y]) here"},
		{"double backticks", "``a ` b``", "a ` b"},
		{"escapes", `\*not em\* and \[x\]`, "*not em* and [x]"},
		{"html tags and comments", "a <span class=\"x\">b</span> <!-- hidden --> c", "a b  c"},
		{"entities", "fish &amp; chips &lt;3", "fish & chips <3"},
		{"fenced code verbatim", "text\n\n```python\ndef f(x):\n    return [x](y)\n```\n\nafter", "text\n\ndef f(x):\n    return [x](y)\n\nafter"},
		{"tilde fence", "~~~\n# not heading\n~~~", "# not heading"},
		{"block quote", "> quoted *text*\n> more", "quoted text\nmore"},
		{"rules dropped", "a\n\n---\n\nb\n\n***\n\nc", "a\n\nb\n\nc"},
		{"table rule dropped", "| a | b |\n|---|:-:|\n| 1 | 2 |", "| a | b |\n| 1 | 2 |"},
		{"multi-line comment", "a\n\n<!--\nsecret\n-->\n\nb", "a\n\nb"},
		{"script and style blocks", "a\n\n<script type=\"x\">\nvar s = 1;\n</script>\n<style>p{}</style>\n\nb", "a\n\nb"},
		{"footnote marker", "claim[^1] holds", "claim holds"},
		{"lone brackets", "array[i] and [x]", "arrayi and x"},
		{"unclosed", "[never closed and ` tick and <tag", "[never closed and ` tick and <tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadString(t, "x.md", tt.src)
			if p.Doc.Text != tt.want {
				t.Errorf("got  %q\nwant %q", p.Doc.Text, tt.want)
			}
		})
	}
}

func TestMarkdownTitleAndHeadings(t *testing.T) {
	tests := []struct {
		name, src, title string
		paths            []string
	}{
		{"front matter", "---\ntitle: \"From YAML\"\ntags: [a]\n---\n# H1\n\nx", "From YAML", []string{"H1"}},
		{"setext", "Big\n===\n\ntext\n\nSmall\n-----\n\nmore", "Big", []string{"Big", "Big > Small"}},
		{"no h1", "## Only two\n\nx", "", []string{"Only two"}},
		{"heading markup", "# The `ragd` [CLI](u)\n\nx", "The ragd CLI", []string{"The ragd CLI"}},
		{"skipped level", "# A\n\n### C\n\nx\n\n## B\n\ny", "A", []string{"A", "A > C", "A > B"}},
		{"not a heading", "#hashtag\n\n####### seven", "", nil},
		{"heading in code", "```\n# code\n```\n\n# Real\n\nx", "Real", []string{"Real"}},
		{"empty heading", "#\n\ntext", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadString(t, "x.md", tt.src)
			if p.Doc.Title != tt.title {
				t.Errorf("title %q, want %q", p.Doc.Title, tt.title)
			}
			var paths []string
			for _, s := range viewSections(p) {
				paths = append(paths, s.Path)
			}
			if !reflect.DeepEqual(paths, tt.paths) {
				t.Errorf("paths %q, want %q (text %q)", paths, tt.paths, p.Doc.Text)
			}
		})
	}
}
