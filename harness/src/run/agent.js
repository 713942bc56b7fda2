// pmconf's in-page agent. Every document of a case runs it with its own
// `window.__pmconfConfig` (built by harness/src/run/plan.rs). It creates the
// window's child frames and popups, reports every message event the moment
// it fires, runs the steps the harness asks for (through WebDriver), and
// talks to the pmconf server over HTTP, never over postMessage, so the
// control channel cannot disturb what is measured.
(function () {
  "use strict";
  var C = window.__pmconfConfig;
  var buffers = {};
  var handles = {};
  var eventUrl = new URL("/__pmconf/event", C.reportBase).href;

  // no-cors: opaque-origin documents (sandboxed, data:) can send it too.
  // `keepalive` lets the request outlive a document being replaced.
  function postAsync(url, body, keepalive) {
    return fetch(url, {
      method: "POST",
      mode: "no-cors",
      keepalive: keepalive,
      cache: "no-store",
      body: JSON.stringify(body)
    }).catch(function () {});
  }

  function send(body) {
    body.key = C.key;
    body.doc = C.doc;
    return postAsync(eventUrl, body, false);
  }

  // A message event is reported before its listener returns, with a
  // synchronous request: once the document is replaced (a navigation, a
  // removal) nothing it queued can be relied on to leave, and the harness
  // must know everything a document received before it judges the case.
  // The request is a CORS "simple" one (text/plain POST), so opaque-origin
  // documents can make it too.
  function sendNow(url, body) {
    try {
      var x = new XMLHttpRequest();
      x.open("POST", url, false);
      x.send(JSON.stringify(body));
      // An aborted request (the document's navigation cancelling its
      // loads) may return without throwing.
      if (x.status !== 204) throw new Error("status " + x.status);
    } catch (e) {
      body.fallback = String(e && e.message || e);
      try {
        postAsync(url, body, true);
      } catch (e2) {
        try { navigator.sendBeacon(url, JSON.stringify(body)); } catch (e3) { /* nothing left */ }
      }
    }
  }

  function hasLoneSurrogate(s) {
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        var n = s.charCodeAt(i + 1);
        if (n >= 0xdc00 && n <= 0xdfff) { i++; continue; }
        return true;
      }
      if (c >= 0xdc00 && c <= 0xdfff) return true;
    }
    return false;
  }

  // JavaScript value -> the tagged JSON form of model/src/message.rs.
  function encode(v) {
    if (v === undefined) return { $undefined: null };
    if (v === null) return null;
    var t = typeof v;
    if (t === "boolean") return v;
    if (t === "number") {
      if (v !== v) return { $number: "NaN" };
      if (v === Infinity) return { $number: "Infinity" };
      if (v === -Infinity) return { $number: "-Infinity" };
      if (v === 0 && 1 / v < 0) return { $number: "-0" };
      return v;
    }
    if (t === "string") {
      if (!hasLoneSurrogate(v)) return v;
      var units = [];
      for (var i = 0; i < v.length; i++) units.push(v.charCodeAt(i));
      return { $utf16: units };
    }
    if (t === "function") return { $function: v.name };
    if (t === "symbol") return { $symbol: v.description };
    var tag = Object.prototype.toString.call(v);
    if (tag === "[object ArrayBuffer]") {
      return { $buffer: { bytes: Array.prototype.slice.call(new Uint8Array(v)) } };
    }
    if (Array.isArray(v)) return v.map(encode);
    if (tag !== "[object Object]") return { $unsupported: tag };
    var out = {};
    Object.keys(v).forEach(function (k) { out[k] = encode(v[k]); });
    return out;
  }

  // Tagged JSON -> JavaScript value. Buffers with an id are one object per
  // window, so a buffer transferred once stays detached for later steps.
  function decode(j) {
    if (j === null || typeof j !== "object") return j;
    if (Array.isArray(j)) return j.map(decode);
    var keys = Object.keys(j);
    if (keys.length === 1 && keys[0].charAt(0) === "$") {
      var x = j[keys[0]];
      switch (keys[0]) {
        case "$undefined": return undefined;
        case "$number":
          return x === "NaN" ? NaN : x === "Infinity" ? Infinity : x === "-Infinity" ? -Infinity : -0;
        case "$utf16": return String.fromCharCode.apply(null, x);
        case "$buffer":
          if (x.id != null) {
            if (!buffers[x.id]) buffers[x.id] = new Uint8Array(x.bytes || []).buffer;
            return buffers[x.id];
          }
          return new Uint8Array(x.bytes || []).buffer;
        case "$function": return function pmconfFunction() {};
        case "$symbol": return Symbol(x);
      }
    }
    var o = {};
    keys.forEach(function (k) { o[k] = decode(j[k]); });
    return o;
  }

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
  var captured = {};
  function captureSourceRefs() {
    Object.keys(C.sourceRefs).forEach(function (name) {
      if (captured[name]) return;
      try { captured[name] = resolve(C.sourceRefs[name]); } catch (e) { /* not there yet */ }
    });
  }

  function identify(source) {
    if (source === null || source === undefined) return null;
    var names = Object.keys(C.sourceRefs);
    for (var i = 0; i < names.length; i++) {
      if (captured[names[i]] === source) return names[i];
    }
    // Never captured: the path as it is now.
    for (var j = 0; j < names.length; j++) {
      if (captured[names[j]]) continue;
      try {
        if (resolve(C.sourceRefs[names[j]]) === source) return names[j];
      } catch (e) { /* not reachable now */ }
    }
    // A sender this window holds no reference to: the one whose way back
    // (parent, opener, frames[i] from event.source) leads here, else by
    // elimination.
    var back = Object.keys(C.backRefs || {}).filter(function (name) {
      try { return walkFrom(source, C.backRefs[name]) === window; } catch (e) { return false; }
    });
    if (back.length === 1) return back[0];
    return C.unreachableSenders.length === 1 ? C.unreachableSenders[0] : null;
  }

  // Message events each document saw, numbered, so the server can tell a
  // lost report from a message that never came.
  var seqs = {};
  function nextSeq(doc) {
    var n = seqs[doc] || 0;
    seqs[doc] = n + 1;
    return n;
  }

  // In a race case a document can be replaced at any moment, so its
  // reports go out synchronously; otherwise an asynchronous keepalive
  // request is enough (and much faster), and the marker report says how
  // many messages came before it, so the server knows when it has them all.
  function report(url, body) {
    if (C.race) { sendNow(url, body); return; }
    postAsync(url, body, true);
  }

  function record(url, key, doc, e, markerPrefix) {
    if (typeof e.data === "string" && e.data.indexOf(markerPrefix) === 0) {
      report(url, { key: key, doc: doc, kind: "marker", from: e.data.slice(markerPrefix.length), seen: seqs[doc] || 0 });
      return;
    }
    var data;
    try { data = encode(e.data); } catch (err) { data = { $unencodable: String(err) }; }
    report(url, { key: key, doc: doc, kind: "message", seq: nextSeq(doc), delivery: { message: data, origin: e.origin, source: identify(e.source) } });
  }

  // The source of every message event of this document (markers aside),
  // in order, for replies (`reply: true` posts to event.source); and the
  // step runs waiting for one.
  var sources = [];
  var waiting = [];
  window.addEventListener("message", function (e) {
    if (!(typeof e.data === "string" && e.data.indexOf(C.markerPrefix) === 0)) {
      sources.push(e.source);
      waiting = waiting.filter(function (w) {
        if (sources.length < w.need) return true;
        w.go();
        return false;
      });
    }
    record(eventUrl, C.key, C.doc, e, C.markerPrefix);
  });
  window.addEventListener("messageerror", function (e) {
    report(eventUrl, { key: C.key, doc: C.doc, kind: "message", seq: nextSeq(C.doc), delivery: { message: { $messageerror: null }, origin: e.origin, source: identify(e.source) } });
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
      record(eventUrl, ch.key, ch.blankDoc, e, C.markerPrefix);
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
      if (!w) { send({ kind: "failure", reason: "window.open returned null for " + ch.name + " (popup blocked?)" }); return; }
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
      message = decode(s.message);
      if (s.transfer !== null) {
        transfer = s.transfer.map(function (t) {
          return t.buffer !== undefined ? buffers[t.buffer] : decode(t.value);
        });
      }
    } catch (e) {
      return { harnessError: String(e && e.stack || e) };
    }
    try {
      if (s.targetOrigin === null) {
        if (transfer !== null) target.postMessage(message, { transfer: transfer });
        else target.postMessage(message);
      } else if (transfer !== null) {
        target.postMessage(message, s.targetOrigin, transfer);
      } else {
        target.postMessage(message, s.targetOrigin);
      }
      return { threw: null };
    } catch (e) {
      return { threw: e && e.name ? e.name : String(e), message: String(e && e.message) };
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
    return s.kind === "post" ? runPost(s) : runOther(s);
  }

  // Posts an end-of-case marker to each window at the given hop paths.
  function sendMarkers(targets) {
    for (var i = 0; i < targets.length; i++) {
      try { resolve(targets[i]).postMessage(C.markerPrefix + C.name, "*"); }
      catch (e) { return { harnessError: "marker to " + JSON.stringify(targets[i]) + ": " + e }; }
    }
    return { sent: targets.length };
  }

  window.__pmconf = {
    key: C.key,
    doc: C.doc,
    // Runs the steps `indices` in this one task; then, with `markers` (a
    // list of hop paths), posts the end-of-case markers in the same task.
    run: function (indices, markers) {
      // A reply waits for the message it answers: the script call then
      // returns a promise, which WebDriver's Execute Script awaits.
      var need = 0;
      indices.forEach(function (i) {
        var st = C.steps[String(i)];
        if (st && st.replyTo !== null && st.replyTo !== undefined) need = Math.max(need, st.replyTo + 1);
      });
      if (sources.length < need) {
        var self = this;
        return new Promise(function (done) {
          waiting.push({ need: need, go: function () { setTimeout(function () { done(self.runNow(indices, markers)); }, 0); } });
        });
      }
      return this.runNow(indices, markers);
    },
    runNow: function (indices, markers) {
      captureSourceRefs();
      var results = [];
      var navigatesItself = false;
      for (var i = 0; i < indices.length; i++) {
        var st = C.steps[String(indices[i])];
        // This document is about to navigate itself: the results so far
        // go out now, while nothing can abort them.
        if (st && (st.kind === "reload" || (st.kind === "navigate" && st.via === "location" && st.target.length === 0))) {
          navigatesItself = true;
          sendNow(eventUrl, { key: C.key, doc: C.doc, kind: "steps", indices: indices.slice(0, i), results: results.slice() });
        }
        var r = runStep(indices[i]);
        results.push(r);
        if (r.harnessError !== undefined) return results;
      }
      captureSourceRefs();
      if (markers) {
        var m = sendMarkers(markers);
        if (m.harnessError !== undefined) results.push(m);
      }
      // Also to the server when a step navigated this document (a post,
      // then `location = ...`): WebDriver can lose the return value.
      if (navigatesItself) {
        sendNow(eventUrl, { key: C.key, doc: C.doc, kind: "steps", indices: indices, results: results });
      }
      return results;
    }
  };

  try {
    createChildren();
  } catch (e) {
    send({ kind: "failure", reason: "creating children of " + C.name + ": " + e });
  }
  captureSourceRefs();
  send({ kind: "ready", href: String(location.href) });
})();
