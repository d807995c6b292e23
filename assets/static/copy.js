// copy.js: the console's "Copy" buttons. A button with data-copy="ID"
// copies the text of the element with that id. Buttons start hidden, so a
// page without this script (or without JavaScript) shows plain text to
// select. Loaded as a file, so the console's CSP (script-src 'self') holds.
"use strict";

function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text);
  }
  // Plain-http consoles have no Clipboard API: select and copy instead.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "cx-copy-scratch";
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
}

function wireCopyButton(button) {
  const target = document.getElementById(button.dataset.copy);
  if (!target) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    copyText(target.textContent).then(
      function () { flash(button, "Copied"); },
      function () { flash(button, "Select and copy"); }
    );
  });
}

function flash(button, label) {
  button.textContent = label;
  button.dataset.copied = label === "Copied" ? "yes" : "no";
  setTimeout(function () { button.textContent = "Copy"; }, 2000);
}

document.querySelectorAll("button[data-copy]").forEach(wireCopyButton);
