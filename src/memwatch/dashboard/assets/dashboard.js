// memwatch dashboard: sort and filter the overview table. No network, no dependencies;
// without JavaScript the table is still there, worst first.
(function () {
  "use strict";
  var table = document.getElementById("overview");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var name = document.getElementById("f-name");
  var status = document.getElementById("f-status");
  var env = document.getElementById("f-env");
  var count = document.getElementById("f-count");

  function filter() {
    var text = name.value.trim().toLowerCase();
    var st = status.value;
    var en = env.value;
    var shown = 0;
    rows.forEach(function (row) {
      var ok = (!text || (row.dataset.test + " " + row.dataset.metric).toLowerCase().indexOf(text) >= 0) &&
        (!st || row.dataset.st === st) && (!en || row.dataset.env === en);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + (shown === 1 ? " row" : " rows");
  }

  function sortBy(button) {
    var key = button.dataset.key;
    var numeric = button.hasAttribute("data-num");
    var ascending = button.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th button").forEach(function (b) { b.removeAttribute("aria-sort"); });
    button.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = a.dataset[key], y = b.dataset[key];
      var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      return ascending ? c : -c;
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (row) { frag.appendChild(row); });
    body.appendChild(frag);
  }

  table.querySelectorAll("th button").forEach(function (b) {
    b.addEventListener("click", function () { sortBy(b); });
  });
  [name, status, env].forEach(function (el) { el.addEventListener("input", filter); });
  var wanted = new URLSearchParams(window.location.search);
  if (wanted.get("status")) { status.value = wanted.get("status"); }
  if (wanted.get("q")) { name.value = wanted.get("q"); }
  filter();
}());
