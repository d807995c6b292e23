// join.js: the shop's own sign-up and sign-in forms, for brands that draw
// their own screens: the fields come from schema(), the answers go to the
// headless signUp() and signIn(), and the API's field errors are shown
// next to their inputs.
import { connect, el, fieldControl, readValue, showFieldErrors, clearFieldErrors, alertText, status, applyTheme, displayName } from "./shop.js";

const { sdk, client } = await connect();
const schema = await client.schema();
applyTheme(schema.theme);

const emailField = { key: "email", label: "Email", type: "email", capture: "required" };
const passwordField = (prefix) => {
  const node = fieldControl({ key: "password", label: "Password", type: "text", capture: "required",
    help_text: "At least " + ((schema.password && schema.password.min_length) || 8) + " characters." }, prefix);
  const input = node.querySelector("input");
  input.type = "password";
  input.autocomplete = prefix === "up-" ? "new-password" : "current-password";
  return node;
};

const signupForm = document.getElementById("signup-form");
const asked = schema.fields.filter((f) => f.capture === "required" || f.capture === "optional");
signupForm.replaceChildren(fieldControl(emailField, "up-"), passwordField("up-"),
  ...asked.map((f) => fieldControl(f, "up-")),
  el("button", { type: "submit", class: "primary" }, "Create account"));
signupForm.querySelector("#up-email").autocomplete = "email";

const signinForm = document.getElementById("signin-form");
signinForm.replaceChildren(fieldControl(emailField, "in-"), passwordField("in-"),
  el("button", { type: "submit" }, "Sign in"));

document.getElementById("forms").hidden = false;
status("ready", "");

/** Shows who is now signed in on this page. */
async function welcome(claims) {
  const me = await client.me().catch(() => null);
  document.getElementById("user-name").textContent = displayName(claims, me);
  document.getElementById("welcome").hidden = false;
  document.getElementById("forms").hidden = true;
  status("signed-in", "Signed in.");
}

/** Shows what the API said about a headless call. */
function failed(form, prefix, e) {
  if (e instanceof sdk.InteractionRequired && e.reason === "email_verification_required") {
    alertText("Check your inbox: follow the link we sent, then sign in.");
  } else if (e instanceof sdk.ValidationError) {
    const rest = showFieldErrors(form, prefix, e.fields);
    alertText(rest.length ? rest.join(" ") : "Please check the highlighted fields.");
  } else if (e instanceof sdk.InvalidGrant) {
    alertText("Email or password is incorrect.");
  } else {
    alertText(e.message);
  }
  status("error", "");
}

signupForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearFieldErrors(signupForm);
  alertText("");
  const profile = {};
  for (const f of asked) {
    const v = readValue(signupForm, f.key);
    if (v !== undefined) profile[f.key] = v;
  }
  try {
    await welcome(await client.signUp({ email: signupForm.elements.email.value, password: signupForm.elements.password.value, profile }));
  } catch (e) {
    failed(signupForm, "up-", e);
  }
});

signinForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearFieldErrors(signinForm);
  alertText("");
  try {
    await welcome(await client.signIn({ email: signinForm.elements.email.value, password: signinForm.elements.password.value }));
  } catch (e) {
    failed(signinForm, "in-", e);
  }
});
