package deploy

import (
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Resource is one rendered Kubernetes object.
type Resource struct {
	// ID names it for messages: Kind/namespace/name.
	ID string
	// YAML is kustomize's output for it.
	YAML []byte
	// Object is the generic form the policies see.
	Object map[string]any
}

// Render builds the kustomization in dir (a directory on disk, with its
// bases) as `kustomize build dir` does.
func Render(dir string) ([]Resource, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var out []Resource
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, r.CurId(), err)
		}
		obj, err := r.Map()
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, r.CurId(), err)
		}
		out = append(out, Resource{
			ID:     fmt.Sprintf("%s/%s/%s", r.GetKind(), r.GetNamespace(), r.GetName()),
			YAML:   y,
			Object: obj,
		})
	}
	return out, nil
}

// scheme knows the API types kura's manifests may use; a kind outside it
// (or an old API version such as batch/v1beta1) fails DecodeStrict.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		networkingv1.AddToScheme, policyv1.AddToScheme, rbacv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

var strictDecoder = serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

// DecodeStrict decodes one manifest into its Kubernetes API type, refusing
// unknown fields, duplicate fields and kinds this package does not know.
func DecodeStrict(manifest []byte) (runtime.Object, error) {
	obj, _, err := strictDecoder.Decode(manifest, nil, nil)
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// UnmarshalStrict decodes YAML into v as the Kubernetes API server decodes
// JSON strictly: field names match case-sensitively, and unknown or
// duplicate fields are errors. It is for custom resources (Argo CD's
// Application) whose Go types are not a dependency here.
func UnmarshalStrict(data []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(j, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}
