/*! Ringtrail intent script. AGPL-3.0-or-later. See docs/tracking.md. */
// Takes the visitor's pool number once a phone number is in view or touched. Plain ES2017.
(function (w, d) {
  'use strict';
  var api = w.ringtrail;
  if (!api || !api.data || !api.apply || api.intent) return;
  api.intent = 1;
  var data = api.data;
  var ANALYTICS = /^(_ga(_[\w-]+)?|_gac_[\w-]+|_ym_uid|_fbp|_fbc|_gcl_aw)$/;
  var TEL = 'a[href^="tel:"],a[href^="callto:"],[data-ringtrail-phone]';
  var EVENTS = ['touchstart', 'mousedown', 'click', 'focusin'];
  var WAIT_MS = 1500; // a tapped phone link waits at most this long for the visitor's number
  var phones = TEL + (data.selectors || []).map(function (s) { return ',' + s; }).join('');
  var shown = (data.numbers || []).map(function (x) { return x.number; });
  // The digits to look for: the number t.js put on the page, or the page's own if it put none.
  var keys = shown.concat((data.intent || {}).numbers || []).map(function (n) {
    return String(n).replace(/\D/g, '').slice(-7);
  }).filter(function (k) { return k.length > 5; });
  var asked = null, done = 0, io = null, mo = null, timer = 0;

  function digits(el) { return (el.textContent || '').replace(/\D/g, ''); }

  function cookies() {
    var out = {};
    try {
      d.cookie.split(';').forEach(function (part) {
        var eq = part.indexOf('='), name = part.slice(0, eq).trim();
        if (eq > 0 && ANALYTICS.test(name)) out[name] = part.slice(eq + 1).trim();
      });
    } catch (e) { /* cookies blocked */ }
    return out;
  }

  /** Ask for the number once; resolves when the page shows it (or nothing came). */
  function intent() {
    if (asked) return asked;
    stop();
    asked = fetch(api.base + 't/v1/visit', {
      method: 'POST', credentials: 'omit', cache: 'no-store', keepalive: true,
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({
        key: api.key, visitor: api.visitor, url: location.href, referrer: d.referrer,
        cookies: cookies(), visible: !d.hidden, intent: true
      })
    }).then(function (res) { return res.ok ? res.json() : null; }).then(function (next) {
      if (!next || !Array.isArray(next.numbers)) return;
      var numbers = next.numbers.slice();
      // What t.js wrote before (the pool's default) becomes the new number too.
      next.numbers.forEach(function (x) {
        shown.forEach(function (old) { numbers.push({ original: old, number: x.number, kind: x.kind }); });
      });
      next.numbers = numbers;
      api.apply(next, api.base);
    }).catch(function () { /* the default number stays */ }).then(function () { done = 1; });
    return asked;
  }

  function seen(entries) {
    if (entries.some(function (e) { return e.isIntersecting; })) intent();
  }

  /** Watch every element that shows a phone number: marked ones, tel: links, matching text. */
  function scan() {
    timer = 0;
    if (asked) return;
    [].forEach.call(d.querySelectorAll(phones), function (el) { io.observe(el); });
    var walk = d.createTreeWalker(d.body || d.documentElement, 4), n;
    while ((n = walk.nextNode())) {
      var el = n.parentElement;
      if (!el || !/\d/.test(n.data) || /^(SCRIPT|STYLE|NOSCRIPT|TEMPLATE)$/.test(el.tagName)) continue;
      var dg = digits(el);
      if (keys.some(function (k) { return dg.indexOf(k) >= 0; })) io.observe(el);
    }
  }

  /** A touch, press or focus on a phone link: take the number, then follow the link to it. */
  function touched(e) {
    var link = e.target && e.target.closest && e.target.closest(TEL);
    if (!link) return;
    var pending = intent();
    if (e.type !== 'click' || done || !/^\s*(tel|callto):/i.test(link.getAttribute('href') || '')) return;
    // Follow the link once it calls the visitor's own number (at most WAIT_MS later).
    e.preventDefault();
    var go = function () { go = function () {}; location.href = link.getAttribute('href'); };
    setTimeout(function () { go(); }, WAIT_MS);
    pending.then(function () { go(); });
  }

  function stop() {
    if (io) io.disconnect();
    if (mo) mo.disconnect();
    EVENTS.forEach(function (t) { d.removeEventListener(t, touched, true); });
    d.addEventListener('click', touched, true);
  }

  if (!w.IntersectionObserver || !w.fetch) return intent();
  io = new IntersectionObserver(seen);
  EVENTS.forEach(function (t) { d.addEventListener(t, touched, true); });
  if (w.MutationObserver) {
    mo = new MutationObserver(function () { if (!timer) timer = setTimeout(scan, 200); });
    mo.observe(d.documentElement, { childList: true, subtree: true });
  }
  scan();
})(window, document);
