// The ticket page's suggested articles: "Insert link" appends the article's title and
// link to the reply (as typed text; nothing is parsed as HTML) and lets the composer
// recount its characters.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.kb-insert");
    if (!button) return;
    var text = document.getElementById("reply-text");
    if (!text) return;
    var insert = button.getAttribute("data-insert") || "";
    text.value = text.value ? text.value.replace(/\s*$/, "") + "\n" + insert : insert;
    text.dispatchEvent(new Event("input", { bubbles: true }));
    text.focus();
  });
})();
