// The apim-emulator web console (docs/console.md). Plain DOM code, no framework and no build step: it listens to one
// Server-Sent Events stream (/_emulator/console/stream) and acts only through the admin API (clock, reset, mock scripts,
// traces). Countdowns tick in the browser from the last clock the server sent; the network is used only on changes.
(function () {
  'use strict';
  var V = window.ApimTraceView;
  var el = V.el;
  var PREFIX = '/_emulator';
  var MAX_ROWS = 200;

  var state = null; // last ConsoleState
  var clockAt = 0; // performance.now() when state.clock arrived
  var rows = []; // newest last
  var selected = null; // seq of the selected row

  function $(id) {
    return document.getElementById(id);
  }

  /** The emulator's clock now: a virtual clock stands still between changes, a real one runs on. */
  function nowMs() {
    if (!state) return Date.now();
    return state.clock.virtual ? state.clock.epochMs : state.clock.epochMs + (performance.now() - clockAt);
  }

  function iso(ms) {
    return new Date(ms).toISOString().replace('.000Z', 'Z');
  }

  function span(ms) {
    if (ms <= 0) return '0 s';
    var s = Math.ceil(ms / 1000);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var r = s % 60;
    return (h ? h + ' h ' : '') + (h || m ? m + ' min ' : '') + r + ' s';
  }

  // ---- admin API -------------------------------------------------------------------------------------------------
  // When the server requires an admin token (--admin-token), open the console as /_emulator/#token=<token> or type it
  // in the form; it stays in this tab (sessionStorage) and is sent as a Bearer token. The fragment never reaches a server.
  var TOKEN_KEY = 'apim-emulator-admin-token';
  (function takeTokenFromUrl() {
    var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
  })();

  function authHeaders(h) {
    var t = sessionStorage.getItem(TOKEN_KEY);
    if (t) h.Authorization = 'Bearer ' + t;
    // The admin API's CSRF rule: state-changing requests carry this header (a cross-site page cannot send it).
    h['X-Emulator-Request'] = '1';
    return h;
  }

  function needToken(message) {
    $('token-form').hidden = false;
    say('token-msg', message, true);
  }

  /** Every control goes through the admin API with JSON (or text) bodies and the admin API's request header. */
  function admin(method, path, body, contentType) {
    var headers = authHeaders({ Accept: 'application/json' });
    var init = { method: method, headers: headers, credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = contentType || 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    return fetch(PREFIX + path, init).then(function (res) {
      return res.text().then(function (text) {
        var json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch (_) {
          json = null;
        }
        if (res.status === 401) needToken((json && json.error) || 'the admin API needs a token');
        if (!res.ok) throw new Error((json && json.error) || res.status + ' ' + res.statusText);
        return json;
      });
    });
  }

  function say(id, text, isError) {
    var p = $(id);
    p.textContent = text;
    p.classList.toggle('error', !!isError);
  }

  // ---- clock -----------------------------------------------------------------------------------------------------
  function renderClock() {
    if (!state) return;
    var c = state.clock;
    $('clock').textContent =
      (c.virtual ? 'virtual clock' : 'system clock') +
      ': ' +
      iso(nowMs()) +
      (c.virtual ? ' (moves only when advanced' + (c.sleepMode === 'advance' ? ' or by retry waits' : '') + ')' : '');
    $('advance-form').hidden = !c.virtual;
  }

  // ---- backends --------------------------------------------------------------------------------------------------
  function breakerBadge(b) {
    if (!b) return el('span', { class: 'small', text: 'no circuit breaker' });
    if (b.state === 'open') {
      return el('span', { class: 'badge open', 'data-until': b.openUntilMs, 'data-state': 'open' }, [
        'open until ' + iso(b.openUntilMs) + ' (',
        el('span', { class: 'countdown', 'data-until': b.openUntilMs, text: span(b.openUntilMs - nowMs()) }),
        ' left)',
      ]);
    }
    return el('span', { class: 'badge closed', 'data-state': 'closed', text: 'closed' });
  }

  function ruleText(b) {
    var r = b.rule;
    var limit = r.count !== undefined ? r.count + ' failure' + (r.count === 1 ? '' : 's') : r.percentage + '% failures';
    var what = r.statusCodeRanges.map(function (x) {
      return x.min === x.max ? String(x.min) : x.min + '-' + x.max;
    });
    what = what.concat(r.errorReasons);
    return (
      'window ' +
      r.interval +
      ': ' +
      b.failuresInWindow +
      ' failure' +
      (b.failuresInWindow === 1 ? '' : 's') +
      ' of ' +
      b.totalInWindow +
      ' · rule ' +
      r.name +
      ' trips at ' +
      limit +
      ' [' +
      what.join(', ') +
      '], opens for ' +
      r.tripDuration +
      (r.acceptRetryAfter ? ' or Retry-After' : '') +
      ' · trips ' +
      b.trips
    );
  }

  function recentChips(list) {
    var chips = el('span', { class: 'chips', 'aria-label': 'recent answers, oldest first' });
    (list || []).forEach(function (o) {
      var t = o.status !== undefined ? String(o.status) : o.error;
      chips.appendChild(el('span', { class: 'chip ' + (o.status !== undefined ? 's' + String(o.status).charAt(0) : 'err'), title: iso(o.at), text: t }));
    });
    if (!list || !list.length) chips.appendChild(el('span', { class: 'small', text: 'no answers yet' }));
    return chips;
  }

  function memberBox(m, single) {
    var b = single && single.breaker;
    var open = b && b.state === 'open';
    var box = el('div', { class: 'member' + (open ? ' open' : ''), 'data-backend': m.backendId, 'data-breaker': b ? b.state : 'none' }, [
      el('div', { class: 'member-head' }, [
        el('strong', { text: m.backendId }),
        el('span', { class: 'small', text: 'weight ' + m.weight + ' (' + Math.round(m.share * 100) + '%)' }),
        breakerBadge(b),
      ]),
      el('div', { class: 'weight', role: 'img', 'aria-label': 'share ' + Math.round(m.share * 100) + '%' }, [
        el('span', { style: 'width:' + Math.round(m.share * 100) + '%' }),
      ]),
      el('div', { class: 'small' }, ['chosen ' + m.selections + '× · recent: ', recentChips(single && single.recent)]),
      b ? el('div', { class: 'small', text: ruleText(b) }) : null,
      b && b.lastTripReason ? el('div', { class: 'small', text: 'last trip: ' + b.lastTripReason }) : null,
    ]);
    return box;
  }

  function renderBackends() {
    var body = $('backends-body');
    body.textContent = '';
    if (!state) return;
    var many = state.instances.length > 1;
    state.instances.forEach(function (inst) {
      var host = body;
      if (many) {
        host = el('div', { class: 'instance' });
        host.appendChild(el('h3', { text: 'Gateway instance ' + inst.instance }));
        body.appendChild(host);
      }
      var singles = {};
      inst.singles.forEach(function (s) {
        singles[s.id] = s;
      });
      var inPool = {};
      inst.pools.forEach(function (p) {
        var groups = el('div', { class: 'groups' });
        p.groups.forEach(function (g, i) {
          if (i > 0) groups.appendChild(el('span', { class: 'arrow', 'aria-hidden': 'true', text: '→' }));
          var box = el('div', { class: 'group', role: 'group', 'aria-label': 'priority ' + g.priority }, [
            el('div', { class: 'group-head', text: 'priority ' + g.priority + (i === 0 ? ' (first choice)' : ' (when every member before is open)') }),
          ]);
          g.members.forEach(function (m) {
            inPool[m.backendId] = true;
            box.appendChild(memberBox(m, singles[m.backendId]));
          });
          groups.appendChild(box);
        });
        host.appendChild(
          el('div', { class: 'pool', 'data-pool': p.id }, [
            el('div', { class: 'pool-head' }, [
              el('h3', { text: 'pool ' + p.id }),
              el('span', {
                class: 'small',
                text:
                  'chosen ' +
                  p.selections +
                  '×' +
                  (p.unavailable ? ' · all members open ' + p.unavailable + '×' : '') +
                  (p.sessionAffinity
                    ? ' · session cookie ' +
                      p.sessionAffinity.cookieName +
                      ' (' +
                      p.sessionAffinity.assigned +
                      ' assigned, ' +
                      p.sessionAffinity.pinned +
                      ' pinned)'
                    : ''),
              }),
            ]),
            p.description ? el('div', { class: 'small', text: p.description }) : null,
            groups,
          ]),
        );
      });
      var rest = inst.singles.filter(function (s) {
        return !inPool[s.id];
      });
      if (rest.length) {
        host.appendChild(el('h3', { text: 'Single backends' }));
        var grid = el('div', { class: 'singles' });
        rest.forEach(function (s) {
          grid.appendChild(memberBox({ backendId: s.id, weight: 1, share: 1, selections: s.selections }, s));
        });
        host.appendChild(grid);
      }
      if (!inst.pools.length && !rest.length) host.appendChild(el('p', { class: 'muted', text: 'No backends are loaded (policies use URLs directly).' }));
    });
  }

  function tickCountdowns() {
    renderClock();
    var now = nowMs();
    var cds = document.querySelectorAll('.countdown');
    for (var i = 0; i < cds.length; i++) cds[i].textContent = span(Number(cds[i].getAttribute('data-until')) - now);
  }

  // ---- breaker events, throttling, mocks ------------------------------------------------------------------------
  function addEvents(list) {
    var ol = $('events-list');
    list.forEach(function (e) {
      var opened = /Opened$/.test(e.eventType);
      var rule = Object.keys(e.data.circuitBreaker.rules)[0];
      var dur = rule ? e.data.circuitBreaker.rules[rule].tripDuration : '';
      ol.insertBefore(
        el('li', { class: opened ? 'opened' : 'closed' }, [
          el('span', { class: 'mono', text: e.eventTime + ' ' }),
          el('strong', { text: e.data.backendName }),
          (opened ? ' opened' + (dur ? ' for ' + dur : '') : ' closed') + ' (rule ' + rule + ')',
        ]),
        ol.firstChild,
      );
    });
    while (ol.children.length > 100) ol.removeChild(ol.lastChild);
  }

  function renderThrottling() {
    var body = $('throttling-body');
    body.textContent = '';
    if (!state) return;
    var list = state.throttling;
    body.appendChild(
      el('p', {
        class: 'small',
        text:
          state.throttled + ' request(s) answered 429 or 403 with no backend called since this console connected. Counter values come from traced requests.',
      }),
    );
    if (!list.length) return;
    var tb = el('tbody');
    list.forEach(function (c) {
      tb.appendChild(
        el('tr', {}, [
          el('td', { text: c.policy }),
          el('td', { class: 'mono', text: c.path }),
          el('td', {}, [V.fields(c.data)]),
          el('td', { class: 'mono', text: c.time }),
        ]),
      );
    });
    body.appendChild(
      el('table', { class: 'throttle' }, [
        el('thead', {}, [
          el('tr', {}, [
            el('th', { scope: 'col', text: 'Policy' }),
            el('th', { scope: 'col', text: 'Path' }),
            el('th', { scope: 'col', text: 'Counter' }),
            el('th', { scope: 'col', text: 'Seen at' }),
          ]),
        ]),
        tb,
      ]),
    );
  }

  function renderMocks() {
    var sel = $('mock-name');
    var mocks = state ? state.mocks : [];
    $('mocks').hidden = mocks.length === 0;
    var current = sel.value;
    var names = mocks.map(function (m) {
      return m.name;
    });
    var have = Array.prototype.map.call(sel.options, function (o) {
      return o.value;
    });
    if (names.join('\n') !== have.join('\n')) {
      sel.textContent = '';
      names.forEach(function (n) {
        sel.appendChild(el('option', { value: n, text: n }));
      });
      if (names.indexOf(current) >= 0) sel.value = current;
      loadScript();
    }
  }

  function loadScript() {
    var m =
      state &&
      state.mocks.filter(function (x) {
        return x.name === $('mock-name').value;
      })[0];
    // Do not overwrite what the user is typing.
    if (m && document.activeElement !== $('mock-script')) $('mock-script').value = m.scriptText;
  }

  // ---- requests and traces ---------------------------------------------------------------------------------------
  function rowEl(r) {
    var status = el('td', { class: 'status s' + String(r.status).charAt(0), text: String(r.status) });
    var tr = el('tr', { 'data-seq': r.seq, 'data-trace-id': r.traceId || undefined, 'aria-selected': String(selected === r.seq) }, [
      el('td', { class: 'mono', text: r.time.slice(11, 23) }),
      el('td', {}, [el('button', { type: 'button', class: 'req-btn', 'aria-label': 'show trace of ' + r.method + ' ' + r.url, text: r.method + ' ' + r.url })]),
      el('td', { text: (r.api || '—') + (r.operation ? ' / ' + r.operation : '') }),
      status,
      el('td', { text: r.backends.join(' → ') || '—' }),
      el('td', { text: r.durationMs + ' ms' }),
    ]);
    tr.addEventListener('click', function () {
      select(r);
    });
    return tr;
  }

  function addRows(list) {
    var tb = $('requests-body');
    list.forEach(function (r) {
      rows.push(r);
      tb.insertBefore(rowEl(r), tb.firstChild);
    });
    while (rows.length > MAX_ROWS) rows.shift();
    while (tb.children.length > MAX_ROWS) tb.removeChild(tb.lastChild);
  }

  function select(r) {
    selected = r.seq;
    var trs = $('requests-body').querySelectorAll('tr');
    for (var i = 0; i < trs.length; i++) trs[i].setAttribute('aria-selected', String(trs[i].getAttribute('data-seq') === String(r.seq)));
    var body = $('trace-body');
    if (!r.traceId && !r.tree) {
      body.textContent = '';
      body.appendChild(el('p', {}, [el('strong', { text: r.method + ' ' + r.url }), ' → ' + r.status + ' via ' + (r.backends.join(' → ') || 'no backend')]));
      body.appendChild(
        el('p', { class: 'muted', text: 'This request was not traced. Send it with the Apim-Debug-Authorization header to record its policy steps.' }),
      );
      return;
    }
    // A traced request's tree is in the trace store; any other request seen while the console was open is in the
    // console's own bounded history.
    var source = r.traceId ? '/traces/' + encodeURIComponent(r.traceId) : '/console/requests/' + r.seq + '/trace';
    var label = r.traceId ? 'trace ' + r.traceId : 'request ' + r.seq;
    body.textContent = 'loading ' + label + '…';
    admin('GET', source)
      .then(function (t) {
        if (selected !== r.seq) return;
        V.render(body, t);
        if (r.traceId) body.setAttribute('data-trace-id', r.traceId);
        else body.removeAttribute('data-trace-id');
      })
      .catch(function (e) {
        body.textContent = label + ': ' + e.message;
      });
  }

  // ---- stream ----------------------------------------------------------------------------------------------------
  function applyState(s) {
    state = s;
    clockAt = performance.now();
    renderClock();
    renderBackends();
    renderThrottling();
    renderMocks();
  }

  var handlers = {
    hello: function (d) {
      rows = [];
      $('requests-body').textContent = '';
      $('events-list').textContent = '';
      applyState(d.state);
      addRows(d.requests);
      addEvents(d.events);
      $('conn').textContent = 'live';
      $('token-form').hidden = true;
      document.body.setAttribute('data-live', 'true');
    },
    state: applyState,
    requests: addRows,
    breaker: addEvents,
  };

  function dispatch(block) {
    var event = 'message';
    var data = [];
    block.split('\n').forEach(function (line) {
      if (line.indexOf('event: ') === 0) event = line.slice(7);
      else if (line.indexOf('data: ') === 0) data.push(line.slice(6));
    });
    if (data.length && handlers[event]) handlers[event](JSON.parse(data.join('\n')));
  }

  function disconnected(text) {
    $('conn').textContent = text;
    document.body.setAttribute('data-live', 'false');
  }

  /**
   * The Server-Sent Events stream, read with fetch (EventSource cannot send the admin token); reconnects after a second
   * when the connection drops, and waits for a token when the server asks for one.
   */
  function connect() {
    fetch(PREFIX + '/console/stream', { headers: authHeaders({ Accept: 'text/event-stream' }), cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401) {
          return res.json().then(function (j) {
            disconnected('needs the admin token');
            needToken(j.error);
          });
        }
        if (!res.ok || !res.body) throw new Error('stream answered ' + res.status);
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buf = '';
        var pump = function () {
          return reader.read().then(function (r) {
            if (r.done) throw new Error('stream ended');
            buf += decoder.decode(r.value, { stream: true });
            var end;
            while ((end = buf.indexOf('\n\n')) >= 0) {
              dispatch(buf.slice(0, end));
              buf = buf.slice(end + 2);
            }
            return pump();
          });
        };
        return pump();
      })
      .catch(function () {
        disconnected('disconnected: reconnecting…');
        setTimeout(connect, 1000);
      });
  }

  $('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value);
    $('token').value = '';
    say('token-msg', 'connecting…');
    connect();
  });

  // ---- controls --------------------------------------------------------------------------------------------------
  $('advance-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var n = Number($('advance-amount').value) * Number($('advance-unit').value);
    if (!(n >= 0)) return say('control-msg', 'enter a non-negative amount', true);
    admin('POST', '/clock', { advanceMs: n })
      .then(function (c) {
        say('control-msg', 'clock advanced to ' + c.now);
      })
      .catch(function (e) {
        say('control-msg', e.message, true);
      });
  });
  $('reset').addEventListener('click', function () {
    admin('POST', '/reset', {})
      .then(function (r) {
        say('control-msg', 'reset: ' + r.reset.join(', '));
      })
      .catch(function (e) {
        say('control-msg', e.message, true);
      });
  });
  $('mock-name').addEventListener('change', function () {
    $('mock-script').value = '';
    loadScript();
  });
  $('mock-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var name = $('mock-name').value;
    admin('PUT', '/mocks/' + encodeURIComponent(name) + '/script', $('mock-script').value, 'text/plain')
      .then(function (m) {
        say(
          'mock-msg',
          name +
            ' now answers: ' +
            m.scriptText +
            (m.warnings && m.warnings.length
              ? ' (warnings: ' +
                m.warnings
                  .map(function (w) {
                    return w.text;
                  })
                  .join('; ') +
                ')'
              : ''),
        );
        $('mock-script').blur();
      })
      .catch(function (e) {
        say('mock-msg', e.message, true);
      });
  });

  setInterval(tickCountdowns, 250);
  connect();
})();
