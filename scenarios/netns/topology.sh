#!/bin/sh
# A DMM test network in network namespaces, no dmm process involved (see README.md here).
#
#   topology.sh up ID [MAARS]   build it (tears down an old one with the same ID first)
#   topology.sh move ID TO      re-attach the MN's link to MAAR number TO's access bridge
#   topology.sh down ID         remove it (processes left in its namespaces are killed)
#   topology.sh info ID         print the plan as KEY=VALUE lines
#
# Namespaces dmm-ID-{bb,cn,mn,maar1..N}. Backbone: bridge br0 in dmm-ID-bb, every other
# namespace plugged into it as bb0. Only documentation addresses (2001:db8::/32):
#   backbone 2001:db8::/64        CN 2001:db8::100, MAAR i 2001:db8::i
#   MAAR i tunnel address / SID   2001:db8:ff::i/128 (routed to MAAR i, assigned nowhere)
#   MAAR i prefix pool            2001:db8:i::/48
# Static routes: everybody routes each MAAR's pool and SID to that MAAR's backbone address.
# Each MAAR has an access bridge acc0; the MN (eth0, MAC 02:00:00:00:00:01) hangs off one of
# them through the veth end "mn0", which `move` carries to another MAAR's namespace.
set -eu

cmd=${1:-}
id=${2:-}
[ -n "$cmd" ] && [ -n "$id" ] || { sed -n '2,9p' "$0" >&2; exit 2; }
case "$id" in *[!a-z0-9]*) echo "ID must be [a-z0-9]" >&2; exit 2;; esac
p="dmm-$id"
MN_MAC=02:00:00:00:00:01

maars () { ip netns list | sed -n "s/^\($p-maar[0-9]*\).*/\1/p" | sort -V; }

down () {
  for ns in $(ip netns list | sed -n "s/^\($p-[a-z0-9]*\).*/\1/p"); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

info () {
  n=$1
  echo "PREFIX=$p"; echo "BB=$p-bb"; echo "CN=$p-cn"; echo "MN=$p-mn"
  echo "CN_ADDR=2001:db8::100"; echo "MN_MAC=$MN_MAC"; echo "MN_IF=eth0"; echo "MAARS=$n"
  i=1
  while [ "$i" -le "$n" ]; do
    echo "MAAR${i}_NS=$p-maar$i"; echo "MAAR${i}_ADDR=2001:db8::$i"; echo "MAAR${i}_SID=2001:db8:ff::$i"; echo "MAAR${i}_POOL=2001:db8:$i::/48"
    i=$((i + 1))
  done
}

newns () {
  ip netns add "$1"
  ip -n "$1" link set lo up
  # No DAD: addresses usable at once, the test does not wait on timers.
  ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

plug () { # plug NS ADDR: veth bb0 in NS, other end in the backbone bridge
  ip -n "$p-bb" link add "${1##*-}" type veth peer name bb0 netns "$1"
  ip -n "$p-bb" link set "${1##*-}" master br0 up
  ip -n "$1" link set bb0 up
  ip -n "$1" -6 addr add "$2/64" dev bb0 nodad
}

up () {
  n=$1
  down
  newns "$p-bb"
  ip -n "$p-bb" link add br0 type bridge
  ip -n "$p-bb" link set br0 up
  newns "$p-cn"
  plug "$p-cn" 2001:db8::100
  i=1
  while [ "$i" -le "$n" ]; do
    ns="$p-maar$i"
    newns "$ns"
    plug "$ns" "2001:db8::$i"
    ip -n "$ns" link add acc0 type bridge
    ip -n "$ns" link set acc0 up
    i=$((i + 1))
  done
  i=1
  while [ "$i" -le "$n" ]; do
    for ns in "$p-cn" $(maars); do
      [ "$ns" = "$p-maar$i" ] && continue
      ip -n "$ns" -6 route add "2001:db8:$i::/48" via "2001:db8::$i" dev bb0
      ip -n "$ns" -6 route add "2001:db8:ff::$i/128" via "2001:db8::$i" dev bb0
    done
    i=$((i + 1))
  done
  newns "$p-mn"
  ip -n "$p-mn" link add eth0 address "$MN_MAC" type veth peer name mn0 netns "$p-maar1"
  ip -n "$p-maar1" link set mn0 master acc0 up
  ip -n "$p-mn" link set eth0 up
}

move () {
  to="$p-maar$1"
  ip netns list | grep -q "^$to\( \|$\)" || { echo "no namespace $to" >&2; exit 1; }
  for ns in $(maars); do
    if ip -n "$ns" link show mn0 >/dev/null 2>&1; then
      [ "$ns" = "$to" ] && return 0
      ip -n "$ns" link set mn0 netns "$to"
      break
    fi
  done
  ip -n "$to" link set mn0 master acc0 up
}

case "$cmd" in
  up) up "${3:-3}"; info "${3:-3}";;
  down) down;;
  move) move "${3:?move ID TO}";;
  info) info "$(maars | wc -l)";;
  *) echo "unknown command $cmd" >&2; exit 2;;
esac
