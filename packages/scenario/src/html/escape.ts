/** Escaping for the two places report data enters report.html: HTML text/attributes, and a JSON <script> element. */

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' }

/** `text` safe as HTML text or as a quoted attribute value (MN and MAAR names come from scenario files). */
export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, c => HTML_ENTITIES[c] ?? c)
}

/**
 * `value` as JSON that can sit inside `<script type="application/json">`: the HTML parser ends a
 * script element at the first `</script` whatever the type, and `<!--` changes how it scans, so
 * every `<` (and, for symmetry, `>` and `&`) becomes a JSON `\u` escape, which JSON.parse reads
 * back as the same character. U+2028/U+2029 are escaped too, so the text is also valid JavaScript.
 */
export function jsonForScriptElement (value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
