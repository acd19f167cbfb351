#!/bin/sh
# End-to-end DMM in network namespaces: real `dmm maar` processes (Linux data plane, seg6 tunnels,
# radvd) on the topology.sh network, the DHT between them, an MN that moves and gets its
# addresses by SLAAC. Humans run `demo`; test/netns-e2e.test.ts and bench/netns-handover.ts drive
# the same steps through the other commands, so this script is the one implementation.
#
#   e2e.sh demo [ID] [ROUNDS]      up, MN 1 -> 2 -> 3 -> 1 (ROUNDS times), pings, down
#   e2e.sh up ID [MAARS]           topology + keys, certificates, configs, one dmm maar per MAAR
#   e2e.sh attach ID TO            move the MN's link to MAAR TO and fire the attach trigger there
#   e2e.sh handover ID TO DST..    attach, with a steady ping (10 ms) from the CN to each DST
#   e2e.sh pings ID start DST..    start a steady ping (10 ms) from the CN to each DST, in the background
#   e2e.sh pings ID stop           stop them; one PING line each
#   e2e.sh kill ID I               SIGKILL MAAR I's daemon (its kernel state and LevelDB stay as they were)
#   e2e.sh restart ID I            start MAAR I's daemon again on the same config and data
#   e2e.sh addr ID PREFIX          the MN's SLAAC address in PREFIX and whether it is deprecated
#   e2e.sh api ID I METHOD PATH [JSON]   call MAAR I's management API (inside its namespace)
#   e2e.sh cmdapi ID PATH          GET the CMD's API (/status, /sessions), with DMM_E2E_DISCOVERY
#   e2e.sh down ID                 stop the processes, remove the namespaces and the work folder
#
# Machine-readable lines are KEY=VALUE (plan), REPORT=<json> (attach answer), and
# PING dst=.. sent=.. received=.. lost=.. outageMs=.. gapMs=.. (one per DST). Work folder:
# $DMM_E2E_DIR or /tmp/dmm-e2e-ID (keys, configs, LevelDB, radvd files, daemon logs).
# Set DMM_E2E_DLIF=1 to run the MAARs with RFC 8885 logical interfaces (dataplane.dlif).
# Set DMM_E2E_DISCOVERY=relay|locator|proxy (at up/demo) to run a `dmm cmd` in that mode
# (draft-bernardos-dmm-pmip §3, RFC 8885 §3) in the CN's namespace and the MAARs with
# `discovery: { mode: cmd }`; the CMD and every MAAR then write their PBU/PBA to a pcap
# (cmd/signalling.pcap, maarI/signalling.pcap). Default dht: no CMD.
# Set DMM_E2E_FEDERATION=tunnel|drop|bounded:SECONDS (at up/demo, DHT only) to run two domains
# (doc/ARCHITECTURE.md "Federation"): MAARs 1..N/2 are domain a.example, the rest b.example, each
# with its own operator key and DHT; agreements "a accepts b" and "b accepts a" (dmm federation
# make) with that policy, every MAAR's gateways the other domain's MAARs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
topo="$here/topology.sh"
bin="$root/packages/cli/dist/src/bin.js"
# The pinned Node 24 (libp2p 3 needs >= 22); the system one may be older.
node="$root/node_modules/.bin/node"
[ -x "$node" ] || node=node
MN_ID=mn1@dmm.example
INTERVAL=0.01   # ping interval (s): the outage is counted in lost pings of 10 ms

cmd=${1:-}
id=${2:-}
[ -n "$cmd" ] || { sed -n '2,32p' "$0" >&2; exit 2; }
if [ "$cmd" = demo ] && [ -z "$id" ]; then id=demo; fi
[ -n "$id" ] || { echo "e2e.sh $cmd: ID required" >&2; exit 2; }
case "$id" in *[!a-z0-9]*) echo "ID must be [a-z0-9]" >&2; exit 2;; esac
dir=${DMM_E2E_DIR:-/tmp/dmm-e2e-$id}
p="dmm-$id"

say () { echo "$*" >&2; }
die () { say "e2e.sh: $*"; exit 1; }
dmm () { "$node" "$bin" "$@"; }
json_field () { # json_field FIELD: first string value of "FIELD" in a JSON text on stdin
  sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" | head -n 1
}
maars () { cat "$dir/maars" 2>/dev/null || echo 0; }
api_port () { echo $((7000 + $1)); }
# The CMD (DMM_E2E_DISCOVERY) runs in the CN's namespace: it listens on the CN's backbone address,
# the address its certificate names; its API is on loopback there.
CMD_ADDR=2001:db8::100
CMD_API_PORT=7100
discovery=${DMM_E2E_DISCOVERY:-dht}
case "$discovery" in dht|relay|locator|proxy) ;; *) echo "DMM_E2E_DISCOVERY must be dht, relay, locator or proxy, got $discovery" >&2; exit 2;; esac
federation=${DMM_E2E_FEDERATION:-}
case "$federation" in ''|tunnel|drop|bounded:[0-9]*) ;; *) echo "DMM_E2E_FEDERATION must be tunnel, drop or bounded:SECONDS, got $federation" >&2; exit 2;; esac
[ -z "$federation" ] || [ "$discovery" = dht ] || { echo "DMM_E2E_FEDERATION runs DHT domains only (DMM_E2E_DISCOVERY=dht)" >&2; exit 2; }

# Federation: MAAR I of N's domain label (a for the first half, b for the rest; "" in one
# domain), its domain name, its operator key file and the first MAAR of its domain (its bootstrap).
label_of () { if [ -z "$federation" ]; then echo ""; elif [ "$1" -le $(($2 / 2)) ]; then echo a; else echo b; fi; }
domain_of () { l=$(label_of "$1" "$2"); if [ -n "$l" ]; then echo "$l.example"; else echo dmm.example; fi; }
operator_key () { l=$(label_of "$1" "$2"); echo "$dir/${l:+$l-}operator"; }
first_of () { if [ "$(label_of "$1" "$2")" = b ]; then echo $(($2 / 2 + 1)); else echo 1; fi; }

# api I METHOD PATH [JSON]: the management API listens on loopback inside the MAAR's namespace.
api () {
  url="http://127.0.0.1:$(api_port "$1")$3"
  if command -v curl >/dev/null 2>&1; then
    ip netns exec "$p-maar$1" curl -sS --fail-with-body -X "$2" -H 'content-type: application/json' ${4:+--data "$4"} "$url"
  else
    ip netns exec "$p-maar$1" "$node" --input-type=module -e "
      const r = await fetch(process.argv[1], { method: process.argv[2], headers: { 'content-type': 'application/json' }, body: process.argv[3] || undefined })
      process.stdout.write(await r.text()); process.exitCode = r.ok ? 0 : 22" "$url" "$2" "${4:-}"
  fi
}

up () {
  n=$1
  [ -f "$bin" ] || die "$bin missing: build first (npx tsc -b)"
  down_quiet
  mkdir -p "$dir"
  echo "$n" >"$dir/maars"
  "$topo" up "$id" "$n" >"$dir/plan"
  if [ -n "$federation" ]; then
    [ "$n" -ge 2 ] || die "a federation needs 2 MAARs or more"
    for l in a b; do dmm keygen --out "$dir/$l-operator.key" | json_field publicKey >"$dir/$l-operator.pub"; done
  else
    dmm keygen --out "$dir/operator.key" | json_field publicKey >"$dir/operator.pub"
  fi
  i=1
  while [ "$i" -le "$n" ]; do
    mkdir -p "$dir/maar$i"
    dmm keygen --out "$dir/maar$i/identity.key" | json_field peerId >"$dir/maar$i/peer-id"
    dmm cert --operator-key "$(operator_key "$i" "$n").key" --maar-key "$dir/maar$i/identity.key" \
      --domain "$(domain_of "$i" "$n")" --pools "2001:db8:$i::/48" --address "2001:db8:ff::$i" --out "$dir/maar$i/maar.cert" >/dev/null
    i=$((i + 1))
  done
  operator=$(cat "$dir/operator.pub" 2>/dev/null || true)
  [ -z "$federation" ] || make_agreements "$n"
  # Everybody bootstraps to maar1 on the backbone; the DHT fills in the rest.
  [ -n "${DMM_E2E_DLIF:-}" ] && dlif=true || dlif=false
  discovery_yaml=""
  if [ "$discovery" != dht ]; then
    start_cmd_daemon "$operator"
    discovery_yaml="discovery: { mode: cmd, cmd: \"$(cat "$dir/cmd/multiaddr")\" }
capture: signalling.pcap"
  fi
  i=1
  while [ "$i" -le "$n" ]; do
    f=$(first_of "$i" "$n")
    [ "$i" -eq "$f" ] && b="[]" || b="[\"$(dial_of "$f")\"]"
    cat >"$dir/maar$i/maar.yaml" <<EOF
name: maar$i
identity: identity.key
certificate: maar.cert
domain: { name: $(domain_of "$i" "$n"), operatorPublicKey: "$(cat "$(operator_key "$i" "$n").pub")" }
listen: [/ip6/2001:db8::$i/tcp/4001]
bootstrap: $b
address: 2001:db8:ff::$i
pools: [2001:db8:$i::/48]
lifetime: 3600
dataDir: data
dataplane: { driver: linux, backboneInterface: bb0, tunnelKind: seg6, radvd: true, dlif: $dlif, runDir: run }
api: { host: 127.0.0.1, port: $(api_port "$i") }
$discovery_yaml
$(federation_yaml "$i" "$n")
EOF
    start_maar "$i"
    # A domain's first MAAR first: the others dial it once at start (no retry), so it must be listening.
    [ "$i" -eq "$f" ] && wait_ready "$i"
    i=$((i + 1))
  done
  i=1
  while [ "$i" -le "$n" ]; do wait_ready "$i"; i=$((i + 1)); done
  cat "$dir/plan"
  echo "DIR=$dir"; echo "MN_ID=$MN_ID"; echo "DISCOVERY=$discovery"
  if [ -n "$federation" ]; then
    echo "FEDERATION=$federation"
    i=1
    while [ "$i" -le "$n" ]; do echo "MAAR${i}_DOMAIN=$(domain_of "$i" "$n")"; i=$((i + 1)); done
  fi
  if [ "$discovery" != dht ]; then
    echo "CMD_NS=$p-cn"; echo "CMD_ADDR=$CMD_ADDR"; echo "CMD_API=http://127.0.0.1:$CMD_API_PORT"
    echo "CMD_CAPTURE=$dir/cmd/signalling.pcap"; echo "CMD_LOG=$dir/cmd/log"
  fi
  i=1
  while [ "$i" -le "$n" ]; do
    echo "MAAR${i}_API=http://127.0.0.1:$(api_port "$i")"; echo "MAAR${i}_LOG=$dir/maar$i/log"
    [ "$discovery" = dht ] || echo "MAAR${i}_CAPTURE=$dir/maar$i/signalling.pcap"
    i=$((i + 1))
  done
}

# MAAR I's multiaddr on the backbone, with its peer id.
dial_of () { echo "/ip6/2001:db8::$1/tcp/4001/p2p/$(cat "$dir/maar$1/peer-id")"; }

# make_agreements N: "a accepts b" and "b accepts a" (dmm federation make), each scoped to the
# subject's pools and tunnel addresses, with the policy of $DMM_E2E_FEDERATION.
make_agreements () {
  case "$federation" in bounded:*) policy="--policy bounded --seconds ${federation#bounded:}";; *) policy="--policy $federation";; esac
  for pair in a:b b:a; do
    issuer=${pair%:*}; subject=${pair#*:}
    pools=""; addresses=""
    i=1
    while [ "$i" -le "$1" ]; do
      if [ "$(label_of "$i" "$1")" = "$subject" ]; then
        pools="$pools${pools:+,}2001:db8:$i::/48"; addresses="$addresses${addresses:+,}2001:db8:ff::$i/128"
      fi
      i=$((i + 1))
    done
    # shellcheck disable=SC2086
    dmm federation make --operator-key "$dir/$issuer-operator.key" --id "$issuer-accepts-$subject" \
      --issuer-domain "$issuer.example" --subject-domain "$subject.example" --subject-key "$(cat "$dir/$subject-operator.pub")" \
      --pools "$pools" --addresses "$addresses" $policy --out "$dir/$issuer-accepts-$subject.json" >/dev/null
  done
}

# federation_yaml I N: MAAR I's federation section (both agreements; the other domain's MAARs as gateways).
federation_yaml () {
  [ -n "$federation" ] || return 0
  own=$(label_of "$1" "$2")
  gateways=""
  j=1
  while [ "$j" -le "$2" ]; do
    [ "$(label_of "$j" "$2")" = "$own" ] || gateways="$gateways${gateways:+, }\"$(dial_of "$j")\""
    j=$((j + 1))
  done
  echo "federation: { agreements: [../a-accepts-b.json, ../b-accepts-a.json], gateways: [$gateways] }"
}

# start_cmd_daemon OPERATOR_PUBLIC_KEY: key, a certificate with the role cmd, config and one
# `dmm cmd` in mode $discovery in the CN's namespace; leaves its multiaddr in cmd/multiaddr.
start_cmd_daemon () {
  c="$dir/cmd"
  mkdir -p "$c"
  peer=$(dmm keygen --out "$c/identity.key" | json_field peerId)
  dmm cert --role cmd --operator-key "$dir/operator.key" --maar-key "$c/identity.key" \
    --domain dmm.example --address "$CMD_ADDR" --out "$c/cmd.cert" >/dev/null
  cat >"$c/cmd.yaml" <<EOF
name: cmd
identity: identity.key
certificate: cmd.cert
domain: { name: dmm.example, operatorPublicKey: "$1" }
listen: [/ip6/$CMD_ADDR/tcp/4000]
address: $CMD_ADDR
dataDir: data
mode: $discovery
api: { host: 127.0.0.1, port: $CMD_API_PORT }
capture: signalling.pcap
EOF
  echo "/ip6/$CMD_ADDR/tcp/4000/p2p/$peer" >"$c/multiaddr"
  : >"$c/stdout"
  ip netns exec "$p-cn" "$node" "$bin" cmd --config "$c/cmd.yaml" >"$c/stdout" 2>>"$c/log" </dev/null &
  echo $! >"$c/pid"
  t=0
  until grep -q '"ready":true' "$c/stdout" 2>/dev/null; do
    kill -0 "$(cat "$c/pid")" 2>/dev/null || die "cmd exited before ready: $(tail -n 5 "$c/log")"
    t=$((t + 1)); [ "$t" -le 300 ] || die "cmd not ready after 30 s"
    sleep 0.1
  done
}

# cmdapi PATH: GET the CMD's API on loopback in the CN's namespace.
cmdapi () {
  [ -f "$dir/cmd/pid" ] || die "no CMD in $dir (set DMM_E2E_DISCOVERY at up)"
  url="http://127.0.0.1:$CMD_API_PORT$1"
  if command -v curl >/dev/null 2>&1; then
    ip netns exec "$p-cn" curl -sS --fail-with-body "$url"
  else
    ip netns exec "$p-cn" "$node" --input-type=module -e "
      const r = await fetch(process.argv[1]); process.stdout.write(await r.text()); process.exitCode = r.ok ? 0 : 22" "$url"
  fi
}

# The log is appended to, so a restarted daemon's log follows the one it replaces. stdout is
# emptied here, not by the background redirection, so wait_ready never reads the previous
# daemon's "ready" line.
start_maar () {
  : >"$dir/maar$1/stdout"
  ip netns exec "$p-maar$1" "$node" "$bin" maar --config "$dir/maar$1/maar.yaml" \
    >"$dir/maar$1/stdout" 2>>"$dir/maar$1/log" </dev/null &
  echo $! >"$dir/maar$1/pid"
}

running () { [ -f "$dir/maar$1/pid" ] && kill -0 "$(cat "$dir/maar$1/pid")" 2>/dev/null; }

# kill I: the daemon dies without a word (a crash, RFC 5213 §6.9.4's unreachable anchor); what it
# programmed in the kernel stays, as after a real crash. radvd processes it started stay too.
kill_maar () {
  running "$1" || die "maar$1 is not running"
  pid=$(cat "$dir/maar$1/pid")
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$dir/maar$1/pid"
  echo "KILLED=maar$1"
}

# restart I: the same config, identity and LevelDB; the daemon reconciles the kernel from its
# binding cache on start.
restart_maar () {
  [ -f "$dir/maar$1/maar.yaml" ] || die "no maar$1 in $dir"
  running "$1" && die "maar$1 is running"
  start_maar "$1"
  wait_ready "$1"
  echo "RESTARTED=maar$1"
}

wait_ready () {
  t=0
  until grep -q '"ready":true' "$dir/maar$1/stdout" 2>/dev/null; do
    kill -0 "$(cat "$dir/maar$1/pid")" 2>/dev/null || die "maar$1 exited before ready: $(tail -n 5 "$dir/maar$1/log")"
    t=$((t + 1)); [ "$t" -le 300 ] || die "maar$1 not ready after 30 s"
    sleep 0.1
  done
}

# The MAAR the MN's link is on now (0: none yet).
current () {
  i=1
  while [ "$i" -le "$(maars)" ]; do
    ip -n "$p-maar$i" link show mn0 >/dev/null 2>&1 && { echo "$i"; return; }
    i=$((i + 1))
  done
  echo 0
}

# attach TO: link move, then the attach trigger (RFC 5213 §6.9.1.1 leaves detecting an attachment
# to the access technology; a veth move signals nothing, so the script tells the MAAR).
# Prints REPORT=<the handover report>, then waits until the other MAARs find the new session
# in the DHT (publication is off the critical path; a later handover must see it).
attach () {
  to=$1
  from=$(current)
  "$topo" move "$id" "$to"
  [ "$from" -ne 0 ] && [ "$from" -ne "$to" ] && api "$from" POST /detach "{\"mnId\":\"$MN_ID\"}" >/dev/null
  report=$(api "$to" POST /attach "{\"mnId\":\"$MN_ID\",\"accessLink\":\"acc0\",\"linkLayerId\":\"02:00:00:00:00:01\"}") || die "attach at maar$to failed: $report"
  # One line: the API indents its JSON (2 spaces, "key": value); spaces inside strings (a refusal's reason) stay.
  echo "REPORT=$(echo "$report" | sed 's/^ *//' | tr -d '\n' | sed 's/": /":/g')"
  seq=$(echo "$report" | sed -n 's/.*"sessionSequence": *\([0-9]*\).*/\1/p')
  deadline=$(($(date +%s) + 20))
  i=1
  while [ "$i" -le "$(maars)" ]; do
    # A MAAR whose daemon is down (e2e.sh kill) has nothing to see.
    while [ "$i" -ne "$to" ] && running "$i"; do
      s=$(api "$i" GET "/session?mn=$MN_ID" | tr -d '\n ' | sed -n 's/.*"sequence":\([0-9]*\).*/\1/p')
      [ -n "$s" ] && [ "$s" -ge "$seq" ] && break
      [ "$(date +%s)" -lt "$deadline" ] || { say "warning: maar$i does not see session $seq of $MN_ID"; break; }
      sleep 0.1
    done
    i=$((i + 1))
  done
}

# Summary of one ping log: sent, received, lost, the outage = longest run of missing
# icmp_seq x interval (the handover gap; scattered single losses do not add to it), and gapMs =
# the longest time between two replies (ping -D timestamps; ping sends slower than the interval
# under load, so on a long outage this is the wall-clock figure).
ping_summary () {
  awk -v dst="$2" -v ms="$(echo "$INTERVAL" | awk '{ print $1 * 1000 }')" '
    /bytes from/ {
      for (i = 1; i <= NF; i++) if ($i ~ /^icmp_seq=/) { s = substr($i, 10) + 0; got[s] = 1; if (s > max) max = s }
      if ($1 ~ /^\[[0-9.]+\]$/) { t = substr($1, 2, length($1) - 2) + 0; if (last != "" && t - last > gap) gap = t - last; last = t }
    }
    /packets transmitted/ { sent = $1; recv = $4 }
    END {
      run = 0; best = 0
      for (s = 1; s <= max; s++) { if (got[s]) run = 0; else if (++run > best) best = run }
      printf "PING dst=%s sent=%d received=%d lost=%d outageMs=%d gapMs=%d\n", dst, sent, recv, sent - recv, best * ms, gap * 1000
    }' "$1"
}

# replies LOG: "<replies so far> <highest icmp_seq replied>"
replies () {
  awk '/bytes from/ { n++; for (i = 1; i <= NF; i++) if ($i ~ /^icmp_seq=/) { s = substr($i, 10) + 0; if (s > m) m = s } } END { print n + 0, m + 0 }' "$1"
}

# pings_start DST..: a steady ping from the CN to every DST, in the background (pings_stop ends them).
pings_start () {
  [ ! -f "$dir/pings" ] || die "pings already running (e2e.sh pings $id stop)"
  k=0
  for d in "$@"; do
    k=$((k + 1))
    ip netns exec "$p-cn" ping -6 -n -D -i "$INTERVAL" -W 1 "$d" >"$dir/ping$k" 2>&1 &
    echo $! >"$dir/ping$k.pid"
  done
  echo "$*" >"$dir/pings"
}

# pings_stop: ends the steady pings and prints one PING line each.
pings_stop () {
  [ -f "$dir/pings" ] || die "no pings running"
  k=0
  for d in $(cat "$dir/pings"); do
    k=$((k + 1))
    pid=$(cat "$dir/ping$k.pid")
    kill -INT "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$dir/ping$k.pid"
  done
  k=0
  for d in $(cat "$dir/pings"); do
    k=$((k + 1))
    ping_summary "$dir/ping$k" "$d"
  done
  rm -f "$dir/pings"
}

# handover TO DST..: a steady ping from the CN to every DST, the attach at TO, then wait until
# every flow answers again (100 replies in a row after the attach) and print the losses.
handover () {
  to=$1; shift
  pings_start "$@"
  sleep 0.5
  attach "$to"
  k=0
  for d in "$@"; do
    k=$((k + 1))
    t=0
    # Recovered when, over one second, every echo sent got its reply: the replied icmp_seq
    # advanced by as many as the replies counted (ping prints nothing for a loss).
    while :; do
      a=$(replies "$dir/ping$k")
      sleep 1
      b=$(replies "$dir/ping$k")
      [ "$(echo "$a $b" | awk '{ n = $3 - $1; s = $4 - $2; print (s > 10 && n >= s) ? 1 : 0 }')" = 1 ] && break
      t=$((t + 1)); [ "$t" -le 30 ] || { say "warning: ping to $d did not recover within 30 s"; break; }
    done
  done
  pings_stop
}

# addr PREFIX: the MN's SLAAC address in PREFIX; DEPRECATED=1 when its preferred lifetime is 0.
addr () {
  line=$(ip -n "$p-mn" -6 -o addr show dev eth0 scope global to "$1" | head -n 1)
  [ -n "$line" ] || return 1
  echo "ADDR=$(echo "$line" | awk '{ print $4 }' | cut -d/ -f1)"
  case "$line" in *deprecated*) echo "DEPRECATED=1";; *) echo "DEPRECATED=0";; esac
}

wait_addr () { # wait_addr PREFIX WANT_DEPRECATED: prints the address once SLAAC has it
  t=0
  while :; do
    out=$(addr "$1" || true)
    case "$out" in *"DEPRECATED=$2"*) echo "$out" | sed -n 's/^ADDR=//p'; return 0;; esac
    t=$((t + 1)); [ "$t" -le 100 ] || die "MN got no address in $1 (deprecated=$2) within 20 s"
    sleep 0.2
  done
}

down_quiet () {
  if [ -d "$dir" ]; then
    for f in "$dir"/maar*/pid "$dir"/cmd/pid; do
      [ -f "$f" ] || continue
      pid=$(cat "$f")
      kill -TERM "$pid" 2>/dev/null || continue
      t=0
      while kill -0 "$pid" 2>/dev/null && [ "$t" -lt 50 ]; do sleep 0.1; t=$((t + 1)); done
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$f"
    done
  fi
  "$topo" down "$id"
}

down () {
  down_quiet
  [ -n "${DMM_E2E_KEEP:-}" ] || rm -rf "$dir"
}

field () { # field NAME REPORT_JSON: a number or string field of a compact JSON report
  echo "$2" | sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" | head -n 1
}

# anchor_ms I SKIP: programMs of MAAR I's "anchoring for new serving MAAR" log lines after the
# first SKIP ones (the anchor side of a handover; SKIP = anchor_lines before it).
anchor_lines () { grep -c 'anchoring for new serving MAAR' "$dir/maar$1/log" || true; }
anchor_ms () {
  # The daemon logs JSON lines ("programMs":11.2); key=value lines (programMs=11.2) are read too.
  grep 'anchoring for new serving MAAR' "$dir/maar$1/log" | tail -n "+$(($2 + 1))" | sed -n 's/.*"\{0,1\}programMs"\{0,1\}[=:]\([0-9.]*\).*/\1/p' | paste -sd, -
}
r1 () { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; } # one decimal for people

demo () {
  rounds=${1:-1}
  trap 'down' EXIT
  trap 'exit 130' INT TERM
  [ "$discovery" = dht ] && with="DHT discovery" || with="a dmm cmd in $discovery mode in the CN's namespace"
  say "== building namespaces and starting 3 dmm maar processes, $with (work folder $dir)"
  up 3 >/dev/null
  say "== MN attaches to maar1"
  r=$(attach 1 | sed -n 's/^REPORT=//p')
  pref1=$(field localPrefix "$r")
  a1=$(wait_addr "$pref1" 0)
  say "   SLAAC $a1 in $pref1 (native at maar1)"
  ip netns exec "$p-cn" ping -6 -n -c 3 -i 0.2 "$a1" >/dev/null || die "CN cannot reach $a1"
  say "   CN reaches $a1"
  addrs=$a1
  n=0
  path=""
  i=0
  while [ "$i" -lt "$rounds" ]; do path="$path 2 3 1"; i=$((i + 1)); done
  prev=1
  for to in $path; do
    n=$((n + 1))
    say "== handover $n: maar$prev -> maar$to, steady ping every 10 ms from the CN to:$(printf ' %s' $addrs)"
    before=""
    for i in 1 2 3; do before="$before $(anchor_lines "$i")"; done
    # shellcheck disable=SC2086
    out=$(handover "$to" $addrs)
    anchors=""
    i=0
    for b in $before; do
      i=$((i + 1))
      ms=$(anchor_ms "$i" "$b")
      [ -n "$ms" ] && anchors="$anchors${anchors:+,}$ms"
      [ -n "$ms" ] && shown="${shown:-}maar$i $ms ms "
    done
    r=$(echo "$out" | sed -n 's/^REPORT=//p')
    pref=$(field localPrefix "$r")
    a=$(wait_addr "$pref" 0)
    case " $addrs " in *" $a "*) ;; *) addrs="$addrs $a";; esac
    say "   $(field kind "$r") at maar$to: local $pref ($a); lookup $(r1 "$(field lookupMs "$r")") ms, PBU/PBA $(r1 "$(field signallingMs "$r")") ms, attach->programmed $(r1 "$(field totalMs "$r")") ms; kernel programming: serving $(r1 "$(field programMs "$r")") ms, anchors ${shown:-none}"
    shown=""
    echo "$r" | grep -o '"prefix":"[^"]*","anchor":"[^"]*","native":[a-z]*' | sed 's/"prefix":"\([^"]*\)","anchor":"\([^"]*\)","native":\(.*\)/   prefix \1 anchored at \2 (native \3)/' >&2
    echo "$out" | sed -n 's/^PING /   ping /p' >&2
    echo "$out" | sed -n "s/^PING /RESULT handover=$n from=$prev to=$to kind=$(field kind "$r") programMs=$(field programMs "$r") anchorProgramMs=${anchors:-none} signallingMs=$(field signallingMs "$r") lookupMs=$(field lookupMs "$r") totalMs=$(field totalMs "$r") /p"
    for x in $addrs; do
      ip netns exec "$p-cn" ping -6 -n -c 1 -W 2 "$x" >/dev/null || die "CN cannot reach $x after the handover"
    done
    say "   CN reaches every address:$(printf ' %s' $addrs)"
    for x in $addrs; do
      ip netns exec "$p-mn" ping -6 -n -c 1 -W 2 -I "$x" "$(sed -n 's/^CN_ADDR=//p' "$dir/plan")" >/dev/null || die "MN cannot reach the CN from $x"
    done
    say "   MN reaches the CN from every address (uplink of old ones through their anchors)"
    prev=$to
  done
  say "== done; tearing down"
}

case "$cmd" in
  demo) demo "${3:-1}";;
  up) up "${3:-3}";;
  attach) attach "${3:?attach ID TO}";;
  handover) shift 2; handover "$@";;
  pings) case "${3:-}" in start) shift 3; pings_start "$@";; stop) pings_stop;; *) die "pings ID start DST.. | pings ID stop";; esac;;
  kill) kill_maar "${3:?kill ID I}";;
  restart) restart_maar "${3:?restart ID I}";;
  addr) addr "${3:?addr ID PREFIX}";;
  api) api "${3:?api ID I METHOD PATH}" "${4:?METHOD}" "${5:?PATH}" "${6:-}"; echo;;
  cmdapi) cmdapi "${3:?cmdapi ID PATH}"; echo;;
  down) down;;
  *) echo "unknown command $cmd" >&2; exit 2;;
esac
