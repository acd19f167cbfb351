/**
 * The script of report.html, run after the Vega runtime: draws each figure from the JSON element
 * `#report-data` into its `[data-plot=…] .chart`, keeps the views on `window.reportViews` (by plot
 * name, for tests and for a curious reader's console), and marks `body[data-rendered]` "true" once
 * all are drawn or "error" (with the message on the page) when one failed.
 */
export const PAGE_SCRIPT = `(async () => {
  const payload = JSON.parse(document.getElementById('report-data').textContent);
  const views = {};
  window.reportViews = views;
  try {
    for (const figure of payload.figures) {
      const container = document.querySelector('[data-plot="' + figure.plot + '"] .chart');
      const view = new vega.View(vega.parse(figure.vega), { renderer: 'svg', container, hover: true });
      await view.runAsync();
      views[figure.plot] = view;
    }
    document.body.dataset.rendered = 'true';
  } catch (err) {
    const message = String((err && err.stack) || err);
    document.body.dataset.renderError = message;
    const box = document.createElement('pre');
    box.className = 'render-error';
    box.textContent = 'The plots could not be drawn: ' + message;
    document.body.prepend(box);
    document.body.dataset.rendered = 'error';
  }
})();`
