#!/bin/sh
# The "ssh" of scripts/test_distributed.sh's two-host case: mpirun (--mca plm_rsh_agent) calls it as
# `agent HOST COMMAND…` to start its daemon on HOST; here a host is a Linux network namespace named
# synapse-<last octet of its address>, joined to the other by a veth pair.
host=$1; shift
case "$host" in
    10.77.0.*) ns="synapse-${host##*.}" ;;
    *) echo "mpi_netns_agent: no namespace for host $host" >&2; exit 1 ;;
esac
exec ip netns exec "$ns" sh -c "$*"
