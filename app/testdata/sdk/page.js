// Loads gatehouse.js from the tenant host named by ?sdk= (remembered in
// sessionStorage across the sign-in round trip), makes a client, completes
// a sign-in answer if this is one, and shows the outcome. window.gh is the
// client and window.sdk the module, for the test to call.
//
// sessionStorage "tamper" = "signature" flips a bit of the signature of
// every id_token the token endpoint returns, before the SDK sees it.
// window.requests records the page's fetches (URL, method, body).
// ?storage= picks the SDK's token storage, ?nolocks=1 hides navigator.locks.

const q = new URLSearchParams(location.search);
if (q.get("sdk")) {
  sessionStorage.setItem("cfg", JSON.stringify({ sdk: q.get("sdk"), clientId: q.get("client_id"), storage: q.get("storage") || "memory", nolocks: !!q.get("nolocks") }));
}
const cfg = JSON.parse(sessionStorage.getItem("cfg") || "{}");
if (cfg.nolocks) {
  // A browser without Web Locks, for the SDK's fallback.
  Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true });
}

window.requests = [];
const realFetch = window.fetch.bind(window);
window.fetch = async (input, init = {}) => {
  const url = typeof input === "string" ? input : input.url;
  window.requests.push({ url, method: init.method || "GET", body: init.body ? String(init.body) : "" });
  const resp = await realFetch(input, init);
  if (sessionStorage.getItem("tamper") === "signature" && url.endsWith("/oauth/token")) {
    const body = await resp.json();
    if (body.id_token) {
      const [h, p, s] = body.id_token.split(".");
      const flipped = (s[0] === "A" ? "B" : "A") + s.slice(1);
      body.id_token = [h, p, flipped].join(".");
    }
    return new Response(JSON.stringify(body), { status: resp.status, headers: resp.headers });
  }
  return resp;
};

function show(id, text) {
  document.getElementById(id).textContent = text;
}

async function main() {
  const sdk = await import(cfg.sdk);
  window.sdk = sdk;
  const gh = sdk.createClient({ clientId: cfg.clientId, redirectUri: location.origin + "/sdk.html", storage: cfg.storage });
  window.gh = gh;
  try {
    await gh.handleRedirect();
    const user = await gh.getUser();
    show("status", user ? "signed-in" : "signed-out");
    show("sub", user ? user.sub : "");
  } catch (e) {
    show("status", "error");
    show("error", `${e.name}:${e.code}:${e.message}`);
  }
}

main().finally(() => {
  const done = document.createElement("p");
  done.id = "done";
  done.textContent = "done";
  document.body.append(done);
});
