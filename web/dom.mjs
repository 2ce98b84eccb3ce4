// The page's two DOM helpers, shared by app.mjs, melody.mjs, listen.mjs and pwa.mjs.

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A new element with an optional class name and text. */
export const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
