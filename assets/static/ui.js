// Gatehouse's own small page behaviours, for the console and the hosted
// pages alike. Every page works without it: the buttons it drives are
// rendered with the `hidden` attribute and only shown once this file runs,
// so nobody meets a button that does nothing. No inline script anywhere
// (CSP script-src 'self').
//
//   <button type="button" data-copy="ID" hidden>Copy</button>
//     copies the text (or the value) of the element with id ID.
//   <button type="button" data-reveal="ID" aria-pressed="false" hidden>Show password</button>
//     switches the password input with id ID between hidden and shown.
//   <details data-menu>
//     a disclosure used as a menu (the tenant switcher) closes on Escape,
//     handing the keyboard focus back to its summary, and on a click
//     outside it.
//   <iframe data-fit ...>
//     a same-origin preview frame grows to its page's height, so nothing
//     the admin just changed is cut off below the frame's edge.
(function () {
  "use strict";

  /** Shows the buttons this script can drive, under root. */
  function enable(root) {
    root.querySelectorAll("iframe[data-fit]").forEach(fit);
    root.querySelectorAll("[data-copy][hidden], [data-reveal][hidden]").forEach(function (b) {
      b.hidden = false;
    });
  }

  /** Puts text on the clipboard, with a fallback for plain-http pages. */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = document.execCommand("copy");
    area.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  /** Copies the target of button b and says so on the button for a moment. */
  function copy(b) {
    var target = document.getElementById(b.getAttribute("data-copy"));
    if (!target) return;
    var text = "value" in target && target.tagName !== "BUTTON" ? target.value : target.textContent;
    var label = b.getAttribute("data-label") || b.textContent;
    b.setAttribute("data-label", label);
    copyText(text.trim()).then(function () {
      b.textContent = "Copied";
      b.setAttribute("data-copied", "yes");
    }, function () {
      b.textContent = "Press Ctrl+C";
      b.setAttribute("data-copied", "no");
      if (window.getSelection) {
        var range = document.createRange();
        range.selectNodeContents(target);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
    });
    setTimeout(function () { b.textContent = label; }, 2000);
  }

  /** Shows or hides the password of button b's input. */
  function reveal(b) {
    var input = document.getElementById(b.getAttribute("data-reveal"));
    if (!input) return;
    var show = input.type === "password";
    input.type = show ? "text" : "password";
    b.setAttribute("aria-pressed", show ? "true" : "false");
    b.textContent = show ? "Hide password" : "Show password";
  }

  /** Grows a same-origin preview frame to the height of its page. */
  function fit(frame) {
    try {
      var doc = frame.contentDocument;
      if (!doc || !doc.documentElement) return;
      var h = doc.documentElement.scrollHeight;
      if (h > frame.clientHeight) frame.style.height = h + 2 + "px";
    } catch (err) {
      // Not same-origin: keep the stylesheet's height.
    }
  }

  // load does not bubble; capture it for frames added later by htmx too.
  document.addEventListener("load", function (e) {
    if (e.target.tagName === "IFRAME" && e.target.hasAttribute("data-fit")) fit(e.target);
  }, true);

  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-copy], button[data-reveal]");
    if (!b) return;
    if (b.hasAttribute("data-copy")) copy(b);
    else reveal(b);
  });
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (d) {
      if (!d.contains(e.target)) d.open = false;
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var menu = (e.target.closest && e.target.closest("details[data-menu][open]")) ||
      document.querySelector("details[data-menu][open]");
    if (!menu) return;
    menu.open = false;
    var summary = menu.querySelector("summary");
    if (summary) summary.focus();
  });
  // htmx swaps in new fragments (the login panel's tabs, console lists).
  document.addEventListener("htmx:afterSwap", function (e) { enable(e.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enable(document); });
  } else {
    enable(document);
  }
})();
