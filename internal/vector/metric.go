package vector

import (
	"fmt"
	"strings"
)

// Metric is how vectors are compared. The indexes only see distances
// (lower is better); [Metric.Score] converts for the user.
type Metric uint8

const (
	// Cosine compares directions. Vectors must be normalised before they
	// are added or searched (see [Normalize]); the distance is then 1 − a·b.
	Cosine Metric = iota
	// IP is the inner product; distance 1 − a·b keeps "lower is better".
	IP
	// L2 is the squared Euclidean distance.
	L2
)

// ParseMetric reads Milvus's metric names (COSINE, IP, L2), in any case.
func ParseMetric(s string) (Metric, error) {
	switch strings.ToUpper(s) {
	case "COSINE":
		return Cosine, nil
	case "IP":
		return IP, nil
	case "L2":
		return L2, nil
	}
	return 0, fmt.Errorf("unknown metric %q (use COSINE, IP or L2)", s)
}

func (m Metric) String() string {
	switch m {
	case Cosine:
		return "COSINE"
	case IP:
		return "IP"
	case L2:
		return "L2"
	}
	return fmt.Sprintf("Metric(%d)", uint8(m))
}

// Dist returns the distance between a and b, lower is nearer.
func (m Metric) Dist(a, b []float32) float32 {
	if m == L2 {
		return l2(a, b)
	}
	return 1 - dot(a, b)
}

// Score converts a distance into the score users see: the similarity for
// COSINE and IP, the squared distance for L2.
func (m Metric) Score(d float32) float32 {
	if m == L2 {
		return d
	}
	return 1 - d
}
