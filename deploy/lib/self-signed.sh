# shellcheck shell=bash
# A self-signed certificate for demos and tests: an EC P-256 key and a certificate for the given names.
# Source it, then:  self_signed_cert CERT KEY DAYS SAN      (SAN as openssl spells it: DNS:localhost,IP:127.0.0.1)
# Returns non-zero (openssl's message on stderr) when openssl is missing or fails.
self_signed_cert() {
	local cert=$1 key=$2 days=$3 san=$4
	command -v openssl >/dev/null || { echo "self_signed_cert: openssl is needed (apt-get install openssl)" >&2; return 1; }
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" -subj /CN=localhost \
		-addext "subjectAltName=$san" -keyout "$key" -out "$cert" 2>/dev/null &&
		chmod 600 "$key"
}
