// pmconf's in-page agent. Every document of a case runs it with its own
// `window.__pmconfConfig` (built by harness/src/run/plan.rs), after the
// message codec (codec.js). It creates the window's child frames and
// popups, reports every message event the moment it fires, and runs the
// steps the harness sends it.
//
// It talks to the pmconf server over one WebSocket per document, the
// channel (harness/src/run/channel.rs), never over postMessage, so the
// control channel cannot disturb what is measured, and never with a
// synchronous request: nothing here spins a nested event loop.
//
// A step (or a `same_task` group of steps) arrives as a message on the
// channel and runs inside that WebSocket message event's task, in page
// script, with this page as entry and incumbent; the task's last act is
// its acknowledgement, and the harness sends the next task only after it
// (everything a task posted is queued before the acknowledgement leaves).
// `pmconf run --via webdriver` runs the same steps through WebDriver's
// Execute Script instead (`window.__pmconf.run`), for comparison.
(function () {
  "use strict";
  var C = window.__pmconfConfig;
  var buffers = {};
  var handles = {};
  // Per post step of this window: the objects its message named with `$id`
  // (`namedOfPost[step][id]`); `namedByPost` collects while a post is built.
  var namedOfPost = {};
  var namedByPost = null;
  var eventUrl = new URL("/__pmconf/event", C.reportBase).href;
  var codec = pmconfCodec({
    buffers: function () { return buffers; },
    portByName: function (name) { return ports[name]; },
    portNameOf: function (p) { return portNameOf(p); },
    // Every `$id` object a post builds, kept by post step for the
    // `sab_write` steps that write into its SharedArrayBuffers later.
    onNamed: function (id, v) { if (namedByPost !== null) namedByPost[id] = v; },
    realmWindow: function (name) {
      if (!realmPaths[name]) throw new Error("pmconf: no path to " + name + " for an Error made in its realm");
      return resolve(realmPaths[name]);
    }
  });
  // The windows whose realms make the `$error`s of the post being built
  // (a step's `realms`), by name.
  var realmPaths = {};
  var buildMessage = codec.buildMessage;
  var decodeArg = codec.decodeArg;
  var encodeReceived = codec.encodeReceived;
  var encodeReceivedAsync = codec.encodeReceivedAsync;
  var sameJson = codec.sameJson;

  // ---- The channel (harness/src/run/channel.rs) ----
  // One WebSocket per document, to the pmconf server, with the run's
  // token. Frames to the harness:
  // `hello` (this document runs the agent: the readiness a `wait: loaded`
  // waits for), `report` (a message event, a marker...), `done` (a task's
  // results). Frames from it: `task`, `reset`, `close`.
  var channel = null;
  var channelOpen = false;
  var outbox = [];
  // A host of its own under the harness's (`c1a2b3c4d.pmconf.test`): a
  // browser may open only one WebSocket to a host at a time (RFC 6455
  // section 4.1; Firefox queues the others), and a batch's documents
  // share a few hosts. `wss:` where the document is https (mixed content).
  function channelUrl() {
    var base = new URL(C.reportBase);
    var id = C.key + "\u0000" + C.doc, h = 0x811c9dc5;
    for (var i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
    return (base.protocol === "https:" ? "wss://" : "ws://") + "c" + h.toString(16) + "." + C.harnessHost +
      "/__pmconf/channel?token=" + encodeURIComponent(C.token) +
      "&key=" + encodeURIComponent(C.key) + "&doc=" + encodeURIComponent(C.doc);
  }
  function hello() {
    return { t: "hello", key: C.key, doc: C.doc, href: String(location.href) };
  }
  function tell(frame) {
    var text = JSON.stringify(frame);
    if (channelOpen) channel.send(text); else outbox.push(text);
  }
  function openChannel() {
    var ws = new WebSocket(channelUrl());
    channel = ws;
    ws.onopen = function () {
      channelOpen = true;
      ws.send(JSON.stringify(hello()));
      var queued = outbox;
      outbox = [];
      queued.forEach(function (text) { ws.send(text); });
    };
    ws.onmessage = function (e) { onCommand(JSON.parse(e.data)); };
    ws.onclose = function () { channelOpen = false; };
  }

  // Message events each document saw, numbered, so the server can tell a
  // lost report from a message that never came; and every message report
  // this agent made, sent once more (with the counts) when the document
  // goes away, in case the channel closed before they left.
  var seqs = {};
  var seqKeys = {};
  var sentReports = [];
  function nextSeq(doc) {
    var n = seqs[doc] || 0;
    seqs[doc] = n + 1;
    return n;
  }
  function report(body) {
    body.t = "report";
    if (body.kind === "message") {
      seqKeys[body.doc] = body.key;
      sentReports.push(body);
    }
    tell(body);
  }
  // A keepalive request outlives its document; a body over the
  // keepalive quota (64 KiB) sends the counts and the latest reports that
  // fit. A listener for `pagehide` (never `unload`) keeps the document
  // eligible for the back/forward cache.
  window.addEventListener("pagehide", function () {
    var counts = Object.keys(seqs).map(function (doc) { return [seqKeys[doc] || C.key, doc, seqs[doc]]; });
    var reports = sentReports.slice();
    var bye = function () {
      return JSON.stringify({ kind: "bye", key: C.key, doc: C.doc, counts: counts, reports: reports });
    };
    var body = bye();
    while (body.length > 60000 && reports.length > 0) {
      reports.shift();
      body = bye();
    }
    // On the channel while it is open, and by a keepalive request, which
    // outlives the document; the server counts each report once. (In
    // Firefox a removed out-of-process frame loses both about half the
    // time: docs/src/execution.md.)
    if (channelOpen) {
      try { channel.send(body.replace(/^\{/, '{"t":"report",')); } catch (e) { /* closing */ }
    }
    try {
      fetch(eventUrl, { method: "POST", mode: "no-cors", keepalive: true, cache: "no-store", body: body }).catch(function () {
        try { navigator.sendBeacon(eventUrl, body); } catch (e2) { /* nothing left */ }
      });
    } catch (e) {
      try { navigator.sendBeacon(eventUrl, body); } catch (e2) { /* nothing left */ }
    }
  });
  // ---- end of the channel ----

  // ---- MessagePorts (harness/src/run/ports.rs) ----
  // Every port this document holds, by the case's name; `held[name]` is
  // false once a post that returned transferred it away. The agent starts
  // every port it holds (setting onmessage) and reports what arrives on
  // it as `port NAME`, in order on the channel, so a port marker's
  // report comes after every message the port got before it.
  var ports = {};
  var held = {};
  var portWaiters = [];
  var portConfig = C.ports || { candidates: [], twins: {} };
  var usedCandidates = [];
  var portMarkersSent = false;
  var tentative = null;

  function portNameOf(p) {
    if (tentative) {
      for (var i = 0; i < tentative.objects.length; i++) {
        if (tentative.objects[i] === p) return tentative.names[i];
      }
    }
    var names = Object.keys(ports);
    for (var j = 0; j < names.length; j++) if (ports[names[j]] === p) return names[j];
    return "?";
  }


  // candidate message they make `data` equal to; `?k` when none does.
  function nameIncomingPorts(e) {
    var list = e.ports ? Array.prototype.slice.call(e.ports) : [];
    if (list.length === 0) return [];
    var names = null;
    for (var c = 0; c < portConfig.candidates.length && names === null; c++) {
      var cand = portConfig.candidates[c];
      if (usedCandidates[c] || cand.ports.length !== list.length) continue;
      tentative = { objects: list, names: cand.ports };
      var data;
      try { data = encodeReceived(e.data); } catch (err) { data = null; }
      tentative = null;
      if (sameJson(data, cand.message)) { usedCandidates[c] = true; names = cand.ports.slice(); }
    }
    if (names === null) names = list.map(function (_, k) { return "?" + k; });
    list.forEach(function (p, k) { holdPort(names[k], p); });
    return names;
  }

  // Holds `p` as this window's port `name`; starts it (setting onmessage
  // enables its port message queue) unless `start` is false, when a
  // later `port_start` step does.
  function holdPort(name, p, start) {
    ports[name] = p;
    held[name] = true;
    if (start !== false) startPort(name);
    // A port that arrives after this window sent its end-of-case markers
    // gets its marker now.
    if (portMarkersSent) {
      try { p.postMessage(C.markerPrefix + "port " + name); } catch (e) { /* detached */ }
    }
    portWaiters = portWaiters.filter(function (w) {
      if (!w.names.every(function (n) { return held[n]; })) return true;
      w.go();
      return false;
    });
  }

  function startPort(name) {
    var p = ports[name];
    p.onmessage = function (e) { onPortMessage(name, e); };
    p.onmessageerror = function (e) {
      var doc = "port " + name;
      report({ key: C.key, doc: doc, kind: "message", seq: nextSeq(doc), delivery: { message: { $messageerror: null }, origin: e.origin, source: identify(e.source) } });
    };
  }

  function onPortMessage(name, e) {
    if (typeof e.data === "string" && e.data.indexOf(C.markerPrefix) === 0) {
      reportInOrder({ key: C.key, doc: C.doc, kind: "marker", from: e.data.slice(C.markerPrefix.length), seen: seqs[C.doc] || 0 });
      return;
    }
    var names = nameIncomingPorts(e);
    var doc = "port " + name;
    reportDelivery(C.key, doc, e, names);
  }

  // ---- Values read asynchronously (Blob, File) ----
  // A message event is numbered (its seq) when it fires, so every marker
  // after it counts it (`seen`), and the harness waits for that many
  // message reports as it waits for markers (DocumentProgress in
  // harness/src/run/state.rs). A message holding a Blob is reported once
  // its bytes are read (`arrayBuffer()`, a promise: the agent never
  // blocks); every report after it, markers included, waits its turn, so
  // reports still leave in the order their events fired.
  var readsInFlight = 0;
  var reportChain = null;
  function reportInOrder(body) {
    if (readsInFlight === 0) { report(body); return; }
    reportChain = reportChain.then(function () { report(body); });
  }
  function reportDelivery(key, doc, e, names) {
    var enc;
    try { enc = encodeReceivedAsync(e.data); } catch (err) { enc = { data: { $unencodable: String(err) }, pending: null }; }
    var delivery = { message: enc.data, origin: e.origin, source: identify(e.source) };
    if (names.length) delivery.ports = names;
    var body = { key: key, doc: doc, kind: "message", seq: nextSeq(doc), delivery: delivery };
    if (enc.pending === null) { reportInOrder(body); return; }
    readsInFlight++;
    var before = reportChain || Promise.resolve();
    reportChain = Promise.all([before, enc.pending]).then(function () {
      readsInFlight--;
      report(body);
    });
  }
  // ---- end of values read asynchronously ----

  function createChannel(s) {
    var ch = new MessageChannel();
    holdPort(s.ports[0], ch.port1, s.start);
    holdPort(s.ports[1], ch.port2, s.start);
  }

  // port_start (set onmessage: "as if the start() method had been
  // called") and port_close.
  function runPortCall(s) {
    var port = ports[s.port];
    if (!port) return { harnessError: "pmconf: no port " + s.port + " in " + C.name };
    try {
      if (s.kind === "port_start") startPort(s.port);
      else { port.close(); held[s.port] = false; }
      return { threw: null };
    } catch (e) {
      return { threw: e && e.name ? e.name : String(e), message: String(e && e.message) };
    }
  }

  // The ports a transfer list (step config entries) names.
  function transferredPortNames(list) {
    var out = [];
    (list || []).forEach(function (t) {
      if (t && t.value && t.value.$port !== undefined) out.push(t.value.$port);
    });
    return out;
  }

  function runPortPost(s) {
    var port, message, transfer;
    try {
      port = ports[s.port];
      if (!port) throw new Error("pmconf: no port " + s.port + " in " + C.name);
      realmPaths = s.realms || {};
      message = buildMessage(s.message);
      transfer = s.transfer.map(function (t) { return t.buffer !== undefined ? buffers[t.buffer] : buildMessage(t.value); });
    } catch (e) {
      return { harnessError: String(e && e.stack || e) };
    }
    try {
      if (s.options) port.postMessage(message, { transfer: transfer });
      else port.postMessage(message, transfer);
    } catch (e) {
      return { threw: e && e.name ? e.name : String(e), message: String(e && e.message) };
    }
    transferredPortNames(s.transfer).forEach(function (n) { held[n] = false; });
    return { threw: null };
  }

  // The ports the steps `indices` need here before they can run: those
  // this window has no object for yet, and those the model says come
  // back to it in an earlier task's message (`awaitPorts`: until they
  // arrive, the name means this window's detached object).
  function portsNeeded(indices) {
    var out = [];
    indices.forEach(function (i) {
      var st = C.steps[String(i)];
      if (!st) return;
      var mine = [];
      if (st.kind === "port_post" || st.kind === "port_start" || st.kind === "port_close") mine.push(st.port);
      if (st.kind === "post" || st.kind === "port_post") mine = mine.concat(transferredPortNames(st.transfer));
      mine.forEach(function (n) { if (!ports[n]) out.push(n); });
      (st.awaitPorts || []).forEach(function (n) { if (!held[n]) out.push(n); });
    });
    return out;
  }

  function sendPortMarkers() {
    portMarkersSent = true;
    Object.keys(ports).forEach(function (name) {
      if (!held[name]) return;
      try { ports[name].postMessage(C.markerPrefix + "port " + name); } catch (e) { /* detached */ }
    });
  }
  // ---- end of MessagePorts ----

  function resolve(hops) {
    var w = window;
    for (var i = 0; i < hops.length; i++) {
      var h = hops[i];
      if (h[0] === "parent") w = w.parent;
      else if (h[0] === "opener") w = w.opener;
      else if (h[0] === "frame") w = w.frames[h[1]];
      else if (h[0] === "handle") w = handles[h[1]];
      if (!w) throw new Error("pmconf: no window at hop " + i + " of " + JSON.stringify(hops));
    }
    return w;
  }

  // The window `hops` lead to from `start`, taken from outside: a
  // top-level window's `parent` is itself, which counts as no parent.
  function walkFrom(start, hops) {
    var w = start;
    for (var i = 0; i < hops.length; i++) {
      var h = hops[i], next = null;
      if (h[0] === "parent") next = w.parent === w ? null : w.parent;
      else if (h[0] === "opener") next = w.opener;
      else if (h[0] === "frame") next = w.frames[h[1]];
      if (!next) throw new Error("pmconf: no way back at hop " + i);
      w = next;
    }
    return w;
  }

  // WindowProxy references to every window that may send to this one,
  // captured while the paths to them hold: when this document starts
  // (after creating its children) and after each task it runs (which may
  // create windows). A WindowProxy is one object for the life of its
  // browsing context, so identity holds across the sender's navigations,
  // and still holds when the path broke (inside a removed subtree
  // `parent` and `frames` are null; removing a frame renumbers `frames`).
  // A window this document created is taken from what holds it (its
  // iframe element, its popup handle) as soon as it exists.
  var captured = {};
  function knownNames() {
    var names = Object.keys(C.sourceRefs).concat(C.unreachableSenders, C.sendersHere || []);
    return names.filter(function (n, i) { return names.indexOf(n) === i; });
  }
  function captureSourceRefs() {
    knownNames().forEach(function (name) {
      if (captured[name]) return;
      var el = frameElement(name);
      var held = handles[name] || (el && el.contentWindow);
      if (held) { captured[name] = held; return; }
      if (!C.sourceRefs[name]) return;
      try { captured[name] = resolve(C.sourceRefs[name]); } catch (e) { /* not there yet */ }
    });
  }

  function identify(source) {
    if (source === null || source === undefined) return null;
    var names = Object.keys(captured);
    for (var i = 0; i < names.length; i++) {
      if (captured[names[i]] === source) return names[i];
    }
    // Never captured: the path as it is now.
    var paths = Object.keys(C.sourceRefs);
    for (var j = 0; j < paths.length; j++) {
      if (captured[paths[j]]) continue;
      try {
        if (resolve(C.sourceRefs[paths[j]]) === source) return paths[j];
      } catch (e) { /* not reachable now */ }
    }
    // A sender this window holds no reference to: the one whose way back
    // (parent, opener, frames[i] from event.source) leads here, else by
    // elimination (a captured window is not it).
    var back = Object.keys(C.backRefs || {}).filter(function (name) {
      if (captured[name]) return false;
      try { return walkFrom(source, C.backRefs[name]) === window; } catch (e) { return false; }
    });
    if (back.length === 1) return back[0];
    var unnamed = C.unreachableSenders.filter(function (n) { return !captured[n]; });
    if (unnamed.length === 1) return unnamed[0];
    // A WindowProxy, but none this document can name: the windows it may
    // be (those whose way back leads here, else every sender to this
    // window but the captured ones, which it is not), reported as a
    // candidate set "?a|b" (model/src/outcome.rs), never as null.
    var maybe = back.length > 1 ? back : (C.sendersHere || []).filter(function (n) { return !captured[n]; });
    if (maybe.length === 1) return maybe[0];
    return C.unidentifiedSource + maybe.join("|");
  }

  // Message events each document saw, numbered, so the server can tell a

  function record(key, doc, e) {
    if (typeof e.data === "string" && e.data.indexOf(C.markerPrefix) === 0) {
      reportInOrder({ key: key, doc: doc, kind: "marker", from: e.data.slice(C.markerPrefix.length), seen: seqs[doc] || 0 });
      return;
    }
    var names = nameIncomingPorts(e);
    reportDelivery(key, doc, e, names);
  }

  // The source of every message event of this document (markers aside),
  // in order, for replies (`reply: true` posts to event.source); and the
  // step runs waiting for one.
  var sources = [];
  var waiting = [];

  // ---- Epochs (harness/src/run/reuse.rs) ----
  // A reused window serves one case after another; each case is an epoch
  // (its page-key prefix). When a window is reset for a new case it posts
  // an epoch marker to every scripted window of the slot. A message event
  // counts for the epoch its source was in when it posted: the one the
  // source's last epoch marker here named, else the epoch this document
  // was born in (tasks from one source to one target keep their order).
  var EPOCH_TAG = "\u0000epoch ";
  function epochOfKey(key) { return key.slice(0, key.lastIndexOf("/")); }
  var epoch = epochOfKey(C.key);
  var bornEpoch = epoch;
  var pastEpochs = {};
  var sourceEpochs = new Map();
  var early = [];
  function isEpochMarker(e) {
    return typeof e.data === "string" && e.data.indexOf(C.markerPrefix + EPOCH_TAG) === 0;
  }
  // "now", "late" (an earlier epoch: not this case's) or "early" (an
  // epoch this document has not been reset to yet).
  function epochOfEvent(e) {
    var from = e.source && sourceEpochs.has(e.source) ? sourceEpochs.get(e.source) : bornEpoch;
    if (from === epoch) return "now";
    return pastEpochs[from] ? "late" : "early";
  }
  // Handles an event in its sender's epoch: drops a late one (reported
  // as such, for diagnosis), keeps an early one until the reset.
  function inEpoch(e, handle) {
    var when = epochOfEvent(e);
    if (when === "now") { handle(e); return; }
    if (when === "early") { early.push(function () { inEpoch(e, handle); }); return; }
    report({ key: C.key, doc: C.doc, kind: "late" });
  }
  // ---- end of epochs ----

  window.addEventListener("message", function (e) {
    if (isEpochMarker(e)) {
      sourceEpochs.set(e.source, e.data.slice((C.markerPrefix + EPOCH_TAG).length));
      return;
    }
    inEpoch(e, onMessage);
  });
  function onMessage(e) {
    if (!(typeof e.data === "string" && e.data.indexOf(C.markerPrefix) === 0)) {
      sources.push(e.source);
      waiting = waiting.filter(function (w) {
        if (sources.length < w.need) return true;
        w.go();
        return false;
      });
    }
    record(C.key, C.doc, e);
  }
  window.addEventListener("messageerror", function (e) {
    inEpoch(e, function (e) {
      report({ key: C.key, doc: C.doc, kind: "message", seq: nextSeq(C.doc), delivery: { message: { $messageerror: null }, origin: e.origin, source: identify(e.source) } });
    });
  });

  function inject(w, js) {
    var d = w.document;
    var s = d.createElement("script");
    s.textContent = js;
    (d.head || d.documentElement).appendChild(s);
  }

  function frameElement(name) {
    return document.querySelector('iframe[data-pmconf="' + name + '"]');
  }

  // The initial about:blank document of a window this one creates has
  // this document's origin, so a listener can be added to it from here, in
  // the task that creates it. If the first load later reuses the Window
  // (same origin), the listener stays, so it reports only while the
  // initial document is still the window's document.
  function watchInitialDocument(w, ch) {
    var initial;
    try { initial = w.document; } catch (e) { return; }
    w.addEventListener("message", function (e) {
      try { if (w.document !== initial) return; } catch (err) { return; }
      record(ch.key, ch.blankDoc, e);
    });
  }

  function createChild(ch) {
    if (ch.kind === "iframe") {
      var f = document.createElement("iframe");
      f.setAttribute("data-pmconf", ch.name);
      if (ch.sandbox !== null) f.setAttribute("sandbox", ch.sandbox);
      if (ch.srcdoc !== null) f.srcdoc = ch.srcdoc;
      else if (ch.dataHtml !== null) f.src = "data:text/html;charset=utf-8," + encodeURIComponent(ch.dataHtml);
      else if (ch.src !== null) f.src = new URL(ch.pagePath, ch.src).href;
      // about:blank: no src at all, so the initial about:blank document
      // stays (no navigation that could replace it), and the agent is
      // injected into it.
      document.body.appendChild(f);
      if (ch.inject !== null) inject(f.contentWindow, ch.inject);
      else if (ch.blankDoc !== null) watchInitialDocument(f.contentWindow, ch);
    } else {
      var url = ch.src !== null ? new URL(ch.pagePath, ch.src).href : "";
      var w = window.open(url, "_blank");
      if (!w) { report({ key: C.key, doc: C.doc, kind: "failure", reason: "window.open returned null for " + ch.name + " (popup blocked?)" }); return; }
      handles[ch.name] = w;
      if (ch.inject !== null) inject(w, ch.inject);
      else if (ch.blankDoc !== null) watchInitialDocument(w, ch);
    }
  }

  function createChildren() {
    C.children.forEach(createChild);
  }


  function runPost(s) {
    var target, message, transfer = null;
    try {
      if (s.replyTo !== null && s.replyTo !== undefined) {
        target = sources[s.replyTo];
        if (target === undefined) throw new Error("pmconf: no message event " + s.replyTo + " to reply to");
      } else {
        target = resolve(s.target);
      }
      realmPaths = s.realms || {};
      message = buildMessage(s.message);
      if (s.transfer !== null) {
        transfer = s.transfer.map(function (t) {
          return t.buffer !== undefined ? buffers[t.buffer] : buildMessage(t.value);
        });
      }
    } catch (e) {
      return { harnessError: String(e && e.stack || e) };
    }
    // The ports the call transfers (as its arguments resolve) are no
    // longer held here once it returns.
    var shipped = function (r) {
      if (r.threw === null) (s.shipsPorts || []).forEach(function (n) { held[n] = false; });
      return r;
    };
    if (s.functionOf) return shipped(crossWindowCall(s, target, message, transfer));
    if (s.form && s.form.kind === "args") return shipped(postWithArgs(target, s.form.args));
    if (s.form && s.form.kind === "options") return shipped(postWithOptions(target, message, s.targetOrigin, transfer));
    try {
      if (s.targetOrigin === null) {
        if (transfer !== null) target.postMessage(message, { transfer: transfer });
        else target.postMessage(message);
      } else if (transfer !== null) {
        target.postMessage(message, s.targetOrigin, transfer);
      } else {
        target.postMessage(message, s.targetOrigin);
      }
      transferredPortNames(s.transfer).forEach(function (n) { held[n] = false; });
      return { threw: null };
    } catch (e) {
      return { threw: e && e.name ? e.name : String(e), message: String(e && e.message) };
    }
  }

  // A cross-window call (a post's `function_of`): another window's
  // postMessage function, read from that same origin-domain window, called
  // with the target as `this`, in any call form. What it throws is
  // reported with the window whose realm made it (`SyntaxError@name`):
  // a DOMException's prototype chain ends in its realm's Error.prototype,
  // so `instanceof W.Error` tells the realm apart for every exception.
  function crossWindowCall(s, target, message, transfer) {
    var w, fn, args;
    try {
      w = resolve(s.functionOf.path);
      fn = w.postMessage;
      if (s.form && s.form.kind === "args") {
        args = s.form.args.map(function (a, i) { return i === 0 ? buildMessage(a) : decodeArg(a); });
      } else if (s.form && s.form.kind === "options") {
        var options = {};
        if (s.targetOrigin !== null) options.targetOrigin = s.targetOrigin;
        if (transfer !== null) options.transfer = transfer;
        args = [message, options];
      } else if (s.targetOrigin === null) {
        args = transfer !== null ? [message, { transfer: transfer }] : [message];
      } else {
        args = transfer !== null ? [message, s.targetOrigin, transfer] : [message, s.targetOrigin];
      }
    } catch (e) {
      return { harnessError: String(e && e.stack || e) };
    }
    try {
      Function.prototype.apply.call(fn, target, args);
      transferredPortNames(s.transfer).forEach(function (n) { held[n] = false; });
      return { threw: null };
    } catch (e) {
      var realm = "?";
      try {
        if (e instanceof w.Error) realm = s.functionOf.name;
        else if (e instanceof window.Error) realm = C.name;
      } catch (err) { /* leave it unknown */ }
      var r = threwResult(e);
      r.threw = r.threw + "@" + realm;
      return r;
    }
  }

  // Call forms (a post's `options` and `args`).

  function threwResult(e) {
    return { threw: e && e.name ? e.name : String(e), message: String(e && e.message) };
  }

  // postMessage(...args): exactly this many arguments, in this order.
  function postWithArgs(target, rawArgs) {
    var args, fn;
    try {
      args = rawArgs.map(function (a, i) { return i === 0 ? buildMessage(a) : decodeArg(a); });
      fn = target.postMessage;
    } catch (e) {
      return { harnessError: String(e && e.stack || e) };
    }
    try {
      Function.prototype.apply.call(fn, target, args);
      return { threw: null };
    } catch (e) {
      return threwResult(e);
    }
  }

  // postMessage(message, {targetOrigin, transfer}), each member written
  // only when the case gives it, as a page would.
  function postWithOptions(target, message, targetOrigin, transfer) {
    var options = {};
    if (targetOrigin !== null) options.targetOrigin = targetOrigin;
    if (transfer !== null) options.transfer = transfer;
    try {
      target.postMessage(message, options);
      return { threw: null };
    } catch (e) {
      return threwResult(e);
    }
  }

  // Runs any other step; returns {threw: null} or what it threw.
  function runOther(s) {
    var el;
    try {
      switch (s.kind) {
        case "navigate":
          if (s.via === "src") {
            el = frameElement(s.name);
            if (!el) return { harnessError: "no iframe element for " + s.name };
            el.src = s.url;
          } else {
            resolve(s.target).location.href = s.url;
          }
          break;
        case "reload": location.reload(); break;
        case "remove":
          el = frameElement(s.name);
          if (!el) return { harnessError: "no iframe element for " + s.name };
          el.remove();
          break;
        case "close":
          if (!handles[s.name]) return { harnessError: "no handle for popup " + s.name };
          handles[s.name].close();
          break;
        case "push_state": history.pushState(null, "", "?pushed"); break;
        case "fragment": location.hash = s.fragment; break;
        case "set_domain": document.domain = s.domain; break;
        case "create": createChild(s.child); break;
        case "channel": createChannel(s); break;
        default: return { harnessError: "unknown step kind " + s.kind };
      }
      return { threw: null };
    } catch (e) {
      return { threw: e && e.name ? e.name : String(e), message: String(e && e.message) };
    }
  }

  function runStep(i) {
    var s = C.steps[String(i)];
    if (!s) return { harnessError: "step " + i + " is not this window's (" + C.name + ")" };
    if (s.kind === "port_post") return runPortPost(s);
    if (s.kind === "port_start" || s.kind === "port_close") return runPortCall(s);
    if (s.kind === "sab_write") return runSabWrite(s);
    if (s.kind !== "post") return runOther(s);
    namedByPost = {};
    try { return runPost(s); } finally { namedOfPost[String(i)] = namedByPost; namedByPost = null; }
  }

  // sab_write: `new Uint8Array(sab).set(bytes, offset)` into the
  // SharedArrayBuffer this window's post step `s.post` made as `s.sab`.
  // A plain write: the receiver shares this agent (one thread), so no
  // Atomics are needed for it to see the bytes in a later task.
  function runSabWrite(s) {
    var sab = (namedOfPost[String(s.post)] || {})[s.sab];
    if (sab === undefined) return { harnessError: "pmconf: step " + s.post + " made no object named " + s.sab + " in " + C.name };
    try {
      new Uint8Array(sab).set(s.bytes, s.offset);
      return { threw: null };
    } catch (e) {
      return threwResult(e);
    }
  }

  // Posts an end-of-case marker to each window at the given hop paths.
  function sendMarkers(targets) {
    for (var i = 0; i < targets.length; i++) {
      try { resolve(targets[i]).postMessage(C.markerPrefix + C.name, "*"); }
      catch (e) { return { harnessError: "marker to " + JSON.stringify(targets[i]) + ": " + e }; }
    }
    return { sent: targets.length };
  }


  // Whether step `st` navigates this document itself (the task's
  // acknowledgement must leave before the navigation starts).
  function navigatesItself(st) {
    return st && (st.kind === "reload" || (st.kind === "navigate" && st.via === "location" && st.target.length === 0));
  }

  // Runs the steps `indices` in this one task; then, with `markers` (a
  // list of hop paths), posts the end-of-case markers in the same task.
  // `beforeSelfNavigation(results)` is called with the results so far
  // (the navigating step counted as returned) just before a step that
  // navigates this document, when nothing follows it in the task.
  function runNow(indices, markers, beforeSelfNavigation) {
    captureSourceRefs();
    var results = [];
    for (var i = 0; i < indices.length; i++) {
      var st = C.steps[String(indices[i])];
      if (navigatesItself(st) && i === indices.length - 1 && !markers) {
        beforeSelfNavigation(results.concat([{ threw: null }]));
      }
      var r = runStep(indices[i]);
      results.push(r);
      if (r.harnessError !== undefined) return results;
    }
    captureSourceRefs();
    if (markers) {
      var m = sendMarkers(markers);
      if (m.harnessError !== undefined) results.push(m);
      sendPortMarkers();
    }
    return results;
  }

  // The ports the steps `indices` still wait for, and how many message
  // events (for a reply) must have come first.
  function needs(indices) {
    var need = 0;
    indices.forEach(function (i) {
      var st = C.steps[String(i)];
      if (st && st.replyTo !== null && st.replyTo !== undefined) need = Math.max(need, st.replyTo + 1);
    });
    return { ports: portsNeeded(indices), messages: need };
  }

  function runnable(indices) {
    var n = needs(indices);
    return n.ports.length === 0 && sources.length >= n.messages;
  }

  // Calls `go` once the steps `indices` can run here: the ports they use
  // have arrived, and the message a reply answers has come. Waiting ends
  // in a task of its own (a timer's), after the event that ended it.
  function whenRunnable(indices, go) {
    var n = needs(indices);
    if (n.ports.length) {
      portWaiters.push({ names: n.ports, go: function () { setTimeout(function () { whenRunnable(indices, go); }, 0); } });
      return;
    }
    if (sources.length < n.messages) {
      waiting.push({ need: n.messages, go: function () { setTimeout(go, 0); } });
      return;
    }
    go();
  }

  // Makes this document serve another case (a reused window): the new
  // configuration, fresh per-case state, then an epoch marker to each
  // window at the hop paths `targets` (every scripted window of the slot).
  function reset(config, targets) {
    pastEpochs[epoch] = true;
    C = config;
    epoch = epochOfKey(C.key);
    eventUrl = new URL("/__pmconf/event", C.reportBase).href;
    portConfig = C.ports || { candidates: [], twins: {} };
    buffers = {}; handles = {}; ports = {}; held = {}; portWaiters = []; namedOfPost = {};
    usedCandidates = []; portMarkersSent = false;
    captured = {}; seqs = {}; seqKeys = {}; sentReports = []; sources = []; waiting = [];
    window.__pmconf.key = C.key;
    window.__pmconf.doc = C.doc;
    captureSourceRefs();
    for (var i = 0; i < targets.length; i++) {
      try { resolve(targets[i]).postMessage(C.markerPrefix + EPOCH_TAG + epoch, "*"); }
      catch (e) { return { harnessError: "epoch marker to " + JSON.stringify(targets[i]) + ": " + e }; }
    }
    var now = early;
    early = [];
    now.forEach(function (go) { go(); });
    return { epoch: epoch };
  }

  // What the harness sends on the channel.
  function onCommand(m) {
    if (m.t === "task") {
      whenRunnable(m.steps, function () {
        var acked = false;
        var results = runNow(m.steps, m.markers, function (soFar) {
          acked = true;
          tell({ t: "done", id: m.id, results: soFar });
        });
        if (!acked) tell({ t: "done", id: m.id, results: results });
      });
    } else if (m.t === "reset") {
      // Through the agent's object, the one entry point both paths share
      // (reuse_in_browsers wraps it to post from a frame in the reset's
      // own task).
      var r = window.__pmconf.reset(m.config, m.targets);
      // Named for the new case before the harness hears it is done.
      tell(hello());
      tell({ t: "done", id: m.id, results: r });
    } else if (m.t === "close") {
      window.close();
    } else {
      tell({ t: "done", id: m.id, results: { harnessError: "unknown command " + JSON.stringify(m.t) } });
    }
  }

  // The same steps through WebDriver's Execute Script (`--via
  // webdriver`): returns the results, or a promise of them when the steps
  // wait for a port or a message. A step that navigates this document can
  // lose the script's return value, so the results so far also go to the
  // channel just before it.
  window.__pmconf = {
    key: C.key,
    doc: C.doc,
    reset: reset,
    run: function (indices, markers) {
      var now = function () {
        var results = runNow(indices, markers, function (soFar) {
          report({ key: C.key, doc: C.doc, kind: "steps", indices: indices, results: soFar });
        });
        var navigates = indices.some(function (i) { return navigatesItself(C.steps[String(i)]); });
        if (navigates) report({ key: C.key, doc: C.doc, kind: "steps", indices: indices, results: results });
        return results;
      };
      if (runnable(indices)) return now();
      return new Promise(function (done) { whenRunnable(indices, function () { done(now()); }); });
    }
  };

  openChannel();
  try {
    createChildren();
  } catch (e) {
    report({ key: C.key, doc: C.doc, kind: "failure", reason: "creating children of " + C.name + ": " + e });
  }
  captureSourceRefs();
})();
