"""The local multi-host Hikyaku cluster: network namespaces on one machine, one per host,
joined by a bridge; the same binary and the same configuration templates as on VMs.
cluster/README.md describes it; `cluster/hikyaku-cluster --help` runs it."""
