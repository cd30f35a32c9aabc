"""Mints a Tickwire join token with PyJWT, as a game backend written in Python would.

    mint.py ALG KEY_FILE PLAYER ROOM [KID]    (HS256: KEY_FILE holds the shared secret;
                                              EdDSA/ES256: a PKCS#8 private key PEM)
    mint.py --verify ALG PUBLIC_KEY_FILE TOKEN (checks a token tickwire-server minted)

Used by server/tests/jwt_peers.rs with the PyJWT that scripts/jwt-peers.sh installs.
"""

import json
import sys
import time
import uuid

import jwt

if sys.argv[1] == "--verify":
    alg, key_file, token = sys.argv[2:5]
    claims = jwt.decode(token, open(key_file).read(), algorithms=[alg], audience="tickwire")
    print(json.dumps(claims, sort_keys=True))
    sys.exit(0)

alg, key_file, player, room = sys.argv[1:5]
kid = sys.argv[5] if len(sys.argv) > 5 else None
now = int(time.time())
claims = {
    "sub": player,
    "room": room,
    "game": "arena",
    "aud": "tickwire",
    "iat": now,
    "nbf": now,
    "exp": now + 60,
    "jti": str(uuid.uuid4()),
}
print(jwt.encode(claims, open(key_file).read(), algorithm=alg, headers={"kid": kid} if kid else None))
