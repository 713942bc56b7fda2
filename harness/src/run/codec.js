// pmconf's message codec: one file, included by the in-page agent
// (agent.js) and by every standalone page pmconf writes (reproducers,
// `pmconf serve`), so a page posts exactly what the harness posts and
// reports what arrives in the same tagged JSON.
//
// The tagged JSON form is the model's (model/src/message.rs,
// model/src/structured_clone/): `{$undefined: null}`, `{$number: "NaN"}`,
// `{$map: [[k, v], ...]}`, `{$id: "o1", ...}` / `{$ref: "o1"}` for
// identity, and so on.
//
// `pmconfCodec(env)` makes a codec for one window; `env` gives what the
// window holds:
//   env.buffers()        the window's ArrayBuffers by id (an id names one
//                        buffer for the window's life, so a buffer
//                        transferred once stays detached)
//   env.portByName(name) the MessagePort this window holds by that name
//   env.portNameOf(port) the name of a MessagePort (for reports)
//   env.realmWindow(name) (optional) the same origin-domain window whose
//                        realm makes an `$error` with `realm: name`; a page
//                        without it cannot build such an Error
// It returns { buildMessage, decodeArg, encodeReceived, encodeReceivedAsync,
// sameJson }.
//
// A Blob's (or File's) bytes can only be read asynchronously: encodeReceived
// writes `bytes: null` for them, and encodeReceivedAsync also returns a
// promise (or null when there is nothing to read) that fills those bytes
// in, so the agent reports such a message once they are read, without ever
// blocking (harness/src/run/agent.js, `reportDelivery`).
function pmconfCodec(env) {
  "use strict";

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

  // Blob reads started by the encoding under way.
  var reads = null;

  // event.data -> the tagged JSON form and a promise of the Blob bytes it
  // still lacks (null when none).
  function encodeReceivedAsync(root) {
    reads = [];
    try {
      var data = encodeReceived(root);
      return { data: data, pending: reads.length ? Promise.all(reads) : null };
    } finally {
      reads = null;
    }
  }

  function readBlob(v, inner) {
    inner.bytes = null;
    if (reads === null) return;
    reads.push(v.arrayBuffer().then(function (b) {
      inner.bytes = Array.prototype.slice.call(new Uint8Array(b));
    }, function (e) {
      inner.bytes = { $unreadable: String(e) };
    }));
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
    if (c === "MessagePort") { out.$port = env.portNameOf(v); return out; }
    if (c === "SharedArrayBuffer") {
      out.$sab = { bytes: Array.prototype.slice.call(new Uint8Array(v)) };
      if (v.growable) out.$sab.max_byte_length = v.maxByteLength;
      return out;
    }
    if (c === "ArrayBuffer") {
      out.$buffer = { bytes: Array.prototype.slice.call(new Uint8Array(v)) };
      if (v.resizable) out.$buffer.max_byte_length = v.maxByteLength;
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
    if (c === "RegExp") {
      out.$regexp = { source: v.source, flags: v.flags };
      if (v.lastIndex !== 0) out.$regexp.last_index = v.lastIndex;
      return out;
    }
    if (c === "DOMException") { out.$domexception = { name: v.name, message: v.message, code: v.code }; return out; }
    if (c === "ImageData") {
      out.$imagedata = { width: v.width, height: v.height, data: Array.prototype.slice.call(v.data) };
      return out;
    }
    if (c === "File") {
      out.$file = { name: v.name, lastModified: v.lastModified, type: v.type, size: v.size };
      readBlob(v, out.$file);
      return out;
    }
    if (c === "Blob") {
      out.$blob = { type: v.type, size: v.size };
      readBlob(v, out.$blob);
      return out;
    }
    if (c === "Boolean") { out.$boxed = { boolean: Boolean.prototype.valueOf.call(v) }; return out; }
    if (c === "Number") { out.$boxed = { number: encodePrimitive(Number.prototype.valueOf.call(v)) }; return out; }
    if (c === "String") { out.$boxed = { string: encodePrimitive(String.prototype.valueOf.call(v)) }; return out; }
    if (c === "BigInt") { out.$boxed = { bigint: BigInt.prototype.toString.call(v) }; return out; }
    if (c === "Error") {
      var e = { name: String(v.name) };
      if (Object.prototype.hasOwnProperty.call(v, "message")) e.message = String(v.message);
      // Own enumerable properties besides name and message (none, if the
      // clone dropped them as StructuredSerializeInternal step 17 does).
      var extra = Object.keys(v);
      if (extra.length) {
        e.props = {};
        extra.forEach(function (k) { putOwn(e.props, k, enc(v[k])); });
      }
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

  // Buffers to resize once the message being built is complete (so its
  // views are made over the buffer as it was first).
  var resizes = [];

  function newBuffer(x) {
    var bytes = x.bytes || [];
    if (x.max_byte_length == null) return new Uint8Array(bytes).buffer;
    var b = new ArrayBuffer(bytes.length, { maxByteLength: x.max_byte_length });
    new Uint8Array(b).set(bytes);
    if (x.resize != null) resizes.push([b, x.resize]);
    return b;
  }

  function buildBuffer(x) {
    var buffers = env.buffers();
    if (x.id != null) {
      if (!buffers[x.id]) buffers[x.id] = newBuffer(x);
      return buffers[x.id];
    }
    return newBuffer(x);
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
      if (env.buffers()[name] !== undefined) return env.buffers()[name];
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

    // `length: "auto"` makes a length-tracking view (no length given).
    function view(x, make) {
      var b = typeof x.buffer === "string" ? ref(x.buffer) : build(x.buffer);
      return make(b, x.offset || 0, x.length === "auto" ? undefined : x.length);
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
        case "$regexp": {
          var r = new RegExp(x.source || "", x.flags || "");
          if (x.last_index) r.lastIndex = x.last_index;
          return r;
        }
        case "$domexception": return new DOMException(x.message || "", x.name || "Error");
        case "$imagedata": return new ImageData(new Uint8ClampedArray(x.data), x.width, x.height);
        case "$blob": return new Blob([new Uint8Array(x.bytes || [])], { type: x.type || "" });
        case "$file":
          return new File([new Uint8Array(x.bytes || [])], x.name || "", { type: x.type || "", lastModified: x.last_modified });
        case "$boxed":
          if ("boolean" in x) return new Boolean(x.boolean);
          if ("number" in x) return new Number(decodeNumber(x.number));
          if ("string" in x) return new String(build(x.string));
          if ("bigint" in x) return Object(BigInt(x.bigint));
          return Object(Symbol(x.symbol));
        case "$error": {
          // `realm: W`: W's own constructor, so the Error is W's realm's.
          var realm = window;
          if (x.realm !== undefined) {
            if (!env.realmWindow) throw new Error("pmconf: this page cannot make an Error in " + x.realm + "'s realm");
            realm = env.realmWindow(x.realm);
          }
          var Ctor = realm[x.constructor || "Error"];
          var e = "message" in x ? new Ctor(x.message) : new Ctor();
          if (x.name !== undefined && x.name !== (x.constructor || "Error")) e.name = x.name;
          // An own data property `message` assigned afterwards (any value).
          if ("message_value" in x) e.message = build(x.message_value);
          if (x.props) Object.keys(x.props).forEach(function (k) { define(e, k, x.props[k], true); });
          return e;
        }
        case "$typed": return view(x, function (b, o, l) { return new window[x.type](b, o, l); });
        case "$dataview": return view(x, function (b, o, l) { return new DataView(b, o, l); });
        case "$node": return document.createElement(x || "div");
        case "$ref": return ref(x);
        case "$port": return env.portByName(x);
        case "$sab": return newSharedBuffer(x.bytes || [], x.max_byte_length);
      }
      throw new Error("pmconf: cannot build " + tag);
    }

    // Names a `$id` object for the rest of the message (and tells the page,
    // which may keep it: the agent's `sab_write`).
    function remember(id, v) {
      named[id] = v;
      if (env.onNamed) env.onNamed(id, v);
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
        if (id !== null) remember(id, v);
        if (tag === null) fillProps(v, j);
        else if (tag === "$array") { fillArray(v, j.$array); fillProps(v, j); }
        else if (tag === "$map") j.$map.forEach(function (e) { var k = build(e[0]); v.set(k, build(e[1])); });
        else j.$set.forEach(function (e) { v.add(build(e)); });
      } else {
        v = leaf(tag, j[tag]);
        if (id !== null) remember(id, v);
      }
      fillHidden(v, j);
      return v;
    }

    resizes = [];
    var built = build(root);
    resizes.forEach(function (r) { r[0].resize(r[1]); });
    resizes = [];
    return built;
  }

  // A SharedArrayBuffer even where the global constructor is hidden (not
  // cross-origin isolated): shared WebAssembly memory's buffer is one, and
  // its constructor makes more. With `maxByteLength`, a growable one
  // (`new SharedArrayBuffer(length, {maxByteLength})`).
  function newSharedBuffer(bytes, maxByteLength) {
    var SAB = typeof SharedArrayBuffer === "function" ? SharedArrayBuffer
      : new WebAssembly.Memory({ shared: true, initial: 1, maximum: 1 }).buffer.constructor;
    var b = maxByteLength === undefined ? new SAB(bytes.length)
      : new SAB(bytes.length, { maxByteLength: maxByteLength });
    if (maxByteLength !== undefined && b.growable !== true) {
      throw new Error("pmconf: this engine made no growable SharedArrayBuffer (no maxByteLength support)");
    }
    if (Object.prototype.toString.call(b) !== "[object SharedArrayBuffer]") {
      throw new Error("pmconf: this engine made no SharedArrayBuffer here (got " + Object.prototype.toString.call(b) + ", crossOriginIsolated " + self.crossOriginIsolated + ")");
    }
    new Uint8Array(b).set(bytes);
    return b;
  }

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

  return {
    buildMessage: buildMessage,
    decodeArg: decodeArg,
    encodeReceived: encodeReceived,
    encodeReceivedAsync: encodeReceivedAsync,
    sameJson: sameJson
  };
}
