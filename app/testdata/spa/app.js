// A minimal OpenID Connect client, as a brand's SPA would write it without
// a library: PKCE S256 with WebCrypto, state and nonce kept in
// sessionStorage, the code exchanged at the token endpoint with fetch (a
// cross-origin call the provider must allow through CORS).
//
// Open app.html?issuer=I&client_id=C to sign in; the provider sends the
// browser back to app.html with code and state.

"use strict";

/** Returns n random bytes as base64url. */
function randomString(n) {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return base64url(bytes);
}

/** Encodes bytes as base64url without padding (RFC 7636 appendix A). */
function base64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Returns the S256 code challenge of verifier. */
async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** Decodes the claims of a compact JWT (the signature is the server's to check). */
function claimsOf(jwt) {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part + "===".slice((part.length + 3) % 4)));
}

function show(id, text) {
  document.getElementById(id).textContent = text;
}

function redirectURI() {
  return location.origin + location.pathname;
}

/** Starts the authorization: stores state, nonce and verifier, then leaves. */
async function signIn(issuer, clientID) {
  const flow = { issuer, clientID, state: randomString(16), nonce: randomString(16), verifier: randomString(32) };
  sessionStorage.setItem("flow", JSON.stringify(flow));
  const q = new URLSearchParams({
    response_type: "code",
    client_id: clientID,
    redirect_uri: redirectURI(),
    scope: "openid email",
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await challengeOf(flow.verifier),
    code_challenge_method: "S256",
  });
  location.assign(issuer + "/oauth/authorize?" + q.toString());
}

/** Finishes the authorization: checks state, exchanges the code, checks the nonce. */
async function finish(params) {
  const flow = JSON.parse(sessionStorage.getItem("flow") || "null");
  sessionStorage.removeItem("flow");
  if (!flow || params.get("state") !== flow.state) {
    throw new Error("state mismatch");
  }
  if (params.get("error")) {
    throw new Error(params.get("error"));
  }
  const resp = await fetch(flow.issuer + "/oauth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: redirectURI(),
      client_id: flow.clientID,
      code_verifier: flow.verifier,
    }),
  });
  const body = await resp.json();
  if (!resp.ok) {
    throw new Error("token endpoint: " + resp.status + " " + (body.error || ""));
  }
  const claims = claimsOf(body.id_token);
  if (claims.nonce !== flow.nonce || claims.aud !== flow.clientID && !(Array.isArray(claims.aud) && claims.aud.includes(flow.clientID))) {
    throw new Error("id_token nonce or audience mismatch");
  }
  show("sub", claims.sub);
  show("email", claims.email || "");
  show("status", "signed-in");
}

/** Marks the flow over, for whoever watches the page. */
function done() {
  const p = document.createElement("p");
  p.id = "done";
  p.textContent = "done";
  document.body.appendChild(p);
}

async function main() {
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    await finish(params);
    done();
  } else if (params.has("issuer")) {
    show("status", "redirecting");
    await signIn(params.get("issuer"), params.get("client_id"));
  }
}

main().catch((e) => {
  show("error", e.message);
  show("status", "failed");
  done();
});
