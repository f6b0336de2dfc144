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
      // After load: the browser's own jump to the #reply anchor would take focus back.
      window.addEventListener("load", () => {
        box.focus();
        box.setSelectionRange(box.value.length, box.value.length);
      });
    }
  }

  // Live timeline: count new posts from the stream; show them on request, without a reload.
  const timeline = document.querySelector("[data-stream]");
  const banner = document.querySelector("[data-new-posts]");
  if (timeline && banner && window.EventSource) {
    const waiting = new Set();
    const label = (n) => (n === 1 ? banner.dataset.one : banner.dataset.many.replace("{n}", n));
    const source = new EventSource(timeline.dataset.stream);
    source.addEventListener("post", (event) => {
      const id = JSON.parse(event.data).post_id;
      if (document.getElementById("post-" + id)) return;
      waiting.add(id);
      banner.textContent = label(waiting.size);
      banner.hidden = false;
    });
    banner.addEventListener("click", async () => {
      const newest = timeline.querySelector("[data-entry-id]");
      const url = new URL(location.href);
      url.searchParams.delete("max_id");
      url.searchParams.set("since_id", newest ? newest.dataset.entryId : "0");
      url.searchParams.set("fragment", "entries");
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return;
      const holder = document.createElement("div");
      holder.innerHTML = await response.text();
      const fresh = Array.from(holder.querySelectorAll("article.post"))
        .filter((post) => !document.getElementById(post.id));
      const empty = timeline.querySelector(".empty");
      if (empty) empty.remove();
      timeline.prepend(...fresh);
      waiting.clear();
      banner.hidden = true;
    });
  }

  // Unread notifications in the header, kept current while the page is open.
  const stream = document.body.dataset.notificationsStream;
  const badge = document.querySelector("[data-unread]");
  if (stream && badge && window.EventSource) {
    new EventSource(stream).addEventListener("notifications", (event) => {
      const unread = JSON.parse(event.data).unread;
      badge.textContent = unread >= 100 ? "99+" : String(unread);
      badge.hidden = unread === 0;
    });
  }
})();
