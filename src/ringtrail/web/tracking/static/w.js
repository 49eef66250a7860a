/*! Ringtrail callback widget: "call me back" button and form. AGPL-3.0-or-later.
 * Loaded by /t.js for projects that switched it on. Plain ES2017, no dependencies, no build
 * step. See docs/leads.md. */
(function (w, d) {
  'use strict';
  var rt = w.ringtrail;
  if (!rt || !rt.key || !rt.base || rt.widget) return;
  rt.widget = {};
  var base = rt.base;
  var cfg = null;
  var host = null;
  var root = null;
  var offered = false;
  var timer = 0;

  function debug() {
    if (/[?&]rt_debug=1(&|$)/.test(location.search)) {
      try { console.debug.apply(console, ['[ringtrail widget]'].concat([].slice.call(arguments))); } catch (e) { /* never */ }
    }
  }

  function el(tag, attrs, text) {
    var node = d.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function css(c) {
    var side = c.position === 'bottom-left' ? 'left' : 'right';
    return ':host{all:initial}' +
      '.b,.p{position:fixed;bottom:20px;' + side + ':20px;z-index:2147483000;font:15px/1.4 system-ui,sans-serif}' +
      '.b{border:0;border-radius:24px;padding:12px 18px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3);background:' + c.colour + ';color:' + c.text_colour + '}' +
      '.p{width:290px;max-width:calc(100vw - 40px);box-sizing:border-box;background:#fff;color:#222;border-radius:10px;padding:16px;box-shadow:0 4px 18px rgba(0,0,0,.3)}' +
      '.p h2{font-size:17px;margin:0 28px 8px 0}.p p{margin:0 0 10px}' +
      '.x{position:absolute;top:6px;' + side + ':8px;border:0;background:none;font-size:22px;cursor:pointer;color:#555}' +
      'input{box-sizing:border-box;width:100%;padding:9px;font-size:16px;border:1px solid #888;border-radius:6px;margin:0 0 8px}' +
      '.s{width:100%;border:0;border-radius:6px;padding:10px;cursor:pointer;font-size:15px;background:' + c.colour + ';color:' + c.text_colour + '}' +
      '.h{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}' +
      '.m{margin-top:8px;min-height:1em}.e{color:#b00020}[hidden]{display:none}';
  }

  function build(c) {
    var t = c.texts;
    host = el('div', { 'data-ringtrail-widget': '' });
    root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
    root.appendChild(el('style', {}, css(c)));
    var button = el('button', { type: 'button', 'class': 'b', part: 'button', hidden: '' }, t.button);
    var panel = el('div', { 'class': 'p', role: 'dialog', 'aria-label': t.title, hidden: '' });
    var close = el('button', { type: 'button', 'class': 'x', 'aria-label': '×' }, '×');
    var form = el('form', { novalidate: '' });
    var label = el('label', {});
    var phone = el('input', { type: 'tel', name: 'phone', autocomplete: 'tel', inputmode: 'tel', required: '' });
    var trap = el('div', { 'class': 'h', 'aria-hidden': 'true' });
    var honey = el('input', { type: 'text', name: c.honeypot || 'website', tabindex: '-1', autocomplete: 'off' });
    var submit = el('button', { type: 'submit', 'class': 's' }, t.submit);
    var message = el('div', { 'class': 'm', role: 'status', 'aria-live': 'polite' });
    label.appendChild(el('p', {}, t.prompt));
    label.appendChild(phone);
    trap.appendChild(honey);
    form.appendChild(label);
    form.appendChild(trap);
    form.appendChild(submit);
    panel.appendChild(close);
    panel.appendChild(el('h2', {}, t.title));
    panel.appendChild(form);
    panel.appendChild(message);
    root.appendChild(button);
    root.appendChild(panel);
    d.body.appendChild(host);

    function open(show) {
      panel.hidden = !show;
      button.hidden = show;
      if (show) try { phone.focus(); } catch (e) { /* never */ }
    }
    function say(text, error) {
      message.textContent = text || '';
      message.className = error ? 'm e' : 'm';
    }
    button.addEventListener('click', function () { open(true); });
    close.addEventListener('click', function () { open(false); });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var digits = phone.value.replace(/\D/g, '');
      if (digits.length < 7 || digits.length > 15 || /[^\d\s()+.\-]/.test(phone.value)) {
        return say(t.invalid_phone, true);
      }
      submit.disabled = true;
      say('');
      send(phone.value, honey.value).then(function (answer) {
        var data = answer.data || {};
        if (answer.status !== 200) {
          submit.disabled = false;
          return say(data.message || t.refused, true);
        }
        form.hidden = true;
        if (data.status === 'calling') return countdown(data.seconds, say);
        say(data.message || t.scheduled.replace('{time}', data.at || ''));
      }, function () {
        submit.disabled = false;
        say(t.refused, true);
      });
    });
    rt.widget.open = function () { offer(open); };
    return open;
  }

  function countdown(seconds, say) {
    var left = Math.max(1, Number(seconds) || 30);
    var tick = function () {
      say(cfg.texts.countdown.replace('{seconds}', String(left)));
      if (left-- > 0) timer = setTimeout(tick, 1000);
    };
    clearTimeout(timer);
    tick();
  }

  function send(phone, honey) {
    var body = {
      key: rt.key,
      visitor: rt.visitor || null,
      phone: phone,
      lang: cfg.language,
      url: location.href,
      request: Math.random().toString(36).slice(2) + Date.now().toString(36)
    };
    body[cfg.honeypot || 'website'] = honey;
    return fetch(base + 'w/v1/callback', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify(body),
      credentials: 'omit'
    }).then(function (res) {
      return res.json().then(function (data) { return { status: res.status, data: data }; },
        function () { return { status: res.status, data: {} }; });
    });
  }

  function offer(open) {
    if (!offered) debug('offered');
    offered = true;
    open(true);
  }

  /** Offer the widget after the configured time on the page, scroll depth or exit intent. */
  function schedule(open) {
    var delay = cfg.delay || {};
    var show = function () { if (!offered) offer(open); };
    if (delay.seconds >= 0) setTimeout(show, delay.seconds * 1000);
    if (delay.scroll_percent > 0) {
      w.addEventListener('scroll', function () {
        var page = d.documentElement;
        var seen = (w.scrollY + w.innerHeight) / Math.max(page.scrollHeight, 1) * 100;
        if (seen >= delay.scroll_percent) show();
      }, { passive: true });
    }
    if (delay.exit_intent) {
      d.addEventListener('mouseout', function (event) {
        if (!event.relatedTarget && event.clientY <= 0) show();
      });
    }
  }

  var lang = (d.documentElement.getAttribute('lang') || '').slice(0, 2);
  fetch(base + 'w/v1/config?key=' + encodeURIComponent(rt.key) + '&lang=' + encodeURIComponent(lang), {
    credentials: 'omit'
  }).then(function (res) {
    if (res.status !== 200) return debug('widget off', res.status);
    return res.json().then(function (data) {
      cfg = data;
      var start = function () { schedule(build(cfg)); };
      if (d.body) start(); else d.addEventListener('DOMContentLoaded', start);
    });
  }).catch(function (e) { debug('config failed', e); });
})(window, document);
