// Kinesis Console records page: the live tail, and Copy for each record.
// The tail follows the server's event stream (EventSource): "ready" once it
// reads from now on, "record" for each new record (the HTML the page itself
// renders for a record), "end" when the server stopped it. Pause keeps the
// stream open and holds new records back until Resume.
//
// This is EventSource by hand, not htmx's SSE extension (which the bulk
// page uses): every event needs more than a swap. Pause holds records back
// and shows them later, the list keeps only the newest maxShown, each event
// moves the Start/Pause/Stop buttons and the state line, and Stop closes
// the stream, which the extension cannot be told to do. And a stream the
// server refuses (429: too many tails open) must stop and say so; the
// extension would retry it forever.
(function () {
  "use strict";

  var maxShown = 500, maxHeld = 1000;
  var source = null, paused = false, held = [];

  function byId(id) { return document.getElementById(id); }

  function setState(state, text) {
    var el = byId("tail-state");
    if (!el) return;
    el.dataset.state = state;
    el.textContent = text;
  }

  function buttons(running) {
    byId("tail-start").disabled = running;
    byId("tail-pause").disabled = !running;
    byId("tail-stop").disabled = !running;
    byId("tail-pause").textContent = paused ? "Resume" : "Pause";
  }

  // show puts a record's server-rendered HTML at the top of the list.
  function show(html) {
    var list = byId("tail-records");
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    var rec = tpl.content.firstElementChild;
    if (!rec) return;
    var li = document.createElement("li");
    li.appendChild(rec);
    list.insertBefore(li, list.firstChild);
    while (list.children.length > maxShown) list.removeChild(list.lastChild);
    if (window.htmx) htmx.process(li);
  }

  function stop(text) {
    if (source) source.close();
    source = null;
    paused = false;
    held = [];
    buttons(false);
    setState("stopped", text || "Stopped.");
  }

  function start() {
    var panel = byId("tail");
    if (!panel || source) return;
    paused = false;
    held = [];
    setState("connecting", "Connecting…");
    buttons(true);
    source = new EventSource(panel.dataset.tailUrl);
    source.addEventListener("ready", function (e) { setState("live", textOf(e.data)); });
    source.addEventListener("record", function (e) {
      if (paused) {
        if (held.length < maxHeld) held.push(e.data);
        setState("paused", "Paused: " + held.length + " new records held.");
        return;
      }
      show(e.data);
    });
    source.addEventListener("end", function (e) { stop(textOf(e.data)); });
    source.addEventListener("error", function () {
      // Closed by the server without "end", or the network failed.
      if (source && source.readyState === EventSource.CLOSED) stop("The tail broke off. Start it again.");
    });
  }

  function textOf(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    return tpl.content.textContent.trim();
  }

  function togglePause() {
    paused = !paused;
    if (!paused) {
      held.forEach(show);
      held = [];
      setState("live", "Live: waiting for new records.");
    } else {
      setState("paused", "Paused: 0 new records held.");
    }
    buttons(true);
  }

  // exactText is the text a <pre> of record data stands for: its own text
  // (a CR in it is a real CR), or, when it shows control characters as
  // markers (HTML cannot carry them), the UTF-8 the server put in base64
  // in data-exact-b64.
  function exactText(pre) {
    var b64 = pre.getAttribute("data-exact-b64");
    if (b64 === null) return pre.textContent;
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TextDecoder().decode(bytes);
  }

  // recordText is a record's whole decoded text, the part past the preview
  // included, exactly: what Copy copies.
  function recordText(rec) {
    var text = exactText(rec.querySelector("[data-testid=record-data]"));
    var rest = rec.querySelector("[data-testid=record-data-rest]");
    if (rest) text += exactText(rest);
    return text;
  }

  // copyRecord copies a record's whole decoded text.
  function copyRecord(button) {
    var rec = button.closest("[data-testid=record]");
    if (!rec) return;
    var text = recordText(rec);
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () {});
  }

  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("button") : null;
    if (!t) return;
    if (t.id === "tail-start") start();
    else if (t.id === "tail-pause") togglePause();
    else if (t.id === "tail-stop") stop("Stopped.");
    else if (t.hasAttribute("data-copy-record")) copyRecord(t);
  });

  // Leaving the page ends the tail on the server too.
  window.addEventListener("pagehide", function () { if (source) source.close(); });
})();
