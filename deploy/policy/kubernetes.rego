# Policies for kura's Kubernetes manifests, evaluated against the whole
# rendered set at once (input.items: every resource kustomize renders), so
# that references between resources can be checked too: a Service that
# selects no pod, a pod no NetworkPolicy selects, a missing PVC.
#
# Each rule adds a message to deny: "<Kind>/<name>[ container <c>]: what is
# wrong and what to write instead". The project's tests render the overlays
# and require deny to be empty (deploy/kubernetes_test.go); with OPA's CLI:
#   kubectl kustomize deploy/kubernetes/overlays/local-store \
#     | yq ea -o json '[.] | {"items": .}' \
#     | opa eval --stdin-input -d deploy/policy 'data.kura.kubernetes.deny'
package kura.kubernetes

# --- what is a workload, and where its pods are described ------------------

pod_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}

long_running_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"}

cluster_scoped_kinds := {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass", "PriorityClass", "IngressClass"}

workloads contains r if {
	some r in input.items
	r.kind in pod_kinds
}

pod_template(r) := r.spec.jobTemplate.spec.template if r.kind == "CronJob"

pod_template(r) := r.spec.template if not r.kind in {"CronJob", "Pod"}

pod_template(r) := r if r.kind == "Pod"

pod_spec(r) := pod_template(r).spec

pod_labels(r) := object.get(pod_template(r), ["metadata", "labels"], {})

id(r) := sprintf("%s/%s", [r.kind, r.metadata.name])

namespace_of(r) := object.get(r, ["metadata", "namespace"], "")

# Every container, init containers included, with where it is.
containers contains [r, c, "container"] if {
	some r in workloads
	some c in object.get(pod_spec(r), "containers", [])
}

containers contains [r, c, "init container"] if {
	some r in workloads
	some c in object.get(pod_spec(r), "initContainers", [])
}

# A container setting wins over the pod's.
effective(r, c, key) := c.securityContext[key]

effective(r, c, key) := pod_spec(r).securityContext[key] if not key in object.keys(object.get(c, "securityContext", {}))

# --- pods and containers run unprivileged ------------------------------------

deny contains msg if {
	some [r, c, what] in containers
	not effective(r, c, "runAsNonRoot") == true
	msg := sprintf("%s %s %s: runAsNonRoot must be true (in the pod's or the container's securityContext)", [id(r), what, c.name])
}

deny contains msg if {
	some [r, c, what] in containers
	some key in ["runAsUser", "runAsGroup"]
	effective(r, c, key) == 0
	msg := sprintf("%s %s %s: %s is 0 (root); use a non-zero id such as 65532", [id(r), what, c.name, key])
}

deny contains msg if {
	some [r, c, what] in containers
	not c.securityContext.allowPrivilegeEscalation == false
	msg := sprintf("%s %s %s: set securityContext.allowPrivilegeEscalation: false", [id(r), what, c.name])
}

deny contains msg if {
	some [r, c, what] in containers
	not c.securityContext.readOnlyRootFilesystem == true
	msg := sprintf("%s %s %s: set securityContext.readOnlyRootFilesystem: true (mount an emptyDir where it writes)", [id(r), what, c.name])
}

deny contains msg if {
	some [r, c, what] in containers
	not "ALL" in object.get(c, ["securityContext", "capabilities", "drop"], [])
	msg := sprintf("%s %s %s: drop all capabilities (securityContext.capabilities.drop: [ALL])", [id(r), what, c.name])
}

deny contains msg if {
	some [r, c, what] in containers
	count(object.get(c, ["securityContext", "capabilities", "add"], [])) > 0
	msg := sprintf("%s %s %s: adds capabilities %v; kura needs none", [id(r), what, c.name, c.securityContext.capabilities.add])
}

deny contains msg if {
	some [r, c, what] in containers
	c.securityContext.privileged == true
	msg := sprintf("%s %s %s: must not be privileged", [id(r), what, c.name])
}

deny contains msg if {
	some [r, c, what] in containers
	not effective(r, c, "seccompProfile").type in {"RuntimeDefault", "Localhost"}
	msg := sprintf("%s %s %s: set seccompProfile.type: RuntimeDefault", [id(r), what, c.name])
}

deny contains msg if {
	some r in workloads
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	pod_spec(r)[field] == true
	msg := sprintf("%s: %s must not be true", [id(r), field])
}

deny contains msg if {
	some r in workloads
	some v in object.get(pod_spec(r), "volumes", [])
	v.hostPath
	msg := sprintf("%s: volume %s is a hostPath; use a PersistentVolumeClaim or an emptyDir", [id(r), v.name])
}

deny contains msg if {
	some r in workloads
	not pod_spec(r).automountServiceAccountToken == false
	msg := sprintf("%s: set automountServiceAccountToken: false (kura calls no Kubernetes API)", [id(r)])
}

# A Service named kura would put KURA_SERVICE_HOST, KURA_PORT, ... into
# every pod's environment, where kura reads its own KURA_* settings.
deny contains msg if {
	some r in workloads
	not pod_spec(r).enableServiceLinks == false
	msg := sprintf("%s: set enableServiceLinks: false (Service variables such as KURA_PORT would mix with kura's KURA_* settings)", [id(r)])
}

# --- resources ----------------------------------------------------------------

deny contains msg if {
	some [r, c, what] in containers
	some kind in ["requests", "limits"]
	some res in ["cpu", "memory"]
	not c.resources[kind][res]
	msg := sprintf("%s %s %s: resources.%s.%s is not set", [id(r), what, c.name, kind, res])
}

# --- images are pinned ----------------------------------------------------------

image_tag(image) := tag if {
	not contains(image, "@")
	parts := split(image, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	tag := split(last, ":")[1]
}

deny contains msg if {
	some [r, c, what] in containers
	not contains(c.image, "@sha256:")
	not image_tag(c.image)
	msg := sprintf("%s %s %s: image %s has no tag; name a version (or a digest)", [id(r), what, c.name, c.image])
}

deny contains msg if {
	some [r, c, what] in containers
	image_tag(c.image) in {"latest", "main", "master", "edge", "nightly", "stable"}
	msg := sprintf("%s %s %s: image %s uses the moving tag %q; name a version (or a digest)", [id(r), what, c.name, c.image, image_tag(c.image)])
}

# --- probes -------------------------------------------------------------------

deny contains msg if {
	some [r, c, "container"] in containers
	r.kind in long_running_kinds
	some probe in ["livenessProbe", "readinessProbe"]
	not c[probe]
	msg := sprintf("%s container %s: no %s", [id(r), c.name, probe])
}

# kura serve's own endpoints: liveness on /healthz (the process serves),
# readiness on /readyz (the store is open), on the port it listens on.
serves(c) if c.args[0] == "serve"

deny contains msg if {
	some [r, c, "container"] in containers
	serves(c)
	some [probe, path] in [["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"]]
	c[probe]
	not c[probe].httpGet.path == path
	msg := sprintf("%s container %s: %s must be an httpGet of %s", [id(r), c.name, probe, path])
}

deny contains msg if {
	some [r, c, "container"] in containers
	serves(c)
	some probe in ["livenessProbe", "readinessProbe", "startupProbe"]
	port := c[probe].httpGet.port
	not port_of(c, port)
	msg := sprintf("%s container %s: %s probes port %v, which the container does not declare", [id(r), c.name, probe, port])
}

port_of(c, port) if {
	some p in c.ports
	p.name == port
}

port_of(c, port) if {
	some p in c.ports
	p.containerPort == port
}

# --- secrets never appear in the manifests ---------------------------------------

secret_name_pattern := `(?i)(api[_-]?key|secret|token|passw(or)?d|credential|private[_-]?key|access[_-]?key)`

secret_value_pattern := `^(sk-|pk-lf-|sk-lf-|ghp_|github_pat_|xox[bp]-|AKIA|-----BEGIN)`

deny contains msg if {
	some [r, c, what] in containers
	some e in object.get(c, "env", [])
	regex.match(secret_name_pattern, e.name)
	e.value != ""
	msg := sprintf("%s %s %s: env %s has a literal value; take it from a Secret (valueFrom.secretKeyRef)", [id(r), what, c.name, e.name])
}

deny contains msg if {
	some [r, c, what] in containers
	some e in object.get(c, "env", [])
	regex.match(secret_value_pattern, e.value)
	msg := sprintf("%s %s %s: env %s looks like a key or credential; take it from a Secret", [id(r), what, c.name, e.name])
}

deny contains msg if {
	some [r, c, what] in containers
	some arg in array.concat(object.get(c, "command", []), object.get(c, "args", []))
	regex.match(`^--(api-key|token|password)(=|$)`, arg)
	msg := sprintf("%s %s %s: passes %s on the command line (visible in the process list); use the environment from a Secret", [id(r), what, c.name, arg])
}

deny contains msg if {
	some r in input.items
	r.kind == "ConfigMap"
	some key, value in object.get(r, "data", {})
	regex.match(secret_name_pattern, key)
	value != ""
	msg := sprintf("%s: key %s looks like a secret; put it in a Secret, not a ConfigMap", [id(r), key])
}

deny contains msg if {
	some r in input.items
	r.kind == "Secret"
	count(object.get(r, "data", {})) + count(object.get(r, "stringData", {})) > 0
	msg := sprintf("%s: a Secret with its values is part of the manifests; create it outside git (kubectl create secret, Sealed Secrets, External Secrets)", [id(r)])
}

# --- one pod on a ReadWriteOnce volume ----------------------------------------------

rwo_claims contains name if {
	some r in input.items
	r.kind == "PersistentVolumeClaim"
	some mode in r.spec.accessModes
	mode in {"ReadWriteOnce", "ReadWriteOncePod"}
	name := r.metadata.name
}

deny contains msg if {
	some r in workloads
	r.kind == "Deployment"
	some v in object.get(pod_spec(r), "volumes", [])
	v.persistentVolumeClaim.claimName in rwo_claims
	not r.spec.strategy.type == "Recreate"
	msg := sprintf("%s: mounts the ReadWriteOnce claim %s, so it needs strategy.type: Recreate (a rolling update starts a second pod on it)", [id(r), v.persistentVolumeClaim.claimName])
}

deny contains msg if {
	some r in workloads
	r.kind in {"Deployment", "StatefulSet"}
	some v in object.get(pod_spec(r), "volumes", [])
	v.persistentVolumeClaim.claimName in rwo_claims
	object.get(r.spec, "replicas", 1) > 1
	msg := sprintf("%s: %d replicas share the ReadWriteOnce claim %s; run one", [id(r), r.spec.replicas, v.persistentVolumeClaim.claimName])
}

# --- references resolve ----------------------------------------------------------

names_of(kind) := {r.metadata.name | some r in input.items; r.kind == kind}

deny contains msg if {
	some r in workloads
	some v in object.get(pod_spec(r), "volumes", [])
	claim := v.persistentVolumeClaim.claimName
	not claim in names_of("PersistentVolumeClaim")
	msg := sprintf("%s: volume %s claims %s, which is not among the manifests", [id(r), v.name, claim])
}

deny contains msg if {
	some [r, c, what] in containers
	some ref in object.get(c, "envFrom", [])
	ref.configMapRef
	not ref.configMapRef.optional == true
	not ref.configMapRef.name in names_of("ConfigMap")
	msg := sprintf("%s %s %s: envFrom names ConfigMap %s, which is not among the manifests", [id(r), what, c.name, ref.configMapRef.name])
}

deny contains msg if {
	some r in input.items
	r.kind == "ServiceAccount"
	not r.automountServiceAccountToken == false
	msg := sprintf("%s: set automountServiceAccountToken: false", [id(r)])
}

deny contains msg if {
	some r in workloads
	sa := object.get(pod_spec(r), "serviceAccountName", "default")
	not sa in names_of("ServiceAccount")
	msg := sprintf("%s: runs as service account %s, which is not among the manifests; give kura its own", [id(r), sa])
}

# --- namespaces: everything in one, and not the default ----------------------------

namespaces := {namespace_of(r) | some r in input.items; not r.kind in cluster_scoped_kinds}

deny contains msg if {
	some r in input.items
	not r.kind in cluster_scoped_kinds
	namespace_of(r) in {"", "default"}
	msg := sprintf("%s: no namespace (or the default one); set it in the overlay's kustomization (namespace:)", [id(r)])
}

deny contains msg if {
	count(namespaces) > 1
	msg := sprintf("the manifests spread over the namespaces %v; keep kura's in one", [namespaces])
}

# --- Services reach pods ----------------------------------------------------------

selects(selector, labels) if {
	every k, v in selector {
		labels[k] == v
	}
}

deny contains msg if {
	some s in input.items
	s.kind == "Service"
	selector := object.get(s, ["spec", "selector"], {})
	count(selector) > 0
	not service_has_pods(s, selector)
	msg := sprintf("%s: selector %v selects no pod of a Deployment, StatefulSet or DaemonSet in namespace %s", [id(s), selector, namespace_of(s)])
}

service_has_pods(s, selector) if {
	some r in workloads
	r.kind in long_running_kinds
	namespace_of(r) == namespace_of(s)
	selects(selector, pod_labels(r))
}

deny contains msg if {
	some s in input.items
	s.kind == "Service"
	some p in s.spec.ports
	some r in workloads
	r.kind in long_running_kinds
	namespace_of(r) == namespace_of(s)
	selects(s.spec.selector, pod_labels(r))
	target := object.get(p, "targetPort", p.port)
	not workload_port(r, target)
	msg := sprintf("%s: port %v targets %v, which no container of %s declares", [id(s), p.port, target, id(r)])
}

workload_port(r, port) if {
	some c in pod_spec(r).containers
	port_of(c, port)
}

# --- every pod is under a NetworkPolicy ----------------------------------------------

policy_selects(np, labels) if {
	sel := object.get(np.spec, "podSelector", {})
	count(object.get(sel, "matchExpressions", [])) == 0
	selects(object.get(sel, "matchLabels", {}), labels)
}

deny contains msg if {
	some r in workloads
	not some_policy_selects(r)
	msg := sprintf("%s: no NetworkPolicy selects its pods; add one (a default deny at least)", [id(r)])
}

some_policy_selects(r) if {
	some np in input.items
	np.kind == "NetworkPolicy"
	namespace_of(np) == namespace_of(r)
	policy_selects(np, pod_labels(r))
}

# --- Ingress: TLS for every host, backends that exist --------------------------------

deny contains msg if {
	some ing in input.items
	ing.kind == "Ingress"
	some rule in ing.spec.rules
	not host_has_tls(ing, rule.host)
	msg := sprintf("%s: host %s is served without TLS; list it under spec.tls", [id(ing), rule.host])
}

host_has_tls(ing, host) if {
	some t in ing.spec.tls
	host in t.hosts
	t.secretName != ""
}

deny contains msg if {
	some ing in input.items
	ing.kind == "Ingress"
	some rule in ing.spec.rules
	some path in rule.http.paths
	svc := path.backend.service
	not service_port(namespace_of(ing), svc.name, svc.port)
	msg := sprintf("%s: backend %s port %v is not a port of a Service in namespace %s", [id(ing), svc.name, object.get(svc.port, "name", object.get(svc.port, "number", "?")), namespace_of(ing)])
}

service_port(ns, name, port) if {
	some s in input.items
	s.kind == "Service"
	s.metadata.name == name
	namespace_of(s) == ns
	some p in s.spec.ports
	port_matches(p, port)
}

port_matches(p, port) if p.name == port.name

port_matches(p, port) if p.port == port.number

# --- CronJobs do not pile up ---------------------------------------------------------

deny contains msg if {
	some r in input.items
	r.kind == "CronJob"
	not r.spec.concurrencyPolicy in {"Forbid", "Replace"}
	msg := sprintf("%s: set concurrencyPolicy: Forbid (or Replace) so a slow run is not joined by the next", [id(r)])
}

deny contains msg if {
	some r in input.items
	r.kind == "CronJob"
	some field in ["activeDeadlineSeconds", "backoffLimit"]
	not field in object.keys(r.spec.jobTemplate.spec)
	msg := sprintf("%s: set jobTemplate.spec.%s", [id(r), field])
}

# --- labels ------------------------------------------------------------------------

deny contains msg if {
	some r in input.items
	not r.metadata.labels["app.kubernetes.io/name"]
	msg := sprintf("%s: no app.kubernetes.io/name label", [id(r)])
}
