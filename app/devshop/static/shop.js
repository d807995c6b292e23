// shop.js: what both pages of Demo Coffee Shop share. The shop is a static
// site whose only dependency is gatehouse.js, loaded from the demo
// tenant's host (so the SDK finds the issuer by itself).

/**
 * Loads the shop's config and the SDK, and returns a client for the shop's
 * spa app. Tokens stay in memory (the SDK's default).
 * @returns {Promise<{sdk: any, client: any}>}
 */
export async function connect() {
  const res = await fetch("/config.json");
  if (!res.ok) {
    throw new Error("The shop is not configured yet (" + res.status + ").");
  }
  const cfg = await res.json();
  const sdk = await import(cfg.issuer + "/sdk/v1/gatehouse.js");
  const client = sdk.createClient({
    clientId: cfg.client_id,
    redirectUri: location.origin + "/",
    postLogoutRedirectUri: location.origin + "/",
  });
  return { sdk, client };
}

/** Creates an element with attributes and children. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === true) node.setAttribute(k, "");
    else if (v !== false && v != null) node.setAttribute(k, String(v));
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

/**
 * One labelled input for a registration field from schema(), with the
 * element its error message goes in (#err-KEY), next to it.
 * @param {{key:string,label:string,type:string,capture:string,help_text?:string,options?:{value:string,label:string}[]}} field
 * @param {string} idPrefix  keeps ids unique when a page has two forms
 */
export function fieldControl(field, idPrefix) {
  const id = idPrefix + field.key;
  const required = field.capture === "required";
  const attrs = { id, name: field.key, required, "aria-describedby": "err-" + id };
  let input;
  if (field.type === "select") {
    input = el("select", attrs, el("option", { value: "" }, "Choose…"),
      ...(field.options || []).map((o) => el("option", { value: o.value }, o.label)));
  } else if (field.type === "checkbox") {
    input = el("input", { ...attrs, type: "checkbox", value: "true" });
  } else {
    const types = { number: "number", date: "date", phone: "tel", email: "email" };
    input = el("input", { ...attrs, type: types[field.type] || "text", autocomplete: autocompleteFor(field.key) });
  }
  const label = el("label", { for: id }, field.label + (required ? "" : " (optional)"));
  const help = field.help_text ? el("p", { class: "hint" }, field.help_text) : null;
  return el("div", { class: "field", "data-field": field.key }, label, help, input,
    el("p", { class: "field-error", id: "err-" + id, hidden: true }));
}

function autocompleteFor(key) {
  return { first_name: "given-name", last_name: "family-name", phone: "tel", country: "country" }[key] || "off";
}

/** The value of a field's input, as the API takes it. */
export function readValue(form, key) {
  const input = form.elements.namedItem(key);
  if (!input) return undefined;
  if (input.type === "checkbox") return input.checked;
  if (input.type === "number") return input.value === "" ? undefined : Number(input.value);
  return input.value === "" ? undefined : input.value;
}

/**
 * Shows a ValidationError's messages next to their inputs; a message for a
 * field the form lacks goes to the page's alert.
 */
export function showFieldErrors(form, idPrefix, fields) {
  clearFieldErrors(form);
  const unplaced = [];
  for (const f of fields || []) {
    const key = String(f.field || "").replace(/^profile\./, "");
    const slot = form.querySelector("#err-" + CSS.escape(idPrefix + key));
    if (slot) {
      slot.textContent = f.message;
      slot.hidden = false;
      slot.closest(".field").classList.add("has-error");
      form.elements.namedItem(key)?.setAttribute("aria-invalid", "true");
    } else {
      unplaced.push(f.message);
    }
  }
  return unplaced;
}

/** Hides every field error of form. */
export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const f of form.querySelectorAll(".has-error")) f.classList.remove("has-error");
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

/** Shows text in the page's alert, or hides it. */
export function alertText(text) {
  const box = document.getElementById("error");
  box.textContent = text || "";
  box.hidden = !text;
}

/** Sets the page's status line (tests wait for its data-state). */
export function status(state, text) {
  const s = document.getElementById("status");
  s.dataset.state = state;
  s.textContent = text;
}

/** Applies the brand's design tokens from schema() as CSS custom properties. */
export function applyTheme(theme) {
  if (!theme) return;
  const root = document.documentElement.style;
  const map = { primary_color: "--shop-primary", background_color: "--shop-bg", text_color: "--shop-text", button_text_color: "--shop-on-primary" };
  for (const [k, prop] of Object.entries(map)) {
    if (/^#[0-9a-f]{6}$/i.test(theme[k] || "")) root.setProperty(prop, theme[k]);
  }
  if (theme.font_stack) root.setProperty("--shop-font", theme.font_stack);
}

/** The name to greet a customer by. */
export function displayName(user, me) {
  return (user && (user.name || user.given_name)) || (me && me.profile && me.profile.first_name) || (me && me.email) || (user && user.email) || "";
}
