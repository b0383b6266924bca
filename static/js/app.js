// Kinesis Console page behaviour: live JSON check and size, a Format button
// that keeps numbers exactly as typed, random partition keys, Ctrl/Cmd+Enter,
// copy buttons, and a flash area for failures htmx does not swap in.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var encoder = new TextEncoder();

  function byId(id) { return document.getElementById(id); }

  function currentFormat(form) {
    var checked = form.querySelector("input[name=data_format]:checked");
    return checked ? checked.value : "json";
  }

  // base64Re is what the server takes as base64: the standard alphabet,
  // with padding (atob alone also takes unpadded input).
  var base64Re = /^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=)?$/;

  function dataBytes(text, format) {
    text = text.replace(/\r\n?/g, "\n");
    if (format === "base64") {
      var compact = text.replace(/\s+/g, "");
      if (!base64Re.test(compact)) return null;
      try { return atob(compact).length; } catch (e) { return null; }
    }
    return encoder.encode(text).length;
  }

  function humanBytes(n) {
    if (n >= 1048576) return (n / 1048576).toFixed(2) + " MiB";
    if (n >= 1024) return (n / 1024).toFixed(1) + " KiB";
    return n + " bytes";
  }

  // refresh updates the JSON status and the size counter.
  function refresh(form) {
    var data = byId("data"), status = byId("data-status"), size = byId("data-size");
    if (!data || !status || !size) return;
    var format = currentFormat(form);
    var formatButton = byId("format-json");
    if (formatButton) formatButton.disabled = format !== "json";
    status.className = "data-status";
    status.textContent = "";
    // While the server's message on the data stands, it is the one message:
    // the live check would say the same with other words and columns.
    var serverSays = form.querySelector("[data-testid=field-error][data-field=data]");
    if (format === "json" && data.value.trim() !== "" && !serverSays) {
      try {
        JSON.parse(data.value);
        status.textContent = "Valid JSON";
        status.classList.add("ok");
      } catch (e) {
        status.textContent = "Not valid JSON: " + e.message;
        status.classList.add("bad");
      }
    }
    // The choice to write no data is offered only while there is none.
    var allowEmpty = byId("allow-empty-row");
    if (allowEmpty) allowEmpty.hidden = data.value !== "";
    var n = dataBytes(data.value, format);
    var key = byId("partition-key");
    var max = parseInt(form.dataset.maxBytes || "1048576", 10);
    if (n === null) {
      size.textContent = "Not valid base64";
      size.className = "data-size over";
      return;
    }
    var total = n + (key ? encoder.encode(key.value).length : 0);
    // Near and over the limit, rounded sizes look alike: say the bytes.
    if (total > max) {
      size.textContent = total + " bytes with the partition key: " + (total - max) + " over the limit of " + max;
    } else if (total > max * 0.95) {
      size.textContent = total + " of " + max + " bytes, with the partition key";
    } else {
      size.textContent = humanBytes(total) + " of " + humanBytes(max) + ", with the partition key";
    }
    size.className = total > max ? "data-size over" : "data-size";
  }

  // liveOK says whether a field's value passes the check the server makes,
  // as far as the page can tell; fields it cannot check are taken as fixed
  // once edited.
  function liveOK(el, form) {
    switch (el.id) {
      case "partition-key":
        var n = Array.from(el.value).length;
        return n >= 1 && n <= 256;
      case "explicit-hash-key":
        return el.value.trim() === "" || /^(0|[1-9][0-9]{0,38})$/.test(el.value.trim());
      case "sequence-number-for-ordering":
        return el.value.trim() === "" || /^(0|[1-9][0-9]{0,128})$/.test(el.value.trim());
    }
    return true;
  }

  // clearFixed takes a field's message from the server away once the user
  // edits the field into a shape that passes: a message under a fixed field
  // is a wrong message. The data's own message always goes on an edit: the
  // live check below the box speaks for it from then on.
  function clearFixed(el, form) {
    var name = el.name === "data_format" ? "data" : el.name;
    if (!name) return;
    var msg = form.querySelector("[data-testid=field-error][data-field=" + name + "]");
    if (!msg || (name !== "data" && !liveOK(el, form))) return;
    msg.remove();
    var input = form.querySelector("[name=" + name + "]");
    if (input) input.removeAttribute("aria-invalid");
    var holder = input && input.closest(".field.invalid");
    if (holder) holder.classList.remove("invalid");
  }

  // formatJSON re-indents JSON text token by token, so numbers, escapes and
  // duplicate keys stay exactly as typed (JSON.stringify would round big
  // numbers and silently change the record).
  function formatJSON(text) {
    JSON.parse(text); // throws on invalid input; the text is left alone then
    var out = "", indent = 0, i = 0, c, pad = function (n) { return "\n" + "  ".repeat(n); };
    while (i < text.length) {
      c = text[i];
      if (c === '"') {
        var j = i + 1;
        while (text[j] !== '"') { j += text[j] === "\\" ? 2 : 1; }
        out += text.slice(i, j + 1);
        i = j + 1;
        continue;
      }
      if (c === " " || c === "\t" || c === "\n" || c === "\r") { i++; continue; }
      if (c === "{" || c === "[") {
        var close = c === "{" ? "}" : "]", k = i + 1;
        while (k < text.length && /\s/.test(text[k])) k++;
        if (text[k] === close) { out += c + close; i = k + 1; continue; }
        indent++;
        out += c + pad(indent);
      } else if (c === "}" || c === "]") {
        indent--;
        out += pad(indent) + c;
      } else if (c === ",") {
        out += "," + pad(indent);
      } else if (c === ":") {
        out += ": ";
      } else {
        out += c;
      }
      i++;
    }
    return out;
  }

  function randomUUID() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function copyText(button) {
    var target = byId(button.dataset.copyTarget);
    if (!target) return;
    var text = target.textContent, label = button.textContent;
    var done = function () {
      button.classList.add("copied");
      button.textContent = "Copied";
      setTimeout(function () { button.classList.remove("copied"); button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(target); });
    } else {
      selectText(target);
    }
  }

  // copyProof copies the write's proof, one fact a line, from what the
  // result shows, and shows what it copied under the button.
  function copyProof(button) {
    var result = button.closest("[data-testid=put-result]");
    if (!result) return;
    var shown = function (id) { var el = result.querySelector("[data-testid=" + id + "]"); return el ? el.textContent.trim() : ""; };
    var text = ["stream: " + shown("result-stream"), "shard: " + shown("shard-id"), "sequence number: " + shown("sequence-number"),
      "request id: " + shown("request-id"), "caller: " + (shown("caller-arn-written") || "unknown"),
      "data sha-256: " + shown("data-sha256"), "written at: " + result.dataset.writtenAt].join("\n");
    var pre = result.querySelector("#proof-text");
    if (!pre) {
      pre = document.createElement("pre");
      pre.id = "proof-text";
      pre.dataset.testid = "proof-text";
      pre.tabIndex = 0;
      pre.setAttribute("role", "region");
      pre.setAttribute("aria-label", "Proof of this write");
      button.parentNode.after(pre);
    }
    pre.textContent = text;
    button.dataset.copyTarget = "proof-text";
    copyText(button);
    delete button.dataset.copyTarget;
  }

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function flash(message) {
    var el = byId("flash");
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
  }

  function clearFlash() {
    var el = byId("flash");
    if (el) { el.hidden = true; el.textContent = ""; }
  }

  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest("#record-form");
    if (!form) return;
    clearFixed(e.target, form);
    refresh(form);
  });
  document.addEventListener("change", function (e) {
    if (e.target.id === "target-select") { carryForm(); e.target.form.submit(); return; }
    var form = e.target.closest && e.target.closest("#record-form");
    if (!form) return;
    clearFixed(e.target, form);
    refresh(form);
  });

  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("button") : null;
    if (!t) return;
    if (t.id === "format-json") {
      var data = byId("data"), status = byId("data-status");
      try {
        data.value = formatJSON(data.value);
        data.focus();
        refresh(t.form);
      } catch (err) {
        status.textContent = "Cannot format: not valid JSON: " + err.message;
        status.className = "data-status bad";
      }
    } else if (t.id === "use-example" && byId("schema-example")) {
      // A schema applies: the generic example would be refused; the
      // schema's own example is what the stream takes.
      byId("schema-example").click();
    } else if (t.id === "use-example") {
      var box = byId("data");
      box.value = t.dataset.example;
      clearFixed(box, t.form);
      t.form.querySelectorAll("input[name=data_format]").forEach(function (radio) { radio.checked = radio.value === "json"; });
      box.focus();
      refresh(t.form);
    } else if (t.id === "random-key") {
      var key = byId("partition-key");
      key.value = randomUUID();
      key.dispatchEvent(new Event("input", { bubbles: true }));
    } else if (t.dataset.proof !== undefined) {
      copyProof(t);
    } else if (t.dataset.copyTarget) {
      copyText(t);
    } else if (t.dataset.fillField) {
      var field = byId(t.dataset.fillField);
      if (!field) return;
      var details = field.closest("details");
      if (details) details.open = true;
      // Results kept in the history before data-fill-from carry the value itself.
      var from = t.dataset.fillFrom ? byId(t.dataset.fillFrom) : null;
      var fill = from ? from.textContent : t.dataset.fillValue;
      if (fill === undefined) return;
      field.value = fill;
      field.focus();
    } else if (t.dataset.historyIndex) {
      showHistory(parseInt(t.dataset.historyIndex, 10));
    } else if (t.dataset.historyEdit) {
      editHistory(parseInt(t.dataset.historyEdit, 10));
    }
  });

  // The second click of a double click is not a second send. Kinesis often
  // answers before it lands, so it would hit the enabled button of the form
  // that came back, and a duplicate record cannot be taken back.
  document.addEventListener("click", function (e) {
    if (e.detail > 1 && e.target.closest && e.target.closest("#record-form button[type=submit]")) e.preventDefault();
  }, true);

  // Ctrl+Enter or Cmd+Enter sends the form from any of its fields. Like the
  // second click of a double click, a key held down (repeat) or pressed
  // again within a double click's time of the press that sent is the same
  // intent, not a second send: the answer, and with it the form's next
  // one-time key, may arrive in between.
  var keySendGapMs = 500, lastKeySend = -Infinity;
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    var form = e.target.closest && e.target.closest("#record-form");
    if (!form) return;
    e.preventDefault();
    if (e.repeat || e.timeStamp - lastKeySend < keySendGapMs) return;
    var button = form.querySelector("button[type=submit]");
    if (button && button.disabled) return;
    lastKeySend = e.timeStamp;
    form.requestSubmit(button);
  });

  document.addEventListener("htmx:beforeRequest", clearFlash);
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var text = "The console answered " + xhr.status + " " + (xhr.statusText || "") + ".";
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var detail = doc.querySelector("[data-testid=error-fragment], main p");
    if (detail) text += " " + detail.textContent.trim();
    flash(text + " What you typed is still in the form.");
  });
  document.addEventListener("htmx:sendError", function () {
    flash("Could not reach the console (network error). Nothing was sent to Kinesis; what you typed is still in the form.");
  });
  document.addEventListener("htmx:timeout", function () {
    flash("The console did not answer in time. The record may have been written: check before sending again.");
  });

  // Recent writes live in this browser's localStorage, so any number of
  // console replicas can serve the page.
  var historyKey = "kinesis-console.history.v1", lastStreamKey = "kinesis-console.last-stream";
  var historyMax = 25;

  function loadHistory() {
    try { return JSON.parse(localStorage.getItem(historyKey) || "[]"); } catch (e) { return []; }
  }

  function saveHistory(items) {
    try { localStorage.setItem(historyKey, JSON.stringify(items.slice(0, historyMax))); } catch (e) { /* full or disabled */ }
  }

  function shownText(result, testid) {
    var el = result.querySelector("[data-testid=" + testid + "]");
    return el ? el.textContent : "";
  }

  // historyFormMax bounds the data kept for "Edit and resend": localStorage
  // holds a few MiB for every entry together.
  var historyFormMax = 64 * 1024;

  // sentForm is the record form as sent, for "Edit and resend"; null when
  // its data is too large to keep.
  function sentForm() {
    var form = byId("record-form"), data = byId("data");
    if (!form || !data || data.value.length > historyFormMax) return null;
    var values = { stream: byId("stream").value, data_format: currentFormat(form) };
    Object.keys(carriedFields).forEach(function (id) {
      var el = byId(id);
      if (el) values[carriedFields[id]] = el.value;
    });
    return values;
  }

  // remember keeps a write in the history; withForm says the form still
  // holds what was sent (the answer just came), so it is kept too.
  function remember(result, withForm) {
    var d = result.dataset, items = loadHistory();
    var entry = {
      stream: shownText(result, "result-stream"), key: d.partitionKey, shard: shownText(result, "shard-id"),
      seq: shownText(result, "sequence-number"), at: d.writtenAt, html: byId("result").innerHTML
    };
    var same = function (it) { return it.seq === entry.seq && it.shard === entry.shard && it.stream === entry.stream; };
    var before = items.filter(same)[0];
    entry.form = withForm ? sentForm() : (before && before.form) || null;
    items = items.filter(function (it) { return !same(it); });
    items.unshift(entry);
    saveHistory(items);
    try { localStorage.setItem(lastStreamKey, entry.stream); } catch (e) { /* ignore */ }
    renderHistory();
  }

  function renderHistory() {
    var list = byId("history-list"), empty = byId("history-empty");
    if (!list) return;
    var items = loadHistory();
    list.replaceChildren();
    items.forEach(function (it, i) {
      var li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.dataset.historyIndex = String(i);
      b.dataset.testid = "history-item";
      [new Date(it.at).toLocaleTimeString(), it.stream, it.key, it.shard, it.seq].forEach(function (text) {
        var span = document.createElement("span");
        span.textContent = text;
        span.title = text;
        b.appendChild(span);
      });
      li.appendChild(b);
      list.appendChild(li);
    });
    if (empty) empty.hidden = items.length > 0;
  }

  // showHistory puts a stored result back in the result panel. It is inert
  // HTML: htmx does not process it, so nothing is sent again.
  function showHistory(i) {
    var it = loadHistory()[i], panel = byId("result");
    if (!it || !panel) return;
    panel.innerHTML = it.html;
    panel.querySelectorAll("[hx-trigger]").forEach(function (el) { el.removeAttribute("hx-trigger"); });
    panel.querySelectorAll("[data-testid=repeat-notice], [data-testid=stale-form]").forEach(function (el) { el.remove(); });
    // Said first, so an old write is not taken for a new one.
    var banner = document.createElement("div");
    banner.className = "notice history-banner";
    banner.dataset.testid = "history-banner";
    var p = document.createElement("p");
    p.textContent = "From history: written at " + new Date(it.at).toLocaleString() + ". Nothing was sent now.";
    banner.appendChild(p);
    if (it.form) {
      var edit = document.createElement("button");
      edit.type = "button";
      edit.className = "btn small";
      edit.dataset.testid = "history-edit";
      edit.dataset.historyEdit = String(i);
      edit.textContent = "Edit and resend";
      banner.appendChild(edit);
    }
    panel.prepend(banner);
    panel.scrollIntoView({ block: "nearest" });
  }

  // editHistory puts a write from the history back in the form, to be
  // changed and sent anew: a new submission, with the form's own new key.
  function editHistory(i) {
    var it = loadHistory()[i], form = byId("record-form");
    if (!it || !it.form || !form) return;
    byId("stream").value = it.form.stream;
    Object.keys(carriedFields).forEach(function (id) {
      var el = byId(id), value = it.form[carriedFields[id]];
      if (el && typeof value === "string") el.value = value;
    });
    form.querySelectorAll("input[name=data_format]").forEach(function (radio) { radio.checked = radio.value === it.form.data_format; });
    var advanced = form.querySelector("details.advanced");
    if (advanced && (it.form.explicit_hash_key || it.form.sequence_number_for_ordering)) advanced.open = true;
    byId("stream").dispatchEvent(new Event("change", { bubbles: true }));
    byId("partition-key").dispatchEvent(new Event("input", { bubbles: true }));
    byId("data").dispatchEvent(new Event("input", { bubbles: true }));
    byId("data").focus();
    form.scrollIntoView({ block: "start" });
  }

  // After a swap, put the caret on the first field with an error, take the
  // stream's record size limit, and remember a successful write.
  document.addEventListener("htmx:afterSettle", function (e) {
    var form = byId("record-form");
    var invalid = document.querySelector("#record-form [aria-invalid=true]");
    if (invalid && e.detail.target && e.detail.target.id === "workspace") invalid.focus();
    var summary = document.querySelector("[data-max-record-bytes]");
    if (form && summary && parseInt(summary.dataset.maxRecordBytes, 10) > 0) form.dataset.maxBytes = summary.dataset.maxRecordBytes;
    if (form) refresh(form);
    var result = document.querySelector("#result [data-testid=put-result]");
    var swapped = e.detail.target && e.detail.target.id;
    // On a narrow screen the answer lands below the form: bring it into view.
    var answer = document.querySelector("#result [data-testid=put-result], #result [data-testid=put-failure]");
    if (answer && (swapped === "result" || (swapped === "workspace" && !invalid))) {
      var top = byId("result").getBoundingClientRect().top;
      if (top > window.innerHeight * 0.8 || top < 0) byId("result").scrollIntoView({ block: "start" });
    }
    if (result && (swapped === "result" || swapped === "workspace" || swapped === "readback-slot")) remember(result, swapped !== "readback-slot");
  });

  // Switching target loads the page anew; what was typed in the record form
  // goes along in this tab's sessionStorage, so it is not lost. Not the
  // stream: a stream of the same name in another account is another stream,
  // and a record meant for one must not be one click from the other.
  var carryKey = "kinesis-console.carry", backKey = "kinesis-console.back";
  window.addEventListener("pagehide", function () { carryForm(backKey); });
  // The carried fields: their ids, and the form field names they fill.
  var carriedFields = { "data": "data", "partition-key": "partition_key", "explicit-hash-key": "explicit_hash_key", "sequence-number-for-ordering": "sequence_number_for_ordering" };

  function carryForm(key) {
    var form = byId("record-form");
    if (!form) return;
    var values = { data_format: currentFormat(form) };
    Object.keys(carriedFields).forEach(function (id) {
      var el = byId(id);
      if (el) values[carriedFields[id]] = el.value;
    });
    try { sessionStorage.setItem(key || carryKey, JSON.stringify(values)); } catch (e) { /* full or disabled */ }
  }

  function takeCarried(key) {
    var values = null;
    key = key || carryKey;
    try {
      values = JSON.parse(sessionStorage.getItem(key) || "null");
      sessionStorage.removeItem(key);
    } catch (e) { /* ignore */ }
    var form = byId("record-form");
    if (!values || !form) return false;
    Object.keys(carriedFields).forEach(function (id) {
      var el = byId(id), value = values[carriedFields[id]];
      if (el && typeof value === "string") el.value = value;
    });
    form.querySelectorAll("input[name=data_format]").forEach(function (radio) {
      if (radio.value === values.data_format) radio.checked = true;
    });
    var advanced = form.querySelector("details.advanced");
    if (advanced && (values.explicit_hash_key || values.sequence_number_for_ordering)) advanced.open = true;
    return true;
  }

  // Put what was typed before a target switch back, else the last stream,
  // before htmx starts on DOMContentLoaded (both scripts are deferred, so the
  // page is parsed by now): the summary and the shard preview then load for
  // it at once. Changing the stream after htmx started would abort those
  // first requests, which htmx logs as errors.
  (function () {
    if (takeCarried()) return;
    // Back (or Forward) to a page the browser loads anew: put back what was
    // typed when the page was left. Browsers restore some fields themselves,
    // but not those marked autocomplete=off, such as the partition key.
    var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (nav && nav.type === "back_forward" && takeCarried(backKey)) return;
    // The record form's stream, or the bulk page's: the last one written to.
    var streamInput = byId("stream") || byId("bulk-stream");
    if (!streamInput || streamInput.value) return;
    var last = null;
    try { last = localStorage.getItem(lastStreamKey); } catch (e) { /* ignore */ }
    if (last) streamInput.value = last;
  })();

  document.addEventListener("DOMContentLoaded", function () {
    var form = byId("record-form");
    if (form) refresh(form);
    renderHistory();
  });
})();

// What consumers expect: an example from the stream's schema, the shard
// picker, a link that fills the form, and personal templates kept in this
// browser. Nothing here writes: every write goes through the form.
(function () {
  "use strict";
  var maxLinkLength = 8000; // longer links are cut by some browsers and proxies
  var storeKey = "kinesis-console:templates";

  function byId(id) { return document.getElementById(id); }

  function setData(text) {
    var data = byId("data");
    if (!data) return;
    data.value = text;
    data.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // formLink is GET / with the form's fields: opening it fills the form.
  function formLink(form) {
    var params = new URLSearchParams();
    ["target", "stream", "partition_key", "data", "explicit_hash_key", "sequence_number_for_ordering"].forEach(function (name) {
      var el = form.querySelector("[name=" + name + "]");
      if (el && el.value !== "") params.set(name, el.value);
    });
    var fmt = form.querySelector("input[name=data_format]:checked");
    if (fmt && fmt.value !== "json") params.set("data_format", fmt.value);
    return location.origin + "/?" + params.toString();
  }

  function personalTemplates() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; }
  }

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!(t instanceof Element)) return;
    if (t.id === "schema-example") {
      fetch(t.getAttribute("data-url"), { headers: { "Accept": "text/plain" } }).then(function (r) {
        return r.text().then(function (body) { if (!r.ok) throw new Error(body); return body; });
      }).then(setData).catch(function (err) {
        var status = byId("data-status");
        if (status) status.textContent = "No example: " + err.message;
      });
    } else if (t.id === "copy-link") {
      var form = byId("record-form"), status = byId("copy-link-status");
      var link = formLink(form);
      if (link.length > maxLinkLength) {
        status.textContent = "The data is too long for a link (" + link.length + " characters, over " + maxLinkLength + "); the link was not copied.";
        return;
      }
      var done = function () { status.textContent = "Link copied. Opening it fills the form; it never sends."; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(link).then(done, function () { status.textContent = link; });
      } else {
        status.textContent = link;
      }
      t.setAttribute("data-link", link);
    } else if (t.id === "save-personal-template") {
      var name = (byId("personal-template-name") || {}).value || "";
      if (name.trim() === "") return;
      var all = personalTemplates();
      all[name.trim()] = formLink(byId("record-form"));
      localStorage.setItem(storeKey, JSON.stringify(all));
      listPersonal();
    } else if (t.id === "load-personal-template") {
      var pick = byId("personal-template-pick");
      var saved = personalTemplates()[pick && pick.value];
      if (saved) location.href = saved;
    }
  });

  document.addEventListener("change", function (e) {
    if (e.target && e.target.id === "shard-pick") {
      var key = byId("explicit-hash-key");
      if (!key) return;
      key.value = e.target.value;
      var details = key.closest("details");
      if (details && key.value !== "") details.open = true;
      key.dispatchEvent(new Event("input", { bubbles: true }));
    }
  });

  // listPersonal shows this browser's saved forms beside the actions.
  function listPersonal() {
    var pick = byId("personal-template-pick");
    if (!pick) return;
    pick.innerHTML = "";
    var names = Object.keys(personalTemplates()).sort();
    names.forEach(function (name) {
      var o = document.createElement("option");
      o.value = name; o.textContent = name;
      pick.appendChild(o);
    });
    // None yet: say so, rather than show an empty picker beside Open.
    if (names.length === 0) {
      var none = document.createElement("option");
      none.value = ""; none.textContent = "No saved forms yet";
      pick.appendChild(none);
    }
    pick.disabled = names.length === 0;
    var open = byId("load-personal-template");
    if (open) open.disabled = names.length === 0;
  }
  document.addEventListener("DOMContentLoaded", listPersonal);
  document.addEventListener("htmx:afterSettle", listPersonal);
})();
