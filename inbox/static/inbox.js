// Keeps the inbox table fresh: every 5 s, fetch the rows fragment and swap the tbody.
// A fetch rather than a page reload, so scroll position and focus survive.
(function () {
  "use strict";
  var rows = document.getElementById("ticket-rows");
  if (!rows) return;
  var INTERVAL_MS = 5000;

  function refresh() {
    if (document.hidden) return; // a background tab need not poll
    fetch(rows.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.status === 401) {
          window.location.assign("/login"); // the session ended
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        // The server escaped every customer field in this fragment.
        if (html !== null && html !== undefined) rows.innerHTML = html;
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  window.setInterval(refresh, INTERVAL_MS);
})();
