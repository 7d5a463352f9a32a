// JSON as the page cannot have broken it. What u.js stores and sends goes through
// `stringify`:
//
// - `toJSON` on Array.prototype: Prototype.js 1.6 puts one there that returns a string, so
//   `JSON.stringify([e])` becomes a JSON string holding the array and the relay refuses every
//   batch. JSON.stringify calls `toJSON` before the replacer, and the replacer sees the holder
//   (`this`), so giving back `this[k]` for every array undoes whatever a `toJSON` made of it
//   (ECMA-262, SerializeJSONProperty). Anything else keeps its `toJSON` (a Date its ISO
//   string), as plain JSON.stringify does.
// - `Object.prototype` given enumerable keys: JSON.stringify sees own keys only. (u.js's two
//   `for…in` loops, over its commands and js-cookie's attributes, see them too: a method of
//   that name that does nothing, an attribute the browser ignores.)
// - `navigator.sendBeacon` replaced by one that sends nothing: what a beacon carried stays in
//   the outbox until an answer proves it arrived (transport.ts).
// - Not defended: a page that replaced `JSON.stringify` itself. A fresh frame's own would do
//   (51 B of u.js, measured), which the byte budget did not leave room for.

/** JSON text of `v`, unaltered by the page's changes to the built-ins. Throws for a cycle or a BigInt, as JSON.stringify does. */
export const stringify = (v: unknown): string =>
  JSON.stringify(v, function (this: any, k: string, x: unknown) {
    return Array.isArray((k = this[k])) ? k : x;
  });

/** UTF-8 bytes of `v` as JSON (its JSON has no lone surrogate, which encodeURIComponent would refuse). */
export const bytes = (v: unknown) => unescape(encodeURIComponent(stringify(v))).length;
