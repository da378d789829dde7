// The staff console's one script (served at /console/console.js). Pages work without it; it only enhances them:
// a page that shows work in progress (an element with data-refresh="seconds") reloads itself until the work is done.
(function () {
  "use strict";
  var marked = document.querySelector("[data-refresh]");
  if (!marked) {
    return;
  }

  var seconds = parseInt(marked.getAttribute("data-refresh"), 10);
  window.setTimeout(function () { window.location.reload(); }, (seconds > 0 ? seconds : 2) * 1000);
})();
