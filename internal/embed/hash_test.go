package embed

import (
	"context"
	"math"
	"testing"
)

func embedOne(t *testing.T, e Embedder, text string) []float32 {
	t.Helper()
	vs, err := e.Embed(context.Background(), []string{text}, ModeDocument)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 {
		t.Fatalf("got %d vectors for 1 text", len(vs))
	}
	return vs[0]
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

func TestHashDeterministicAndNormalised(t *testing.T) {
	h, err := NewHash(0)
	if err != nil {
		t.Fatal(err)
	}
	if h.Info().Dim != DefaultHashDim {
		t.Fatalf("dim %d, want %d", h.Info().Dim, DefaultHashDim)
	}
	a := embedOne(t, h, "GitOpsはKubernetesの運用手法です。")
	b := embedOne(t, h, "GitOpsはKubernetesの運用手法です。")
	if len(a) != DefaultHashDim {
		t.Fatalf("vector has %d dims", len(a))
	}
	var norm float64
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("not deterministic at %d: %v vs %v", i, a[i], b[i])
		}
		norm += float64(a[i]) * float64(a[i])
	}
	if math.Abs(norm-1) > 1e-5 {
		t.Fatalf("squared norm %v, want 1", norm)
	}
}

func TestHashEmptyTextIsZero(t *testing.T) {
	h, _ := NewHash(64)
	for _, text := range []string{"", "   ", "。、！"} {
		for i, x := range embedOne(t, h, text) {
			if x != 0 {
				t.Fatalf("%q: coordinate %d is %v, want a zero vector", text, i, x)
			}
		}
	}
}

func TestHashNormalisesWidthAndCase(t *testing.T) {
	h, _ := NewHash(256)
	a := embedOne(t, h, "ＧｉｔＯｐｓ　ｶﾀｶﾅ")
	b := embedOne(t, h, "gitops カタカナ")
	if c := cosine(a, b); c < 0.999 {
		t.Fatalf("full-width and half-width forms should embed alike, cosine %v", c)
	}
}

func TestHashRanksSharedTermsHigher(t *testing.T) {
	h, _ := NewHash(0)
	q := embedOne(t, h, "Argo CDの同期はどう動きますか")
	related := embedOne(t, h, "Argo CDはGitリポジトリとクラスタの状態を比較し、差分を同期します。")
	unrelated := embedOne(t, h, "今日は天気が良いので公園を散歩しました。")
	// Sharing only grammar (particles, endings) must count for little.
	if cr, cu := cosine(q, related), cosine(q, unrelated); cr <= cu*2 {
		t.Fatalf("related %v should clearly beat unrelated %v", cr, cu)
	}
}

func TestHashDimValidation(t *testing.T) {
	for _, d := range []int{-1, 4, 1 << 20} {
		if _, err := NewHash(d); err == nil {
			t.Errorf("dim %d accepted", d)
		}
	}
}

func TestNewRegistry(t *testing.T) {
	e, err := New(Config{})
	if err != nil || e.Info().Name != "hash" {
		t.Fatalf("default embedder: %v %v", e, err)
	}
	if _, err := New(Config{Name: "nope"}); err == nil {
		t.Fatal("unknown embedder accepted")
	}
	if got := BatchSize(e, 0); got != DefaultBatchSize {
		t.Fatalf("default batch %d", got)
	}
}

func TestEmbedHonoursCancel(t *testing.T) {
	h, _ := NewHash(0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Embed(ctx, make([]string, 100), ModeDocument); err == nil {
		t.Fatal("cancelled context ignored")
	}
}

func BenchmarkHashEmbed(b *testing.B) {
	h, _ := NewHash(0)
	text := "リオデジャネイロ港は貨物取扱量でブラジルで3番目の港であり、埠頭の総延長は7kmに及ぶ。CI/CD pipelines with Argo CD and Tekton."
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		h.Embed(context.Background(), []string{text}, ModeDocument)
	}
}
