"""Ed25519 verification (retouch/providers/ed25519.py) against RFC 8032's vectors and the `cryptography` package."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from retouch.providers.ed25519 import verify

# RFC 8032, section 7.1, TEST 1 (empty message) and TEST 2 (one byte).
RFC_VECTORS = [
    ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe2"
     "4655141438e7a100b"),
    ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302ae"
     "eb00d291612bb0c00"),
]


@pytest.mark.parametrize(("key", "message", "signature"), RFC_VECTORS)
def test_rfc_8032_vectors_verify(key: str, message: str, signature: str) -> None:
    assert verify(bytes.fromhex(key), bytes.fromhex(message), bytes.fromhex(signature)) is True


def test_a_signature_made_by_cryptography_verifies_and_any_change_fails() -> None:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    message = b"request-id\nuser\n1700000000\n" + b"ab" * 32
    signature = private.sign(message)
    assert verify(public, message, signature) is True
    assert verify(public, message + b"x", signature) is False
    assert verify(public, message, signature[:-1] + bytes([signature[-1] ^ 1])) is False
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert verify(other, message, signature) is False
    assert verify(public[:31], message, signature) is False
