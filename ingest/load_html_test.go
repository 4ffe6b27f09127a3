package ingest

import (
	"reflect"
	"strings"
	"testing"
)

func TestHTMLBoilerplateRemoved(t *testing.T) {
	src := `<!DOCTYPE html>
<html><head><title>  Search &amp; Rescue </title>
<style>body { color: red }</style><script>var secret = "js";</script>
<meta name="description" content="meta text"></head>
<body>
<header><a href="/">Logo</a> site header</header>
<nav><ul><li>Home</li><li>About</li></ul></nav>
<main>
<h1>Main heading</h1>
<p>First <b>bold</b> and <a href="https://x.invalid">linked</a> words&nbsp;here.</p>
<p>Caf&eacute; &lt;tag&gt; &#8212; done.</p>
<div hidden>hidden attr</div><span aria-hidden="true">aria hidden</span>
<div style="display: none">inline hidden</div><p style="visibility:hidden">invisible</p>
<noscript>enable js</noscript><template><p>tmpl</p></template>
<svg><text>svg text</text></svg>
<form><label>Name</label><input value="v"><button>Send</button></form>
<ul><li>one</li><li>two</li></ul>
<table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table>
<pre>  indented
    code</pre>
<aside>related links</aside>
</main>
<footer>copyright</footer>
</body></html>`
	p := loadString(t, "page.html", src)
	if p.Doc.Title != "Search & Rescue" {
		t.Errorf("title %q", p.Doc.Title)
	}
	want := "Main heading\n\n" +
		"First bold and linked words here.\n\n" +
		"Café <tag> — done.\n\n" +
		"one\ntwo\n\n" +
		"k v\na 1\n\n" +
		"  indented\n    code"
	if p.Doc.Text != want {
		t.Errorf("text\n got %q\nwant %q", p.Doc.Text, want)
	}
	for _, bad := range []string{"secret", "color", "Logo", "Home", "hidden", "invisible", "enable js",
		"tmpl", "svg text", "Name", "Send", "related", "copyright", "meta text"} {
		if strings.Contains(p.Doc.Text, bad) {
			t.Errorf("text keeps boilerplate %q", bad)
		}
	}
}

func TestHTMLTitleAndSections(t *testing.T) {
	tests := []struct {
		name, src, title string
		sections         []sectionView
	}{
		{"title from h1", "<body><h1>Only <i>H1</i></h1><p>x</p></body>", "Only H1",
			[]sectionView{{"Only H1", "Only H1\n\nx"}}},
		{"nested headings", "<title>T</title><h1>A</h1><p>a</p><h2>B</h2><p>b</p><h3>C</h3><p>c</p><h2>D</h2><p>d</p>", "T",
			[]sectionView{{"A", "A\n\na"}, {"A > B", "B\n\nb"}, {"A > B > C", "C\n\nc"}, {"A > D", "D\n\nd"}}},
		{"hidden heading skipped", "<h1>Shown</h1><h2 hidden>Gone</h2><p>x</p>", "Shown",
			[]sectionView{{"Shown", "Shown\n\nx"}}},
		{"malformed", "<p>unclosed <b>bold <div>block</p></i> tail", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadString(t, "x.html", tt.src)
			if p.Doc.Title != tt.title {
				t.Errorf("title %q, want %q", p.Doc.Title, tt.title)
			}
			if got := viewSections(p); !reflect.DeepEqual(got, tt.sections) {
				t.Errorf("sections %q, want %q", got, tt.sections)
			}
		})
	}
}

func TestHTMLMalformedKeepsText(t *testing.T) {
	p := loadString(t, "m.htm", "<p>unclosed <b>bold <div>block</p></i> tail &bogus; &amp")
	for _, w := range []string{"unclosed", "bold", "block", "tail", "&bogus;", "&"} {
		if !strings.Contains(p.Doc.Text, w) {
			t.Errorf("text %q lost %q", p.Doc.Text, w)
		}
	}
}

func TestHTMLDeepNesting(t *testing.T) {
	// Deep nesting must neither overflow the stack nor lose the text.
	// x/net/html refuses more than 512 open elements; the token fallback
	// must still drop the same boilerplate and keep headings.
	src := "<title>Deep</title>" + strings.Repeat("<div>", 20000) +
		"<h1>Top</h1><script>js()</script><p>deep <b>text</b></p><nav>menu</nav><h2>Sub</h2>tail" +
		strings.Repeat("</div>", 20000)
	p := loadString(t, "deep.html", src)
	if want := "Top\n\ndeep text\n\nSub\n\ntail"; p.Doc.Text != want {
		t.Errorf("text %q, want %q", p.Doc.Text, want)
	}
	if p.Doc.Title != "Deep" || len(p.Warnings) != 1 {
		t.Errorf("title %q warnings %q", p.Doc.Title, p.Warnings)
	}
	want := []sectionView{{"Top", "Top\n\ndeep text"}, {"Top > Sub", "Sub\n\ntail"}}
	if got := viewSections(p); !reflect.DeepEqual(got, want) {
		t.Errorf("sections %q, want %q", got, want)
	}
	for _, unclosed := range []string{"<h2>never closed", "<script>never closed"} {
		p, err := parseHTML(strings.Repeat("<div>", 600) + unclosed)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(unclosed, "h2") != strings.Contains(p.Doc.Text, "never closed") {
			t.Errorf("%q: text %q", unclosed, p.Doc.Text)
		}
	}
}
