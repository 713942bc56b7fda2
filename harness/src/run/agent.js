// pmconf's in-page agent. Every window of a case runs it with its own
// `window.__pmconfConfig` (built by harness/src/run/plan.rs). It creates the
// window's child frames and popups, records every message event, runs the
// post steps the harness asks for (through WebDriver), and reports to the
// pmconf server over HTTP, never over postMessage, so the control channel
// cannot disturb what is measured.
(function () {
  "use strict";
  var C = window.__pmconfConfig;
  var received = [];
  var markersSeen = {};
  var reported = false;
  var buffers = {};
  var handles = {};
  var eventUrl = new URL("/__pmconf/event", C.reportBase).href;

  function send(body) {
    body.key = C.key;
    // no-cors: opaque-origin documents (sandboxed, data:) can send it too.
    return fetch(eventUrl, {
      method: "POST",
      mode: "no-cors",
      cache: "no-store",
      body: JSON.stringify(body)
    }).catch(function () {});
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

  function identify(source) {
    if (source === null || source === undefined) return null;
    var names = Object.keys(C.sourceRefs);
    for (var i = 0; i < names.length; i++) {
      try {
        if (resolve(C.sourceRefs[names[i]]) === source) return names[i];
      } catch (e) { /* not reachable now */ }
    }
    // A sender this window holds no reference to: name it by elimination.
    return C.unreachableSenders.length === 1 ? C.unreachableSenders[0] : null;
  }

  function maybeReport() {
    if (reported) return;
    for (var i = 0; i < C.expectMarkers.length; i++) {
      if (!markersSeen[C.expectMarkers[i]]) return;
    }
    reported = true;
    send({ kind: "report", received: received });
  }

  window.addEventListener("message", function (e) {
    if (typeof e.data === "string" && e.data.indexOf(C.markerPrefix) === 0) {
      markersSeen[e.data.slice(C.markerPrefix.length)] = true;
      maybeReport();
      return;
    }
    var data;
    try { data = encode(e.data); } catch (err) { data = { $unencodable: String(err) }; }
    received.push({ message: data, origin: e.origin, source: identify(e.source) });
  });
  window.addEventListener("messageerror", function (e) {
    received.push({ message: { $messageerror: null }, origin: e.origin, source: identify(e.source) });
  });

  function inject(w, js) {
    var d = w.document;
    var s = d.createElement("script");
    s.textContent = js;
    (d.head || d.documentElement).appendChild(s);
  }

  function createChildren() {
    C.children.forEach(function (ch) {
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
      } else {
        var url = ch.src !== null ? new URL(ch.pagePath, ch.src).href : "";
        var w = window.open(url, "_blank");
        if (!w) { send({ kind: "failure", reason: "window.open returned null for " + ch.name + " (popup blocked?)" }); return; }
        handles[ch.name] = w;
        if (ch.inject !== null) inject(w, ch.inject);
      }
    });
  }

  // Runs one post step; returns {threw: name|null} or {harnessError}.
  function runStep(i) {
    var s = C.steps[String(i)];
    var target, message, transfer = null;
    try {
      target = resolve(s.target);
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

  // Posts this window's end-of-case marker to every window it can reach.
  function sendMarkers() {
    for (var i = 0; i < C.markerTargets.length; i++) {
      try { resolve(C.markerTargets[i]).postMessage(C.markerPrefix + C.name, "*"); }
      catch (e) { return { harnessError: "marker to " + JSON.stringify(C.markerTargets[i]) + ": " + e }; }
    }
    return { sent: C.markerTargets.length };
  }

  window.__pmconf = {
    key: C.key,
    // Runs step i; with `thenMarkers`, this was the window's last step and
    // its markers follow at once (one WebDriver call, not two).
    step: function (i, thenMarkers) {
      var result = runStep(i);
      if (thenMarkers && result.harnessError === undefined) {
        var m = sendMarkers();
        if (m.harnessError !== undefined) return m;
      }
      return result;
    }
  };

  try {
    createChildren();
  } catch (e) {
    send({ kind: "failure", reason: "creating children of " + C.name + ": " + e });
  }
  send({ kind: "ready", href: String(location.href) });
  maybeReport();
})();
