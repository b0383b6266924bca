// Kinesis Console bulk upload: the upload's own progress, the key fields
// that follow the chosen mode, and the sending's progress from the server's
// event stream (EventSource), whose events carry the server-rendered panel
// and, at the end, the job area with its report.
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

  // swap replaces an element with server-rendered HTML and lets htmx wire it.
  function swap(el, html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    var fresh = tpl.content.firstElementChild;
    if (!fresh) return null;
    el.replaceWith(fresh);
    htmx.process(fresh);
    return fresh;
  }

  // watch follows a sending job's event stream. Every event carries HTML
  // the server rendered with the page's own templates: "progress" the
  // progress panel, "done" the whole job area with its report.
  function watch(job) {
    if (job.dataset.watching) return;
    job.dataset.watching = "1";
    var source = new EventSource(job.dataset.bulkEvents);
    source.addEventListener("progress", function (e) {
      var panel = byId("bulk-progress-panel");
      if (panel) swap(panel, e.data);
    });
    source.addEventListener("done", function (e) {
      source.close();
      var area = byId("bulk-job");
      if (area) swap(area, e.data);
    });
    source.addEventListener("error", function () {
      // The server ends each stream after a while and EventSource reconnects
      // by itself; only a closed source (the job is gone) is a failure.
      if (source.readyState === EventSource.CLOSED) {
        var note = document.querySelector("#bulk-progress-panel [data-testid=bulk-state-note]");
        if (note) note.textContent = "Lost track of the upload: reload the page to see how it ended.";
      }
    });
    // The job area may leave the page (a new upload): stop listening then.
    var observer = new MutationObserver(function () {
      if (!document.body.contains(job)) {
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
