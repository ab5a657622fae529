"""Writes N DPoP proofs (RFC 9449), one a line, for bench/dpop.sh: each
with its own jti, signed with ES256 by one P-256 key, for POST to the URL
given. Uses the cryptography package directly, which signs much faster
than a JOSE library would."""
import base64
import json
import sys
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main():
    url, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    key = ec.generate_private_key(ec.SECP256R1())
    pub = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "x": b64(pub.x.to_bytes(32, "big")),
           "y": b64(pub.y.to_bytes(32, "big"))}
    head = b64(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}).encode())
    with open(path, "w") as f:
        for _ in range(n):
            body = b64(json.dumps({"jti": str(uuid.uuid4()), "htm": "POST", "htu": url,
                                   "iat": int(time.time())}).encode())
            r, s = decode_dss_signature(key.sign(("%s.%s" % (head, body)).encode(),
                                                 ec.ECDSA(hashes.SHA256())))
            f.write("%s.%s.%s\n" % (head, body, b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))))


if __name__ == "__main__":
    main()
