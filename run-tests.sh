#!/usr/bin/env bash
# Every test PIBL has, in one command (CI runs exactly this through .ci/run):
#   1. mvn -B verify          unit and integration tests of every module (real sockets, files, child JVMs)
#   2. deploy/test/test-render.sh   AWS user-data/pibl.yaml rendering and the --dry-run call list (golden files)
#   3. docs/test-readme-es.sh       README.es.md keeps README.md's sections, code blocks and commands
#      bench/test-summary.sh        bench/run.sh's report (medians, same-round ratios, warnings) on made-up results
#   4. deploy/test/test-h2c.sh      HTTP/2 by prior knowledge with curl --http2-prior-knowledge and h2load
#   5. deploy/test/test-tls.sh      HTTPS: curl --http2/--http1.1, h2load and a wss echo over TLS, the 308 redirect
#   6. deploy/test/test-status-page.sh  the admin page's charts, as headless Chromium renders them
#   7. deploy/local/rehearse.sh     the four-host topology in network namespaces, https/h2/wss as on EC2 (root only; skipped otherwise)
#      deploy/local/rehearse-cluster.sh  three PIBL nodes in cluster mode behind an nftables virtual IP (root only)
#   8. postman/run-newman.sh        the Postman collection against a locally started demo
# Installs the system packages the later steps need when run as root (Debian/Ubuntu: apt-get).
set -euo pipefail
cd "$(dirname "$0")"

need_pkgs=()
command -v curl >/dev/null || need_pkgs+=(curl)
command -v h2load >/dev/null || need_pkgs+=(nghttp2-client)
command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v nft >/dev/null || need_pkgs+=(nftables)
command -v npm >/dev/null || need_pkgs+=(npm)
command -v mvn >/dev/null || need_pkgs+=(maven)
command -v python3 >/dev/null || need_pkgs+=(python3)
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v chromium >/dev/null || need_pkgs+=(chromium)
if ((${#need_pkgs[@]})); then
	if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "run-tests: installing ${need_pkgs[*]}"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
	else
		echo "run-tests: missing ${need_pkgs[*]}; install them (or run as root on Debian/Ubuntu)" >&2
		exit 1
	fi
fi

step() { printf '\n==== %s\n' "$*"; }

step "mvn -B verify"
mvn -B verify

step "deploy/test/test-render.sh"
deploy/test/test-render.sh

step "docs/test-readme-es.sh"
docs/test-readme-es.sh

step "bench/test-summary.sh"
bench/test-summary.sh

step "deploy/test/test-h2c.sh"
deploy/test/test-h2c.sh

step "deploy/test/test-tls.sh"
deploy/test/test-tls.sh

step "deploy/test/test-status-page.sh"
deploy/test/test-status-page.sh

if [[ $EUID -eq 0 ]]; then
	step "deploy/local/rehearse.sh"
	deploy/local/rehearse.sh
	step "deploy/local/rehearse-cluster.sh"
	deploy/local/rehearse-cluster.sh
else
	step "deploy/local/rehearse.sh and rehearse-cluster.sh skipped: network namespaces need root"
fi

step "postman/run-newman.sh"
PIBL_REQUIRE_ADMIN=1 postman/run-newman.sh
