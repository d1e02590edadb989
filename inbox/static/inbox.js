// The inbox's only script (the page's CSP allows no inline code and no other origin).
// - Inbox: every few seconds, fetch the rows fragment and swap the tbody (no page reload,
//   so scroll, focus, selection survive); j/k/Enter/x/a/e keys; select-all.
// - Ticket: templates fill the composer; a counter shows the channel's limit; the preview
//   shows the text exactly as typed (textContent: nothing is ever parsed as HTML); r/a/e keys.
(function () {
  "use strict";

  function typing(event) {
    var t = event.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  function inbox() {
    var rows = document.getElementById("ticket-rows");
    if (!rows) return;
    var current = 0;
    var seconds = parseFloat(rows.dataset.poll || "5");

    function rowList() { return Array.prototype.slice.call(rows.querySelectorAll("tr.ticket-row")); }

    function mark() {
      var list = rowList();
      if (!list.length) return;
      current = Math.max(0, Math.min(current, list.length - 1));
      list.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    }

    function refresh() {
      if (document.hidden) return; // a background tab need not poll
      var checked = {}, currentRef = null, list = rowList();
      list.forEach(function (row, i) {
        var box = row.querySelector("input[type=checkbox]");
        if (box && box.checked) checked[row.dataset.ref] = true;
        if (i === current) currentRef = row.dataset.ref;
      });
      fetch(rows.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
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
        .catch(function () { /* offline for a moment: the next tick tries again */ });
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
    window.setInterval(refresh, Math.max(1, seconds) * 1000);
  }

  function ticket() {
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
    if (template) template.addEventListener("change", function () {
      var option = template.options[template.selectedIndex];
      if (option && option.dataset.text) { text.value = option.dataset.text; update(); text.focus(); }
    });

    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "r") { event.preventDefault(); text.focus(); }
      else if (event.key === "a") { var assign = document.getElementById("assign"); if (assign) assign.click(); }
      else if (event.key === "e") { var resolve = document.getElementById("status-resolved"); if (resolve && !resolve.disabled) resolve.click(); }
    });
    update();
  }

  inbox();
  ticket();
})();
