// Kinesis Console bulk upload: the upload's own progress, and the key
// fields that follow the chosen mode. The sending's progress comes through
// htmx's SSE extension (see BulkJobView).
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

  function init() {
    var form = byId("bulk-form");
    if (form) syncKeyFields(form);
  }

  // The sending's progress needs no code here: htmx's SSE extension
  // follows the job's event stream (sse-connect on #bulk-job) and swaps in
  // the panels the server renders. The server ends the stream only when
  // the job is done; a stream that fails for good (the job is gone, the
  // console is down) closes, and the page says so while the extension
  // tries again.
  document.addEventListener("htmx:sseError", function (e) {
    var source = e.detail && e.detail.source;
    if (!source || source.readyState !== EventSource.CLOSED) return;
    var note = document.querySelector("#bulk-progress-panel [data-testid=bulk-state-note]");
    if (note) note.textContent = "Lost track of the upload: reload the page to see how it ended.";
  });

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

  document.addEventListener("htmx:load", init);
  document.addEventListener("DOMContentLoaded", init);
})();
