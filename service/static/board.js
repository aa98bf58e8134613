// Live board: follow /events/stream and redraw the table when an event arrives.
(function () {
  "use strict";
  var board = document.getElementById("board");
  var status = document.getElementById("live-status");
  if (!board || !window.EventSource) { return; }
  var types = ["channel_established", "channel_agreed", "meeting_held", "contact_made", "meeting_scheduled",
    "talks_cancelled", "channel_suspended", "channel_restricted", "channel_resumed", "channel_closed",
    "sanction_applied", "sanction_lifted", "commitment_made", "commitment_status", "measure_imposed",
    "measure_modified", "measure_suspended", "measure_lifted", "official_changed", "event_corrected",
    "event_retracted"];
  var params = new URLSearchParams();
  if (board.dataset.asOf) { params.set("as_of", board.dataset.asOf); }
  if (board.dataset.knownAt) { params.set("known_at", board.dataset.knownAt); }
  var pending = {};
  var timer = null;

  function refresh() {
    timer = null;
    var changed = Object.keys(pending);
    pending = {};
    fetch("/board/table?" + params.toString(), { headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        board.innerHTML = html;
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
