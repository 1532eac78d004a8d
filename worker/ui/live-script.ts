// The page's one script, inlined by nonce. It keeps `#live` current: one WebSocket per watched
// target (`data-watch`), and on every `changed` it fetches the same server-rendered fragment
// (`data-fragment`) and swaps it in, so a live page and a reloaded one can never disagree. It
// reconnects by itself (0.5 s doubling to 30 s, jittered), refreshes after every reconnect (a change
// may have happened meanwhile) and every minute while visible, sends the hub's heartbeat text every
// 25 s so proxies keep the socket, ticks the elapsed time of running steps, and shows times in the
// reader's time zone.
export const LIVE_SCRIPT = `
(function () {
  'use strict';
  var body = document.body;
  var live = document.getElementById('live');
  var badge = document.getElementById('live-state');
  var fragment = body.getAttribute('data-fragment');
  var watch = (body.getAttribute('data-watch') || '').split(' ').filter(Boolean);

  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function localTimes(root) {
    var times = root.querySelectorAll('time[datetime]');
    for (var i = 0; i < times.length; i++) {
      var t = times[i];
      if (t.getAttribute('data-localized')) continue;
      var d = new Date(t.getAttribute('datetime'));
      if (isNaN(d.getTime())) continue;
      t.title = t.textContent;
      t.textContent = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
      t.setAttribute('data-localized', '1');
    }
  }
  function tick() {
    var running = document.querySelectorAll('[data-since]');
    for (var i = 0; i < running.length; i++) {
      var ms = Math.max(0, Date.now() - Number(running[i].getAttribute('data-since')));
      running[i].textContent = ms < 60000 ? (ms / 1000).toFixed(0) + ' s' : Math.floor(ms / 60000) + ' min ' + Math.floor(ms % 60000 / 1000) + ' s';
    }
  }
  localTimes(document);
  setInterval(tick, 1000);
  if (!live || !fragment || !watch.length || !('WebSocket' in window)) return;

  function show(state, text) {
    if (!badge) return;
    badge.setAttribute('data-state', state);
    badge.textContent = text;
  }

  var loading = false, again = false;
  function refresh() {
    if (loading) { again = true; return; }
    loading = true;
    again = false;
    fetch(fragment, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/html' } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) { location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        var open = {};
        var details = live.querySelectorAll('details[id]');
        for (var i = 0; i < details.length; i++) open[details[i].id] = details[i].open;
        var parsed = new DOMParser().parseFromString(html, 'text/html');
        live.replaceChildren.apply(live, Array.prototype.slice.call(parsed.body.childNodes));
        for (var id in open) { var d = document.getElementById(id); if (d) d.open = open[id]; }
        localTimes(live);
        tick();
        live.setAttribute('data-refreshed', String(Date.now()));
      })
      .catch(function () {})
      .then(function () { loading = false; if (again) refresh(); });
  }

  var openSockets = 0;
  function connect(path, attempt) {
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
    var socket, beat = null, opened = false;
    try { socket = new WebSocket(url); } catch (e) { return retry(path, attempt); }
    socket.onopen = function () {
      opened = true;
      openSockets++;
      attempt = 0;
      show('live', 'live');
      refresh();
      beat = setInterval(function () { if (socket.readyState === 1) socket.send('{"type":"ping"}'); }, 25000);
    };
    socket.onmessage = function (event) {
      try { if (JSON.parse(event.data).type === 'changed') refresh(); } catch (e) {}
    };
    socket.onclose = function () {
      if (beat) clearInterval(beat);
      if (opened) openSockets--;
      if (openSockets <= 0) show('reconnecting', 'reconnecting…');
      retry(path, attempt + 1);
    };
  }
  function retry(path, attempt) {
    var delay = Math.min(30000, 500 * Math.pow(2, Math.min(attempt, 6)));
    setTimeout(function () { connect(path, attempt); }, delay / 2 + Math.random() * delay / 2);
  }
  document.addEventListener('visibilitychange', function () { if (!document.hidden) refresh(); });
  // A safety net: the hub announces every change it makes, but times shown relative to now ("2 min
  // ago") and anything missed between a drop and a reconnect still want a quiet refresh now and then.
  setInterval(function () { if (!document.hidden) refresh(); }, 60000);
  show('connecting', 'connecting…');
  for (var i = 0; i < watch.length; i++) connect(watch[i], 0);
})();
`;
