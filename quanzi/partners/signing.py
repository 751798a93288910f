"""The partner's signatures: the arrival token and the server-to-server request.

Token (compact, two base64url parts without padding, joined by a dot)::

    <payload>.<signature>
    payload   = base64url(UTF-8 JSON {"partner", "uid", "level", "iat", "exp", "nonce"})
    signature = base64url(sign(ASCII bytes of <payload>))

Request: the partner signs the string ``METHOD\\nPATH\\nQUERY\\nTIMESTAMP\\nNONCE\\nSHA256(BODY)``
(``SHA256`` in lower-case hex, of the raw body, empty body included) and sends it in
``X-Partner-Signature`` with ``X-Partner-Timestamp`` (Unix seconds) and ``X-Partner-Nonce``.

``sign`` is HMAC-SHA256 with the shared secret (UTF-8 bytes) or RSASSA-PKCS1-v1_5 with
SHA-256 (the partner holds the private key, Quanzi the public one). Verification tries
every key the partner may use now: the current one and, during the overlap after a
rotation, the previous one. ``docs/partners.md`` is the partner's description.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from quanzi.core.errors import Invalid


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text or any(c not in _ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def rsa_public_key_check(pem: str) -> None:
    """Refuse anything but an RSA public key of 2048 bits or more."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise Invalid(
            "partner_key_invalid", "not a PEM public key", {"field": "public_key"}
        ) from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise Invalid(
            "partner_key_invalid", "an RSA public key of 2048 bits or more", {"field": "public_key"}
        )


def verify(kind: str, material: str, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``message`` signed with this key."""
    if kind == "hmac":
        expected = hmac.new(material.encode(), message, hashlib.sha256).digest()
        return hmac.compare_digest(expected, signature)
    if kind == "rsa":
        try:
            key = serialization.load_pem_public_key(material.encode())
            assert isinstance(key, rsa.RSAPublicKey)
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            return True
        except (InvalidSignature, ValueError, AssertionError):
            return False
    return False


def verify_any(keys: Iterable[tuple[str, str]], message: bytes, signature: bytes) -> bool:
    return any(verify(kind, material, message, signature) for kind, material in keys)


# --- what a partner does (used by the demo, the tests and docs/partners.md) -------------


def sign(kind: str, material: str, message: bytes) -> bytes:
    """Sign as the partner: ``material`` is the shared secret or the RSA private key (PEM)."""
    if kind == "hmac":
        return hmac.new(material.encode(), message, hashlib.sha256).digest()
    key = serialization.load_pem_private_key(material.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def token_make(kind: str, material: str, payload: dict[str, Any]) -> str:
    body = b64url(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{body}.{b64url(sign(kind, material, body.encode('ascii')))}"


def request_string(
    *, method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), path, query, timestamp, nonce, digest]).encode()


def request_headers(
    kind: str,
    material: str,
    *,
    partner: str,
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    timestamp: int,
    nonce: str,
) -> dict[str, str]:
    message = request_string(
        method=method, path=path, query=query, timestamp=str(timestamp), nonce=nonce, body=body
    )
    return {
        "X-Partner-Code": partner,
        "X-Partner-Timestamp": str(timestamp),
        "X-Partner-Nonce": nonce,
        "X-Partner-Signature": b64url(sign(kind, material, message)),
    }


def rsa_keypair() -> tuple[str, str]:
    """A new (private PEM, public PEM) pair, 2048 bits."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
