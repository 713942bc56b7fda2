// Helpers for the tests under webmessaging/pmconf/, which pmconf
// (a differential conformance harness for window.postMessage) exports
// from its cases: one case's windows driven by plain page script.
//
// The test page is the case's top window. It creates its frames and
// popups, waits until every window's script has said it is ready, then
// runs the case's steps in order: its own steps directly, another
// window's by asking that window (a postMessage carrying {"pmconf-wpt":
// {step: k}}) and waiting for its answer. At the end every window posts
// an end marker ("*") to each window it posted to; tasks from one source
// to one target run in order, so a window holding the markers of all its
// senders has received everything it ever will, and then reports its
// messages to the test page. Control messages carry the key "pmconf-wpt"
// and are never counted as the case's messages.
'use strict';
(function (global) {
  const KEY = 'pmconf-wpt';
  const buffers = {};
  const popups = {};

  function isControl(data) {
    return data !== null && typeof data === 'object' &&
        Object.prototype.hasOwnProperty.call(data, KEY);
  }

  // The window's own ArrayBuffer named `id` (made from `bytes` the first
  // time): a buffer transferred once stays detached for later posts.
  global.buffer = function (id, bytes) {
    if (!(id in buffers)) buffers[id] = new Uint8Array(bytes || []).buffer;
    return buffers[id];
  };

  // The receiver's view of a message as JSON, as pmconf's model writes
  // it: JSON values as they are; undefined, NaN, infinities, -0, lone
  // surrogates, holes, BigInts, wrappers, Dates, RegExps, Errors, Maps,
  // Sets, ArrayBuffers, typed arrays and DataViews tagged (`$undefined`,
  // `$number`, `$utf16`, `$hole`, `$bigint`, `$boxed`, `$date`,
  // `$regexp`, `$error`, `$map`, `$set`, `$buffer`, `$typed`,
  // `$dataview`); an array with other properties as `$array` beside them;
  // an object met twice named `$id: oN` where first met and `$ref: oN`
  // after, N counting in the order a walk first meets them.
  function number(v) {
    if (Number.isNaN(v)) return {$number: 'NaN'};
    if (v === Infinity) return {$number: 'Infinity'};
    if (v === -Infinity) return {$number: '-Infinity'};
    if (Object.is(v, -0)) return {$number: '-0'};
    return v;
  }
  function string(v) {
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      const next = v.charCodeAt(i + 1);
      if (c >= 0xD800 && c <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF) { i++; continue; }
      if (c >= 0xD800 && c <= 0xDFFF) {
        const units = [];
        for (let k = 0; k < v.length; k++) units.push(v.charCodeAt(k));
        return {$utf16: units};
      }
    }
    return v;
  }
  const isIndex = k => String(k >>> 0) === k && (k >>> 0) !== 4294967295;
  function children(v) {
    if (Array.isArray(v)) {
      const out = [];
      for (let i = 0; i < v.length; i++) if (i in v) out.push(v[i]);
      for (const k of Object.keys(v)) if (!isIndex(k)) out.push(v[k]);
      return out;
    }
    if (v instanceof Map) { const out = []; v.forEach((val, key) => out.push(key, val)); return out; }
    if (v instanceof Set) return Array.from(v);
    if (ArrayBuffer.isView(v)) return [v.buffer];
    if (v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp || v instanceof Error) return [];
    if (Object.getPrototypeOf(v) === Object.prototype) return Object.keys(v).map(k => v[k]);
    return [];
  }
  function describe(root) {
    const count = new Map();
    (function walk(v) {
      if (v === null || typeof v !== 'object') return;
      count.set(v, (count.get(v) || 0) + 1);
      if (count.get(v) > 1) return;
      children(v).forEach(walk);
    })(root);
    const given = new Map();
    function enc(v) {
      if (v === undefined) return {$undefined: null};
      if (v === null || typeof v === 'boolean') return v;
      if (typeof v === 'number') return number(v);
      if (typeof v === 'string') return string(v);
      if (typeof v === 'bigint') return {$bigint: String(v)};
      if (typeof v !== 'object') return {$unexpected: typeof v};
      if (given.has(v)) return {$ref: given.get(v)};
      const out = {};
      if (count.get(v) > 1) {
        given.set(v, 'o' + (given.size + 1));
        out.$id = given.get(v);
      }
      return body(v, out);
    }
    function body(v, out) {
      const plain = Object.keys(out).length === 0;
      if (Array.isArray(v)) {
        const items = [];
        for (let i = 0; i < v.length; i++) items.push(i in v ? enc(v[i]) : {$hole: null});
        const extra = Object.keys(v).filter(k => !isIndex(k));
        if (plain && extra.length === 0) return items;
        out.$array = items;
        for (const k of extra) out[k] = enc(v[k]);
        return out;
      }
      if (v instanceof ArrayBuffer) { out.$buffer = {bytes: Array.from(new Uint8Array(v))}; return out; }
      if (v instanceof DataView) {
        out.$dataview = {buffer: enc(v.buffer), offset: v.byteOffset, length: v.byteLength};
        return out;
      }
      if (ArrayBuffer.isView(v)) {
        out.$typed = {type: v.constructor.name, buffer: enc(v.buffer), offset: v.byteOffset, length: v.length};
        return out;
      }
      if (v instanceof Map) {
        const entries = [];
        v.forEach((val, key) => { const k = enc(key); entries.push([k, enc(val)]); });
        out.$map = entries;
        return out;
      }
      if (v instanceof Set) { out.$set = Array.from(v, enc); return out; }
      if (v instanceof Date) { out.$date = number(v.getTime()); return out; }
      if (v instanceof RegExp) { out.$regexp = {source: v.source, flags: v.flags}; return out; }
      if (v instanceof Error) {
        out.$error = {name: String(v.name)};
        if (Object.prototype.hasOwnProperty.call(v, 'message')) out.$error.message = v.message;
        return out;
      }
      for (const [type, key] of [[Boolean, 'boolean'], [Number, 'number'], [String, 'string']]) {
        if (v instanceof type) {
          const p = v.valueOf();
          out.$boxed = {[key]: key === 'number' ? number(p) : key === 'string' ? string(p) : p};
          return out;
        }
      }
      if (typeof BigInt === 'function' && v instanceof BigInt) {
        out.$boxed = {bigint: String(v.valueOf())};
        return out;
      }
      if (Object.getPrototypeOf(v) === Object.prototype) {
        for (const k of Object.keys(v)) out[k] = enc(v[k]);
        return out;
      }
      out.$unexpected = Object.prototype.toString.call(v);
      return out;
    }
    return enc(root);
  }

  // A window reached from this one by hops: 'parent', 'opener', a number
  // i for frames[i], or {popup: name} for a handle window.open returned.
  function resolve(hops) {
    let w = self;
    for (const h of hops) {
      if (h === 'parent') w = w.parent;
      else if (h === 'opener') w = w.opener;
      else if (typeof h === 'number') w = w.frames[h];
      else w = popups[h.popup];
    }
    return w;
  }

  function closePopups() {
    for (const p of Object.values(popups)) p.close();
  }

  function makeChild(child) {
    if (child.kind === 'popup') {
      popups[child.name] = window.open(child.url);
      return;
    }
    const iframe = document.createElement('iframe');
    if (child.sandbox !== undefined) iframe.setAttribute('sandbox', child.sandbox);
    if (child.kind === 'srcdoc') iframe.srcdoc = child.html;
    else if (child.kind === 'data') iframe.src = 'data:text/html,' + encodeURIComponent(child.html);
    else if (child.kind === 'url') iframe.src = child.url;
    document.body.appendChild(iframe);
    if (child.kind === 'blank') {
      // As RemoteContextHelper's 'blank' URL type: the script is written
      // into the initial about:blank document.
      const doc = iframe.contentDocument;
      doc.open();
      doc.write(child.html);
      doc.close();
    }
  }

  // One window of a case: records every message event, creates its
  // frames and popups, and takes its steps when asked.
  function start(name, config, steps, onControl) {
    const received = [];
    const events = [];
    const ends = new Set();
    let finished = false;
    let reported = false;
    const w = {};
    for (const n of Object.keys(config.refs)) {
      Object.defineProperty(w, n, {get: () => resolve(config.refs[n])});
    }
    function nameOf(source) {
      if (source === null) return null;
      for (const n of Object.keys(config.refs)) {
        let candidate;
        try { candidate = resolve(config.refs[n]); } catch (e) { continue; }
        if (candidate === source) return n;
      }
      return '?';
    }
    function reply(sender) {
      for (let i = events.length - 1; i >= 0; i--) {
        if (nameOf(events[i].source) === sender) return events[i].source;
      }
      throw new Error('no message from ' + sender + ' to reply to');
    }
    function up(payload) {
      if (config.up === null) onControl(payload);
      else resolve(config.up).postMessage({[KEY]: payload}, '*');
    }
    function maybeReport() {
      if (reported || !finished) return;
      if (!config.endsFrom.every(n => ends.has(n))) return;
      reported = true;
      up({received: name, messages: received});
    }
    const self_ = {
      step(k) {
        let threw = null;
        try {
          steps[k](w, reply);
        } catch (e) {
          threw = e && e.name !== undefined ? String(e.name) : String(e);
        }
        return threw;
      },
      finish() {
        for (const target of config.targets) {
          resolve(config.refs[target]).postMessage({[KEY]: {end: name}}, '*');
        }
        finished = true;
        maybeReport();
      },
      closePopups,
    };
    addEventListener('message', e => {
      if (!isControl(e.data)) {
        received.push({message: describe(e.data), origin: e.origin, source: nameOf(e.source)});
        events.push(e);
        return;
      }
      const c = e.data[KEY];
      if (c.end !== undefined) {
        ends.add(c.end);
        maybeReport();
      } else if (c.step !== undefined && config.up !== null) {
        up({stepped: c.step, threw: self_.step(c.step)});
      } else if (c.finish !== undefined && config.up !== null) {
        self_.finish();
      } else if (c.close !== undefined && config.up !== null) {
        self_.closePopups();
      } else if (onControl) {
        onControl(c);
      }
    });
    for (const child of config.children) makeChild(child);
    return self_;
  }

  // In a helper document: one window of the case, not the test page.
  global.case_window = function (name, config, steps) {
    start(name, config, steps, null);
    resolve(config.up).postMessage({[KEY]: {ready: name}}, '*');
  };

  // The test page's control messages: `onControl` takes each one,
  // `next(pred)` waits for the first (earlier or later) that matches.
  function inbox() {
    const kept = [];
    const waiting = [];
    function onControl(c) {
      kept.push(c);
      for (const wt of waiting.slice()) {
        const i = kept.findIndex(wt.pred);
        if (i >= 0) {
          waiting.splice(waiting.indexOf(wt), 1);
          wt.resolve(kept.splice(i, 1)[0]);
        }
      }
    }
    function next(pred) {
      const i = kept.findIndex(pred);
      if (i >= 0) return Promise.resolve(kept.splice(i, 1)[0]);
      return new Promise(resolve => waiting.push({pred, resolve}));
    }
    return {onControl, next};
  }

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  // In the test page: the case's top window. `expected.allowed` lists the
  // outcomes the standards allow (pmconf's model answered them);
  // `expected.contested` the ones an open spec issue leaves open, which
  // are accepted without being asserted.
  global.case_test = function (title, config, steps, expected) {
    promise_test(async t => {
      const {onControl, next} = inbox();
      const me = start(config.name, config, steps, onControl);
      t.add_cleanup(() => {
        me.closePopups();
        for (const n of config.openers) resolve(config.reach[n]).postMessage({[KEY]: {close: true}}, '*');
      });
      await Promise.all(config.others.map(n => next(c => c.ready === n)));
      const posts = [];
      for (const [k, actor] of config.steps) {
        let threw;
        if (actor === config.name) {
          threw = me.step(k);
        } else {
          resolve(config.reach[actor]).postMessage({[KEY]: {step: k}}, '*');
          threw = (await next(c => c.stepped === k)).threw;
        }
        if (config.posts.includes(k)) posts.push({step: k, threw});
      }
      const reports = config.windows.map(n => next(c => c.received === n));
      for (const n of config.others) resolve(config.reach[n]).postMessage({[KEY]: {finish: true}}, '*');
      me.finish();
      const lists = await Promise.all(reports);
      const observed = {posts, received: {}};
      config.windows.forEach((n, i) => { observed.received[n] = lists[i].messages; });

      if (expected.allowed.length === 1 && expected.contested.length === 0) {
        const want = expected.allowed[0];
        want.posts.forEach((p, i) => {
          assert_equals(observed.posts[i].threw, p.threw,
              `step ${p.step} (${config.describe[p.step]}): the exception thrown`);
        });
        for (const n of config.windows) {
          assert_equals(JSON.stringify(observed.received[n]), JSON.stringify(want.received[n]),
              `messages received by ${n} (message, event.origin, event.source)`);
        }
      } else {
        const ok = expected.allowed.some(o => same(o, observed)) ||
            expected.contested.some(o => same(o, observed));
        assert_true(ok, `the observed outcome ${JSON.stringify(observed)} is not one of the ` +
            `${expected.allowed.length} allowed: ${JSON.stringify(expected.allowed)}`);
      }
    }, title);
  };

  // ---------------------------------------------------------------------
  // Race cases: steps that navigate, reload, remove, close or create
  // windows while messages are in flight. Every document reports each
  // message to the test page the moment it receives it (so a document
  // that goes away has already told), numbered, under its label: the
  // window's name for its first document, NAME@blank for the initial
  // about:blank of a window a step creates, NAME@STEP for the document
  // step STEP loads. The test asserts that the observed outcome is one
  // of the outcomes the standards allow.

  function frameOf(win) {
    for (const f of document.querySelectorAll('iframe')) {
      if (f.contentWindow === win) return f;
    }
    throw new Error('no iframe element holds that window');
  }

  function startRace(label, config, steps, onControl) {
    const received = [];
    const ends = new Set();
    const seen = new Map();
    const blankSeq = {};
    let finished = false;
    let reported = false;
    function capture() {
      for (const refs of config.refSets) {
        for (const n of Object.keys(refs)) {
          try {
            const w = resolve(refs[n]);
            if (w && !seen.has(w)) seen.set(w, n);
          } catch (e) {}
        }
      }
    }
    function nameOf(source) {
      if (source === null) return null;
      capture();
      return seen.has(source) ? seen.get(source) : '?';
    }
    function up(payload) {
      if (config.up === null) onControl(payload);
      else resolve(config.up).postMessage({[KEY]: payload}, '*');
    }
    function record(docLabel, e, list) {
      const m = {message: describe(e.data), origin: e.origin, source: nameOf(e.source)};
      list.push(m);
      up({got: docLabel, seq: list.length - 1, m});
    }
    const go = {
      at: resolve,
      frameOf,
      create(child) {
        makeChild(child);
        // The new window's initial about:blank is same origin with this
        // document: listen on it here, for as long as it is current.
        const win = child.kind === 'popup' ? popups[child.name] : frameOf_last();
        const blank = win.document;
        const list = [];
        blankSeq[child.name] = list;
        win.addEventListener('message', e => {
          let current;
          try { current = win.document; } catch (x) { return; }
          if (current !== blank || isControl(e.data)) return;
          record(child.name + '@blank', e, list);
        });
        capture();
      },
    };
    function frameOf_last() {
      const frames = document.querySelectorAll('iframe');
      return frames[frames.length - 1].contentWindow;
    }
    function maybeReport() {
      if (reported || !finished) return;
      if (!config.endsFrom.every(n => ends.has(n))) return;
      reported = true;
      up({done: label, count: received.length});
    }
    const me = {
      received,
      runTask(ks) {
        const threw = {};
        for (const k of ks) {
          try {
            steps[k](go);
            threw[k] = null;
          } catch (e) {
            threw[k] = e && e.name !== undefined ? String(e.name) : String(e);
          }
        }
        capture();
        return threw;
      },
      finish() {
        for (const hops of config.markTargets) {
          resolve(hops).postMessage({[KEY]: {end: config.window}}, '*');
        }
        finished = true;
        maybeReport();
      },
      closePopups,
    };
    addEventListener('message', e => {
      if (!isControl(e.data)) {
        record(label, e, received);
        return;
      }
      const c = e.data[KEY];
      if (c.end !== undefined) {
        ends.add(c.end);
        maybeReport();
      } else if (c.task !== undefined && config.up !== null) {
        up({tasked: c.task[0], threw: me.runTask(c.task)});
      } else if (c.finish !== undefined && config.up !== null) {
        me.finish();
      } else if (c.close !== undefined && config.up !== null) {
        me.closePopups();
      } else if (onControl) {
        onControl(c);
      }
    });
    for (const child of config.children) makeChild(child);
    capture();
    return me;
  }

  // In a helper document of a race case: one document of the case. A
  // document loaded again by `location.reload()` is the reload's document.
  global.race_document = function (label, config, steps) {
    const nav = performance.getEntriesByType('navigation')[0];
    if (config.reloadLabel && nav && nav.type === 'reload') label = config.reloadLabel;
    startRace(label, config, steps, null);
    resolve(config.up).postMessage({[KEY]: {ready: label}}, '*');
  };

  global.race_test = function (title, config, steps, expected) {
    promise_test(async t => {
      const ready = new Set([config.label]);
      const got = {};
      const control = inbox();
      const next = control.next;
      function onControl(c) {
        if (c.ready !== undefined) ready.add(c.ready);
        if (c.got !== undefined) {
          (got[c.got] = got[c.got] || [])[c.seq] = c.m;
          return;
        }
        control.onControl(c);
      }
      async function loaded(label) {
        if (!ready.has(label)) await next(c => c.ready === label);
      }
      const me = startRace(config.label, config, steps, onControl);
      t.add_cleanup(() => {
        me.closePopups();
        for (const hops of config.openers) {
          try { resolve(hops).postMessage({[KEY]: {close: true}}, '*'); } catch (e) {}
        }
      });
      await Promise.all(config.initial.map(loaded));
      const threw = {};
      for (const task of config.tasks) {
        if (task.wait !== undefined) {
          await loaded(task.wait);
        } else if (task.reach === null) {
          Object.assign(threw, me.runTask(task.steps));
        } else {
          resolve(task.reach).postMessage({[KEY]: {task: task.steps}}, '*');
          Object.assign(threw, (await next(c => c.tasked === task.steps[0])).threw);
        }
      }
      await Promise.all(config.finals.map(loaded));
      const dones = config.finals.map(l => next(c => c.done === l));
      for (const hops of config.finishers) {
        resolve(hops).postMessage({[KEY]: {finish: true}}, '*');
      }
      if (config.finishesItself) me.finish();
      const counts = await Promise.all(dones);
      got[config.label] = me.received;
      counts.forEach(c => {
        const list = got[c.done] || [];
        assert_equals(list.filter(x => x !== undefined).length, c.count,
            `every message ${c.done} reported reached the test page`);
      });
      const observed = {posts: config.posts.map(k => ({step: k, threw: threw[k]})), received: {}};
      for (const l of config.labels) observed.received[l] = got[l] || [];
      // An outcome lists the documents that exist in it: a document it
      // leaves out (the initial about:blank whose Window the first load
      // reused, say) must have received nothing here.
      const matches = o => same(o.posts, observed.posts) &&
          Object.keys(o.received).every(l => same(o.received[l], observed.received[l] || [])) &&
          Object.keys(observed.received).every(l => l in o.received || observed.received[l].length === 0);
      const ok = expected.allowed.some(matches) || expected.contested.some(matches);
      assert_true(ok, `the observed outcome ${JSON.stringify(observed)} is not one of the ` +
          `${expected.allowed.length} allowed: ${JSON.stringify(expected.allowed)}`);
    }, title);
  };
})(self);
