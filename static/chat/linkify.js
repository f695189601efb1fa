/* chatdesk: URLs in messages become links, built as DOM nodes (never HTML strings). */

import { el } from "./util.js";

// http(s) URLs and www. addresses; trailing punctuation that ends a sentence stays text.
const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'")\]}]+$/;

/* Append `text` to `parent` as text nodes and <a> elements. */
export function appendLinkified(parent, text) {
  let last = 0;
  String(text).replace(URL_RE, function (match, offset) {
    let url = match;
    const tail = url.match(TRAILING);
    if (tail) url = url.slice(0, -tail[0].length);
    if (!url) return match;
    if (offset > last) parent.appendChild(document.createTextNode(text.slice(last, offset)));
    const href = /^www\./i.test(url) ? "https://" + url : url;
    const a = el("a", "msg-link", url);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow";
    parent.appendChild(a);
    last = offset + url.length;
    return match;
  });
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  return parent;
}
