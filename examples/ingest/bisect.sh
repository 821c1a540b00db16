#!/usr/bin/env bash
# A search written in bash, recorded by Thinktree: find a secret number in 1..100 by bisection.
# Each guess is a node; at every step both halves are proposed, the half that cannot hold the
# secret is pruned, and the guess that hits it is solved. One JSON event per line on stdout:
#
#   bash examples/ingest/bisect.sh 37 | python cli.py ingest - --db bash.db
#
# run_id, seq and t are left out: ingest numbers the events and times them as they arrive.
secret=${1:-37}
delay=${2:-0}          # seconds between steps (to watch it grow on the Live page)
emit() { printf '{"type":"%s","node_id":%s,"payload":%s}\n' "$1" "$2" "$3"; sleep "$delay"; }

printf '{"type":"run_started","payload":{"task":"bisect","problem":"find %s in 1..100","strategy":"bisection (bash)"}}\n' "$secret"
emit node_created 0 '{"parent_id":null,"depth":0,"role":"problem"}'
emit node_completed 0 "{\"text\":\"secret in 1..100\"}"
lo=1; hi=100; parent=0; next=1; depth=0
while :; do
  depth=$((depth + 1))
  mid=$(((lo + hi) / 2))
  for half in low high; do
    if [ "$half" = low ]; then a=$lo; b=$mid; else a=$((mid + 1)); b=$hi; fi
    [ "$a" -gt "$b" ] && continue
    id=$next; next=$((next + 1))
    emit node_created "$id" "{\"parent_id\":$parent,\"depth\":$depth}"
    emit tokens "$id" "{\"text\":\"is it in $a..$b\"}"
    emit tokens "$id" "{\"text\":\"?\"}"
    emit node_completed "$id" "{\"step\":\"$a..$b\",\"label\":\"$a..$b\"}"
    size=$((b - a + 1))
    emit node_scored "$id" "{\"value\":$(awk "BEGIN{print 1/$size}"),\"evaluator\":\"1/size\"}"
    if [ "$secret" -lt "$a" ] || [ "$secret" -gt "$b" ]; then
      emit node_pruned "$id" "{\"reason\":\"$secret is not in $a..$b\"}"
    elif [ "$a" -eq "$b" ]; then
      emit node_solved "$id" "{\"answer\":\"$a\",\"reason\":\"found\"}"
      printf '{"type":"run_finished","payload":{"outcome":"solved","answer":"%s","answer_node":%s,"nodes":%s}}\n' "$a" "$id" "$next"
      exit 0
    else
      keep=$id; klo=$a; khi=$b
    fi
  done
  parent=$keep; lo=$klo; hi=$khi
done
