export {}
export * from './linux/index.js'
