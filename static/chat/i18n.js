/* chatdesk: the one gettext every module uses.
 *
 * Django's JavaScript catalogue (/jsi18n/) is a classic script that runs before any module
 * (modules are deferred), so its window.gettext is there when a module calls it; without
 * it (the catalogue failed to load) the English text is shown as it is.
 */

export function gettext(text) {
  return typeof window.gettext === "function" ? window.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  if (typeof window.ngettext === "function") return window.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

/* Fill %(name)s placeholders of an already translated text. */
export function interpolate(text, values) {
  if (typeof window.interpolate === "function") return window.interpolate(text, values, true);
  return String(text).replace(/%\((\w+)\)s/g, function (whole, key) {
    return key in values ? String(values[key]) : whole;
  });
}
