#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Offline check of deploy/kubernetes/*.yaml (there is no API server here).
1. Schema: every key of every object must be a field of its type in the
   Kubernetes API reference (the subset of types these manifests use), so a
   typo such as "hostPId" or "sepc" fails, as would a value of the wrong type.
2. Meaning: the DaemonSet is what keyholed needs (hostPID, --kubelet, the
   socket and admin directories mounted where the flags say, a liveness
   probe running keyhole status on that admin socket, resources,
   tolerations, the image `make image` tags, RBAC for its service account);
   the example pod runs as non-root with a Memory emptyDir and mounts the
   socket read-only; the example policy's k8s rule names that pod.
usage: check_manifests.py VERSION POLICY_OUT FILE...   (writes the
ConfigMap's policy.json to POLICY_OUT for `keyhole policy check`). Prints
one "ok - ..." / "not ok - ..." line per check; exit 1 on any failure."""
import sys

import yaml

FAILS = 0


def check(cond, desc):
    global FAILS
    print(("ok - " if cond else "not ok - ") + desc)
    if not cond:
        FAILS += 1
    return cond


MAP, STR, INT, BOOL, QTY = "map", str, int, bool, "qty"
META = {"name": STR, "namespace": STR, "labels": MAP, "annotations": MAP}
SECCOMP = {"type": STR, "localhostProfile": STR}
CAPS = {"add": [STR], "drop": [STR]}
SCTX = {"privileged": BOOL, "runAsUser": INT, "runAsGroup": INT, "runAsNonRoot": BOOL,
        "readOnlyRootFilesystem": BOOL, "allowPrivilegeEscalation": BOOL,
        "capabilities": CAPS, "seccompProfile": SECCOMP}
PSCTX = {"runAsUser": INT, "runAsGroup": INT, "runAsNonRoot": BOOL, "fsGroup": INT,
         "seccompProfile": SECCOMP, "supplementalGroups": [INT]}
ENV = {"name": STR, "value": STR,
       "valueFrom": {"fieldRef": {"fieldPath": STR, "apiVersion": STR}}}
PROBE = {"exec": {"command": [STR]}, "initialDelaySeconds": INT, "periodSeconds": INT,
         "timeoutSeconds": INT, "failureThreshold": INT, "successThreshold": INT}
MOUNT = {"name": STR, "mountPath": STR, "readOnly": BOOL, "subPath": STR}
CONTAINER = {"name": STR, "image": STR, "imagePullPolicy": STR, "command": [STR],
             "args": [STR], "env": [ENV], "securityContext": SCTX,
             "resources": {"requests": QTY, "limits": QTY}, "livenessProbe": PROBE,
             "readinessProbe": PROBE, "volumeMounts": [MOUNT]}
VOLUME = {"name": STR, "hostPath": {"path": STR, "type": STR},
          "emptyDir": {"medium": STR, "sizeLimit": STR},
          "configMap": {"name": STR, "defaultMode": INT}}
TOLERATION = {"key": STR, "operator": STR, "value": STR, "effect": STR,
              "tolerationSeconds": INT}
PODSPEC = {"serviceAccountName": STR, "automountServiceAccountToken": BOOL, "hostPID": BOOL,
           "hostNetwork": BOOL, "hostIPC": BOOL, "tolerations": [TOLERATION],
           "containers": [CONTAINER], "initContainers": [CONTAINER], "volumes": [VOLUME],
           "securityContext": PSCTX, "priorityClassName": STR, "nodeSelector": MAP}
TOP = {"apiVersion": STR, "kind": STR, "metadata": META}
KINDS = {
    ("v1", "Namespace"): {},
    ("v1", "ServiceAccount"): {"automountServiceAccountToken": BOOL},
    ("v1", "ConfigMap"): {"data": MAP},
    ("v1", "Pod"): {"spec": PODSPEC},
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): {
        "rules": [{"apiGroups": [STR], "resources": [STR], "verbs": [STR],
                   "resourceNames": [STR]}]},
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): {
        "roleRef": {"apiGroup": STR, "kind": STR, "name": STR},
        "subjects": [{"kind": STR, "name": STR, "namespace": STR, "apiGroup": STR}]},
    ("apps/v1", "DaemonSet"): {"spec": {
        "selector": {"matchLabels": MAP},
        "updateStrategy": {"type": STR, "rollingUpdate": {"maxUnavailable": INT}},
        "template": {"metadata": META, "spec": PODSPEC}}},
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"): {"spec": {
        "failurePolicy": STR,
        "matchConstraints": {"resourceRules": [{"apiGroups": [STR], "apiVersions": [STR],
                                                "operations": [STR], "resources": [STR]}]},
        "variables": [{"name": STR, "expression": STR}],
        "validations": [{"expression": STR, "message": STR}]}},
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"): {"spec": {
        "policyName": STR, "validationActions": [STR],
        "matchResources": {"namespaceSelector": {"matchLabels": MAP}}}},
}


def schema_errors(v, t, path):
    """Keys and types of v against schema t; a list of 'path: problem'."""
    if t == MAP:
        ok = isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
        return [] if ok else ["%s: want a map of strings" % path]
    if t == QTY:
        ok = isinstance(v, dict) and all(isinstance(x, (str, int)) for x in v.values())
        return [] if ok else ["%s: want a map of quantities" % path]
    if isinstance(t, list):
        if not isinstance(v, list):
            return ["%s: want a list" % path]
        return [e for i, x in enumerate(v) for e in schema_errors(x, t[0], "%s[%d]" % (path, i))]
    if isinstance(t, dict):
        if not isinstance(v, dict):
            return ["%s: want an object" % path]
        errs = ["%s: unknown field '%s'" % (path, k) for k in v if k not in t]
        return errs + [e for k, x in v.items() if k in t
                       for e in schema_errors(x, t[k], path + "." + k)]
    if t is INT and isinstance(v, bool):
        return ["%s: want an integer" % path]
    return [] if isinstance(v, t) else ["%s: want %s" % (path, t.__name__)]


def load(files):
    docs = []
    for f in files:
        for d in yaml.safe_load_all(open(f)):
            if d is not None:
                docs.append((f, d))
    return docs


def find(docs, kind, name=None):
    return [d for _, d in docs if d.get("kind") == kind and
            (name is None or d.get("metadata", {}).get("name") == name)]


def check_schema(docs):
    for f, d in docs:
        key = (d.get("apiVersion"), d.get("kind"))
        name = "%s %s/%s" % (f.split("/")[-1], d.get("kind"), d.get("metadata", {}).get("name"))
        if not check(key in KINDS, "%s: known apiVersion/kind %s" % (name, key)):
            continue
        errs = schema_errors(d, dict(TOP, **KINDS[key]), d["kind"])
        check(not errs and "name" in d.get("metadata", {}),
              "%s: every field is in the API reference%s" % (name, ": " + "; ".join(errs[:3]) if errs else ""))


def flags(c):
    return {a.split("=", 1)[0]: (a.split("=", 1) + [""])[1] for a in c.get("command", [])
            if a.startswith("--")}


def mounted_at(c, spec, path):
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        if m["mountPath"] == path:
            return m, vols.get(m["name"])
    return None, None


def check_daemonset(docs, version):
    ds = find(docs, "DaemonSet", "keyholed")
    if not check(len(ds) == 1, "one DaemonSet keyholed"):
        return None
    ds = ds[0]
    spec = ds["spec"]["template"]["spec"]
    c = spec["containers"][0]
    fl = flags(c)
    check(spec.get("hostPID") is True, "DaemonSet: hostPID (attestation reads /proc/PID)")
    check(ds["spec"]["selector"]["matchLabels"].items() <=
          ds["spec"]["template"]["metadata"]["labels"].items(), "DaemonSet: selector matches")
    check(c["image"] == "keyhole/keyholed:" + version,
          "DaemonSet: image is the one `make image` tags (keyhole/keyholed:%s)" % version)
    check(c["command"][0] == "/usr/sbin/keyholed", "DaemonSet: runs /usr/sbin/keyholed (image path)")
    check(fl.get("--kubelet", "").startswith("https://") and "--kubelet-token-file" in fl,
          "DaemonSet: --kubelet https with a token file")
    for flag in ("--socket", "--admin-socket", "--store", "--key-file", "--policy"):
        d = fl.get(flag, "").rsplit("/", 1)[0]
        m, v = mounted_at(c, spec, d)
        check(m is not None and v is not None, "DaemonSet: %s's directory %s is a mounted volume" % (flag, d))
    m, v = mounted_at(c, spec, "/run/keyhole")
    check(v and v.get("hostPath", {}).get("path") == "/run/keyhole",
          "DaemonSet: agent socket directory is the node's /run/keyhole")
    probe = c.get("livenessProbe", {}).get("exec", {}).get("command", [])
    check(probe[:1] == ["/usr/bin/keyhole"] and probe[-1] == "status" and
          fl.get("--admin-socket") in probe, "DaemonSet: liveness probe is keyhole status on --admin-socket")
    r = c.get("resources", {})
    check("requests" in r and "memory" in r.get("limits", {}), "DaemonSet: resource requests and a memory limit")
    check(any(t.get("operator") == "Exists" and "key" not in t for t in spec.get("tolerations", [])),
          "DaemonSet: tolerates every taint (runs on every node)")
    check(c.get("securityContext", {}).get("privileged") is True and
          c["securityContext"].get("readOnlyRootFilesystem") is True,
          "DaemonSet: privileged (setns into the host cgroupns), read-only root")
    sa = spec.get("serviceAccountName")
    ns = ds["metadata"]["namespace"]
    check(any(s["metadata"].get("namespace") == ns for s in find(docs, "ServiceAccount", sa)),
          "DaemonSet: its service account exists")
    crb = [b for b in find(docs, "ClusterRoleBinding")
           if {"kind": "ServiceAccount", "name": sa, "namespace": ns} in b.get("subjects", [])]
    roles = [find(docs, "ClusterRole", b["roleRef"]["name"]) for b in crb]
    check(any(any("nodes/pods" in r.get("resources", []) and "get" in r.get("verbs", [])
                  for cr in rs for r in cr["rules"]) for rs in roles),
          "RBAC: the service account may GET nodes/pods (the kubelet's /pods)")
    labels = find(docs, "Namespace", ns)[0]["metadata"].get("labels", {})
    check(labels.get("pod-security.kubernetes.io/enforce") == "privileged",
          "keyhole-system namespace admits privileged (Pod Security)")
    return ds


def check_pod(docs, policy):
    pods = find(docs, "Pod")
    if not check(len(pods) == 1, "one example Pod"):
        return
    p = pods[0]
    spec, c = p["spec"], p["spec"]["containers"][0]
    psc, csc = spec.get("securityContext", {}), c.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0,
          "Pod: runs as non-root (runAsNonRoot, runAsUser %s)" % psc.get("runAsUser"))
    check(csc.get("allowPrivilegeEscalation") is False and csc.get("capabilities", {}).get("drop") == ["ALL"],
          "Pod: no escalation, all capabilities dropped")
    m, v = mounted_at(c, spec, "/run/secrets")
    check(v and v.get("emptyDir", {}).get("medium") == "Memory", "Pod: secrets in an emptyDir of medium Memory")
    m, v = mounted_at(c, spec, "/run/keyhole")
    check(m and m.get("readOnly") is True and v.get("hostPath", {}).get("path") == "/run/keyhole",
          "Pod: mounts the agent socket's directory read-only")
    check(c["command"][0].endswith("keyhole-shim"), "Pod: entrypoint wrapped by keyhole-shim")
    check(spec.get("automountServiceAccountToken") is False, "Pod: holds no service-account token")
    ns = find(docs, "Namespace", p["metadata"]["namespace"])
    labels = ns[0]["metadata"].get("labels", {}) if ns else {}
    check(labels.get("pod-security.kubernetes.io/warn") == "restricted",
          "Pod's namespace warns at Pod Security 'restricted'")
    rule = [r for r in policy["rules"] if "k8s" in r.get("match", {})]
    k = rule[0]["match"]["k8s"] if rule else {}
    q = rule[0].get("require", {}).get("k8s", {}) if rule else {}
    hp = [vv["hostPath"]["path"] for vv in spec["volumes"] if "hostPath" in vv]
    check(k.get("namespace") == p["metadata"]["namespace"] and
          k.get("service_account") == spec.get("serviceAccountName") and
          k.get("container_name", c["name"]) == c["name"] and
          all(h in q.get("host_paths", hp) for h in hp),
          "the example policy's k8s rule names the example pod")


def main():
    import json
    version, policy_out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    docs = load(files)
    check(len(docs) > 0, "manifests parse as YAML (%d objects)" % len(docs))
    check_schema(docs)
    ds = check_daemonset(docs, version)
    cm = find(docs, "ConfigMap", "keyhole-policy")
    policy = {"rules": []}
    if check(len(cm) == 1 and "policy.json" in cm[0].get("data", {}), "ConfigMap keyhole-policy has policy.json"):
        open(policy_out, "w").write(cm[0]["data"]["policy.json"])
        policy = json.loads(cm[0]["data"]["policy.json"])
        if ds:
            vol = [v for v in ds["spec"]["template"]["spec"]["volumes"] if "configMap" in v]
            check(vol and vol[0]["configMap"]["name"] == "keyhole-policy", "DaemonSet mounts the policy ConfigMap")
    check_pod(docs, policy)
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
