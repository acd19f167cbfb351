export * from './report.js'
export { renderReportHtml, writeReportHtml } from './report-html.js'
export type { ReportPagePayload } from './report-html.js'
