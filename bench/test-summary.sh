#!/usr/bin/env bash
# Checks the report of bench/run.sh (bench/run.sh --report, bench/lib/summary.awk) on results.csv files made here,
# whose numbers are chosen so that each mistake shows: a ratio of medians instead of the median of same-round
# ratios, the wrong anchor for a cell, a failed run counted as a number, a warning missed. No load, no network.
# Usage: bench/test-summary.sh        Last line: "N passed, M failed".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d /tmp/pibl-test-summary.XXXXXX)
trap 'rm -rf "$T"' EXIT
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $1"; [ -z "${2:-}" ] || echo "    ${2//$'\n'/$'\n'    }"; }
has_line() { # DESCRIPTION FILE LINE : passes when FILE has LINE, whole
	if grep -qxF -- "$3" "$2"; then pass "$1"; else fail "$1" "no line: $3"; fi
}
lacks() { # DESCRIPTION FILE TEXT : passes when FILE does not contain TEXT
	if grep -qF -- "$3" "$2"; then fail "$1" "$(grep -F -- "$3" "$2")"; else pass "$1"; fi
}

HEADER="round,contender,kind,path,conns,requests,seconds,rps,p50_ms,p99_ms,errors,non2xx,mib_s,proxy_cores,cpu_us_per_req,rss_mib,pss_mib,log_per_req,client_cores,origin_cores,other_cores"
row() { # ROUND CONTENDER KIND PATH CONNS RPS P99 CPU_US [LOG_PER_REQ] [OTHER] [ERRORS]
	local cpu=$8 cores=0.50 rss=200 pss=150
	if [[ $2 == direct ]]; then cores="" rss="" pss=""; fi
	echo "$1,$2,$3,$4,$5,$6,1.000,$6,1.000,$7,${11:-0},0,1.0,$cores,$cpu,$rss,$pss,${9:-1.00},0.50,0.10,${10:-0.05}"
}

# ---------------------------------------------------------------- HTTP/1.1: three rounds
mkdir -p "$T/http"
{
	echo "$HEADER"
	# /small hits: pibl 100 300 200, nginx-cache 100 100 400 -> same-round ratios 1, 3, 0.5: median 1.00
	# (the ratio of the medians would be 2.00). p99 2 4 6 against 2 2 2 -> 1, 2, 3: 2.00 (1.00-3.00).
	row 1 pibl http /small 50 100 2 10
	row 1 nginx-cache http /small 50 100 2 20
	row 1 nginx-proxy http /small 50 50 2 30
	row 1 direct http /small 50 500 1 ""
	row 2 nginx-cache http /small 50 100 2 20
	row 2 pibl http /small 50 300 4 10
	row 2 direct http /small 50 500 1 ""
	row 2 nginx-proxy http /small 50 50 2 30
	row 3 nginx-proxy http /small 50 50 2 30
	row 3 direct http /small 50 500 1 ""
	row 3 pibl http /small 50 200 6 10
	row 3 nginx-cache http /small 50 400 2 20
	# /nocache pass-through: pibl 120 against nginx-proxy 100 every round and haproxy 60 and 80; in round 2
	# haproxy failed (no request: counted as 0, its median would be 60, not 70), pibl logged too little and
	# other processes disturbed nginx-proxy.
	row 1 pibl http /nocache 50 120 3 40
	row 1 nginx-proxy http /nocache 50 100 3 50
	row 1 haproxy http /nocache 50 60 6 80
	row 1 nginx-cache http /nocache 50 90 3 60
	row 2 pibl http /nocache 50 120 3 40 0.90
	row 2 nginx-proxy http /nocache 50 100 3 50 1.00 0.75
	echo "2,haproxy,http,/nocache,50,0,1.000,0,,,7,0,0.0,0.50,,20,15,,0.50,0.10,0.05"
	row 2 nginx-cache http /nocache 50 90 3 60
	row 3 pibl http /nocache 50 120 3 40 1.00 0.05 3
	row 3 nginx-proxy http /nocache 50 100 3 50
	row 3 haproxy http /nocache 50 80 6 80
	row 3 nginx-cache http /nocache 50 90 3 60
} >"$T/http/results.csv"
echo "date: test" >"$T/http/env.txt"
"$HERE/run.sh" --report "$T/http" >/dev/null 2>"$T/err" || fail "run.sh --report succeeds" "$(cat "$T/err")"
MD=$T/http/results.md

has_line "the environment is quoted" "$MD" "date: test"
has_line "the medians table has the contenders in their fixed order" "$MD" "| cell | pibl | nginx-cache | nginx-proxy | haproxy | direct |"
has_line "medians per cell: req/s · p99 · CPU per request, direct without CPU" "$MD" \
	"| /small 1 KiB hit, 50 | 200 · 4.00 · 10.0 | 100 · 2.00 · 20.0 | 50.0 · 2.00 · 30.0 | | 500 · 1.00 |"
has_line "a failed run is left out of the medians, not counted as 0" "$MD" \
	"| /nocache pass-through, 50 | 120 · 3.00 · 40.0 | 90.0 · 3.00 · 60.0 | 100 · 3.00 · 50.0 | 70.0 · 6.00 · 80.0 | |"
has_line "hits: the median of same-round ratios against nginx-cache, with the range" "$MD" \
	"| /small 1 KiB hit, 50 | nginx-cache | 1.00 (0.50-3.00) | 2.00 (1.00-3.00) | 0.50 |"
has_line "pass-through: against nginx-proxy" "$MD" "| /nocache pass-through, 50 | nginx-proxy | 1.20 | 1.00 | 0.80 |"
has_line "pass-through: against haproxy, over the rounds it completed" "$MD" "| /nocache pass-through, 50 | haproxy | 1.75 (1.50-2.00) | 0.50 | 0.50 |"
lacks "hits are not compared with nginx-proxy" "$MD" "| /small 1 KiB hit, 50 | nginx-proxy |"
lacks "pass-through is not compared with nginx-cache" "$MD" "| /nocache pass-through, 50 | nginx-cache |"
has_line "the largest RSS of each proxy" "$MD" \
	"RSS under load (the largest 1 s sample of the proxy's processes): pibl 200 MiB, nginx-cache 200 MiB, nginx-proxy 200 MiB, haproxy 200 MiB."
has_line "the detail row has the spread over rounds and the errors" "$MD" \
	"| pibl | /nocache pass-through, 50 | 120 | 0% | 1.00 | 3.00 | 40.0 | 0.50 | 200 | 1.00 | 3 | 0.05 |"
has_line "warning: a run without any request" "$MD" "- round 2, haproxy, /nocache pass-through, 50: no request completed"
has_line "warning: fewer log lines than requests" "$MD" \
	"- round 2, pibl, /nocache pass-through, 50: 0.90 log lines per request (must be >= 1)"
has_line "warning: other processes took the CPU" "$MD" \
	"- round 2, nginx-proxy, /nocache pass-through, 50: 0.75 cores used by other processes (a disturbed run)"
has_line "warning: socket errors" "$MD" "- round 3, pibl, /nocache pass-through, 50: 3 socket errors, 0 non-2xx"

# ---------------------------------------------------------------- --tls: one round, nginx the anchor everywhere
mkdir -p "$T/tls"
{
	echo "$HEADER"
	row 1 pibl https /small 50 300 2 30
	row 1 nginx https /small 50 200 4 40
	row 1 nginx https /nocache 200 100 4 40
	row 1 pibl https /nocache 200 150 2 20
	row 1 pibl https-close /small 50 80 10 500
	row 1 nginx https-close /small 50 100 10 400
	echo "1,pibl,https-new,/small,2,500,1.000,500,,,0,0,1.0,0.50,1200.0,250,200,1.00,0.50,0.10,0.05"
	echo "1,nginx,https-new,/small,2,400,1.000,400,,,0,0,1.0,0.50,600.0,50,40,1.00,0.50,0.10,0.05"
	row 1 pibl h2 /medium 50 1000 5 100
	row 1 nginx h2 /medium 50 500 5 50
} >"$T/tls/results.csv"
"$HERE/run.sh" --report "$T/tls" >/dev/null 2>"$T/err" || fail "run.sh --report of a --tls run succeeds" "$(cat "$T/err")"
MD=$T/tls/results.md
has_line "--tls: two contenders, no direct" "$MD" "| cell | pibl | nginx |"
has_line "--tls: keep-alive hits against nginx" "$MD" "| https /small 1 KiB hit, 50 | nginx | 1.50 | 0.50 | 0.75 |"
has_line "--tls: pass-through against nginx too" "$MD" "| https /nocache pass-through, 200 | nginx | 1.50 | 0.50 | 0.50 |"
has_line "--tls: resumed handshakes" "$MD" \
	"| https new connections, resumed (Connection: close) /small, 50 | nginx | 0.80 | 1.00 | 1.25 |"
has_line "--tls: full handshakes have no p99" "$MD" \
	"| https new connections, full handshakes (s_time -new) /small, 2 clients | nginx | 1.25 | - | 2.00 |"
has_line "--tls: HTTP/2" "$MD" "| h2 /medium 64 KiB hit, 50 x 10 streams | nginx | 2.00 | 1.00 | 2.00 |"
has_line "--tls: no warnings" "$MD" "None: no errors, every proxy logged every request, no run disturbed by other processes."

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
