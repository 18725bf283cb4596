package jinja

import "sort"

// Variables returns the names the template reads from its data, sorted:
// every variable used before a {% set %} or a loop binds it. The answer
// stage uses it to refuse a prompt that misspells {{ question }}.
func (t *Template) Variables() []string {
	w := &varWalker{free: map[string]bool{}}
	w.nodes(t.body, []map[string]bool{{}})
	out := make([]string, 0, len(w.free))
	for n := range w.free {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Uses reports whether the template reads the variable name.
func (t *Template) Uses(name string) bool {
	for _, v := range t.Variables() {
		if v == name {
			return true
		}
	}
	return false
}

type varWalker struct{ free map[string]bool }

func bound(scopes []map[string]bool, name string) bool {
	for _, s := range scopes {
		if s[name] {
			return true
		}
	}
	return false
}

func (w *varWalker) nodes(ns []node, scopes []map[string]bool) {
	for _, n := range ns {
		switch n := n.(type) {
		case *outputNode:
			w.expr(n.x, scopes)
		case *ifNode:
			for i, c := range n.conds {
				w.expr(c, scopes)
				w.nodes(n.bodies[i], scopes)
			}
			w.nodes(n.els, scopes)
		case *forNode:
			w.expr(n.iter, scopes)
			inner := map[string]bool{"loop": true}
			for _, v := range n.vars {
				inner[v] = true
			}
			s := append(append([]map[string]bool{}, scopes...), inner)
			if n.cond != nil {
				w.expr(n.cond, s)
			}
			w.nodes(n.body, s)
			w.nodes(n.els, scopes)
		case *setNode:
			if n.x != nil {
				w.expr(n.x, scopes)
			} else {
				w.nodes(n.body, scopes)
			}
			for _, name := range n.names {
				scopes[len(scopes)-1][name] = true
			}
		}
	}
}

func (w *varWalker) expr(x expr, scopes []map[string]bool) {
	switch x := x.(type) {
	case *nameExpr:
		if !bound(scopes, x.name) {
			w.free[x.name] = true
		}
	case *attrExpr:
		w.expr(x.x, scopes)
	case *indexExpr:
		w.expr(x.x, scopes)
		w.expr(x.index, scopes)
	case *sliceExpr:
		for _, e := range []expr{x.x, x.lo, x.hi, x.step} {
			if e != nil {
				w.expr(e, scopes)
			}
		}
	case *listExpr:
		for _, e := range x.items {
			w.expr(e, scopes)
		}
	case *dictExpr:
		for i := range x.keys {
			w.expr(x.keys[i], scopes)
			w.expr(x.values[i], scopes)
		}
	case *unaryExpr:
		w.expr(x.x, scopes)
	case *binaryExpr:
		w.expr(x.l, scopes)
		w.expr(x.r, scopes)
	case *condExpr:
		w.expr(x.cond, scopes)
		w.expr(x.then, scopes)
		w.expr(x.els, scopes)
	case *filterExpr:
		w.expr(x.x, scopes)
		for _, a := range x.args {
			w.expr(a, scopes)
		}
		for _, a := range x.kwargs {
			w.expr(a, scopes)
		}
	case *testExpr:
		w.expr(x.x, scopes)
		for _, a := range x.args {
			w.expr(a, scopes)
		}
	case *callExpr:
		if n, ok := x.fn.(*nameExpr); !ok || n.name != "range" || bound(scopes, "range") {
			w.expr(x.fn, scopes) // not the built-in range()
		}
		for _, a := range x.args {
			w.expr(a, scopes)
		}
		for _, a := range x.kwargs {
			w.expr(a, scopes)
		}
	}
}
