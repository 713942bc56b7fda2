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

  // ---- MessagePorts (harness/src/run/ports.rs) ----
  // Every port this document holds, by the case's name; `held[name]` is
  // false once a post that returned transferred it away. The agent starts
  // every port it holds (setting onmessage) and reports what arrives on
  // it as `port NAME`, synchronously, so a port marker's report comes
  // after every message the port got before it.
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

  function sameJson(a, b) {
    if (a === b) return true;
    if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    var ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (var i = 0; i < ka.length; i++) {
      if (!Object.prototype.hasOwnProperty.call(b, ka[i]) || !sameJson(a[ka[i]], b[ka[i]])) return false;
    }
    return true;
  }

  // Names the ports of a message event (event.ports) by the first unused
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

  function holdPort(name, p) {
    ports[name] = p;
    held[name] = true;
    p.onmessage = function (e) { onPortMessage(name, e); };
    // A port that arrives after this window sent its end-of-case markers
    // gets its marker now.
    if (portMarkersSent) {
      try { p.postMessage(C.markerPrefix + "port " + name); } catch (e) { /* detached */ }
    }
    p.onmessageerror = function (e) {
      var doc = "port " + name;
      sendNow(eventUrl, { key: C.key, doc: doc, kind: "message", seq: nextSeq(doc), delivery: { message: { $messageerror: null }, origin: e.origin, source: identify(e.source) } });
    };
    portWaiters = portWaiters.filter(function (w) {
      if (!w.names.every(function (n) { return held[n]; })) return true;
      w.go();
      return false;
    });
  }

  function onPortMessage(name, e) {
    if (typeof e.data === "string" && e.data.indexOf(C.markerPrefix) === 0) {
      sendNow(eventUrl, { key: C.key, doc: C.doc, kind: "marker", from: e.data.slice(C.markerPrefix.length), seen: seqs[C.doc] || 0 });
      return;
    }
    var names = nameIncomingPorts(e);
    var data;
    try { data = encodeReceived(e.data); } catch (err) { data = { $unencodable: String(err) }; }
    var doc = "port " + name;
    var delivery = { message: data, origin: e.origin, source: identify(e.source) };
    if (names.length) delivery.ports = names;
    sendNow(eventUrl, { key: C.key, doc: doc, kind: "message", seq: nextSeq(doc), delivery: delivery });
  }

  function createChannel(s) {
    var ch = new MessageChannel();
    holdPort(s.ports[0], ch.port1);
    holdPort(s.ports[1], ch.port2);
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
      message = buildMessage(s.message);
      transfer = s.transfer.map(function (t) { return t.buffer !== undefined ? buffers[t.buffer] : buildMessage(t.value); });
    } catch (e) {
      return { harnessError: String(e && e.stack || e) };
    }
    try {
      port.postMessage(message, transfer);
    } catch (e) {
      return { threw: e && e.name ? e.name : String(e), message: String(e && e.message) };
    }
    transferredPortNames(s.transfer).forEach(function (n) { held[n] = false; });
    return { threw: null };
  }

  // The ports the steps `indices` need here before they can run.
  function portsNeeded(indices) {
    var out = [];
    indices.forEach(function (i) {
      var st = C.steps[String(i)];
      if (!st) return;
      if (st.kind === "port_post") out.push(st.port);
      if (st.kind === "post" || st.kind === "port_post") out = out.concat(transferredPortNames(st.transfer));
    });
    return out.filter(function (n) { return !ports[n]; });
  }

  function sendPortMarkers() {
    portMarkersSent = true;
    Object.keys(ports).forEach(function (name) {
      if (!held[name]) return;
      try { ports[name].postMessage(C.markerPrefix + "port " + name); } catch (e) { /* detached */ }
    });
  }
  // ---- end of MessagePorts ----

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

  // ---- Message values (model/src/message.rs, model/src/structured_clone/) ----

  function isObjectValue(v) {
    return (typeof v === "object" && v !== null) || typeof v === "function";
  }

  function encodePrimitive(v) {
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
    if (t === "bigint") return { $bigint: v.toString() };
    if (t === "symbol") return { $symbol: v.description };
    return { $unsupported: t };
  }

  // A data property, even for keys like "__proto__".
  function putOwn(o, k, v) {
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  }

  function isArrayIndex(k) {
    return String(k >>> 0) === k && (k >>> 0) !== 4294967295;
  }

  function classOf(v) {
    return Object.prototype.toString.call(v).slice(8, -1);
  }

  var TYPED_ARRAYS = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
    "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];

  // The values directly inside a received object, in the order the model's
  // `children` walks them (model/src/structured_clone/mod.rs).
  function receivedChildren(v) {
    var c = classOf(v), out = [];
    if (c === "Array") {
      for (var i = 0; i < v.length; i++) if (Object.prototype.hasOwnProperty.call(v, i)) out.push(v[i]);
      Object.keys(v).forEach(function (k) { if (!isArrayIndex(k)) out.push(v[k]); });
    } else if (c === "Object") {
      Object.keys(v).forEach(function (k) { out.push(v[k]); });
    } else if (c === "Map") {
      v.forEach(function (val, key) { out.push(key, val); });
    } else if (c === "Set") {
      v.forEach(function (val) { out.push(val); });
    } else if (c === "DataView" || TYPED_ARRAYS.indexOf(c) >= 0) {
      out.push(v.buffer);
    }
    return out;
  }

  // event.data -> the tagged JSON form, identity included: an object met
  // more than once gets `$id: oN` where first met and `{$ref: oN}` after.
  function encodeReceived(root) {
    var count = new Map();
    (function walk(v) {
      if (!isObjectValue(v)) return;
      var n = (count.get(v) || 0) + 1;
      count.set(v, n);
      if (n === 1) receivedChildren(v).forEach(walk);
    })(root);
    var names = new Map();
    function enc(v) {
      if (!isObjectValue(v)) return encodePrimitive(v);
      var id = null;
      if (count.get(v) > 1) {
        if (names.has(v)) return { $ref: names.get(v) };
        id = "o" + (names.size + 1);
        names.set(v, id);
      }
      return encodeObject(v, id, enc);
    }
    return enc(root);
  }

  function encodeObject(v, id, enc) {
    var out = {};
    if (id !== null) out.$id = id;
    var c = classOf(v);
    if (typeof v === "function") { out.$function = v.name; return out; }
    if (c === "Array") {
      var items = [];
      for (var i = 0; i < v.length; i++) {
        items.push(Object.prototype.hasOwnProperty.call(v, i) ? enc(v[i]) : { $hole: null });
      }
      var extra = Object.keys(v).filter(function (k) { return !isArrayIndex(k); });
      if (id === null && extra.length === 0) return items;
      out.$array = items;
      extra.forEach(function (k) { putOwn(out, k, enc(v[k])); });
      return out;
    }
    if (c === "Object") {
      Object.keys(v).forEach(function (k) { putOwn(out, k, enc(v[k])); });
      return out;
    }
    if (c === "Map") {
      var entries = [];
      v.forEach(function (val, key) { var k = enc(key); entries.push([k, enc(val)]); });
      out.$map = entries;
      return out;
    }
    if (c === "Set") {
      var vals = [];
      v.forEach(function (val) { vals.push(enc(val)); });
      out.$set = vals;
      return out;
    }
    if (c === "MessagePort") { out.$port = portNameOf(v); return out; }
    if (c === "SharedArrayBuffer") {
      out.$sab = { bytes: Array.prototype.slice.call(new Uint8Array(v)) };
      return out;
    }
    if (c === "ArrayBuffer") {
      out.$buffer = { bytes: Array.prototype.slice.call(new Uint8Array(v)) };
      return out;
    }
    if (c === "DataView") {
      out.$dataview = { buffer: enc(v.buffer), offset: v.byteOffset, length: v.byteLength };
      return out;
    }
    if (TYPED_ARRAYS.indexOf(c) >= 0) {
      out.$typed = { type: c, buffer: enc(v.buffer), offset: v.byteOffset, length: v.length };
      return out;
    }
    if (c === "Date") { out.$date = encodePrimitive(v.getTime()); return out; }
    if (c === "RegExp") { out.$regexp = { source: v.source, flags: v.flags }; return out; }
    if (c === "Boolean") { out.$boxed = { boolean: Boolean.prototype.valueOf.call(v) }; return out; }
    if (c === "Number") { out.$boxed = { number: encodePrimitive(Number.prototype.valueOf.call(v)) }; return out; }
    if (c === "String") { out.$boxed = { string: encodePrimitive(String.prototype.valueOf.call(v)) }; return out; }
    if (c === "BigInt") { out.$boxed = { bigint: BigInt.prototype.toString.call(v) }; return out; }
    if (c === "Error") {
      var e = { name: String(v.name) };
      if (Object.prototype.hasOwnProperty.call(v, "message")) e.message = String(v.message);
      out.$error = e;
      return out;
    }
    out.$unsupported = c;
    return out;
  }

  var NATIVE_ERRORS = ["Error", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError"];

  function makeException(name) {
    if (NATIVE_ERRORS.indexOf(name) >= 0) return new window[name]("pmconf getter");
    var e = new Error("pmconf getter");
    e.name = name;
    return e;
  }

  function isTag(j, tag) {
    return j !== null && typeof j === "object" && !Array.isArray(j) && Object.prototype.hasOwnProperty.call(j, tag);
  }

  function decodeNumber(x) {
    if (isTag(x, "$number")) {
      var n = x.$number;
      return n === "NaN" ? NaN : n === "Infinity" ? Infinity : n === "-Infinity" ? -Infinity : -0;
    }
    return x;
  }

  function buildBuffer(x) {
    if (x.id != null) {
      if (!buffers[x.id]) buffers[x.id] = new Uint8Array(x.bytes || []).buffer;
      return buffers[x.id];
    }
    return new Uint8Array(x.bytes || []).buffer;
  }

  // Tagged JSON -> JavaScript value, built exactly as written: `$id`
  // objects once per message (a `$ref` met first builds them), buffers
  // with an id once per window (a buffer transferred once stays detached).
  function buildMessage(root) {
    var defs = {}, bufferDefs = {}, named = {};
    (function collect(j) {
      if (j === null || typeof j !== "object") return;
      if (Array.isArray(j)) { j.forEach(collect); return; }
      if (typeof j.$id === "string") defs[j.$id] = j;
      if (isTag(j, "$buffer") && j.$buffer && j.$buffer.id != null) bufferDefs[j.$buffer.id] = j.$buffer;
      Object.keys(j).forEach(function (k) { collect(j[k]); });
    })(root);

    function ref(name) {
      if (named[name] !== undefined) return named[name];
      if (defs[name] !== undefined) return build(defs[name]);
      if (bufferDefs[name] !== undefined) return buildBuffer(bufferDefs[name]);
      if (buffers[name] !== undefined) return buffers[name];
      throw new Error("pmconf: no object named " + name);
    }

    function define(o, k, j, enumerable) {
      if (isTag(j, "$throwing_getter")) {
        Object.defineProperty(o, k, {
          get: function () { throw makeException(j.$throwing_getter); },
          enumerable: enumerable, configurable: true
        });
      } else {
        Object.defineProperty(o, k, { value: build(j), writable: true, enumerable: enumerable, configurable: true });
      }
    }

    function fillArray(a, items) {
      a.length = items.length;
      items.forEach(function (it, i) { if (!isTag(it, "$hole")) define(a, String(i), it, true); });
    }

    function fillProps(o, j) {
      Object.keys(j).forEach(function (k) { if (k.charAt(0) !== "$") define(o, k, j[k], true); });
    }

    function fillHidden(o, j) {
      var ne = j.$non_enumerable, sk = j.$symbol_keyed;
      if (ne) Object.keys(ne).forEach(function (k) { define(o, k, ne[k], false); });
      if (sk) Object.keys(sk).forEach(function (k) { define(o, Symbol(k), sk[k], true); });
    }

    function view(x, make) {
      var b = typeof x.buffer === "string" ? ref(x.buffer) : build(x.buffer);
      return make(b, x.offset || 0, x.length);
    }

    function leaf(tag, x) {
      switch (tag) {
        case "$undefined": return undefined;
        case "$number": return decodeNumber({ $number: x });
        case "$utf16": return String.fromCharCode.apply(null, x);
        case "$buffer": return buildBuffer(x);
        case "$function": return function pmconfFunction() {};
        case "$symbol": return Symbol(x);
        case "$bigint": return BigInt(x);
        case "$date": return new Date(decodeNumber(x));
        case "$regexp": return new RegExp(x.source || "", x.flags || "");
        case "$boxed":
          if ("boolean" in x) return new Boolean(x.boolean);
          if ("number" in x) return new Number(decodeNumber(x.number));
          if ("string" in x) return new String(build(x.string));
          if ("bigint" in x) return Object(BigInt(x.bigint));
          return Object(Symbol(x.symbol));
        case "$error": {
          var Ctor = window[x.constructor || "Error"];
          var e = "message" in x ? new Ctor(x.message) : new Ctor();
          if (x.name !== undefined && x.name !== (x.constructor || "Error")) e.name = x.name;
          return e;
        }
        case "$typed": return view(x, function (b, o, l) { return new window[x.type](b, o, l); });
        case "$dataview": return view(x, function (b, o, l) { return new DataView(b, o, l); });
        case "$node": return document.createElement(x || "div");
        case "$ref": return ref(x);
        case "$port": return ports[x];
        case "$sab": return newSharedBuffer(x.bytes || []);
      }
      throw new Error("pmconf: cannot build " + tag);
    }

    function build(j) {
      if (j === null || typeof j !== "object") return j;
      if (Array.isArray(j)) { var plain = []; fillArray(plain, j); return plain; }
      var id = typeof j.$id === "string" ? j.$id : null;
      if (id !== null && named[id] !== undefined) return named[id];
      var tag = null;
      Object.keys(j).forEach(function (k) {
        if (k.charAt(0) === "$" && k !== "$id" && k !== "$non_enumerable" && k !== "$symbol_keyed") tag = k;
      });
      var v;
      if (tag === null || tag === "$array" || tag === "$map" || tag === "$set") {
        v = tag === null ? {} : tag === "$array" ? [] : tag === "$map" ? new Map() : new Set();
        if (id !== null) named[id] = v;
        if (tag === null) fillProps(v, j);
        else if (tag === "$array") { fillArray(v, j.$array); fillProps(v, j); }
        else if (tag === "$map") j.$map.forEach(function (e) { var k = build(e[0]); v.set(k, build(e[1])); });
        else j.$set.forEach(function (e) { v.add(build(e)); });
      } else {
        v = leaf(tag, j[tag]);
        if (id !== null) named[id] = v;
      }
      fillHidden(v, j);
      return v;
    }

    return build(root);
  }

  // A SharedArrayBuffer even where the global constructor is hidden (not
  // cross-origin isolated): shared WebAssembly memory's buffer is one, and
  // its constructor makes more.
  function newSharedBuffer(bytes) {
    var SAB = typeof SharedArrayBuffer === "function" ? SharedArrayBuffer
      : new WebAssembly.Memory({ shared: true, initial: 1, maximum: 1 }).buffer.constructor;
    var b = new SAB(bytes.length);
    if (Object.prototype.toString.call(b) !== "[object SharedArrayBuffer]") {
      throw new Error("pmconf: this engine made no SharedArrayBuffer here (got " + Object.prototype.toString.call(b) + ", crossOriginIsolated " + self.crossOriginIsolated + ")");
    }
    new Uint8Array(b).set(bytes);
    return b;
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
    var names = nameIncomingPorts(e);
    var data;
    try { data = encodeReceived(e.data); } catch (err) { data = { $unencodable: String(err) }; }
    var delivery = { message: data, origin: e.origin, source: identify(e.source) };
    if (names.length) delivery.ports = names;
    report(url, { key: key, doc: doc, kind: "message", seq: nextSeq(doc), delivery: delivery });
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
    postAsync(eventUrl, { key: C.key, doc: C.doc, kind: "late" }, true);
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
    record(eventUrl, C.key, C.doc, e, C.markerPrefix);
  }
  window.addEventListener("messageerror", function (e) {
    inEpoch(e, function (e) {
      report(eventUrl, { key: C.key, doc: C.doc, kind: "message", seq: nextSeq(C.doc), delivery: { message: { $messageerror: null }, origin: e.origin, source: identify(e.source) } });
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
      message = buildMessage(s.message);
      if (s.transfer !== null) {
        transfer = s.transfer.map(function (t) {
          return t.buffer !== undefined ? buffers[t.buffer] : buildMessage(t.value);
        });
      }
    } catch (e) {
      return { harnessError: String(e && e.stack || e) };
    }
    if (s.form && s.form.kind === "args") return postWithArgs(target, s.form.args);
    if (s.form && s.form.kind === "options") return postWithOptions(target, message, s.targetOrigin, transfer);
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

  // Call forms (a post's `options` and `args`).

  // A raw argument (case syntax) -> JavaScript value: as decode, but an
  // object member `{$throwing_getter: Name}` becomes an enumerable getter
  // that throws `new Name(...)`, so conversion order is observable.
  function decodeArg(j) {
    if (j === null || typeof j !== "object" || Array.isArray(j)) return buildMessage(j);
    var keys = Object.keys(j);
    if (keys.length === 1 && keys[0].charAt(0) === "$") return buildMessage(j);
    var o = {};
    keys.forEach(function (k) {
      var v = j[k];
      var g = v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 ? v.$throwing_getter : undefined;
      if (g !== undefined) {
        Object.defineProperty(o, k, {
          get: function () { throw new self[g]("pmconf: getter of " + k); },
          enumerable: true,
          configurable: true
        });
      } else {
        o[k] = decodeArg(v);
      }
    });
    return o;
  }

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
    // Makes this document serve another case (a reused window): the new
    // configuration, fresh per-case state, then an epoch marker to each
    // window at the hop paths `targets` (every scripted window of the slot).
    reset: function (config, targets) {
      pastEpochs[epoch] = true;
      C = config;
      epoch = epochOfKey(C.key);
      eventUrl = new URL("/__pmconf/event", C.reportBase).href;
      portConfig = C.ports || { candidates: [], twins: {} };
      buffers = {}; handles = {}; ports = {}; held = {}; portWaiters = [];
      usedCandidates = []; portMarkersSent = false;
      captured = {}; seqs = {}; sources = []; waiting = [];
      this.key = C.key;
      this.doc = C.doc;
      captureSourceRefs();
      for (var i = 0; i < targets.length; i++) {
        try { resolve(targets[i]).postMessage(C.markerPrefix + EPOCH_TAG + epoch, "*"); }
        catch (e) { return { harnessError: "epoch marker to " + JSON.stringify(targets[i]) + ": " + e }; }
      }
      var now = early;
      early = [];
      now.forEach(function (go) { go(); });
      return { epoch: epoch };
    },
    // Runs the steps `indices` in this one task; then, with `markers` (a
    // list of hop paths), posts the end-of-case markers in the same task.
    run: function (indices, markers) {
      // A step on a port this document has not received yet waits for it.
      var missingPorts = portsNeeded(indices);
      if (missingPorts.length) {
        var me = this;
        return new Promise(function (done) {
          portWaiters.push({ names: missingPorts, go: function () { setTimeout(function () { done(me.run(indices, markers)); }, 0); } });
        });
      }
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
        sendPortMarkers();
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
