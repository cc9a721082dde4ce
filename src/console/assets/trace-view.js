// Renders one request's trace (GET /_emulator/traces/:id, or a scenario report's request) as a tree of policy steps.
// Shared by the console and the HTML scenario report; a classic script (no modules, no build) that defines
// window.ApimTraceView. It reads the typed fields of trace events and never parses their message text.
(function () {
  'use strict';

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] === undefined || attrs[k] === null) continue;
        if (k === 'text') e.textContent = String(attrs[k]);
        else if (k === 'class') e.className = attrs[k];
        else e.setAttribute(k, String(attrs[k]));
      }
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }

  function fmt(v) {
    if (v === null || v === undefined) return String(v);
    if (typeof v === 'string') return v;
    try {
      return JSON.stringify(v);
    } catch (_) {
      return String(v);
    }
  }

  function ms(n) {
    if (typeof n !== 'number') return '';
    return n >= 1000 ? (n / 1000).toFixed(n % 1000 === 0 ? 0 : 3) + ' s' : n + ' ms';
  }

  // Fields shown in the step's heading line; everything else goes to the details list.
  var HEAD = { at: 1, kind: 1, message: 1, policy: 1, section: 1, scope: 1, path: 1, data: 1 };

  function fields(obj, skip) {
    var dl = el('dl', { class: 'kv' });
    var n = 0;
    Object.keys(obj || {}).forEach(function (k) {
      if (skip && skip[k]) return;
      var v = obj[k];
      if (v === undefined) return;
      dl.appendChild(el('dt', { text: k }));
      dl.appendChild(el('dd', { text: fmt(v) }));
      n++;
    });
    return n ? dl : null;
  }

  function source(e) {
    // Typed policy steps carry their source position; older events do not.
    var s = e.source && typeof e.source === 'object' ? e.source : e;
    if (typeof s.file === 'string' && s.file)
      return s.file + (typeof s.line === 'number' ? ':' + s.line + (typeof s.column === 'number' ? ':' + s.column : '') : '');
    return '';
  }

  var KIND_LABEL = {
    policy: 'policy',
    expression: 'expression',
    backend: 'backend',
    breaker: 'backend choice',
    pool: 'pool choice',
    attempt: 'attempt',
    retry: 'retry',
    'retry-wait': 'retry wait',
    error: 'error',
    response: 'response',
    trace: 'trace',
    info: 'info',
  };

  function eventItem(e) {
    var kind = String(e.kind || 'info');
    var cls = 'ev ev-' + kind.replace(/[^a-z-]/gi, '');
    var label = KIND_LABEL[kind] || kind;
    var head = el('div', { class: 'ev-head' }, [
      el('span', { class: 'at', text: '+' + ms(e.at) }),
      ' ',
      el('span', { class: 'kind', text: label }),
      e.policy && kind !== 'policy' ? el('span', { class: 'pol', text: ' ' + e.policy }) : null,
      e.message ? el('span', { class: 'msg', text: ' ' + e.message }) : null,
    ]);
    var li = el('li', { class: cls, 'data-kind': kind }, [head]);
    var extra = fields(e, HEAD);
    var data = e.data && typeof e.data === 'object' ? fields(e.data) : null;
    if (extra) li.appendChild(extra);
    if (data) li.appendChild(data);
    return li;
  }

  function policyItem(e) {
    var src = source(e);
    var summary = el('summary', {}, [
      el('span', { class: 'at', text: '+' + ms(e.at) }),
      ' ',
      el('strong', { class: 'pname', text: e.policy || 'policy' }),
      e.scope ? el('span', { class: 'scope', text: ' ' + e.scope }) : null,
      e.path ? el('code', { class: 'path', text: ' ' + e.path }) : null,
      src ? el('span', { class: 'src', text: ' ' + src }) : null,
    ]);
    var details = el('details', { open: '' }, [summary]);
    var extra = fields(e, { at: 1, kind: 1, message: 1, policy: 1, section: 1, scope: 1, path: 1, source: 1, file: 1, line: 1, column: 1, data: 1 });
    if (extra) details.appendChild(extra);
    var children = el('ul', { class: 'steps' });
    details.appendChild(children);
    return { li: el('li', { class: 'ev ev-policy', 'data-kind': 'policy', 'data-policy': e.policy || '' }, [details]), children: children };
  }

  /**
   * Builds the tree: events grouped by pipeline section (inbound, backend, outbound, on-error); every policy step is a
   * node and the events that follow it (expression values, the pool's choice, attempts, retries, errors) its children.
   */
  function render(container, record) {
    container.textContent = '';
    var events = (record && record.events) || [];
    var top = el('div', { class: 'trace' });
    var resp = record.response;
    top.appendChild(
      el('p', { class: 'trace-summary' }, [
        el('strong', { text: (record.method || '') + ' ' + (record.url || '') }),
        record.api ? ' — API ' + record.api + (record.operation ? ', operation ' + record.operation : '') : '',
        resp ? el('span', { class: 'status s' + String(resp.status).charAt(0), text: ' → ' + resp.status + (resp.reason ? ' ' + resp.reason : '') }) : null,
        typeof record.clockElapsedMs === 'number' ? ' · ' + ms(record.clockElapsedMs) + ' on the emulator clock' : '',
      ]),
    );
    var root = el('ul', { class: 'tree', 'aria-label': 'policy steps' });
    top.appendChild(root);
    var sections = {};
    var current = null; // children list of the last policy step
    var loose = null; // events before any policy step
    events.forEach(function (e) {
      // A policy step starts where the pipeline says so (it names the section); policies' own events are its children.
      if (e.kind === 'policy' && e.policy && e.section) {
        var sec = e.section || 'gateway';
        if (!sections[sec]) {
          var list = el('ul', { class: 'steps' });
          var d = el('details', { open: '', class: 'section' }, [el('summary', {}, [el('strong', { text: sec })]), list]);
          root.appendChild(el('li', { class: 'sec', 'data-section': sec }, [d]));
          sections[sec] = list;
        }
        var p = policyItem(e);
        sections[sec].appendChild(p.li);
        current = p.children;
        return;
      }
      var item = eventItem(e);
      if (current) current.appendChild(item);
      else {
        if (!loose) {
          loose = el('ul', { class: 'steps' });
          root.appendChild(el('li', { class: 'sec', 'data-section': 'gateway' }, [el('strong', { text: 'gateway' }), loose]));
        }
        loose.appendChild(item);
      }
    });
    if (events.length === 0) root.appendChild(el('li', { text: 'no trace events were recorded for this request' }));
    if (record.lastError) {
      top.appendChild(el('div', { class: 'lasterror', role: 'note' }, [el('strong', { text: 'context.LastError' }), fields(record.lastError)]));
    }
    if (resp) {
      var rd = el('details', { class: 'response' }, [
        el('summary', {
          text:
            'Response ' +
            resp.status +
            (resp.reason ? ' ' + resp.reason : '') +
            (record.backend ? ' from ' + (record.backend.memberId || record.backend.url) : ''),
        }),
      ]);
      var h = fields(resp.headers || {});
      if (h) rd.appendChild(h);
      top.appendChild(rd);
    }
    container.appendChild(top);
  }

  window.ApimTraceView = { render: render, el: el, fields: fields, ms: ms };
})();
