# bench/lib/summary.awk - results.csv of bench/run.sh -> the markdown tables of results.md.
#
#   awk -F, -v order="pibl nginx-cache ..." -v subject=pibl -v hit_anchors=nginx-cache \
#       -v pass_anchors="nginx-proxy haproxy" -v pass_paths=/nocache -f bench/lib/summary.awk results.csv
#
# order: the contenders, in the order of the table's columns. Ratios are subject / anchor, per round (the two
# ran in the same minute), then the median over the rounds: hit_anchors for the cacheable paths, pass_anchors
# for pass_paths. Columns of results.csv are named in its first line; this script reads them by name.

function sortn(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
}
function median(list,   a, n) {
	n = split(list, a, " ")
	if (n == 0) return ""
	sortn(a, n)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function spread(list,   a, n, m) { # (max - min) / median, in %
	n = split(list, a, " ")
	if (n < 2) return ""
	sortn(a, n); m = median(list)
	return m > 0 ? sprintf("%.0f%%", 100 * (a[n] - a[1]) / m) : ""
}
function push(arr, key, v) { if (v != "") arr[key] = (key in arr) ? arr[key] " " v : v }
function fmt(v, f) { return v == "" ? "-" : sprintf(f, v) }
function num(v) { # 53900 -> 53.9k, 1999 -> 1999, 8.64 -> 8.6
	if (v == "") return "-"
	if (v >= 10000) return sprintf("%.1fk", v / 1000)
	if (v >= 100) return sprintf("%.0f", v)
	if (v >= 10) return sprintf("%.1f", v)
	return sprintf("%.2f", v)
}
# Median over rounds of X[subject, cell, r] / X[anchor, cell, r]; "-" when no round has both. With several
# rounds the range follows: 1.12 (0.98-1.20).
function ratio(X, s, a, cell,   r, v, list, lo, hi, n, m) {
	list = ""; n = 0
	for (r in ROUNDS) {
		if (!((s, cell, r) in X) || !((a, cell, r) in X) || X[a, cell, r] <= 0) continue
		v = X[s, cell, r] / X[a, cell, r]
		list = list " " v; n++
		if (n == 1 || v < lo) lo = v
		if (n == 1 || v > hi) hi = v
	}
	if (n == 0) return "-"
	m = median(list)
	return n == 1 || sprintf("%.2f", lo) == sprintf("%.2f", hi) ? sprintf("%.2f", m) : sprintf("%.2f (%.2f-%.2f)", m, lo, hi)
}
function what(path) {
	if (path in pass) return path " pass-through"
	if (path == "/small") return "/small 1 KiB hit"
	if (path == "/medium") return "/medium 64 KiB hit"
	if (path == "/large") return "/large 1 MiB hit"
	return path
}
function label(cell,   p) {
	split(cell, p, SUBSEP)
	if (p[1] == "http") return what(p[2]) ", " p[3]
	if (p[1] == "https") return "https " what(p[2]) ", " p[3]
	if (p[1] == "https-close") return "https new connections, resumed (Connection: close) " p[2] ", " p[3]
	if (p[1] == "https-new") return "https new connections, full handshakes (s_time -new) " p[2] ", " p[3] " clients"
	if (p[1] == "h2") return "h2 " what(p[2]) ", " p[3] " x 10 streams"
	return p[1] " " p[2] ", " p[3]
}

BEGIN {
	nc = split(order, C, " ")
	split(pass_paths, tmp, " "); for (i in tmp) pass[tmp[i]] = 1
}
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{
	name = $col["contender"]; r = $col["round"]
	cell = $col["kind"] SUBSEP $col["path"] SUBSEP $col["conns"]
	if (!(cell in seen)) { seen[cell] = 1; CELL[++ncell] = cell }
	ROUNDS[r] = 1; has[name] = 1
	k = name SUBSEP cell
	if ($col["requests"] + 0 == 0) { failed[k]++; warn[++nw] = "round " r ", " name ", " label(cell) ": no request completed"; next }
	push(RPS, k, $col["rps"]); push(P50, k, $col["p50_ms"]); push(P99, k, $col["p99_ms"])
	push(CPU, k, $col["cpu_us_per_req"]); push(CORES, k, $col["proxy_cores"]); push(LOGR, k, $col["log_per_req"])
	push(OTHER, k, $col["other_cores"])
	errs[k] += $col["errors"]; non2xx[k] += $col["non2xx"]
	if ($col["rss_mib"] != "" && $col["rss_mib"] + 0 > rss[k]) rss[k] = $col["rss_mib"] + 0
	if ($col["rss_mib"] != "" && $col["rss_mib"] + 0 > rssmax[name]) rssmax[name] = $col["rss_mib"] + 0
	R[k, r] = $col["rps"]
	if ($col["p99_ms"] != "") L[k, r] = $col["p99_ms"]
	if ($col["cpu_us_per_req"] != "") U[k, r] = $col["cpu_us_per_req"]
	if ($col["errors"] + $col["non2xx"] > 0)
		warn[++nw] = "round " r ", " name ", " label(cell) ": " $col["errors"] " socket errors, " $col["non2xx"] " non-2xx"
	if ($col["log_per_req"] != "" && $col["log_per_req"] + 0 < 1)
		warn[++nw] = "round " r ", " name ", " label(cell) ": " $col["log_per_req"] " log lines per request (must be >= 1)"
	if ($col["other_cores"] + 0 > 0.3)
		warn[++nw] = "round " r ", " name ", " label(cell) ": " $col["other_cores"] " cores used by other processes (a disturbed run)"
}
END {
	nr = 0; for (r in ROUNDS) nr++
	printf "## Medians over %d round%s\n\n", nr, nr == 1 ? "" : "s"
	print "req/s · p99 ms · proxy CPU µs per request" (("direct" in has) ? " (`direct` has no proxy: wrk straight to one origin)." : ".")
	print ""
	line = "| cell |"; sep = "|---|"
	for (c = 1; c <= nc; c++) if (C[c] in has) { line = line " " C[c] " |"; sep = sep "---|" }
	print line; print sep
	for (i = 1; i <= ncell; i++) {
		line = "| " label(CELL[i]) " |"
		for (c = 1; c <= nc; c++) {
			if (!(C[c] in has)) continue
			k = C[c] SUBSEP CELL[i]
			if (!(k in RPS)) { line = line ((k in failed) ? " failed |" : " |"); continue }
			v = num(median(RPS[k])) " · " num(median(P99[k]))
			if (k in CPU) v = v " · " num(median(CPU[k]))
			line = line " " v " |"
		}
		print line
	}
	line = ""
	for (c = 1; c <= nc; c++) if (C[c] in rssmax) line = line (line == "" ? "" : ", ") C[c] " " rssmax[C[c]] " MiB"
	if (line != "") { print ""; print "RSS under load (the largest 1 s sample of the proxy's processes): " line "." }

	print ""
	printf "## Ratios, %s / anchor\n\n", subject
	print "Median over the rounds of the ratio within each round" (nr > 1 ? ", with the range over the rounds" : "") \
		". req/s: above 1 is better; p99 and CPU per request: below 1 is better."
	print ""
	print "| cell | anchor | req/s | p99 | CPU/req |"
	print "|---|---|---|---|---|"
	for (i = 1; i <= ncell; i++) {
		split(CELL[i], p, SUBSEP)
		na = split((p[2] in pass) ? pass_anchors : hit_anchors, A, " ")
		ks = subject SUBSEP CELL[i]
		for (a = 1; a <= na; a++) {
			ka = A[a] SUBSEP CELL[i]
			if (!(ks in RPS) || !(ka in RPS)) continue
			printf "| %s | %s | %s | %s | %s |\n", label(CELL[i]), A[a], ratio(R, subject, A[a], CELL[i]),
				ratio(L, subject, A[a], CELL[i]), ratio(U, subject, A[a], CELL[i])
		}
	}

	print ""
	print "## Every contender, every cell (medians over rounds)"
	print ""
	print "spread: (max - min) / median of req/s over the rounds. proxy cores: CPU the proxy used (1.00 = one core)."
	print "other cores: CPU used by everything but the proxy, the client and the origins (high: a disturbed run)."
	print ""
	print "| contender | cell | req/s | spread | p50 ms | p99 ms | CPU µs/req | proxy cores | RSS MiB | log/req | errors | other cores |"
	print "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for (c = 1; c <= nc; c++) for (i = 1; i <= ncell; i++) {
		k = C[c] SUBSEP CELL[i]
		if (!(k in RPS)) continue
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", C[c], label(CELL[i]),
			fmt(median(RPS[k]), "%.0f"), (spread(RPS[k]) == "" ? "-" : spread(RPS[k])), fmt(median(P50[k]), "%.2f"),
			fmt(median(P99[k]), "%.2f"), fmt(median(CPU[k]), "%.1f"), fmt(median(CORES[k]), "%.2f"),
			(k in rss) ? rss[k] : "-", fmt(median(LOGR[k]), "%.2f"), (errs[k] + non2xx[k]) ((k in failed) ? ", " failed[k] " failed" : ""),
			fmt(median(OTHER[k]), "%.2f")
	}

	print ""
	print "## Warnings"
	print ""
	if (nw == 0) print "None: no errors, every proxy logged every request, no run disturbed by other processes."
	for (i = 1; i <= nw; i++) print "- " warn[i]
}
