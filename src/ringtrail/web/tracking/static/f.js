/*! Ringtrail forms script: a submitted form becomes a lead. AGPL-3.0-or-later.
 * Loaded by /t.js for projects that track forms. Plain ES2017, no dependencies. See docs/leads.md. */
(function (w, d) {
  'use strict';
  var rt = w.ringtrail;
  if (!rt || !rt.base || rt.form) return;
  var cfg = (rt.data && rt.data.forms) || {};
  var selector = cfg.selector || 'form';
  var allowed = (cfg.fields || []).map(function (n) { return String(n).toLowerCase(); });
  var SKIP_TYPES = /^(password|file|submit|button|reset|image)$/i;
  var SECRET = /pass|pwd|secret|token|csrf|captcha|card|cc-?(num|number|exp|csc|cvv)|cvv|cvc|security.?code|iban|ssn|pin$/i;
  var MAX_FIELDS = 30;

  /** 13-19 digits passing the Luhn check: a payment card number, never sent. */
  function isCard(value) {
    var dg = value.replace(/[ -]/g, '');
    if (!/^\d{13,19}$/.test(dg) || !/^\d[\d -]+\d$/.test(value)) return false;
    for (var sum = 0, i = 0; i < dg.length; i++) {
      var n = +dg[dg.length - 1 - i];
      if (i % 2) n = n > 4 ? n * 2 - 9 : n * 2;
      sum += n;
    }
    return sum % 10 === 0;
  }

  function tracked(form) {
    try {
      return form && form.nodeName === 'FORM' && !form.hasAttribute('data-ringtrail-ignore') &&
        form.matches(selector);
    } catch (e) { return false; }
  }

  /** The fields a lead may keep: never passwords, cards, files; hidden ones only if named. */
  function fieldsOf(form) {
    var out = {}, count = 0;
    [].forEach.call(form.elements, function (el) {
      var name = el.name || el.id, type = (el.type || '').toLowerCase();
      if (!name || el.disabled || count >= MAX_FIELDS || SKIP_TYPES.test(type)) return;
      if (SECRET.test(name) || /^cc-/.test(el.autocomplete || '')) return;
      if (type === 'hidden' && allowed.indexOf(name.toLowerCase()) < 0) return;
      if ((type === 'checkbox' || type === 'radio') && !el.checked) return;
      var value = type === 'select-multiple'
        ? [].filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; }).join(', ')
        : String(el.value || '');
      value = value.trim().slice(0, 500);
      if (!value || isCard(value)) return;
      out[name] = out[name] ? out[name] + ', ' + value : value;
      count++;
    });
    return out;
  }

  function visitor() {
    var m = d.cookie.match(/(?:^|;\s*)_rt_vid=([^;]*)/);
    try { return m ? decodeURIComponent(m[1]) : rt.visitor || w.localStorage.getItem('_rt_vid'); } catch (e) { return rt.visitor || null; }
  }

  /** A honeypot with no name: the site's backend never gets it, a form-filling bot fills it. */
  function trap(form) {
    if (form.querySelector('[data-rt-hp]')) return;
    var el = d.createElement('input');
    el.setAttribute('data-rt-hp', '');
    el.tabIndex = -1;
    el.autocomplete = 'off';
    el.setAttribute('aria-hidden', 'true');
    el.style.cssText = 'position:absolute;left:-9999px;width:1px;height:1px;opacity:0';
    form.appendChild(el);
  }

  function trapAll() {
    [].forEach.call(d.forms, function (f) { if (tracked(f)) trap(f); });
  }

  /** Send the form once: a second submit of the same values within a minute reuses its id. */
  function capture(form) {
    if (!tracked(form)) return;
    var fields = fieldsOf(form), sig = JSON.stringify(fields), now = Date.now();
    var hp = form.querySelector('[data-rt-hp]');
    var last = form.__rtSent;
    if (last && last.sig === sig && now - last.at < 60000) return;
    var id = (Date.now().toString(36) + Math.random().toString(36).slice(2)).slice(0, 24);
    form.__rtSent = { sig: sig, at: now };
    var body = JSON.stringify({
      key: rt.key, visitor: visitor(), id: id, url: location.href,
      form: form.id || form.getAttribute('name') || '', fields: fields, hp: hp ? hp.value : ''
    });
    var url = rt.base + 't/v1/form';
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
      fetch(url, {
        method: 'POST', mode: 'cors', credentials: 'omit', keepalive: true,
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: body
      }).catch(function () { /* the page goes on */ });
    }
  }

  /** Tell Ringtrail about a form the page sends by itself (no submit event), e.g. with fetch. */
  rt.form = function (form) { try { capture(form); } catch (e) { /* never break the page */ } };
  // Capture phase: seen before the page's own handlers, even AJAX ones that stop the event.
  d.addEventListener('submit', function (e) { rt.form(e.target); }, true);
  var proto = w.HTMLFormElement && HTMLFormElement.prototype, submit = proto && proto.submit;
  if (submit) proto.submit = function () { rt.form(this); return submit.apply(this, arguments); };
  trapAll();
  if (w.MutationObserver) {
    var timer = 0;
    new MutationObserver(function () {
      clearTimeout(timer);
      timer = setTimeout(trapAll, 100);
    }).observe(d.documentElement, { childList: true, subtree: true });
  }
})(window, document);
