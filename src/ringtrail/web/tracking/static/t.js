/*! Ringtrail tracking script: shows each visitor a tracking phone number. AGPL-3.0-or-later.
 * Plain ES2017, no dependencies, no build step. See docs/tracking.md. */
(function (w, d) {
  'use strict';
  // The tag may be on the page twice (theme + tag manager): only the first copy runs.
  if (w.ringtrail && w.ringtrail.run) return;

  var VISIT_TIMEOUT_MS = 3000; // no answer by then: the page keeps its own numbers
  var BATCH_MS = 80; // DOM changes are swapped in batches, at most this long after they happen
  var COOKIE = '_rt_vid';
  var COOKIE_SECONDS = 30 * 24 * 3600;
  var SKIP = /^(script|style|textarea|input|select|option|template|noscript|head|iframe|object)$/i;
  var INLINE = /^(a|abbr|b|bdi|bdo|big|cite|code|data|dfn|em|font|i|kbd|label|mark|nobr|q|s|samp|small|span|strong|sub|sup|time|tt|u|var)$/i;
  var RUN = /\d(?:[\s().\/\u2010-\u2015-]{0,4}\d)*/g; // digits with the separators people write
  var ATTRS = ['title', 'aria-label'];
  var ANALYTICS = /^(_ga(_[\w-]+)?|_gac_[\w-]+|_ym_uid|_fbp|_fbc|_gcl_aw)$/;
  var CC2 = ' 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 ' +
    '60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 '; // two-digit country codes

  var debug = /[?&]rt_debug=1(&|$)/.test(location.search);
  var matchers = [];
  var phoneSelector = '[data-ringtrail-phone]';
  var callbacks = [];
  var applied = false;
  var observer = null;
  var watched = typeof WeakSet === 'function' ? new WeakSet() : null;
  var pending = [];
  var batchTimer = 0;
  var session = null; // {key, visitor, visit, seconds, timer, stopped}

  function log() {
    if (debug) try { console.debug.apply(console, ['[ringtrail]'].concat([].slice.call(arguments))); } catch (e) { /* never */ }
  }

  function guard(fn) {
    return function () {
      try { return fn.apply(this, arguments); } catch (e) { log('error', e); }
    };
  }

  var api = w.ringtrail = {
    numbers: [],
    /** Swap numbers under `root` (default: the whole page) now, e.g. after an SPA route change. */
    run: guard(function (root) {
      if (!matchers.length) return;
      root = root || d.documentElement;
      if (root.nodeType === 11) watch(root);
      swapRoots([root]);
    }),
    /** Call `cb(numbers)` once the numbers are known (at once if they already are). */
    onNumber: guard(function (cb) {
      if (typeof cb !== 'function') return;
      callbacks.push(cb);
      if (applied) notify(cb);
    })
  };

  function notify(cb) {
    try { cb(api.numbers); } catch (e) { log('onNumber callback failed', e); }
  }

  // ---- phone numbers ----------------------------------------------------------------------

  /** An E.164 number as {d: all digits, cc: country code, n: national significant number}. */
  function parse(e164) {
    var dg = String(e164 || '').replace(/\D/g, '');
    var len = /^[17]/.test(dg) ? 1 : CC2.indexOf(' ' + dg.slice(0, 2) + ' ') >= 0 ? 2 : 3;
    return { d: dg, cc: dg.slice(0, len), n: dg.slice(len) };
  }

  /** How the page may write what precedes the national number: country code, trunk 0/8... */
  function matcher(item) {
    var o = parse(item.original), cc = o.cc;
    var pre = ['011' + cc, '810' + cc, '00' + cc, cc + '0', cc, '80', '8', '0', ''];
    pre = pre.filter(function (p, i) { return pre.indexOf(p) === i; });
    pre.sort(function (a, b) { return b.length - a.length; });
    return { o: o, t: parse(item.number), pre: pre, item: item };
  }

  /** The matcher whose original is `dg` written with any allowed prefix, or null. */
  function matchWhole(dg) {
    for (var i = 0; i < matchers.length; i++) {
      var mt = matchers[i];
      for (var j = 0; j < mt.pre.length; j++) {
        if (dg === mt.pre[j] + mt.o.n) return mt;
      }
    }
    return null;
  }

  /** A match of an original starting at digit `s` and ending on a group boundary, or null. */
  function matchAt(dg, groups, s) {
    for (var i = 0; i < matchers.length; i++) {
      var mt = matchers[i], n = mt.o.n;
      for (var j = 0; j < mt.pre.length; j++) {
        var p = mt.pre[j], end = s + p.length + n.length;
        if (end <= dg.length && (end === dg.length || groups[end]) &&
            dg.substr(s, p.length) === p && dg.substr(s + p.length, n.length) === n) {
          return { mt: mt, end: end, digits: mt.t.cc === mt.o.cc ? p + mt.t.n : mt.t.d };
        }
      }
    }
    return null;
  }

  /** Write `digits` into the digit positions `pos`, from the right, keeping every other char. */
  function fill(edits, pos, digits) {
    var k = digits.length - pos.length;
    for (var i = 0; i < pos.length; i++) {
      edits[pos[i]] = i + k < 0 ? '' : i === 0 && k > 0 ? digits.slice(0, k + 1) : digits[i + k];
    }
  }

  /** Every original number in `text`: record its new characters in `edits`; return the count. */
  function findNumbers(text, edits) {
    var found = 0, m;
    RUN.lastIndex = 0;
    while ((m = RUN.exec(text))) {
      var run = m[0], pos = [], groups = [], dg = '';
      for (var i = 0; i < run.length; i++) {
        var c = run.charCodeAt(i);
        if (c < 48 || c > 57) continue;
        groups.push(!pos.length || pos[pos.length - 1] !== m.index + i - 1);
        pos.push(m.index + i);
        dg += run[i];
      }
      if (dg.length < 6) continue;
      for (var s = 0; s < dg.length; s++) {
        var hit = groups[s] && matchAt(dg, groups, s);
        if (!hit) continue;
        fill(edits, pos.slice(s, hit.end), hit.digits);
        s = hit.end - 1;
        found++;
      }
    }
    return found;
  }

  /** A marked phone element with no recognisable original: write the number over its digits. */
  function forceNumber(text, edits, mt) {
    var pos = [];
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c > 47 && c < 58) pos.push(i);
    }
    var dg = pos.map(function (p) { return text[p]; }).join('');
    if (dg.length < 7 || dg.slice(-mt.t.n.length) === mt.t.n) return;
    fill(edits, pos, mt.t.d.slice(Math.max(0, mt.t.d.length - pos.length)));
  }

  function edited(text, edits, from) {
    var out = '';
    for (var i = 0; i < text.length; i++) {
      var r = edits[from + i];
      out += r === undefined ? text[i] : r;
    }
    return out;
  }

  /** Swap numbers in the joined text of `nodes`, so numbers split across elements swap whole. */
  function swapTexts(nodes, forced) {
    var text = '', starts = [], edits = {};
    for (var i = 0; i < nodes.length; i++) {
      starts.push(text.length);
      text += nodes[i].data;
    }
    if (!/\d/.test(text)) return;
    if (!findNumbers(text, edits) && forced) forceNumber(text, edits, forced);
    var at = Object.keys(edits).map(Number);
    if (!at.length) return;
    for (i = 0; i < nodes.length; i++) {
      var from = starts[i], to = from + nodes[i].data.length;
      if (!at.some(function (x) { return x >= from && x < to; })) continue;
      var out = edited(nodes[i].data, edits, from);
      if (out !== nodes[i].data) nodes[i].data = out;
    }
  }

  /** `tel:` and `callto:` links to an original now call the tracking number (E.164). */
  function swapHref(el, forced) {
    var href = el.getAttribute('href');
    if (!href || !/^\s*(tel|callto):/i.test(href)) return;
    var colon = href.indexOf(':'), rest = href.slice(colon + 1), cut = rest.search(/[;?]/);
    var number = cut < 0 ? rest : rest.slice(0, cut);
    try { number = decodeURIComponent(number); } catch (e) { /* keep it as written */ }
    var dg = number.replace(/\D/g, '');
    var mt = matchWhole(dg) || (forced && dg.length >= 7 && dg.slice(-forced.t.n.length) !== forced.t.n ? forced : null);
    if (mt) el.setAttribute('href', href.slice(0, colon + 1) + '+' + mt.t.d + (cut < 0 ? '' : rest.slice(cut)));
  }

  function swapAttributes(el) {
    swapHref(el, null);
    for (var i = 0; i < ATTRS.length; i++) {
      var value = el.getAttribute(ATTRS[i]), edits = {};
      if (value && findNumbers(value, edits)) el.setAttribute(ATTRS[i], edited(value, edits, 0));
    }
  }

  // ---- walking the page -------------------------------------------------------------------

  function skipped(el) {
    return SKIP.test(el.tagName) || el.isContentEditable || el.hasAttribute('data-ringtrail-ignore');
  }

  function insideSkipped(node) {
    for (var el = node.nodeType === 1 ? node : node.parentElement; el; el = el.parentElement) {
      if (skipped(el)) return true;
    }
    return false;
  }

  /** The nearest ancestor (or self) that is not an inline element: a number never spans it. */
  function blockOf(node) {
    var el = node.nodeType === 1 ? node : node.parentNode;
    while (el && el.nodeType === 1 && INLINE.test(el.tagName) && el.parentNode) el = el.parentNode;
    return el;
  }

  function walker(root, what) {
    return d.createTreeWalker(root, what, {
      acceptNode: function (n) { return n.nodeType === 1 && skipped(n) ? 2 : 1; }
    });
  }

  /** Swap every number under `root`: text grouped per block, attributes, open shadow roots. */
  function swapTree(root) {
    var walk = walker(root, 5), texts = [], block = null, shadows = [], n;
    var flush = function () { if (texts.length) swapTexts(texts, null); texts = []; };
    while ((n = walk.nextNode())) {
      if (n.nodeType === 1) {
        swapAttributes(n);
        if (n.shadowRoot) shadows.push(n.shadowRoot);
        if (!INLINE.test(n.tagName)) { flush(); block = n; }
      } else {
        var b = blockOf(n);
        if (b !== block) { flush(); block = b; }
        texts.push(n);
      }
    }
    flush();
    swapPhoneElements(root);
    shadows.forEach(function (s) { watch(s); swapTree(s); });
  }

  /** Elements the site marked as phones (data attribute or configured selectors). */
  function swapPhoneElements(root) {
    var found = [].slice.call(root.querySelectorAll(phoneSelector));
    if (root.nodeType === 1 && root.matches(phoneSelector)) found.push(root);
    found.forEach(function (el) {
      if (insideSkipped(el)) return;
      var mt = matchWhole(parse(el.getAttribute('data-ringtrail-phone')).d) || matchers[0];
      var walk = walker(el, 4), texts = [], n;
      while ((n = walk.nextNode())) texts.push(n);
      swapTexts(texts, mt);
      swapHref(el, mt);
    });
  }

  function swapRoots(roots) {
    if (observer) queue(observer.takeRecords());
    roots = roots.concat(pending).filter(function (r, i, all) { return all.indexOf(r) === i; });
    pending = [];
    if (roots.length > 50) roots = [d.documentElement];
    roots.forEach(function (root) {
      var outer = roots.some(function (r) { return r !== root && r.contains(root); });
      if (!outer && root.isConnected !== false && !insideSkipped(root)) swapTree(root);
    });
    if (observer) observer.takeRecords(); // our own writes are not news
  }

  // ---- watching for late content ----------------------------------------------------------

  function queue(records) {
    records.forEach(function (r) {
      var nodes = r.type === 'childList' ? [].slice.call(r.addedNodes) : [r.target];
      nodes.forEach(function (node) {
        var root = blockOf(node);
        if (root && pending.indexOf(root) < 0) pending.push(root);
      });
    });
    if (pending.length && !batchTimer) {
      batchTimer = setTimeout(guard(function () { batchTimer = 0; swapRoots([]); }), BATCH_MS);
    }
  }

  function watch(target) {
    if (!w.MutationObserver || (watched && watched.has(target))) return;
    if (!observer) observer = new MutationObserver(guard(queue));
    observer.observe(target, {
      childList: true, subtree: true, characterData: true,
      attributes: true, attributeFilter: ['href', 'title', 'aria-label', 'data-ringtrail-phone']
    });
    if (watched) watched.add(target);
  }

  // ---- talking to Ringtrail ---------------------------------------------------------------

  function readCookie(name) {
    try {
      var m = d.cookie.match(new RegExp('(?:^|;\\s*)' + name + '=([^;]*)'));
      return m ? decodeURIComponent(m[1]) : null;
    } catch (e) { return null; }
  }

  function readVisitor() {
    var token = readCookie(COOKIE);
    if (!token) try { token = w.localStorage.getItem(COOKIE); } catch (e) { /* blocked */ }
    return token || null;
  }

  /** Keep the visitor token in a first-party cookie; localStorage when cookies are blocked. */
  function storeVisitor(token, domain) {
    if (!token) return;
    var cookie = COOKIE + '=' + encodeURIComponent(token) + '; path=/; max-age=' + COOKIE_SECONDS +
      '; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');
    try {
      if (domain) d.cookie = cookie + '; domain=' + domain;
      if (readCookie(COOKIE) !== token) d.cookie = cookie;
    } catch (e) { /* cookies blocked */ }
    if (readCookie(COOKIE) !== token) try { w.localStorage.setItem(COOKIE, token); } catch (e) { /* blocked */ }
  }

  function analyticsCookies() {
    var out = {};
    try {
      d.cookie.split(';').forEach(function (part) {
        var eq = part.indexOf('='), name = part.slice(0, eq).trim();
        if (eq > 0 && ANALYTICS.test(name)) out[name] = part.slice(eq + 1).trim();
      });
    } catch (e) { /* cookies blocked */ }
    return out;
  }

  /** POST JSON as text/plain (a CORS simple request); resolves to the Response, never rejects. */
  function post(base, path, body, timeout) {
    var ctrl = w.AbortController ? new AbortController() : null;
    var timer = ctrl && timeout ? setTimeout(function () { ctrl.abort(); }, timeout) : 0;
    return fetch(base + 't/v1/' + path, {
      method: 'POST', mode: 'cors', credentials: 'omit', cache: 'no-store',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify(body), signal: ctrl ? ctrl.signal : undefined
    }).then(function (res) { clearTimeout(timer); return res; }, function (e) {
      clearTimeout(timer);
      log(path, 'failed', e);
      return null;
    });
  }

  function heartbeat(base) {
    if (session.stopped) return;
    post(base, 'heartbeat', { key: session.key, visitor: session.visitor, visit: session.visit }, 0)
      .then(function (res) {
        if (res && (res.status === 404 || res.status === 410)) stopHeartbeats();
      }).catch(function () { /* never */ });
  }

  function stopHeartbeats() {
    session.stopped = true;
    clearTimeout(session.timer);
    log('heartbeats stopped');
  }

  /** Heartbeats every `seconds` while the tab is visible; one at once on coming back. */
  function planHeartbeats(base) {
    var tick = guard(function () { heartbeat(base); plan(); });
    var plan = function () {
      clearTimeout(session.timer);
      if (!session.stopped && d.visibilityState === 'visible') {
        session.timer = setTimeout(tick, session.seconds * 1000);
      }
    };
    d.addEventListener('visibilitychange', guard(function () {
      if (d.visibilityState === 'visible') heartbeat(base);
      plan();
    }));
    plan();
  }

  function apply(data, base) {
    storeVisitor(data.visitor, data.cookie_domain);
    var numbers = (Array.isArray(data.numbers) ? data.numbers : []).filter(function (x) {
      return x && typeof x.original === 'string' && typeof x.number === 'string' &&
        parse(x.original).d !== parse(x.number).d && parse(x.original).n.length > 4;
    });
    var selectors = (Array.isArray(data.selectors) ? data.selectors : []).filter(function (s) {
      try { return typeof s === 'string' && (d.querySelector(s), true); } catch (e) { return false; }
    });
    phoneSelector = ['[data-ringtrail-phone]'].concat(selectors).join(',');
    matchers = numbers.map(matcher);
    api.numbers = numbers;
    log('numbers', numbers);
    if (matchers.length) {
      watch(d.documentElement);
      swapRoots([d.documentElement]);
    }
    applied = true;
    callbacks.forEach(notify);
    try { d.dispatchEvent(new CustomEvent('ringtrail:numbers', { detail: numbers })); } catch (e) { /* old browser */ }
    if (data.visit && numbers.some(function (x) { return x.kind === 'pool'; })) {
      session.visit = data.visit;
      session.visitor = data.visitor;
      session.seconds = Math.max(5, Number(data.heartbeat_seconds) || 30);
      planHeartbeats(base);
    }
  }

  /** Feature scripts the project enabled (forms, callback widget), from the API's origin. */
  function loadScripts(data, base) {
    api.key = session.key; api.base = base; api.visitor = data.visitor; api.data = data; api.apply = apply;
    (data.scripts || []).forEach(function (name) {
      if (!/^\w+\.js$/.test(name)) return;
      var el = d.createElement('script');
      el.async = true;
      el.src = base + name;
      d.head.appendChild(el);
    });
  }

  function findScript() {
    var s = d.currentScript;
    if (s && s.getAttribute('data-key')) return s;
    var all = d.querySelectorAll('script[data-key][src]');
    for (var i = 0; i < all.length; i++) {
      if (/\/t\.js([?#].*)?$/.test(all[i].src)) return all[i];
    }
    return null;
  }

  var start = guard(function () {
    var script = findScript();
    if (!script || !w.fetch || !w.JSON) return log('no tag with data-key, or no fetch');
    var custom = script.getAttribute('data-api');
    var base = new URL(custom || '.', custom ? location.href : script.src).href.replace(/\/*$/, '/');
    session = { key: script.getAttribute('data-key'), visitor: readVisitor(), visit: null, stopped: false };
    var late = false;
    var wait = +script.getAttribute('data-wait') || VISIT_TIMEOUT_MS; // a slow site may wait longer
    var deadline = setTimeout(function () { late = true; log('no answer in time; originals stay'); }, wait);
    var begin = function (visitor) {
      post(base, 'visit', {
        key: session.key, visitor: visitor, url: location.href, referrer: d.referrer,
        cookies: analyticsCookies(), visible: !d.hidden
      }, 0).then(function (res) { // a late answer still loads the feature scripts
        if (!res) return;
        return res.json().then(function (data) {
          // A token signed with an older key (the server's key was changed): start afresh once.
          if (res.status === 400 && visitor && data && data.reason === 'forged_token' && !late) {
            return begin(session.visitor = null);
          }
          clearTimeout(deadline);
          // Why no number: the reason codes are in docs/tracking.md, "Check your installation".
          var why = data && data.reason ? [data.reason, data.bot || '', data.detail || ''] : [];
          if (res.status !== 200) return log.apply(0, ['visit refused', res.status].concat(why));
          if (why.length) log.apply(0, ['no tracking number:'].concat(why));
          if (data) guard(loadScripts)(data, base);
          if (!late && data) guard(apply)(data, base);
        });
      }).catch(function (e) { log('visit failed', e); });
    };
    begin(session.visitor);
  });
  start();
})(window, document);
