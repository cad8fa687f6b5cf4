/**
 * @module The JavaScript that runs first in every owner's QuickJS context, before any function of the
 * owner's. It locks the environment down and returns the helpers the host calls:
 *
 * - every standard object reachable from the global object (and the hidden ones: iterator, generator and
 *   typed-array prototypes) is frozen, and every standard global made read-only, so a function cannot
 *   change what another call (or another function of the same owner) sees: no prototype pollution, no
 *   replaced `Math`; `WeakRef` and `FinalizationRegistry` are removed (their effects depend on the
 *   garbage collector);
 * - a few prototype properties that code assigns on its own objects (`toString`, `valueOf`, an error's
 *   `name` and `message`) become accessors whose setter defines the property on the object written to,
 *   so such an assignment still works on a frozen prototype;
 * - new globals (a sloppy-mode assignment to an undeclared name, as Rhino-era code does) are deleted
 *   after every call, so they do not outlive it; `clean` reports a global it could not delete;
 * - `invoke` parses the arguments from JSON text inside the sandbox (a deep copy), calls the function,
 *   and writes the result as JSON text with its own strict walker: the host only ever receives a string.
 *   It answers `J<json>`, `E<name>\n<message>` (the function threw) or `B<why>` (not plain data).
 *
 * It runs in strict mode; the owner's functions keep their own mode (sloppy, unless they say otherwise).
 */

/** The prelude's source: evaluates to `{invoke, describe, seal, freezeFn, clean}`. */
export const preludeSource = (maxDepth: number): string => `(function () {
'use strict';
var G = globalThis;
var getProto = Object.getPrototypeOf, ownKeys = Reflect.ownKeys, gopd = Object.getOwnPropertyDescriptor;
var defineProperty = Object.defineProperty, freeze = Object.freeze, isExtensible = Object.isExtensible;
var apply = Reflect.apply, isArray = Array.isArray, hasOwn = Object.prototype.hasOwnProperty;
var stringify = JSON.stringify, parse = JSON.parse, fnToString = Function.prototype.toString;
var Str = String, ErrorCtor = Error, ObjectProto = Object.prototype, SetCtor = Set;
var setHas = Set.prototype.has, join = Array.prototype.join, exec = RegExp.prototype.exec;
var MAX_DEPTH = ${maxDepth};

// One frame is all describe() reads (a syntax error's position); a long backtrace per error would make
// an error-throwing loop slow between two deadline checks.
Error.stackTraceLimit = 1;
delete G.WeakRef;
delete G.FinalizationRegistry;

var hidden = [];
function addHidden(make) { try { hidden.push(make()); } catch (e) {} }
addHidden(function () { return getProto(function* () {}); });
addHidden(function () { return getProto(async function () {}); });
addHidden(function () { return getProto(async function* () {}); });
addHidden(function () { return getProto((function* () {})()); });
addHidden(function () { return getProto((async function* () {})()); });
addHidden(function () { return getProto([][Symbol.iterator]()); });
addHidden(function () { return getProto(new Map().entries()); });
addHidden(function () { return getProto(new Set().values()); });
addHidden(function () { return getProto(''[Symbol.iterator]()); });
addHidden(function () { return getProto(/a/[Symbol.matchAll]('')); });
addHidden(function () { return getProto(Int8Array); });
addHidden(function () { return getProto([].values().map(function (x) { return x; })); });
addHidden(function () { return getProto(Iterator.from({ next: function () { return { done: true }; } })); });
addHidden(function () { return getProto(Promise.resolve()); });

var TAME = ['toString', 'valueOf', 'toLocaleString', 'name', 'message'];
function tame(o, key, d) {
  var value = d.value;
  defineProperty(o, key, {
    get: function () { return value; },
    set: function (v) {
      if (this === o) return;
      defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
    },
    enumerable: d.enumerable,
    configurable: false,
  });
}

var seen = new SetCtor();
var todo = [G];
for (var h = 0; h < hidden.length; h++) todo.push(hidden[h]);
while (todo.length > 0) {
  var o = todo.pop();
  if (o === null || o === undefined || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
  seen.add(o);
  todo.push(getProto(o));
  var keys = ownKeys(o);
  for (var i = 0; i < keys.length; i++) {
    var d = gopd(o, keys[i]);
    if (d === undefined) continue;
    if (apply(hasOwn, d, ['value'])) {
      if (o !== G && d.writable && d.configurable && TAME.indexOf(keys[i]) >= 0) {
        tame(o, keys[i], d);
        d = gopd(o, keys[i]);
        todo.push(d.get, d.set);
      }
      todo.push(d.value);
    } else {
      todo.push(d.get, d.set);
    }
  }
  if (o !== G) freeze(o);
}
seen = null;

var globals = ownKeys(G);
for (var g = 0; g < globals.length; g++) {
  var gd = gopd(G, globals[g]);
  defineProperty(G, globals[g], apply(hasOwn, gd, ['value']) ? { writable: false, configurable: false } : { configurable: false });
}
var baseline = new SetCtor(globals);
var baseCount = globals.length;

function clean() {
  var now = ownKeys(G);
  if (now.length === baseCount) return isExtensible(G);
  var all = true;
  for (var k = 0; k < now.length; k++) if (!apply(setHas, baseline, [now[k]]) && !delete G[now[k]]) all = false;
  return all && isExtensible(G);
}

function cut(s) { return s.length > 500 ? s.slice(0, 500) + '...' : s; }
var AT = /:(\\d+):(\\d+)/;
function describe(e) {
  try {
    if (e !== null && typeof e === 'object' && e instanceof ErrorCtor) {
      var where = '';
      if (e instanceof SyntaxError && typeof e.stack === 'string') {
        var m = apply(exec, AT, [e.stack]);
        if (m !== null) where = m[1] + ':' + m[2];
      }
      return cut(Str(e.name)) + '\\n' + cut(Str(e.message)) + '\\n' + where;
    }
    return 'Thrown\\n' + cut(Str(e)) + '\\n';
  } catch (e2) {
    return 'Thrown\\na value that cannot be described\\n';
  }
}

var bad = null;
var budget = 0;
var trail = [];
function refuse(why) {
  var path = 'the result';
  for (var t = 0; t < trail.length; t++) path += typeof trail[t] === 'number' ? '[' + trail[t] + ']' : '.' + trail[t];
  bad = path + ' ' + why;
  throw bad;
}
function out(s) {
  budget -= s.length;
  if (budget < 0) refuse('makes the result longer than maxResultBytes');
  return s;
}
function ser(v, depth) {
  if (v === null) return out('null');
  switch (typeof v) {
    case 'boolean': return out(v ? 'true' : 'false');
    case 'string': return out(stringify(v));
    case 'number':
      if (v !== v || v === Infinity || v === -Infinity) refuse('is ' + v + ', not a finite number');
      return out(stringify(v));
    case 'object': break;
    default: refuse(typeof v === 'undefined' ? 'is undefined' : 'is a ' + typeof v);
  }
  if (depth >= MAX_DEPTH) refuse('is nested deeper than ' + MAX_DEPTH);
  var parts = [];
  if (isArray(v)) {
    var n = v.length;
    out('[]');
    for (var i = 0; i < n; i++) {
      trail[depth] = i;
      if (!(i in v)) refuse('is a hole');
      parts[i] = ser(v[i], depth + 1);
      trail.length = depth;
      out(',');
    }
    return '[' + apply(join, parts, [',']) + ']';
  }
  var p = getProto(v);
  if (p !== ObjectProto && p !== null) refuse('is not a plain object');
  var keys = ownKeys(v);
  out('{}');
  var m = 0;
  for (var k = 0; k < keys.length; k++) {
    var key = keys[k];
    if (typeof key === 'symbol') refuse('has a symbol key');
    var d = gopd(v, key);
    if (d === undefined || !d.enumerable) continue;
    trail[depth] = key;
    if (!apply(hasOwn, d, ['value'])) refuse('is a getter');
    parts[m++] = out(stringify(key)) + ':' + ser(d.value, depth + 1);
    trail.length = depth;
    out(',');
  }
  return '{' + apply(join, parts, [',']) + '}';
}

function invoke(fn, text, maxBytes) {
  var args = parse(text);
  var r;
  try {
    r = apply(fn, undefined, args);
  } catch (e) {
    return 'E' + describe(e);
  }
  bad = null;
  budget = maxBytes;
  trail.length = 0;
  try {
    return 'J' + ser(r, 0);
  } catch (e) {
    if (bad !== null && e === bad) return 'B' + bad;
    return 'B' + 'reading the result threw ' + describe(e);
  }
}

function seal(fn) {
  if (typeof fn !== 'function') return '!the source is ' + (fn === null ? 'null' : 'a ' + typeof fn) + ', not a function';
  return '=' + apply(fnToString, fn, []);
}

function freezeFn(fn) {
  freeze(fn);
  var d = gopd(fn, 'prototype');
  if (d !== undefined && apply(hasOwn, d, ['value']) && d.value !== null && typeof d.value === 'object') freeze(d.value);
}

return { invoke: invoke, describe: describe, seal: seal, freezeFn: freezeFn, clean: clean };
})()`;
