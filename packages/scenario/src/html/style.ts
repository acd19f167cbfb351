/** The inline stylesheet of report.html: readable tables, figures two abreast on a wide screen. */
export const REPORT_STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1180px; padding: 0 1em; color: #222; }
h1 { margin: 0 0 .2em; font-size: 1.6em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
#scenario-facts { display: flex; flex-wrap: wrap; gap: .2em 1.6em; margin: .6em 0; }
#scenario-facts div { display: flex; gap: .4em; }
#scenario-facts dt { color: #666; }
#scenario-facts dd { margin: 0; font-weight: 600; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { padding: .25em .7em; border-bottom: 1px solid #e4e4e4; text-align: right; }
th:first-child, td:first-child, #violations :is(td, th), #failure-reasons :is(td, th) { text-align: left; }
thead th { background: #f4f4f4; }
td.error, .contender-error pre, .render-error { color: #a00; white-space: pre-wrap; text-align: left; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1em; }
figure { margin: 0; }
figcaption { color: #555; font-size: .9em; }
`
