// Brána console client script: live updates over Server-Sent Events, uPlot charts, editor helpers.
// Plain browser JavaScript, no build step; pages work without it except for live values and charts.
(() => {
  const body = document.body;
  const lang = body.dataset.lang === 'en' ? 'en-GB' : 'cs-CZ';
  const timeFmt = new Intl.DateTimeFormat(lang, {
    timeStyle: 'medium',
    timeZone: body.dataset.tz || undefined,
  });
  const numFmt = new Intl.NumberFormat(lang, { maximumFractionDigits: 3 });
  const charts = new Map();

  function drawCharts(root) {
    for (const el of root.querySelectorAll('.chart[data-chart]')) {
      const src = el.querySelector('script[type="application/json"]');
      if (!src || typeof uPlot === 'undefined') continue;
      const spec = JSON.parse(src.textContent || '{}');
      el.querySelector('.uplot')?.remove();
      const width = Math.max(280, el.clientWidth || 600);
      const colours = ['#0b5cad', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f'];
      const opts = {
        width,
        height: 300,
        scales: { x: { time: true } },
        series: [
          {},
          ...spec.series.map((s, i) => ({
            label: s.label,
            stroke: colours[i % colours.length],
            width: 1.5,
            fill: spec.bars ? `${colours[i % colours.length]}33` : undefined,
            paths: spec.bars && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined,
          })),
        ],
        axes: [{}, { label: spec.unit || '' }],
      };
      const chart = new uPlot(opts, [spec.x, ...spec.series.map((s) => s.values)], el);
      charts.set(el.dataset.chart, { chart, spec });
    }
  }

  function onReadings(list) {
    for (const r of list) {
      for (const row of document.querySelectorAll(`[data-channel="${CSS.escape(r.channel)}"]`)) {
        const v = row.querySelector('.v');
        const ts = row.querySelector('.ts');
        if (v) v.textContent = r.value === null ? '–' : numFmt.format(r.value);
        if (ts) ts.textContent = timeFmt.format(r.ts);
        row.dataset.value = String(r.value);
        row.classList.remove('flash');
        void row.offsetWidth;
        row.classList.add('flash');
      }
      const c = charts.get(r.channel);
      if (c?.spec.live && r.value !== null) {
        const data = c.chart.data;
        const x = [...data[0], r.ts / 1000];
        const y = [...data[1], r.value];
        c.chart.setData([x, y]);
      }
    }
  }

  let refreshTimer = null;
  async function refreshRegions() {
    refreshTimer = null;
    const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    for (const el of document.querySelectorAll('[data-live-region]')) {
      const fresh = doc.getElementById(el.id);
      if (fresh) el.innerHTML = fresh.innerHTML;
      drawCharts(el);
    }
    body.dataset.refreshes = String(Number(body.dataset.refreshes || '0') + 1);
  }

  function connectLive() {
    const url = body.dataset.live;
    if (!url || typeof EventSource === 'undefined') return;
    const es = new EventSource(url);
    // Whatever changed between rendering this page and the stream starting (a rollout that finished
    // in that gap) sent no event to this page: catch up once on every (re)connect.
    es.addEventListener('hello', () => {
      body.classList.add('live-on');
      if (document.querySelector('[data-live-region]') && !refreshTimer)
        refreshTimer = setTimeout(refreshRegions, 0);
    });
    es.addEventListener('readings', (e) => onReadings(JSON.parse(e.data)));
    es.addEventListener('refresh', () => {
      if (!refreshTimer) refreshTimer = setTimeout(refreshRegions, 250);
    });
    es.onerror = () => body.classList.remove('live-on');
    window.addEventListener('pagehide', () => es.close());
  }

  function editorHelpers() {
    const editor = document.querySelector('textarea.editor');
    if (!editor) return;
    for (const li of document.querySelectorAll('.issues li[data-line]')) {
      li.addEventListener('click', () => {
        const line = Number(li.dataset.line);
        const lines = editor.value.split('\n');
        const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
        editor.focus();
        editor.setSelectionRange(start, start + (lines[line - 1] || '').length);
        editor.scrollTop = Math.max(0, (line - 5) * 18);
      });
    }
  }

  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  }
  for (const b of document.querySelectorAll('button[data-print]'))
    b.addEventListener('click', () => window.print());

  drawCharts(document);
  editorHelpers();
  connectLive();
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => drawCharts(document), 300);
  });
})();
