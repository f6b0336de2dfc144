// Progressive enhancement only: every page works without this file.
"use strict";

(function () {
  const URL_LENGTH = 23; // must match twoorl.posts.text.URL_LENGTH
  const urlPattern = /https?:\/\/[^\s<>"']+/g;
  const segmenter = typeof Intl !== "undefined" && Intl.Segmenter
    ? new Intl.Segmenter(undefined, { granularity: "grapheme" })
    : null;

  function graphemes(text) {
    return segmenter ? Array.from(segmenter.segment(text)).length : Array.from(text).length;
  }

  // Count as the server does: characters as people see them, each link as 23.
  function visibleLength(text) {
    let total = 0;
    let last = 0;
    for (const match of text.trim().matchAll(urlPattern)) {
      const url = match[0].replace(/[.,:;!?"')\]}]+$/, "");
      total += graphemes(text.trim().slice(last, match.index)) + URL_LENGTH;
      last = match.index + url.length;
    }
    return total + graphemes(text.trim().slice(last));
  }

  for (const form of document.querySelectorAll("form.compose")) {
    const box = form.querySelector("textarea");
    const counter = form.querySelector("[data-counter]");
    const button = form.querySelector("button[type=submit]");
    const limit = Number(box.dataset.maxLength);
    const update = () => {
      const left = limit - visibleLength(box.value);
      counter.textContent = String(left);
      counter.classList.toggle("over", left < 0);
      button.disabled = left < 0 || box.value.trim() === "";
    };
    box.addEventListener("input", update);
    update();
    if (location.hash === "#reply" && form.id === "reply") {
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
    }
  }
})();
