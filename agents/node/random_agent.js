#!/usr/bin/env node
// A random recommender for recarena in JavaScript, written from
// docs/protocol.md: k distinct live items per request, uniformly at
// random. Uses the npm packages zeromq (v6, which ships its native addon
// prebuilt inside the package) and @msgpack/msgpack.
//
//   cd agents/node && npm ci
//   RECARENA_ENDPOINT=ipc:///tmp/recarena.sock RECARENA_AGENT_NAME=js node random_agent.js
//
// It speaks protocol 1.2: it keeps the catalog's titles (CATALOG.items.titles,
// when the catalog has them) by item id and prints the first at each
// episode; it sends no propensities (ACT.propensity is optional).
//
// Options: --endpoint ENDPOINT, --name NAME (default: the RECARENA_*
// environment variables, as for every agent). Over tcp with CURVE
// (docs/security.md): --server-key FILE (the server's NAME.pub) and
// --agent-key FILE (this agent's NAME.key), or RECARENA_SERVER_KEY and
// RECARENA_AGENT_KEY.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const zmq = require("zeromq");
const { Encoder, Decoder } = require("@msgpack/msgpack");

const [HELLO, WELCOME, CATALOG, STEP, ACT, JOINT, EPISODE_END, BYE, PING, PONG, ERROR] =
  [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const MAJOR = 1;
// 64-bit integers (seed, nonce) decode as BigInt, so PONG echoes a nonce exactly.
const encoder = new Encoder({ useBigInt64: true });
const decoder = new Decoder({ useBigInt64: true });

// typed array -> plain JS array of numbers (little-endian, data unaligned)
function fromTyped(t) {
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = [];
  switch (t.dtype) {
    case "int32": for (let i = 0; i < t.data.byteLength; i += 4) out.push(view.getInt32(i, true)); break;
    case "float32": for (let i = 0; i < t.data.byteLength; i += 4) out.push(view.getFloat32(i, true)); break;
    case "float64": for (let i = 0; i < t.data.byteLength; i += 8) out.push(view.getFloat64(i, true)); break;
    case "uint8": for (let i = 0; i < t.data.byteLength; i++) out.push(view.getUint8(i)); break;
    case "int64": for (let i = 0; i < t.data.byteLength; i += 8) out.push(Number(view.getBigInt64(i, true))); break;
    default: throw new Error(`unknown dtype ${t.dtype}`);
  }
  return out;
}

// CATALOG.items.titles (protocol 1.2): one bin of n NUL-terminated UTF-8
// strings, aligned with items.ids -> an array of n strings ("" = none).
function titlesFrom(bin, n) {
  const text = Buffer.from(bin.buffer, bin.byteOffset, bin.byteLength);
  const parts = text.toString("utf8").split("\0");
  if (parts.length !== n + 1 || parts[n] !== "")
    throw new Error(`CATALOG.items.titles: expected ${n} NUL-terminated strings`);
  return parts.slice(0, n);
}

// JS array of integers -> int32 typed array of the given shape
function int32Typed(values, shape) {
  const data = new Uint8Array(values.length * 4);
  const view = new DataView(data.buffer);
  values.forEach((v, i) => view.setInt32(i * 4, v, true));
  return { dtype: "int32", shape, data };
}

// A small seeded generator (mulberry32) so a run replays with the same seed.
function rng32(seed) {
  let a = Number(BigInt.asUintN(32, BigInt(seed)));
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Z85 (ZeroMQ RFC 32): 4 bytes <-> 5 characters, big-endian base 85.
const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
function z85Decode(text) {
  if (text.length % 5 !== 0) throw new Error("Z85 text length is not a multiple of 5");
  const out = Buffer.alloc((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const digit = Z85.indexOf(text[i + j]);
      if (digit < 0) throw new Error(`not a Z85 character: ${text[i + j]}`);
      value = value * 85 + digit;
    }
    out.writeUInt32BE(value >>> 0, (i / 5) * 4);
  }
  return out;
}
function z85Encode(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let value = bytes.readUInt32BE(i);
    const chunk = [];
    for (let j = 0; j < 5; j++) { chunk.unshift(Z85[value % 85]); value = Math.floor(value / 85); }
    text += chunk.join("");
  }
  return text;
}
// A key file of recarena keygen: one line, a 40-character Z85 key.
function readKey(path) {
  const key = fs.readFileSync(path, "utf8").trim();
  if (key.length !== 40) throw new Error(`${path}: expected one 40-character Z85 key`);
  z85Decode(key);
  return key;
}
// The CURVE (X25519) public key of a Z85 secret key, through Node's crypto.
function curvePublic(secretZ85) {
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"),
                               z85Decode(secretZ85)]);
  const spki = crypto.createPublicKey(crypto.createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }))
    .export({ format: "der", type: "spki" });
  return z85Encode(spki.subarray(spki.length - 32));
}

function option(name, env) {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}` && i + 1 < args.length) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return process.env[env] || "";
}

async function main() {
  const endpoint = option("endpoint", "RECARENA_ENDPOINT");
  const name = option("name", "RECARENA_AGENT_NAME");
  const serverKey = option("server-key", "RECARENA_SERVER_KEY");
  const agentKey = option("agent-key", "RECARENA_AGENT_KEY");
  if (!endpoint || !name) {
    console.error("random_agent.js: need --endpoint and --name (or RECARENA_ENDPOINT, RECARENA_AGENT_NAME)");
    return 2;
  }
  if (!serverKey !== !agentKey) {
    console.error("random_agent.js: CURVE needs both --server-key and --agent-key (or RECARENA_SERVER_KEY, RECARENA_AGENT_KEY)");
    return 2;
  }
  const options = { linger: 0 };
  if (serverKey) {
    const secret = readKey(agentKey);
    options.curveServerKey = readKey(serverKey);
    options.curveSecretKey = secret;
    options.curvePublicKey = curvePublic(secret);
  }
  const socket = new zmq.Dealer(options);
  socket.connect(endpoint);
  let seq = 0;
  const send = (type, body) => socket.send(encoder.encode([MAJOR, type, seq++, body]));

  await send(HELLO, { minor: 2, name, role: "agent", caps: [] });

  let k = 0;
  let random = Math.random;
  let live = new Set();
  let titles = new Map(); // item id -> title, when the catalog has titles
  for await (const [frame] of socket) {
    const [major, type, mseq, body] = decoder.decode(frame);
    if (type === ERROR) {               // readable whatever the major
      console.log(`error ${body.code} ${body.message}`);
      if (body.fatal) { socket.close(); return 1; }
    } else if (major !== MAJOR) {
      await send(ERROR, { code: -6, message: `major ${major} received, this agent speaks ${MAJOR}`,
                          fatal: true, ref_seq: mseq });
      socket.close();
      return 1;
    } else if (type === WELCOME) {
      k = body.slate_size;
      random = rng32(body.seed);
    } else if (type === CATALOG) {
      const ids = fromTyped(body.items.ids);
      live = new Set(ids);
      titles = new Map();
      if (body.items.titles !== undefined) {
        titlesFrom(body.items.titles, ids.length).forEach((t, i) => titles.set(ids[i], t));
        if (body.tick === 0) console.log(`catalog: ${ids.length} items with titles, e.g. ${JSON.stringify(titles.get(ids[0]).slice(0, 60))}`);
      }
    } else if (type === STEP) {
      for (const id of fromTyped(body.born.ids)) live.add(id);
      for (const id of fromTyped(body.retired)) live.delete(id);
      const users = fromTyped(body.requests.user_ids);
      const pool = Array.from(live).sort((a, b) => a - b);
      const slates = [];
      for (let r = 0; r < users.length; r++) {
        // k distinct items by rejection (k is small next to the catalog)
        const chosen = new Set();
        while (chosen.size < k) chosen.add(pool[Math.floor(random() * pool.length)]);
        slates.push(...chosen);
      }
      await send(ACT, { episode: body.episode, tick: body.tick,
                        user_ids: int32Typed(users, [users.length]),
                        slates: int32Typed(slates, [users.length, k]) });
    } else if (type === PING) {
      await send(PONG, { nonce: body.nonce });
    } else if (type === BYE) {
      console.log(`bye: ${body.reason}`);
      socket.close();
      return 0;
    } else if (type !== PONG && type !== JOINT && type !== EPISODE_END) {
      await send(ERROR, { code: -7, message: `unknown message type ${type}`, fatal: false, ref_seq: mseq });
    }
  }
  return 1;
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code; },
              (err) => { console.error(err); process.exitCode = 1; });
}
module.exports = { z85Decode, z85Encode, curvePublic, readKey, titlesFrom };
