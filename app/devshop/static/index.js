// index.js: the shop's home page. "Sign in" and "Join" go to the brand's
// hosted pages; back here the page shows the customer's profile and asks
// for one missing optional field, saved with updateProfile().
import { connect, el, fieldControl, readValue, showFieldErrors, clearFieldErrors, alertText, status, applyTheme, displayName } from "./shop.js";

const { sdk, client } = await connect();

document.getElementById("sign-in").addEventListener("click", () => client.login());
document.getElementById("join").addEventListener("click", () => client.login({ signup: true }));
document.getElementById("sign-out").addEventListener("click", () => client.logout({ returnTo: location.origin + "/" }));

/** Shows the elements of one state (signed-in or signed-out) only. */
function showState(signedIn) {
  for (const n of document.querySelectorAll(".signed-in")) n.hidden = !signedIn;
  for (const n of document.querySelectorAll(".signed-out")) n.hidden = signedIn;
}

/** Formats a profile value for reading, with a select's option label. */
function shown(field, value) {
  if (field.type === "select") {
    const o = (field.options || []).find((x) => x.value === value);
    return o ? o.label : String(value);
  }
  if (field.type === "checkbox") return value ? "Yes" : "No";
  return String(value);
}

async function render() {
  const user = await client.getUser();
  if (!user) {
    showState(false);
    document.getElementById("missing-card").hidden = true;
    status("signed-out", "You are not signed in.");
    return;
  }
  const [me, schema, missing] = await Promise.all([client.me(), client.schema(), client.missingFields()]);
  applyTheme(schema.theme);
  showState(true);
  document.getElementById("user-name").textContent = displayName(user, me);
  const rows = [el("dt", {}, "Email"), el("dd", { "data-key": "email" }, me.email)];
  for (const f of schema.fields) {
    const v = me.profile ? me.profile[f.key] : undefined;
    if (v !== undefined && v !== null && v !== "") {
      rows.push(el("dt", {}, f.label), el("dd", { "data-key": f.key }, shown(f, v)));
    }
  }
  document.getElementById("profile").replaceChildren(...rows);
  renderMissing(missing.optional || []);
  status("signed-in", "Signed in.");
}

/** The card asking for the first missing optional field, if any. */
function renderMissing(optional) {
  const card = document.getElementById("missing-card");
  const form = document.getElementById("missing-form");
  const field = optional[0];
  card.hidden = !field;
  if (!field) {
    form.replaceChildren();
    return;
  }
  form.dataset.field = field.key;
  form.replaceChildren(fieldControl(field, "m-"), el("button", { type: "submit", class: "primary" }, "Save"));
}

document.getElementById("missing-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const key = form.dataset.field;
  clearFieldErrors(form);
  const value = readValue(form, key);
  if (value === undefined) {
    showFieldErrors(form, "m-", [{ field: key, message: "Choose an answer, or leave it for later." }]);
    return;
  }
  try {
    await client.updateProfile({ [key]: value });
    await render();
  } catch (e) {
    if (e instanceof sdk.ValidationError) {
      alertText(showFieldErrors(form, "m-", e.fields).join(" "));
    } else {
      alertText(e.message);
    }
  }
});

try {
  await client.handleRedirect();
  await render();
} catch (e) {
  alertText(e.message);
  showState(false);
  status("error", "Something went wrong.");
}
