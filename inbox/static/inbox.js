// The hub's only script (the pages' CSP allows no inline code and no other origin).
// - Every page: relative times ("5 min ago") kept current; panels marked data-wide-open
//   open on a wide screen and stay folded on a phone.
// - Inbox: asks /web/changes every second whether anything changed; only then fetches the
//   rows fragment and swaps the tbody (no reload: scroll, focus and selection survive);
//   j/k/Enter/x/a/e keys; select-all.
// - Ticket: the same question for this ticket; on a change the page's own HTML is fetched
//   and its live parts (thread, facts, actions, notes, history) swapped, never the composer.
//   Templates fill the composer; a counter shows the channel's limit; the preview shows
//   the text exactly as typed (textContent: nothing is ever parsed as HTML); r/a/e keys.
(function () {
  "use strict";

  function typing(event) {
    var t = event.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  // relative times: the same wording as inbox/pages.py ago() ------------------------------
  function ago(date, now) {
    var seconds = Math.round((now - date) / 1000), future = seconds < 0;
    seconds = Math.abs(seconds);
    if (seconds < 45) return "just now";
    var units = [[31536000, "y"], [2592000, "mo"], [86400, "d"], [3600, "h"], [60, "min"]];
    for (var i = 0; i < units.length; i++) {
      if (seconds >= units[i][0]) {
        var n = units[i][0] === 60 ? Math.round(seconds / 60) : Math.floor(seconds / units[i][0]);
        return future ? "in " + n + " " + units[i][1] : n + " " + units[i][1] + " ago";
      }
    }
    return "just now";
  }

  function refreshTimes(root) {
    var now = Date.now();
    (root || document).querySelectorAll("time[datetime]").forEach(function (el) {
      var date = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(date)) el.textContent = ago(date, now);
    });
  }

  function widePanels() {
    if (!window.matchMedia("(min-width: 761px)").matches) return;
    document.querySelectorAll("details[data-wide-open]").forEach(function (d) { d.open = true; });
  }

  // Polls a /web/changes URL; calls onChange() when the cursor moves. Stops on 401.
  function watch(url, seconds, onChange, onState) {
    var cursor = "", busy = false;
    function tick() {
      if (busy || document.hidden) return; // a background tab need not poll
      busy = true;
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(cursor),
            { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 401) { window.location.assign("/login?next=" + encodeURIComponent(location.pathname)); return null; }
          return response.ok ? response.json() : null;
        })
        .then(function (body) {
          if (onState) onState(!!body);
          if (!body) return null;
          var changed = cursor !== "" && body.cursor !== cursor;
          cursor = body.cursor;
          return changed ? onChange() : null;
        })
        .catch(function () { if (onState) onState(false); }) // offline for a moment: the next tick tries again
        .then(function () { busy = false; });
    }
    tick();
    window.setInterval(tick, Math.max(0.25, seconds) * 1000);
  }

  function liveState(ok) {
    var state = document.getElementById("live-state");
    if (!state) return;
    state.classList.toggle("stale", !ok);
    state.lastChild.textContent = ok ? "Live" : "Reconnecting…";
  }

  // the inbox ------------------------------------------------------------------------------
  function inbox() {
    var rows = document.getElementById("ticket-rows");
    if (!rows) return;
    var current = 0;
    var seconds = parseFloat(rows.dataset.poll || "1");

    function rowList() { return Array.prototype.slice.call(rows.querySelectorAll("tr.ticket-row")); }

    function mark() {
      var list = rowList();
      if (!list.length) return;
      current = Math.max(0, Math.min(current, list.length - 1));
      list.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    }

    function refresh() {
      var checked = {}, currentRef = null, list = rowList();
      list.forEach(function (row, i) {
        var box = row.querySelector("input[type=checkbox]");
        if (box && box.checked) checked[row.dataset.ref] = true;
        if (i === current) currentRef = row.dataset.ref;
      });
      return fetch(rows.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (response.status === 401) { window.location.assign("/login"); return null; } // the session ended
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null || html === undefined) return;
          // The server escaped every customer field in this fragment.
          rows.innerHTML = html;
          rowList().forEach(function (row, i) {
            var box = row.querySelector("input[type=checkbox]");
            if (box && checked[row.dataset.ref]) box.checked = true;
            if (row.dataset.ref === currentRef) current = i;
          });
          mark();
        })
        .catch(function () { /* offline for a moment: the next change tries again */ });
    }

    function rowAction(action) {
      var row = rowList()[current];
      var form = document.getElementById("row-action");
      if (!row || !form) return;
      form.elements.action.value = action;
      form.elements.ref.value = row.dataset.ref;
      form.submit();
    }

    var all = document.getElementById("select-all");
    if (all) all.addEventListener("change", function () {
      rowList().forEach(function (row) { row.querySelector("input[type=checkbox]").checked = all.checked; });
    });

    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      var list = rowList();
      if (event.key === "j") { current += 1; mark(); }
      else if (event.key === "k") { current -= 1; mark(); }
      else if (event.key === "Enter" || event.key === "o") {
        if (event.target && event.target.closest && event.target.closest("a, button, summary")) return;
        if (list[current]) window.location.assign(list[current].querySelector("a.ref").getAttribute("href"));
      } else if (event.key === "x") {
        var box = list[current] && list[current].querySelector("input[type=checkbox]");
        if (box) box.checked = !box.checked;
      } else if (event.key === "a") { rowAction("assign_me"); }
      else if (event.key === "e") { rowAction("resolve"); }
      else if (event.key === "/") {
        var search = document.querySelector("input[name=q]");
        if (search) { event.preventDefault(); search.focus(); }
      } else { return; }
      var now = rowList()[current];
      if (now && (event.key === "j" || event.key === "k")) now.scrollIntoView({ block: "nearest" });
    });

    mark();
    watch(rows.dataset.changes || "/web/changes", seconds, refresh, liveState);
    window.setInterval(function () { if (!document.hidden) refresh(); }, 30000); // SLA countdowns move with time alone
  }

  // the ticket page ---------------------------------------------------------------------------
  function liveTicket() {
    var marker = document.getElementById("ticket-live");
    if (!marker) return;
    var seen = {};
    document.querySelectorAll("article.message[data-key]").forEach(function (a) { seen[a.dataset.key] = true; });

    function pageUrl() {
      var url = new URL(window.location.href);
      url.searchParams.delete("flash");
      url.hash = "";
      return url.toString();
    }

    function update() {
      return fetch(pageUrl(), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) return;
          // An inert document: nothing in it runs; the server escaped every customer field.
          var fresh = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-live][id]").forEach(function (part) {
            var next = fresh.getElementById(part.id);
            if (!next || next.innerHTML === part.innerHTML) return;
            if (part.contains(document.activeElement) && part.id !== "thread") return; // not under a finger
            part.replaceWith(document.adoptNode(next));
          });
          var arrived = 0;
          document.querySelectorAll("article.message[data-key]").forEach(function (a) {
            if (!seen[a.dataset.key]) { seen[a.dataset.key] = true; a.classList.add("new"); arrived += 1; }
          });
          var news = document.getElementById("live-news");
          if (news && arrived) news.textContent = arrived === 1 ? "1 new message" : arrived + " new messages";
          refreshTimes();
        })
        .catch(function () { /* offline for a moment: the next change tries again */ });
    }

    watch(marker.dataset.changes, parseFloat(marker.dataset.poll || "1"), update);
  }

  function composer() {
    var text = document.getElementById("reply-text");
    if (!text) return;
    var counter = document.getElementById("reply-counter");
    var preview = document.getElementById("reply-preview");
    var template = document.getElementById("template");
    var send = document.getElementById("send-reply");
    var sendResolve = document.getElementById("send-resolve");
    var limit = parseInt(text.dataset.limit || "0", 10);
    var weighted = text.dataset.channel === "x";

    // X's count (as support/templates.py x_length): links 23, CJK and emoji 2, the rest 1.
    function xLength(value) {
      var length = 0;
      value.split(/(https?:\/\/\S+)/).forEach(function (part, i) {
        if (i % 2 === 1) { length += 23; return; }
        Array.from(part).forEach(function (ch) {
          var c = ch.codePointAt(0);
          var light = c <= 0x10FF || (c >= 0x2000 && c <= 0x200D) || (c >= 0x2010 && c <= 0x201F) || (c >= 0x2032 && c <= 0x2037);
          length += light ? 1 : 2;
        });
      });
      return length;
    }

    function update() {
      preview.textContent = text.value; // shown as typed, never interpreted
      if (!limit) return;
      var used = weighted ? xLength(text.value.trim()) : text.value.trim().length;
      var over = used > limit;
      counter.textContent = used + " / " + limit + " characters" + (over ? " — too long" : "");
      counter.classList.toggle("late", over);
      send.disabled = sendResolve.disabled = over;
    }

    text.addEventListener("input", update);
    // "/" in an empty composer opens the canned replies (as in Chatwoot); picking one fills it.
    text.addEventListener("keydown", function (event) {
      if (event.key !== "/" || text.value !== "" || !template) return;
      event.preventDefault();
      template.focus();
      if (template.showPicker) { try { template.showPicker(); } catch (e) { /* needs a user gesture: focus is enough */ } }
    });
    if (template) template.addEventListener("change", function () {
      var option = template.options[template.selectedIndex];
      if (option && option.dataset.text) { text.value = option.dataset.text; update(); text.focus(); }
    });
    var jump = document.getElementById("jump-reply");
    if (jump) jump.addEventListener("click", function (event) {
      event.preventDefault();
      document.getElementById("composer").scrollIntoView({ block: "start" });
      text.focus({ preventScroll: true });
    });

    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "r") { event.preventDefault(); text.focus(); }
      else if (event.key === "a") { var assign = document.getElementById("assign"); if (assign) assign.click(); }
      else if (event.key === "e") { var resolve = document.getElementById("status-resolved"); if (resolve && !resolve.disabled) resolve.click(); }
    });
    update();
  }

  widePanels();
  refreshTimes();
  window.setInterval(function () { if (!document.hidden) refreshTimes(); }, 30000);
  inbox();
  liveTicket();
  composer();
})();
