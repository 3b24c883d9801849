# shellcheck shell=bash
# A self-signed certificate for demos, tests and the EC2 host: an EC P-256 key and a certificate for the names.
# Source it, then:  self_signed_cert CERT KEY DAYS SAN      (SAN as openssl spells it: DNS:localhost,IP:127.0.0.1)
# The subject's CN is the first SAN value. The key is written mode 0600. Returns non-zero (openssl's message on
# stderr) when openssl is missing or fails. The PIBL host's user-data carries this function too (deploy/lib/render.sh).
self_signed_cert() {
	local cert=$1 key=$2 days=$3 san=$4 cn
	cn=${san%%,*}
	cn=${cn#*:}
	command -v openssl >/dev/null || { echo "self_signed_cert: openssl is needed (apt-get install openssl)" >&2; return 1; }
	(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" -subj "/CN=$cn" \
		-addext "subjectAltName=$san" -keyout "$key" -out "$cert" 2>/dev/null) &&
		chmod 600 "$key" && chmod 644 "$cert"
}
