//go:build !amd64 || purego

package vector

const impl = "purego"

var (
	dot   = dotRef
	l2    = l2Ref
	dotU8 = dotU8Ref
	l2U8  = l2U8Ref
)
