/**
 * The live view's page: one self-contained HTML document (inline CSS and script, nothing fetched
 * from elsewhere) that follows GET /events and redraws the MAAR's state on each snapshot. Every
 * value is put in as text (textContent), never as markup: MN ids come from the API's callers.
 */
export const LIVE_VIEW_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dmm-mesh MAAR</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; background: #fafbfc; }
  h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
  h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
  .muted { color: #57606a; font-size: .85rem; }
  code, td { font-family: ui-monospace, monospace; font-size: .85rem; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
  th { background: #f0f3f6; font-size: .8rem; }
  .empty { color: #8c959f; font-style: italic; }
  #state { display: inline-block; padding: .1rem .5rem; border-radius: .8rem; font-size: .8rem; background: #eee; }
  #state.live { background: #dafbe1; color: #116329; }
  #state.down { background: #ffebe9; color: #a40e26; }
  .pending { color: #9a6700; font-weight: bold; }
</style>
</head>
<body>
<h1>MAAR <span id="name">…</span> <span id="state">connecting</span></h1>
<div class="muted">peer <code id="peer-id"></code> · tunnel address <code id="address"></code></div>
<div class="muted">listening on <code id="multiaddrs"></code></div>

<h2>Peers</h2>
<div id="peers"></div>
<h2>Serving (MNs attached here; uplink tunnels to their previous anchors)</h2>
<div id="serving"></div>
<h2>Anchored (MNs that moved on; downlink tunnel to their serving MAAR)</h2>
<div id="anchored"></div>
<h2>Reserved (attach in progress)</h2>
<div id="reserved"></div>
<h2>Recent handovers</h2>
<div id="handovers"></div>

<script>
'use strict'
function el (tag, text, cls) {
  var e = document.createElement(tag)
  if (text !== undefined) e.textContent = String(text)
  if (cls) e.className = cls
  return e
}
function lines (items) {
  var d = document.createElement('div')
  items.forEach(function (i) { d.appendChild(typeof i === 'string' ? el('div', i) : i) })
  return d
}
// rows: [{ key, cells: [string | Node] }]
function table (id, headers, rows) {
  var host = document.getElementById(id)
  host.replaceChildren()
  if (rows.length === 0) { host.appendChild(el('div', 'none', 'empty')); return }
  var t = el('table')
  var head = el('tr')
  headers.forEach(function (h) { head.appendChild(el('th', h)) })
  t.appendChild(head)
  rows.forEach(function (r) {
    var tr = el('tr')
    tr.dataset.key = r.key
    r.cells.forEach(function (c) {
      var td = el('td')
      if (typeof c === 'string') td.textContent = c; else td.appendChild(c)
      tr.appendChild(td)
    })
    t.appendChild(tr)
  })
  host.appendChild(t)
}
function ms (v) { return typeof v === 'number' ? v.toFixed(2) + ' ms' : '' }
function render (s) {
  document.getElementById('name').textContent = s.maar.name
  document.getElementById('peer-id').textContent = s.maar.peerId
  document.getElementById('address').textContent = s.maar.address
  document.getElementById('multiaddrs').textContent = s.maar.multiaddrs.join('  ')
  document.title = 'dmm-mesh ' + s.maar.name
  table('peers', ['peer id', 'tunnel address', 'pools', 'connections'], s.peers.map(function (p) {
    return { key: p.peerId, cells: [p.peerId, p.address || '(not met over PBU/PBA yet)', (p.pools || []).join(' '), lines(p.remoteAddrs)] }
  }))
  table('serving', ['MN', 'prefixes (native)', 'access', 'uplink tunnels', 'expires'], s.serving.map(function (b) {
    return { key: b.mnId, cells: [
      b.mnId, lines(b.prefixes),
      b.access ? b.access.link + ' ' + b.access.linkLayerId : '',
      lines(b.uplinks.map(function (u) {
        return el('div', u.prefix + ' \\u21c4 ' + u.anchor + (u.pending ? ' (pending)' : ''), u.pending ? 'pending' : '')
      })),
      b.expiresAt || '' ] }
  }))
  table('anchored', ['MN', 'prefixes (anchored here)', 'downlink tunnel to'], s.anchored.map(function (b) {
    return { key: b.mnId, cells: [b.mnId, lines(b.prefixes), b.downlink.servingMaar] }
  }))
  table('reserved', ['MN', 'prefixes'], s.reserved.map(function (b) {
    return { key: b.mnId, cells: [b.mnId, lines(b.prefixes)] }
  }))
  table('handovers', ['at', 'MN', 'kind', 'prefix here', 'lookup', 'PBU/PBA', 'program', 'total', 'anchors answered'], s.handovers.map(function (h) {
    var r = h.report
    return { key: h.at + ' ' + r.mnId, cells: [
      h.at, r.mnId, r.kind + (r.complete ? '' : ' (partial)'), r.localPrefix,
      ms(r.lookupMs) + ' (' + r.lookupSource + ')', ms(r.signallingMs), ms(r.programMs), ms(r.totalMs),
      lines(r.peers.map(function (p) { return p.address + ': ' + p.status })) ] }
  }))
}
var state = document.getElementById('state')
var events = new EventSource('events')
events.onopen = function () { state.textContent = 'live'; state.className = 'live' }
events.onerror = function () { state.textContent = 'reconnecting'; state.className = 'down' }
events.onmessage = function (m) { render(JSON.parse(m.data)) }
</script>
</body>
</html>
`
