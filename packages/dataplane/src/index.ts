export * from './types.js'
export * from './linux/index.js'
