// Mints a Tickwire join token with Node's jsonwebtoken, as a game backend written in Node would.
//
//   node mint.cjs ALG KEY_FILE PLAYER ROOM [KID]   (HS256: KEY_FILE holds the shared secret;
//                                                  ES256: a PKCS#8 private key PEM)
//
// Used by server/tests/jwt_peers.rs, with NODE_PATH at the jsonwebtoken that
// scripts/jwt-peers.sh installs (its 9.x signs HS*, RS*, PS* and ES*, not EdDSA).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const jwt = require('jsonwebtoken');

const [alg, keyFile, player, room, kid] = process.argv.slice(2);
const token = jwt.sign({ sub: player, room, game: 'arena' }, fs.readFileSync(keyFile, 'utf8'), {
  algorithm: alg,
  audience: 'tickwire',
  expiresIn: 60,
  notBefore: 0,
  jwtid: crypto.randomUUID(),
  ...(kid ? { keyid: kid } : {}),
});
console.log(token);
