// gatehouse.js: sign customers in to a Gatehouse tenant from a browser app.
//
// Plain modern JavaScript (an ES module), no dependencies, no build step.
// Every tenant host serves it at /sdk/v1/gatehouse.js (a short-cached
// alias) and at a content-hashed URL under /static/sdk/ (cached forever);
// the types are in gatehouse.d.ts beside it.
//
//   import { createClient } from "https://login.acme.com/sdk/v1/gatehouse.js";
//   const gh = createClient({ clientId: "…", redirectUri: location.origin + "/callback" });
//
// What it does, and why:
//   - OpenID Connect authorization code flow with PKCE (S256), state and
//     nonce: the flow RFC 9700 recommends for browser apps. No implicit
//     flow, no client secret.
//   - The id_token's signature is checked against the issuer's JWKS with
//     WebCrypto (ES256 or RS256), then iss, aud, azp, exp and nonce.
//   - Tokens live in this tab's memory unless the app opts into
//     sessionStorage or localStorage (see `storage`). Tabs of one app share
//     one token set over a BroadcastChannel, and only one tab (the holder
//     of a Web Lock) ever spends a refresh token, so rotation never trips
//     the server's reuse detection, which would end the session everywhere.
//   - me(), updateProfile(), missingFields() call the tenant's JSON API with
//     the access token; signIn(), signUp() and schema() are the headless
//     first-party endpoints for brands that draw their own forms.

const VERSION = "1.0.0";

// Seconds an access token must still be valid for getAccessToken to hand
// it out without refreshing: covers clock skew and the request's flight.
const DEFAULT_MIN_VALIDITY = 30;
// Seconds of clock skew tolerated when checking exp and iat.
const LEEWAY = 120;
const DEFAULT_SCOPE = "openid profile email offline_access";
// Milliseconds the leading tab has to acknowledge a refresh question before
// the asking tab decides it is frozen and takes over.
const ACK_MS = 1500;

// ---------------------------------------------------------------------------
// Errors

/** Every error the SDK throws is a GatehouseError (or a subclass). */
export class GatehouseError extends Error {
  constructor(message, { code = "gatehouse_error", status = 0, requestId = "", cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "GatehouseError";
    /** A machine-readable code: an OAuth error ("invalid_request"), or the SDK's own ("state_mismatch"). */
    this.code = code;
    /** The HTTP status of the answer that caused it, or 0. */
    this.status = status;
    /** The server's request id, for support. */
    this.requestId = requestId;
  }
}

/** No usable session: the app should call login() (or show its sign-in form). */
export class LoginRequired extends GatehouseError {
  constructor(message = "The customer must sign in.", opts = {}) {
    super(message, { code: "login_required", ...opts });
    this.name = "LoginRequired";
  }
}

/** The server refused a code or refresh token, or the password was wrong. */
export class InvalidGrant extends GatehouseError {
  constructor(message = "The grant is invalid or has expired.", opts = {}) {
    super(message, { code: "invalid_grant", ...opts });
    this.name = "InvalidGrant";
  }
}

/** Input the server rejected; fields lists each problem as { field, message }. */
export class ValidationError extends GatehouseError {
  constructor(message = "Some fields are not valid.", fields = [], opts = {}) {
    super(message, { code: "validation_failed", ...opts });
    this.name = "ValidationError";
    /** @type {{field: string, message: string}[]} */
    this.fields = fields;
  }
}

/**
 * A headless sign-in or sign-up was accepted, but something must happen
 * first: reason is "email_verification_required" or "profile_incomplete".
 * Call signIn({ authSession, profile }) to continue; missingFields lists the
 * registration fields to ask for, fields any errors in values just sent.
 */
export class InteractionRequired extends ValidationError {
  constructor(message, { reason = "", authSession = "", missingFields = [], fields = [], ...opts } = {}) {
    super(message, fields, opts);
    this.name = "InteractionRequired";
    this.code = "insufficient_authorization";
    this.reason = reason;
    this.authSession = authSession;
    this.missingFields = missingFields;
  }
}

// ---------------------------------------------------------------------------
// Encoding and randomness

function base64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(s) {
  if (typeof s !== "string" || !/^[A-Za-z0-9_-]*$/.test(s)) throw new Error("not base64url");
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** n random bytes as base64url: 32 bytes give 43 characters, 256 bits. */
function randomString(n = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

/**
 * A fresh PKCE pair (RFC 7636): a 43-character verifier of unreserved
 * characters and its S256 challenge, base64url(sha256(verifier)).
 */
export async function createPKCE() {
  const verifier = randomString(32);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: base64url(new Uint8Array(digest)), method: "S256" };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------
// id_token verification

/** Splits a compact JWS and decodes its header and claims (unverified). */
function decodeJWT(jwt) {
  const parts = typeof jwt === "string" ? jwt.split(".") : [];
  if (parts.length !== 3) throw new GatehouseError("The id_token is not a compact JWT.", { code: "invalid_id_token" });
  try {
    const dec = new TextDecoder();
    return {
      header: JSON.parse(dec.decode(fromBase64url(parts[0]))),
      claims: JSON.parse(dec.decode(fromBase64url(parts[1]))),
      signed: new TextEncoder().encode(parts[0] + "." + parts[1]),
      signature: fromBase64url(parts[2]),
    };
  } catch (e) {
    throw new GatehouseError("The id_token cannot be decoded.", { code: "invalid_id_token", cause: e });
  }
}

const ALGS = {
  ES256: { key: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" }, kty: "EC" },
  RS256: { key: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verify: { name: "RSASSA-PKCS1-v1_5" }, kty: "RSA" },
};

// ---------------------------------------------------------------------------
// Token storage

// A token set: { access_token, refresh_token, id_token, expires_at (unix s),
// scope, family (random, per sign-in), gen (rotations since sign-in),
// signed_in_at (ms) }.

function memoryStore() {
  let value = null;
  return { read: () => value, write: (v) => { value = v; } };
}

function webStore(storage, key) {
  return {
    read() {
      try {
        const raw = storage.getItem(key);
        return raw ? JSON.parse(raw) : null;
      } catch {
        return null;
      }
    },
    write(v) {
      try {
        if (v) storage.setItem(key, JSON.stringify(v));
        else storage.removeItem(key);
      } catch {
        // Storage full or blocked: the tokens still live in memory.
      }
    },
  };
}

// ---------------------------------------------------------------------------
// The client

/**
 * Returns a client for one app of the tenant.
 *
 * @param {object} options
 * @param {string} options.clientId     the app's client id (console: Apps)
 * @param {string} options.redirectUri  one of the app's exact redirect URIs
 * @param {string} [options.issuer]     the tenant's issuer; by default the origin that served this script
 * @param {string} [options.scope]      default "openid profile email offline_access"
 * @param {"memory"|"session"|"local"} [options.storage]  where tokens are kept; default "memory"
 * @param {string} [options.postLogoutRedirectUri]  default for logout({ returnTo })
 */
export function createClient(options = {}) {
  return new Client(options);
}

function scriptOrigin() {
  try {
    return new URL(import.meta.url).origin;
  } catch {
    return "";
  }
}

class Client {
  constructor(options) {
    const { clientId, redirectUri, issuer, scope, storage = "memory", postLogoutRedirectUri } = options || {};
    if (!clientId || typeof clientId !== "string") throw new TypeError("gatehouse: createClient needs clientId");
    if (!redirectUri || typeof redirectUri !== "string") throw new TypeError("gatehouse: createClient needs redirectUri");
    const iss = (issuer || scriptOrigin()).replace(/\/+$/, "");
    if (!/^https?:\/\//.test(iss)) throw new TypeError("gatehouse: cannot tell the issuer; pass the issuer option");
    if (!["memory", "session", "local"].includes(storage)) {
      throw new TypeError('gatehouse: storage must be "memory", "session" or "local"');
    }
    this.clientId = clientId;
    this.redirectUri = new URL(redirectUri, location.href).href;
    this.issuer = iss;
    this.scope = scope || DEFAULT_SCOPE;
    this.storage = storage;
    this.postLogoutRedirectUri = postLogoutRedirectUri || "";
    this.version = VERSION;

    const key = `gatehouse:${iss}:${clientId}`;
    this._key = key;
    this._store =
      storage === "session" ? webStore(sessionStorage, key + ":tokens")
      : storage === "local" ? webStore(localStorage, key + ":tokens")
      : memoryStore();
    this._listeners = new Set();
    this._discovery = null;
    this._jwks = null;
    this._verified = new Map(); // id_token -> claims
    this._queue = Promise.resolve(); // serialises refreshes within the tab
    this._pending = new Map(); // request id -> { resolve, reject, timer }
    this._adoptWaiters = [];
    this._leader = false;
    this._ready = this._init();
  }

  // --- cross-tab coordination ------------------------------------------------

  // Tabs of one app share one token set. The tab holding the Web Lock
  // `<key>:leader` is the only one that refreshes; others ask it over the
  // BroadcastChannel and adopt whatever it answers. Without Web Locks or
  // BroadcastChannel each tab keeps its own tokens, which is safe too: two
  // tabs then never hold the same refresh token. The exception is
  // storage: "local", where every tab reads the same refresh token: there
  // each tab refreshes for itself under a lease kept in localStorage.
  async _init() {
    const shared = typeof BroadcastChannel === "function" && typeof navigator !== "undefined" && navigator.locks;
    if (!shared) {
      this._leader = true;
      if (this.storage === "local") {
        this._lease = this._key + ":refreshing";
        addEventListener("storage", (ev) => {
          if (ev.key !== this._key + ":tokens") return;
          const was = ev.oldValue ? JSON.parse(ev.oldValue).family : undefined;
          const is = ev.newValue ? JSON.parse(ev.newValue).family : undefined;
          if (was !== is) for (const fn of this._listeners) queueMicrotask(() => fn(!!is));
        });
      }
      return;
    }
    this._bc = new BroadcastChannel(this._key);
    this._bc.onmessage = (ev) => this._onMessage(ev.data || {});
    document.addEventListener("freeze", () => this._freeze());
    document.addEventListener("resume", () => this._resume());
    addEventListener("pagehide", (ev) => ev.persisted && this._freeze());
    addEventListener("pageshow", (ev) => ev.persisted && this._resume());
    this._holdGeneration(this._store.read()); // tokens kept in storage
    if (!(await this._lead({ ifAvailable: true }))) {
      this._lead(); // wait in line to lead when the leading tab goes
      if (!this._store.read()) {
        // A new tab: adopt the session another tab already has.
        try {
          const ts = await this._ask({ type: "hello" }, 400);
          if (ts) this._adopt(ts, false);
        } catch {
          // No answer in time: start signed out.
        }
      }
    }
  }

  /**
   * Asks for the leader lock: { ifAvailable: true } to take it only if
   * free, { steal: true } to take it from a tab that stopped answering, or
   * nothing to wait in line. Resolves to whether this tab now leads. The
   * lock is held until the tab goes, is frozen (it hands the lock on, see
   * _freeze), or has it stolen; then it waits in line again.
   */
  _lead(options = {}) {
    let signal;
    if (!options.ifAvailable && !options.steal) {
      if (this._waiting) return Promise.resolve(false); // already in line
      this._waiting = new AbortController();
      signal = this._waiting.signal;
      options = { signal };
    }
    return new Promise((resolve) => {
      navigator.locks
        .request(this._key + ":leader", options, (lock) => {
          if (signal) this._waiting = null;
          if (!lock) {
            resolve(false);
            return undefined;
          }
          this._leader = true;
          resolve(true);
          return new Promise((release) => {
            this._release = release;
          });
        })
        .then(
          () => {},
          () => {
            resolve(false);
            if (signal && signal.aborted) return; // left the line (frozen)
            // Stolen by a tab that found this one unresponsive: follow.
            this._leader = false;
            this._release = null;
            this._lead();
          },
        );
    });
  }

  // Page Lifecycle: a tab about to be frozen in the background (or put in
  // the back/forward cache) could not answer the others, so it hands the
  // lock on and leaves the line; it lines up again when it resumes.
  _freeze() {
    if (this._waiting) {
      this._waiting.abort();
      this._waiting = null;
    }
    if (this._leader && this._release) {
      this._leader = false;
      const release = this._release;
      this._release = null;
      release();
    }
  }

  _resume() {
    if (!this._leader) this._lead();
  }

  _post(msg) {
    if (this._bc) this._bc.postMessage(msg);
  }

  // _ask posts msg and waits for its reply. With ackMs, the leading tab
  // must acknowledge within ackMs (it does at once, before refreshing), or
  // the question fails with code "tab_frozen".
  _ask(msg, timeoutMs, ackMs = 0) {
    const id = randomString(12);
    return new Promise((resolve, reject) => {
      const fail = (code, text) => () => {
        const p = this._pending.get(id);
        if (!p) return;
        this._pending.delete(id);
        clearTimeout(p.timer);
        clearTimeout(p.ackTimer);
        reject(new GatehouseError(text, { code }));
      };
      const entry = { resolve, reject, timer: setTimeout(fail("tab_timeout", "No other tab answered."), timeoutMs) };
      if (ackMs) entry.ackTimer = setTimeout(fail("tab_frozen", "The tab that refreshes did not answer."), ackMs);
      this._pending.set(id, entry);
      this._post({ ...msg, id, at: Date.now() });
    });
  }

  async _onMessage(msg) {
    switch (msg.type) {
      case "tokens": // a sign-in or rotation in another tab
        this._adopt(msg.tokens, false);
        break;
      case "logout":
        this._adopt(null, false);
        break;
      case "hello":
        if (this._leader) this._post({ type: "reply", replyTo: msg.id, tokens: this._store.read() });
        break;
      case "refresh":
        // A question older than the asker waits for an acknowledgement
        // was given up on (and the asker may have taken over since).
        if (!this._leader || Date.now() - msg.at > ACK_MS) break;
        this._post({ type: "ack", replyTo: msg.id });
        try {
          const ts = await this._refreshHere(msg.tokens, msg.seen, msg.minValidity, msg.force);
          this._post({ type: "reply", replyTo: msg.id, tokens: ts });
        } catch (e) {
          this._post({ type: "reply", replyTo: msg.id, error: { name: e.name, message: e.message, code: e.code, status: e.status } });
        }
        break;
      case "ack": {
        const p = this._pending.get(msg.replyTo);
        if (p) clearTimeout(p.ackTimer);
        break;
      }
      case "reply": {
        const p = this._pending.get(msg.replyTo);
        if (!p) break;
        this._pending.delete(msg.replyTo);
        clearTimeout(p.timer);
        clearTimeout(p.ackTimer);
        if (msg.error) p.reject(reviveError(msg.error));
        else p.resolve(msg.tokens || null);
        break;
      }
    }
  }

  /** Stores ts (or null: signed out) and tells listeners; broadcast says whether other tabs must hear of it. */
  _adopt(ts, broadcast) {
    const before = this._store.read();
    if (ts && before && ts.family === before.family && ts.gen < before.gen) return; // an old message
    this._store.write(ts || null);
    this._holdGeneration(ts);
    if (broadcast) this._post(ts ? { type: "tokens", tokens: ts } : { type: "logout" });
    const was = before && before.family;
    const is = ts && ts.family;
    if (was !== is) for (const fn of this._listeners) queueMicrotask(() => fn(!!ts));
    for (const wake of this._adoptWaiters.splice(0)) wake();
  }

  // Every tab holds a shared Web Lock named after the generation of the
  // token set it has (<key>:gen:<family>:<gen>). A tab about to spend a
  // refresh token first asks the lock manager whether any tab holds a
  // newer generation of the same sign-in (_isNewest): the lock manager,
  // unlike messages between tabs, has no delivery delay, so a tab that
  // missed a rotation (it hung while another tab took over) finds out
  // before it spends a used token. Resolves once the lock is held.
  _holdGeneration(ts) {
    if (!this._bc) return Promise.resolve();
    const name = ts ? `${this._key}:gen:${ts.family}:${ts.gen}` : "";
    if (name === this._genName) return this._genHeld;
    if (this._genRelease) this._genRelease();
    this._genRelease = null;
    this._genName = name;
    this._genHeld = !name
      ? Promise.resolve()
      : new Promise((held) => {
          navigator.locks
            .request(name, { mode: "shared" }, () => {
              held();
              return new Promise((release) => {
                this._genRelease = release;
              });
            })
            .catch(() => held());
        });
    return this._genHeld;
  }

  async _isNewest(ts) {
    if (!this._bc) return true;
    const prefix = `${this._key}:gen:${ts.family}:`;
    const { held = [] } = await navigator.locks.query();
    return !held.some((l) => l.name.startsWith(prefix) && Number(l.name.slice(prefix.length)) > ts.gen);
  }

  // Resolves to the token set once a newer one than ts arrives, or to null
  // after ms.
  _waitNewer(ts, ms) {
    const newer = () => {
      const cur = this._store.read();
      return cur && (cur.family !== ts.family || cur.gen > ts.gen) ? cur : null;
    };
    return new Promise((resolve) => {
      if (newer()) return resolve(newer());
      const timer = setTimeout(() => resolve(newer()), ms);
      const wake = () => {
        const cur = newer();
        if (cur) {
          clearTimeout(timer);
          resolve(cur);
        } else this._adoptWaiters.push(wake);
      };
      this._adoptWaiters.push(wake);
    });
  }

  // --- discovery and keys ----------------------------------------------------

  async _config() {
    if (!this._discovery) {
      this._discovery = (async () => {
        const doc = await this._json(this.issuer + "/.well-known/openid-configuration", {});
        if (doc.issuer !== this.issuer) {
          throw new GatehouseError(`The discovery document names issuer ${doc.issuer}, not ${this.issuer}.`, { code: "issuer_mismatch" });
        }
        return doc;
      })();
      this._discovery.catch(() => { this._discovery = null; });
    }
    return this._discovery;
  }

  async _keys(refetch) {
    if (!this._jwks || refetch) {
      const cfg = await this._config();
      this._jwks = this._json(cfg.jwks_uri, {}).then((set) => set.keys || []);
      this._jwks.catch(() => { this._jwks = null; });
    }
    return this._jwks;
  }

  /**
   * Verifies an id_token: signature against the JWKS, then iss, aud, azp,
   * exp (unless allowExpired), iat and, when given, nonce and sub. Returns
   * its claims.
   */
  async _verify(idToken, { nonce, sub, allowExpired = false } = {}) {
    const cached = this._verified.get(idToken);
    if (cached && nonce === undefined && sub === undefined && (allowExpired || cached.exp + LEEWAY > nowSeconds())) return cached;
    const bad = (why) => new GatehouseError("The id_token is not valid: " + why + ".", { code: "invalid_id_token" });
    const { header, claims, signed, signature } = decodeJWT(idToken);
    const alg = ALGS[header.alg];
    if (!alg) throw bad(`algorithm ${header.alg} is not accepted`);
    let keys = await this._keys(false);
    const pick = (list) => list.find((k) => (!header.kid || k.kid === header.kid) && k.kty === alg.kty && (!k.alg || k.alg === header.alg) && (!k.use || k.use === "sig"));
    let jwk = pick(keys);
    if (!jwk) {
      keys = await this._keys(true); // the keys may have rotated since we fetched them
      jwk = pick(keys);
    }
    if (!jwk) throw bad("no key of the issuer matches its kid");
    const { kty, crv, x, y, n, e } = jwk;
    const key = await crypto.subtle.importKey("jwk", { kty, crv, x, y, n, e, ext: true }, alg.key, false, ["verify"]);
    if (!(await crypto.subtle.verify(alg.verify, key, signature, signed))) throw bad("the signature does not match");
    const now = nowSeconds();
    if (claims.iss !== this.issuer) throw bad(`issuer is ${claims.iss}`);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(this.clientId)) throw bad("it was issued to another app");
    if (aud.length > 1 && claims.azp !== this.clientId) throw bad("azp is not this app");
    if (typeof claims.exp !== "number" || (!allowExpired && claims.exp + LEEWAY < now)) throw bad("it has expired");
    if (typeof claims.iat === "number" && claims.iat - LEEWAY > now) throw bad("it was issued in the future");
    if (nonce !== undefined && claims.nonce !== nonce) throw bad("the nonce does not match this sign-in");
    if (sub !== undefined && claims.sub !== sub) throw bad("it is for another customer");
    this._verified.set(idToken, claims);
    return claims;
  }

  // --- HTTP ------------------------------------------------------------------

  async _json(url, init) {
    let resp;
    try {
      resp = await fetch(url, { ...init, credentials: "omit", headers: { Accept: "application/json", ...(init.headers || {}) } });
    } catch (e) {
      throw new GatehouseError(`Cannot reach ${new URL(url).origin}: ${e.message}`, { code: "network_error", cause: e });
    }
    const text = await resp.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!resp.ok) throw errorOf(resp, body);
    return body;
  }

  async _token(params) {
    const cfg = await this._config();
    const body = await this._json(cfg.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: this.clientId, ...params }),
    });
    if (!body || !body.access_token) throw new GatehouseError("The token endpoint answered without an access token.", { code: "invalid_response" });
    return body;
  }

  /** Builds the stored token set from a token response, verifying its id_token. */
  async _tokenSet(resp, { nonce, previous } = {}) {
    if (resp.id_token) {
      // A refreshed id_token is for the same customer, and carries the
      // sign-in's nonce if it carries one at all (OIDC Core 12.2).
      const claims = await this._verify(resp.id_token, previous ? { sub: previous.sub || undefined } : { nonce });
      if (previous && claims.nonce !== undefined && claims.nonce !== previous.nonce) {
        throw new GatehouseError("The id_token is not valid: the nonce does not match this sign-in.", { code: "invalid_id_token" });
      }
      resp.sub = claims.sub;
    }
    const idToken = resp.id_token || (previous && previous.id_token) || "";
    return {
      access_token: resp.access_token,
      refresh_token: resp.refresh_token || (previous && previous.refresh_token) || "",
      id_token: idToken,
      expires_at: nowSeconds() + (Number(resp.expires_in) || 300),
      scope: resp.scope || (previous && previous.scope) || this.scope,
      sub: resp.sub || (previous && previous.sub) || "",
      nonce: previous ? previous.nonce : nonce,
      family: previous ? previous.family : randomString(12),
      gen: previous ? previous.gen + 1 : 0,
      signed_in_at: previous ? previous.signed_in_at : Date.now(),
    };
  }

  // --- redirect sign-in --------------------------------------------------------

  _flows() {
    try {
      return JSON.parse(sessionStorage.getItem(this._key + ":flows") || "{}");
    } catch {
      return {};
    }
  }

  _saveFlows(flows) {
    sessionStorage.setItem(this._key + ":flows", JSON.stringify(flows));
  }

  /**
   * Sends the browser to the hosted sign-in (or sign-up, with signup: true).
   * The returned promise never settles: the page is leaving.
   */
  async login({ signup = false, loginHint = "", returnTo = "", scope = "", prompt = "" } = {}) {
    await this._ready;
    const cfg = await this._config();
    const pkce = await createPKCE();
    const state = randomString(32);
    const nonce = randomString(32);
    const flows = this._flows();
    const cutoff = Date.now() - 3600 * 1000; // forget abandoned attempts
    for (const [k, f] of Object.entries(flows)) if (f.at < cutoff) delete flows[k];
    flows[state] = { verifier: pkce.verifier, nonce, returnTo: returnTo || location.href, at: Date.now(), redirectUri: this.redirectUri };
    this._saveFlows(flows);
    const q = new URLSearchParams({
      response_type: "code",
      client_id: this.clientId,
      redirect_uri: this.redirectUri,
      scope: scope || this.scope,
      state,
      nonce,
      code_challenge: pkce.challenge,
      code_challenge_method: "S256",
    });
    const prompts = prompt ? [prompt] : [];
    if (signup) prompts.push("create");
    if (prompts.length) q.set("prompt", prompts.join(" "));
    if (loginHint) q.set("login_hint", loginHint);
    location.assign(cfg.authorization_endpoint + "?" + q.toString());
    return new Promise(() => {});
  }

  /**
   * Completes a sign-in on the redirect URI: checks state, exchanges the
   * code with the PKCE verifier, verifies the id_token and its nonce.
   * Resolves to { user, returnTo } after a sign-in, or null when the URL is
   * no sign-in answer. The code and state are removed from the address bar.
   */
  handleRedirect(url = location.href) {
    // Called twice for one answer (a framework's double render), the second
    // call gets the first one's result rather than a null.
    const href = new URL(url, location.href).href;
    if (this._handling && this._handling.href === href) return this._handling.result;
    const result = this._handleRedirect(href);
    this._handling = { href, result };
    return result;
  }

  async _handleRedirect(url) {
    await this._ready;
    const u = new URL(url, location.href);
    const params = u.searchParams;
    const state = params.get("state");
    if (!state || (!params.has("code") && !params.has("error"))) return null;
    const code = params.get("code");
    const error = params.get("error");
    const errorDescription = params.get("error_description");
    const iss = params.get("iss");
    const flows = this._flows();
    const flow = flows[state];
    if (flow) {
      delete flows[state];
      this._saveFlows(flows);
    }
    if (u.href === location.href) {
      for (const k of ["code", "state", "error", "error_description", "iss", "session_state"]) params.delete(k);
      history.replaceState(history.state, "", u.pathname + (params.toString() ? "?" + params : "") + u.hash);
    }
    if (!flow) {
      throw new GatehouseError("This sign-in answer does not belong to a sign-in started here (state mismatch).", { code: "state_mismatch" });
    }
    if (iss && iss !== this.issuer) {
      throw new GatehouseError("The sign-in answer comes from another issuer.", { code: "issuer_mismatch" });
    }
    if (error) {
      const msg = errorDescription || error;
      if (["login_required", "interaction_required", "consent_required", "account_selection_required"].includes(error)) {
        throw new LoginRequired(msg, { code: error });
      }
      throw new GatehouseError(msg, { code: error });
    }
    const resp = await this._token({
      grant_type: "authorization_code",
      code,
      redirect_uri: flow.redirectUri,
      code_verifier: flow.verifier,
    });
    if (!resp.id_token) throw new GatehouseError("The sign-in gave no id_token; ask for the openid scope.", { code: "invalid_response" });
    const ts = await this._tokenSet(resp, { nonce: flow.nonce });
    this._adopt(ts, true);
    return { user: await this._verify(ts.id_token), returnTo: flow.returnTo };
  }

  // --- tokens ----------------------------------------------------------------------

  /**
   * The id_token's verified claims, or null when nobody is signed in. The
   * token was checked in full when it arrived; here its signature, issuer
   * and audience are checked again (it may come from storage), but not its
   * expiry: whether the session still lives is the refresh token's to say,
   * and getAccessToken() or me() find out.
   */
  async getUser() {
    await this._ready;
    const ts = this._store.read();
    if (!ts || !ts.id_token) return null;
    return this._verify(ts.id_token, { allowExpired: true });
  }

  /** Whether a token set is held (it may still need a refresh). */
  async isAuthenticated() {
    await this._ready;
    return !!this._store.read();
  }

  /**
   * A valid access token, refreshed (with rotation) when it expires within
   * minValidity seconds. Throws LoginRequired when there is no session, and
   * InvalidGrant when the server no longer accepts the refresh token.
   */
  async getAccessToken({ minValidity = DEFAULT_MIN_VALIDITY, forceRefresh = false } = {}) {
    await this._ready;
    const ts = this._store.read();
    if (!ts) throw new LoginRequired();
    if (!forceRefresh && ts.expires_at - nowSeconds() > minValidity) return ts.access_token;
    let next;
    if (this._leader) {
      try {
        next = await this._refreshHere(ts, ts.access_token, minValidity, forceRefresh);
      } catch (e) {
        if (e.code !== "not_leader") throw e;
        next = await this._askLeader(ts, minValidity, forceRefresh); // leadership was stolen meanwhile
      }
    } else {
      next = await this._askLeader(ts, minValidity, forceRefresh);
    }
    if (!next) throw new LoginRequired();
    return next.access_token;
  }

  async _askLeader(ts, minValidity, force) {
    const ask = () => this._ask({ type: "refresh", tokens: this._store.read() || ts, seen: ts.access_token, minValidity, force }, 20000, ACK_MS);
    let next;
    try {
      next = await ask();
    } catch (e) {
      if (e.code === "tab_frozen") next = await this._takeOver(ts, minValidity, force, ask);
      else if (e.code === "not_leader") next = this._leader ? await this._refreshHere(this._store.read() || ts, ts.access_token, minValidity, force) : await ask(); // the lead moved meanwhile
      else if (e.code === "tab_timeout") throw new LoginRequired("Another tab of this app did not answer; sign in again.");
      else throw e;
    }
    if (next) this._adopt(next, false);
    return next;
  }

  // _takeOver: the leading tab did not acknowledge (a background tab the
  // browser froze keeps its lock). One tab, the holder of the takeover
  // lock, steals the leader lock and refreshes; any other waits for it and
  // asks again.
  async _takeOver(ts, minValidity, force, ask) {
    const next = await navigator.locks.request(this._key + ":takeover", { ifAvailable: true }, async (lock) => {
      if (!lock) return undefined;
      if (!this._leader) await this._lead({ steal: true });
      return this._refreshHere(this._store.read() || ts, ts.access_token, minValidity, force);
    });
    if (next !== undefined) return next;
    await navigator.locks.request(this._key + ":takeover", async () => {}); // the other tab's turn is over
    if (this._leader) return this._refreshHere(this._store.read() || ts, ts.access_token, minValidity, force);
    return ask();
  }

  // Runs in the leading tab only, one at a time. seen is the access token
  // the asking tab held: if the current one differs, another request
  // rotated already and the current set is the answer.
  _refreshHere(candidate, seen, minValidity, force) {
    const run = async () => {
      let cur = this._store.read();
      if (candidate && (!cur || (candidate.family !== cur.family && candidate.signed_in_at > cur.signed_in_at))) {
        this._adopt(candidate, false);
        cur = candidate;
      }
      if (!cur) return null;
      const left = cur.expires_at - nowSeconds();
      const stale = cur.access_token === seen ? force || left <= minValidity : left <= DEFAULT_MIN_VALIDITY;
      if (!stale) return cur;
      if (!cur.refresh_token) {
        this._adopt(null, true);
        throw new LoginRequired("The session has ended; sign in again.");
      }
      if (!this._leader) {
        // Another tab took over while this one was frozen: it refreshes now.
        throw new GatehouseError("Another tab refreshes the tokens now; try again.", { code: "not_leader" });
      }
      const spend = async () => {
        if (!(await this._isNewest(cur))) return null;
        let resp;
        try {
          resp = await this._token({ grant_type: "refresh_token", refresh_token: cur.refresh_token });
        } catch (e) {
          if (e instanceof InvalidGrant || e.status === 400 || e.status === 401) {
            this._adopt(null, true);
            throw e instanceof InvalidGrant ? e : new InvalidGrant(e.message, { status: e.status });
          }
          throw e;
        }
        const next = await this._tokenSet(resp, { previous: cur });
        this._adopt(next, true);
        await this._genHeld; // the new generation is visible before the next refresher looks
        return next;
      };
      // One refresh at a time across tabs, even while two tabs both think
      // they lead (one hung as the other took over).
      let next;
      if (this._bc) {
        const options = typeof AbortSignal.timeout === "function" ? { signal: AbortSignal.timeout(25000) } : {};
        try {
          next = await navigator.locks.request(this._key + ":refresh", options, spend);
        } catch (e) {
          if (e && (e.name === "TimeoutError" || e.name === "AbortError")) {
            throw new LoginRequired("Another tab of this app is stuck refreshing the session; sign in again.");
          }
          throw e;
        }
      } else {
        next = await spend();
      }
      if (next) return next;
      // Another tab rotated this sign-in already; its tokens are on the way.
      const newer = await this._waitNewer(cur, 3000);
      if (!newer) throw new GatehouseError("Another tab refreshed the tokens; try again.", { code: "not_leader" });
      return newer;
    };
    const guarded = this._lease ? () => withLease(this._lease, run) : run;
    const p = this._queue.then(guarded, guarded);
    this._queue = p.catch(() => {});
    return p;
  }

  /**
   * Signs out: forgets the tokens in every tab, revokes the refresh token,
   * and ends the hosted session through RP-initiated logout, coming back to
   * returnTo (a registered post-logout redirect URI). The returned promise
   * never settles: the page is leaving.
   */
  async logout({ returnTo = "" } = {}) {
    await this._ready;
    const cfg = await this._config();
    const ts = this._store.read();
    this._adopt(null, true);
    if (ts && ts.refresh_token && cfg.revocation_endpoint) {
      try {
        await fetch(cfg.revocation_endpoint, {
          method: "POST",
          credentials: "omit",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ client_id: this.clientId, token: ts.refresh_token, token_type_hint: "refresh_token" }),
        });
      } catch {
        // Best effort: the hosted logout below ends the session anyway.
      }
    }
    const q = new URLSearchParams({ client_id: this.clientId });
    if (ts && ts.id_token) q.set("id_token_hint", ts.id_token);
    const back = returnTo || this.postLogoutRedirectUri;
    if (back) q.set("post_logout_redirect_uri", new URL(back, location.href).href);
    location.assign((cfg.end_session_endpoint || this.issuer + "/oauth/end_session") + "?" + q.toString());
    return new Promise(() => {});
  }

  /** Calls fn(signedIn) whenever this tab signs in or out (also when another tab did). Returns an unsubscribe function. */
  onChange(fn) {
    this._listeners.add(fn);
    return () => this._listeners.delete(fn);
  }

  // --- the JSON API ------------------------------------------------------------------

  async _api(method, path, body) {
    const call = async (token) =>
      this._json(this.issuer + "/api/v1" + path, {
        method,
        headers: { Authorization: "Bearer " + token, ...(body ? { "Content-Type": "application/merge-patch+json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const token = await this.getAccessToken();
    try {
      return await call(token);
    } catch (e) {
      if (e.status !== 401) throw e;
    }
    // Revoked or expired early: one refresh, then give up.
    const fresh = await this.getAccessToken({ forceRefresh: true });
    try {
      return await call(fresh);
    } catch (e) {
      if (e.status === 401) throw new LoginRequired(e.message, { status: 401, requestId: e.requestId });
      throw e;
    }
  }

  /** The signed-in customer as GET /api/v1/me gives it: { id, email, email_verified, profile, … }. */
  async me() {
    return this._api("GET", "/me");
  }

  /**
   * Changes profile fields with a JSON Merge Patch (null removes a value):
   * updateProfile({ nickname: "Kim", birthday: null }). Resolves to the
   * updated customer; throws ValidationError naming each bad field.
   */
  async updateProfile(patch) {
    if (!patch || typeof patch !== "object" || Array.isArray(patch)) throw new TypeError("gatehouse: updateProfile takes an object of profile fields");
    return this._api("PATCH", "/me", { profile: patch });
  }

  /**
   * What progressive profiling still needs: { required, optional,
   * askOptional }, each list of registration fields as schema() gives them.
   */
  async missingFields() {
    const m = await this._api("GET", "/me/missing-fields");
    return { required: m.required || [], optional: m.optional || [], askOptional: !!m.ask_optional };
  }

  // --- headless, for the brand's own forms ------------------------------------------

  /** The tenant's registration fields, password rules and theme tokens (GET /api/v1/schema). */
  async schema() {
    return this._json(this.issuer + "/api/v1/schema", {});
  }

  /**
   * Signs in with the brand's own form (a first-party app only). Resolves to
   * the id_token's claims. Throws InvalidGrant for a wrong email or password,
   * ValidationError for bad input, InteractionRequired when the address
   * must be verified or required fields are missing: then call
   * signIn({ authSession: err.authSession, profile: { … } }).
   */
  async signIn({ email = "", password = "", authSession = "", profile = undefined, scope = "" } = {}) {
    const body = { email, password };
    if (authSession) {
      delete body.email;
      delete body.password;
      body.auth_session = authSession;
    }
    if (profile) body.profile = profile;
    return this._headless("/authorize-challenge", body, scope);
  }

  /**
   * Registers with the brand's own form (a first-party app only): email,
   * password and profile values keyed by field key. Resolves to the
   * id_token's claims, or throws as signIn does.
   */
  async signUp({ email = "", password = "", profile = {}, scope = "" } = {}) {
    return this._headless("/signup", { email, password, profile }, scope);
  }

  async _headless(path, body, scope) {
    await this._ready;
    const pkce = await createPKCE();
    const deviceKey = this._key + ":device";
    let device = "";
    try {
      device = localStorage.getItem(deviceKey) || "";
    } catch {
      device = "";
    }
    const req = { client_id: this.clientId, scope: scope || this.scope, code_challenge: pkce.challenge, code_challenge_method: "S256", ...body };
    if (device && path === "/authorize-challenge") req.device_token = device;
    let granted;
    try {
      granted = await this._json(this.issuer + "/api/v1" + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(req),
      });
    } catch (e) {
      // A wrong password is the problem type of a 401 without an OAuth error.
      if (e.status === 401 && e.code !== "invalid_client" && !(e instanceof InvalidGrant)) {
        throw new InvalidGrant(e.message, { status: 401, requestId: e.requestId });
      }
      throw e;
    }
    if (granted.device_token) {
      try {
        localStorage.setItem(deviceKey, granted.device_token);
      } catch {
        // Without it the customer is only throttled like a stranger.
      }
    }
    const resp = await this._token({ grant_type: "authorization_code", code: granted.authorization_code, code_verifier: pkce.verifier });
    const ts = await this._tokenSet(resp, {});
    this._adopt(ts, true);
    return ts.id_token ? this._verify(ts.id_token) : null;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// withLease runs fn while holding a lease in localStorage, for browsers
// without Web Locks: write a claim, wait for racing writers to land, and
// go ahead only if the claim that stayed is ours. Not as strict as a Web
// Lock, but it keeps tabs from refreshing at the same moment; the lease
// expires on its own if its tab dies holding it.
async function withLease(key, fn) {
  const me = randomString(12);
  const read = () => {
    try {
      return JSON.parse(localStorage.getItem(key) || "null");
    } catch {
      return null;
    }
  };
  for (let tries = 0; tries < 150; tries++) {
    const cur = read();
    if (!cur || cur.until < Date.now()) {
      localStorage.setItem(key, JSON.stringify({ me, until: Date.now() + 15000 }));
      await sleep(100);
      const kept = read();
      if (kept && kept.me === me) {
        try {
          return await fn();
        } finally {
          if ((read() || {}).me === me) localStorage.removeItem(key);
        }
      }
    }
    await sleep(50 + Math.random() * 100);
  }
  throw new GatehouseError("Another tab kept the refresh lease too long.", { code: "lease_timeout" });
}

// errorOf turns an error answer (OAuth JSON or problem+json) into a typed error.
function errorOf(resp, body) {
  const b = body && typeof body === "object" ? body : {};
  const status = resp.status;
  const requestId = b.request_id || resp.headers.get("X-Request-Id") || "";
  const code = b.error || "";
  const message = b.error_description || b.detail || b.title || code || `HTTP ${status}`;
  const fields = Array.isArray(b.errors) ? b.errors.map((e) => ({ field: String(e.field || ""), message: String(e.message || "") })) : [];
  const opts = { status, requestId };
  if (code === "insufficient_authorization") {
    return new InteractionRequired(message, { reason: b.reason || "", authSession: b.auth_session || "", missingFields: b.missing_fields || [], fields, ...opts });
  }
  if (code === "invalid_grant") return new InvalidGrant(message, opts);
  if (code === "login_required") return new LoginRequired(message, opts);
  if (fields.length && (status === 400 || status === 422)) return new ValidationError(message, fields, opts);
  const err = new GatehouseError(message, { code: code || (status === 429 ? "rate_limited" : `http_${status}`), ...opts });
  if (status === 429) err.retryAfter = Number(resp.headers.get("Retry-After")) || 0;
  return err;
}

// reviveError rebuilds an error another tab sent over the channel.
function reviveError(e) {
  const opts = { status: e.status || 0, code: e.code };
  switch (e.name) {
    case "LoginRequired":
      return new LoginRequired(e.message, opts);
    case "InvalidGrant":
      return new InvalidGrant(e.message, opts);
    default:
      return new GatehouseError(e.message, opts);
  }
}

export { VERSION };

/** The same API, for scripts that are not modules: globalThis.Gatehouse. */
const api = { createClient, createPKCE, GatehouseError, LoginRequired, InvalidGrant, ValidationError, InteractionRequired, VERSION };
if (typeof globalThis !== "undefined" && !globalThis.Gatehouse) globalThis.Gatehouse = Object.freeze(api);
export default api;
