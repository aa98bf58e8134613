// The pages' small behaviours: a tooltip for timeline marks (hover and keyboard focus), and the board's live
// updates (follow /events/stream, redraw the table when an event arrives).
(function () {
  "use strict";
  var tip = document.getElementById("tip");

  // Marks carry their text in aria-label; the SVG <title> (for pages without script) would double the tooltip.
  function quietTitles(root) {
    root.querySelectorAll("a.tick > title, rect.band > title").forEach(function (title) {
      var owner = title.parentNode;
      if (!owner.getAttribute("data-tip")) { owner.setAttribute("data-tip", title.textContent); }
      title.remove();
    });
  }

  function show(target) {
    var text = target.getAttribute("aria-label") || target.getAttribute("data-tip");
    if (!tip || !text) { return; }
    tip.textContent = text;
    tip.hidden = false;
    var box = target.getBoundingClientRect();
    var width = tip.offsetWidth;
    var left = Math.min(Math.max(window.scrollX + box.left + box.width / 2 - width / 2, window.scrollX + 4),
      window.scrollX + document.documentElement.clientWidth - width - 4);
    tip.style.left = left + "px";
    tip.style.top = (window.scrollY + box.bottom + 6) + "px";
  }

  function hide() { if (tip) { tip.hidden = true; } }

  function tipTarget(node) {
    return node && node.closest ? node.closest("a.tick, rect.band[data-tip]") : null;
  }

  document.addEventListener("mouseover", function (e) { var t = tipTarget(e.target); if (t) { show(t); } });
  document.addEventListener("mouseout", function (e) { if (tipTarget(e.target)) { hide(); } });
  document.addEventListener("focusin", function (e) { var t = tipTarget(e.target); if (t) { show(t); } else { hide(); } });
  document.addEventListener("focusout", function (e) { if (tipTarget(e.target)) { hide(); } });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { hide(); } });
  quietTitles(document);

  var board = document.getElementById("board");
  var status = document.getElementById("live-status");
  if (!board || !window.EventSource) { return; }
  var types = ["channel_established", "channel_agreed", "meeting_held", "contact_made", "meeting_scheduled",
    "talks_cancelled", "channel_suspended", "channel_restricted", "channel_resumed", "channel_closed",
    "sanction_applied", "sanction_lifted", "commitment_made", "commitment_status", "measure_imposed",
    "measure_modified", "measure_suspended", "measure_lifted", "official_changed", "event_corrected",
    "event_retracted"];
  var pending = {};
  var timer = null;

  function refresh() {
    timer = null;
    var changed = Object.keys(pending);
    pending = {};
    fetch(board.dataset.src, { headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        board.innerHTML = html;
        quietTitles(board);
        changed.forEach(function (channel) {
          var row = document.getElementById("row-" + channel);
          if (row) { row.classList.add("updated"); }
        });
        status.textContent = "Updated " + new Date().toLocaleTimeString();
      })
      .catch(function () { status.textContent = "Live update failed; reload the page."; });
  }

  var stream = new EventSource("/events/stream");
  function onEvent(message) {
    try { pending[JSON.parse(message.data).channel] = true; } catch (e) { return; }
    if (timer === null) { timer = setTimeout(refresh, 150); }
  }
  types.forEach(function (type) { stream.addEventListener(type, onEvent); });
  stream.onopen = function () { status.textContent = "Live"; };
  stream.onerror = function () { status.textContent = "Reconnecting…"; };
}());
