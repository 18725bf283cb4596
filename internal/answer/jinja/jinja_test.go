package jinja

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestErrorsNameTheLine(t *testing.T) {
	f := func(src string, line int, wantMsg string) {
		t.Helper()
		_, err := render(src, map[string]any{"question": "q", "xs": []any{"a"}})
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%q: error %v, want *Error", src, err)
		}
		if e.Line != line || !strings.Contains(e.Error(), wantMsg) {
			t.Fatalf("%q: error %q (line %d), want line %d mentioning %q", src, e.Error(), e.Line, line, wantMsg)
		}
		if !strings.HasPrefix(e.Error(), "case line ") {
			t.Fatalf("%q: error %q does not start with the template name and line", src, e.Error())
		}
	}
	f("line1\n{% macro m() %}{% endmacro %}", 2, "macros are not supported")
	f("a\nb\n{% include 'x.j2' %}", 3, "include is not supported")
	f("{% extends 'base' %}", 1, "inheritance")
	f("\n\n\n{% block body %}{% endblock %}", 4, "inheritance")
	f("{% call foo() %}{% endcall %}", 1, "call blocks")
	f("{% filter upper %}x{% endfilter %}", 1, "filter blocks")
	f("{% with a = 1 %}{% endwith %}", 1, "with blocks")
	f("{% for x in xs %}{% break %}{% endfor %}", 1, "loop controls")
	f("{% frobnicate %}", 1, "unknown tag {% frobnicate %}")
	f("x\n{{ question | frobnicate }}", 2, `unknown filter "frobnicate"`)
	f("{% if question is frobnicated %}{% endif %}", 1, `unknown test "frobnicated"`)
	f("\n{% if question %}\nno end", 2, "never closed with {% endif %}")
	f("{% for x in xs %}\n{% endif %}", 2, "inside {% for %}")
	f("ok\n{{ question ", 2, "never closed with }}")
	f("{# unclosed", 1, "never closed with #}")
	f("{% raw %}\nno end", 1, "{% endraw %}")
	f("{{ }}", 1, "empty {{ }}")
	f("\n\n{{ 1 + }}", 3, "ends too early")
	f("{{ missing.attr }}", 1, "missing is undefined")
	f("a\n{{ 1 / 0 }}", 2, "division by zero")
	f("{{ 'a' < 1 }}", 1, "cannot compare")
	f("{{ frob() }}", 1, "calling frob() is not supported")
	f("{% for a, b in xs %}{% endfor %}", 1, "cannot unpack")
	f("{{ question @ 1 }}", 1, "unexpected character")
	f("{{ 'abc }}", 1, "never closed")
	f("{% endfor %}", 1, "without a matching opening tag")
}

func TestVariables(t *testing.T) {
	f := func(src string, want ...string) {
		t.Helper()
		tpl, err := Parse("v", src)
		if err != nil {
			t.Fatal(err)
		}
		got := tpl.Variables()
		if want == nil {
			want = []string{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Variables(%q) = %v, want %v", src, got, want)
		}
	}
	f("{{ question }} {{ context }}", "context", "question")
	f("{{question|trim}}{% if history %}{{ history | length }}{% endif %}", "history", "question")
	f("{% for s in sources %}{{ s.title }}{{ loop.index }}{% endfor %}", "sources")
	f("{% set x = question %}{{ x }}", "question")
	f("{{ x }}{% set x = 1 %}", "x")
	f("{% for i in range(3) %}{{ i }}{% endfor %}")
	f("{% raw %}{{ question }}{% endraw %}")
	f("{# {{ question }} #}")
	f("{{ questoin }}", "questoin")
}

func TestRenderIsBounded(t *testing.T) {
	f := func(src, wantMsg string) {
		t.Helper()
		_, err := render(src, map[string]any{"s": strings.Repeat("x", 2000)})
		if err == nil || !strings.Contains(err.Error(), wantMsg) {
			t.Fatalf("%q: error %v, want one mentioning %q", src, err, wantMsg)
		}
	}
	f("{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}", "iterations")
	f("{{ s * 100000 }}", "MiB")
	f("{% for a in s %}{% for b in s %}{{ s }}{% endfor %}{% endfor %}", "exceeds")
	f("{{ range(100000000) }}", "range() is longer")
}

func TestGoValues(t *testing.T) {
	type pair struct{ A string }
	got, err := render("{{ xs | join(',') }} {{ m.k }} {{ n + 1 }} {{ ok }} {{ p.A }}", map[string]any{
		"xs": []string{"a", "b"},
		"m":  map[string]string{"k": "v"},
		"n":  7,
		"ok": false,
		"p":  map[string]any{"A": pair{"x"}.A},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "a,b v 8 False x"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestConcurrentRender(t *testing.T) {
	tpl, err := Parse("c", "{% set x = q %}{% for c in x %}{{ loop.index }}{{ c }}{% endfor %}")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	for i := 0; i < 8; i++ {
		go func() {
			out, _ := tpl.Render(map[string]any{"q": "abc"})
			done <- out
		}()
	}
	for i := 0; i < 8; i++ {
		if out := <-done; out != "1a2b3c" {
			t.Fatalf("got %q", out)
		}
	}
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"{{ question }}", "{{question|trim}}", "{% if a %}x{% elif b %}y{% else %}z{% endif %}",
		"{% for s in sources %}{{ loop.index }}{{ s.title | default('?') }}{% else %}none{% endfor %}",
		"{%- raw -%}{{ x }}{%- endraw -%}", "{# c #}", "{{ 'a' ~ 1 ~ none }}", "{{ xs[1:2] }}",
		"{% set a, b = [1, 2] %}{{ a + b * 3 // 2 % 5 ** 2 }}", "{{ {'a': [1, {'b': 2}]} | tojson }}",
		"{{ question.split()|join('-') }}", "{{ 1 if x else 2 }}", "{{ -'a' }}", "{%", "{{", "{#", "}}",
	} {
		f.Add(s)
	}
	vars := map[string]any{
		"question": "GitOpsとは？", "context": "[1] a\nb", "xs": []any{int64(1), "two", nil},
		"sources": []any{map[string]any{"title": "t", "n": int64(1)}}, "a": true, "b": int64(0),
	}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := Parse("fuzz", src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 {
				t.Fatalf("parse error %v is not an *Error with a line", err)
			}
			return
		}
		out, err := tpl.Render(vars)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 {
				t.Fatalf("render error %v is not an *Error with a line", err)
			}
			return
		}
		if len(out) > MaxOutput {
			t.Fatalf("output of %d bytes exceeds the limit", len(out))
		}
		tpl.Variables()
	})
}
