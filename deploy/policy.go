package deploy

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"github.com/open-policy-agent/opa/v1/rego"
)

//go:embed policy/*.rego
var policyFiles embed.FS

// DenyQuery is the rule the policies fill with messages.
const DenyQuery = "data.kura.kubernetes.deny"

// Policy is the compiled Rego policy set, ready to evaluate.
type Policy struct {
	query rego.PreparedEvalQuery
}

// LoadPolicy compiles the policies in policy/.
func LoadPolicy(ctx context.Context) (*Policy, error) {
	opts := []func(*rego.Rego){rego.Query(DenyQuery)}
	err := fs.WalkDir(policyFiles, "policy", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := policyFiles.ReadFile(path)
		if err != nil {
			return err
		}
		opts = append(opts, rego.Module(path, string(src)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	q, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("compiling the policies: %w", err)
	}
	return &Policy{query: q}, nil
}

// Evaluate returns the policies' messages for a rendered set of resources,
// sorted; none means it passes.
func (p *Policy) Evaluate(ctx context.Context, resources []Resource) ([]string, error) {
	items := make([]any, len(resources))
	for i, r := range resources {
		items[i] = r.Object
	}
	rs, err := p.query.Eval(ctx, rego.EvalInput(map[string]any{"items": items}))
	if err != nil {
		return nil, fmt.Errorf("evaluating the policies: %w", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, fmt.Errorf("evaluating the policies: %s gave %d results", DenyQuery, len(rs))
	}
	set, ok := rs[0].Expressions[0].Value.([]any)
	if !ok {
		return nil, fmt.Errorf("evaluating the policies: %s is a %T, not a set", DenyQuery, rs[0].Expressions[0].Value)
	}
	msgs := make([]string, 0, len(set))
	for _, v := range set {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("evaluating the policies: a deny message is a %T", v)
		}
		msgs = append(msgs, s)
	}
	sort.Strings(msgs)
	return msgs, nil
}
