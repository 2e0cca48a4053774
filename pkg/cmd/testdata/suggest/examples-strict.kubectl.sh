# Deployment shop/web (../../examples/01-web-defaults.yaml#1)
# applying it: the controller replaces the running pods (a rollout)
kubectl patch deployment web -n shop --kubeconfig '/tmp/my kube/config' --context 'prod'\''s' --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","securityContext":{"capabilities":{"add":["NET_BIND_SERVICE"],"drop":["ALL"]}}}]}}}}'

# Deployment shop/api (../../examples/02-api-restricted.yaml#1)
# applying it: the controller replaces the running pods (a rollout)
# container "api": --strategy=strict removes NET_BIND_SERVICE, which the manifest adds by name (strict-drops-explicit-add)
kubectl patch deployment api -n shop --kubeconfig '/tmp/my kube/config' --context 'prod'\''s' --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"api","securityContext":{"capabilities":{"add":null,"drop":["ALL"]}}}]}}}}'

# DaemonSet monitoring/node-agent (../../examples/03-node-agent-privileged.yaml#1)
# the capability lists need no change
# container "agent" is privileged: remove privileged: true first, the new lists take effect only then

# Pod tools/legacy-tool (../../examples/04-cap-prefix-pitfall.yaml#1)
# not patched: a Pod's containers cannot change their securityContext after creation (the pod spec is immutable): change the manifest or the controller that creates the pod, and recreate it

# StatefulSet data/db (../../examples/05-add-and-drop.yaml#1)
# applying it: the controller replaces the running pods (a rollout)
# container "postgres": --strategy=strict removes CHOWN, FOWNER, NET_ADMIN, SETGID, SETUID, which the manifest adds by name (strict-drops-explicit-add)
kubectl patch statefulset db -n data --kubeconfig '/tmp/my kube/config' --context 'prod'\''s' --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"postgres","securityContext":{"capabilities":{"add":null,"drop":["ALL"]}}},{"name":"exporter","securityContext":{"capabilities":{"add":null,"drop":["ALL"]}}}]}}}}'

# Deployment net/vpn (../../examples/06-nonroot-file-caps.yaml#1)
# applying it: the controller replaces the running pods (a rollout)
# container "escalatable": --strategy=strict removes NET_ADMIN, NET_RAW, which the manifest adds by name (strict-drops-explicit-add)
# container "no-new-privs": --strategy=strict removes NET_ADMIN, which the manifest adds by name (strict-drops-explicit-add)
kubectl patch deployment vpn -n net --kubeconfig '/tmp/my kube/config' --context 'prod'\''s' --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"escalatable","securityContext":{"capabilities":{"add":null,"drop":["ALL"]}}},{"name":"no-new-privs","securityContext":{"capabilities":{"add":null,"drop":["ALL"]}}}]}}}}'

# Pod tools/clock-tool (../../examples/07-user-namespace.yaml#1)
# not patched: a Pod's containers cannot change their securityContext after creation (the pod spec is immutable): change the manifest or the controller that creates the pod, and recreate it
# container "clock": --strategy=strict removes BPF, SYS_TIME, which the manifest adds by name (strict-drops-explicit-add)

# Deployment win/iis (../../examples/08-windows.yaml#1)
# nothing to change

# CronJob data/backup (../../examples/09-cronjob-init-sidecar.yaml#1)
# applying it: the next Jobs get the change; running Jobs keep the old spec
# container "fix-perms": --strategy=strict removes CHOWN, which the manifest adds by name (strict-drops-explicit-add)
# container "backup": --strategy=strict removes DAC_READ_SEARCH, which the manifest adds by name (strict-drops-explicit-add)
kubectl patch cronjob backup -n data --kubeconfig '/tmp/my kube/config' --context 'prod'\''s' --type strategic -p '{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"backup","securityContext":{"capabilities":{"add":null,"drop":["ALL"]}}}],"initContainers":[{"name":"fix-perms","securityContext":{"capabilities":{"add":null,"drop":["ALL"]}}}]}}}}}}'

# Pod shop/checkout-7d9f (../../examples/10-debug-pod-list.json#1)
# not patched: a Pod's containers cannot change their securityContext after creation (the pod spec is immutable): change the manifest or the controller that creates the pod, and recreate it
# container "debugger-x2k4": --strategy=strict removes SYS_PTRACE, which the manifest adds by name (strict-drops-explicit-add)
# container "debugger-x2k4" is not patched: ephemeral containers cannot be changed or removed once added, so there is no patch; start the next debug session with `kubectl debug --profile=restricted` (drop: [ALL]) or a custom profile that drops what it does not need.

# ReplicationController shop/legacy-rc (../../examples/10-debug-pod-list.json#1)
# applying it: running pods keep the old spec; only pods created from now on get the change
kubectl patch replicationcontroller legacy-rc -n shop --kubeconfig '/tmp/my kube/config' --context 'prod'\''s' --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"legacy","securityContext":{"capabilities":{"add":null,"drop":["ALL"]}}}]}}}}'
