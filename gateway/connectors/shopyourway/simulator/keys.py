"""A DEMO RSA key pair for the ShopYourWay (Telluride) simulator ONLY.

!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! DEMO KEY - PUBLISHED IN SOURCE CONTROL - NOT A SECRET.                                !!
!! It exists so the sandbox simulator and ``gateway demo`` can sign and check JWT        !!
!! assertions. NEVER register this key (or a certificate made from it) with the real     !!
!! Telluride / ShopYourWay OAuth system, and never use it for anything but the sandbox.  !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

Generated once with ``cryptography`` (RSA 2048, e=65537; PKCS#8 private key, SubjectPublicKeyInfo
public key). Tests that need a different key call :func:`generate_key_pair`.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# DEMO KEY FOR THE SIMULATOR ONLY - never use for a real Telluride registration.
DEMO_PRIVATE_KEY_PEM = """\
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDMrNQsQlvHusjh
6lb41riR/OaklnBwz6uPXG+V3UnZGA5OJSdB2Tzurav9wwdSefazS2LghlwLfixq
/q9eeGpDXurOqP0ePtlxIWSyU0zkr/u5aqoTWb5OtuLctOqsKUKzcEr+QcWPOugz
EFGNMEkko0qeAIaU5Qwjm7U+wyo1UpobAVsqekEIsW5p0VOWAqgZizqJ3CQBcsSO
zRin3rg/6SSDFqibbbjStxBjb2Hq8HBjQV9ROoD2HkIGbEgPsTEa3kxrAWXZ7Odn
+3kqXsQMx8SZVXWWI9qmGo3AFsBha+9xkUN9U2IOwmogIsnHsKagIgR5UYfcT1d1
WOFNnV6PAgMBAAECggEAN4JP8Mj2d06zGIIjoE0rtXwvWUfrqszHrJPXN3/SfWxG
xO7SnMs7+Udks+fm3nlxbOLvKBGIeR15EnOMQETMHQVrDS1LqJ5G/qWd17c7zXHl
BT5mbeUS9eon0M/ILXTrQBseW6Ke39+MBf1RAMetrqASppNh7JPKHQYnu6PWmKsX
vcgIOybvjjOtsazN75cQjw70HoURYxjBQKfTCCdlEuKT8gdWffXkZq8qJHw1GeWp
jh81v9+0EHDpRHNyTN+aS22RQ4oJeenQHok/S21D8A+KunniztzfjpkWEjxhsdhD
xuS8yImSyhgk5lnYJkYzaacZXOMV4r6/BPpJ0RgcYQKBgQD5bKursE6P7VV/ZPsM
qLji5k0N25ppvBiKk6tVDkPEs6x9S68aKqeEmzFnzEiDFGr6TW1dPUFsaXMIl/wS
tJwSqpMMszTdlyLdBZars5/ixmChTxkT/jHinSyvYBrqxqSHgvZqWm/1CsB58UQe
8dptF3JDluqBdFJ0AmNN+ytzOQKBgQDSEiaz1rU7GcHLKiI+kURaRSN0TN/9YwVN
DyL6edrTXglz52uU7pgFxerBkgTxW9qXXASE/HmdNCIypHCDtC5k03JULuS+XAib
Y6ucSDc2WWTDrqUozk6TE7jickTjQWTk/dX950ErsCsWfPPVJlhJ9J2eqbSeGgeF
dWry8D74BwKBgAd+ZVX+MQ4P8l6meQhzVUKz6qK881Gz7gTT1PT0PcL+JvOIv5UI
rQnF4+EbeR4/Ecu9YcjIW1vXezZJ4q/pLzs8Vrit9aumq8x6K4GzHt2gWizehIFe
RL9rO3l1aLmfCDhuDds6Jlz1Wr0PK53GZGqcprkzIo6LISMNI1CneDG5AoGBAMQs
ISpWOh372qawLRSCsfMel5JW6+GDZALnPMHto3U5Xth251dITH0vqx+jDaybG5G3
Y50Q7Tzp33mtaEkFrUGI2D5XIFPIPF1oAW1LXwwJBPlcEW3+4w+kHkaRcVVLzz2s
8fZOy+RReptgio+lZFOD9OGjF0GBiz6NPRerVRJnAoGAEVlVLrOFcCtBFlkJloCR
wtly/nB32eODTGiLrFE7PmHhHzCBUywBRsj9NqssMHcrnvddL+VO+2glSfbaqkjB
jvCrVvJc1vYo1EhGRFRUcw9pU+TEImSJNjWnfDXO944a5YxlSKxoLWDQs5MMuXum
jf6LzoWF4qBmZ9CHbRF6zJ8=
-----END PRIVATE KEY-----
"""

DEMO_PUBLIC_KEY_PEM = """\
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzKzULEJbx7rI4epW+Na4
kfzmpJZwcM+rj1xvld1J2RgOTiUnQdk87q2r/cMHUnn2s0ti4IZcC34sav6vXnhq
Q17qzqj9Hj7ZcSFkslNM5K/7uWqqE1m+Trbi3LTqrClCs3BK/kHFjzroMxBRjTBJ
JKNKngCGlOUMI5u1PsMqNVKaGwFbKnpBCLFuadFTlgKoGYs6idwkAXLEjs0Yp964
P+kkgxaom2240rcQY29h6vBwY0FfUTqA9h5CBmxID7ExGt5MawFl2eznZ/t5Kl7E
DMfEmVV1liPaphqNwBbAYWvvcZFDfVNiDsJqICLJx7CmoCIEeVGH3E9XdVjhTZ1e
jwIDAQAB
-----END PUBLIC KEY-----
"""


def generate_key_pair() -> tuple[str, str]:
    """A fresh 2048-bit RSA key pair as PEM text: (private PKCS#8, public SubjectPublicKeyInfo)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private_pem, public_pem
