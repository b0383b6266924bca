// Kinesis Console bulk upload: the upload's own progress, the key fields
// that follow the chosen mode, and the sending's progress from the server's
// event stream (EventSource), until the report replaces it.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  // The partition key and ExplicitHashKey inputs say what they expect.
  var placeholders = {
    partition_key_mode: { uuid: "(a new UUID for every record)", field: "field path, e.g. user.id", fixed: "the partition key of every record" },
    explicit_hash_key_mode: { none: "(none)", field: "field path, e.g. hash", fixed: "a number from 0 to 2^128-1" }
  };
  var inputs = { partition_key_mode: "bulk-partition-key", explicit_hash_key_mode: "bulk-explicit-hash-key" };

  function syncKeyFields(form) {
    Object.keys(inputs).forEach(function (mode) {
      var checked = form.querySelector("input[name=" + mode + "]:checked"), input = byId(inputs[mode]);
      if (!checked || !input) return;
      var off = checked.value === "uuid" || checked.value === "none";
      input.disabled = off;
      input.placeholder = placeholders[mode][checked.value] || "";
    });
  }

  function setStat(panel, name, text) {
    panel.querySelectorAll("[data-bulk-stat=" + name + "]").forEach(function (el) { el.textContent = text; });
  }

  // watch follows one job's event stream; the panel's attributes say where.
  function watch(panel) {
    if (panel.dataset.watching) return;
    panel.dataset.watching = "1";
    var source = new EventSource(panel.dataset.bulkEvents);
    var bar = panel.querySelector("progress");

    function update(e) {
      var p = JSON.parse(e.data);
      if (bar) {
        bar.max = Math.max(p.total, 1);
        bar.value = p.processed;
      }
      setStat(panel, "percent", p.percent + "%");
      setStat(panel, "written", String(p.written));
      setStat(panel, "failed", String(p.failed));
      setStat(panel, "retried", String(p.retried));
      setStat(panel, "rate", p.rate);
      setStat(panel, "remaining", p.remaining);
      setStat(panel, "state", p.note || "");
      if (p.canceling && p.state !== "done") {
        setStat(panel, "state", "Canceling: requests already sent are finishing…");
        var button = panel.querySelector("[data-bulk-cancel]");
        if (button) { button.disabled = true; button.textContent = "Canceling…"; }
      }
    }

    source.addEventListener("progress", update);
    source.addEventListener("done", function (e) {
      update(e);
      source.close();
      // The report replaces the progress panel.
      htmx.ajax("GET", panel.dataset.bulkJob, { target: "#bulk-job", swap: "outerHTML" });
    });
    source.addEventListener("error", function () {
      // The server ends each stream after a while and EventSource reconnects
      // by itself; only a closed source (the job is gone) is a failure.
      if (source.readyState === EventSource.CLOSED) {
        setStat(panel, "state", "Lost track of the upload: reload the page to see how it ended.");
      }
    });
    // The panel may leave the page (a new upload): stop listening then.
    var observer = new MutationObserver(function () {
      if (!document.body.contains(panel)) {
        source.close();
        observer.disconnect();
      }
    });
    observer.observe(document.body, { childList: true, subtree: true });
  }

  function init(root) {
    var form = byId("bulk-form");
    if (form) syncKeyFields(form);
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-bulk-events]")) watch(scope);
    scope.querySelectorAll("[data-bulk-events]").forEach(watch);
  }

  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("#bulk-form");
    if (form) syncKeyFields(form);
  });

  // The upload's own progress, while the browser sends the file.
  document.addEventListener("htmx:xhr:progress", function (e) {
    if (!e.target || e.target.id !== "bulk-form") return;
    var bar = byId("bulk-upload-progress");
    if (!bar || !e.detail.lengthComputable) return;
    bar.hidden = false;
    bar.max = e.detail.total;
    bar.value = e.detail.loaded;
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (!e.target || e.target.id !== "bulk-form") return;
    var bar = byId("bulk-upload-progress");
    if (bar) bar.hidden = true;
  });

  document.addEventListener("htmx:load", function (e) { init(e.target); });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
